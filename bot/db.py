"""The only place with SQL: one aiosqlite connection in WAL mode, serialised writes, typed rows.

Reads run directly on the connection. Every write goes through ``transaction()``, which holds one asyncio lock
for the whole ``BEGIN IMMEDIATE … COMMIT`` so that writers never interleave their statements; feature methods
below take an open transaction (``Tx``) where several writes must land together, e.g. a state change and its
outbox row.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
BUSY_TIMEOUT_MS = 5000


class MigrationError(Exception):
    """A migration file is malformed or failed; the database is left as it was."""


def to_db_time(value: datetime) -> str:
    """Aware datetime → UTC ISO text that sorts chronologically."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).isoformat(timespec="seconds")


def from_db_time(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class OutboxRow:
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


@dataclass(frozen=True, slots=True)
class StandortRow:
    id: int
    user_id: int
    created_at: datetime
    kommune: str
    kommune_type: str
    bundesland: str
    answers: dict[str, str]
    stage: int
    score: int


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    language: str | None
    first_seen: datetime
    bundesland: str | None


def _outbox_row(row: sqlite3.Row) -> OutboxRow:
    return OutboxRow(
        id=int(row["id"]),
        kind=str(row["kind"]),
        ref=row["ref"],
        chat_id=int(row["chat_id"]),
        payload=json.loads(row["payload"]),
        priority=int(row["priority"]),
        state=str(row["state"]),
        attempts=int(row["attempts"]),
        not_before=from_db_time(str(row["not_before"])),
        created_at=from_db_time(str(row["created_at"])),
        message_id=row["message_id"],
        error=row["error"],
    )


class Tx:
    """An open write transaction; only ``Database.transaction`` creates one."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Cursor:
        return await self._conn.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        async with self._conn.execute(sql, params) as cur:
            row: sqlite3.Row | None = await cur.fetchone()
            return row

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        async with self._conn.execute(sql, params) as cur:
            return list(await cur.fetchall())


class Database:
    """One connection for the whole process; open with ``Database.open``."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> Database:
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA synchronous = NORMAL")
        return cls(conn, path)

    async def close(self) -> None:
        async with self._write_lock:
            await self._conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any exception; writers are serialised."""
        async with self._write_lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            else:
                await self._conn.execute("COMMIT")

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        async with self._conn.execute(sql, params) as cur:
            row: sqlite3.Row | None = await cur.fetchone()
            return row

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        async with self._conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    # --- schema ---------------------------------------------------------------------------------------------

    async def migrate(self, migrations_dir: Path) -> list[str]:
        """Apply pending ``NNNN_name.sql`` files in order, each in its own transaction; return their names."""
        files = sorted(p for p in migrations_dir.glob("*.sql"))
        versions: dict[int, Path] = {}
        for file in files:
            match = MIGRATION_NAME.match(file.name)
            if match is None:
                raise MigrationError(f"{file.name}: name must look like 0001_description.sql")
            number = int(match.group(1))
            if number in versions:
                raise MigrationError(f"{file.name}: number {number:04d} used twice")
            versions[number] = file
        async with self._write_lock:
            await self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            async with self._conn.execute("SELECT version FROM schema_migrations") as cur:
                done = {int(row[0]) for row in await cur.fetchall()}
            applied: list[str] = []
            for number in sorted(versions):
                if number in done:
                    continue
                file = versions[number]
                script = file.read_text(encoding="utf-8")
                stamp = to_db_time(datetime.now(UTC))
                # executescript runs the whole text; BEGIN/COMMIT inside it makes file and record atomic.
                record = (
                    "INSERT INTO schema_migrations (version, name, applied_at) "
                    f"VALUES ({number}, '{file.name}', '{stamp}');"
                )
                try:
                    await self._conn.executescript(f"BEGIN IMMEDIATE;\n{script}\n;{record}\nCOMMIT;")
                except sqlite3.Error as exc:
                    if self._conn.in_transaction:
                        await self._conn.execute("ROLLBACK")
                    raise MigrationError(f"{file.name}: {exc}") from exc
                log.info("applied migration %s", file.name)
                applied.append(file.name)
            return applied

    async def applied_migrations(self) -> list[str]:
        rows = await self.fetchall("SELECT name FROM schema_migrations ORDER BY version")
        return [str(r["name"]) for r in rows]

    async def backup(self, target: Path) -> None:
        """Online backup with SQLite's backup API; safe while the bot is writing."""
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.unlink(missing_ok=True)
        dest = sqlite3.connect(str(tmp))
        try:
            await self._conn.backup(dest)
        finally:
            dest.close()
        tmp.replace(target)

    # --- users ----------------------------------------------------------------------------------------------

    async def touch_user(self, user_id: int, language: str | None, now: datetime) -> bool:
        """Record a user who writes in private; True when they are new. Writes only on a change."""
        known = await self.get_user(user_id)
        if known is not None and known.language == language:
            return False
        async with self.transaction() as tx:
            cur = await tx.execute(
                "INSERT INTO users (id, language, first_seen) VALUES (?, ?, ?) ON CONFLICT(id) DO NOTHING",
                (user_id, language, to_db_time(now)),
            )
            if cur.rowcount == 1:
                return True
            await tx.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))
            return False

    async def get_user(self, user_id: int) -> UserRow | None:
        row = await self.fetchone(
            "SELECT id, language, first_seen, bundesland FROM users WHERE id = ?", (user_id,)
        )
        if row is None:
            return None
        return UserRow(
            int(row["id"]), row["language"], from_db_time(str(row["first_seen"])), row["bundesland"]
        )

    async def set_user_land(self, user_id: int, code: str | None, now: datetime) -> None:
        """Remember the user's Bundesland (creates the user row if needed)."""
        async with self.transaction() as tx:
            await tx.execute(
                "INSERT INTO users (id, first_seen, bundesland) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET bundesland = excluded.bundesland",
                (user_id, to_db_time(now), code),
            )

    # --- roles ----------------------------------------------------------------------------------------------

    async def user_roles(self, user_id: int) -> set[str]:
        rows = await self.fetchall("SELECT role FROM roles WHERE user_id = ?", (user_id,))
        return {str(r["role"]) for r in rows}

    async def users_with_role(self, role: str) -> set[int]:
        rows = await self.fetchall("SELECT user_id FROM roles WHERE role = ?", (role,))
        return {int(r["user_id"]) for r in rows}

    async def grant_role(self, user_id: int, role: str, by: int, now: datetime, via: str) -> bool:
        """Grant a role and record the change; False when the user already had it."""
        async with self.transaction() as tx:
            cur = await tx.execute(
                "INSERT INTO roles (user_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(user_id, role) DO NOTHING",
                (user_id, role, by, to_db_time(now)),
            )
            if cur.rowcount != 1:
                return False
            await tx.execute(
                "INSERT INTO role_changes (user_id, role, action, changed_by, changed_at, via) "
                "VALUES (?, ?, 'grant', ?, ?, ?)",
                (user_id, role, by, to_db_time(now), via),
            )
            return True

    async def revoke_role(self, user_id: int, role: str, by: int, now: datetime) -> bool:
        async with self.transaction() as tx:
            cur = await tx.execute("DELETE FROM roles WHERE user_id = ? AND role = ?", (user_id, role))
            if cur.rowcount != 1:
                return False
            await tx.execute(
                "INSERT INTO role_changes (user_id, role, action, changed_by, changed_at, via) "
                "VALUES (?, ?, 'revoke', ?, ?, 'user_id')",
                (user_id, role, by, to_db_time(now)),
            )
            return True

    # --- advice: ratings and misses -------------------------------------------------------------------------

    # --- consultation requests ------------------------------------------------------------------------------

    # --- outbox ---------------------------------------------------------------------------------------------

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
        cur = await tx.execute(
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
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def due_outbox(self, now: datetime, limit: int) -> list[OutboxRow]:
        rows = await self.fetchall(
            "SELECT * FROM outbox WHERE state = 'pending' AND not_before <= ? "
            "ORDER BY priority, not_before, id LIMIT ?",
            (to_db_time(now), limit),
        )
        return [_outbox_row(r) for r in rows]

    async def next_outbox_due(self) -> datetime | None:
        row = await self.fetchone("SELECT MIN(not_before) FROM outbox WHERE state = 'pending'")
        return from_db_time(str(row[0])) if row is not None and row[0] is not None else None

    async def outbox_row(self, row_id: int) -> OutboxRow | None:
        row = await self.fetchone("SELECT * FROM outbox WHERE id = ?", (row_id,))
        return _outbox_row(row) if row is not None else None

    async def outbox_by_ref(self, ref: str) -> list[OutboxRow]:
        rows = await self.fetchall("SELECT * FROM outbox WHERE ref = ? ORDER BY id", (ref,))
        return [_outbox_row(r) for r in rows]

    @staticmethod
    async def mark_outbox_sent(tx: Tx, row_id: int, message_id: int | None, now: datetime) -> None:
        await tx.execute(
            "UPDATE outbox SET state = 'sent', sent_at = ?, message_id = ?, attempts = attempts + 1, error = NULL "
            "WHERE id = ?",
            (to_db_time(now), message_id, row_id),
        )

    async def retry_outbox(self, row_id: int, not_before: datetime, error: str) -> None:
        async with self.transaction() as tx:
            await tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, not_before = ?, error = ? WHERE id = ?",
                (to_db_time(not_before), error, row_id),
            )

    async def postpone_outbox(self, row_id: int, not_before: datetime, error: str) -> None:
        """Move a row later without counting an attempt (flood control is not the row's fault)."""
        async with self.transaction() as tx:
            await tx.execute(
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

    # --- events, deadlines and reminders --------------------------------------------------------------------

    # --- subscriptions, roles and announcements -------------------------------------------------------------

    # --- guided tools ---------------------------------------------------------------------------------------

    # Self-checks kept per user: enough to show progress, no long history (data minimisation).
    STANDORT_KEEP = 5

    async def save_standort_result(
        self,
        user_id: int,
        now: datetime,
        *,
        kommune: str,
        kommune_type: str,
        bundesland: str,
        answers: dict[str, str],
        stage: int,
        score: int,
    ) -> int:
        """Store a completed self-check and drop the user's oldest beyond ``STANDORT_KEEP``."""
        async with self.transaction() as tx:
            cur = await tx.execute(
                "INSERT INTO standort_results "
                "(user_id, created_at, kommune, kommune_type, bundesland, answers, stage, score) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    user_id,
                    to_db_time(now),
                    kommune,
                    kommune_type,
                    bundesland,
                    json.dumps(answers, ensure_ascii=False, sort_keys=True),
                    stage,
                    score,
                ),
            )
            await tx.execute(
                "DELETE FROM standort_results WHERE user_id = ? AND id NOT IN "
                "(SELECT id FROM standort_results WHERE user_id = ? ORDER BY id DESC LIMIT ?)",
                (user_id, user_id, self.STANDORT_KEEP),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    async def standort_results(self, user_id: int, limit: int = 1) -> list[StandortRow]:
        """The user's latest self-checks, newest first."""
        rows = await self.fetchall(
            "SELECT * FROM standort_results WHERE user_id = ? ORDER BY id DESC LIMIT ?", (user_id, limit)
        )
        return [
            StandortRow(
                id=int(r["id"]),
                user_id=int(r["user_id"]),
                created_at=from_db_time(str(r["created_at"])),
                kommune=str(r["kommune"]),
                kommune_type=str(r["kommune_type"]),
                bundesland=str(r["bundesland"]),
                answers={str(k): str(v) for k, v in json.loads(r["answers"]).items()},
                stage=int(r["stage"]),
                score=int(r["score"]),
            )
            for r in rows
        ]

    # --- privacy and retention ------------------------------------------------------------------------------
