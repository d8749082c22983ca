"""The bot as a process: an admin makes a user coordinator with /rolle, the coordinator (not an admin) creates an
event, a plain user is refused the form, a user follows the event and gets its .ics, and the reminder arrives
(once) when the clock passes its time — and again not after a restart."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar

from .botprocess import BotStarter, set_clock
from .fakeapi import FakeBotApi, FakeUser, StoredMessage

BERLIN = ZoneInfo("Europe/Berlin")
ADMIN = FakeUser(2000, "Ada", username="ada_admin")
COORDINATOR = FakeUser(2001, "Kora", username="kora_koordination")
USER = FakeUser(2002, "Udo", username="udo_jugendamt")


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


def query(db_path: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(sql, args).fetchall()


def reminders(api: FakeBotApi, user: FakeUser) -> list[StoredMessage]:
    return [m for m in api.messages(user) if m.content.startswith("⏰")]


def test_event_created_followed_exported_and_reminded(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    clock = tmp_path / "clock.txt"
    db_path = tmp_path / "bot.sqlite3"
    set_clock(clock, "2026-11-24T10:00:00+00:00")
    env = {
        "IJA_LOTSE_TEST_CLOCK_FILE": str(clock),
        "BOT_ADMIN_IDS": str(ADMIN.id),  # the coordinator is not an admin: the role alone must do
        "BOT_TICK_SECONDS": "0.3",
    }
    bot = bot_process(env)

    # Without the role, /termin_neu is refused clearly, and what follows is no event title.
    for user in (USER, COORDINATOR):
        answer_and_wait(fake_api, user, "/termin_neu", "nur Koordinatorinnen und Koordinatoren")
    mark = fake_api.mark()
    fake_api.send_text(USER, "Online-Sprechstunde Förderung")
    reply = fake_api.wait_for_message(USER, since=mark)
    assert "Wann beginnt" not in reply.content
    assert query(db_path, "SELECT COUNT(*) FROM events") == [(0,)]

    # The admin grants the coordinator role by user id, as the app does; the coordinator is told.
    granted = answer_and_wait(
        fake_api, ADMIN, f"/rolle geben {COORDINATOR.id} koordination", "hat jetzt die Rolle"
    )
    assert str(COORDINATOR.id) in granted.content
    fake_api.wait_for_message(COORDINATOR, "Sie haben jetzt die Rolle")
    assert query(db_path, "SELECT role, granted_by FROM roles WHERE user_id = ?", COORDINATOR.id) == [
        ("coordinator", ADMIN.id)
    ]
    # A coordinator, not an admin.
    answer_and_wait(fake_api, COORDINATOR, "/rolle", "nur Administratorinnen")

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

    # One event, created by the coordinator; the refused user has no form open or stored.
    assert query(db_path, "SELECT id, created_by FROM events") == [(1, COORDINATOR.id)]
    forms = query(db_path, "SELECT key FROM conversations WHERE name = 'event_form'")
    assert all(USER.id not in json.loads(str(key)) for (key,) in forms), forms
    user_data = query(db_path, "SELECT data FROM user_data WHERE user_id = ?", USER.id)
    assert all("event_form" not in json.loads(str(data)) for (data,) in user_data), user_data

    # After a restart nothing is sent again.
    set_clock(clock, "2026-11-30T09:00:00+00:00")
    bot_process(env)
    time.sleep(1.5)
    assert len(reminders(fake_api, USER)) == 1
    assert not [c for c in fake_api.calls() if c.status != 200 and c.method != "getUpdates"], (
        fake_api.describe()
    )
