"""The database layer: migrations are atomic and recorded, writes are serialised, WAL is on."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.app import MIGRATIONS_DIR
from bot.db import Database, MigrationError


async def test_migrations_apply_once_and_are_recorded(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "x.sqlite3")
    try:
        first = await db.migrate(MIGRATIONS_DIR)
        assert first and first[0] == "0001_init.sql"
        assert await db.migrate(MIGRATIONS_DIR) == []
        assert await db.applied_migrations() == first
        row = await db.fetchone("PRAGMA journal_mode")
        assert row is not None and row[0] == "wal"
    finally:
        await db.close()


async def test_releasing_the_page_cache_keeps_the_data_and_the_connection(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "x.sqlite3")
    try:
        await db.migrate(MIGRATIONS_DIR)
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (x INTEGER)")
            await tx.execute("INSERT INTO t VALUES (7)")
        await db.release_memory()
        assert [r[0] for r in await db.fetchall("SELECT x FROM t")] == [7]
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (8)")
        assert [r[0] for r in await db.fetchall("SELECT x FROM t ORDER BY x")] == [7, 8]
    finally:
        await db.close()


async def test_failed_migration_leaves_database_unchanged(tmp_path: Path) -> None:
    migrations = tmp_path / "m"
    migrations.mkdir()
    (migrations / "0001_a.sql").write_text("CREATE TABLE a (x INTEGER);")
    (migrations / "0002_b.sql").write_text("CREATE TABLE b (y INTEGER);\nINSERT INTO nowhere VALUES (1);")
    db = await Database.open(tmp_path / "x.sqlite3")
    try:
        with pytest.raises(MigrationError, match=r"0002_b\.sql"):
            await db.migrate(migrations)
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "a" in tables and "b" not in tables
        assert await db.applied_migrations() == ["0001_a.sql"]
        # Fixed file: the next start applies it.
        (migrations / "0002_b.sql").write_text("CREATE TABLE b (y INTEGER);")
        assert await db.migrate(migrations) == ["0002_b.sql"]
    finally:
        await db.close()


async def test_bad_migration_names_are_rejected(tmp_path: Path) -> None:
    migrations = tmp_path / "m"
    migrations.mkdir()
    (migrations / "1_bad.sql").write_text("SELECT 1;")
    db = await Database.open(tmp_path / "x.sqlite3")
    try:
        with pytest.raises(MigrationError, match=r"1_bad\.sql"):
            await db.migrate(migrations)
    finally:
        await db.close()


async def test_transactions_roll_back_and_serialise(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "x.sqlite3")
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (n INTEGER)")
        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (1)")
                raise RuntimeError("boom")
        assert await db.fetchall("SELECT n FROM t") == []

        async def add(n: int) -> None:
            async with db.transaction() as tx:
                row = await tx.fetchone("SELECT COUNT(*) FROM t")
                await asyncio.sleep(0)  # another writer would interleave here without the lock
                await tx.execute("INSERT INTO t VALUES (?)", (int(row[0]) if row else 0,))

        await asyncio.gather(*(add(i) for i in range(20)))
        counts = [int(r[0]) for r in await db.fetchall("SELECT n FROM t ORDER BY n")]
        assert counts == list(range(20))
    finally:
        await db.close()


async def test_a_read_beside_an_open_transaction_sees_only_what_was_committed(tmp_path: Path) -> None:
    """Updates run side by side on one connection: a read while another task's transaction is open must not see
    its rows half written, nor rows it then rolls back; the transaction's own task reads what it wrote."""
    db = await Database.open(tmp_path / "x.sqlite3")
    try:
        await db.write("CREATE TABLE t (n INTEGER)")
        written, release = asyncio.Event(), asyncio.Event()
        own: list[int] = []

        async def writer(fail: bool) -> None:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (1)")
                own.append(len(await db.fetchall("SELECT n FROM t")))  # the own task's read, no deadlock
                written.set()
                await release.wait()
                await tx.execute("INSERT INTO t VALUES (2)")
                if fail:
                    raise RuntimeError("boom")

        for fail, after in ((True, []), (False, [1, 2])):
            written.clear()
            release.clear()
            task = asyncio.create_task(writer(fail))
            await written.wait()
            reader = asyncio.create_task(db.fetchall("SELECT n FROM t ORDER BY n"))
            await asyncio.sleep(0.05)  # the reader's turn while the transaction is open
            release.set()
            rows = [int(r[0]) for r in await reader]
            if fail:
                with pytest.raises(RuntimeError):
                    await task
            else:
                await task
            assert rows == after  # never [1] (half written) nor a rolled-back row
        assert own == [1, 1]
    finally:
        await db.close()


async def test_online_backup_is_a_working_database(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "x.sqlite3")
    try:
        await db.migrate(MIGRATIONS_DIR)
        from datetime import UTC, datetime

        await db.touch_user(5, "de", datetime(2026, 1, 1, tzinfo=UTC))
        await db.backup(tmp_path / "backup" / "copy.sqlite3")
    finally:
        await db.close()
    copy = sqlite3.connect(tmp_path / "backup" / "copy.sqlite3")
    try:
        assert copy.execute("SELECT id, language FROM users").fetchall() == [(5, "de")]
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        copy.close()


async def test_roles_are_granted_revoked_and_audited(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    db = await Database.open(tmp_path / "x.sqlite3")
    now = datetime(2026, 5, 1, tzinfo=UTC)
    try:
        await db.migrate(MIGRATIONS_DIR)
        assert await db.grant_role(7, "coordinator", by=1, now=now, via="user_id")
        assert not await db.grant_role(7, "coordinator", by=1, now=now, via="user_id")
        assert await db.user_roles(7) == {"coordinator"}
        assert await db.revoke_role(7, "coordinator", by=1, now=now)
        assert not await db.revoke_role(7, "coordinator", by=1, now=now)
        changes = await db.fetchall(
            "SELECT action, changed_by FROM role_changes WHERE user_id = 7 ORDER BY id"
        )
        assert [(r["action"], r["changed_by"]) for r in changes] == [("grant", 1), ("revoke", 1)]
        await db.set_user_land(7, "NW", now)
        user = await db.get_user(7)
        assert user is not None and user.bundesland == "NW"
    finally:
        await db.close()


async def test_a_known_user_costs_no_database_read_and_erasure_forgets_them(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    db = await Database.open(tmp_path / "x.sqlite3")
    try:
        await db.migrate(MIGRATIONS_DIR)
        now = datetime(2026, 12, 4, tzinfo=UTC)
        assert await db.touch_user(5, "de", now) is True
        reads: list[str] = []
        original = db.fetchone

        async def counting(sql: str, params: Any = ()) -> Any:
            reads.append(sql)
            return await original(sql, params)

        db.fetchone = counting  # type: ignore[method-assign]
        assert await db.touch_user(5, "de", now) is False
        assert reads == []  # every update of a known user: no read, no write
        assert await db.touch_user(5, "en", now) is False  # a new language is written
        row = await original("SELECT language FROM users WHERE id = 5")
        assert row is not None and row["language"] == "en"
        async with db.transaction() as tx:
            await tx.execute("DELETE FROM users WHERE id = 5")
        db.forget_user(5)
        assert await db.touch_user(5, "en", now) is True  # recorded anew after an erasure
    finally:
        await db.close()
