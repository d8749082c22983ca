"""An update the library cannot parse is set aside once and the bot moves on (polling and webhook mode).

Before the durable intake, one such update stopped everything: it was fetched again at once, forever, with a
CRITICAL traceback each time. Here it sits between normal updates: those are answered within a second, the bad
one is logged once (id and kind, no content), ``python -m bot inbox`` lists it, and the log grows by a few lines.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .botprocess import ROOT, BotStarter, free_port
from .fakeapi import FakeBotApi, FakeUser
from .test_operations_e2e import webhook_env

USERS = [FakeUser(5101 + n, f"Nutzer{n}") for n in range(4)]
BAD_SENDER = FakeUser(5199, "Kaputt")


def inbox_listing(db_path: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update({"BOT_DATABASE": str(db_path), "BOT_TOKEN": "123456:TEST-token"})
    done = subprocess.run(
        [sys.executable, "-m", "bot", "inbox"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_unparseable_update_is_set_aside_and_the_others_are_answered(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path, mode: str
) -> None:
    env = webhook_env(free_port()) if mode == "webhook" else {}
    bot = bot_process(env)
    for user in [*USERS, BAD_SENDER]:
        fake_api.add_user(user)
    fake_api.send_text(USERS[0], "/start")  # warm-up: the first answer after the start
    fake_api.wait_for_message(USERS[0], "Willkommen", timeout=15)
    log_before = len(bot.output().encode())

    mark = fake_api.mark()
    started = time.monotonic()
    fake_api.send_text(USERS[1], "/start")
    bad_date = fake_api.push_unparseable(BAD_SENDER, "date")
    fake_api.send_text(USERS[2], "/start")
    bad_chat = fake_api.push_unparseable(BAD_SENDER, "chat")
    fake_api.send_text(USERS[3], "/start")
    for user in USERS[1:]:
        fake_api.wait_for_message(user, "Willkommen", since=mark, timeout=5)
    assert time.monotonic() - started < 1.0, (
        "the updates around the bad ones were not answered within a second"
    )

    # Nothing keeps fetching or logging: a few seconds later the log has grown by a few lines, not megabytes.
    polls_before = fake_api.received_count("getUpdates")
    time.sleep(2)
    if mode == "polling":
        assert fake_api.received_count("getUpdates") - polls_before <= 3  # long polls, no busy loop
    output = bot.output()
    grown = output.encode()[log_before:].decode(errors="replace")
    assert len(grown) < 4000, grown
    for bad in (bad_date, bad_chat):
        assert output.count(f"update {bad} set aside") == 1, output
    assert "Traceback" not in grown and "CRITICAL" not in grown, grown
    assert "Geheimtext" not in output  # the content is never logged
    assert not [m for m in fake_api.messages(BAD_SENDER)], "the bad updates were not handled"

    listing = inbox_listing(tmp_path / "bot.sqlite3")
    assert "set_aside 2" in listing, listing
    for bad in (bad_date, bad_chat):
        assert f"{bad}  message" in listing, listing
    assert "Geheimtext" not in listing

    exit_code, _ = bot.terminate(timeout=5)
    assert exit_code == 0, bot.output()
