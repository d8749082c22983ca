"""Under 10 % injected 500/502/lost/slow answers for 30 seconds: every question and every press gets an answer or
a clear error message, the outbox loses nothing, and the log has no ERROR line (no defect; expected conditions
are INFO/WARNING lines without tracebacks, counted).

Eight users in parallel each open the topics (/themen), press the first topic and ask a free-text question, again
and again; meanwhile an announcement goes out to 120 subscribers through the outbox.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .announce_seed import query, seed
from .botprocess import BotStarter
from .fakeapi import FakeBotApi, FakeUser, StoredMessage

DURATION = 30.0
RATE = 0.10
ANSWER_WITHIN = 25.0  # an outbox message after the API recovered may take a few ticks and retries
USERS = [FakeUser(6100 + n, f"Nutzer{n}") for n in range(8)]
COORD = FakeUser(6001, "Koordination")
SUBSCRIBERS = [FakeUser(6300 + n, f"Abo{n}") for n in range(120)]
BODY = "Infobrief Dezember: neue Förderrunden"
QUESTION = "Wie beantragt man ein Solidaritätsprojekt?"
ERROR_TEXTS = ("etwas schiefgelaufen", "Störung bei Telegram")


def changed_since(api: FakeBotApi, user: FakeUser, mark: float) -> list[StoredMessage]:
    return [m for m in api.messages(user) if m.last_change > mark]


def is_error(message: StoredMessage) -> bool:
    return any(text in message.content for text in ERROR_TEXTS)


def user_loop(
    api: FakeBotApi, user: FakeUser, until: float, outcomes: Counter[str], lock: threading.Lock
) -> None:
    def record(what: str) -> None:
        with lock:
            outcomes[what] += 1

    while time.monotonic() < until:
        # A question: any new message (the answer, or a clear error message) counts.
        mark = api.mark()
        api.send_text(user, QUESTION)
        try:
            reply = api.wait_for(
                lambda m=mark: next(iter(changed_since(api, user, m)), None), ANSWER_WITHIN, "answer"
            )
            record("question: error message" if is_error(reply) else "question: answered")
        except TimeoutError:
            record("question: NO ANSWER")
        # The topics menu, then a press on its first topic.
        mark = api.mark()
        api.send_text(user, "/themen")
        try:
            menu = api.wait_for_message(
                user, since=mark, timeout=ANSWER_WITHIN, predicate=lambda m: bool(m.buttons())
            )
        except TimeoutError:
            record(
                "menu: no menu (error message)"
                if any(map(is_error, changed_since(api, user, mark)))
                else "menu: NO ANSWER"
            )
            continue
        mark = api.mark()
        try:
            query_id = api.press_button(user, menu, text=menu.button_texts()[0])
        except LookupError:
            continue  # the menu changed meanwhile (a duplicate reply); not a press
        try:
            api.wait_for(
                lambda q=query_id, m=mark: (
                    api.callback_answer(q) or next(iter(changed_since(api, user, m)), None)
                ),
                ANSWER_WITHIN,
                "press feedback",
            )
            errors = [m for m in changed_since(api, user, mark) if is_error(m)]
            record("press: error message" if errors else "press: answered")
        except TimeoutError:
            record("press: NO FEEDBACK")


def test_every_question_and_press_is_answered_under_injected_faults(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    db_path = tmp_path / "bot.sqlite3"
    for user in [*USERS, COORD, *SUBSCRIBERS]:
        fake_api.add_user(user)
    seed(db_path, COORD.id, [u.id for u in SUBSCRIBERS], scheduled_body=BODY)
    bot = bot_process({"BOT_BROADCAST_RATE": "5"})  # the announcement's sends spread over the run
    # Slow answers of up to 8 s: some outlast the 5 s read timeout (a TimedOut, tried again or reported).
    fake_api.random_faults(RATE, seed=20261204, slow=(1.0, 8.0))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    until = time.monotonic() + DURATION
    with ThreadPoolExecutor(len(USERS)) as pool:
        for future in [pool.submit(user_loop, fake_api, u, until, outcomes, lock) for u in USERS]:
            future.result()
    fake_api.random_faults(0)

    # The outbox loses nothing: every subscriber gets the announcement once the faults stop.
    def delivered() -> int:
        return sum(1 for u in SUBSCRIBERS if any(BODY in m.content for m in fake_api.messages(u)))

    fake_api.wait_for(lambda: delivered() == len(SUBSCRIBERS) or None, timeout=60, message="announcement")
    fake_api.wait_for(
        lambda: not query(db_path, "SELECT 1 FROM outbox WHERE state = 'pending'") or None,
        timeout=30,
        message="outbox drained",
    )
    failed_rows = query(db_path, "SELECT kind, error FROM outbox WHERE state = 'failed'")

    exit_code, _ = bot.terminate(timeout=10)
    output = bot.output()
    error_lines = [line for line in output.splitlines() if re.search(r" (ERROR|CRITICAL) ", line)]
    warnings = [line for line in output.splitlines() if " WARNING " in line]
    summary = [line for line in output.splitlines() if "expected conditions:" in line]
    report = (
        f"outcomes: {dict(sorted(outcomes.items()))}\ninjected: {fake_api.injected}\n"
        f"{summary}\nWARNING lines: {len(warnings)}, ERROR lines: {len(error_lines)}\n"
        + "\n".join(error_lines[:20])
    )
    print(report)
    assert exit_code == 0, output
    assert sum(outcomes.values()) >= 8 * len(USERS), report
    assert not [k for k in outcomes if "NO " in k], report
    assert sum(fake_api.injected.values()) >= 30, report
    assert failed_rows == [], failed_rows
    assert error_lines == [], report
