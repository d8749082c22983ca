"""Scans a bot database for traces of a user: every column of every table, ids and text alike."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path


def traces(database: Path, *needles: int | str) -> list[str]:
    """``table.column (n rows)`` for every column that equals a needle or whose text contains it."""
    found: list[str] = []
    with closing(sqlite3.connect(database)) as conn:
        tables = [
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            columns = [str(r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                for needle in needles:
                    text = str(needle)
                    (n,) = conn.execute(
                        f'SELECT COUNT(*) FROM "{table}" WHERE "{column}" = ? OR "{column}" = ? '
                        f'OR instr(CAST("{column}" AS TEXT), ?) > 0',
                        (needle, text, text),
                    ).fetchone()
                    if n:
                        found.append(f"{table}.{column} ({n} rows contain {needle!r})")
    return found


def rows_mentioning(database: Path, table: str, user_id: int) -> list[dict[str, object]]:
    """The rows of ``table`` in which any column equals the id or contains it as text."""
    with closing(sqlite3.connect(database)) as conn:
        conn.row_factory = sqlite3.Row
        columns = [str(r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")')]
        where = " OR ".join(f'"{c}" = ? OR instr(CAST("{c}" AS TEXT), ?) > 0' for c in columns)
        params: list[object] = []
        for _ in columns:
            params += [user_id, str(user_id)]
        return [dict(r) for r in conn.execute(f'SELECT * FROM "{table}" WHERE {where}', params)]


# The project's naming rule for columns holding a Telegram user id (DESIGN/BRIEF), restated here so the tests
# derive the list from the migrated schema independently of ``bot.privacy``.
_ID_NAME = re.compile(r"^(user_id|.+_user_id|.+_by|chat_id)$")


def user_id_columns(database: Path) -> dict[str, list[str]]:
    """``{table: [columns]}`` for every column of the database whose name says it holds a Telegram user id."""
    found: dict[str, list[str]] = {}
    with closing(sqlite3.connect(database)) as conn:
        for (table,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ):
            columns = [str(r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")')]
            named = [c for c in columns if _ID_NAME.match(c)]
            if named:
                found[str(table)] = named
    return found


def child_rows(
    database: Path, table: str, column: str, parent: str, key: str, owners: list[str], user_id: int
) -> list[dict[str, object]]:
    """The rows of ``table`` that belong to a row of ``parent`` whose ``owners`` columns hold the user's id, and
    those that name the user themselves (as who acted)."""
    with closing(sqlite3.connect(database)) as conn:
        conn.row_factory = sqlite3.Row
        own = " OR ".join(f'p."{c}" = ?' for c in owners) or "0"
        rows = conn.execute(
            f'SELECT c.* FROM "{table}" c JOIN "{parent}" p ON c."{column}" = p."{key}" WHERE {own}',
            [user_id] * len(owners),
        ).fetchall()
    found = [dict(r) for r in rows]
    return found + [r for r in rows_mentioning(database, table, user_id) if r not in found]


def byte_traces(files: list[Path], *needles: str) -> list[str]:
    """``file: needle`` for every file whose raw bytes contain a needle (UTF-8, as SQLite stores text): free
    pages, the -wal file and unused space in pages included, which a scan through SQL cannot see."""
    found: list[str] = []
    for file in files:
        if not file.exists():
            continue
        data = file.read_bytes()
        found += [f"{file.name}: {needle!r}" for needle in needles if needle.encode("utf-8") in data]
    return found
