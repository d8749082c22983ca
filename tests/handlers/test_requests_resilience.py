"""Requests survive restarts and a failing staff chat; unclaimed requests are raised again once per period."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.error import NetworkError, TimedOut

from bot.db import Database
from bot.offline import Call, OfflineBotApi
from tests.handlers.requests_support import (
    STAFF,
    USER,
    calls,
    data_of,
    deliver,
    file_request,
    fill_form,
    reply_target,
    staff_posts,
)
from tests.harness import STAFF_CHAT_ID, Harness, harness


async def test_an_unfinished_form_continues_after_a_restart(tmp_path: Path) -> None:
    api = OfflineBotApi(strict=True)
    async with harness(tmp_path, api=api) as first:
        user = first.user(USER)
        await first.send(user, "/beratung")
        [land] = await first.send(user, "Stadt Musterstadt")
        [role] = await first.press(user, land, data_of(land, "land", "HE"))
    async with harness(tmp_path, api=api) as second:
        [topic] = await second.press(user, role, data_of(role, "role", "jugendamt"))
        [question] = await second.press(user, topic, data_of(topic, "topic", "grundlagen"))
        [contact] = await second.send(user, "Was ist internationale Jugendarbeit genau?")
        [privacy] = await second.press(user, contact, data_of(contact, "contact", "telegram"))
        [summary] = await second.press(user, privacy, data_of(privacy, "privacy"))
        assert "Stadt Musterstadt" in summary.text and "Hessen" in summary.text
        [done] = await second.press(user, summary, data_of(summary, "send"))
        assert "#1" in done.text
        assert question.text.startswith("<i>Schritt 5 von 7</i>")
        await deliver(second)
        assert len(staff_posts(second)) == 1


async def test_a_confirmed_request_reaches_the_staff_after_a_restart(tmp_path: Path) -> None:
    """The bot stops right after the user confirmed, before the staff post went out: it goes out after start."""
    api = OfflineBotApi(strict=True)
    api.fail = lambda call: (
        (502, {"error_code": 502, "description": "Bad Gateway"})
        if call.method == "sendMessage" and int(call.params["chat_id"]) == STAFF_CHAT_ID
        else None
    )
    async with harness(tmp_path, api=api, broadcast_rate=30) as first:
        await file_request(first, first.user(USER))
        assert staff_posts(first) == []
    api.fail = None
    async with harness(tmp_path, api=api, broadcast_rate=30) as second:
        second.clock.advance(timedelta(minutes=10))
        await deliver(second)
        assert len(staff_posts(second)) == 1


async def test_a_crash_after_posting_duplicates_at_most_once_and_in_the_same_topic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent, but the bot died before recording it: sent once more after the restart, into the same topic."""
    api = OfflineBotApi(strict=True, forum_chats=frozenset({STAFF_CHAT_ID}))
    original = Database.mark_outbox_sent
    crashed = {"done": False}

    async def crash_once(tx: Any, row_id: int, message_id: int | None, now: Any) -> None:
        if not crashed["done"]:
            crashed["done"] = True
            raise RuntimeError("power cut")
        await original(tx, row_id, message_id, now)

    monkeypatch.setattr(Database, "mark_outbox_sent", staticmethod(crash_once))
    async with harness(tmp_path, api=api, broadcast_rate=30) as first:
        await file_request(first, first.user(USER))
        await first.app.bot_data.outbox.idle()  # the worker the confirmation started dies after the post
        assert crashed["done"] and len(staff_posts(first)) == 1
        [row] = await first.db.outbox_by_ref("request:1")
        assert row.state == "pending"
    async with harness(tmp_path, api=api, broadcast_rate=30) as second:
        await deliver(second)
        posts = staff_posts(second)
        assert len(posts) == 2
        assert len(calls(second, "createForumTopic")) == 1
        assert {p.thread_id for p in posts} == {posts[0].thread_id}
        [row] = await second.db.outbox_by_ref("request:1")
        assert row.state == "sent"


async def test_a_failing_staff_chat_gets_the_request_once_it_recovers(tmp_path: Path) -> None:
    failures: list[Any] = [
        (500, {"error_code": 500, "description": "Internal Server Error"}),
        TimedOut(),
        (502, {"error_code": 502, "description": "Bad Gateway"}),
        NetworkError("connection reset"),
        (429, {"error_code": 429, "description": "Too Many Requests", "parameters": {"retry_after": 1}}),
    ]
    recovered = {"ok": False}

    def flaky(call: Call) -> tuple[int, dict[str, Any]] | None:
        if call.method != "sendMessage" or int(call.params["chat_id"]) != STAFF_CHAT_ID or recovered["ok"]:
            return None
        if not failures:
            return None
        failure = failures.pop(0)
        if isinstance(failure, Exception):
            raise failure
        return failure  # type: ignore[no-any-return]

    api = OfflineBotApi(strict=True)
    api.fail = flaky
    async with harness(tmp_path, api=api, broadcast_rate=30) as h:
        await file_request(h, h.user(USER))
        for _ in range(8):
            await deliver(h)
            h.clock.advance(timedelta(minutes=6))
        await deliver(h)
        assert failures == []
        assert len(staff_posts(h)) == 1
        [row] = await h.db.outbox_by_ref("request:1")
        assert row.state == "sent" and row.attempts >= 4


async def test_a_permanently_rejected_staff_post_is_recorded_and_the_request_stays_listed(
    tmp_path: Path,
) -> None:
    api = OfflineBotApi(strict=True)
    api.fail = lambda call: (
        (400, {"error_code": 400, "description": "Bad Request: chat not found"})
        if call.method in ("sendMessage", "getChat") and int(call.params["chat_id"]) == STAFF_CHAT_ID
        else None
    )
    async with harness(tmp_path, api=api, broadcast_rate=30) as h:
        await file_request(h, h.user(USER))
        await deliver(h)
        [row, admin_notice] = await h.db.outbox_by_ref("request:1")
        assert row.state == "failed" and row.error is not None and "chat not found" in row.error.lower()
        assert admin_notice.kind == "message" and admin_notice.state == "sent"
        [listing] = await h.send(h.user(USER), "/anfragen")
        assert "#1" in listing.text


async def _tick(h: Harness) -> None:
    job = h.job("request_reminders")
    await job.run(h.app)
    await deliver(h)


def reminders(h: Harness) -> list[Any]:
    return [m for m in h.api.sent_to(STAFF_CHAT_ID) if m.text.startswith("⏰")]


async def test_unclaimed_requests_are_raised_again_once_per_period(tmp_path: Path) -> None:
    async with harness(tmp_path, broadcast_rate=30, request_reminder_hours=6) as h:
        await file_request(h, h.user(USER), kommune="Stadt Wartedorf")
        await deliver(h)
        [post] = staff_posts(h)
        h.clock.advance(timedelta(hours=5, minutes=59))
        await _tick(h)
        assert reminders(h) == []
        h.clock.advance(timedelta(minutes=2))
        await _tick(h)
        await _tick(h)
        [reminder] = reminders(h)
        assert reminder.text == h.texts(
            "requests.staff.reminder", number=1, kommune="Stadt Wartedorf", hours=6
        )
        send = next(c for c in calls(h, "sendMessage") if c["text"].startswith("⏰"))
        assert reply_target(send) == post.message_id  # attached to the request message
        h.clock.advance(timedelta(hours=6))
        await _tick(h)
        assert len(reminders(h)) == 2
        # Claiming from the reminder's button: the request is taken and no further reminders come.
        latest = reminders(h)[-1]
        await h.press(h.user(STAFF, "Sabine"), latest, data_of(latest, "claim"))
        assert latest.buttons() == []
        assert "bei Sabine" in post.text
        h.clock.advance(timedelta(hours=24))
        await _tick(h)
        assert len(reminders(h)) == 2


async def test_a_send_handled_again_after_a_crash_tells_the_number_not_that_the_form_is_gone(
    tmp_path: Path,
) -> None:
    """A kill after the request was stored can leave the "Absenden" press to be handled again with the form
    already dropped from the user's data but the conversation still at the summary (PTB writes the two
    separately). The user then learns the number again; nothing is filed twice."""
    api = OfflineBotApi(strict=True)
    async with harness(tmp_path, api=api) as first:
        user = first.user(USER)
        summary = await fill_form(first, user)
        send = data_of(summary, "send")
    async with harness(tmp_path, api=api) as second:
        at_summary = await second.db.conversation_states("requests")
        [done] = await second.press(user, summary, send)
        assert "#1" in done.text
    async with harness(tmp_path, api=api) as third:
        [(key, state)] = at_summary.items()
        await third.db.set_conversation_state("requests", key, state)  # the state the crash left behind
    async with harness(tmp_path, api=api) as fourth:
        [again] = await fourth.press(user, summary, send)
        assert again.text == fourth.texts("requests.form.already_submitted", number=1)
        # Pressed once more, now that the conversation has ended: the number again (the message already says it),
        # not "this button belongs to an older form".
        await fourth.press(user, summary, send)
        assert fourth.last_answer_text() != fourth.texts("requests.form.stale_button")
        assert len(await fourth.db.requests_of_user(USER, 5)) == 1
