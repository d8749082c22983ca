"""Consultation requests with the bot as a real process: the whole dialogue in a forum and in a plain staff group,
a SIGKILL right after confirming, a failing staff chat, and bad input."""

from __future__ import annotations

import re
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from bot.telegram_html import html_to_plain
from tests.content_cache import cached_content

from .botprocess import BotStarter, set_clock
from .fakeapi import FakeBotApi, FakeChat, FakeUser, StoredMessage

TEXTS = cached_content().texts
ANNA = FakeUser(3001, "Anna", last_name="<b>Kommune</b>", username="anna_jugendamt")
SABINE = FakeUser(3002, "Sabine")
MALLORY = FakeUser(3003, "Mallory")
STAFF_CHAT_ID = -1001230000001
QUESTION = "Wir möchten 2027 eine Jugendbegegnung mit Polen machen. Wie finden wir einen Partner?"
# Telegram supports setMessageReaction (the 👍 on a relayed staff message); the fake server does not know it.
TOLERATED = {"getUpdates", "setMessageReaction"}


def plain_text(key: str, **params: object) -> str:
    """A text as the user reads it (entities parsed)."""
    return html_to_plain(TEXTS(key, **params))


def staff_group(api: FakeBotApi, *, forum: bool) -> FakeChat:
    chat = api.add_chat(
        FakeChat.supergroup(STAFF_CHAT_ID, "Beratungsteam", is_forum=forum), members={SABINE: "member"}
    )
    api.set_member(chat, MALLORY, "left")
    return chat


def start_bot(api: FakeBotApi, bot_process: BotStarter, **env: str) -> Any:
    for user in (ANNA, SABINE, MALLORY):
        api.add_user(user)
    return bot_process({"BOT_STAFF_CHAT_ID": str(STAFF_CHAT_ID), **env})


def press(api: FakeBotApi, user: FakeUser, message: StoredMessage, label: str, expect: str) -> StoredMessage:
    """Press the button labelled ``label`` and wait for a message (new or edited) containing ``expect``."""
    chat: Any = user if message.chat_id == user.id else message.chat_id
    mark = api.mark()
    api.press_button(user, message, text=label)
    return api.wait_for_message(chat, expect, since=mark)


def say(api: FakeBotApi, user: FakeUser, text: str, expect: str) -> StoredMessage:
    mark = api.mark()
    api.send_text(user, text)
    return api.wait_for_message(user, expect, since=mark)


def fill_form(api: FakeBotApi, user: FakeUser, *, kommune: str = "Stadt Musterstadt") -> StoredMessage:
    """Every step of the form up to the summary."""
    say(api, user, "/beratung", "Für welche Kommune")
    land = say(api, user, kommune, "In welchem Bundesland")
    role = press(api, user, land, "Niedersachsen", "In welcher Rolle")
    topic = press(api, user, role, "Jugendamt / Jugendpflege", "Zu welchem Thema")
    question = press(api, user, topic, "Förderung", "beschreiben Sie Ihre Frage")
    contact = say(api, user, QUESTION, "Wie möchten Sie die Antwort")
    assert question.message_id != contact.message_id
    privacy = press(api, user, contact, "💬 Telegram (hier im Chat)", "Datenschutz")
    return press(api, user, privacy, "✅ Gelesen und einverstanden", "Bitte prüfen Sie Ihre Anfrage")


def file_request(api: FakeBotApi, user: FakeUser, **answers: Any) -> int:
    summary = fill_form(api, user, **answers)
    done = press(api, user, summary, "✅ Absenden", "Ihre Anfrage hat die Nummer")
    found = re.search(r"Nummer #(\d+)", done.content)
    assert found is not None, done.content
    return int(found.group(1))


def failed_calls(api: FakeBotApi) -> list[Any]:
    return [c for c in api.calls() if c.status != 200 and c.method not in TOLERATED]


def db_row(path: Path, sql: str) -> Any:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchone()


@pytest.mark.parametrize("forum", [True, False], ids=["forum", "plain_group"])
def test_request_dialogue_from_form_to_rating(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path, forum: bool
) -> None:
    chat = staff_group(fake_api, forum=forum)
    bot = start_bot(fake_api, bot_process)

    number = file_request(fake_api, ANNA)
    post = fake_api.wait_for_message(chat, f"Anfrage #{number}")
    assert "Stadt Musterstadt" in post.content and QUESTION in post.content
    assert "Anna <b>Kommune</b> (@anna_jugendamt)" in post.content  # the name shown as typed, not as HTML
    if forum:
        [topic] = fake_api.topics(chat)
        assert topic.name == f"Anfrage #{number} – Stadt Musterstadt"
        assert post.message_thread_id == topic.message_thread_id
    else:
        assert post.message_thread_id is None and fake_api.topics(chat) == []

    # Staff claim it; the requester is told.
    mark = fake_api.mark()
    press(fake_api, SABINE, post, "🙋 Übernehmen", "in Bearbeitung · bei Sabine")
    fake_api.wait_for_message(ANNA, "jetzt in Bearbeitung", since=mark)

    # Staff answer in the topic / as a reply; it reaches the requester, marked as the team's answer.
    mark = fake_api.mark()
    if forum:
        fake_api.send_text(
            SABINE,
            "Gern! Kennen Sie die Partnerbörse des DPJW?",
            chat=chat,
            message_thread_id=post.message_thread_id,
        )
    else:
        fake_api.send_text(SABINE, "Gern! Kennen Sie die Partnerbörse des DPJW?", chat=chat, reply_to=post)
    answer = fake_api.wait_for_message(ANNA, "Antwort des Beratungsteams", since=mark)
    assert "Partnerbörse des DPJW?" in answer.content and "✍️ Antworten" in answer.button_texts()

    # The requester writes back (plain text: one request in dialogue); it lands in the topic / as a reply.
    mark = fake_api.mark()
    say(fake_api, ANNA, "Nein, noch nicht – danke für den Tipp!", "an das Beratungsteam weitergeleitet")
    relayed = fake_api.wait_for_message(chat, "Nachricht von Anna", since=mark)
    assert "danke für den Tipp!" in relayed.content
    if forum:
        assert relayed.message_thread_id == post.message_thread_id
    else:
        assert relayed.reply_to == post.message_id

    # Staff close it; the requester is told and asked for a rating, stored once.
    current = fake_api.message(chat, post.message_id)
    assert current is not None
    mark = fake_api.mark()
    press(fake_api, SABINE, current, "✅ Erledigt", "erledigt")
    fake_api.wait_for_message(ANNA, "ist erledigt", since=mark)
    prompt = fake_api.wait_for_message(ANNA, "Wie hilfreich war die Beratung", since=mark)
    press(fake_api, ANNA, prompt, "4", "Vielen Dank für Ihre Bewertung")

    exit_code, _ = bot.terminate(timeout=5)
    assert exit_code == 0, bot.output()
    row = db_row(
        tmp_path / "bot.sqlite3", f"SELECT status, claimed_by, rating FROM requests WHERE id = {number}"
    )
    assert row == ("erledigt", SABINE.id, 4)
    assert failed_calls(fake_api) == [], fake_api.describe()


@pytest.mark.parametrize(
    ("forum", "post_reached_telegram", "expected_posts"),
    [(False, False, 1), (True, True, 2)],
    ids=["killed_before_the_post", "killed_after_the_post_before_recording_it"],
)
def test_sigkill_right_after_confirming_never_loses_the_request(
    fake_api: FakeBotApi,
    bot_process: BotStarter,
    forum: bool,
    post_reached_telegram: bool,
    expected_posts: int,
) -> None:
    chat = staff_group(fake_api, forum=forum)
    bot = start_bot(fake_api, bot_process)
    # The staff post hangs; with execute=True Telegram has it but the bot never hears back.
    fake_api.fail_chat(chat, 1, "timeout", methods=["sendMessage"], hold=30, execute=post_reached_telegram)
    number = file_request(fake_api, ANNA)
    fake_api.wait_for_call("sendMessage", lambda c: int(c.params["chat_id"]) == STAFF_CHAT_ID)
    assert bot.kill() != 0

    start_bot(fake_api, bot_process)
    fake_api.wait_for(
        lambda: len(fake_api.messages(chat, message_thread_id=None)) >= expected_posts or None,
        timeout=15,
        message="the staff post after the restart",
    )
    time.sleep(1.5)  # a second copy would come within the outbox tick
    posts = [m for m in fake_api.messages(chat) if f"Anfrage #{number}" in m.content]
    assert len(posts) == expected_posts
    if forum:
        assert len(fake_api.topics(chat)) == 1
        assert {p.message_thread_id for p in posts} == {fake_api.topics(chat)[0].message_thread_id}


def test_a_failing_staff_chat_gets_the_request_once_it_recovers(
    fake_api: FakeBotApi, bot_process: BotStarter
) -> None:
    chat = staff_group(fake_api, forum=False)
    # A short tick, so the test waits for the backoff (1, 2, 4 s …) rather than for the next tick.
    start_bot(fake_api, bot_process, BOT_TICK_SECONDS="0.5")
    only_send = ["sendMessage"]
    fake_api.fail_chat(chat, 1, "timeout", methods=only_send, hold=30)  # the bot gives up waiting first
    fake_api.fail_chat(chat, 1, 502, methods=only_send)
    fake_api.fail_chat(chat, 1, "disconnect", methods=only_send)
    fake_api.fail_chat(chat, 1, 500, methods=only_send, retry_after=1)  # flood control: 429, retry after 1 s
    number = file_request(fake_api, ANNA)
    post = fake_api.wait_for_message(chat, f"Anfrage #{number}", timeout=40)
    assert post.buttons()
    statuses = [c.status for c in fake_api.calls("sendMessage") if int(c.params["chat_id"]) == STAFF_CHAT_ID]
    assert statuses[:4] == ["timeout", 502, "disconnect", 429] and statuses[-1] == 200
    time.sleep(1.5)
    assert len([m for m in fake_api.messages(chat) if f"Anfrage #{number}" in m.content]) == 1


def test_bad_input_forged_buttons_and_outsiders_change_nothing(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    chat = staff_group(fake_api, forum=True)
    bot = start_bot(fake_api, bot_process)

    say(fake_api, ANNA, "/beratung", "Für welche Kommune")
    say(fake_api, ANNA, "x", plain_text("requests.invalid.kommune"))
    land = say(fake_api, ANNA, "Stadt <i>Böse</i> & Söhne", "In welchem Bundesland")
    role = press(fake_api, ANNA, land, "Bayern", "In welcher Rolle")
    topic = press(fake_api, ANNA, role, "Sonstige", "Zu welchem Thema")
    press(fake_api, ANNA, topic, "Sonstiges", "beschreiben Sie Ihre Frage")
    say(fake_api, ANNA, "zu kurz", "Das ist noch etwas knapp")
    say(fake_api, ANNA, "x" * 2001, "bitte fassen Sie sie auf höchstens 2000 Zeichen")
    contact = say(fake_api, ANNA, "Frage mit <script>alert(1)</script> & <b>Markup</b>", "Wie möchten Sie")
    email = press(fake_api, ANNA, contact, "✉️ E-Mail", "E-Mail-Adresse")
    say(fake_api, ANNA, "anna@musterstadt", "nicht nach einer gültigen E-Mail-Adresse")
    privacy = say(fake_api, ANNA, "anna&co@musterstadt.de", "Datenschutz")
    summary = press(fake_api, ANNA, privacy, "✅ Gelesen und einverstanden", "Bitte prüfen Sie")
    assert "Stadt <i>Böse</i> & Söhne" in summary.content and "<script>alert(1)</script>" in summary.content
    # Switch to phone from the summary; a bad number is explained.
    edit = press(fake_api, ANNA, summary, "✏️ Ändern", "Was möchten Sie ändern?")
    kinds = press(fake_api, ANNA, edit, "Kontaktweg", "Wie möchten Sie")
    press(fake_api, ANNA, kinds, "📞 Telefon", "Telefonnummer")
    say(fake_api, ANNA, "12345", "nicht nach einer gültigen Telefonnummer")
    summary = say(fake_api, ANNA, "+49 (0)89 1234567", "Bitte prüfen Sie")
    assert email.message_id != summary.message_id and "Telefon: +49 (0)89 1234567" in summary.content
    number = int(re.findall(r"#(\d+)", press(fake_api, ANNA, summary, "✅ Absenden", "Nummer #").content)[0])

    post = fake_api.wait_for_message(chat, f"Anfrage #{number}")
    assert "Stadt <i>Böse</i> & Söhne" in post.content and "<script>alert(1)</script>" in post.content

    # An outsider pressing "Übernehmen" is refused and nothing changes.
    query = fake_api.press_button(MALLORY, post, text="🙋 Übernehmen")
    answer = fake_api.wait_for(lambda: fake_api.callback_answer(query), message="refusal")
    assert answer["text"] == plain_text("requests.staff.not_staff")
    # A forged press in the outsider's private chat (data that was never on a button there) as well.
    say(fake_api, MALLORY, "/start", "Willkommen")
    forged_id = "9" * 12
    fake_api.push_update(
        {
            "callback_query": {
                "id": forged_id,
                "from": MALLORY.to_api(),
                "chat_instance": "42",
                "data": f"req:set:{number}.erledigt",
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": {"id": MALLORY.id, "type": "private", "first_name": MALLORY.first_name},
                    "text": "x",
                },
            }
        }
    )
    forged = fake_api.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == forged_id
    )
    assert forged.params["text"] == plain_text("requests.staff.not_staff")
    # A stale form button (the form was cancelled) gets a polite answer.
    summary_again = fill_form(fake_api, ANNA, kommune="Zweite Kommune")
    say(fake_api, ANNA, "/abbrechen", "verworfen")
    query = fake_api.press_button(ANNA, summary_again, text="✅ Absenden")
    stale = fake_api.wait_for(lambda: fake_api.callback_answer(query), message="stale answer")
    assert stale["text"] == plain_text("requests.form.stale_button")

    bot.terminate(timeout=5)
    db = tmp_path / "bot.sqlite3"
    assert db_row(db, "SELECT COUNT(*) FROM requests") == (1,)
    assert db_row(db, f"SELECT status, claimed_by, contact_kind FROM requests WHERE id = {number}") == (
        "neu",
        None,
        "phone",
    )
    # Every message the bot sent parsed as HTML (the fake server is strict): no failed calls.
    assert [c for c in failed_calls(fake_api) if c.method != "answerCallbackQuery"] == [], fake_api.describe()


def test_an_unclaimed_request_is_raised_again_once_per_period(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    clock = tmp_path / "clock.txt"
    set_clock(clock, "2026-11-24T10:00:00+00:00")
    chat = staff_group(fake_api, forum=True)
    start_bot(
        fake_api,
        bot_process,
        IJA_LOTSE_TEST_CLOCK_FILE=str(clock),
        BOT_REQUEST_REMINDER_HOURS="24",
        BOT_TICK_SECONDS="0.3",
    )
    number = file_request(fake_api, ANNA, kommune="Stadt Wartedorf")
    post = fake_api.wait_for_message(chat, f"Anfrage #{number}")

    def reminders() -> list[StoredMessage]:
        return [m for m in fake_api.messages(chat) if m.content.startswith("⏰")]

    set_clock(clock, "2026-11-25T09:59:00+00:00")
    time.sleep(1.0)
    assert reminders() == []
    set_clock(clock, "2026-11-25T10:01:00+00:00")
    reminder = fake_api.wait_for_message(chat, "⏰")
    time.sleep(1.0)  # several ticks later: still one
    assert len(reminders()) == 1
    assert reminder.message_thread_id == post.message_thread_id and "Stadt Wartedorf" in reminder.content
    pressed = press(fake_api, SABINE, reminder, "🙋 Übernehmen", "⏰")
    assert pressed.buttons() == []  # the reminder's button has done its job
    fake_api.wait_for(
        lambda: "bei Sabine" in (fake_api.message(chat, post.message_id) or post).content or None,
        message="the request shows who has it",
    )
    set_clock(clock, "2026-11-27T10:00:00+00:00")
    time.sleep(1.0)
    assert len(reminders()) == 1


def test_an_unfinished_form_continues_after_a_restart(fake_api: FakeBotApi, bot_process: BotStarter) -> None:
    staff_group(fake_api, forum=False)
    bot = start_bot(fake_api, bot_process)
    say(fake_api, ANNA, "/beratung", "Für welche Kommune")
    land = say(fake_api, ANNA, "Gemeinde Neustart", "In welchem Bundesland")
    role = press(fake_api, ANNA, land, "Thüringen", "In welcher Rolle")
    exit_code, _ = bot.terminate(timeout=5)
    assert exit_code == 0, bot.output()

    start_bot(fake_api, bot_process)
    topic = press(fake_api, ANNA, role, "Verwaltung / Politik", "Zu welchem Thema")
    press(fake_api, ANNA, topic, "Grundlagen", "beschreiben Sie Ihre Frage")
    contact = say(fake_api, ANNA, QUESTION, "Wie möchten Sie die Antwort")
    privacy = press(fake_api, ANNA, contact, "💬 Telegram (hier im Chat)", "Datenschutz")
    summary = press(fake_api, ANNA, privacy, "✅ Gelesen und einverstanden", "Bitte prüfen Sie")
    assert "Gemeinde Neustart" in summary.content and "Thüringen" in summary.content
    press(fake_api, ANNA, summary, "✅ Absenden", "Nummer #1")
