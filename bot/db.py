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

    async def rate_article(self, user_id: int, article_id: str, helpful: bool, now: datetime) -> bool:
        """Store the user's rating of an answer; True when it is new, False when it replaced an earlier one."""
        async with self.transaction() as tx:
            existing = await tx.fetchone(
                "SELECT 1 FROM advice_ratings WHERE user_id = ? AND article_id = ?", (user_id, article_id)
            )
            await tx.execute(
                "INSERT INTO advice_ratings (user_id, article_id, helpful, rated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(user_id, article_id) DO UPDATE SET helpful = excluded.helpful, "
                "rated_at = excluded.rated_at",
                (user_id, article_id, int(helpful), to_db_time(now)),
            )
            return existing is None

    async def article_ratings(self, article_id: str) -> tuple[int, int]:
        """(helpful, not helpful) counts."""
        row = await self.fetchone(
            "SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0) FROM advice_ratings "
            "WHERE article_id = ?",
            (article_id,),
        )
        return (int(row[0]), int(row[1])) if row is not None else (0, 0)

    async def log_miss(
        self, question: str, best_id: str | None, best_score: float | None, now: datetime
    ) -> None:
        async with self.transaction() as tx:
            await tx.execute(
                "INSERT INTO advice_misses (question, best_id, best_score, created_at) VALUES (?, ?, ?, ?)",
                (question[:500], best_id, best_score, to_db_time(now)),
            )

    async def recent_misses(self, limit: int = 50) -> list[tuple[str, str | None, datetime]]:
        rows = await self.fetchall(
            "SELECT question, best_id, created_at FROM advice_misses ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [(str(r["question"]), r["best_id"], from_db_time(str(r["created_at"]))) for r in rows]

    # --- consultation requests ------------------------------------------------------------------------------

    @staticmethod
    async def create_request(tx: Tx, new: NewRequest, now: datetime) -> int | None:
        """Store a submitted form; None when this form (``form_token``) was stored before."""
        stamp = to_db_time(now)
        cur = await tx.execute(
            "INSERT INTO requests (user_id, requester_name, form_token, kommune, bundesland, role, topic, "
            "question, contact_kind, contact_value, privacy_ack_at, created_at, updated_at, staff_alert_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(form_token) DO NOTHING",
            (
                new.user_id,
                new.requester_name,
                new.form_token,
                new.kommune,
                new.bundesland,
                new.role,
                new.topic,
                new.question,
                new.contact_kind,
                new.contact_value,
                to_db_time(new.privacy_ack_at),
                stamp,
                stamp,
                stamp,
            ),
        )
        if cur.rowcount != 1 or cur.lastrowid is None:
            return None
        await Database.add_request_history(tx, cur.lastrowid, "submitted", "neu", new.user_id, now)
        return cur.lastrowid

    @staticmethod
    async def request_counts(tx: Tx, user_id: int, since: datetime) -> tuple[int, int]:
        """(open requests, requests created since ``since``) of a user, read inside the writing transaction."""
        row = await tx.fetchone(_REQUEST_COUNTS, (to_db_time(since), user_id))
        return (int(row["open"]), int(row["recent"])) if row is not None else (0, 0)

    async def user_request_counts(self, user_id: int, since: datetime) -> tuple[int, int]:
        row = await self.fetchone(_REQUEST_COUNTS, (to_db_time(since), user_id))
        return (int(row["open"]), int(row["recent"])) if row is not None else (0, 0)

    async def get_request(self, request_id: int) -> RequestRow | None:
        row = await self.fetchone("SELECT * FROM requests WHERE id = ?", (request_id,))
        return _request_row(row) if row is not None else None

    @staticmethod
    async def request_id_for_form(tx: Tx, token: str) -> int | None:
        row = await tx.fetchone("SELECT id FROM requests WHERE form_token = ?", (token,))
        return int(row["id"]) if row is not None else None

    async def request_by_form_token(self, token: str) -> RequestRow | None:
        row = await self.fetchone("SELECT * FROM requests WHERE form_token = ?", (token,))
        return _request_row(row) if row is not None else None

    async def requests_of_user(self, user_id: int, limit: int) -> list[RequestRow]:
        """The user's requests, newest first."""
        rows = await self.fetchall(
            "SELECT * FROM requests WHERE user_id = ? ORDER BY id DESC LIMIT ?", (user_id, limit)
        )
        return [_request_row(r) for r in rows]

    async def open_requests(self, limit: int) -> list[RequestRow]:
        """Requests not yet closed, oldest first."""
        rows = await self.fetchall(
            "SELECT * FROM requests WHERE status != 'erledigt' ORDER BY created_at, id LIMIT ?", (limit,)
        )
        return [_request_row(r) for r in rows]

    async def answerable_requests(self, user_id: int | None = None) -> list[tuple[int, int]]:
        """(user_id, request id) of requests in dialogue ('in_bearbeitung', 'wartet'), for all or one user."""
        sql = "SELECT user_id, id FROM requests WHERE status IN ('in_bearbeitung', 'wartet')"
        params: tuple[int, ...] = ()
        if user_id is not None:
            sql += " AND user_id = ?"
            params = (user_id,)
        rows = await self.fetchall(sql, params)
        return [(int(r["user_id"]), int(r["id"])) for r in rows]

    async def request_for_staff_message(self, chat_id: int, message_id: int) -> RequestRow | None:
        row = await self.fetchone(
            "SELECT r.* FROM request_messages m JOIN requests r ON r.id = m.request_id "
            "WHERE m.chat_id = ? AND m.message_id = ?",
            (chat_id, message_id),
        )
        return _request_row(row) if row is not None else None

    async def request_for_thread(self, chat_id: int, thread_id: int) -> RequestRow | None:
        row = await self.fetchone(
            "SELECT * FROM requests WHERE staff_chat_id = ? AND staff_thread_id = ? ORDER BY id DESC LIMIT 1",
            (chat_id, thread_id),
        )
        return _request_row(row) if row is not None else None

    async def set_request_thread(self, request_id: int, chat_id: int, thread_id: int | None) -> None:
        """Remember the request's forum topic; committed before anything is posted into it."""
        async with self.transaction() as tx:
            await tx.execute(
                "UPDATE requests SET staff_chat_id = ?, staff_thread_id = ? WHERE id = ?",
                (chat_id, thread_id, request_id),
            )

    @staticmethod
    async def set_request_posted(tx: Tx, request_id: int, chat_id: int, message_id: int) -> None:
        await tx.execute(
            "UPDATE requests SET staff_chat_id = ?, staff_message_id = ? WHERE id = ?",
            (chat_id, message_id, request_id),
        )
        await Database.link_request_message(tx, request_id, chat_id, message_id)

    @staticmethod
    async def link_request_message(tx: Tx, request_id: int, chat_id: int, message_id: int) -> None:
        # Only while the request exists: it may have been erased (privacy) while its message was on the way.
        await tx.execute(
            "INSERT INTO request_messages (chat_id, message_id, request_id) "
            "SELECT ?, ?, id FROM requests WHERE id = ? "
            "ON CONFLICT(chat_id, message_id) DO UPDATE SET request_id = excluded.request_id",
            (chat_id, message_id, request_id),
        )

    @staticmethod
    async def change_request(
        tx: Tx,
        before: RequestRow,
        *,
        status: str,
        claimed_by: int | None,
        claimed_by_name: str | None,
        by: int | None,
        now: datetime,
        action: str = "status",
    ) -> bool:
        """Set status and claim if the request is still as ``before`` (compare and set); False if it changed."""
        stamp = to_db_time(now)
        cur = await tx.execute(
            "UPDATE requests SET status = ?, claimed_by = ?, claimed_by_name = ?, updated_at = ?, "
            "closed_at = ?, staff_alert_at = CASE WHEN ? = 'neu' AND status != 'neu' THEN ? ELSE staff_alert_at END "
            "WHERE id = ? AND status = ? AND claimed_by IS ?",
            (
                status,
                claimed_by,
                claimed_by_name,
                stamp,
                stamp if status == "erledigt" else None,
                status,
                stamp,
                before.id,
                before.status,
                before.claimed_by,
            ),
        )
        if cur.rowcount != 1:
            return False
        await Database.add_request_history(tx, before.id, action, status, by, now)
        return True

    @staticmethod
    async def add_request_history(
        tx: Tx, request_id: int, action: str, status: str | None, by: int | None, now: datetime
    ) -> None:
        await tx.execute(
            "INSERT INTO request_history (request_id, action, status, changed_by, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (request_id, action, status, by, to_db_time(now)),
        )

    async def request_history(self, request_id: int) -> list[tuple[str, str | None, int | None]]:
        rows = await self.fetchall(
            "SELECT action, status, changed_by FROM request_history WHERE request_id = ? ORDER BY id",
            (request_id,),
        )
        return [(str(r["action"]), r["status"], r["changed_by"]) for r in rows]

    async def unclaimed_requests_due(self, cutoff: datetime) -> list[RequestRow]:
        """New, unclaimed requests the staff were last told about at or before ``cutoff``."""
        rows = await self.fetchall(
            "SELECT * FROM requests WHERE status = 'neu' AND claimed_by IS NULL AND staff_alert_at <= ? "
            "ORDER BY created_at, id",
            (to_db_time(cutoff),),
        )
        return [_request_row(r) for r in rows]

    @staticmethod
    async def mark_request_alerted(tx: Tx, before: RequestRow, now: datetime) -> bool:
        """Move the reminder clock on, once: False if another tick or a claim got there first."""
        cur = await tx.execute(
            "UPDATE requests SET staff_alert_at = ? WHERE id = ? AND staff_alert_at = ? AND status = 'neu' "
            "AND claimed_by IS NULL",
            (to_db_time(now), before.id, to_db_time(before.staff_alert_at)),
        )
        return cur.rowcount == 1

    async def rate_request(self, request_id: int, user_id: int, rating: int, now: datetime) -> bool:
        """Store the requester's rating of a closed request, once; False if not allowed or already rated."""
        async with self.transaction() as tx:
            cur = await tx.execute(
                "UPDATE requests SET rating = ?, rated_at = ? WHERE id = ? AND user_id = ? "
                "AND status = 'erledigt' AND rating IS NULL",
                (rating, to_db_time(now), request_id, user_id),
            )
            if cur.rowcount != 1:
                return False
            await self.add_request_history(tx, request_id, "rated", "erledigt", user_id, now)
            return True

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

    # --- privacy and retention ------------------------------------------------------------------------------


# --- consultation requests: rows -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewRequest:
    """The answers of a confirmed request form."""

    user_id: int
    requester_name: str
    form_token: str
    kommune: str
    bundesland: str
    role: str
    topic: str
    question: str
    contact_kind: str
    contact_value: str | None
    privacy_ack_at: datetime


@dataclass(frozen=True, slots=True)
class RequestRow:
    id: int
    user_id: int
    requester_name: str
    form_token: str
    kommune: str
    bundesland: str
    role: str
    topic: str
    question: str
    contact_kind: str
    contact_value: str | None
    privacy_ack_at: datetime
    status: str
    claimed_by: int | None
    claimed_by_name: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    staff_alert_at: datetime
    staff_chat_id: int | None
    staff_thread_id: int | None
    staff_message_id: int | None
    rating: int | None
    rated_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status != "erledigt"

    @property
    def ref(self) -> str:
        """The outbox ``ref`` of everything sent about this request."""
        return f"request:{self.id}"


_REQUEST_COUNTS = (
    "SELECT COALESCE(SUM(status != 'erledigt'), 0) AS open, COALESCE(SUM(created_at >= ?), 0) AS recent "
    "FROM requests WHERE user_id = ?"
)


def _optional_time(value: object) -> datetime | None:
    return from_db_time(str(value)) if value is not None else None


def _request_row(row: sqlite3.Row) -> RequestRow:
    return RequestRow(
        id=int(row["id"]),
        user_id=int(row["user_id"]),
        requester_name=str(row["requester_name"]),
        form_token=str(row["form_token"]),
        kommune=str(row["kommune"]),
        bundesland=str(row["bundesland"]),
        role=str(row["role"]),
        topic=str(row["topic"]),
        question=str(row["question"]),
        contact_kind=str(row["contact_kind"]),
        contact_value=row["contact_value"],
        privacy_ack_at=from_db_time(str(row["privacy_ack_at"])),
        status=str(row["status"]),
        claimed_by=row["claimed_by"],
        claimed_by_name=row["claimed_by_name"],
        created_at=from_db_time(str(row["created_at"])),
        updated_at=from_db_time(str(row["updated_at"])),
        closed_at=_optional_time(row["closed_at"]),
        staff_alert_at=from_db_time(str(row["staff_alert_at"])),
        staff_chat_id=row["staff_chat_id"],
        staff_thread_id=row["staff_thread_id"],
        staff_message_id=row["staff_message_id"],
        rating=row["rating"],
        rated_at=_optional_time(row["rated_at"]),
    )
