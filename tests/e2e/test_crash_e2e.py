"""kill -9 at random moments: a staff reply, a form answer, a confirmation and a button press are never lost.

Each trial sends the four at once, kills the bot a random few milliseconds later (before, while or after it
fetched, stored, handled and committed them), starts it again and checks that every one took effect: the reply
reached the requester, the form moved on, the request was filed, the press was answered — each at most twice
(one duplicate per crash). Polling and webhook mode alike.
"""

from __future__ import annotations

import random
import re
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from .botprocess import BotProcess, BotStarter, free_port
from .fakeapi import FakeBotApi, FakeChat, FakeUser, StoredMessage
from .test_operations_e2e import webhook_env
from .test_requests_e2e import ANNA, SABINE, STAFF_CHAT_ID, file_request, press, say, staff_group

TRIALS = 30
BERT = FakeUser(3101, "Bert")  # answers a form step
DORA = FakeUser(3103, "Dora")  # presses a button
ASK_KOMMUNE = "Für welche Kommune"
ASK_LAND = "In welchem Bundesland"


def count_requests(db_path: Path, user_id: int) -> int:
    with closing(sqlite3.connect(db_path)) as conn:
        row = conn.execute("SELECT count(*) FROM requests WHERE user_id = ?", (user_id,)).fetchone()
        return int(row[0])


def restart(api: FakeBotApi, bot_process: BotStarter, env: dict[str, str], webhook: bool) -> BotProcess:
    method = "setWebhook" if webhook else "getUpdates"
    before = api.received_count(method)
    bot = bot_process(env, wait=False)
    api.wait_for(lambda: api.received_count(method) > before or None, timeout=30, message="restart")
    return bot


def occurrences(api: FakeBotApi, chat: FakeUser | FakeChat, text: str, since: float) -> int:
    return len([m for m in api.messages(chat) if text in m.content and m.last_change >= since])


def answers(api: FakeBotApi, query_id: str) -> int:
    return len(
        [
            c
            for c in api.calls("answerCallbackQuery")
            if c.ok and c.params.get("callback_query_id") == query_id
        ]
    )


def edited(api: FakeBotApi, message: StoredMessage, since: float) -> int:
    current = api.message(message.chat_id, message.message_id)
    return int(current is not None and current.last_change >= since and current.content != message.content)


def summary_for(api: FakeBotApi, user: FakeUser, kommune: str) -> StoredMessage:
    say(api, user, "/abbrechen", "")
    say(api, user, "/beratung", ASK_KOMMUNE)
    land = say(api, user, kommune, ASK_LAND)
    [niedersachsen] = [b["callback_data"] for b in land.buttons() if b["text"].endswith("Niedersachsen")]
    mark = api.mark()
    api.press_button(user, land, niedersachsen)  # marked ✓ once the Land is known
    role = api.wait_for_message(user, "In welcher Rolle", since=mark)
    topic = press(api, user, role, "Jugendamt / Jugendpflege", "Zu welchem Thema")
    question = press(api, user, topic, "Förderung", "beschreiben Sie Ihre Frage")
    contact = say(api, user, "Wie finden wir einen Partner in Polen?", "Wie möchten Sie die Antwort")
    privacy = press(api, user, contact, "💬 Telegram (hier im Chat)", "Datenschutz")
    del question
    return press(api, user, privacy, "✅ Gelesen und einverstanden", "Bitte prüfen Sie Ihre Anfrage")


def effects(
    api: FakeBotApi,
    db_path: Path,
    mark: float,
    reply: str,
    clara: FakeUser,
    filed_before: int,
    menu: StoredMessage,
    query: str,
) -> dict[str, Callable[[], int]]:
    """How often each of the trial's four updates took effect so far."""
    return {
        "staff reply": lambda: occurrences(api, ANNA, reply, mark),
        "form answer": lambda: occurrences(api, BERT, ASK_LAND, mark),
        "confirmation": lambda: count_requests(db_path, clara.id) - filed_before,
        # The press's effect: the menu moved on (its answer may come too late for Telegram after a restart).
        "button press": lambda: edited(api, menu, mark) or answers(api, query),
    }


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_kill_at_random_moments_loses_nothing(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path, mode: str
) -> None:
    webhook = mode == "webhook"
    env = {"BOT_STAFF_CHAT_ID": str(STAFF_CHAT_ID), **(webhook_env(free_port()) if webhook else {})}
    chat = staff_group(fake_api, forum=False)
    for user in (ANNA, SABINE, BERT, DORA):
        fake_api.add_user(user)
    db_path = tmp_path / "bot.sqlite3"
    rng = random.Random(20261204)

    bot = restart(fake_api, bot_process, env, webhook)
    number = file_request(fake_api, ANNA)
    post = fake_api.wait_for_message(chat, f"Anfrage #{number}")
    press(fake_api, SABINE, post, "🙋 Übernehmen", "in Bearbeitung")
    lost: list[str] = []
    duplicates = 0
    for trial in range(TRIALS):
        # Set-up outside the crash window: Bert stands at the form's first question, Clara at her summary,
        # Dora has a topic menu.
        say(fake_api, BERT, "/abbrechen", "")
        say(fake_api, BERT, "/beratung", ASK_KOMMUNE)
        clara = fake_api.add_user(FakeUser(4000 + trial, "Clara"))  # confirms a request (a new one each time)
        summary = summary_for(fake_api, clara, f"Gemeinde {trial}")
        menu = say(fake_api, DORA, "/themen", "")
        filed_before = count_requests(db_path, clara.id)
        label = menu.button_texts()[0]

        mark = fake_api.mark()
        reply = f"Antwort {trial}: bitte melden Sie sich"
        fake_api.send_text(SABINE, reply, chat=chat, reply_to=post)
        fake_api.send_text(BERT, f"Kommune {trial}")
        fake_api.press_button(clara, summary, text="✅ Absenden")
        query = fake_api.press_button(DORA, menu, text=label)
        time.sleep(
            rng.uniform(0.0, 0.08)
        )  # the crash lands anywhere from before the fetch to after the commit
        assert bot.kill() < 0
        bot = restart(fake_api, bot_process, env, webhook)

        checks = effects(fake_api, db_path, mark, reply, clara, filed_before, menu, query)
        for name, check in checks.items():
            try:
                seen = fake_api.wait_for(lambda c=check: c() or None, timeout=15, message=name)
            except TimeoutError:
                lost.append(f"trial {trial}: {name}")
                continue
            assert seen <= 2, f"trial {trial}: {name} took effect {seen} times"
            duplicates += seen - 1
        # The requester learns the number: from the confirmation, or, when the crash came between storing the
        # request and telling her, from the replayed press ("bereits abgeschickt … Nummer #n").
        filed = fake_api.wait_for_message(clara, "Nummer #", since=mark, timeout=15)
        assert re.search(r"Nummer #\d+", filed.content)
    assert lost == []
    assert duplicates <= TRIALS
    bot.terminate()
