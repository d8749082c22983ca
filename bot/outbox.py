"""Durable delivery of every message that must not be lost (staff notices, relays, reminders, announcements).

A feature writes its state change and the outbox row in one transaction (``Database.enqueue``); this module
delivers due rows: at-least-once — a row is marked sent only after Telegram accepted it, so a crash in between
sends it once more after the restart: a crash repeats a row at most once, and only the sends under way at that
moment (at most ``MAX_IN_FLIGHT``; about two at 25/s and 80 ms per call). Network errors, 5xx and 429 are retried
(429 after Telegram's retry_after, without counting an attempt); 403 (blocked, deactivated) and 400 fail the row
for good and call the kind's hook, e.g. to end a subscription.

Pacing: one worker at a time, started by ``kick`` (right after a new row is committed, and by the periodic
job-queue tick for rows that became due later; ``start`` gives the outbox the bot and a way to run it), sends
at most ``rate`` messages per second, so interactive replies keep their share of Telegram's ~30/s. Sends start on
a fixed schedule (each slot one interval after the previous slot, not after the previous send finished), so
the time a send takes does not slow the rate below the setting; a worker that fell behind starts again from
now instead of catching up in a burst. A 429 pauses every send until its retry_after has passed. The bot's
other messages (replies, notices sent directly) are noted by ``CountingRateLimiter`` in the outbox's
``SendLog``; the outbox waits while they and its own sends fill Telegram's 30 per second. Every request to a
chat also takes a slot of ``bot.pacing.Pacer`` (28 per second), replies before the outbox's sends, so a burst of
replies delays the outbox's sends there and the pacer catches up after it, within Telegram's limit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ExtBot

from bot.clock import Clock
from bot.db import Database, OutboxRow, Tx
from bot.pacing import Pacer
from bot.telegram_html import split_message

log = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(days=3)
MESSAGE = "message"  # the generic kind: send ``payload`` as it is, no hooks
MAX_BACKOFF_SECONDS = 300
BATCH = 100
TELEGRAM_PER_SECOND = 30  # messages per second Telegram allows a bot across all chats
# Sends per second the outbox leaves free when it waits for room. None: every request to a chat takes a slot of
# ``bot.pacing.Pacer`` (28 per second), where a waiting reply goes before the outbox's sends, so the outbox only
# gets the slots replies leave; a headroom made it stop (and lose its schedule) after every burst of replies.
HEADROOM = 0
# Sends under way at once: enough to keep the rate while each waits a network round trip (25/s × 80 ms = 2)
# and, after a burst of replies, its turn at the pacer (10 replies at once: 10 slots, 0.35 s, 9 sends), so the
# schedule goes on meanwhile and the pacer catches up after the burst; few enough that a 429 stops the outbox
# within a handful of messages.
MAX_IN_FLIGHT = 16
SEND_METHODS = frozenset(
    {"sendMessage", "sendDocument", "sendPhoto", "sendMediaGroup", "copyMessage", "forwardMessage"}
)

# Runs the worker in the background and returns its task, or closes the coroutine and returns None when nothing
# may start now (the application is not running).
Spawn = Callable[[Coroutine[Any, Any, "PassReport"]], "asyncio.Task[PassReport] | None"]
# A deliverer sends one row and returns the id of the (last) message Telegram created.
Deliverer = Callable[[ExtBot[None], OutboxRow], Awaitable[int | None]]
# Hooks run inside the transaction that records the outcome, so their state changes land with it.
SentHook = Callable[[Tx, OutboxRow, int | None], Awaitable[None]]
FailedHook = Callable[[Tx, OutboxRow, str], Awaitable[None]]
PassHook = Callable[[ExtBot[None], set[str]], Awaitable[None]]


@dataclass
class Kind:
    deliver: Deliverer
    on_sent: SentHook | None = None
    on_failed: FailedHook | None = None


async def send_payload(bot: ExtBot[None], row: OutboxRow) -> int | None:
    """The default deliverer: ``payload`` holds ``text`` and optionally ``reply_markup``, ``message_thread_id``,
    ``reply_to_message_id``. Texts over Telegram's limit are split; the keyboard goes with the last part."""
    payload = row.payload
    markup = (
        InlineKeyboardMarkup.de_json(payload["reply_markup"], bot) if payload.get("reply_markup") else None
    )
    parts = split_message([str(payload["text"])])
    message: Message | None = None
    for index, part in enumerate(parts):
        message = await bot.send_message(
            row.chat_id,
            part,
            reply_markup=markup if index == len(parts) - 1 else None,
            message_thread_id=payload.get("message_thread_id"),
            reply_to_message_id=payload.get("reply_to_message_id") if index == 0 else None,
            allow_sending_without_reply=True if payload.get("reply_to_message_id") else None,
        )
    return message.message_id if message else None


class SendLog:
    """When the bot sent its messages during the last second (every chat, every feature)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._times: deque[float] = deque()

    def note(self) -> None:
        self._times.append(self._monotonic())

    def wait(self, limit: int) -> float:
        """Seconds until fewer than ``limit`` sends fall into the last second; 0 when there is room now."""
        now = self._monotonic()
        while self._times and self._times[0] <= now - 1.0:
            self._times.popleft()
        if len(self._times) < limit:
            return 0.0
        return self._times[len(self._times) - limit] + 1.0 - now


# Where a user waits (a reply, an edited menu, the answer to a press), a transient failure is tried again at
# once: a network error, a timeout, any 5xx (PTB raises NetworkError for them, also for nginx's 502 HTML page).
# Three tries within about three seconds; the outbox retries on its own schedule and is not retried here.
RETRY_DELAYS = (0.3, 1.0)
RETRY_BUDGET_SECONDS = 3.0  # no further try starts later than this after the first
_direct_retries: ContextVar[bool] = ContextVar("direct_retries", default=True)


def is_transient(error: BaseException) -> bool:
    """A failure another try may not have: network trouble, timeouts, 5xx (not 400: BadRequest is a
    NetworkError in PTB, but the same request fails the same way)."""
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


@dataclass
class RetryStats:
    retried: int = 0  # extra tries made
    recovered: int = 0  # requests that succeeded on a later try
    gave_up: int = 0  # requests that failed every try


class CountingRateLimiter(AIORateLimiter):
    """PTB's rate limiter with even pacing of every request to a chat (``bot.pacing``, replies before the
    outbox's sends) that also notes each message the bot sends in ``sends`` (the outbox's log) and tries a
    request again after a transient failure (``RETRY_DELAYS``), except inside the outbox's worker."""

    def __init__(
        self,
        sends: SendLog,
        *,
        max_retries: int = 0,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        pacer: Pacer | None = None,
    ) -> None:
        # Telegram's 30 per second as an even 28 (a bucket of 30 that refills as it drains lets 30 go at once and
        # more in the same second, which Telegram answers with 429: 17 of them with 10 users asking). ``pacer``
        # does it for every request to a chat, as PTB's overall limiter would, with replies first; PTB's own
        # limiter keeps the 20 per minute per group and retries after a 429; the pause after it is held here.
        super().__init__(overall_max_rate=0, overall_time_period=0, max_retries=max_retries)
        self.pacer = pacer or Pacer()
        self._sends = sends
        self._retry_delays = retry_delays
        self._sleep = sleep
        self._monotonic = monotonic
        self.retry_stats = RetryStats()
        # After a 429 for a group, when requests to it may go out again (monotonic). PTB's limiter pauses with an
        # event that any request ending meanwhile sets again, so with updates and outbox sends side by side its
        # pause lasted until the next answer came back (a round trip), not ``retry_after``. A 429 for a group is
        # its own 20 per minute and pauses that group; one for a private chat is the bot's 30 per second (a
        # person's chat is never sent to faster) and holds the pacer, which then goes on evenly.
        self._group_flood_until: dict[int | str, float] = {}

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if (chat := data.get("chat_id")) is not None:
            original = callback
            background = not _direct_retries.get()  # the outbox's sends give way to replies
            send = endpoint in SEND_METHODS

            async def paced(*a: Any, **kw: Any) -> bool | dict[str, Any] | list[dict[str, Any]]:
                await self._wait_out_group_flood(chat)
                await self.pacer.wait(background)  # again for a try after a 429
                await self._wait_out_group_flood(chat)  # a 429 that came while this waited for its slot
                if send:
                    self._sends.note()  # when the request really goes out, after the limiter's own waits
                try:
                    return await original(*a, **kw)
                except RetryAfter as exc:
                    self._note_flood(chat, exc)
                    raise

            callback = paced
        if not _direct_retries.get():
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        started = self._monotonic()
        for attempt, delay in enumerate([*self._retry_delays, None], start=1):
            try:
                result = await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except Exception as exc:
                late = self._monotonic() - started + (delay or 0) > RETRY_BUDGET_SECONDS
                if not is_transient(exc) or delay is None or late:
                    if is_transient(exc):
                        self.retry_stats.gave_up += 1
                    raise
                self.retry_stats.retried += 1
                log.info("%s failed (%s): try %s", endpoint, type(exc).__name__, attempt + 1)
                await self._sleep(delay)
                continue
            if attempt > 1:
                self.retry_stats.recovered += 1
            return result
        raise AssertionError("unreachable")

    def _note_flood(self, chat: int | str, exc: RetryAfter) -> None:
        pause = exc.retry_after
        seconds = pause.total_seconds() if isinstance(pause, timedelta) else float(pause)
        now = self._monotonic()
        if isinstance(chat, int) and chat > 0:  # a private chat (positive id): the bot's overall limit
            self.pacer.hold(now + seconds)
            return
        for key in [key for key, until in self._group_flood_until.items() if until <= now]:
            del self._group_flood_until[key]  # over: a group that drew one 429 is not kept for ever
        self._group_flood_until[chat] = max(self._group_flood_until.get(chat, now), now + seconds)

    async def _wait_out_group_flood(self, chat: int | str) -> None:
        while (left := self._group_flood_until.get(chat, float("-inf")) - self._monotonic()) > 0:
            await self._sleep(left)


@contextmanager
def without_direct_retries() -> Iterator[None]:
    """Requests made inside are tried once (the outbox reschedules a failed row itself)."""
    token = _direct_retries.set(False)
    try:
        yield
    finally:
        _direct_retries.reset(token)


@dataclass
class PassReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    refs: set[str] = field(default_factory=set)


class Outbox:
    """Registry of kinds and the single delivery worker."""

    def __init__(
        self,
        clock: Clock,
        rate: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._db_ref: Database | None = None
        self._clock = clock
        self._interval = 1.0 / rate
        self._monotonic = monotonic  # pacing runs on real time (tests inject a virtual one)
        self._sleep = sleep
        self._next_slot = 0.0  # monotonic time from which the next send may start
        self._paused_until: datetime | None = None  # after a 429: no send before this (clock time)
        self.sends = SendLog(monotonic)  # every message the bot sends, noted by CountingRateLimiter
        self._kinds: dict[str, Kind] = {MESSAGE: Kind(send_payload)}
        self._pass_hooks: list[PassHook] = []
        # Batches finish side by side, their progress hooks one at a time (a hook reads, decides and writes, e.g.
        # the announcement's throttled progress edit, and must not interleave with itself).
        self._hooks_running = asyncio.Lock()
        self._busy = asyncio.Lock()
        self._stopping = False
        self._bot: ExtBot[None] | None = None
        self._spawn: Spawn | None = None
        self._worker: asyncio.Task[PassReport] | None = None

    def attach(self, db: Database) -> None:
        """Connect to the database once it is open (post_init)."""
        self._db_ref = db
        self._stopping = False

    def start(self, bot: ExtBot[None], spawn: Spawn) -> None:
        """Let ``kick`` start workers that send with ``bot``, run in the background by ``spawn``."""
        self._bot = bot
        self._spawn = spawn

    def kick(self) -> None:
        """Deliver due rows in the background now; call right after committing a new row. Does nothing while
        a worker runs (it picks the row up in its next batch) or before ``start``."""
        if self._bot is None or self._spawn is None or self.busy or self._stopping:
            return
        self._worker = self._spawn(self.deliver_due(self._bot))

    async def idle(self) -> None:
        """Wait until no worker is sending, including one kicked but not yet started (for tests and tools that
        must see the outcome of a pass)."""
        while (worker := self._worker) is not None and not worker.done():
            await asyncio.wait({worker})
        async with self._busy:
            pass

    @property
    def _db(self) -> Database:
        if self._db_ref is None:
            raise RuntimeError("outbox not attached to a database")
        return self._db_ref

    def register(
        self,
        kind: str,
        *,
        deliver: Deliverer = send_payload,
        on_sent: SentHook | None = None,
        on_failed: FailedHook | None = None,
    ) -> None:
        self._kinds[kind] = Kind(deliver, on_sent, on_failed)

    def on_progress(self, hook: PassHook) -> None:
        """Called after each batch with the refs that changed (announcement progress messages use it)."""
        self._pass_hooks.append(hook)

    @property
    def busy(self) -> bool:
        return self._busy.locked()

    def stop(self) -> None:
        """Finish the current send and stop; pending rows stay pending for the next start."""
        self._stopping = True

    async def deliver_due(self, bot: ExtBot[None]) -> PassReport:
        """Send everything due now, paced. While another worker runs this waits for it and then looks again, so a
        caller that awaits it knows everything due was tried (background starts check ``busy`` first)."""
        report = PassReport()
        if self._paused():
            return report
        async with self._busy:
            with without_direct_retries():
                return await self._deliver_pass(bot, report)

    async def _deliver_pass(self, bot: ExtBot[None], report: PassReport) -> PassReport:
        """Send due rows in batches without a gap between them: the next batch is read while the last sends of
        the one before are still under way (rows under way are left out of it), and each batch is tallied and
        its progress hooks run once its sends are done, beside the next batch's sends."""
        under_way: dict[int, asyncio.Task[str]] = {}  # row id → its send, until the send is done
        last_of_chat: dict[int, asyncio.Task[str]] = {}
        async with asyncio.TaskGroup() as group:
            while not self._stopping and not self._paused():
                # Rows whose send is done have their outcome committed (a send's task ends after its write),
                # so the query cannot return them; rows still under way are skipped.
                skip = {row_id for row_id, task in under_way.items() if not task.done()}
                fetched = await self._db.due_outbox(self._clock.now(), BATCH + len(skip))
                rows = [row for row in fetched if row.id not in skip][:BATCH]
                if not rows:
                    break
                started = await self._start_batch(group, bot, rows, under_way, last_of_chat)
                group.create_task(self._finish_batch(bot, rows[: len(started)], started, report))
                for row_id in [row_id for row_id, task in under_way.items() if task.done()]:
                    del under_way[row_id]
                if len(started) < len(rows):
                    break  # stopped, or paused by a 429
        return report

    async def _finish_batch(
        self, bot: ExtBot[None], rows: list[OutboxRow], started: list[asyncio.Task[str]], report: PassReport
    ) -> None:
        outcomes = [await task for task in started]
        for outcome in outcomes:
            if outcome == "sent":
                report.sent += 1
            elif outcome == "failed":
                report.failed += 1
            else:
                report.retried += 1
        batch_refs = {row.ref for row in rows if row.ref}
        report.refs |= batch_refs
        await self.run_pass_hooks(bot, batch_refs)

    async def _start_batch(
        self,
        group: asyncio.TaskGroup,
        bot: ExtBot[None],
        rows: list[OutboxRow],
        under_way: dict[int, asyncio.Task[str]],
        last_of_chat: dict[int, asyncio.Task[str]],
    ) -> list[asyncio.Task[str]]:
        """Start rows on the rate's schedule with up to ``MAX_IN_FLIGHT`` sends under way at once, so the round
        trip to Telegram does not slow the rate; one chat's rows go one after the other, in order. A 429 stops
        new sends (those under way finish). Returns the sends started, in row order."""
        started: list[asyncio.Task[str]] = []
        for row in rows:
            if self._stopping or self._paused():
                break
            previous = last_of_chat.get(row.chat_id)
            if previous is not None:
                await asyncio.wait({previous})
            while len(busy := [t for t in under_way.values() if not t.done()]) >= MAX_IN_FLIGHT:
                await asyncio.wait(busy, return_when=asyncio.FIRST_COMPLETED)
            if any(t.done() and t.result() == "flood" for t in under_way.values()):
                break
            await self._wait_for_slot()
            if self._paused():
                break
            task = group.create_task(self._deliver_one(bot, row))
            started.append(task)
            under_way[row.id] = task
            last_of_chat[row.chat_id] = task
            await asyncio.sleep(0)  # the send starts in its slot, not when the pacer next waits
        return started

    def _paused(self) -> bool:
        return self._paused_until is not None and self._clock.now() < self._paused_until

    async def _wait_for_slot(self) -> None:
        """At most ``rate`` sends per second: wait for the next slot, then book the one after it; and wait
        while the bot's other messages and the outbox's own fill Telegram's limit for the last second."""
        now = self._monotonic()
        slot = max(self._next_slot, now)  # behind schedule: start from now, no burst to catch up
        if slot > now:
            await self._sleep(slot - now)
        while (room := self.sends.wait(TELEGRAM_PER_SECOND - HEADROOM)) > 0:
            await self._sleep(room)
            slot = self._monotonic()
        self._next_slot = slot + self._interval

    @asynccontextmanager
    async def hooks_held(self) -> AsyncIterator[None]:
        """No progress hook runs meanwhile: for setting up what the hooks read (an announcement's progress
        message) while its rows may already be going out."""
        async with self._hooks_running:
            yield

    async def run_pass_hooks(self, bot: ExtBot[None], refs: set[str]) -> None:
        """Run the progress hooks for ``refs``, one at a time: after each batch, and from the periodic tick."""
        async with self._hooks_running:
            for hook in self._pass_hooks:
                try:
                    await hook(bot, refs)
                except Exception:
                    log.exception("outbox progress hook failed")

    async def _deliver_one(self, bot: ExtBot[None], row: OutboxRow) -> str:
        kind = self._kinds.get(row.kind)
        if kind is None:
            await self._fail(row, None, f"unknown kind {row.kind}")
            return "failed"
        try:
            message_id = await kind.deliver(bot, row)
        except RetryAfter as exc:
            delay = (
                exc.retry_after
                if isinstance(exc.retry_after, timedelta)
                else timedelta(seconds=exc.retry_after)
            )
            self._paused_until = self._clock.now() + delay
            await self._db.postpone_outbox(row.id, self._paused_until, "RetryAfter")
            log.warning("outbox: flood control, pausing %s s", delay.total_seconds())
            return "flood"
        except Forbidden as exc:
            await self._fail(row, kind, f"Forbidden: {exc.message}")
            return "failed"
        except ChatMigrated as exc:
            await self._fail(row, kind, f"ChatMigrated: {exc.new_chat_id}")
            return "failed"
        except BadRequest as exc:
            await self._fail(row, kind, f"BadRequest: {exc.message}")
            return "failed"
        except (TimeoutError, TelegramError, OSError) as exc:
            return await self._retry(row, kind, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a bug in a deliverer must not stop all delivery
            log.exception("outbox: deliverer for %s raised", row.kind)
            return await self._retry(row, kind, f"{type(exc).__name__}")
        on_sent = kind.on_sent
        await self._record(
            row,
            lambda tx: self._db.mark_outbox_sent(tx, row.id, message_id, self._clock.now()),
            None if on_sent is None else lambda tx: on_sent(tx, row, message_id),
        )
        return "sent"

    async def _retry(self, row: OutboxRow, kind: Kind, error: str) -> str:
        now = self._clock.now()
        if now - row.created_at > GIVE_UP_AFTER:
            await self._fail(row, kind, f"gave up: {error}")
            return "failed"
        delay = min(MAX_BACKOFF_SECONDS, 2 ** min(row.attempts, 10))
        await self._db.retry_outbox(row.id, now + timedelta(seconds=delay), error[:300])
        log.info("outbox: row %s (%s) retry in %s s: %s", row.id, row.kind, delay, error.split(":")[0])
        return "retry"

    async def _fail(self, row: OutboxRow, kind: Kind | None, error: str) -> None:
        log.info("outbox: row %s (%s) failed: %s", row.id, row.kind, error.split(":")[0])
        on_failed = kind.on_failed if kind is not None else None
        await self._record(
            row,
            lambda tx: self._db.fail_outbox(tx, row.id, error[:300]),
            None if on_failed is None else lambda tx: on_failed(tx, row, error),
        )

    async def _record(
        self,
        row: OutboxRow,
        record: Callable[[Tx], Awaitable[None]],
        hook: Callable[[Tx], Awaitable[None]] | None,
    ) -> None:
        """Record a row's outcome together with its kind's hook; a bug in the hook (it raised) is logged and
        the outcome recorded without it, so a message that went out is not sent again and again."""
        hook_failed = False
        try:
            async with self._db.transaction() as tx:
                await record(tx)
                if hook is not None:
                    try:
                        await hook(tx)
                    except Exception:
                        hook_failed = True
                        raise
        except Exception:
            if not hook_failed:
                raise
            log.exception("outbox: hook for %s raised", row.kind)
            async with self._db.transaction() as tx:
                await record(tx)


def payload(text: str, reply_markup: InlineKeyboardMarkup | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON payload for ``send_payload``."""
    data: dict[str, Any] = {"text": text, **{k: v for k, v in extra.items() if v is not None}}
    if reply_markup is not None:
        data["reply_markup"] = reply_markup.to_dict()
    return data


async def queue_message(
    db: Database, chat_id: int, data: dict[str, Any], now: datetime, *, priority: int = 0
) -> None:
    """Queue one ``send_payload`` message in a transaction of its own: for notices that go with no other state
    change (or follow one already committed)."""
    async with db.transaction() as tx:
        await db.enqueue(tx, kind=MESSAGE, chat_id=chat_id, payload=data, now=now, priority=priority)
