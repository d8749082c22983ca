"""The bot as a process: a coordinator creates an event, a user follows it and gets its .ics, and the
reminder arrives (once) when the clock passes its time — and again not after a restart."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar

from .botprocess import BotStarter
from .fakeapi import FakeBotApi, FakeUser, StoredMessage

BERLIN = ZoneInfo("Europe/Berlin")
COORDINATOR = FakeUser(2001, "Kora", username="kora_koordination")
USER = FakeUser(2002, "Udo", username="udo_jugendamt")


def set_clock(path: Path, iso: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(iso, encoding="utf-8")
    tmp.replace(path)  # atomic: the bot never reads half a timestamp


def answer_and_wait(api: FakeBotApi, user: FakeUser, text: str, expect: str) -> StoredMessage:
    mark = api.mark()
    api.send_text(user, text)
    return api.wait_for_message(user, expect, since=mark)


def press_and_wait(
    api: FakeBotApi, user: FakeUser, message: StoredMessage, data: str, expect: str
) -> StoredMessage:
    mark = api.mark()
    api.press_button(user, message, data)
    return api.wait_for_message(user, expect, since=mark)


def reminders(api: FakeBotApi, user: FakeUser) -> list[StoredMessage]:
    return [m for m in api.messages(user) if m.content.startswith("⏰")]


def test_event_created_followed_exported_and_reminded(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    clock = tmp_path / "clock.txt"
    set_clock(clock, "2026-11-24T10:00:00+00:00")
    env = {
        "IJA_LOTSE_TEST_CLOCK_FILE": str(clock),
        "BOT_ADMIN_IDS": str(COORDINATOR.id),  # admins may manage events
        "BOT_TICK_SECONDS": "0.3",
    }
    bot = bot_process(env)

    # The coordinator creates an event through the guided form.
    answer_and_wait(fake_api, COORDINATOR, "/termin_neu", "Wie heißt der Termin")
    answer_and_wait(fake_api, COORDINATOR, "Online-Sprechstunde Förderung", "Wann beginnt")
    answer_and_wait(fake_api, COORDINATOR, "1.12.2026 10:00", "Wann endet")
    answer_and_wait(fake_api, COORDINATOR, "12 Uhr", "Wo findet")
    ask = answer_and_wait(fake_api, COORDINATOR, "Online https://example.org/sprechstunde", "Beschreibung")
    ask = press_and_wait(fake_api, COORDINATOR, ask, "evf:skip", "Bundesland")
    ask = press_and_wait(fake_api, COORDINATOR, ask, "evf:land:all", "Thema")
    preview = press_and_wait(fake_api, COORDINATOR, ask, "evf:topic:foerderung", "Vorschau")
    assert "Di., 01.12.2026, 10:00–12:00 Uhr" in preview.content
    details = press_and_wait(fake_api, COORDINATOR, preview, "evf:save", "Zum Weitersagen")
    assert "https://t.me/ija_lotse_test_bot?start=termin_1" in details.content

    # A user opens the shared link, follows the event and takes its calendar file.
    shared = answer_and_wait(fake_api, USER, "/start termin_1", "Online-Sprechstunde Förderung")
    followed = press_and_wait(fake_api, USER, shared, "ev:follow:1", "Sie werden")
    assert "09:00 Uhr" in followed.content
    mark = fake_api.mark()
    fake_api.press_button(USER, followed, "ev:ics:1")
    doc = fake_api.wait_for_message(USER, since=mark, predicate=lambda m: m.document is not None)
    assert doc.document is not None and doc.document.file_name == "termin-1.ics"
    [vevent] = list(Calendar.from_ical(doc.document.data).walk("VEVENT"))
    assert vevent.decoded("dtstart") == datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)
    assert vevent.decoded("dtend") == datetime(2026, 12, 1, 12, 0, tzinfo=BERLIN)
    assert str(vevent.get("dtstart").params["TZID"]) == "Europe/Berlin"

    # The 1-day reminder is due on 30 Nov at 09:00 Berlin (08:00 UTC): not a minute before.
    set_clock(clock, "2026-11-30T07:59:00+00:00")
    time.sleep(1.5)  # several ticks of the bot (0.3 s) on a clock just short of the due time
    assert reminders(fake_api, USER) == []
    set_clock(clock, "2026-11-30T08:00:30+00:00")
    reminder = fake_api.wait_for_message(USER, "beginnt morgen")
    assert "Online-Sprechstunde Förderung" in reminder.content and "01.12.2026" in reminder.content
    time.sleep(1.0)
    assert len(reminders(fake_api, USER)) == 1
    assert bot.terminate(timeout=5).code == 0, bot.output()

    # After a restart nothing is sent again.
    set_clock(clock, "2026-11-30T09:00:00+00:00")
    bot_process(env)
    time.sleep(1.5)
    assert len(reminders(fake_api, USER)) == 1
    assert not [c for c in fake_api.calls() if c.status != 200 and c.method != "getUpdates"], (
        fake_api.describe()
    )
