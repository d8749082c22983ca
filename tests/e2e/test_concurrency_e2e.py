"""Updates are handled side by side across chats and in order within a chat.

A Standortbestimmung typed at machine speed (every answer sent at once, without waiting for the questions) ends in
the same stored result as one typed slowly, while twenty other users ask questions meanwhile and are answered
before the fast one is through: each chat waits only for itself.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from .botprocess import BotStarter
from .fakeapi import FakeBotApi, FakeUser

STEPS = [
    "/standort",
    "Altdorf",
    "Stadt",
    "Bayern",
    "ja",
    "teilweise",
    "nein",
    "ja",
    "nein",
    "teilweise",
    "ja",
    "nein",
]
RESULT = "Ihre Stufe"
LATENCY = 0.2


def stored(db_path: Path, user_id: int) -> tuple[object, ...]:
    with closing(sqlite3.connect(db_path)) as conn:
        row = conn.execute(
            "SELECT kommune, kommune_type, bundesland, answers, stage FROM standort_results WHERE user_id = ?",
            (user_id,),
        ).fetchone()
    assert row is not None, f"no result stored for {user_id}"
    return tuple(row)


def test_machine_speed_form_ends_like_a_slow_one_and_other_chats_go_ahead(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    fast, slow = FakeUser(6001, "Fix"), FakeUser(6002, "Langsam")
    others = [FakeUser(6100 + i, f"O{i}") for i in range(20)]
    for user in (fast, slow, *others):
        fake_api.add_user(user)
    bot_process()
    fake_api.latency = LATENCY  # every Bot API call takes a round trip, as on a real network

    for text in STEPS:  # slowly: each answer after the bot's question
        mark = fake_api.mark()
        fake_api.send_text(slow, text)
        fake_api.wait_for_message(slow, since=mark, timeout=20)
    fake_api.wait_for_message(slow, RESULT, timeout=20)

    mark = fake_api.mark()
    for text in STEPS:  # at machine speed: all at once
        fake_api.send_text(fast, text)
    for user in others:
        fake_api.send_text(user, "Wie finden wir eine Partnerorganisation in Polen?")
    result = fake_api.wait_for_message(fast, RESULT, since=mark, timeout=60)
    answered = [fake_api.wait_for_message(user, since=mark, timeout=60) for user in others]

    assert stored(tmp_path / "bot.sqlite3", fast.id) == stored(tmp_path / "bot.sqlite3", slow.id)
    # The others did not queue behind the fast user's twelve updates, nor behind each other: one after the other
    # they would take at least a round trip each (20 × 0.2 s); side by side the rate limit binds (about 1 s; the
    # bound leaves room for a loaded machine).
    assert sum(a.timestamp < result.timestamp for a in answered) >= len(others) // 2
    span = max(a.timestamp for a in answered) - mark
    assert span < 0.75 * len(others) * LATENCY, span
    assert not [c for c in fake_api.calls() if c.status != 200 and c.method != "getUpdates"], (
        fake_api.describe()
    )
