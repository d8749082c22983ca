"""Events and who follows them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.db.core import DatabaseCore, Reader, Tx, from_db_time, read_row, to_db_time


@dataclass(frozen=True, slots=True)
class EventFields:
    """What a coordinator or a seed entry sets on an event."""

    title: str
    starts_at: datetime
    ends_at: datetime
    place: str | None
    online_url: str | None
    description: str
    bundesland: str | None
    topic: str
    seed_id: str | None = None
    seed_hash: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRow(EventFields):
    """A stored event: its fields and where it stands; ``version`` counts its changes (the .ics SEQUENCE)."""

    id: int
    state: str
    version: int
    created_by: int | None
    updated_by: int | None
    created_at: datetime
    updated_at: datetime

    @property
    def fields(self) -> EventFields:
        return EventFields(
            self.title,
            self.starts_at,
            self.ends_at,
            self.place,
            self.online_url,
            self.description,
            self.bundesland,
            self.topic,
        )


def _event_values(fields: EventFields) -> tuple[Any, ...]:
    """The columns title … topic of an event, in table order."""
    return (
        fields.title,
        to_db_time(fields.starts_at),
        to_db_time(fields.ends_at),
        fields.place,
        fields.online_url,
        fields.description,
        fields.bundesland,
        fields.topic,
    )


async def add_follow(tx: Tx, table: str, column: str, key: object, user_id: int, now: datetime) -> bool:
    """A user follows ``key`` (an event id, a programme) in ``table`` (named in code); False if they did."""
    cur = await tx.execute(
        f"INSERT INTO {table} ({column}, user_id, created_at) VALUES (?, ?, ?)"
        f" ON CONFLICT({column}, user_id) DO NOTHING",
        (key, user_id, to_db_time(now)),
    )
    return cur.rowcount == 1


async def remove_follow(tx: Tx, table: str, column: str, key: object, user_id: int) -> bool:
    """The user no longer follows ``key``; False if they did not."""
    cur = await tx.execute(f"DELETE FROM {table} WHERE {column} = ? AND user_id = ?", (key, user_id))
    return cur.rowcount == 1


class EventsMixin(DatabaseCore):
    """Events and who follows them."""

    @staticmethod
    async def insert_event(tx: Tx, fields: EventFields, *, by: int | None, now: datetime) -> int:
        return await tx.insert(
            "INSERT INTO events (seed_id, seed_hash, title, starts_at, ends_at, place, online_url, description,"
            " bundesland, topic, created_by, updated_by, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                fields.seed_id,
                fields.seed_hash,
                *_event_values(fields),
                by,
                by,
                to_db_time(now),
                to_db_time(now),
            ),
        )

    @staticmethod
    async def update_event(
        tx: Tx, event_id: int, fields: EventFields, *, by: int | None, now: datetime
    ) -> None:
        """Overwrite an event's fields and count a new version (the .ics SEQUENCE)."""
        await tx.execute(
            "UPDATE events SET seed_hash = COALESCE(?, seed_hash), title = ?, starts_at = ?, ends_at = ?,"
            " place = ?, online_url = ?, description = ?, bundesland = ?, topic = ?, updated_by = ?,"
            " updated_at = ?, version = version + 1 WHERE id = ?",
            (fields.seed_hash, *_event_values(fields), by, to_db_time(now), event_id),
        )

    @staticmethod
    async def cancel_event(tx: Tx, event_id: int, *, by: int | None, now: datetime) -> bool:
        cur = await tx.execute(
            "UPDATE events SET state = 'cancelled', version = version + 1, updated_by = ?, updated_at = ?"
            " WHERE id = ? AND state = 'active'",
            (by, to_db_time(now), event_id),
        )
        return cur.rowcount == 1

    @staticmethod
    async def set_event_seed_hash(tx: Tx, event_id: int, seed_hash: str) -> None:
        await tx.execute("UPDATE events SET seed_hash = ? WHERE id = ?", (seed_hash, event_id))

    async def get_event(self, event_id: int, tx: Tx | None = None) -> EventRow | None:
        reader: Reader = self if tx is None else tx
        return await reader.fetch_row(EventRow, "SELECT * FROM events WHERE id = ?", (event_id,))

    async def event_by_seed(self, seed_id: str, tx: Tx | None = None) -> EventRow | None:
        reader: Reader = self if tx is None else tx
        return await reader.fetch_row(EventRow, "SELECT * FROM events WHERE seed_id = ?", (seed_id,))

    async def upcoming_events(
        self, now: datetime, *, land: str | None, limit: int, offset: int = 0
    ) -> tuple[list[EventRow], int]:
        """Active events not yet over, soonest first (nationwide and ``land``'s when a Land is given); and
        how many there are in all."""
        where = "state = 'active' AND ends_at > ?"
        params: list[Any] = [to_db_time(now)]
        if land is not None:
            where += " AND (bundesland IS NULL OR bundesland = ?)"
            params.append(land)
        total_row = await self.fetchone(f"SELECT COUNT(*) FROM events WHERE {where}", params)
        rows = await self.fetchall(
            f"SELECT * FROM events WHERE {where} ORDER BY starts_at, id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [read_row(EventRow, r) for r in rows], int(total_row[0]) if total_row is not None else 0

    @staticmethod
    async def follow_event(tx: Tx, event_id: int, user_id: int, now: datetime) -> bool:
        return await add_follow(tx, "event_follows", "event_id", event_id, user_id, now)

    @staticmethod
    async def unfollow_event(tx: Tx, event_id: int, user_id: int) -> bool:
        return await remove_follow(tx, "event_follows", "event_id", event_id, user_id)

    async def follows_event(self, event_id: int, user_id: int) -> bool:
        row = await self.fetchone(
            "SELECT 1 FROM event_follows WHERE event_id = ? AND user_id = ?", (event_id, user_id)
        )
        return row is not None

    async def event_followers(self, event_id: int, tx: Tx | None = None) -> list[int]:
        reader: Reader = self if tx is None else tx
        rows = await reader.fetchall(
            "SELECT user_id FROM event_follows WHERE event_id = ? ORDER BY user_id", (event_id,)
        )
        return [int(r["user_id"]) for r in rows]

    async def followed_events(self, user_id: int) -> list[EventRow]:
        return await self.fetch_rows(
            EventRow,
            "SELECT e.* FROM events e JOIN event_follows f ON f.event_id = e.id WHERE f.user_id = ?"
            " ORDER BY e.starts_at, e.id",
            (user_id,),
        )

    @staticmethod
    async def event_follow_targets(
        tx: Tx, *, event_id: int | None = None, user_id: int | None = None
    ) -> list[tuple[int, int, datetime]]:
        """(user_id, event_id, starts_at) for every active event a user follows — or gets because they
        subscribed to event reminders and the event is nationwide or in their Bundesland — within the scope."""
        scope = ""
        params: list[Any] = []
        if event_id is not None:
            scope += " AND e.id = ?"
            params.append(event_id)
        if user_id is not None:
            scope += " AND {who} = ?"
            params.append(user_id)
        sql = (
            "SELECT f.user_id, e.id, e.starts_at FROM event_follows f JOIN events e ON e.id = f.event_id"
            " WHERE e.state = 'active'" + scope.format(who="f.user_id") + " UNION "
            "SELECT s.user_id, e.id, e.starts_at FROM subscriptions s JOIN events e ON e.state = 'active'"
            " LEFT JOIN users u ON u.id = s.user_id"
            " WHERE s.event_reminders = 1 AND (e.bundesland IS NULL OR e.bundesland = u.bundesland)"
            + scope.format(who="s.user_id")
        )
        rows = await tx.fetchall(sql, params + params)
        return [(int(r[0]), int(r[1]), from_db_time(str(r[2]))) for r in rows]
