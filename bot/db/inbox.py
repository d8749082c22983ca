"""The intake's inbox (``bot/intake.py``): updates stored before Telegram is told they arrived."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.db.core import DatabaseCore, from_db_time, to_db_time


class InboxMixin(DatabaseCore):
    """The intake's inbox (``bot/intake.py``): updates stored before Telegram is told they arrived."""

    async def inbox_store(self, updates: Sequence[tuple[int, str, str]], now: datetime) -> list[int]:
        """Store ``(update_id, kind, payload)`` rows; return the ids that were new (a redelivery is ignored)."""
        stamp = to_db_time(now)
        fresh: list[int] = []
        async with self.transaction() as tx:
            for update_id, kind, payload in updates:
                cur = await tx.execute(
                    "INSERT OR IGNORE INTO inbox (update_id, payload, kind, received_at) VALUES (?, ?, ?, ?)",
                    (update_id, payload, kind, stamp),
                )
                if cur.rowcount:
                    fresh.append(update_id)
        return fresh

    async def inbox_resume(self, max_attempts: int) -> tuple[list[int], list[int]]:
        """At start: count one more attempt for every pending row, set aside those that reached
        ``max_attempts``; return (ids still pending, ids set aside now)."""
        async with self.transaction() as tx:
            await tx.execute("UPDATE inbox SET attempts = attempts + 1 WHERE state = 'pending'")
            stale = await tx.fetchall(
                "SELECT update_id FROM inbox WHERE state = 'pending' AND attempts >= ? ORDER BY update_id",
                (max_attempts,),
            )
            await tx.execute(
                "UPDATE inbox SET state = 'set_aside', reason = 'kept failing' "
                "WHERE state = 'pending' AND attempts >= ?",
                (max_attempts,),
            )
            rows = await tx.fetchall("SELECT update_id FROM inbox WHERE state = 'pending' ORDER BY update_id")
        return [int(r["update_id"]) for r in rows], [int(r["update_id"]) for r in stale]

    async def inbox_pending(self, after: int, limit: int) -> list[tuple[int, str]]:
        rows = await self.fetchall(
            "SELECT update_id, payload FROM inbox WHERE state = 'pending' AND update_id > ? "
            "ORDER BY update_id LIMIT ?",
            (after, limit),
        )
        return [(int(r["update_id"]), str(r["payload"])) for r in rows]

    async def inbox_done(self, update_ids: Sequence[int], now: datetime) -> None:
        async with self.transaction() as tx:
            await tx.executemany(
                "UPDATE inbox SET state = 'done', payload = NULL, done_at = ? "
                "WHERE update_id = ? AND state = 'pending'",
                [(to_db_time(now), update_id) for update_id in update_ids],
            )

    async def inbox_set_aside(self, update_id: int, reason: str) -> None:
        await self.write(
            "UPDATE inbox SET state = 'set_aside', reason = ? WHERE update_id = ?", (reason, update_id)
        )

    async def inbox_set_aside_rows(self) -> list[tuple[int, str, str | None, datetime]]:
        rows = await self.fetchall(
            "SELECT update_id, kind, reason, received_at FROM inbox WHERE state = 'set_aside' ORDER BY update_id"
        )
        return [
            (int(r["update_id"]), str(r["kind"]), r["reason"], from_db_time(str(r["received_at"])))
            for r in rows
        ]

    async def inbox_purge(self, handled_before: datetime, set_aside_before: datetime | None = None) -> int:
        """Delete handled rows done before ``handled_before`` and, when given, set-aside rows (they hold the
        update as sent, i.e. personal data) received before ``set_aside_before``."""
        async with self.transaction() as tx:
            cur = await tx.execute(
                "DELETE FROM inbox WHERE state = 'done' AND done_at < ?", (to_db_time(handled_before),)
            )
            purged = max(cur.rowcount, 0)
            if set_aside_before is not None:
                cur = await tx.execute(
                    "DELETE FROM inbox WHERE state = 'set_aside' AND received_at < ?",
                    (to_db_time(set_aside_before),),
                )
                purged += max(cur.rowcount, 0)
            return purged

    async def inbox_counts(self) -> dict[str, int]:
        """Rows per state ('pending', 'done', 'set_aside')."""
        rows = await self.fetchall("SELECT state, count(*) AS n FROM inbox GROUP BY state")
        return {str(r["state"]): int(r["n"]) for r in rows}
