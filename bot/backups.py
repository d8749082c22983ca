"""Automatic backups: a dated online copy of the database into ``BOT_BACKUP_DIR``, checked, keeping the last N.

Restoring is copying one of these files over ``BOT_DATABASE`` while the bot is stopped (README: "Backups").
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, tzinfo
from pathlib import Path

from bot.db import Database

log = logging.getLogger(__name__)

PREFIX = "ija-lotse-"
# ija-lotse-20261124-033000.sqlite3: local time, so the names sort chronologically and read naturally.
NAME = re.compile(r"^ija-lotse-\d{8}-\d{6}\.sqlite3$")


class BackupError(Exception):
    """The copy did not pass SQLite's integrity check; it was removed and the older backups kept."""


def backup_name(now: datetime, tz: tzinfo) -> str:
    return f"{PREFIX}{now.astimezone(tz):%Y%m%d-%H%M%S}.sqlite3"


def backups_in(folder: Path) -> list[Path]:
    """The automatic backups in ``folder``, oldest first (other files there are never touched)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and NAME.match(p.name))


async def backup_now(db: Database, folder: Path, keep: int, now: datetime, tz: tzinfo) -> Path:
    """Write a checked backup into ``folder`` and delete all but the newest ``keep``; returns the new file."""
    target = folder / backup_name(now, tz)
    await db.backup(target)
    verdict = await asyncio.to_thread(Database.check_integrity, target)
    if verdict != "ok":
        target.unlink(missing_ok=True)
        raise BackupError(f"integrity check failed: {verdict}")
    removed = rotate(folder, keep)
    log.info("backup written: %s (%d older removed)", target.name, len(removed))
    return target


def rotate(folder: Path, keep: int) -> list[Path]:
    """Delete the oldest automatic backups beyond ``keep``; returns what was deleted."""
    existing = backups_in(folder)
    doomed = existing[: max(0, len(existing) - keep)]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed
