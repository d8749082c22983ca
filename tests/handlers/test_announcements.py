"""/ankuendigung: compose, audience, preview, send now or later; delivery, blocked users, report, rights."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import broadcast
from bot.offline import Call, SentMessage
from tests.handlers.outbox_drain import drain
from tests.harness import ADMIN_ID, Harness, harness

COORD = 501
STRANGER = 777
BAVARIANS = (11, 12, 13)
HESSIAN = 14


async def setup(h: Harness) -> None:
    now = h.clock.now()
    await h.db.grant_role(COORD, "coordinator", ADMIN_ID, now, "user_id")
    for user_id in BAVARIANS:
        await h.db.set_subscription(user_id, "announcements", True, now)
        await h.db.set_user_land(user_id, "BY", now)
    await h.db.set_subscription(HESSIAN, "announcements", True, now)
    await h.db.set_user_land(HESSIAN, "HE", now)


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path, broadcast_rate=30) as h:
        await setup(h)
        yield h


def bold(offset: int, length: int) -> dict[str, Any]:
    return {"entities": [{"type": "bold", "offset": offset, "length": length}]}


async def compose(h: Harness, text: str = "Neue Frist <script> & mehr", **extra: Any) -> SentMessage:
    """Up to the audience screen: text (first word bold), a link button."""
    coord = h.user(COORD)
    [ask] = await h.send(coord, "/ankuendigung")
    assert ask.text == h.texts("announcements.ask_text")
    [ask_button] = await h.send(coord, text, extra=extra or bold(0, 10))
    assert ask_button.text == h.texts("announcements.ask_button")
    [audience] = await h.send(coord, "Zur Anmeldung | https://ijab.de/anmeldung")
    return audience


async def to_preview(h: Harness, land: str | None = "Bayern") -> tuple[SentMessage, SentMessage]:
    coord = h.user(COORD)
    audience = await compose(h)
    if land:
        [lands] = await h.press_label(coord, audience, "Bundesländer")
        [lands] = await h.press_label(coord, lands, land)
        [audience] = await h.press_label(coord, lands, "Fertig")
    preview, controls = await h.press_label(coord, audience, "Vorschau")
    return preview, controls


async def test_announcement_reaches_its_audience_once_with_report(h: Harness) -> None:
    coord = h.user(COORD)
    preview, controls = await to_preview(h)
    # The exact message, formatting kept, the coordinator's text escaped.
    body = "<b>Neue Frist</b> &lt;script&gt; &amp; mehr"
    assert preview.text == broadcast.message_html(h.texts, body)
    assert [b.get("url") for b in preview.buttons()] == ["https://ijab.de/anmeldung", None]
    assert preview.buttons()[1]["callback_data"] == "abo:stop"
    assert "Bundesland: Bayern" in controls.text and "<b>3</b>" in controls.text
    [confirm] = await h.press_label(coord, controls, "Jetzt senden")
    assert "<b>3</b>" in confirm.text
    assert await h.db.recent_announcements(1) == []  # nothing before the confirmation
    await h.press_label(coord, confirm, "Ja, jetzt senden")
    [row] = await h.db.recent_announcements(1)
    assert row.state == "sending" and row.recipients == 3 and row.created_by == COORD
    await drain(h)
    for user_id in BAVARIANS:
        [got] = h.api.sent_to(user_id)
        assert got.text == preview.text and got.reply_markup == preview.reply_markup
    assert h.api.sent_to(HESSIAN) == []
    progress, report = h.api.sent_to(COORD)[-2:]
    assert progress.edited and progress.text == h.texts(
        "announcements.progress_done", id=row.id, done="3", total="3", sent="3", blocked="0", failed="0"
    )
    done = await h.db.announcement(row.id)
    assert done is not None and done.state == "done"
    assert report.text == h.texts(
        "announcements.report", id=row.id, total="3", sent="3", blocked="0", failed="0", duration="0 s"
    )
    # Nothing is sent twice, however often the outbox and the tick run again.
    await broadcast.run_tick(h.app.bot, h.app.bot_data)
    await drain(h)
    assert all(len(h.api.sent_to(u)) == 1 for u in BAVARIANS)
    assert len([m for m in h.api.sent_to(COORD) if m.text.startswith("✅")]) == 1


async def test_blocked_users_are_unsubscribed_and_counted(h: Harness) -> None:
    coord = h.user(COORD)
    _, controls = await to_preview(h, land=None)

    def blocked(call: Call) -> tuple[int, dict[str, Any]] | None:
        if call.method == "sendMessage" and int(call.params["chat_id"]) == 12:
            return 403, {"error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        if call.method == "sendMessage" and int(call.params["chat_id"]) == 13:
            return 400, {"error_code": 400, "description": "Bad Request: chat not found"}
        return None

    h.api.fail = blocked
    [confirm] = await h.press_label(coord, controls, "Jetzt senden")
    await h.press_label(coord, confirm, "Ja, jetzt senden")
    await drain(h)
    assert len(h.api.sent_to(11)) == 1 and len(h.api.sent_to(HESSIAN)) == 1
    assert await h.db.subscribers("announcements") == [11, 13, HESSIAN]
    sub = await h.db.subscription(12)
    assert sub is not None and sub.ended == "blocked"
    [row] = await h.db.recent_announcements(1)
    report = h.api.sent_to(COORD)[-1]
    assert report.text == h.texts(
        "announcements.report", id=row.id, total="4", sent="2", blocked="1", failed="1", duration="0 s"
    )


async def test_flood_control_and_server_errors_are_retried(h: Harness) -> None:
    coord = h.user(COORD)
    _, controls = await to_preview(h, land=None)
    failures = {"429": 0, "502": 0}

    def flaky(call: Call) -> tuple[int, dict[str, Any]] | None:
        chat = int(call.params.get("chat_id", 0))
        if call.method == "sendMessage" and chat == 11 and failures["429"] < 3:
            failures["429"] += 1  # more than PTB's rate limiter retries: the outbox must wait retry_after
            return 429, {
                "error_code": 429,
                "description": "Too Many Requests",
                "parameters": {"retry_after": 0},
            }
        if call.method == "sendMessage" and chat == 13 and failures["502"] < 2:
            failures["502"] += 1
            return 502, {"error_code": 502, "description": "Bad Gateway"}
        return None

    h.api.fail = flaky
    [confirm] = await h.press_label(coord, controls, "Jetzt senden")
    await h.press_label(coord, confirm, "Ja, jetzt senden")
    await drain(h)
    assert failures == {"429": 3, "502": 2}
    for user_id in (*BAVARIANS, HESSIAN):
        assert len(h.api.sent_to(user_id)) == 1
    assert "Zugestellt: 4" in h.api.sent_to(COORD)[-1].text


async def test_send_at_a_chosen_time(h: Harness) -> None:
    coord = h.user(COORD)
    _, controls = await to_preview(h)
    [ask] = await h.press_label(coord, controls, "Zeitpunkt wählen")
    assert "24.12.2026 09:00" in ask.text
    for bad, key in (("morgen", "when_format"), ("24.11.2026 08:00", "when_past")):
        [reply] = await h.send(coord, bad)
        assert reply.text == h.texts(f"announcements.errors.{key}")
    [confirm] = await h.send(coord, "24.11.2026 13:30")  # 12:30 UTC
    assert "24.11.2026 13:30" in confirm.text
    [scheduled] = await h.press_label(coord, confirm, "Ja, so planen")
    [row] = await h.db.recent_announcements(1)
    assert scheduled.text == h.texts("announcements.scheduled", id=row.id, when="24.11.2026 13:30")
    assert row.state == "scheduled" and row.send_at.hour == 12 and row.send_at.minute == 30
    assert await h.db.outbox_by_ref(row.ref) == []
    h.clock.advance(timedelta(hours=2, minutes=29))
    await broadcast.run_tick(h.app.bot, h.app.bot_data)
    await drain(h)
    assert all(h.api.sent_to(u) == [] for u in BAVARIANS)
    h.clock.advance(timedelta(minutes=1))
    await broadcast.run_tick(h.app.bot, h.app.bot_data)
    await drain(h)
    assert all(len(h.api.sent_to(u)) == 1 for u in BAVARIANS)
    assert "Zugestellt: 3" in h.api.sent_to(COORD)[-1].text


async def test_scheduled_announcement_can_be_cancelled(h: Harness) -> None:
    coord = h.user(COORD)
    _, controls = await to_preview(h)
    await h.press_label(coord, controls, "Zeitpunkt wählen")
    [confirm] = await h.send(coord, "25.11.2026 09:00")
    [scheduled] = await h.press_label(coord, confirm, "Ja, so planen")
    [cancelled] = await h.press_label(coord, scheduled, "Planung aufheben")
    [row] = await h.db.recent_announcements(1)
    assert cancelled.text == h.texts("announcements.unplanned", id=row.id)
    h.clock.advance(timedelta(days=2))
    await broadcast.run_tick(h.app.bot, h.app.bot_data)
    await drain(h)
    assert all(h.api.sent_to(u) == [] for u in BAVARIANS)


async def test_non_coordinators_cannot_announce(h: Harness) -> None:
    stranger = h.user(STRANGER)
    [reply] = await h.send(stranger, "/ankuendigung")
    assert reply.text == h.texts("announcements.not_allowed")
    replies = await h.send(stranger, "Hallo an alle")  # no dialogue was started
    assert all(m.text != h.texts("announcements.ask_button") for m in replies)
    # Forged buttons of every step.
    for data in ("ann:go", "ann:now", "ann:preview", "ann:unplan:1", "ann:land:BY"):
        await h.press(stranger, reply, data)
        assert h.last_answer_text() == h.texts("announcements.not_allowed")
    assert await h.db.recent_announcements(5) == []
    assert await h.db.due_outbox(h.clock.now() + timedelta(days=1), 10) == []


async def test_rights_are_checked_again_at_the_confirmation(h: Harness) -> None:
    coord = h.user(COORD)
    _, controls = await to_preview(h)
    [confirm] = await h.press_label(coord, controls, "Jetzt senden")
    await h.db.revoke_role(COORD, "coordinator", ADMIN_ID, h.clock.now())
    await h.press_label(coord, confirm, "Ja, jetzt senden")
    assert h.last_answer_text() == h.texts("announcements.not_allowed")
    assert await h.db.recent_announcements(5) == []
    assert all(h.api.sent_to(u) == [] for u in BAVARIANS)


async def test_stale_buttons_of_a_finished_draft_do_nothing(h: Harness) -> None:
    coord = h.user(COORD)
    _, controls = await to_preview(h)
    [confirm] = await h.press_label(coord, controls, "Jetzt senden")
    await h.press_label(coord, confirm, "Ja, jetzt senden")
    await h.press_label(coord, confirm, "Ja, jetzt senden")  # double tap
    assert h.last_answer_text() == h.texts("announcements.stale_button")
    assert len(await h.db.recent_announcements(5)) == 1


STICKER = {
    "sticker": {
        "file_id": "s",
        "file_unique_id": "s",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }
}
VIDEO = {"video": {"file_id": "v", "file_unique_id": "v", "width": 1, "height": 1, "duration": 3}}


async def test_bad_input_gets_a_clear_answer(h: Harness) -> None:
    coord = h.user(COORD)
    await h.send(coord, "/ankuendigung")
    for extra in (STICKER, VIDEO):
        [reply] = await h.send(coord, "", extra=extra)
        assert reply.text == h.texts("announcements.errors.unsupported")
    [reply] = await h.send(coord, "   ")
    assert reply.text == h.texts("announcements.errors.empty")
    [reply] = await h.send(coord, "x" * 4096)
    assert "zu lang (4096 Zeichen" in reply.text
    # Still in the first step: a good text goes on.
    [ask_button] = await h.send(coord, "Gut so")
    assert ask_button.text == h.texts("announcements.ask_button")
    for bad in ("http://ijab.de", "Link | javascript:alert(1)", "nur Text"):
        [reply] = await h.send(coord, bad)
        assert reply.text == h.texts("announcements.errors.button_url")
    [reply] = await h.send(coord, "", extra=STICKER)
    assert reply.text == h.texts("announcements.errors.unsupported")
    [cancelled] = await h.send(coord, "/abbrechen")
    assert cancelled.text == h.texts("announcements.cancelled")
    assert await h.db.recent_announcements(5) == []


async def test_edit_text_after_preview_keeps_audience(h: Harness) -> None:
    coord = h.user(COORD)
    _, controls = await to_preview(h)
    [ask] = await h.press_label(coord, controls, "Text ändern")
    assert ask.text == h.texts("announcements.ask_text")
    preview, controls = await h.send(coord, "Korrigiert")
    assert preview.text == broadcast.message_html(h.texts, "Korrigiert")
    assert "Bundesland: Bayern" in controls.text
    assert preview.buttons()[0]["url"] == "https://ijab.de/anmeldung"


async def test_draft_survives_a_restart(tmp_path: Path) -> None:
    async with harness(tmp_path) as first:
        await setup(first)
        coord = first.user(COORD)
        await first.send(coord, "/ankuendigung")
        await first.send(coord, "Vor dem Neustart")
    async with harness(tmp_path) as second:
        [audience] = await second.send(second.user(COORD), "https://ijab.de")
        assert "<b>4</b>" in audience.text
        preview, _ = await second.press_label(second.user(COORD), audience, "Vorschau")
        assert preview.text == broadcast.message_html(second.texts, "Vor dem Neustart")
        assert preview.buttons()[0]["text"] == second.texts("announcements.buttons.link_default")


async def test_delivery_resumes_after_a_restart(tmp_path: Path) -> None:
    async with harness(tmp_path, broadcast_rate=30) as first:
        await setup(first)
        coord = first.user(COORD)
        _, controls = await to_preview(first, land=None)
        [confirm] = await first.press_label(coord, controls, "Jetzt senden")
        first.app.bot_data.outbox.stop()  # the process ends before the worker sends anything
        await first.press_label(coord, confirm, "Ja, jetzt senden")
        sent_before = {u: len(first.api.sent_to(u)) for u in (*BAVARIANS, HESSIAN)}
    assert sum(sent_before.values()) == 0
    async with harness(tmp_path, broadcast_rate=30) as second:
        await drain(second)
        await broadcast.run_tick(second.app.bot, second.app.bot_data)
        await drain(second)
        for user_id in (*BAVARIANS, HESSIAN):
            assert len(second.api.sent_to(user_id)) == 1
        assert "Zugestellt: 4" in second.api.sent_to(COORD)[-1].text


async def test_a_recipient_that_keeps_failing_is_recorded_as_failed(h: Harness) -> None:
    coord = h.user(COORD)
    _, controls = await to_preview(h)

    def broken(call: Call) -> tuple[int, dict[str, Any]] | None:
        if call.method == "sendMessage" and int(call.params["chat_id"]) == 13:
            return 500, {"error_code": 500, "description": "Internal Server Error"}
        return None

    h.api.fail = broken
    [confirm] = await h.press_label(coord, controls, "Jetzt senden")
    await h.press_label(coord, confirm, "Ja, jetzt senden")
    await drain(h)
    [row] = await h.db.recent_announcements(1)
    [failed] = [r for r in await h.db.outbox_by_ref(row.ref) if r.chat_id == 13]
    assert failed.state == "failed" and "gave up after 6 attempts" in (failed.error or "")
    assert "Fehlgeschlagen: 1" in h.api.sent_to(COORD)[-1].text
    assert await h.db.subscribers("announcements") == [*BAVARIANS, HESSIAN]  # not a block: still subscribed


async def due_for_bavaria(h: Harness) -> int:
    """An announcement to the Bavarian subscribers, due now (not yet started)."""
    return await h.db.create_announcement(
        created_by=COORD,
        body="Neue Frist",
        button=None,
        laender=["BY"],
        topics=[],
        send_at=h.clock.now(),
        now=h.clock.now(),
    )


async def test_the_tick_and_a_batch_never_refresh_the_progress_at_once(h: Harness) -> None:
    """The periodic tick and a finished batch both refresh the progress message; side by side each would pass the
    throttle (read, decide, write) and the coordinator's message would be edited twice in a moment."""
    coord = h.user(COORD)
    announcement_id = await due_for_bavaria(h)
    bot, data = h.app.bot, h.app.bot_data
    assert await broadcast.start(bot, data, announcement_id) == 3  # progress message sent, rows still pending
    [progress] = [m for m in h.api.sent_to(coord["id"]) if m.text.startswith("📤")]
    row = await h.db.announcement(announcement_id)
    assert row is not None

    def edits() -> int:
        return len(
            [
                c
                for c in h.api.calls
                if c.method == "editMessageText" and c.params["message_id"] == progress.message_id
            ]
        )

    edits_before = edits()
    for _ in range(3):
        h.clock.advance(broadcast.PROGRESS_EVERY + timedelta(seconds=1))
        await asyncio.gather(broadcast.run_tick(bot, data), data.outbox.run_pass_hooks(bot, {row.ref}))
    assert edits() - edits_before == 3  # one per interval, not one per caller


async def test_rows_delivered_while_the_progress_message_is_sent_still_end_in_its_final_figures(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An outbox worker that is already running can deliver a small announcement's rows before ``start`` has
    noted its progress message; the message must still end in the final figures, not stay at '0 of 3'."""
    coord = h.user(COORD)
    announcement_id = await due_for_bavaria(h)
    bot, data = h.app.bot, h.app.bot_data
    note_progress = h.db.set_announcement_progress
    workers: list[asyncio.Task[object]] = []

    async def worker_meanwhile(announcement: int, message_id: int | None, at: datetime) -> None:
        workers.append(asyncio.create_task(data.outbox.deliver_due(bot)))
        for _ in range(200):  # until the worker has sent every row
            if all(h.api.sent_to(u) for u in BAVARIANS):
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # and could run its progress hook
        await note_progress(announcement, message_id, at)

    monkeypatch.setattr(h.db, "set_announcement_progress", worker_meanwhile)
    assert await broadcast.start(bot, data, announcement_id) == 3
    await asyncio.gather(*workers)
    [progress] = [m for m in h.api.sent_to(coord["id"]) if m.text.startswith("📤")]
    final = dict.fromkeys(("done", "total", "sent"), "3") | dict.fromkeys(("blocked", "failed"), "0")
    assert progress.text == h.texts("announcements.progress_done", id=announcement_id, **final)
    await drain(h)
    assert "Zugestellt: 3" in h.api.sent_to(COORD)[-1].text  # the report
