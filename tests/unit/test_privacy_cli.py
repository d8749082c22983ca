"""``python -m bot privacy export|erase USER_ID``: the operator's way for requests by e-mail or letter."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from bot.app import MIGRATIONS_DIR
from bot.db import Database
from tests.privacy_scan import traces
from tests.unit.test_config import run_cli

USER = 4_711_000_123


def _store_someone(database: Path) -> None:
    async def fill() -> None:
        db = await Database.open(database)
        try:
            await db.migrate(MIGRATIONS_DIR)
            now = datetime(2026, 5, 1, tzinfo=UTC)
            await db.touch_user(USER, "de", now)
            await db.set_user_land(USER, "BY", now)
            await db.grant_role(USER, "staff", by=1, now=now, via="user_id")
        finally:
            await db.close()

    asyncio.run(fill())


def test_export_then_erase_from_the_command_line(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    _store_someone(database)
    env = {"BOT_DATABASE": str(database)}

    result = run_cli("privacy", "export", str(USER), env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["telegram_nutzer_id"] == USER
    assert data["daten"]["users"]["eintraege"][0]["bundesland"] == "BY"
    assert data["daten"]["roles"]["eintraege"][0]["role"] == "staff"

    refused = run_cli("privacy", "erase", str(USER), env=env)
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert traces(database, USER)

    result = run_cli("privacy", "erase", str(USER), "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert "Rollen: 1" in result.stdout and result.stdout.strip().endswith("erased")
    assert traces(database, USER) == []
