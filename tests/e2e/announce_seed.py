"""Seeds a bot database with a coordinator and many Infobrief subscribers (end-to-end tests and the bench)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.db import MIGRATIONS_DIR, Database

SEEDED_BY = 1  # the "admin" recorded as having granted the coordinator role


async def _seed(
    db_path: Path, coordinator: int, subscribers: Sequence[int], scheduled_body: str | None
) -> int | None:
    db = await Database.open(db_path)
    try:
        await db.migrate(MIGRATIONS_DIR)
        now = datetime.now(UTC)
        await db.grant_role(coordinator, "coordinator", SEEDED_BY, now, "user_id")
        for user_id in subscribers:
            await db.set_subscription(user_id, "announcements", True, now)
        if scheduled_body is None:
            return None
        return await db.create_announcement(
            created_by=coordinator,
            body=scheduled_body,
            button=None,
            laender=[],
            topics=[],
            send_at=now,
            now=now,
        )
    finally:
        await db.close()


def seed(
    db_path: Path, coordinator: int, subscribers: Sequence[int], scheduled_body: str | None = None
) -> int | None:
    """Migrate, make ``coordinator`` a coordinator, subscribe everyone; optionally store an announcement that
    is due now (the bot's periodic tick starts it). Returns the announcement id."""
    return asyncio.run(_seed(db_path, coordinator, subscribers, scheduled_body))


async def _read(db_path: Path, sql: str) -> list[tuple[object, ...]]:
    db = await Database.open(db_path)
    try:
        return [tuple(r) for r in await db.fetchall(sql)]
    finally:
        await db.close()


def query(db_path: Path, sql: str) -> list[tuple[object, ...]]:
    """Read from the bot's database while it runs (WAL allows a second reader)."""
    return asyncio.run(_read(db_path, sql))
