"""The outbox: messages written with the state change they belong to, sent later by ``bot.outbox``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.db.core import DatabaseCore, Tx, to_db_time


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A message to send (or sent): ``payload`` is what ``bot.outbox`` hands to Telegram."""

    id: int
    kind: str
    ref: str | None
    chat_id: int
    payload: dict[str, Any]
    priority: int
    state: str
    attempts: int
    not_before: datetime
    created_at: datetime
    message_id: int | None
    error: str | None


class OutboxMixin(DatabaseCore):
    """The outbox: messages written with the state change they belong to, sent later by ``bot.outbox``."""

    @staticmethod
    async def enqueue(
        tx: Tx,
        *,
        kind: str,
        chat_id: int,
        payload: dict[str, Any],
        now: datetime,
        ref: str | None = None,
        priority: int = 0,
        not_before: datetime | None = None,
    ) -> int:
        """Add an outbox row inside the caller's transaction (with the state change it belongs to)."""
        return await tx.insert(
            "INSERT INTO outbox (kind, ref, chat_id, payload, priority, not_before, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                kind,
                ref,
                chat_id,
                json.dumps(payload, ensure_ascii=False),
                priority,
                to_db_time(not_before or now),
                to_db_time(now),
            ),
        )

    async def due_outbox(self, now: datetime, limit: int) -> list[OutboxRow]:
        return await self.fetch_rows(
            OutboxRow,
            "SELECT * FROM outbox WHERE state = 'pending' AND not_before <= ? "
            "ORDER BY priority, not_before, id LIMIT ?",
            (to_db_time(now), limit),
        )

    async def next_outbox_due(self) -> datetime | None:
        return await self.fetch_time("SELECT MIN(not_before) FROM outbox WHERE state = 'pending'")

    async def outbox_row(self, row_id: int) -> OutboxRow | None:
        return await self.fetch_row(OutboxRow, "SELECT * FROM outbox WHERE id = ?", (row_id,))

    async def outbox_by_ref(self, ref: str) -> list[OutboxRow]:
        return await self.fetch_rows(OutboxRow, "SELECT * FROM outbox WHERE ref = ? ORDER BY id", (ref,))

    @staticmethod
    async def mark_outbox_sent(tx: Tx, row_id: int, message_id: int | None, now: datetime) -> None:
        await tx.execute(
            "UPDATE outbox SET state = 'sent', sent_at = ?, message_id = ?, attempts = attempts + 1, error = NULL "
            "WHERE id = ?",
            (to_db_time(now), message_id, row_id),
        )

    async def retry_outbox(self, row_id: int, not_before: datetime, error: str) -> None:
        await self.write(
            "UPDATE outbox SET attempts = attempts + 1, not_before = ?, error = ? WHERE id = ?",
            (to_db_time(not_before), error, row_id),
        )

    async def postpone_outbox(self, row_id: int, not_before: datetime, error: str) -> None:
        """Move a row later without counting an attempt (flood control is not the row's fault)."""
        await self.write(
            "UPDATE outbox SET not_before = ?, error = ? WHERE id = ?",
            (to_db_time(not_before), error, row_id),
        )

    @staticmethod
    async def fail_outbox(tx: Tx, row_id: int, error: str) -> None:
        await tx.execute(
            "UPDATE outbox SET state = 'failed', attempts = attempts + 1, error = ? WHERE id = ?",
            (error, row_id),
        )

    async def outbox_counts(self, ref: str) -> dict[str, int]:
        rows = await self.fetchall(
            "SELECT state, COUNT(*) AS n FROM outbox WHERE ref = ? GROUP BY state", (ref,)
        )
        return {str(r["state"]): int(r["n"]) for r in rows}

    @staticmethod
    async def delete_outbox_ref(tx: Tx, ref: str) -> int:
        """Every outbox row about ``ref`` (pending ones too): they carry the erased person's words."""
        cur = await tx.execute("DELETE FROM outbox WHERE ref = ?", (ref,))
        return max(cur.rowcount, 0)

    async def request_outbox_rows(self, user_id: int) -> list[OutboxRow]:
        """Outbox rows about the user's requests, to them and to the staff (for /meine_daten)."""
        return await self.fetch_rows(
            OutboxRow,
            "SELECT o.* FROM outbox o JOIN requests r ON o.ref = 'request:' || r.id "
            "WHERE r.user_id = ? ORDER BY o.id",
            (user_id,),
        )

    async def purge_finished_outbox(self, cutoff: datetime) -> int:
        """Delete sent rows (by ``sent_at``) and failed rows (by ``created_at``) older than ``cutoff``;
        pending rows are never touched."""
        stamp = to_db_time(cutoff)
        deleted = await self.write(
            "DELETE FROM outbox WHERE (state = 'sent' AND COALESCE(sent_at, created_at) < ?) "
            "OR (state = 'failed' AND created_at < ?)",
            (stamp, stamp),
        )
        return max(deleted, 0)
