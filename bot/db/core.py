"""The only place with SQL: one aiosqlite connection in WAL mode, serialised writes, typed rows.

Reads run directly on the connection. Every write goes through ``transaction()``, which holds one asyncio lock
for the whole ``BEGIN IMMEDIATE … COMMIT`` so that writers never interleave their statements; feature methods
take an open transaction (``Tx``) where several writes must land together, e.g. a state change and its outbox
row.

This module holds the connection, transactions, time stamps, typed row reading and the schema; one module per
area adds its methods as a mixin on ``DatabaseCore``, and ``bot.db.Database`` joins them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import logging
import re
import sqlite3
import typing
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

import aiosqlite

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

log = logging.getLogger(__name__)

R = TypeVar("R", bound="DataclassInstance")


MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


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


def _optional_time(value: object) -> datetime | None:
    return from_db_time(str(value)) if value else None


# How a column's value becomes a row field, by the field's type; a type not listed is taken as stored.
_CONVERT: dict[Any, Callable[[Any], Any]] = {
    int: int,
    str: str,
    bool: bool,
    datetime: lambda value: from_db_time(str(value)),
    datetime | None: _optional_time,
    dict[str, Any]: json.loads,
    dict[str, str]: lambda value: {str(k): str(v) for k, v in json.loads(value).items()},
}


@functools.cache
def _converters(cls: type[DataclassInstance]) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((field.name, _CONVERT.get(hints[field.name])) for field in dataclasses.fields(cls))


def read_row(cls: type[R], row: sqlite3.Row, **given: Any) -> R:
    """A row type from a result row: each field from the column of its name, converted by the field's type
    (times, JSON), or as ``given``."""
    values = {}
    for name, convert in _converters(cls):
        if name in given:
            values[name] = given[name]
        else:
            value = row[name]
            values[name] = convert(value) if convert is not None else value
    return cls(**values)


def narrow(sql: str, params: Sequence[Any], equal: Mapping[str, object]) -> tuple[str, list[Any]]:
    """``sql`` limited to rows whose columns (written in code) equal the given values; None does not limit."""
    narrowed = list(params)
    for column, value in equal.items():
        if value is not None:
            sql += f"{' AND' if ' WHERE ' in sql else ' WHERE'} {column} = ?"
            narrowed.append(value)
    return sql, narrowed


class Reader:
    """Reads on the connection: ``Database`` itself, or an open transaction that reads what it wrote."""

    _conn: aiosqlite.Connection

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        async with self._conn.execute(sql, params) as cur:
            row: sqlite3.Row | None = await cur.fetchone()
            return row

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        async with self._conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def fetch_row(self, cls: type[R], sql: str, params: Sequence[Any] = ()) -> R | None:
        """The first result row as ``cls`` (see ``read_row``), or None."""
        row = await self.fetchone(sql, params)
        return read_row(cls, row) if row is not None else None

    async def fetch_rows(self, cls: type[R], sql: str, params: Sequence[Any] = ()) -> list[R]:
        return [read_row(cls, row) for row in await self.fetchall(sql, params)]

    async def fetch_time(self, sql: str, params: Sequence[Any] = ()) -> datetime | None:
        """The first column of the first row as a time, or None (no row, or NULL)."""
        row = await self.fetchone(sql, params)
        return from_db_time(str(row[0])) if row is not None and row[0] is not None else None


class Tx(Reader):
    """An open write transaction; only ``Database.transaction`` creates one."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Cursor:
        return await self._conn.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run an INSERT of one row and return its id."""
        cur = await self._conn.execute(sql, params)
        assert cur.lastrowid is not None
        return cur.lastrowid


# True in the task that holds the write transaction (and in tasks it starts): its reads need not wait for it.
_in_transaction: ContextVar[bool] = ContextVar("in_transaction", default=False)


class DatabaseCore(Reader):
    """One connection for the whole process; open with ``Database.open``.

    Reads and writes share the connection, so a read while another task's transaction is open would see that
    transaction half done, and rows it may still roll back (updates run side by side: a reply's read between
    the statements of an announcement's fan-out). Reads outside a transaction therefore wait for an open one to
    end (``_settled``); they are serialised on the connection's one thread anyway.
    """

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

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        async with self._settled():
            return await super().fetchone(sql, params)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        async with self._settled():
            return await super().fetchall(sql, params)

    @asynccontextmanager
    async def _settled(self) -> AsyncIterator[None]:
        if _in_transaction.get():
            yield  # the transaction's own task: it reads what it wrote, as through its ``Tx``
        else:
            async with self._write_lock:
                yield

    @classmethod
    async def open(cls, path: Path) -> Self:
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

    async def release_memory(self) -> None:
        """Free SQLite's page cache (after the start: the migrations and schema checks read every table's pages,
        about 0.2 MB the bot at rest does not need; what it reads later is cached again)."""
        await self._conn.execute("PRAGMA shrink_memory")

    async def close(self) -> None:
        async with self._write_lock:
            await self._conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any exception; writers are serialised."""
        async with self._write_lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            inside = _in_transaction.set(True)
            try:
                yield Tx(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            else:
                await self._conn.execute("COMMIT")
            finally:
                _in_transaction.reset(inside)

    async def write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement in a transaction of its own; how many rows it changed."""
        async with self.transaction() as tx:
            cur = await tx.execute(sql, params)
            return cur.rowcount

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
