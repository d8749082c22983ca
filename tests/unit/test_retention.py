"""Retention and backups: the daily job purges what is past its time (twice is harmless) and keeps N backups;
a backup taken while the bot writes restores into a working, up-to-date database."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

from bot import outbox
from bot.app import MIGRATIONS_DIR
from bot.backups import backup_name, backup_now, backups_in
from bot.context import Context
from bot.db import Database, to_db_time
from bot.privacy import RetentionRun
from bot.retention import JOB_NAME, daily_maintenance, run_retention
from tests.harness import Harness, harness

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
BERLIN_DAY = timedelta(days=1)


async def _outbox_row(h: Harness, chat_id: int, state: str, created: datetime) -> int:
    async with h.db.transaction() as tx:
        row_id = await h.db.enqueue(
            tx, kind=outbox.MESSAGE, chat_id=chat_id, payload=outbox.payload("x"), now=created
        )
        if state == "sent":
            await h.db.mark_outbox_sent(tx, row_id, 1, created)
        elif state == "failed":
            await h.db.fail_outbox(tx, row_id, "Forbidden: blocked")
    return row_id


async def test_delivered_outbox_rows_expire_pending_ones_never(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW, retention_outbox_days=30) as h:
        old = NOW - timedelta(days=31)
        young = NOW - timedelta(days=29)
        keep = {
            await _outbox_row(h, 1, "sent", young),
            await _outbox_row(h, 2, "failed", young),
            await _outbox_row(h, 3, "pending", old - timedelta(days=300)),
        }
        await _outbox_row(h, 4, "sent", old)
        await _outbox_row(h, 5, "failed", old)
        results = await run_retention(h.app.bot_data, NOW)
        assert results["delivered outbox rows"] == 2
        assert {int(r["id"]) for r in await h.db.fetchall("SELECT id FROM outbox")} == keep
        assert (await run_retention(h.app.bot_data, NOW))["delivered outbox rows"] == 0


async def test_rules_run_in_order_and_one_failure_does_not_stop_the_others(tmp_path: Path) -> None:
    ran: list[str] = []

    async def reduce_ledgers(run: RetentionRun) -> int:
        # Must see the outbox rows before the generic purge (order 90) deletes them.
        ran.append(f"reduce:{len(await run.db.fetchall('SELECT id FROM outbox'))}")
        return 0

    async def broken(run: RetentionRun) -> int:
        ran.append("broken")
        raise RuntimeError("bug in a feature's rule")

    async with harness(tmp_path, now=NOW) as h:
        await _outbox_row(h, 4, "sent", NOW - timedelta(days=60))
        h.app.bot_data.privacy.retention("broken", broken, order=10)
        h.app.bot_data.privacy.retention("ledgers", reduce_ledgers)
        results = await run_retention(h.app.bot_data, NOW)
    assert ran == ["broken", "reduce:1"]
    assert results["ledgers"] == 0 and results["delivered outbox rows"] == 1
    assert "broken" not in results
    assert list(results)[-1] == "delivered outbox rows"  # the generic purge runs last


async def test_daily_job_is_scheduled_at_the_local_maintenance_time(tmp_path: Path) -> None:
    async with harness(tmp_path, maintenance_time=time(4, 15), timezone="Europe/Berlin") as h:
        job = h.job(JOB_NAME)
        assert job.next_t is not None
        local = job.next_t.astimezone(h.app.bot_data.settings.tz)
        assert (local.hour, local.minute) == (4, 15)


async def test_daily_job_purges_then_backs_up_keeping_the_newest(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    async with harness(tmp_path, now=NOW, backup_dir=folder, backup_keep=3) as h:
        await _outbox_row(h, 4, "sent", NOW - timedelta(days=60))
        (folder / "notes.txt").parent.mkdir(parents=True, exist_ok=True)
        (folder / "notes.txt").write_text("operator's file, never touched")
        context = cast(Context, type("Ctx", (), {"bot_data": h.app.bot_data})())
        for day in range(5):
            h.clock.set(NOW + day * BERLIN_DAY)
            await daily_maintenance(context)
        await daily_maintenance(context)  # a second run the same day: one more file, still three kept
        files = backups_in(folder)
        assert [f.name for f in files] == [
            backup_name(NOW + d * BERLIN_DAY, h.app.bot_data.settings.tz) for d in (2, 3, 4)
        ]
        assert (folder / "notes.txt").exists()
        # The backups were taken after the purge: the expired row is in none of them.
        with closing(sqlite3.connect(files[-1])) as conn:
            assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone() == (0,)


async def test_backup_while_writing_restores_into_a_working_database(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "live.sqlite3")
    await db.migrate(MIGRATIONS_DIR)
    stop = asyncio.Event()
    progress = asyncio.Condition()
    written = 0

    async def writer(offset: int) -> None:
        nonlocal written
        n = 0
        while not stop.is_set():
            async with db.transaction() as tx:
                # Two writes that belong together: a backup must never hold one without the other.
                row = await db.enqueue(
                    tx, kind="message", chat_id=offset + n, payload={"text": "x" * 500}, now=NOW
                )
                await tx.execute(
                    "INSERT INTO users (id, first_seen) VALUES (?, ?)", (offset + n, to_db_time(NOW))
                )
                await asyncio.sleep(0)  # another task runs mid-transaction, as in the bot
                assert row
            n += 1
            written += 1
            async with progress:
                progress.notify_all()

    async def other_process_writes(path: Path) -> None:
        def work() -> None:
            with closing(sqlite3.connect(path, timeout=5)) as conn:
                for i in range(200):
                    with conn:
                        conn.execute(
                            "INSERT INTO role_changes (user_id, role, action, changed_by, changed_at, via) "
                            "VALUES (?, 'staff', 'grant', 1, ?, 'user_id')",
                            (i, to_db_time(NOW)),
                        )

        await asyncio.to_thread(work)

    try:
        tasks = [asyncio.create_task(writer(o)) for o in (10_000_000, 20_000_000)]
        side = asyncio.create_task(other_process_writes(tmp_path / "live.sqlite3"))
        copies: list[Path] = []
        for i in range(5):
            async with progress:
                await progress.wait_for(lambda: written >= 50 * (i + 1))  # noqa: B023
            # Bounded: a backup racing an open transaction on the same connection would hang, not fail.
            backup = backup_now(db, tmp_path / "backups", keep=10, now=NOW + timedelta(seconds=i), tz=UTC)
            copies.append(await asyncio.wait_for(backup, timeout=10))
        stop.set()
        await asyncio.gather(*tasks, side)
    finally:
        await db.close()
    assert written >= 250
    for copy in copies:
        assert Database.check_integrity(copy) == "ok"
        restored = await Database.open(copy)
        try:
            assert await restored.migrate(MIGRATIONS_DIR) == []  # up to date: the bot starts on it
            pairs: Any = await restored.fetchall(
                "SELECT (SELECT COUNT(*) FROM outbox), (SELECT COUNT(*) FROM users)"
            )
            outbox_rows, users = pairs[0]
            assert outbox_rows == users > 0  # every transaction whole, none half
        finally:
            await restored.close()


def test_check_integrity_reports_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100 + b"garbage" * 200)
    assert Database.check_integrity(broken) != "ok"


async def test_finished_announcement_ledgers_become_counts(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW, retention_announcement_days=30, retention_outbox_days=60) as h:
        db = h.db
        for user_id in (11, 12, 13):
            await db.set_subscription(user_id, "announcements", True, NOW)
        announcement = await db.create_announcement(
            created_by=1, body="Infobrief", button=None, laender=[], topics=[], send_at=NOW, now=NOW
        )
        assert (
            await db.start_announcement(announcement, kind="message", priority=10, payload={}, now=NOW) == 3
        )
        rows = await db.outbox_by_ref(f"announcement:{announcement}")
        async with db.transaction() as tx:
            await db.mark_outbox_sent(tx, rows[0].id, 1, NOW)
            await db.mark_outbox_sent(tx, rows[1].id, 2, NOW)
            await db.fail_outbox(tx, rows[2].id, "Forbidden: bot was blocked by the user")
        assert await db.finish_announcement(announcement, NOW, None)
        ref = f"announcement:{announcement}"
        before = await db.delivery_counts(ref)
        assert (before.sent, before.blocked, before.total) == (2, 1, 3)

        results = await run_retention(h.app.bot_data, NOW + timedelta(days=29))
        assert results["announcement ledgers"] == 0 and len(await db.outbox_by_ref(ref)) == 3
        results = await run_retention(h.app.bot_data, NOW + timedelta(days=31))
        assert results["announcement ledgers"] == 3
        assert await db.outbox_by_ref(ref) == []  # no chat ids, no message copies left
        assert await db.delivery_counts(ref) == before  # reports and /statistik show the same numbers
        results = await run_retention(h.app.bot_data, NOW + timedelta(days=32))
        assert results["announcement ledgers"] == 0
        assert await db.delivery_counts(ref) == before
