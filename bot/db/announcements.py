"""Announcements: scheduled, sent through the outbox to their audience, their delivery ledger."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.db.core import DatabaseCore, Reader, read_row, to_db_time
from bot.db.outbox import OutboxMixin
from bot.db.subscriptions import AUDIENCE, audience_params


@dataclass(frozen=True, slots=True)
class AnnouncementRow:
    """An announcement and where its sending stands; ``ref`` marks its outbox rows."""

    id: int
    created_by: int
    created_at: datetime
    body: str
    button: tuple[str, str] | None
    laender: tuple[str, ...]
    topics: tuple[str, ...]
    state: str
    send_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    recipients: int | None
    progress_message_id: int | None
    progress_at: datetime | None

    @property
    def ref(self) -> str:
        return f"announcement:{self.id}"


def _announcement_row(row: sqlite3.Row) -> AnnouncementRow:
    audience = json.loads(row["audience"])
    return read_row(
        AnnouncementRow,
        row,
        button=(str(row["button_label"]), str(row["button_url"])) if row["button_url"] else None,
        laender=tuple(audience.get("laender", [])),
        topics=tuple(audience.get("topics", [])),
    )


async def _tally(reader: Reader, ref: str, *, delivered_only: bool = False) -> dict[str, int]:
    """Outbox rows of ``ref``: sent, pending, failed because the user blocked the bot (403), other failures."""
    only = " AND state != 'pending'" if delivered_only else ""
    rows = await reader.fetchall(
        "SELECT state, (state = 'failed' AND error LIKE 'Forbidden%') AS blocked, COUNT(*) AS n "
        f"FROM outbox WHERE ref = ?{only} GROUP BY 1, 2",
        (ref,),
    )
    counts = {"sent": 0, "pending": 0, "blocked": 0, "failed": 0}
    for r in rows:
        counts["blocked" if r["blocked"] else str(r["state"])] += int(r["n"])
    return counts


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    """How the outbox rows of one ref fared (reduced ledgers included)."""

    sent: int
    pending: int
    blocked: int
    failed: int

    @property
    def total(self) -> int:
        return self.sent + self.pending + self.blocked + self.failed


class AnnouncementsMixin(DatabaseCore):
    """Announcements: scheduled, sent through the outbox to their audience, their delivery ledger."""

    async def create_announcement(
        self,
        *,
        created_by: int,
        body: str,
        button: tuple[str, str] | None,
        laender: Sequence[str],
        topics: Sequence[str],
        send_at: datetime,
        now: datetime,
    ) -> int:
        """Store a confirmed announcement as 'scheduled'; ``start_announcement`` writes its recipients."""
        async with self.transaction() as tx:
            return await tx.insert(
                "INSERT INTO announcements (created_by, created_at, body, button_label, button_url, audience, "
                "state, send_at) VALUES (?, ?, ?, ?, ?, ?, 'scheduled', ?)",
                (
                    created_by,
                    to_db_time(now),
                    body,
                    button[0] if button else None,
                    button[1] if button else None,
                    json.dumps({"laender": list(laender), "topics": list(topics)}),
                    to_db_time(send_at),
                ),
            )

    async def start_announcement(
        self, announcement_id: int, *, kind: str, priority: int, payload: dict[str, Any], now: datetime
    ) -> int | None:
        """'scheduled' → 'sending' and one outbox row per recipient, in one transaction; the number of
        recipients, or None when the announcement is not (or no longer) scheduled."""
        async with self.transaction() as tx:
            row = await tx.fetchone(
                "SELECT audience FROM announcements WHERE id = ? AND state = 'scheduled'", (announcement_id,)
            )
            if row is None:
                return None
            audience = json.loads(row["audience"])
            cur = await tx.execute(
                "INSERT INTO outbox (kind, ref, chat_id, payload, priority, not_before, created_at) "
                f"SELECT ?, ?, s.user_id, ?, ?, ?, ? {AUDIENCE} ORDER BY s.user_id",
                (
                    kind,
                    f"announcement:{announcement_id}",
                    json.dumps(payload, ensure_ascii=False),
                    priority,
                    to_db_time(now),
                    to_db_time(now),
                    *audience_params(audience["laender"], audience["topics"]),
                ),
            )
            recipients = cur.rowcount
            await tx.execute(
                "UPDATE announcements SET state = 'sending', started_at = ?, recipients = ? WHERE id = ?",
                (to_db_time(now), recipients, announcement_id),
            )
            return recipients

    async def announcement(self, announcement_id: int) -> AnnouncementRow | None:
        row = await self.fetchone("SELECT * FROM announcements WHERE id = ?", (announcement_id,))
        return _announcement_row(row) if row is not None else None

    async def announcements_in_state(
        self, state: str, due_before: datetime | None = None
    ) -> list[AnnouncementRow]:
        if due_before is None:
            rows = await self.fetchall("SELECT * FROM announcements WHERE state = ? ORDER BY id", (state,))
        else:
            rows = await self.fetchall(
                "SELECT * FROM announcements WHERE state = ? AND send_at <= ? ORDER BY send_at, id",
                (state, to_db_time(due_before)),
            )
        return [_announcement_row(r) for r in rows]

    async def recent_announcements(self, limit: int) -> list[AnnouncementRow]:
        rows = await self.fetchall("SELECT * FROM announcements ORDER BY id DESC LIMIT ?", (limit,))
        return [_announcement_row(r) for r in rows]

    async def cancel_announcement(self, announcement_id: int) -> bool:
        """Cancel a scheduled announcement; False when it is already sending, done or cancelled."""
        cancelled = await self.write(
            "UPDATE announcements SET state = 'cancelled' WHERE id = ? AND state = 'scheduled'",
            (announcement_id,),
        )
        return cancelled == 1

    async def set_announcement_progress(
        self, announcement_id: int, message_id: int | None, at: datetime
    ) -> None:
        await self.write(
            "UPDATE announcements SET progress_message_id = COALESCE(?, progress_message_id), "
            "progress_at = ? WHERE id = ?",
            (message_id, to_db_time(at), announcement_id),
        )

    async def delivery_counts(self, ref: str) -> DeliveryCounts:
        """Outbox rows of one ref: sent, pending, failed because the user blocked the bot (403), other failures."""
        counts = await _tally(self, ref)
        # After retention the rows are gone and their numbers kept in ledger_counts (privacy section).
        reduced = await self.fetchone(
            "SELECT sent, pending, blocked, failed FROM ledger_counts WHERE ref = ?", (ref,)
        )
        if reduced is not None:
            for key in counts:
                counts[key] += int(reduced[key])
        return DeliveryCounts(**counts)

    async def finish_announcement(
        self, announcement_id: int, now: datetime, report: tuple[int, dict[str, Any]] | None
    ) -> bool:
        """'sending' → 'done' and the coordinator's report in the outbox, once; False if already finished."""
        async with self.transaction() as tx:
            cur = await tx.execute(
                "UPDATE announcements SET state = 'done', finished_at = ? WHERE id = ? AND state = 'sending'",
                (to_db_time(now), announcement_id),
            )
            if cur.rowcount != 1:
                return False
            if report is not None:
                await OutboxMixin.enqueue(tx, kind="message", chat_id=report[0], payload=report[1], now=now)
            return True

    async def finished_announcement_refs(self, started_before: datetime) -> list[str]:
        """Refs of announcements that are done, started before the time, and whose ledger is not reduced yet."""
        rows = await self.fetchall(
            "SELECT 'announcement:' || id AS ref FROM announcements WHERE state = 'done' AND started_at < ? "
            "AND NOT EXISTS (SELECT 1 FROM ledger_counts c WHERE c.ref = 'announcement:' || announcements.id) "
            "ORDER BY id",
            (to_db_time(started_before),),
        )
        return [str(r["ref"]) for r in rows]

    async def reduce_ledger(self, ref: str, now: datetime) -> int:
        """Replace the outbox rows of ``ref`` by their counts (sent, pending, blocked, failed) in one
        transaction; returns how many rows went. A second call finds no rows and adds nothing."""
        async with self.transaction() as tx:
            # Pending rows (none in a finished ledger) are never touched: they are promised messages.
            counts = await _tally(tx, ref, delivered_only=True)
            await tx.execute(
                "INSERT INTO ledger_counts (ref, sent, pending, blocked, failed, reduced_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(ref) DO UPDATE SET sent = sent + excluded.sent, "
                "pending = pending + excluded.pending, blocked = blocked + excluded.blocked, "
                "failed = failed + excluded.failed",
                (
                    ref,
                    counts["sent"],
                    counts["pending"],
                    counts["blocked"],
                    counts["failed"],
                    to_db_time(now),
                ),
            )
            cur = await tx.execute("DELETE FROM outbox WHERE ref = ? AND state != 'pending'", (ref,))
            return max(cur.rowcount, 0)
