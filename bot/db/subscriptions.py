"""Subscriptions (announcements, event and deadline reminders, topics) and their audience."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.db.core import DatabaseCore, Tx, read_row, to_db_time

SUBSCRIPTION_KINDS = ("announcements", "event_reminders", "deadline_reminders")


def _check_kind(kind: str) -> None:
    if kind not in SUBSCRIPTION_KINDS:
        raise ValueError(f"unknown subscription kind {kind!r}")


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    """What a user subscribed to; no topics means every topic. ``ended`` says why all went off (blocked)."""

    user_id: int
    announcements: bool
    event_reminders: bool
    deadline_reminders: bool
    topics: frozenset[str]
    updated_at: datetime
    ended: str | None

    def wants(self, kind: str) -> bool:
        _check_kind(kind)
        return bool(getattr(self, kind))


@dataclass(frozen=True, slots=True)
class SubscriptionStats:
    """The counts /statistik shows."""

    announcements: int
    event_reminders: int
    deadline_reminders: int
    by_land: tuple[tuple[str | None, int], ...]
    by_topic: tuple[tuple[str, int], ...]
    all_topics: int  # users with a subscription who chose no topic (= every topic)


# Announcement subscribers matching an audience: within a dimension any value matches, across dimensions all
# must; an empty list means "everyone"; a user who chose no topics is interested in every topic.
AUDIENCE = (
    "FROM subscriptions s LEFT JOIN users u ON u.id = s.user_id "
    "WHERE s.announcements = 1 "
    "AND (json_array_length(?) = 0 OR u.bundesland IN (SELECT value FROM json_each(?))) "
    "AND (json_array_length(?) = 0 "
    "  OR NOT EXISTS (SELECT 1 FROM subscription_topics t WHERE t.user_id = s.user_id) "
    "  OR EXISTS (SELECT 1 FROM subscription_topics t WHERE t.user_id = s.user_id "
    "             AND t.topic IN (SELECT value FROM json_each(?))))"
)


def audience_params(laender: Sequence[str], topics: Sequence[str]) -> tuple[str, str, str, str]:
    lands, tops = json.dumps(list(laender)), json.dumps(list(topics))
    return lands, lands, tops, tops


class SubscriptionsMixin(DatabaseCore):
    """Subscriptions (announcements, event and deadline reminders, topics) and their audience."""

    async def subscription(self, user_id: int) -> SubscriptionRow | None:
        row = await self.fetchone("SELECT * FROM subscriptions WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        topics = await self.fetchall(
            "SELECT topic FROM subscription_topics WHERE user_id = ? ORDER BY topic", (user_id,)
        )
        return read_row(SubscriptionRow, row, topics=frozenset(str(t["topic"]) for t in topics))

    async def offer_subscriptions(self, user_id: int, now: datetime) -> bool:
        """Record that the user was offered subscriptions (nothing switched on); True the first time only."""
        added = await self.write(
            "INSERT INTO subscriptions (user_id, updated_at) VALUES (?, ?) ON CONFLICT(user_id) DO NOTHING",
            (user_id, to_db_time(now)),
        )
        return added == 1

    async def set_subscription(self, user_id: int, kind: str, on: bool, now: datetime) -> None:
        """Switch one subscription kind on or off (the user's own choice clears an earlier 'blocked' end)."""
        _check_kind(kind)
        await self.write(
            f"INSERT INTO subscriptions (user_id, {kind}, updated_at) VALUES (?, ?, ?) "
            f"ON CONFLICT(user_id) DO UPDATE SET {kind} = excluded.{kind}, "
            "updated_at = excluded.updated_at, ended = NULL",
            (user_id, int(on), to_db_time(now)),
        )

    async def set_subscription_topic(self, user_id: int, topic: str, on: bool, now: datetime) -> None:
        async with self.transaction() as tx:
            await tx.execute(
                "INSERT INTO subscriptions (user_id, updated_at) VALUES (?, ?) "
                "ON CONFLICT(user_id) DO UPDATE SET updated_at = excluded.updated_at",
                (user_id, to_db_time(now)),
            )
            if on:
                await tx.execute(
                    "INSERT INTO subscription_topics (user_id, topic) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (user_id, topic),
                )
            else:
                await tx.execute(
                    "DELETE FROM subscription_topics WHERE user_id = ? AND topic = ?", (user_id, topic)
                )

    @staticmethod
    async def end_subscriptions(tx: Tx, user_id: int, now: datetime, reason: str) -> None:
        """Switch every subscription of the user off inside the caller's transaction (e.g. after a 403)."""
        await tx.execute(
            "UPDATE subscriptions SET announcements = 0, event_reminders = 0, deadline_reminders = 0, "
            "updated_at = ?, ended = ? WHERE user_id = ?",
            (to_db_time(now), reason, user_id),
        )

    async def subscribers(self, kind: str) -> list[int]:
        """User ids with this subscription kind switched on."""
        _check_kind(kind)
        rows = await self.fetchall(f"SELECT user_id FROM subscriptions WHERE {kind} = 1 ORDER BY user_id")
        return [int(r["user_id"]) for r in rows]

    async def count_audience(self, laender: Sequence[str], topics: Sequence[str]) -> int:
        row = await self.fetchone(f"SELECT COUNT(*) {AUDIENCE}", audience_params(laender, topics))
        return int(row[0]) if row is not None else 0

    async def subscription_stats(self) -> SubscriptionStats:
        """Counts for /statistik: totals per kind; users with any subscription by Bundesland and by topic."""
        active = "(s.announcements = 1 OR s.event_reminders = 1 OR s.deadline_reminders = 1)"
        totals = await self.fetchone(
            "SELECT COALESCE(SUM(announcements), 0), COALESCE(SUM(event_reminders), 0), "
            "COALESCE(SUM(deadline_reminders), 0) FROM subscriptions"
        )
        assert totals is not None
        lands = await self.fetchall(
            f"SELECT u.bundesland AS land, COUNT(*) AS n FROM subscriptions s "
            f"LEFT JOIN users u ON u.id = s.user_id WHERE {active} GROUP BY u.bundesland ORDER BY n DESC, land"
        )
        topics = await self.fetchall(
            f"SELECT t.topic AS topic, COUNT(*) AS n FROM subscriptions s "
            f"JOIN subscription_topics t ON t.user_id = s.user_id WHERE {active} "
            "GROUP BY t.topic ORDER BY n DESC, topic"
        )
        all_topics = await self.fetchone(
            f"SELECT COUNT(*) FROM subscriptions s WHERE {active} AND NOT EXISTS "
            "(SELECT 1 FROM subscription_topics t WHERE t.user_id = s.user_id)"
        )
        return SubscriptionStats(
            announcements=int(totals[0]),
            event_reminders=int(totals[1]),
            deadline_reminders=int(totals[2]),
            by_land=tuple((r["land"], int(r["n"])) for r in lands),
            by_topic=tuple((str(r["topic"]), int(r["n"])) for r in topics),
            all_topics=int(all_topics[0]) if all_topics is not None else 0,
        )
