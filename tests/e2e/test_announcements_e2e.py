"""Announcements end to end: the bot process against the fake Bot API with Telegram's flood control on.

A coordinator composes in the chat; 1,000 subscribers get it exactly once, paced under 30 messages/s with no
429 served, while a user's /start mid-broadcast is answered promptly; blocked and deactivated users are
unsubscribed and counted; a SIGKILL halfway loses nobody and doubles at most one.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from bot.outbox import MAX_IN_FLIGHT

from .announce_seed import query, seed
from .botprocess import BotStarter
from .fakeapi import FakeBotApi, FakeUser, StoredMessage

COORD = FakeUser(5001, "Kora", username="kora_koordination")
STRANGER = FakeUser(5002, "Max")
PAULA = FakeUser(5003, "Paula")  # not subscribed: only writes /start while the broadcast runs
RATE = 25.0  # BOT_BROADCAST_RATE, the default
PROMPT_REPLY = 3.0  # seconds: an interactive reply during a broadcast still arrives about at once


def subscribers(n: int) -> list[FakeUser]:
    return [FakeUser(700_000 + i, f"U{i}") for i in range(n)]


def press(api: FakeBotApi, user: FakeUser, message: StoredMessage, label_part: str) -> None:
    data = [
        b["callback_data"]
        for b in message.buttons()
        if label_part in str(b.get("text")) and "callback_data" in b
    ]
    assert data, (label_part, message.button_texts())
    query_id = api.press_button(user, message, data[0])
    api.wait_for(lambda: api.callback_answer(query_id), message=f"answer to {label_part!r}")


def compose_and_send(api: FakeBotApi, expected_count: str) -> None:
    """The coordinator's whole dialogue: text with formatting, no button, all subscribers, preview, send now."""
    mark = api.mark()
    api.send_text(COORD, "/ankuendigung")
    api.wait_for_message(COORD, "Neue Ankündigung", since=mark)
    mark = api.mark()
    text = "Infobrief Dezember: Anmeldeschluss <Fachtag> & Fristen"
    api.send_text(COORD, text, entities=[{"type": "bold", "offset": 0, "length": 18}])
    ask = api.wait_for_message(COORD, "Link-Button", since=mark)
    mark = api.mark()
    press(api, COORD, ask, "Ohne Button")
    audience = api.wait_for_message(COORD, "Wer soll", since=mark)
    mark = api.mark()
    press(api, COORD, audience, "Vorschau")
    controls = api.wait_for_message(COORD, "Anzahl derzeit", since=mark)
    preview = api.messages(COORD)[-2]
    assert preview.raw_text == (
        "📣 <b>IJA-Lotse · Infobrief</b>\n\n<b>Infobrief Dezember</b>: Anmeldeschluss &lt;Fachtag&gt; &amp; Fristen"
    )
    assert f"Anzahl derzeit: {expected_count}" in controls.content
    mark = api.mark()
    press(api, COORD, controls, "Jetzt senden")
    confirm = api.wait_for_message(COORD, "Jetzt senden?", since=mark)
    press(api, COORD, confirm, "Ja, jetzt senden")


def announcements_to(api: FakeBotApi, users: list[FakeUser]) -> dict[int, list[StoredMessage]]:
    return {u.id: [m for m in api.messages(u) if m.content.startswith("📣")] for u in users}


def test_thousand_subscribers_once_each_under_flood_control(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    users = subscribers(1000)
    blocked = users[::100]  # 10 users who blocked the bot
    deactivated = users[50::100]  # 10 users who deleted their account ("Forbidden: user is deactivated")
    unreachable = {u.id for u in blocked + deactivated}
    db_path = tmp_path / "bot.sqlite3"
    seed(db_path, COORD.id, [u.id for u in users])
    for user in [COORD, PAULA, *users]:
        fake_api.add_user(user)
    for user in blocked:
        fake_api.block_user(user)
    for user in deactivated:
        fake_api.deactivate_user(user)
    fake_api.set_flood_limits(global_per_second=30, retry_after=None)
    bot_process({"BOT_BROADCAST_RATE": str(RATE)})

    compose_and_send(fake_api, "1.000")

    # Mid-broadcast an unrelated user writes /start: the welcome comes promptly, and still no 429 is served.
    def delivered() -> int:
        return sum(1 for c in fake_api.calls("sendMessage") if c.ok and int(c.params["chat_id"]) >= 700_000)

    fake_api.wait_for(lambda: delivered() >= 250 or None, timeout=60, message="a quarter delivered")
    asked = fake_api.send_text(PAULA, "/start")
    welcome = fake_api.wait_for_message(PAULA, "Willkommen", timeout=30)
    waited = welcome.timestamp - asked.timestamp
    assert waited <= PROMPT_REPLY, f"the welcome took {waited:.1f} s during the broadcast"
    assert delivered() < 900, "the broadcast should still be running"
    assert fake_api.too_many_requests_count == 0, fake_api.describe()

    report = fake_api.wait_for_message(COORD, "Bericht zu Ankündigung", timeout=1000 / RATE + 30)

    received = announcements_to(fake_api, users)
    assert all(len(got) == 1 for uid, got in received.items() if uid not in unreachable)
    assert all(not received[uid] for uid in unreachable)
    assert all(got[0].button_texts() == ["🔕 Abbestellen"] for uid, got in received.items() if got)
    assert not [m for m in fake_api.messages(PAULA) if m.content.startswith("📣")]
    assert fake_api.too_many_requests_count == 0, fake_api.describe()
    # Blocked and deactivated alike: Telegram's 403, so the subscriptions end and they count as blocked.
    for line in ("Empfänger: 1.000", "Zugestellt: 980", "Blockiert (Abos beendet): 20", "Fehlgeschlagen: 0"):
        assert line in report.content, report.content
    # Paced at the configured rate: 1,000 messages take about 1000 / 25 = 40 s.
    stamps = sorted(m.timestamp for got in received.values() for m in got)
    span = stamps[-1] - stamps[0]
    achieved = (len(stamps) - 1) / span
    assert RATE * 0.85 <= achieved <= RATE * 1.02, (achieved, span)
    assert stamps[-1] > welcome.timestamp  # the welcome really came in the middle of the broadcast
    # The unreachable users' subscriptions ended; everyone else's stay.
    ended = query(db_path, "SELECT user_id FROM subscriptions WHERE ended = 'blocked' AND announcements = 0")
    assert {row[0] for row in ended} == unreachable
    still = query(db_path, "SELECT COUNT(*) FROM subscriptions WHERE announcements = 1")
    assert still == [(980,)]
    # A live progress message was edited while sending, at most every few seconds (the final edit with the
    # totals comes when the last row is done).
    progress = [m for m in fake_api.messages(COORD) if m.content.startswith("📤")]
    assert len(progress) == 1 and len(progress[0].history) >= 5
    edits = [v.timestamp for v in progress[0].history[1:]] + [progress[0].last_change]
    throttled = edits[:-1]
    gaps = [round(b - a, 2) for a, b in itertools.pairwise(throttled)]
    assert min(gaps) >= 2.9, gaps
    assert "980 von 1.000" not in progress[0].content and "1.000 von 1.000" in progress[0].content


def test_sigkill_halfway_then_restart_delivers_to_everyone(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    users = subscribers(150)
    ids = {u.id for u in users}
    seed(tmp_path / "bot.sqlite3", COORD.id, list(ids))
    for user in [COORD, *users]:
        fake_api.add_user(user)
    fake_api.set_flood_limits(global_per_second=30)
    first = bot_process({"BOT_BROADCAST_RATE": str(RATE)})
    compose_and_send(fake_api, "150")

    def delivered() -> int:
        return sum(
            1 for c in fake_api.calls("sendMessage") if c.ok and int(c.params.get("chat_id", 0)) in ids
        )

    fake_api.wait_for(lambda: delivered() >= 75 or None, timeout=30, message="half delivered")
    assert first.kill() < 0
    time.sleep(0.5)  # what the process wrote before it died is handled by the server ...
    halfway = delivered()
    assert halfway < 150
    time.sleep(0.5)  # ... and after that nothing more arrives
    assert delivered() == halfway
    # Sent but not yet marked sent when the process died: those, and only those, go out once more.
    [(recorded,)] = query(
        tmp_path / "bot.sqlite3", "SELECT COUNT(*) FROM outbox WHERE kind = 'announcement' AND state = 'sent'"
    )
    under_way = halfway - int(str(recorded))
    assert 0 <= under_way <= MAX_IN_FLIGHT

    bot_process({"BOT_BROADCAST_RATE": str(RATE)})
    report = fake_api.wait_for_message(COORD, "Bericht zu Ankündigung", timeout=60)
    received = announcements_to(fake_api, users)
    assert all(len(got) >= 1 for got in received.values())
    assert sum(len(got) for got in received.values()) == len(users) + under_way
    assert "Zugestellt: 150" in report.content, report.content
    assert fake_api.too_many_requests_count == 0


def test_rights_and_invitations_in_the_running_bot(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    seed(tmp_path / "bot.sqlite3", COORD.id, [STRANGER.id])
    fake_api.add_user(COORD)
    fake_api.add_user(STRANGER)
    bot_process()
    mark = fake_api.mark()
    fake_api.send_text(STRANGER, "/ankuendigung")
    fake_api.wait_for_message(STRANGER, "nur Koordinatorinnen", since=mark)
    # A forged "send" press on one of the stranger's own messages.
    message = fake_api.last_message(STRANGER)
    assert message is not None
    fake_api.push_update(
        {
            "callback_query": {
                "id": "forged-1",
                "from": STRANGER.to_api(),
                "message": {
                    "message_id": message.message_id,
                    "date": 0,
                    "chat": {"id": STRANGER.id, "type": "private"},
                },
                "chat_instance": "1",
                "data": "ann:go",
            }
        }
    )
    # (The fake server does not know this query id, so it refuses the answer; what the bot said is in the call.)
    answer = fake_api.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == "forged-1"
    )
    assert "nur Koordinatorinnen" in str(answer.params.get("text"))
    # An invitation code nobody issued does nothing.
    mark = fake_api.mark()
    fake_api.send_text(STRANGER, "/start rolle_" + "Q" * 24)
    fake_api.wait_for_message(STRANGER, "ungültig", since=mark)
    rows = query(tmp_path / "bot.sqlite3", "SELECT COUNT(*) FROM announcements")
    assert rows == [(0,)]
    roles = query(tmp_path / "bot.sqlite3", f"SELECT role FROM roles WHERE user_id = {STRANGER.id}")
    assert roles == []
