"""The only place with SQL: one aiosqlite connection in WAL mode, serialised writes, typed rows.

Reads run directly on the connection. Every write goes through ``transaction()``, which holds one asyncio lock
for the whole ``BEGIN IMMEDIATE … COMMIT`` so that writers never interleave their statements; feature methods
below take an open transaction (``Tx``) where several writes must land together, e.g. a state change and its
outbox row.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import re
import sqlite3
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
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


KNOWN_USERS_CACHED = 10_000


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
        # Set by an erasure: the intake checkpoints again once the erasing update itself is marked done (its
        # stored copy, with the user's name in it, is blanked only then).
        self.checkpoint_wanted = False
        # Users seen in this process and their language: every private update asks, so the answer is kept in
        # memory (bounded; erasure forgets the user) instead of a database read per update.
        self._known_users: OrderedDict[int, str | None] = OrderedDict()

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
        # Deleted rows are overwritten with zeros, not left in free pages (erasure must leave nothing behind;
        # SQLite's default depends on how it was built).
        await conn.execute("PRAGMA secure_delete = ON")
        return cls(conn, path)

    async def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file and truncate it (after an erasure the -wal file
        would otherwise still hold the erased rows' old pages)."""
        async with self._write_lock:
            await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

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
        dest = sqlite3.connect(str(tmp), check_same_thread=False)
        try:
            # Under the write lock: the connection never has a half-done transaction the copy would include.
            async with self._write_lock:
                await self._conn.backup(dest)
        finally:
            dest.close()
        tmp.replace(target)

    @staticmethod
    def check_integrity(path: Path) -> str:
        """``PRAGMA integrity_check`` of a database file (a backup): "ok" or SQLite's first complaint.

        Blocking; call it through ``asyncio.to_thread``."""
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("PRAGMA integrity_check").fetchone()
        except sqlite3.DatabaseError as exc:
            return str(exc)
        finally:
            conn.close()
        return str(row[0]) if row else "no answer"

    # --- users ----------------------------------------------------------------------------------------------

    async def touch_user(self, user_id: int, language: str | None, now: datetime) -> bool:
        """Record a user who writes in private; True when they are new. Writes only on a change."""
        if user_id in self._known_users and self._known_users[user_id] == language:
            self._known_users.move_to_end(user_id)
            return False
        known = await self.get_user(user_id)
        self._remember_user(user_id, language)
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

    def _remember_user(self, user_id: int, language: str | None) -> None:
        self._known_users[user_id] = language
        self._known_users.move_to_end(user_id)
        while len(self._known_users) > KNOWN_USERS_CACHED:
            self._known_users.popitem(last=False)

    def forget_user(self, user_id: int) -> None:
        """The user's rows were erased: the next update records them anew."""
        self._known_users.pop(user_id, None)

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

    async def rate_article(self, user_id: int, article_id: str, helpful: bool, now: datetime) -> Rating:
        """Store the user's rating of an answer (one per user and article): new, changed or as before."""
        async with self.transaction() as tx:
            existing = await tx.fetchone(
                "SELECT helpful FROM advice_ratings WHERE user_id = ? AND article_id = ?",
                (user_id, article_id),
            )
            if existing is not None and bool(existing[0]) == helpful:
                return Rating.KEPT
            await tx.execute(
                "INSERT INTO advice_ratings (user_id, article_id, helpful, rated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(user_id, article_id) DO UPDATE SET helpful = excluded.helpful, "
                "rated_at = excluded.rated_at",
                (user_id, article_id, int(helpful), to_db_time(now)),
            )
            return Rating.NEW if existing is None else Rating.CHANGED

    async def article_ratings(self, article_id: str) -> tuple[int, int]:
        """(helpful, not helpful) counts."""
        row = await self.fetchone(
            "SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0) FROM advice_ratings "
            "WHERE article_id = ?",
            (article_id,),
        )
        return (int(row[0]), int(row[1])) if row is not None else (0, 0)

    async def log_miss(
        self,
        question: str,
        best_id: str | None,
        best_score: float | None,
        now: datetime,
        *,
        asker_hash: str | None = None,
    ) -> None:
        """Store a miss as given; features call ``bot.misses.log_miss``, which scrubs it and hashes the asker."""
        async with self.transaction() as tx:
            await tx.execute(
                "INSERT INTO advice_misses (question, best_id, best_score, created_at, asker_hash) "
                "VALUES (?, ?, ?, ?, ?)",
                (question[:500], best_id, best_score, to_db_time(now), asker_hash),
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

    async def open_request_count(self) -> int:
        row = await self.fetchone("SELECT COUNT(*) FROM requests WHERE status != 'erledigt'")
        return int(row[0]) if row is not None else 0

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

    async def topic_intent(self, request_id: int) -> int | None:
        """The staff chat a forum topic for the request was being created in (see migration 0014), if any."""
        row = await self.fetchone("SELECT topic_intent_chat FROM requests WHERE id = ?", (request_id,))
        return int(row[0]) if row is not None and row[0] is not None else None

    async def requests_awaiting_topic(self, chat_id: int) -> list[RequestRow]:
        """Requests whose topic was being created in ``chat_id`` but whose topic id was never stored."""
        rows = await self.fetchall(
            "SELECT * FROM requests WHERE topic_intent_chat = ? AND staff_thread_id IS NULL ORDER BY id",
            (chat_id,),
        )
        return [_request_row(r) for r in rows]

    async def set_topic_intent(self, request_id: int, chat_id: int) -> None:
        """Committed before createForumTopic: a retry then knows a topic may already exist."""
        async with self.transaction() as tx:
            await tx.execute("UPDATE requests SET topic_intent_chat = ? WHERE id = ?", (chat_id, request_id))

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
    # Row types are at the end of this module. Methods taking ``tx`` run inside the caller's transaction, so an
    # event change, its followers' notices and its rescheduled reminders land together.

    @staticmethod
    async def insert_event(tx: Tx, fields: EventFields, *, by: int | None, now: datetime) -> int:
        cur = await tx.execute(
            "INSERT INTO events (seed_id, seed_hash, title, starts_at, ends_at, place, online_url, description,"
            " bundesland, topic, created_by, updated_by, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                fields.seed_id,
                fields.seed_hash,
                fields.title,
                to_db_time(fields.starts_at),
                to_db_time(fields.ends_at),
                fields.place,
                fields.online_url,
                fields.description,
                fields.bundesland,
                fields.topic,
                by,
                by,
                to_db_time(now),
                to_db_time(now),
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    @staticmethod
    async def update_event(
        tx: Tx, event_id: int, fields: EventFields, *, by: int | None, now: datetime
    ) -> None:
        """Overwrite an event's fields and count a new version (the .ics SEQUENCE)."""
        await tx.execute(
            "UPDATE events SET seed_hash = COALESCE(?, seed_hash), title = ?, starts_at = ?, ends_at = ?,"
            " place = ?, online_url = ?, description = ?, bundesland = ?, topic = ?, updated_by = ?,"
            " updated_at = ?, version = version + 1 WHERE id = ?",
            (
                fields.seed_hash,
                fields.title,
                to_db_time(fields.starts_at),
                to_db_time(fields.ends_at),
                fields.place,
                fields.online_url,
                fields.description,
                fields.bundesland,
                fields.topic,
                by,
                to_db_time(now),
                event_id,
            ),
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
        sql, params = "SELECT * FROM events WHERE id = ?", (event_id,)
        row = await (tx.fetchone(sql, params) if tx is not None else self.fetchone(sql, params))
        return _event_row(row) if row is not None else None

    async def event_by_seed(self, seed_id: str, tx: Tx | None = None) -> EventRow | None:
        sql, params = "SELECT * FROM events WHERE seed_id = ?", (seed_id,)
        row = await (tx.fetchone(sql, params) if tx is not None else self.fetchone(sql, params))
        return _event_row(row) if row is not None else None

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
        return [_event_row(r) for r in rows], int(total_row[0]) if total_row is not None else 0

    @staticmethod
    async def follow_event(tx: Tx, event_id: int, user_id: int, now: datetime) -> bool:
        cur = await tx.execute(
            "INSERT INTO event_follows (event_id, user_id, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT(event_id, user_id) DO NOTHING",
            (event_id, user_id, to_db_time(now)),
        )
        return cur.rowcount == 1

    @staticmethod
    async def unfollow_event(tx: Tx, event_id: int, user_id: int) -> bool:
        cur = await tx.execute(
            "DELETE FROM event_follows WHERE event_id = ? AND user_id = ?", (event_id, user_id)
        )
        return cur.rowcount == 1

    async def follows_event(self, event_id: int, user_id: int) -> bool:
        row = await self.fetchone(
            "SELECT 1 FROM event_follows WHERE event_id = ? AND user_id = ?", (event_id, user_id)
        )
        return row is not None

    async def event_followers(self, event_id: int, tx: Tx | None = None) -> list[int]:
        sql, params = "SELECT user_id FROM event_follows WHERE event_id = ? ORDER BY user_id", (event_id,)
        rows = await (tx.fetchall(sql, params) if tx is not None else self.fetchall(sql, params))
        return [int(r["user_id"]) for r in rows]

    async def followed_events(self, user_id: int) -> list[EventRow]:
        rows = await self.fetchall(
            "SELECT e.* FROM events e JOIN event_follows f ON f.event_id = e.id WHERE f.user_id = ?"
            " ORDER BY e.starts_at, e.id",
            (user_id,),
        )
        return [_event_row(r) for r in rows]

    @staticmethod
    async def follow_programme(tx: Tx, programme: str, user_id: int, now: datetime) -> bool:
        cur = await tx.execute(
            "INSERT INTO deadline_follows (programme, user_id, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT(programme, user_id) DO NOTHING",
            (programme, user_id, to_db_time(now)),
        )
        return cur.rowcount == 1

    @staticmethod
    async def unfollow_programme(tx: Tx, programme: str, user_id: int) -> bool:
        cur = await tx.execute(
            "DELETE FROM deadline_follows WHERE programme = ? AND user_id = ?", (programme, user_id)
        )
        return cur.rowcount == 1

    async def followed_programmes(self, user_id: int) -> set[str]:
        rows = await self.fetchall("SELECT programme FROM deadline_follows WHERE user_id = ?", (user_id,))
        return {str(r["programme"]) for r in rows}

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

    @staticmethod
    async def programme_follow_targets(
        tx: Tx, *, user_id: int | None = None
    ) -> list[tuple[int, str, str | None]]:
        """(user_id, programme, the user's Bundesland) of every programme follow, within the given scope."""
        sql = (
            "SELECT f.user_id, f.programme, u.bundesland FROM deadline_follows f"
            " LEFT JOIN users u ON u.id = f.user_id"
        )
        params: list[Any] = []
        if user_id is not None:
            sql += " WHERE f.user_id = ?"
            params.append(user_id)
        rows = await tx.fetchall(sql, params)
        return [(int(r[0]), str(r[1]), r[2]) for r in rows]

    @staticmethod
    async def deadline_subscribers(tx: Tx, *, user_id: int | None = None) -> list[tuple[int, str | None]]:
        """(user_id, Bundesland) of users subscribed to reminders of every funding deadline."""
        sql = (
            "SELECT s.user_id, u.bundesland FROM subscriptions s LEFT JOIN users u ON u.id = s.user_id"
            " WHERE s.deadline_reminders = 1"
        )
        params: list[Any] = []
        if user_id is not None:
            sql += " AND s.user_id = ?"
            params.append(user_id)
        rows = await tx.fetchall(sql, params)
        return [(int(r[0]), r[1]) for r in rows]

    @staticmethod
    async def pending_reminders(
        tx: Tx, after: datetime, *, user_id: int | None = None, subject: str | None = None
    ) -> list[ReminderRow]:
        """Pending reminders whose target is still after ``after``, within the given scope."""
        sql = "SELECT * FROM reminders WHERE state = 'pending' AND target_at > ?"
        params: list[Any] = [to_db_time(after)]
        if user_id is not None:
            sql += " AND user_id = ?"
            params.append(user_id)
        if subject is not None:
            sql += " AND subject = ?"
            params.append(subject)
        return [_reminder_row(r) for r in await tx.fetchall(sql, params)]

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
        rows = await self.fetchall(
            "SELECT * FROM reminders WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?",
            (to_db_time(now), limit),
        )
        return [_reminder_row(r) for r in rows]

    async def next_reminder_due(self) -> datetime | None:
        row = await self.fetchone("SELECT MIN(due_at) FROM reminders WHERE state = 'pending'")
        return from_db_time(str(row[0])) if row is not None and row[0] is not None else None

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
        rows = await self.fetchall(
            "SELECT * FROM reminders WHERE user_id = ? ORDER BY due_at, id", (user_id,)
        )
        return [_reminder_row(r) for r in rows]

    async def reminder(self, reminder_id: int) -> ReminderRow | None:
        row = await self.fetchone("SELECT * FROM reminders WHERE id = ?", (reminder_id,))
        return _reminder_row(row) if row is not None else None

    async def withdraw_reminder(self, reminder_id: int, now: datetime) -> None:
        """A reminder handed to the outbox but out of date before it went out: recorded as dropped."""
        async with self.transaction() as tx:
            await tx.execute(
                "UPDATE reminders SET state = 'dropped', done_at = ? WHERE id = ? AND state = 'sent'",
                (to_db_time(now), reminder_id),
            )

    async def reminded_users(self, subject: str, tx: Tx | None = None) -> list[int]:
        """Users a reminder about ``subject`` was sent to (they know of it, so they hear of its changes)."""
        sql = "SELECT DISTINCT user_id FROM reminders WHERE subject = ? AND state = 'sent' ORDER BY user_id"
        rows = await (tx.fetchall(sql, (subject,)) if tx is not None else self.fetchall(sql, (subject,)))
        return [int(r["user_id"]) for r in rows]

    @staticmethod
    async def forget_follower(tx: Tx, user_id: int) -> None:
        """A user who blocked the bot: no more follows, no pending reminders."""
        await tx.execute("DELETE FROM event_follows WHERE user_id = ?", (user_id,))
        await tx.execute("DELETE FROM deadline_follows WHERE user_id = ?", (user_id,))
        await tx.execute("DELETE FROM reminders WHERE user_id = ? AND state = 'pending'", (user_id,))

    # --- subscriptions, roles and announcements -------------------------------------------------------------

    async def subscription(self, user_id: int) -> SubscriptionRow | None:
        row = await self.fetchone("SELECT * FROM subscriptions WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        topics = await self.fetchall(
            "SELECT topic FROM subscription_topics WHERE user_id = ? ORDER BY topic", (user_id,)
        )
        return SubscriptionRow(
            user_id=int(row["user_id"]),
            announcements=bool(row["announcements"]),
            event_reminders=bool(row["event_reminders"]),
            deadline_reminders=bool(row["deadline_reminders"]),
            topics=frozenset(str(t["topic"]) for t in topics),
            updated_at=from_db_time(str(row["updated_at"])),
            ended=row["ended"],
        )

    async def offer_subscriptions(self, user_id: int, now: datetime) -> bool:
        """Record that the user was offered subscriptions (nothing switched on); True the first time only."""
        async with self.transaction() as tx:
            cur = await tx.execute(
                "INSERT INTO subscriptions (user_id, updated_at) VALUES (?, ?) ON CONFLICT(user_id) DO NOTHING",
                (user_id, to_db_time(now)),
            )
            return cur.rowcount == 1

    async def set_subscription(self, user_id: int, kind: str, on: bool, now: datetime) -> None:
        """Switch one subscription kind on or off (the user's own choice clears an earlier 'blocked' end)."""
        if kind not in SUBSCRIPTION_KINDS:
            raise ValueError(f"unknown subscription kind {kind!r}")
        async with self.transaction() as tx:
            await tx.execute(
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
        if kind not in SUBSCRIPTION_KINDS:
            raise ValueError(f"unknown subscription kind {kind!r}")
        rows = await self.fetchall(f"SELECT user_id FROM subscriptions WHERE {kind} = 1 ORDER BY user_id")
        return [int(r["user_id"]) for r in rows]

    # Announcement subscribers matching an audience: within a dimension any value matches, across dimensions all
    # must; an empty list means "everyone"; a user who chose no topics is interested in every topic.
    _AUDIENCE = (
        "FROM subscriptions s LEFT JOIN users u ON u.id = s.user_id "
        "WHERE s.announcements = 1 "
        "AND (json_array_length(?) = 0 OR u.bundesland IN (SELECT value FROM json_each(?))) "
        "AND (json_array_length(?) = 0 "
        "  OR NOT EXISTS (SELECT 1 FROM subscription_topics t WHERE t.user_id = s.user_id) "
        "  OR EXISTS (SELECT 1 FROM subscription_topics t WHERE t.user_id = s.user_id "
        "             AND t.topic IN (SELECT value FROM json_each(?))))"
    )

    @staticmethod
    def _audience_params(laender: Sequence[str], topics: Sequence[str]) -> tuple[str, str, str, str]:
        lands, tops = json.dumps(list(laender)), json.dumps(list(topics))
        return lands, lands, tops, tops

    async def count_audience(self, laender: Sequence[str], topics: Sequence[str]) -> int:
        row = await self.fetchone(f"SELECT COUNT(*) {self._AUDIENCE}", self._audience_params(laender, topics))
        return int(row[0]) if row is not None else 0

    async def create_invitation(
        self, code_hash: str, role: str, by: int, now: datetime, expires_at: datetime
    ) -> int:
        async with self.transaction() as tx:
            cur = await tx.execute(
                "INSERT INTO role_invitations (code_hash, role, created_by, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (code_hash, role, by, to_db_time(now), to_db_time(expires_at)),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    async def redeem_invitation(
        self,
        code_hash: str,
        user_id: int,
        now: datetime,
        notice: Callable[[InvitationRow, bool], tuple[int, dict[str, Any]] | None],
    ) -> tuple[InvitationRow, bool] | None:
        """Use an invitation once: mark it used, grant its role and record the change, in one transaction.

        ``notice(invitation, granted)`` returns ``(chat_id, payload)`` of a message for the inviter, or None; it is
        enqueued in the same transaction. Returns (invitation, newly granted) or None when the code is unknown,
        used or expired — then nothing changes.
        """
        async with self.transaction() as tx:
            cur = await tx.execute(
                "UPDATE role_invitations SET used_by = ?, used_at = ? "
                "WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?",
                (user_id, to_db_time(now), code_hash, to_db_time(now)),
            )
            if cur.rowcount != 1:
                return None
            row = await tx.fetchone("SELECT * FROM role_invitations WHERE code_hash = ?", (code_hash,))
            assert row is not None
            invitation = _invitation_row(row)
            cur = await tx.execute(
                "INSERT INTO roles (user_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(user_id, role) DO NOTHING",
                (user_id, invitation.role, invitation.created_by, to_db_time(now)),
            )
            granted = cur.rowcount == 1
            if granted:
                await tx.execute(
                    "INSERT INTO role_changes (user_id, role, action, changed_by, changed_at, via) "
                    "VALUES (?, ?, 'grant', ?, ?, 'invitation')",
                    (user_id, invitation.role, invitation.created_by, to_db_time(now)),
                )
            message = notice(invitation, granted)
            if message is not None:
                chat_id, payload = message
                await self.enqueue(tx, kind="message", chat_id=chat_id, payload=payload, now=now)
            return invitation, granted

    async def role_holders(self) -> list[tuple[int, str, datetime]]:
        """(user id, role, granted at) of every granted role."""
        rows = await self.fetchall("SELECT user_id, role, granted_at FROM roles ORDER BY role, granted_at")
        return [(int(r["user_id"]), str(r["role"]), from_db_time(str(r["granted_at"]))) for r in rows]

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
            cur = await tx.execute(
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
            assert cur.lastrowid is not None
            return cur.lastrowid

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
                f"SELECT ?, ?, s.user_id, ?, ?, ?, ? {self._AUDIENCE} ORDER BY s.user_id",
                (
                    kind,
                    f"announcement:{announcement_id}",
                    json.dumps(payload, ensure_ascii=False),
                    priority,
                    to_db_time(now),
                    to_db_time(now),
                    *self._audience_params(audience["laender"], audience["topics"]),
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
        async with self.transaction() as tx:
            cur = await tx.execute(
                "UPDATE announcements SET state = 'cancelled' WHERE id = ? AND state = 'scheduled'",
                (announcement_id,),
            )
            return cur.rowcount == 1

    async def set_announcement_progress(
        self, announcement_id: int, message_id: int | None, at: datetime
    ) -> None:
        async with self.transaction() as tx:
            await tx.execute(
                "UPDATE announcements SET progress_message_id = COALESCE(?, progress_message_id), "
                "progress_at = ? WHERE id = ?",
                (message_id, to_db_time(at), announcement_id),
            )

    async def delivery_counts(self, ref: str) -> DeliveryCounts:
        """Outbox rows of one ref: sent, pending, failed because the user blocked the bot (403), other failures."""
        rows = await self.fetchall(
            "SELECT state, (state = 'failed' AND error LIKE 'Forbidden%') AS blocked, COUNT(*) AS n "
            "FROM outbox WHERE ref = ? GROUP BY 1, 2",
            (ref,),
        )
        counts = {"sent": 0, "pending": 0, "blocked": 0, "failed": 0}
        for r in rows:
            key = "blocked" if r["blocked"] else str(r["state"])
            counts[key] += int(r["n"])
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
                await self.enqueue(tx, kind="message", chat_id=report[0], payload=report[1], now=now)
            return True

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

    async def request_counts_by_status(self) -> dict[str, int] | None:
        """Consultation requests by status, or None while the requests table (another feature) is not there."""
        columns = {str(r["name"]) for r in await self.fetchall("PRAGMA table_info(requests)")}
        if "status" not in columns:
            return None
        rows = await self.fetchall(
            "SELECT status, COUNT(*) AS n FROM requests GROUP BY status ORDER BY status"
        )
        return {str(r["status"]): int(r["n"]) for r in rows}

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

    async def schema(self) -> dict[str, list[ColumnInfo]]:
        """Every table of the bot (SQLite's own and the migration record left out) with its columns."""
        tables = await self.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'schema_migrations' ORDER BY name"
        )
        schema: dict[str, list[ColumnInfo]] = {}
        for table in tables:
            name = str(table["name"])
            columns = await self.fetchall(f"PRAGMA table_info({_q(name)})")
            schema[name] = [ColumnInfo(str(c["name"]), str(c["type"]), bool(c["notnull"])) for c in columns]
        return schema

    async def count_user_rows(self, rows: UserRows, user_id: int, exclude: UserRows | None = None) -> int:
        where, n = _user_predicate(rows)
        params: list[Any] = [user_id] * n
        if exclude is not None:
            other, m = _user_predicate(exclude)
            where = f"({where}) AND NOT ({other})"
            params += [user_id] * m
        row = await self.fetchone(f"SELECT COUNT(*) FROM {_q(rows.table)} WHERE {where}", params)
        return int(row[0]) if row else 0

    async def user_rows(
        self, rows: UserRows, user_id: int, columns: Sequence[str], exclude: UserRows | None = None
    ) -> list[dict[str, Any]]:
        """The ``columns`` of the user's rows (minus those ``exclude`` selects), in storage order."""
        if not columns:
            return []
        where, n = _user_predicate(rows)
        params: list[Any] = [user_id] * n
        if exclude is not None:
            other, m = _user_predicate(exclude)
            where = f"({where}) AND NOT ({other})"
            params += [user_id] * m
        select = ", ".join(_q(c) for c in columns)
        found = await self.fetchall(f"SELECT {select} FROM {_q(rows.table)} WHERE {where}", params)
        return [{c: r[c] for c in columns} for r in found]

    @staticmethod
    async def delete_user_rows(tx: Tx, rows: UserRows, user_id: int) -> int:
        where, n = _user_predicate(rows)
        cur = await tx.execute(f"DELETE FROM {_q(rows.table)} WHERE {where}", [user_id] * n)
        return max(cur.rowcount, 0)

    @staticmethod
    async def anonymise_user_rows(
        tx: Tx, rows: UserRows, user_id: int, id_columns: Sequence[ColumnInfo], scrub: Sequence[str]
    ) -> int:
        """Keep the rows, remove the id (NULL, or 0 where the column is NOT NULL) and blank ``scrub``."""
        where, n = _user_predicate(rows)
        sets = [f"{_q(c.name)} = {'0' if c.notnull else 'NULL'}" for c in id_columns]
        sets += [f"{_q(c)} = NULL" for c in scrub]
        if not sets:
            return 0
        cur = await tx.execute(f"UPDATE {_q(rows.table)} SET {', '.join(sets)} WHERE {where}", [user_id] * n)
        return max(cur.rowcount, 0)

    @staticmethod
    async def clear_user_id(
        tx: Tx, table: str, column: str, user_id: int, notnull: bool, also: Sequence[str] = ()
    ) -> int:
        """Remove a user's id from a column where it only records who acted (NULL, or 0 when NOT NULL), and
        blank the ``also`` columns that describe the same person (their name)."""
        sets = [f"{_q(column)} = {'0' if notnull else 'NULL'}", *(f"{_q(c)} = NULL" for c in also)]
        cur = await tx.execute(
            f"UPDATE {_q(table)} SET {', '.join(sets)} WHERE {_q(column)} = ?",
            (user_id,),
        )
        return max(cur.rowcount, 0)

    async def purge_older(
        self,
        table: str,
        time_column: str,
        cutoff: datetime,
        where: Mapping[str, Sequence[object]],
        children: Sequence[tuple[str, str, str]],
    ) -> int:
        """Delete rows of ``table`` whose ``time_column`` lies before ``cutoff`` and whose columns hold one of
        the ``where`` values; first the rows of ``children`` (table, column, parent key) that point to them."""
        conditions = [f"{_q(time_column)} IS NOT NULL", f"{_q(time_column)} < ?"]
        params: list[Any] = [to_db_time(cutoff)]
        for column, values in where.items():
            if not values:
                return 0
            conditions.append(f"{_q(column)} IN ({', '.join('?' for _ in values)})")
            params += list(values)
        selected = " AND ".join(conditions)
        purged = 0
        async with self.transaction() as tx:
            for child, column, key in children:
                cur = await tx.execute(
                    f"DELETE FROM {_q(child)} WHERE {_q(column)} IN "
                    f"(SELECT {_q(key)} FROM {_q(table)} WHERE {selected})",
                    params,
                )
                purged += max(cur.rowcount, 0)
            cur = await tx.execute(f"DELETE FROM {_q(table)} WHERE {selected}", params)
            purged += max(cur.rowcount, 0)
        return purged

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
            rows = await tx.fetchall(
                "SELECT state, (state = 'failed' AND error LIKE 'Forbidden%') AS blocked, COUNT(*) AS n "
                "FROM outbox WHERE ref = ? AND state != 'pending' GROUP BY 1, 2",
                (ref,),
            )
            counts = {"sent": 0, "pending": 0, "blocked": 0, "failed": 0}
            for r in rows:
                counts["blocked" if r["blocked"] else str(r["state"])] += int(r["n"])
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

    @staticmethod
    async def request_traces(tx: Tx, user_id: int) -> list[RequestTrace]:
        """The user's requests with every bot message about them in the staff chat (for erasure)."""
        rows = await tx.fetchall(
            "SELECT id, status, staff_chat_id, staff_thread_id, staff_message_id FROM requests "
            "WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        traces: list[RequestTrace] = []
        for r in rows:
            linked = await tx.fetchall(
                "SELECT chat_id, message_id FROM request_messages WHERE request_id = ? ORDER BY message_id",
                (r["id"],),
            )
            traces.append(
                RequestTrace(
                    id=int(r["id"]),
                    status=str(r["status"]),
                    staff_chat_id=r["staff_chat_id"],
                    staff_thread_id=r["staff_thread_id"],
                    staff_message_id=r["staff_message_id"],
                    messages=tuple((int(m["chat_id"]), int(m["message_id"])) for m in linked),
                )
            )
        return traces

    @staticmethod
    async def requests_claimed_by(tx: Tx, user_id: int) -> list[int]:
        rows = await tx.fetchall("SELECT id FROM requests WHERE claimed_by = ? ORDER BY id", (user_id,))
        return [int(r["id"]) for r in rows]

    @staticmethod
    async def delete_outbox_ref(tx: Tx, ref: str) -> int:
        """Every outbox row about ``ref`` (pending ones too): they carry the erased person's words."""
        cur = await tx.execute("DELETE FROM outbox WHERE ref = ?", (ref,))
        return max(cur.rowcount, 0)

    async def request_outbox_rows(self, user_id: int) -> list[OutboxRow]:
        """Outbox rows about the user's requests, to them and to the staff (for /meine_daten)."""
        rows = await self.fetchall(
            "SELECT o.* FROM outbox o JOIN requests r ON o.ref = 'request:' || r.id "
            "WHERE r.user_id = ? ORDER BY o.id",
            (user_id,),
        )
        return [_outbox_row(r) for r in rows]

    async def purge_finished_outbox(self, cutoff: datetime) -> int:
        """Delete sent rows (by ``sent_at``) and failed rows (by ``created_at``) older than ``cutoff``;
        pending rows are never touched."""
        stamp = to_db_time(cutoff)
        async with self.transaction() as tx:
            cur = await tx.execute(
                "DELETE FROM outbox WHERE (state = 'sent' AND COALESCE(sent_at, created_at) < ?) "
                "OR (state = 'failed' AND created_at < ?)",
                (stamp, stamp),
            )
            return max(cur.rowcount, 0)

    # --- privacy and retention: rows described without SQL by bot.privacy -------------------------------------

    # --- intake (bot/intake.py): updates stored before Telegram is told they arrived ----------------------------

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
        async with self.transaction() as tx:
            await tx.execute(
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

    # === editor report (bot/editor_report.py, handlers/editor.py) ===========================================
    # Misses by frequency and unhelpful articles for the report; the coordinators' monthly subscription
    # (table editor_report_subscriptions, migrations/0011_editor_report.sql).

    async def frequent_misses(self, limit: int) -> list[tuple[str, int, datetime]]:
        """Unanswered questions, the same wording (case and outer spaces aside) counted together: most frequent
        first, then the latest; each with how often and when it was last asked."""
        rows = await self.fetchall(
            "SELECT MIN(question) AS question, COUNT(*) AS n, MAX(created_at) AS last FROM advice_misses "
            "GROUP BY lower(trim(question)) ORDER BY n DESC, last DESC LIMIT ?",
            (limit,),
        )
        return [(str(r["question"]), int(r["n"]), from_db_time(str(r["last"]))) for r in rows]

    async def unhelpful_articles(self) -> list[tuple[str, int, int]]:
        """(article id, not helpful, helpful) for every article rated unhelpful at least once, most often first."""
        rows = await self.fetchall(
            "SELECT article_id, SUM(1 - helpful) AS bad, SUM(helpful) AS good FROM advice_ratings "
            "GROUP BY article_id HAVING bad > 0 ORDER BY bad DESC, good ASC, article_id"
        )
        return [(str(r["article_id"]), int(r["bad"]), int(r["good"])) for r in rows]

    async def editor_report_subscribed(self, user_id: int) -> bool:
        row = await self.fetchone("SELECT 1 FROM editor_report_subscriptions WHERE user_id = ?", (user_id,))
        return row is not None

    async def subscribe_editor_report(self, user_id: int, now: datetime, month: str) -> bool:
        """Subscribe (the first report comes the month after ``month``); False if already subscribed."""
        async with self.transaction() as tx:
            cur = await tx.execute(
                "INSERT OR IGNORE INTO editor_report_subscriptions (user_id, subscribed_at, last_sent_month) "
                "VALUES (?, ?, ?)",
                (user_id, to_db_time(now), month),
            )
            return cur.rowcount > 0

    async def unsubscribe_editor_report(self, user_id: int) -> bool:
        async with self.transaction() as tx:
            cur = await tx.execute("DELETE FROM editor_report_subscriptions WHERE user_id = ?", (user_id,))
            return cur.rowcount > 0

    async def editor_reports_due(self, month: str) -> list[int]:
        """Subscribers who have not had the report of ``month`` (YYYY-MM)."""
        rows = await self.fetchall(
            "SELECT user_id FROM editor_report_subscriptions WHERE last_sent_month < ? ORDER BY user_id",
            (month,),
        )
        return [int(r["user_id"]) for r in rows]

    @staticmethod
    async def mark_editor_report_sent(tx: Tx, user_id: int, month: str) -> None:
        await tx.execute(
            "UPDATE editor_report_subscriptions SET last_sent_month = ? WHERE user_id = ?", (month, user_id)
        )

    @staticmethod
    async def end_editor_report(tx: Tx, user_id: int) -> None:
        """Inside the outbox's failure transaction: the coordinator blocked the bot."""
        await tx.execute("DELETE FROM editor_report_subscriptions WHERE user_id = ?", (user_id,))

    # === end of editor report ===============================================================================


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    name: str
    type: str
    notnull: bool


@dataclass(frozen=True, slots=True)
class UserRows:
    """Which rows of a table are about a user, described without SQL (``bot.privacy`` builds it): a column
    equal to the id, a JSON-array column containing it, or a parent row that is about the user."""

    table: str
    equals: tuple[str, ...] = ()
    json_contains: tuple[str, ...] = ()
    parent: tuple[str, UserRows, str] | None = None  # (this table's column, the parent's rows, parent key)


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _q(name: str) -> str:
    """Quote an identifier that comes from code (the privacy registry), never from users."""
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


def _user_predicate(rows: UserRows) -> tuple[str, int]:
    """The WHERE clause selecting ``rows`` and how many times it needs the user id as a parameter."""
    table = _q(rows.table)
    parts = [f"{table}.{_q(c)} = ?" for c in rows.equals]
    parts += [
        f"EXISTS (SELECT 1 FROM json_each({table}.{_q(c)}) WHERE json_each.value = ?)"
        for c in rows.json_contains
    ]
    count = len(parts)
    if rows.parent is not None:
        column, parent, key = rows.parent
        inner, n = _user_predicate(parent)
        parts.append(f"{table}.{_q(column)} IN (SELECT {_q(key)} FROM {_q(parent.table)} WHERE {inner})")
        count += n
    if not parts:
        return "0", 0
    return " OR ".join(f"({p})" for p in parts), count


# --- advice: row types ---------------------------------------------------------------------------------------


class Rating(enum.Enum):
    """What storing a rating did: a first rating, a changed one, or the same as before (nothing stored)."""

    NEW = "new"
    CHANGED = "changed"
    KEPT = "kept"


# --- events, deadlines and reminders: row types --------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    seed_id: str | None
    seed_hash: str | None
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str | None
    online_url: str | None
    description: str
    bundesland: str | None
    topic: str
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


def _event_row(row: sqlite3.Row) -> EventRow:
    return EventRow(
        id=int(row["id"]),
        seed_id=row["seed_id"],
        seed_hash=row["seed_hash"],
        title=str(row["title"]),
        starts_at=from_db_time(str(row["starts_at"])),
        ends_at=from_db_time(str(row["ends_at"])),
        place=row["place"],
        online_url=row["online_url"],
        description=str(row["description"]),
        bundesland=row["bundesland"],
        topic=str(row["topic"]),
        state=str(row["state"]),
        version=int(row["version"]),
        created_by=row["created_by"],
        updated_by=row["updated_by"],
        created_at=from_db_time(str(row["created_at"])),
        updated_at=from_db_time(str(row["updated_at"])),
    )


def _reminder_row(row: sqlite3.Row) -> ReminderRow:
    return ReminderRow(
        id=int(row["id"]),
        user_id=int(row["user_id"]),
        subject=str(row["subject"]),
        target_at=from_db_time(str(row["target_at"])),
        lead_days=int(row["lead_days"]),
        due_at=from_db_time(str(row["due_at"])),
        state=str(row["state"]),
        outbox_id=row["outbox_id"],
        created_at=from_db_time(str(row["created_at"])),
        done_at=from_db_time(str(row["done_at"])) if row["done_at"] is not None else None,
    )


# --- rows of subscriptions, roles and announcements ----------------------------------------------------------

SUBSCRIPTION_KINDS = ("announcements", "event_reminders", "deadline_reminders")


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    user_id: int
    announcements: bool
    event_reminders: bool
    deadline_reminders: bool
    topics: frozenset[str]
    updated_at: datetime
    ended: str | None

    def wants(self, kind: str) -> bool:
        if kind not in SUBSCRIPTION_KINDS:
            raise ValueError(f"unknown subscription kind {kind!r}")
        return bool(getattr(self, kind))


@dataclass(frozen=True, slots=True)
class InvitationRow:
    id: int
    role: str
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_by: int | None
    used_at: datetime | None


def _invitation_row(row: sqlite3.Row) -> InvitationRow:
    return InvitationRow(
        id=int(row["id"]),
        role=str(row["role"]),
        created_by=int(row["created_by"]),
        created_at=from_db_time(str(row["created_at"])),
        expires_at=from_db_time(str(row["expires_at"])),
        used_by=row["used_by"],
        used_at=from_db_time(str(row["used_at"])) if row["used_at"] else None,
    )


@dataclass(frozen=True, slots=True)
class AnnouncementRow:
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

    def time_or_none(value: object) -> datetime | None:
        return from_db_time(str(value)) if value else None

    return AnnouncementRow(
        id=int(row["id"]),
        created_by=int(row["created_by"]),
        created_at=from_db_time(str(row["created_at"])),
        body=str(row["body"]),
        button=(str(row["button_label"]), str(row["button_url"])) if row["button_url"] else None,
        laender=tuple(audience.get("laender", [])),
        topics=tuple(audience.get("topics", [])),
        state=str(row["state"]),
        send_at=from_db_time(str(row["send_at"])),
        started_at=time_or_none(row["started_at"]),
        finished_at=time_or_none(row["finished_at"]),
        recipients=row["recipients"],
        progress_message_id=row["progress_message_id"],
        progress_at=time_or_none(row["progress_at"]),
    )


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    sent: int
    pending: int
    blocked: int
    failed: int

    @property
    def total(self) -> int:
        return self.sent + self.pending + self.blocked + self.failed


@dataclass(frozen=True, slots=True)
class SubscriptionStats:
    announcements: int
    event_reminders: int
    deadline_reminders: int
    by_land: tuple[tuple[str | None, int], ...]
    by_topic: tuple[tuple[str, int], ...]
    all_topics: int  # users with a subscription who chose no topic (= every topic)


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


@dataclass(frozen=True, slots=True)
class RequestTrace:
    """Where a request left bot messages in the staff chat: its post, its topic, the linked notes."""

    id: int
    status: str
    staff_chat_id: int | None
    staff_thread_id: int | None
    staff_message_id: int | None
    messages: tuple[tuple[int, int], ...]  # (chat id, message id) from request_messages
