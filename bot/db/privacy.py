"""Privacy and retention: rows about a user described without SQL by ``bot.privacy``, erased or purged."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from bot.db.core import DatabaseCore, Tx, to_db_time


class ColumnInfo(NamedTuple):
    """A column as SQLite's ``PRAGMA table_info`` describes it."""

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


def _selection(rows: UserRows, user_id: int, exclude: UserRows | None) -> tuple[str, list[Any]]:
    """The WHERE clause selecting ``rows`` minus those ``exclude`` selects, with its parameters."""
    where, n = _user_predicate(rows)
    params: list[Any] = [user_id] * n
    if exclude is not None:
        other, m = _user_predicate(exclude)
        where = f"({where}) AND NOT ({other})"
        params += [user_id] * m
    return where, params


class PrivacyMixin(DatabaseCore):
    """Privacy and retention: rows about a user described without SQL by ``bot.privacy``, erased or purged."""

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
        where, params = _selection(rows, user_id, exclude)
        row = await self.fetchone(f"SELECT COUNT(*) FROM {_q(rows.table)} WHERE {where}", params)
        return int(row[0]) if row else 0

    async def user_rows(
        self, rows: UserRows, user_id: int, columns: Sequence[str], exclude: UserRows | None = None
    ) -> list[dict[str, Any]]:
        """The ``columns`` of the user's rows (minus those ``exclude`` selects), in storage order."""
        if not columns:
            return []
        where, params = _selection(rows, user_id, exclude)
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
