"""Operations, with the bot as a process: polling and webhook pass the same scenario; the webhook refuses
requests without the secret; SIGTERM in the middle of a burst exits cleanly within 10 s and loses nothing; a
backup taken with ``python -m bot backup`` while the bot is busy restores into a working database."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import outbox
from bot.app import MIGRATIONS_DIR
from bot.db import Database

from .botprocess import BotProcess, BotStarter, free_port
from .fakeapi import FakeBotApi, FakeUser

ANNA = FakeUser(1001, "Anna", username="anna_kommune")
BURST = 150


def webhook_env(port: int, secret: str | None = "e2e-secret") -> dict[str, str]:
    env = {
        "BOT_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "BOT_WEBHOOK_LISTEN": "127.0.0.1",
        "BOT_WEBHOOK_PORT": str(port),
    }
    if secret is not None:
        env["BOT_WEBHOOK_SECRET"] = secret
    return env


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_start_privacy_and_export_in_both_modes(
    mode: str, fake_api: FakeBotApi, bot_process: BotStarter
) -> None:
    fake_api.add_user(ANNA)
    bot = bot_process(webhook_env(free_port()) if mode == "webhook" else None)
    if mode == "webhook":
        assert fake_api.webhook_url is not None and not fake_api.polling

    fake_api.send_text(ANNA, "/start")
    welcome = fake_api.wait_for_message(ANNA, "Willkommen", predicate=lambda m: bool(m.callback_data()))
    fake_api.press_button(ANNA, welcome, "menu:datenschutz")
    fake_api.wait_for(
        lambda: "Datenschutzhinweise" in (fake_api.message(ANNA, welcome.message_id) or welcome).content,
        message="the menu edited into the privacy notice",
    )
    mark = fake_api.mark()
    fake_api.send_text(ANNA, "/meine_daten")
    export = fake_api.wait_for_message(ANNA, since=mark, predicate=lambda m: m.document is not None)
    assert export.document is not None
    assert json.loads(export.document.data)["telegram_nutzer_id"] == ANNA.id
    if mode == "webhook":
        # PTB sets the webhook a moment before its server listens, so a first attempt may be refused and
        # retried (as Telegram does); what counts is that every update got in and none was refused as forged.
        deliveries = fake_api.webhook_deliveries()
        assert len({d.update_id for d in deliveries if d.status == 200}) >= 3, deliveries
        assert not [d for d in deliveries if d.status == 403], deliveries
    assert not [c for c in fake_api.calls() if c.status != 200 and c.method != "getUpdates"], (
        fake_api.describe()
    )

    exit_code, elapsed = bot.terminate(timeout=10)
    assert (exit_code, elapsed < 10) == (0, True), bot.output()


def _post(url: str, body: dict[str, object], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_webhook_refuses_requests_without_the_secret(fake_api: FakeBotApi, bot_process: BotStarter) -> None:
    fake_api.add_user(ANNA)
    port = free_port()
    bot = bot_process(webhook_env(port))
    [set_webhook] = [c for c in fake_api.calls("setWebhook") if c.ok]
    assert set_webhook.params["secret_token"] == "e2e-secret"

    forged = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": ANNA.id, "type": "private"},
            "from": ANNA.to_api(),
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    # Telegram (the fake server, sending the header) gets through ...
    fake_api.send_text(ANNA, "/hilfe")
    fake_api.wait_for_message(ANNA, "/themen")
    # ... a request without it or with a wrong one does not, and its update is never processed.
    url = f"http://127.0.0.1:{port}/telegram"
    assert _post(url, forged, secret=None) == 403
    assert _post(url, forged, secret="guessed") == 403
    fake_api.send_text(ANNA, "/hilfe")
    fake_api.wait_for(lambda: len(fake_api.messages(ANNA)) == 2, message="the second help")
    assert not [m for m in fake_api.messages(ANNA) if "Willkommen" in m.content]
    assert bot.terminate(timeout=10).code == 0


def test_webhook_without_configured_secret_uses_a_random_one(
    fake_api: FakeBotApi, bot_process: BotStarter
) -> None:
    fake_api.add_user(ANNA)
    port = free_port()
    bot = bot_process(webhook_env(port, secret=None))
    [set_webhook] = [c for c in fake_api.calls("setWebhook") if c.ok]
    secret = str(set_webhook.params.get("secret_token") or "")
    assert len(secret) >= 32
    assert secret not in bot.output()  # never logged
    fake_api.send_text(ANNA, "/start")
    fake_api.wait_for_message(ANNA, "Willkommen")  # the fake server sends the random secret: accepted
    assert _post(f"http://127.0.0.1:{port}/telegram", {"update_id": 5}, secret=None) == 403
    assert bot.terminate(timeout=10).code == 0


def _queue_burst(database: Path, size: int = BURST) -> None:
    async def fill() -> None:
        db = await Database.open(database)
        try:
            await db.migrate(MIGRATIONS_DIR)
            async with db.transaction() as tx:
                for n in range(size):
                    await db.enqueue(
                        tx,
                        kind=outbox.MESSAGE,
                        chat_id=ANNA.id,
                        payload=outbox.payload(f"Infobrief Nr. {n}"),
                        now=datetime.now(UTC),
                        ref="announcement:1",
                    )
        finally:
            await db.close()

    asyncio.run(fill())


def _outbox_states(database: Path) -> dict[str, int]:
    with closing(sqlite3.connect(database)) as conn:
        return dict(conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())


def _received(api: FakeBotApi) -> list[str]:
    return [m.content for m in api.messages(ANNA) if m.content.startswith("Infobrief")]


def test_sigterm_mid_burst_exits_cleanly_and_loses_nothing(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    database = tmp_path / "bot.sqlite3"
    fake_api.add_user(ANNA)
    _queue_burst(database)
    env = {"BOT_BROADCAST_RATE": "20", "BOT_TICK_SECONDS": "0.2"}
    bot = bot_process(env)
    fake_api.wait_for(lambda: len(_received(fake_api)) >= 20, message="the burst under way")
    # An update arrives while the burst is being sent; it must be answered before the process ends.
    fake_api.send_text(ANNA, "/start")
    fake_api.wait_for(lambda: fake_api.pending_update_count == 0, message="the update fetched")

    exit_code, elapsed = bot.terminate(timeout=10)
    assert exit_code == 0, bot.output()
    assert elapsed < 10
    states = _outbox_states(database)
    received = _received(fake_api)
    assert states.get("failed", 0) == 0
    assert states.get("sent", 0) + states.get("pending", 0) == BURST
    assert states.get("pending", 0) > 0, "SIGTERM did not stop the burst: everything was sent before the exit"
    # Every row marked sent arrived, exactly once (a clean stop leaves no duplicate).
    assert len(received) == len(set(received)) == states["sent"]
    assert [m for m in fake_api.messages(ANNA) if "Willkommen" in m.content]

    # The next start delivers the rest, and nothing twice.
    restarted: BotProcess = bot_process(env)
    fake_api.wait_for(lambda: len(_received(fake_api)) >= BURST, timeout=30, message="the rest delivered")
    assert restarted.terminate(timeout=10).code == 0
    received = _received(fake_api)
    assert sorted(received) == sorted(f"Infobrief Nr. {n}" for n in range(BURST))
    assert _outbox_states(database) == {"sent": BURST}
    assert len([m for m in fake_api.messages(ANNA) if "Willkommen" in m.content]) == 1


def test_backup_while_busy_restores_into_a_working_database(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    rows = 300  # at 20 messages/s the bot is busy for 15 s, far longer than the backup takes
    database, backup = tmp_path / "bot.sqlite3", tmp_path / "backups" / "manual.sqlite3"
    restored = tmp_path / "restored" / "bot.sqlite3"
    fake_api.add_user(ANNA)
    _queue_burst(database, size=rows)
    bot = bot_process({"BOT_BROADCAST_RATE": "20", "BOT_TICK_SECONDS": "0.2"})
    fake_api.wait_for(lambda: len(_received(fake_api)) >= 20, message="the burst under way")
    fake_api.send_text(ANNA, "/start")
    # The operator's command, as the README gives it, while the bot marks rows as sent.
    command = [sys.executable, "-m", "bot", "backup", str(backup)]
    result = subprocess.run(command, env=bot.env, cwd=bot.cwd, capture_output=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode()
    # Ctrl-C stops it as cleanly as SIGTERM.
    exit_code, elapsed = bot.terminate(timeout=10, sig=signal.SIGINT)
    assert (exit_code, elapsed < 10) == (0, True), bot.output()

    with closing(sqlite3.connect(backup)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    in_backup = _outbox_states(backup)
    assert sum(in_backup.values()) == rows and in_backup.get("failed", 0) == 0
    assert in_backup.get("sent", 0) > 0 and in_backup.get("pending", 0) > 0  # a snapshot taken mid-burst
    # Restore as the README says (copy the file, no WAL beside it) and start a bot on it: it answers and goes on
    # with the burst where the backup left it.
    restored.parent.mkdir()
    restored.write_bytes(backup.read_bytes())
    received = len(_received(fake_api))
    mark = fake_api.mark()
    again = bot_process({"BOT_BROADCAST_RATE": "30", "BOT_TICK_SECONDS": "0.2"}, db_path=restored)
    fake_api.send_text(ANNA, "/hilfe")
    fake_api.wait_for_message(ANNA, "/themen", since=mark)
    fake_api.wait_for(lambda: len(_received(fake_api)) >= received + 20, message="the restored bot sending")
    assert again.terminate(timeout=10).code == 0
    with closing(sqlite3.connect(restored)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    after = _outbox_states(restored)
    assert sum(after.values()) == rows and after["sent"] >= in_backup["sent"] + 20
