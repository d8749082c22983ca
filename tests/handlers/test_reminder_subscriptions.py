"""The /abo reminder subscriptions: reminders for every event in the user's Land and every funding deadline,
without following each one; "Alles abbestellen" and a blocked bot end them all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar

from bot import event_changes as event_rules
from bot.db import EventFields
from tests.events_support import drain, tick
from tests.harness import ADMIN_ID, Harness, harness

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
USER = 515253


async def add_event(h: Harness, days: int, land: str | None) -> int:
    start = (NOW + timedelta(days=days)).astimezone(BERLIN).replace(hour=10, minute=0)
    fields = EventFields(
        title=f"Treffen {land}",
        starts_at=start.astimezone(UTC),
        ends_at=(start + timedelta(hours=3)).astimezone(UTC),
        place="Köln",
        online_url=None,
        description="",
        bundesland=land,
        topic="netzwerk",
    )
    return await event_rules.create_event(
        h.db, h.app.bot_data.content, BERLIN, fields, by=1, now=h.clock.now()
    )


async def subjects(h: Harness) -> set[str]:
    rows = await h.db.fetchall(
        "SELECT subject FROM reminders WHERE user_id = ? AND state = 'pending'", (USER,)
    )
    return {str(r["subject"]) for r in rows}


async def toggle(h: Harness, kind: str, on: bool = True) -> None:
    user = h.user(USER)
    [overview] = await h.send(user, "/abo")
    await h.press(user, overview, f"abo:{'on' if on else 'off'}:{kind}")


async def test_event_reminder_subscription_covers_own_land_and_nationwide(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW) as h:
        await h.db.set_user_land(USER, "NW", NOW)
        nationwide = await add_event(h, 20, None)
        in_land = await add_event(h, 21, "NW")
        elsewhere = await add_event(h, 22, "BY")
        await toggle(h, "event_reminders")
        got = await subjects(h)
        assert f"event:{nationwide}" in got and f"event:{in_land}" in got
        assert f"event:{elsewhere}" not in got
        await toggle(h, "event_reminders", on=False)
        assert not {s for s in await subjects(h) if s.startswith("event:")}


async def test_deadline_subscription_plans_deadline_reminders_and_alloff_ends_everything(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path, now=NOW) as h:
        await h.db.set_user_land(USER, "BW", NOW)
        await toggle(h, "deadline_reminders")
        deadline_subjects = {s for s in await subjects(h) if not s.startswith("event:")}
        assert deadline_subjects, "a deadline subscription plans reminders for the programmes' deadlines"
        user = h.user(USER)
        [overview] = await h.send(user, "/abo")
        await h.press(user, overview, "abo:alloff")
        assert await subjects(h) == set()


async def test_subscribers_reminded_of_an_event_hear_of_its_change_and_cancellation(tmp_path: Path) -> None:
    other = USER + 1
    async with harness(tmp_path, now=NOW) as h:
        content = h.app.bot_data.content
        for user_id in (USER, other):
            await h.db.set_user_land(user_id, "NW", NOW)
        moved = await add_event(h, 8, "NW")  # 7-day reminders due on 5 and 6 May at 09:00
        cancelled = await add_event(h, 9, None)
        await toggle(h, "event_reminders")
        h.clock.set(datetime(2026, 5, 6, 7, 30, tzinfo=UTC))  # 09:30 Berlin on 6 May
        await tick(h)
        assert len([m for m in h.api.sent_to(USER) if m.text.startswith("⏰")]) == 2
        # Subscribed only after the reminders went out: knows nothing of the events, hears nothing.
        [overview] = await h.send(h.user(other), "/abo")
        await h.press(h.user(other), overview, "abo:on:event_reminders")
        event = await h.db.get_event(moved)
        assert event is not None
        fields = EventFields(
            **{**{n: getattr(event.fields, n) for n in EventFields.__slots__}, "place": "Hamm"}
        )
        await event_rules.update_event(h.db, content, BERLIN, moved, fields, by=1, now=h.clock.now())
        told = await event_rules.cancel_event(h.db, content, BERLIN, cancelled, by=1, now=h.clock.now())
        assert told == 1
        await drain(h)
        notices = [m.text for m in h.api.sent_to(USER) if not m.text.startswith("⏰")]
        assert any("Termin geändert" in t and "Hamm" in t for t in notices)
        assert any("Termin abgesagt" in t for t in notices)
        assert [m for m in h.api.sent_to(other) if "Termin" in m.text and "⏰" not in m.text] == []


async def test_a_new_event_reaches_subscribers_even_when_its_first_reminder_is_due_within_the_hour(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path, now=datetime(2026, 5, 4, 6, 0, tzinfo=UTC)) as h:  # 08:00 Berlin
        await toggle(h, "event_reminders")
        await tick(h)  # the hourly re-plan ran at 08:00
        coordinator = h.user(ADMIN_ID)
        h.clock.set(datetime(2026, 5, 4, 6, 30, tzinfo=UTC))
        await h.send(coordinator, "/termin_neu")
        await h.send(coordinator, "Kurzfristiges Treffen")
        await h.send(coordinator, "5.5.2026 10-12 Uhr")
        await h.send(coordinator, "Köln")
        [ask_land] = await h.send(coordinator, "-")
        [ask_topic] = await h.press(coordinator, ask_land, "evf:land:all")
        [preview] = await h.press(coordinator, ask_topic, "evf:topic:netzwerk")
        await h.press(coordinator, preview, "evf:save")
        h.clock.set(datetime(2026, 5, 4, 7, 5, tzinfo=UTC))  # 09:05, before the next hourly re-plan
        await tick(h)
        [reminder] = [m for m in h.api.sent_to(USER) if m.text.startswith("⏰")]
        assert "Kurzfristiges Treffen" in reminder.text and "beginnt morgen" in reminder.text


async def test_subscriptions_show_in_the_details_the_unfollow_answer_and_my_calendar(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW) as h:
        await h.db.set_user_land(USER, "NW", NOW)
        nationwide = await add_event(h, 20, None)
        await add_event(h, 21, "NW")
        elsewhere = await add_event(h, 22, "BY")
        await toggle(h, "event_reminders")
        await toggle(h, "deadline_reminders")
        user = h.user(USER)
        [details] = await h.send(user, f"/start termin_{nationwide}")
        assert "Über Ihr Abo" in details.text
        [details] = await h.send(user, f"/start termin_{elsewhere}")
        assert "Über Ihr Abo" not in details.text and "Sie werden" not in details.text
        [details] = await h.send(user, f"/start termin_{nationwide}")
        [followed] = await h.press(user, details, f"ev:follow:{nationwide}")
        await h.press(user, followed, f"ev:unfollow:{nationwide}")
        assert h.last_answer_text() == h.texts("events.unfollowed_subscribed")
        replies = await h.press(user, details, "ev:mycal")
        [doc] = [m for m in replies if m.document is not None]
        assert doc.document is not None
        summaries = [str(e.get("summary")) for e in Calendar.from_ical(doc.document[1]).walk("VEVENT")]
        assert "Treffen None" in summaries and "Treffen NW" in summaries and "Treffen BY" not in summaries
        # Every programme's dated deadlines, as the deadline subscription reminds of them all.
        assert any(s.startswith("Frist ESK") for s in summaries)
        assert any(s.startswith("Frist KJFP NRW") for s in summaries)
        # Without the subscriptions the calendar is empty again, and unfollowing means silence.
        [overview] = await h.send(user, "/abo")
        await h.press(user, overview, "abo:alloff")
        replies = await h.press(user, details, "ev:mycal")
        assert [m.document for m in replies] == [None] and "noch keinem Termin" in replies[0].text
        [followed] = await h.press(user, details, f"ev:follow:{nationwide}")
        await h.press(user, followed, f"ev:unfollow:{nationwide}")
        assert h.last_answer_text() == h.texts("events.unfollowed")
