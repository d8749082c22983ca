"""Reminders of events and funding deadlines, and the programme follows they come from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.db.core import DatabaseCore, Reader, Tx, narrow, to_db_time
from bot.db.events import add_follow, remove_follow


@dataclass(frozen=True, slots=True)
class ReminderPlan:
    """A reminder that should exist: who, about what, for which occurrence, how many days before, when."""

    user_id: int
    subject: str
    target_at: datetime
    lead_days: int
    due_at: datetime

    @property
    def key(self) -> tuple[int, str, datetime, int]:
        return (self.user_id, self.subject, self.target_at, self.lead_days)


@dataclass(frozen=True, slots=True)
class ReminderRow:
    """A stored reminder: pending until it is sent, dropped or skipped."""

    id: int
    user_id: int
    subject: str
    target_at: datetime
    lead_days: int
    due_at: datetime
    state: str
    outbox_id: int | None
    created_at: datetime
    done_at: datetime | None

    @property
    def key(self) -> tuple[int, str, datetime, int]:
        return (self.user_id, self.subject, self.target_at, self.lead_days)


class RemindersMixin(DatabaseCore):
    """Reminders of events and funding deadlines, and the programme follows they come from."""

    @staticmethod
    async def follow_programme(tx: Tx, programme: str, user_id: int, now: datetime) -> bool:
        return await add_follow(tx, "deadline_follows", "programme", programme, user_id, now)

    @staticmethod
    async def unfollow_programme(tx: Tx, programme: str, user_id: int) -> bool:
        return await remove_follow(tx, "deadline_follows", "programme", programme, user_id)

    async def followed_programmes(self, user_id: int) -> set[str]:
        rows = await self.fetchall("SELECT programme FROM deadline_follows WHERE user_id = ?", (user_id,))
        return {str(r["programme"]) for r in rows}

    @staticmethod
    async def programme_follow_targets(
        tx: Tx, *, user_id: int | None = None
    ) -> list[tuple[int, str, str | None]]:
        """(user_id, programme, the user's Bundesland) of every programme follow, within the given scope."""
        sql, params = narrow(
            "SELECT f.user_id, f.programme, u.bundesland FROM deadline_follows f"
            " LEFT JOIN users u ON u.id = f.user_id",
            (),
            {"f.user_id": user_id},
        )
        rows = await tx.fetchall(sql, params)
        return [(int(r[0]), str(r[1]), r[2]) for r in rows]

    @staticmethod
    async def deadline_subscribers(tx: Tx, *, user_id: int | None = None) -> list[tuple[int, str | None]]:
        """(user_id, Bundesland) of users subscribed to reminders of every funding deadline."""
        sql, params = narrow(
            "SELECT s.user_id, u.bundesland FROM subscriptions s LEFT JOIN users u ON u.id = s.user_id"
            " WHERE s.deadline_reminders = 1",
            (),
            {"s.user_id": user_id},
        )
        rows = await tx.fetchall(sql, params)
        return [(int(r[0]), r[1]) for r in rows]

    @staticmethod
    async def pending_reminders(
        tx: Tx, after: datetime, *, user_id: int | None = None, subject: str | None = None
    ) -> list[ReminderRow]:
        """Pending reminders whose target is still after ``after``, within the given scope."""
        sql, params = narrow(
            "SELECT * FROM reminders WHERE state = 'pending' AND target_at > ?",
            (to_db_time(after),),
            {"user_id": user_id, "subject": subject},
        )
        return await tx.fetch_rows(ReminderRow, sql, params)

    @staticmethod
    async def add_reminders(tx: Tx, plans: Iterable[ReminderPlan], now: datetime) -> int:
        """Insert planned reminders; one that exists in any state (already sent, say) is left alone."""
        added = 0
        for plan in plans:
            cur = await tx.execute(
                "INSERT INTO reminders (user_id, subject, target_at, lead_days, due_at, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(user_id, subject, target_at, lead_days) DO NOTHING",
                (
                    plan.user_id,
                    plan.subject,
                    to_db_time(plan.target_at),
                    plan.lead_days,
                    to_db_time(plan.due_at),
                    to_db_time(now),
                ),
            )
            added += cur.rowcount
        return added

    @staticmethod
    async def delete_pending_reminders(tx: Tx, ids: Iterable[int]) -> None:
        await tx.executemany("DELETE FROM reminders WHERE id = ? AND state = 'pending'", [(i,) for i in ids])

    async def due_reminders(self, now: datetime, limit: int) -> list[ReminderRow]:
        return await self.fetch_rows(
            ReminderRow,
            "SELECT * FROM reminders WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?",
            (to_db_time(now), limit),
        )

    async def next_reminder_due(self) -> datetime | None:
        return await self.fetch_time("SELECT MIN(due_at) FROM reminders WHERE state = 'pending'")

    @staticmethod
    async def finish_reminder(
        tx: Tx, reminder_id: int, state: str, now: datetime, outbox_id: int | None = None
    ) -> bool:
        """Mark a pending reminder sent/dropped/skipped; False when it was not pending any more."""
        cur = await tx.execute(
            "UPDATE reminders SET state = ?, done_at = ?, outbox_id = ? WHERE id = ? AND state = 'pending'",
            (state, to_db_time(now), outbox_id, reminder_id),
        )
        return cur.rowcount == 1

    @staticmethod
    async def reminder_is_pending(tx: Tx, reminder_id: int) -> bool:
        row = await tx.fetchone("SELECT 1 FROM reminders WHERE id = ? AND state = 'pending'", (reminder_id,))
        return row is not None

    async def reminders_of(self, user_id: int) -> list[ReminderRow]:
        return await self.fetch_rows(
            ReminderRow, "SELECT * FROM reminders WHERE user_id = ? ORDER BY due_at, id", (user_id,)
        )

    async def reminder(self, reminder_id: int) -> ReminderRow | None:
        return await self.fetch_row(ReminderRow, "SELECT * FROM reminders WHERE id = ?", (reminder_id,))

    async def withdraw_reminder(self, reminder_id: int, now: datetime) -> None:
        """A reminder handed to the outbox but out of date before it went out: recorded as dropped."""
        await self.write(
            "UPDATE reminders SET state = 'dropped', done_at = ? WHERE id = ? AND state = 'sent'",
            (to_db_time(now), reminder_id),
        )

    async def reminded_users(self, subject: str, tx: Tx | None = None) -> list[int]:
        """Users a reminder about ``subject`` was sent to (they know of it, so they hear of its changes)."""
        sql = "SELECT DISTINCT user_id FROM reminders WHERE subject = ? AND state = 'sent' ORDER BY user_id"
        reader: Reader = self if tx is None else tx
        rows = await reader.fetchall(sql, (subject,))
        return [int(r["user_id"]) for r in rows]

    @staticmethod
    async def forget_follower(tx: Tx, user_id: int) -> None:
        """A user who blocked the bot: no more follows, no pending reminders."""
        await tx.execute("DELETE FROM event_follows WHERE user_id = ?", (user_id,))
        await tx.execute("DELETE FROM deadline_follows WHERE user_id = ?", (user_id,))
        await tx.execute("DELETE FROM reminders WHERE user_id = ? AND state = 'pending'", (user_id,))
