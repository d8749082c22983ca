"""Reminders as a follower experiences them: once each, at 09:00 local, across DST changes and restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import event_changes as event_rules
from bot import reminders
from bot.db import EventFields
from tests.events_support import content_copy, drain, reminders_sent, tick
from tests.harness import Harness, harness

BERLIN = ZoneInfo("Europe/Berlin")
USER = 4242

TEST_PROGRAMME = [{"id": "testprog", "name": "Testprogramm", "short": "Test", "url": "https://example.org/"}]


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=BERLIN)


def deadline_rule(yearly: str) -> dict[str, Any]:
    return {
        "id": "test-frist",
        "programme": "testprog",
        "what": "Antrag stellen",
        "yearly": yearly,
        "certainty": "verified",
        "source": {"title": "Testquelle", "url": "https://example.org/frist"},
        "checked": "2026-01-01",
    }


async def add_event(h: Harness, start: datetime, hours: int = 4, title: str = "Netzwerktreffen") -> int:
    fields = EventFields(
        title=title,
        starts_at=start.astimezone(UTC),
        ends_at=(start + timedelta(hours=hours)).astimezone(UTC),
        place="Köln",
        online_url=None,
        description="",
        bundesland=None,
        topic="netzwerk",
    )
    return await event_rules.create_event(
        h.db, h.app.bot_data.content, BERLIN, fields, by=1, now=h.clock.now()
    )


async def follow_event(h: Harness, event_id: int, user_id: int = USER) -> None:
    """As the user would: open the shared link, press "Erinnern"."""
    user = h.user(user_id)
    [details] = await h.send(user, f"/start termin_{event_id}")
    await h.press_label(user, details, "Erinnern")
    assert await h.db.follows_event(event_id, user_id)


async def follow_programme(h: Harness, programme: str, user_id: int = USER, land: str | None = "NW") -> None:
    if land is not None:
        await h.db.set_user_land(user_id, land, h.clock.now())
    user = h.user(user_id)
    [page] = await h.send(user, "/fristen")
    await h.press(user, page, f"dl:f:{programme}.0")
    assert programme in await h.db.followed_programmes(user_id)


async def walk(
    h: Harness, until: datetime, step: timedelta = timedelta(hours=1)
) -> list[tuple[datetime, str]]:
    """Move the clock in steps, ticking each time; the reminders the user got, with the local time they came."""
    got: list[tuple[datetime, str]] = []
    while h.clock.now() < until:
        h.clock.advance(step)
        before = len(reminders_sent(h, USER))
        await tick(h)
        for message in reminders_sent(h, USER)[before:]:
            got.append((h.clock.now().astimezone(BERLIN), message.text))
    return got


async def test_spring_dst_change_reminders_fire_once_at_nine_local(tmp_path: Path) -> None:
    root = content_copy(tmp_path, deadlines=[deadline_rule("04-01")], programmes=TEST_PROGRAMME)
    async with harness(tmp_path, now=datetime(2026, 3, 15, 10, 0, tzinfo=UTC), content_dir=root) as h:
        on_the_day_after = await add_event(h, local(2026, 3, 30, 10), title="Montagstreffen")
        week_after = await add_event(h, local(2026, 4, 5, 10), title="Osterworkshop")
        await follow_event(h, on_the_day_after)
        await follow_event(h, week_after)
        await follow_programme(h, "testprog")
        got = await walk(h, datetime(2026, 4, 6, 0, 0, tzinfo=UTC))

    times = [
        (when.strftime("%d.%m. %H:%M %Z"), text.split("„")[1].split("“")[0] if "„" in text else "Frist")
        for when, text in got
    ]
    assert times == [
        ("18.03. 09:00 CET", "Frist"),  # 14 days before 1 April (the 56-day one had passed when followed)
        ("23.03. 09:00 CET", "Montagstreffen"),  # 7 days before
        ("29.03. 09:00 CEST", "Montagstreffen"),  # 1 day before — the DST day itself
        ("29.03. 09:00 CEST", "Osterworkshop"),  # 7 days before
        ("29.03. 09:00 CEST", "Frist"),  # 3 days before
        ("04.04. 09:00 CEST", "Osterworkshop"),  # 1 day before
    ]
    assert "beginnt morgen" in got[2][1] and "beginnt in 7 Tagen" in got[3][1]
    assert "in 3 Tagen" in got[4][1] and "01.04.2026" in got[4][1]


async def test_autumn_dst_change_reminders_fire_once_at_nine_local(tmp_path: Path) -> None:
    root = content_copy(tmp_path, deadlines=[deadline_rule("11-08")], programmes=TEST_PROGRAMME)
    async with harness(tmp_path, now=datetime(2026, 10, 15, 12, 0, tzinfo=UTC), content_dir=root) as h:
        monday = await add_event(h, local(2026, 10, 26, 10), title="Herbsttreffen")
        await follow_event(h, monday)
        await follow_programme(h, "testprog")
        got = await walk(h, datetime(2026, 11, 9, 0, 0, tzinfo=UTC))

    assert [(w.strftime("%d.%m. %H:%M %Z"), "Frist" in t) for w, t in got] == [
        ("19.10. 09:00 CEST", False),  # 7 days before the event
        ("25.10. 09:00 CET", False),  # 1 day before — the DST day itself, 25 hours long
        ("25.10. 09:00 CET", True),  # 14 days before 8 November
        ("05.11. 09:00 CET", True),  # 3 days before
    ]


async def test_each_reminder_row_is_sent_once(tmp_path: Path) -> None:
    async with harness(tmp_path, now=datetime(2026, 5, 1, 8, 0, tzinfo=UTC)) as h:
        event_id = await add_event(h, local(2026, 5, 10, 10))
        await follow_event(h, event_id)
        rows = await h.db.reminders_of(USER)
        assert [(r.lead_days, r.due_at.astimezone(BERLIN).strftime("%d.%m. %H:%M")) for r in rows] == [
            (7, "03.05. 09:00"),
            (1, "09.05. 09:00"),
        ]
        await walk(h, datetime(2026, 5, 11, 0, 0, tzinfo=UTC), step=timedelta(minutes=30))
        rows = await h.db.reminders_of(USER)
        assert {r.state for r in rows} == {"sent"}
        for row in rows:
            assert row.outbox_id is not None
            outbox_row = await h.db.outbox_row(row.outbox_id)
            assert outbox_row is not None and outbox_row.state == "sent" and outbox_row.chat_id == USER
        assert len(reminders_sent(h, USER)) == 2


async def test_restart_across_the_due_time_sends_the_reminder_once(tmp_path: Path) -> None:
    start = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    async with harness(tmp_path, now=start) as h:
        event_id = await add_event(h, local(2026, 5, 10, 10))
        await follow_event(h, event_id)
        await tick(h)
        assert reminders_sent(h, USER) == []
    # Down from 1 May until 3 May 12:00, across the 7-day reminder's 09:00.
    async with harness(tmp_path, now=local(2026, 5, 3, 12)) as h:
        await tick(h)
        [late] = reminders_sent(h, USER)
        assert "in 7 Tagen" in late.text
        await tick(h)
        assert len(reminders_sent(h, USER)) == 1
    async with harness(tmp_path, now=local(2026, 5, 3, 13)) as h:
        await tick(h)
        assert reminders_sent(h, USER) == []  # a fresh offline API: nothing new was sent
        h.clock.set(local(2026, 5, 9, 9))
        await tick(h)
        [tomorrow] = reminders_sent(h, USER)
        assert "beginnt morgen" in tomorrow.text


async def test_crash_after_queueing_delivers_after_restart_once(tmp_path: Path) -> None:
    async with harness(tmp_path, now=datetime(2026, 5, 1, 8, 0, tzinfo=UTC)) as h:
        event_id = await add_event(h, local(2026, 5, 10, 10))
        await follow_event(h, event_id)
        h.clock.set(local(2026, 5, 3, 9))
        # The tick wrote the outbox row and marked the reminder; the process dies before sending.
        report = await reminders.queue_due_reminders(h.db, h.app.bot_data.content, BERLIN, h.clock.now())
        assert report.queued == 1
        h.app.bot_data.outbox.stop()
    async with harness(tmp_path, now=local(2026, 5, 3, 9, 5)) as h:
        await tick(h)
        await tick(h)
        assert len(reminders_sent(h, USER)) == 1


async def test_missed_reminder_for_a_past_event_is_dropped(tmp_path: Path) -> None:
    async with harness(tmp_path, now=datetime(2026, 5, 8, 8, 0, tzinfo=UTC)) as h:
        event_id = await add_event(h, local(2026, 5, 10, 10))
        await follow_event(h, event_id)
    async with harness(tmp_path, now=local(2026, 5, 10, 11)) as h:
        await tick(h)
        assert reminders_sent(h, USER) == []
        [row] = await h.db.reminders_of(USER)
        assert row.state == "dropped"


async def test_several_missed_leads_send_only_the_latest(tmp_path: Path) -> None:
    async with harness(tmp_path, now=datetime(2026, 5, 1, 8, 0, tzinfo=UTC)) as h:
        event_id = await add_event(h, local(2026, 5, 10, 10))
        await follow_event(h, event_id)
    async with harness(tmp_path, now=local(2026, 5, 9, 18)) as h:
        await tick(h)
        [only] = reminders_sent(h, USER)
        assert "beginnt morgen" in only.text
        states = {r.lead_days: r.state for r in await h.db.reminders_of(USER)}
        assert states == {7: "dropped", 1: "sent"}


async def test_edited_event_moves_its_reminders_and_tells_followers(tmp_path: Path) -> None:
    async with harness(tmp_path, now=datetime(2026, 5, 1, 8, 0, tzinfo=UTC)) as h:
        event_id = await add_event(h, local(2026, 5, 10, 10))
        await follow_event(h, event_id)
        event = await h.db.get_event(event_id)
        assert event is not None
        moved = EventFields(
            **{
                **_fields_dict(event.fields),
                "starts_at": local(2026, 5, 12, 14).astimezone(UTC),
                "ends_at": local(2026, 5, 12, 18).astimezone(UTC),
            }
        )
        result = await event_rules.update_event(
            h.db, h.app.bot_data.content, BERLIN, event_id, moved, by=1, now=h.clock.now()
        )
        assert result is not None and result.changed == ["start", "end"] and result.notified == 1
        await drain(h)
        [notice] = [m for m in h.api.sent_to(USER) if "Termin geändert" in m.text]
        assert "So., 10.05.2026, 10:00 Uhr" in notice.text and "Di., 12.05.2026, 14:00 Uhr" in notice.text
        pending = [r for r in await h.db.reminders_of(USER) if r.state == "pending"]
        assert [r.due_at.astimezone(BERLIN).strftime("%d.%m. %H:%M") for r in pending] == [
            "05.05. 09:00",
            "11.05. 09:00",
        ]
        h.clock.set(local(2026, 5, 5, 9))
        await tick(h)
        [week] = reminders_sent(h, USER)
        assert "beginnt in 7 Tagen" in week.text and "12.05.2026" in week.text
        h.clock.set(local(2026, 5, 9, 9))
        await tick(h)
        assert len(reminders_sent(h, USER)) == 1  # the old 1-day reminder is gone
        h.clock.set(local(2026, 5, 11, 9))
        await tick(h)
        reminder = reminders_sent(h, USER)[-1]
        assert "beginnt morgen" in reminder.text and "12.05.2026" in reminder.text


async def test_cancelled_event_tells_followers_and_sends_no_reminder(tmp_path: Path) -> None:
    async with harness(tmp_path, now=datetime(2026, 5, 1, 8, 0, tzinfo=UTC)) as h:
        event_id = await add_event(h, local(2026, 5, 10, 10))
        await follow_event(h, event_id)
        told = await event_rules.cancel_event(
            h.db, h.app.bot_data.content, BERLIN, event_id, by=1, now=h.clock.now()
        )
        assert told == 1
        await drain(h)
        [notice] = [m for m in h.api.sent_to(USER) if "abgesagt" in m.text]
        assert "Netzwerktreffen" in notice.text
        assert [r for r in await h.db.reminders_of(USER) if r.state == "pending"] == []
        h.clock.set(local(2026, 5, 9, 9, 30))
        await tick(h)
        assert reminders_sent(h, USER) == []


async def test_reminder_recipients_is_the_one_check_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, set[int]]] = []

    async def nobody(db: Any, kind: str, user_ids: Any) -> set[int]:
        asked.append((kind, set(user_ids)))
        return set()

    monkeypatch.setattr(reminders, "reminder_recipients", nobody)
    async with harness(tmp_path, now=datetime(2026, 5, 1, 8, 0, tzinfo=UTC)) as h:
        event_id = await add_event(h, local(2026, 5, 10, 10))
        await follow_event(h, event_id)
        h.clock.set(local(2026, 5, 3, 9))
        await tick(h)
        assert reminders_sent(h, USER) == []
        assert asked == [("event", {USER})]
        assert [r.state for r in await h.db.reminders_of(USER)] == ["skipped", "pending"]


async def test_blocked_user_stops_following(tmp_path: Path) -> None:
    async with harness(tmp_path, now=datetime(2026, 5, 1, 8, 0, tzinfo=UTC)) as h:
        event_id = await add_event(h, local(2026, 5, 10, 10))
        await follow_event(h, event_id)
        h.api.fail = lambda call: (
            (403, {"error_code": 403, "description": "Forbidden: bot was blocked by the user"})
            if call.method == "sendMessage"
            else None
        )
        h.clock.set(local(2026, 5, 3, 9))
        await tick(h)
        assert not await h.db.follows_event(event_id, USER)
        assert [r.state for r in await h.db.reminders_of(USER)] == ["sent"]  # the pending 1-day one is gone


async def test_land_change_moves_deadline_reminders(tmp_path: Path) -> None:
    async with harness(tmp_path, now=datetime(2026, 1, 10, 10, 0, tzinfo=UTC)) as h:
        await follow_programme(h, "dpjw", land="HE")
        assert await h.db.reminders_of(USER) == []  # no fixed DPJW date outside the Land variants
        user = h.user(USER)
        [page] = await h.send(user, "/fristen")
        await h.press(user, page, "dl:land:BW")
        rows = await h.db.reminders_of(USER)
        assert [(r.lead_days, r.due_at.astimezone(BERLIN).strftime("%d.%m.%Y %H:%M")) for r in rows] == [
            (56, "04.02.2026 09:00"),
            (14, "18.03.2026 09:00"),
            (3, "29.03.2026 09:00"),  # the spring DST day: still 09:00 local
        ]
        user_row = await h.db.get_user(USER)
        assert user_row is not None and user_row.bundesland == "BW"


async def test_yearly_deadline_rolls_over_to_next_year(tmp_path: Path) -> None:
    root = content_copy(tmp_path, deadlines=[deadline_rule("12-01")], programmes=TEST_PROGRAMME)
    async with harness(tmp_path, now=datetime(2026, 11, 1, 10, 0, tzinfo=UTC), content_dir=root) as h:
        await follow_programme(h, "testprog")
        h.clock.set(local(2026, 12, 2, 10))
        await tick(h)
        due = sorted(
            r.due_at.astimezone(BERLIN).strftime("%d.%m.%Y")
            for r in await h.db.reminders_of(USER)
            if r.state == "pending"
        )
        assert due == ["06.10.2027", "17.11.2027", "28.11.2027"]


def _fields_dict(fields: EventFields) -> dict[str, Any]:
    return {name: getattr(fields, name) for name in EventFields.__slots__}


async def test_a_seed_in_the_spring_dst_gap_is_skipped_and_reminders_still_go_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seeds = [
        {
            "id": "zu-frueh",  # 02:30 on 28 March 2027 does not exist in Berlin
            "title": "Nachtwanderung",
            "start": "2027-03-28 02:30",
            "end": "2027-03-28 05:00",
            "place": "Bonn",
            "topic": "netzwerk",
        },
        {
            "id": "gut",
            "title": "Frühjahrstreffen",
            "start": "2027-03-30 10:00",
            "end": "2027-03-30 12:00",
            "place": "Bonn",
            "topic": "netzwerk",
        },
    ]
    root = content_copy(tmp_path, seeds=seeds)
    async with harness(tmp_path, now=datetime(2026, 5, 1, 8, 0, tzinfo=UTC), content_dir=root) as h:
        event_id = await add_event(h, local(2026, 5, 10, 10))
        await follow_event(h, event_id)
        h.clock.set(local(2026, 5, 3, 9))
        await tick(h)
        assert len(reminders_sent(h, USER)) == 1
        titles = [str(r["title"]) for r in await h.db.fetchall("SELECT title FROM events ORDER BY id")]
        assert titles == ["Netzwerktreffen", "Frühjahrstreffen"]
        assert "zu-frueh: dst_gap" in caplog.text


def telegram_down(h: Harness) -> None:
    h.api.fail = lambda call: (
        (502, {"error_code": 502, "description": "Bad Gateway"}) if call.method == "sendMessage" else None
    )


async def test_queued_reminder_of_a_cancelled_event_is_not_sent_after_the_notice(tmp_path: Path) -> None:
    async with harness(tmp_path, now=datetime(2026, 5, 1, 8, 0, tzinfo=UTC)) as h:
        event_id = await add_event(h, local(2026, 5, 10, 10))
        await follow_event(h, event_id)
        h.clock.set(local(2026, 5, 9, 9))
        telegram_down(h)
        await tick(h)  # the 1-day reminder is in the outbox, Telegram does not take it
        await event_rules.cancel_event(
            h.db, h.app.bot_data.content, BERLIN, event_id, by=1, now=h.clock.now()
        )
        h.api.fail = None
        h.clock.advance(timedelta(minutes=10))
        await tick(h)
        assert [m.text.split("\n")[0][:40] for m in h.api.sent_to(USER)][-1].startswith(
            "❌ <b>Termin abgesagt"
        )
        assert reminders_sent(h, USER) == []
        states = {r.lead_days: r.state for r in await h.db.reminders_of(USER)}
        assert states == {7: "dropped", 1: "dropped"}  # the 7-day one was missed long ago


async def test_queued_reminder_of_a_moved_event_never_shows_the_old_time(tmp_path: Path) -> None:
    async with harness(tmp_path, now=datetime(2026, 5, 1, 8, 0, tzinfo=UTC)) as h:
        event_id = await add_event(h, local(2026, 5, 10, 10))
        await follow_event(h, event_id)
        h.clock.set(local(2026, 5, 3, 9))
        telegram_down(h)
        await tick(h)  # the 7-day reminder waits in the outbox
        event = await h.db.get_event(event_id)
        assert event is not None
        moved = EventFields(
            **{
                **_fields_dict(event.fields),
                "starts_at": local(2026, 5, 17, 10).astimezone(UTC),
                "ends_at": local(2026, 5, 17, 14).astimezone(UTC),
            }
        )
        await event_rules.update_event(
            h.db, h.app.bot_data.content, BERLIN, event_id, moved, by=1, now=h.clock.now()
        )
        h.api.fail = None
        h.clock.advance(timedelta(minutes=10))
        await tick(h)
        assert all("10.05.2026" not in m.text for m in reminders_sent(h, USER))
        [notice] = [m for m in h.api.sent_to(USER) if "Termin geändert" in m.text]
        assert "17.05.2026" in notice.text
        h.clock.set(local(2026, 5, 10, 9))
        await tick(h)
        [week] = reminders_sent(h, USER)
        assert "17.05.2026" in week.text and "in 7 Tagen" in week.text


async def test_reminder_delayed_past_midnight_is_worded_for_the_day_it_arrives(tmp_path: Path) -> None:
    async with harness(tmp_path, now=datetime(2026, 5, 1, 8, 0, tzinfo=UTC)) as h:
        event_id = await add_event(h, local(2026, 5, 10, 10))
        await follow_event(h, event_id)
        h.clock.set(local(2026, 5, 9, 9))
        telegram_down(h)
        await tick(h)
        h.api.fail = None
        h.clock.set(local(2026, 5, 10, 7))
        await tick(h)
        [reminder] = reminders_sent(h, USER)
        assert "beginnt heute" in reminder.text  # not "morgen", as it read when it was queued


async def test_change_notices_overtaken_while_waiting_are_not_sent(tmp_path: Path) -> None:
    async with harness(tmp_path, now=datetime(2026, 5, 1, 8, 0, tzinfo=UTC)) as h:
        content = h.app.bot_data.content
        first = await add_event(h, local(2026, 5, 20, 10), title="Erstes Treffen")
        second = await add_event(h, local(2026, 5, 21, 10), title="Zweites Treffen")
        await follow_event(h, first)
        await follow_event(h, second)
        telegram_down(h)
        for event_id, place in ((first, "Bonn"), (first, "Hamm"), (second, "Essen")):
            event = await h.db.get_event(event_id)
            assert event is not None
            fields = EventFields(**{**_fields_dict(event.fields), "place": place})
            await event_rules.update_event(h.db, content, BERLIN, event_id, fields, by=1, now=h.clock.now())
            await drain(h)
        await event_rules.cancel_event(h.db, content, BERLIN, second, by=1, now=h.clock.now())
        h.api.fail = None
        h.clock.advance(timedelta(minutes=10))
        await drain(h)
        got = [m.text for m in h.api.sent_to(USER) if "Termin" in m.text and "⏰" not in m.text]
        # Only what still holds: the latest change of the first event, the cancellation of the second.
        assert len(got) == 2, got
        [changed] = [t for t in got if "Termin geändert" in t]
        assert "Erstes Treffen" in changed and "Bonn</s> → Hamm" in changed
        [cancelled] = [t for t in got if "Termin abgesagt" in t]
        assert "Zweites Treffen" in cancelled


# --- expected rounds: one early reminder, then the confirmed date's reminders once an editor enters it ----------


def round_rule(dates: list[str], months: list[int]) -> dict[str, Any]:
    return {
        "id": "test-runde",
        "programme": "testprog",
        "what": "Jugendbegegnungen",
        "dates": dates,
        "time": "12:00",
        "expected": {"months": months, "note": "Die Termine erscheinen meist im November."},
        "certainty": "verified",
        "source": {"title": "Testquelle", "url": "https://example.org/runden"},
        "checked": "2026-12-04",
    }


def pending_rows(rows: list[Any]) -> list[tuple[str, int, str]]:
    return sorted(
        (r.subject, r.lead_days, r.due_at.astimezone(BERLIN).strftime("%d.%m.%Y %H:%M"))
        for r in rows
        if r.state == "pending"
    )


async def test_expected_round_is_reminded_once_at_nine_local_on_the_dst_day(tmp_path: Path) -> None:
    # 34 days before 1 May 2027 is 28 March 2027, the day clocks go forward.
    settings = {"send_time": "09:00", "deadline_leads_days": [56, 14, 3], "expected_lead_days": 34}
    root = content_copy(
        tmp_path, deadlines=[round_rule(["2026-05-06"], [5])], programmes=TEST_PROGRAMME, reminders=settings
    )
    async with harness(tmp_path, now=datetime(2027, 3, 26, 10, 0, tzinfo=UTC), content_dir=root) as h:
        await follow_programme(h, "testprog")
        got = await walk(h, datetime(2027, 3, 30, 0, 0, tzinfo=UTC))
    assert [when.strftime("%d.%m. %H:%M %Z") for when, _ in got] == ["28.03. 09:00 CEST"]
    text = got[0][1]
    assert "Üblicherweise im Mai – jetzt vorbereiten" in text and "Der Termin für Mai 2027" in text
    assert "meist im November" in text and "⏳" not in text


async def test_confirmed_date_replaces_the_expected_reminder_and_restarts_send_nothing_twice(
    tmp_path: Path,
) -> None:
    expected = round_rule(["2026-10-01"], [2, 10])
    root = content_copy(tmp_path, deadlines=[expected], programmes=TEST_PROGRAMME)
    async with harness(tmp_path, now=datetime(2026, 12, 4, 10, 0, tzinfo=UTC), content_dir=root) as h:
        await follow_programme(h, "testprog")
        # Feb 2027 has no date yet: one early reminder, 56 days before 1 February.
        assert pending_rows(await h.db.reminders_of(USER)) == [
            ("expected:test-runde", 56, "07.12.2026 09:00")
        ]
        got = await walk(h, datetime(2026, 12, 8, 0, 0, tzinfo=UTC))
        assert [when.strftime("%d.%m. %H:%M") for when, _ in got] == ["07.12. 09:00"]
        assert "Üblicherweise im Februar – jetzt vorbereiten" in got[0][1]
    # An editor enters the confirmed date; the bot restarts with the new content.
    content_copy(tmp_path, deadlines=[round_rule(["2026-10-01", "2027-02-18"], [2, 10])])
    async with harness(tmp_path, now=local(2026, 12, 20, 10), content_dir=root) as h:
        await tick(h)
        assert reminders_sent(h, USER) == []
        assert pending_rows(await h.db.reminders_of(USER)) == [
            ("deadline:test-runde", 3, "15.02.2027 09:00"),
            ("deadline:test-runde", 14, "04.02.2027 09:00"),
            ("deadline:test-runde", 56, "24.12.2026 09:00"),
            ("expected:test-runde", 56, "06.08.2027 09:00"),  # the October round, still without a date
        ]
        h.clock.set(local(2026, 12, 24, 9))
        await tick(h)
        [confirmed] = reminders_sent(h, USER)
        assert "Fristerinnerung" in confirmed.text and "18.02.2027, 12:00 Uhr (in 56 Tagen)" in confirmed.text
    # Another restart a little later: nothing is sent again.
    async with harness(tmp_path, now=local(2026, 12, 24, 9, 30), content_dir=root) as h:
        await tick(h)
        assert reminders_sent(h, USER) == []
        sent = sorted((r.subject, r.lead_days) for r in await h.db.reminders_of(USER) if r.state == "sent")
        assert sent == [("deadline:test-runde", 56), ("expected:test-runde", 56)]


async def test_a_date_entered_before_the_early_reminder_cancels_it(tmp_path: Path) -> None:
    root = content_copy(tmp_path, deadlines=[round_rule(["2026-10-01"], [2, 10])], programmes=TEST_PROGRAMME)
    async with harness(tmp_path, now=datetime(2026, 11, 20, 10, 0, tzinfo=UTC), content_dir=root) as h:
        await follow_programme(h, "testprog")
        assert pending_rows(await h.db.reminders_of(USER)) == [
            ("expected:test-runde", 56, "07.12.2026 09:00")
        ]
    content_copy(tmp_path, deadlines=[round_rule(["2026-10-01", "2027-02-18"], [2, 10])])
    async with harness(tmp_path, now=datetime(2026, 11, 25, 10, 0, tzinfo=UTC), content_dir=root) as h:
        await tick(h)
        assert ("expected:test-runde", 56, "07.12.2026 09:00") not in pending_rows(
            await h.db.reminders_of(USER)
        )
        h.clock.set(local(2026, 12, 7, 9))
        await tick(h)
        assert reminders_sent(h, USER) == []


async def test_expected_reminder_waiting_in_the_outbox_is_withdrawn_once_the_date_is_known(
    tmp_path: Path,
) -> None:
    root = content_copy(tmp_path, deadlines=[round_rule(["2026-10-01"], [2, 10])], programmes=TEST_PROGRAMME)
    async with harness(tmp_path, now=datetime(2026, 12, 4, 10, 0, tzinfo=UTC), content_dir=root) as h:
        await follow_programme(h, "testprog")
        h.clock.set(local(2026, 12, 7, 9))
        report = await reminders.queue_due_reminders(h.db, h.app.bot_data.content, BERLIN, h.clock.now())
        assert report.queued == 1
        h.app.bot_data.outbox.stop()  # Telegram unreachable; the row waits
    content_copy(tmp_path, deadlines=[round_rule(["2026-10-01", "2027-02-18"], [2, 10])])
    async with harness(tmp_path, now=local(2026, 12, 7, 9, 30), content_dir=root) as h:
        await tick(h)
        assert not any("Üblicherweise" in m.text for m in h.api.sent_to(USER))
