"""Retention on the features' real data, driven by the daily job on an injected clock: closed requests and
their messages go after 365 days (open ones never), logged misses after 90 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from bot.context import Context
from bot.retention import daily_maintenance
from tests.handlers.requests_support import STAFF, STAFF_CHAT, data_of, deliver, file_request, staff_posts
from tests.harness import Harness, harness

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
REQUESTER = 4_711_000_123
OTHER = 4_711_000_456
MISS = "Wie wird das Wetter morgen in Paris?"


async def run_daily_job(h: Harness, at: datetime) -> None:
    h.clock.set(at)
    await daily_maintenance(cast(Context, type("Ctx", (), {"bot_data": h.app.bot_data})()))


async def count(h: Harness, sql: str, *params: object) -> int:
    row = await h.db.fetchone(sql, params)
    assert row is not None
    return int(row[0])


async def test_daily_job_purges_closed_requests_after_a_year_and_misses_after_90_days(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW) as h:
        settings = h.app.bot_data.settings
        assert (settings.retention_request_days, settings.retention_miss_days) == (365, 90)
        # A request that is answered and closed today, one that stays open, and a question without an answer.
        closed = await file_request(h, h.user(REQUESTER, "Erika"))
        await deliver(h)
        staff = h.user(STAFF, "Sabine")
        [post] = [m for m in staff_posts(h) if f"#{closed}" in m.text]
        await h.press(staff, post, data_of(post, "claim"))
        await h.send(staff, "Hier ist die Antwort.", chat=STAFF_CHAT, reply_to=post)
        await deliver(h)
        await h.press(staff, post, data_of(post, "done"))
        await deliver(h)
        still_open = await file_request(h, h.user(OTHER, "Max"))
        await deliver(h)
        await h.send(h.user(OTHER, "Max"), MISS)
        closed_request = await h.db.get_request(closed)
        assert closed_request is not None and closed_request.status == "erledigt"
        for table in ("request_history", "request_messages"):
            assert await count(h, f"SELECT COUNT(*) FROM {table} WHERE request_id = ?", closed)
        assert await count(h, "SELECT COUNT(*) FROM advice_misses") == 1

        await run_daily_job(h, NOW + timedelta(days=89))
        assert await count(h, "SELECT COUNT(*) FROM advice_misses") == 1
        await run_daily_job(h, NOW + timedelta(days=91))
        assert await count(h, "SELECT COUNT(*) FROM advice_misses") == 0
        assert await h.db.get_request(closed) is not None

        await run_daily_job(h, NOW + timedelta(days=364))
        assert await h.db.get_request(closed) is not None
        await run_daily_job(h, NOW + timedelta(days=366))
        assert await h.db.get_request(closed) is None
        for table in ("request_history", "request_messages"):
            assert await count(h, f"SELECT COUNT(*) FROM {table} WHERE request_id = ?", closed) == 0
        assert await count(h, "SELECT COUNT(*) FROM outbox WHERE ref = ?", f"request:{closed}") == 0
        # An open request is never purged, however old; its history stays with it.
        assert await h.db.get_request(still_open) is not None
        assert await count(h, "SELECT COUNT(*) FROM request_history WHERE request_id = ?", still_open)
        # A second run the same day finds nothing more to do.
        await run_daily_job(h, NOW + timedelta(days=366))
        assert await h.db.get_request(still_open) is not None


async def test_retention_periods_come_from_the_settings(tmp_path: Path) -> None:
    async with harness(tmp_path, now=NOW, retention_miss_days=7) as h:
        await h.send(h.user(OTHER, "Max"), MISS)
        await run_daily_job(h, NOW + timedelta(days=6))
        assert await count(h, "SELECT COUNT(*) FROM advice_misses") == 1
        await run_daily_job(h, NOW + timedelta(days=8))
        assert await count(h, "SELECT COUNT(*) FROM advice_misses") == 0
