"""The outbox: at-least-once delivery, retries with backoff, retry_after honoured, permanent failures recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import ExtBot

from bot.app import MIGRATIONS_DIR
from bot.clock import FakeClock
from bot.db import Database, OutboxRow, Tx
from bot.offline import OFFLINE_TOKEN, Call, OfflineBotApi
from bot.outbox import MESSAGE, Outbox, payload

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "o.sqlite3")
    await database.migrate(MIGRATIONS_DIR)
    yield database
    await database.close()


@pytest.fixture
async def bot_api() -> AsyncIterator[tuple[ExtBot[None], OfflineBotApi]]:
    api = OfflineBotApi(strict=True)
    bot: ExtBot[None] = ExtBot(OFFLINE_TOKEN, request=api, get_updates_request=api)
    await bot.initialize()
    yield bot, api
    await bot.shutdown()


async def add(db: Database, chat_id: int, text: str, kind: str = MESSAGE, ref: str | None = None) -> int:
    async with db.transaction() as tx:
        return await db.enqueue(tx, kind=kind, chat_id=chat_id, payload=payload(text), now=NOW, ref=ref)


def failing(status: int, description: str, times: int, **extra: Any) -> Any:
    left = {"n": times}

    def fail(call: Call) -> tuple[int, dict[str, Any]] | None:
        if call.method == "sendMessage" and left["n"] > 0:
            left["n"] -= 1
            return status, {"error_code": status, "description": description, **extra}
        return None

    return fail


async def test_due_rows_are_sent_once(db: Database, bot_api: tuple[ExtBot[None], OfflineBotApi]) -> None:
    bot, api = bot_api
    clock = FakeClock(NOW)
    outbox = Outbox(clock, rate=1000)
    outbox.attach(db)
    first = await add(db, 1, "eins")
    await add(db, 2, "zwei")
    report = await outbox.deliver_due(bot)
    assert report.sent == 2
    assert [m.text for m in api.sent_to(1)] == ["eins"]
    assert [m.text for m in api.sent_to(2)] == ["zwei"]
    again = await outbox.deliver_due(bot)
    assert again.sent == 0 and len(api.sent_to(1)) == 1
    row = await db.outbox_row(first)
    assert row is not None and row.state == "sent" and row.message_id is not None


async def test_server_errors_are_retried_with_backoff(
    db: Database, bot_api: tuple[ExtBot[None], OfflineBotApi]
) -> None:
    bot, api = bot_api
    clock = FakeClock(NOW)
    outbox = Outbox(clock, rate=1000)
    outbox.attach(db)
    row_id = await add(db, 1, "hallo")
    api.fail = failing(502, "Bad Gateway", times=3)
    for _ in range(3):
        report = await outbox.deliver_due(bot)
        assert report.retried == 1 and not api.sent_to(1)
        row = await db.outbox_row(row_id)
        assert row is not None and row.state == "pending" and row.not_before > clock.now()
        clock.set(row.not_before)
    report = await outbox.deliver_due(bot)
    assert report.sent == 1 and [m.text for m in api.sent_to(1)] == ["hallo"]


async def test_retry_after_is_honoured_without_counting_an_attempt(
    db: Database, bot_api: tuple[ExtBot[None], OfflineBotApi]
) -> None:
    bot, api = bot_api
    clock = FakeClock(NOW)
    outbox = Outbox(clock, rate=1000)
    outbox.attach(db)
    row_id = await add(db, 1, "hallo")
    api.fail = failing(429, "Too Many Requests: retry after 7", times=1, parameters={"retry_after": 7})
    # PTB's rate limiter is not in play here: the outbox itself must honour retry_after.
    await outbox.deliver_due(bot)
    row = await db.outbox_row(row_id)
    assert row is not None and row.state == "pending" and row.attempts == 0
    assert row.not_before == NOW + timedelta(seconds=7)
    clock.advance(timedelta(seconds=6))
    assert (await outbox.deliver_due(bot)).sent == 0
    clock.advance(timedelta(seconds=1))
    assert (await outbox.deliver_due(bot)).sent == 1


async def test_blocked_user_fails_the_row_and_calls_the_hook(
    db: Database, bot_api: tuple[ExtBot[None], OfflineBotApi]
) -> None:
    bot, api = bot_api
    outbox = Outbox(FakeClock(NOW), rate=1000)
    outbox.attach(db)
    seen: list[tuple[int, str]] = []

    async def on_failed(tx: Tx, row: OutboxRow, error: str) -> None:
        seen.append((row.chat_id, error))

    outbox.register("note", on_failed=on_failed)
    row_id = await add(db, 5, "hallo", kind="note", ref="x:1")
    api.fail = failing(403, "Forbidden: bot was blocked by the user", times=1)
    report = await outbox.deliver_due(bot)
    assert report.failed == 1
    assert len(seen) == 1 and seen[0][0] == 5 and "blocked" in seen[0][1]
    row = await db.outbox_row(row_id)
    assert row is not None and row.state == "failed" and "blocked" in (row.error or "")
    assert await db.outbox_counts("x:1") == {"failed": 1}


async def test_gives_up_after_days_of_failure(
    db: Database, bot_api: tuple[ExtBot[None], OfflineBotApi]
) -> None:
    bot, api = bot_api
    clock = FakeClock(NOW + timedelta(days=4))
    outbox = Outbox(clock, rate=1000)
    outbox.attach(db)
    row_id = await add(db, 1, "alt")
    api.fail = failing(500, "Internal Server Error", times=1)
    await outbox.deliver_due(bot)
    row = await db.outbox_row(row_id)
    assert row is not None and row.state == "failed"


async def test_long_text_is_split(db: Database, bot_api: tuple[ExtBot[None], OfflineBotApi]) -> None:
    bot, api = bot_api
    outbox = Outbox(FakeClock(NOW), rate=1000)
    outbox.attach(db)
    await add(db, 1, "\n".join(f"Zeile {i} " + "x" * 90 for i in range(100)))
    await outbox.deliver_due(bot)
    sent = api.sent_to(1)
    assert len(sent) == 3 and all(len(m.text) <= 4096 for m in sent)
