"""The running bot, erasure, byte for byte: a user's name and what they typed (an unanswerable question with an
e-mail address, a form answer) are gone from the database file, its -wal file and a backup taken afterwards —
including the intake's stored copies of the updates, the erasing ones too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..privacy_scan import byte_traces
from .announce_seed import query
from .botprocess import ROOT, BotStarter
from .fakeapi import FakeBotApi, FakeUser

NAME = "Kanarienname"
KANA = FakeUser(7501, NAME, username="kanarien_nutzer")
QUESTION_WORD = "Quxplimbofrage"
EMAIL = "kanarie@example.org"
KOMMUNE = "Kanariendorf am Lotsensee"


def backup(db_path: Path, target: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update({"BOT_DATABASE": str(db_path), "BOT_TOKEN": "123456:TEST-token"})
    done = subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(target)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_erasure_leaves_no_bytes_in_the_file_the_wal_or_a_later_backup(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    db_path = tmp_path / "bot.sqlite3"
    fake_api.add_user(KANA)
    bot = bot_process()
    fake_api.send_text(KANA, "/start")
    fake_api.wait_for_message(KANA, "Willkommen")
    mark = fake_api.mark()
    fake_api.send_text(KANA, f"Gibt es {QUESTION_WORD} für Zirkusflöhe? Antwort an {EMAIL}")
    fake_api.wait_for_message(KANA, "keine sichere Antwort", since=mark)
    fake_api.send_text(KANA, "/beratung")
    fake_api.wait_for_message(KANA, "Kommune", since=mark)
    mark = fake_api.mark()
    fake_api.send_text(KANA, KOMMUNE)
    fake_api.wait_for_message(KANA, "Bundesland", since=mark)
    files = [db_path, db_path.with_name(db_path.name + "-wal")]
    canaries = (NAME, QUESTION_WORD, KOMMUNE, EMAIL, "kanarien_nutzer")
    assert byte_traces(files, *canaries)  # the scan sees them while they are stored

    mark = fake_api.mark()
    fake_api.send_text(KANA, "/loeschen")
    confirm = fake_api.wait_for_message(KANA, "löschen?", since=mark)
    fake_api.press_button(KANA, confirm, text="Ja, alles löschen")
    fake_api.wait_for_message(KANA, "gelöscht", since=mark)
    fake_api.wait_for(
        lambda: not query(db_path, "SELECT 1 FROM inbox WHERE state = 'pending'") or None,
        message="the erasing updates marked done",
    )
    after = tmp_path / "after.sqlite3"
    backup(db_path, after)
    assert byte_traces([*files, after], *canaries) == []
    assert bot.running
    exit_code, _ = bot.terminate(timeout=5)
    assert exit_code == 0, bot.output()
