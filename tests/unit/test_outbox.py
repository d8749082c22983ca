"""The outbox: at-least-once delivery, retries with backoff, retry_after honoured, permanent failures recorded."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bot.clock import FakeClock
from bot.db import Database, OutboxRow, Tx
from bot.offline import OFFLINE_TOKEN, Call, OfflineBotApi
from bot.outbox import (
    HEADROOM,
    MAX_IN_FLIGHT,
    MESSAGE,
    TELEGRAM_PER_SECOND,
    CountingRateLimiter,
    Outbox,
    SendLog,
    payload,
    without_direct_retries,
)
from bot.pacing import Pacer
from tests.harness import harness

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


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


class VirtualTime:
    """Monotonic time for the pacer: a send costs ``send_cost`` seconds, every sleep oversleeps a little (as
    asyncio's does), so a pacer that counts from the end of each send drifts below its rate."""

    def __init__(self, send_cost: float, oversleep: float = 0.001) -> None:
        self.now = 100.0
        self.send_cost = send_cost
        self.oversleep = oversleep
        self.sends: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds + self.oversleep

    def on_call(self, call: Call) -> tuple[int, dict[str, Any]] | None:
        if call.method == "sendMessage":
            self.sends.append(self.now)
            self.now += self.send_cost
        return None


async def test_pacing_keeps_the_configured_rate_without_bursts(
    db: Database, bot_api: tuple[ExtBot[None], OfflineBotApi]
) -> None:
    bot, api = bot_api
    rate, interval = 20.0, 0.05
    time = VirtualTime(send_cost=0.005)
    outbox = Outbox(FakeClock(NOW), rate=rate, monotonic=time.monotonic, sleep=time.sleep)
    outbox.attach(db)
    for chat_id in range(1, 251):  # more than one batch
        await add(db, chat_id, "hallo")
    api.fail = time.on_call
    assert (await outbox.deliver_due(bot)).sent == 250
    gaps = [b - a for a, b in zip(time.sends, time.sends[1:], strict=False)]
    achieved = (len(time.sends) - 1) / (time.sends[-1] - time.sends[0])
    assert rate * 0.999 <= achieved <= rate, achieved  # sending and oversleeping do not slow it down
    assert min(gaps) >= interval - time.oversleep - 1e-9, min(gaps)  # and it never bursts


async def test_a_slow_send_is_not_made_up_by_a_burst(
    db: Database, bot_api: tuple[ExtBot[None], OfflineBotApi]
) -> None:
    bot, api = bot_api
    time = VirtualTime(send_cost=0.005)
    outbox = Outbox(FakeClock(NOW), rate=20, monotonic=time.monotonic, sleep=time.sleep)
    outbox.attach(db)
    for chat_id in range(1, 11):
        await add(db, chat_id, "hallo")

    def slow_third(call: Call) -> tuple[int, dict[str, Any]] | None:
        result = time.on_call(call)
        if len(time.sends) == 3:
            time.now += 0.5  # one send hangs for ten intervals
        return result

    api.fail = slow_third
    await outbox.deliver_due(bot)
    gaps = [b - a for a, b in zip(time.sends, time.sends[1:], strict=False)]
    assert len(time.sends) == 10 and min(gaps) >= 0.05 - 1e-9, gaps


async def test_flood_control_pauses_every_row_until_retry_after(
    db: Database, bot_api: tuple[ExtBot[None], OfflineBotApi]
) -> None:
    bot, api = bot_api
    clock = FakeClock(NOW)
    outbox = Outbox(clock, rate=1000)
    outbox.attach(db)
    await add(db, 1, "eins")
    await add(db, 2, "zwei")
    api.fail = failing(429, "Too Many Requests: retry after 7", times=1, parameters={"retry_after": 7})
    await outbox.deliver_due(bot)
    clock.advance(timedelta(seconds=6))
    assert (await outbox.deliver_due(bot)).sent == 0  # the other row waits too: Telegram said "wait 7 s"
    assert api.sent_to(2) == []
    clock.advance(timedelta(seconds=1))
    assert (await outbox.deliver_due(bot)).sent == 2


async def test_the_outbox_leaves_room_for_a_burst_of_replies(
    db: Database, bot_api: tuple[ExtBot[None], OfflineBotApi]
) -> None:
    bot, api = bot_api
    time = VirtualTime(send_cost=0.001)
    outbox = Outbox(FakeClock(NOW), rate=25, monotonic=time.monotonic, sleep=time.sleep)
    outbox.attach(db)
    burst_at = time.now
    for _ in range(TELEGRAM_PER_SECOND - HEADROOM):  # the bot just answered many users at once
        outbox.sends.note()
    for chat_id in range(1, 31):
        await add(db, chat_id, "hallo")

    def noted(call: Call) -> tuple[int, dict[str, Any]] | None:
        outbox.sends.note()  # what CountingRateLimiter does for every message in the running bot
        return time.on_call(call)

    api.fail = noted
    await outbox.deliver_due(bot)
    assert len(time.sends) == 30 and time.sends[0] >= burst_at + 1.0  # waited for the burst to age out
    # In no second did the bot send more than Telegram allows.
    everything = [burst_at] * (TELEGRAM_PER_SECOND - HEADROOM) + time.sends
    assert max(sum(1 for t in everything if start <= t < start + 1.0) for start in everything) <= 30


async def test_the_running_bot_notes_every_message_it_sends(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        sends = h.app.bot_data.outbox.sends
        assert sends.wait(1) == 0.0
        await h.send(h.user(5), "/start")
        assert sends.wait(1) > 0.0  # the welcome went through CountingRateLimiter


async def test_a_failing_after_send_hook_does_not_send_the_message_again_and_again(
    db: Database, bot_api: tuple[ExtBot[None], OfflineBotApi]
) -> None:
    bot, api = bot_api
    outbox = Outbox(FakeClock(NOW), rate=1000)
    outbox.attach(db)

    async def broken(tx: Tx, row: OutboxRow, message_id: int | None) -> None:
        raise KeyError("bug")

    outbox.register("broken", on_sent=broken)
    async with db.transaction() as tx:
        row_id = await db.enqueue(tx, kind="broken", chat_id=1, payload=payload("nur einmal"), now=NOW)
        await db.enqueue(tx, kind="message", chat_id=2, payload=payload("danach"), now=NOW)
    for _ in range(3):  # the worker of every tick
        await outbox.deliver_due(bot)
    assert [m.text for m in api.sent_to(1)] == ["nur einmal"]
    assert [m.text for m in api.sent_to(2)] == ["danach"]  # the rows behind it are not held up
    row = await db.outbox_row(row_id)
    assert row is not None and row.state == "sent"


async def test_a_failing_failure_hook_still_records_the_failure(
    db: Database, bot_api: tuple[ExtBot[None], OfflineBotApi]
) -> None:
    bot, api = bot_api
    outbox = Outbox(FakeClock(NOW), rate=1000)
    outbox.attach(db)

    async def broken(tx: Tx, row: OutboxRow, error: str) -> None:
        raise KeyError("bug")

    outbox.register("broken", on_failed=broken)
    api.fail = lambda call: (
        403,
        {"error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    async with db.transaction() as tx:
        row_id = await db.enqueue(tx, kind="broken", chat_id=1, payload=payload("x"), now=NOW)
    for _ in range(3):
        await outbox.deliver_due(bot)
    assert len([c for c in api.calls if c.method == "sendMessage"]) == 1
    row = await db.outbox_row(row_id)
    assert row is not None and row.state == "failed" and row.error is not None and "blocked" in row.error


async def test_several_sends_under_way_keep_the_rate_and_each_chats_order(
    db: Database, bot_api: tuple[ExtBot[None], OfflineBotApi]
) -> None:
    """A send waits for Telegram's answer (a round trip); the next ones start on schedule meanwhile, but never
    two for one chat, and each row is sent once."""
    bot, _api = bot_api
    time = VirtualTime(send_cost=0.0)
    outbox = Outbox(FakeClock(NOW), rate=25, monotonic=time.monotonic, sleep=time.sleep)
    outbox.attach(db)
    under_way: set[int] = set()
    most = 0
    started: list[tuple[float, int, str]] = []

    async def slow_deliver(_bot: ExtBot[None], row: OutboxRow) -> int | None:
        nonlocal most
        assert row.chat_id not in under_way, "two sends for one chat at once"
        under_way.add(row.chat_id)
        most = max(most, len(under_way))
        started.append((time.now, row.chat_id, str(row.payload["text"])))
        for _ in range(20):  # the round trip: the pacer goes on meanwhile
            await asyncio.sleep(0)
        under_way.discard(row.chat_id)
        return 1

    outbox.register("slow", deliver=slow_deliver)
    for chat_id in range(1, 41):
        await add(db, chat_id, "eins", kind="slow")
    for text in ("zwei", "drei"):
        await add(db, 7, text, kind="slow")
    assert (await outbox.deliver_due(bot)).sent == 42
    assert 1 < most <= MAX_IN_FLIGHT
    assert [t for _, chat, t in started if chat == 7] == ["eins", "zwei", "drei"]
    times = [at for at, _, _ in started]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1 / 25 - 1e-9  # still paced: no burst although sends overlap


async def test_the_next_batch_starts_while_the_last_sends_are_under_way_and_keeps_each_chats_order(
    db: Database, bot_api: tuple[ExtBot[None], OfflineBotApi]
) -> None:
    """The next batch is read while the previous batch's last sends still wait for Telegram: a row under way is
    not read again (sent once), and a chat's later row in the next batch waits for its earlier one."""
    bot, _api = bot_api
    time = VirtualTime(send_cost=0.0)
    outbox = Outbox(FakeClock(NOW), rate=25, monotonic=time.monotonic, sleep=time.sleep)
    outbox.attach(db)
    under_way: set[int] = set()
    sent: list[tuple[int, str]] = []
    batches_done: list[int] = []
    overlapped: list[bool] = []

    next_batch_started = asyncio.Event()

    async def slow_deliver(_bot: ExtBot[None], row: OutboxRow) -> int | None:
        assert row.chat_id not in under_way, "two sends for one chat at once"
        if row.chat_id == 600:
            overlapped.append(bool(under_way & {*range(1, 100), 500}))
            next_batch_started.set()
        under_way.add(row.chat_id)
        for _ in range(200):  # a long round trip
            await asyncio.sleep(0)
        if row.chat_id == 500 and row.payload["text"] == "eins":
            # The first batch's last send waits for Telegram until the next batch has begun (the database read
            # runs in a thread, so a number of loop turns is no bound); an outbox that waits for the whole
            # batch never begins it, and this send gives up after the bound below.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(next_batch_started.wait(), timeout=10)
        sent.append((row.chat_id, str(row.payload["text"])))
        under_way.discard(row.chat_id)
        return 1

    async def on_batch(_bot: ExtBot[None], refs: set[str]) -> None:
        batches_done.append(len(sent))

    outbox.register("slow", deliver=slow_deliver)
    outbox.on_progress(on_batch)
    for chat_id in range(1, 100):
        await add(db, chat_id, "eins", kind="slow")
    await add(db, 500, "eins", kind="slow")  # the last row of the first batch of 100
    await add(db, 600, "eins", kind="slow")  # the first of the next
    await add(db, 500, "zwei", kind="slow")
    await add(db, 500, "drei", kind="slow")
    report = await outbox.deliver_due(bot)
    assert report.sent == 103 and len(sent) == 103
    assert len(set(sent)) == 103  # each row once
    assert overlapped == [True]  # the second batch began while sends of the first were under way
    assert [text for chat, text in sent if chat == 500] == ["eins", "zwei", "drei"]
    assert len(batches_done) == 2 and batches_done[0] >= 100


class Flooded:
    """A rate limiter on virtual time whose requests note when they went out, or draw a 429."""

    def __init__(self, retry_after: int) -> None:
        self.time = VirtualTime(send_cost=0.0)
        self.limiter = CountingRateLimiter(
            SendLog(self.time.monotonic),
            max_retries=0,
            sleep=self.time.sleep,
            monotonic=self.time.monotonic,
            pacer=Pacer(monotonic=self.time.monotonic, sleep=self.time.sleep),
        )
        self.retry_after = retry_after
        self.went: list[tuple[int, float]] = []

    @classmethod
    async def start(cls, retry_after: int) -> Flooded:
        flooded = cls(retry_after)
        await flooded.limiter.initialize()
        return flooded

    async def request(self, chat_id: int, *, flood: bool = False) -> Any:
        async def call() -> bool:
            if flood:
                raise RetryAfter(timedelta(seconds=self.retry_after))
            self.went.append((chat_id, self.time.now))
            return True

        return await self.limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat_id}, None)


async def test_after_a_429_no_request_to_a_chat_goes_out_until_retry_after_has_passed() -> None:
    """With updates and outbox sends side by side, PTB's limiter alone did not hold the pause: its event is set
    again by any request that ends meanwhile (and with ``max_retries=0``, as here so that PTB does not sleep on
    the real clock before its retry, never cleared). A reply or send that starts after the 429 waits it out."""
    flooded = await Flooded.start(retry_after=7)
    flood_at = flooded.time.now
    with pytest.raises(RetryAfter):
        await flooded.request(1, flood=True)
    await flooded.request(2)  # someone else's reply
    with without_direct_retries():
        await flooded.request(3)  # an outbox send
    assert [chat for chat, _ in flooded.went] == [2, 3]
    assert all(at >= flood_at + 7 for _, at in flooded.went), flooded.went


async def test_a_429_for_a_group_pauses_that_group_only() -> None:
    """A group's 429 is its own 20 messages per minute: the staff group waits, nobody else's reply does."""
    flooded = await Flooded.start(retry_after=30)
    group = -100_123
    flood_at = flooded.time.now
    with pytest.raises(RetryAfter):
        await flooded.request(group, flood=True)
    await flooded.request(2)
    assert flooded.went[-1][1] < flood_at + 1  # a person's reply goes in its slot
    await flooded.request(group)
    chat, at = flooded.went[-1]
    assert chat == group and at == pytest.approx(flood_at + 30, abs=0.1)
