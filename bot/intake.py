"""Durable intake: no update is confirmed to Telegram before it is stored, and none can stop the bot.

python-telegram-bot's own updater confirms an update (the next ``getUpdates`` offset) as soon as it has fetched
it; a crash before the handler commits loses it, and an update the library cannot parse is fetched again at once,
forever. Here every update is first written to the ``inbox`` table (``Database.inbox_store``), and only then:
- polling asks for the next offset, which is what confirms the stored ones to Telegram;
- the webhook server answers 200, so Telegram retries anything it could not store.

The dispatcher hands stored updates to PTB (``Application.update_queue``) one per chat and sender at a time, and
``ChatOrderedUpdateProcessor`` runs them side by side; so each chat's updates, and each user's across chats, are
handled in the order they came, and a busy chat holds no others back. When an update was handled its row is
marked done. After a crash the pending rows are handled again in order; only the updates being handled at that
moment (at most one per chat) are handled twice. A row that was pending at ``MAX_ATTEMPTS`` starts in a row, or
that cannot be parsed, is set aside (``python -m bot inbox``), logged once with its id and kind, and the bot
moves on.

Memory stays bounded: the dispatcher keeps at most ``capacity`` updates in flight and ``WINDOW`` waiting in
memory; more wait in the database, and polling stops fetching until there is room.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError, TimedOut

from bot.clock import Clock
from bot.db import Database
from bot.update_processor import ChatOrderedUpdateProcessor

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # starts that found the same update still pending: it is what crashes the bot
WINDOW = 500  # updates held in memory at most; the rest wait in the database
LONG_POLL_SECONDS = 25
GET_UPDATES_LIMIT = 100
MAX_BACKOFF_SECONDS = 30.0
KEEP_HANDLED = timedelta(days=1)  # handled ids kept this long to recognise a redelivery
KEEP_SET_ASIDE = timedelta(days=30)  # set-aside updates (they hold what the user sent) kept for inspection


def update_kind(raw: dict[str, Any]) -> str:
    """The update's type ('message', 'callback_query', …): its one key besides ``update_id``."""
    kinds = [key for key in raw if key != "update_id"]
    return kinds[0] if len(kinds) == 1 else "unknown"


def order_keys_raw(raw: dict[str, Any]) -> tuple[str, ...]:
    """The keys whose order an update must keep, read from the raw update (it may not parse): its chat and its
    sender, as ``bot.update_processor.order_keys`` reads them from a parsed one; ``("other",)`` if it has
    neither."""
    keys: list[str] = []
    body = raw.get(update_kind(raw))
    if isinstance(body, dict):
        chat = body.get("chat")
        if not isinstance(chat, dict):
            message = body.get("message")
            chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict) and _is_id(chat.get("id")):
            keys.append(f"c{chat['id']}")
        sender = body.get("from", body.get("user"))
        if isinstance(sender, dict) and _is_id(sender.get("id")):
            keys.append(f"u{sender['id']}")
    return tuple(keys) or ("other",)


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class IncompleteUpdate(ValueError):
    """An update that parsed but lacks what every handler relies on (a message without its chat)."""


def _check_parsed(update: Update) -> None:
    # PTB's de_json leaves a missing required object as None; handlers would fail on it one by one.
    for message in (update.message, update.edited_message, update.channel_post, update.edited_channel_post):
        if message is not None and message.chat is None:
            raise IncompleteUpdate("message without chat")


@dataclass(eq=False)
class _Pending:
    update_id: int
    raw: dict[str, Any]
    keys: tuple[str, ...]


@dataclass
class IntakeStats:
    stored: int = 0
    redelivered: int = 0
    handled: int = 0
    set_aside: int = 0
    fetch_errors: int = 0


@dataclass
class Intake:
    """Stores, dispatches and marks updates; one per running bot."""

    db: Database
    clock: Clock
    queue: asyncio.Queue[object]
    bot: Any  # the application's bot: parsing needs it
    capacity: int = 64
    # Writes what handlers changed in PTB's persistence (conversation states, unfinished forms) before an update
    # is marked done, so a crash right after handling cannot lose a form answer (PTB writes it lazily).
    persist: Callable[[], Awaitable[None]] | None = None
    stats: IntakeStats = field(default_factory=IntakeStats)

    def __post_init__(self) -> None:
        # Every waiting update is queued under each of its keys (its chat and its sender), in arrival order. It
        # goes out when it is first in all of them and none of its keys has an update in flight: so a user's
        # private message waits for their earlier one in a group (``user_data`` is shared), and since every
        # queue holds updates in arrival order, two updates can never wait for each other.
        self._waiting: dict[str, deque[_Pending]] = {}
        # Keys to look at (their first update may be free to go), round robin.
        self._ready: deque[str] = deque()
        self._queued: set[str] = set()  # the keys in _ready
        self._busy: set[str] = set()  # keys with an update in flight
        self._in_memory = 0
        self._last_loaded = 0  # highest update id taken into memory; later ones are read from the database
        self._spilled = False
        self._refilling = False
        self._in_flight: dict[int, tuple[str, ...]] = {}
        self._room = asyncio.Event()
        self._room.set()
        self._done: list[int] = []
        self._flushing: asyncio.Lock = asyncio.Lock()
        self._stopped = False

    # --- storing ---------------------------------------------------------------------------------------------

    async def accept(self, raws: Sequence[dict[str, Any]]) -> int:
        """Store updates durably, then queue them; return how many were new. Raises when storing failed, so the
        caller does not confirm them to Telegram."""
        rows: list[tuple[int, str, str]] = []
        by_id: dict[int, dict[str, Any]] = {}
        for raw in raws:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                log.warning("intake: ignored an update without an update_id")
                continue
            rows.append((update_id, update_kind(raw), json.dumps(raw, ensure_ascii=False)))
            by_id[update_id] = raw
        if not rows:
            return 0
        fresh = await self.db.inbox_store(rows, self.clock.now())
        self.stats.stored += len(fresh)
        self.stats.redelivered += len(rows) - len(fresh)
        for update_id in sorted(fresh):
            if self._spilled or self._in_memory >= WINDOW:
                self._spilled = True  # the database has it; _refill takes it when there is room
                continue
            self._take(update_id, by_id[update_id])
        self._update_room()
        self._dispatch()
        return len(fresh)

    @property
    def has_room(self) -> bool:
        """Whether polling may fetch more (the intake is not holding a full window)."""
        return self._room.is_set()

    async def wait_for_room(self) -> None:
        await self._room.wait()

    def _update_room(self) -> None:
        if self._spilled or self._in_memory >= WINDOW:
            self._room.clear()
        else:
            self._room.set()

    # --- resuming and dispatching ----------------------------------------------------------------------------

    async def resume(self) -> None:
        """At start: set aside what kept crashing the bot, then queue what a crash or stop left pending."""
        pending, stale = await self.db.inbox_resume(MAX_ATTEMPTS)
        for update_id in stale:
            self.stats.set_aside += 1
            log.error(
                "intake: update %s set aside: still unhandled after %s starts (see python -m bot inbox)",
                update_id,
                MAX_ATTEMPTS,
            )
        if pending:
            log.info("intake: handling %s update(s) left pending by the last run", len(pending))
            self._spilled = True
            await self._refill()

    async def _refill(self) -> None:
        # One at a time: two updates that finish together would both read the rows after ``_last_loaded`` and
        # take them twice. The running one goes on while there is room, also room made while it reads.
        if self._refilling:
            return
        self._refilling = True
        try:
            while self._spilled and self._in_memory < WINDOW:
                rows = await self.db.inbox_pending(self._last_loaded, WINDOW - self._in_memory)
                if not rows:
                    self._spilled = False
                    break
                for update_id, payload in rows:
                    self._take(update_id, json.loads(payload))
        finally:
            self._refilling = False
        self._update_room()
        self._dispatch()

    def _take(self, update_id: int, raw: dict[str, Any]) -> None:
        item = _Pending(update_id, raw, order_keys_raw(raw))
        for key in item.keys:
            queue = self._waiting.get(key)
            if queue is None:
                queue = self._waiting[key] = deque()
                self._wake(key)
            queue.append(item)
        self._in_memory += 1
        self._last_loaded = max(self._last_loaded, update_id)

    def _wake(self, key: str) -> None:
        """Have ``_dispatch`` look at ``key``'s first waiting update."""
        if key not in self._queued and key in self._waiting and key not in self._busy:
            self._queued.add(key)
            self._ready.append(key)

    def _free_to_go(self, item: _Pending) -> bool:
        return all(key not in self._busy and self._waiting[key][0] is item for key in item.keys)

    def _dequeue(self, item: _Pending) -> None:
        for key in item.keys:
            queue = self._waiting[key]
            queue.popleft()
            if not queue:
                del self._waiting[key]
        self._in_memory -= 1

    def _dispatch(self) -> None:
        while not self._stopped and self._ready and len(self._in_flight) < self.capacity:
            key = self._ready.popleft()
            self._queued.discard(key)
            queue = self._waiting.get(key)
            if queue is None or key in self._busy or not self._free_to_go(queue[0]):
                continue  # woken again when what holds it back changes: a key freed or its first update gone
            item = queue[0]
            self._dequeue(item)
            try:
                update = Update.de_json(item.raw, self.bot)
                _check_parsed(update)
            except Exception as exc:  # any parse failure: set aside, never retry forever
                self._set_aside_later(item.update_id, f"unparseable: {type(exc).__name__}")
                for other in item.keys:
                    self._wake(other)
                continue
            self._busy.update(item.keys)
            self._in_flight[item.update_id] = item.keys
            self.queue.put_nowait(update)

    def _set_aside_later(self, update_id: int, reason: str) -> None:
        self.stats.set_aside += 1
        log.error("intake: update %s set aside (%s); see python -m bot inbox", update_id, reason)
        asyncio.get_running_loop().create_task(self.db.inbox_set_aside(update_id, reason))

    async def finished(self, update: object) -> None:
        """Called by the update processor after an update was handled: mark it done, dispatch the next."""
        if not isinstance(update, Update):
            return
        keys = self._in_flight.pop(update.update_id, None)
        if keys is None:
            return  # not from the intake (the demo, tests feeding process_update)
        self._busy.difference_update(keys)
        for key in keys:
            self._wake(key)
        self.stats.handled += 1
        self._done.append(update.update_id)
        await self._flush_done()
        if self._spilled:
            await self._refill()
        self._update_room()
        self._dispatch()

    async def _flush_done(self) -> None:
        # Marks are batched: while one write runs, later finishes collect and go in the next one.
        if self._flushing.locked():
            return
        async with self._flushing:
            while self._done:
                batch, self._done = self._done, []
                if self.persist is not None:
                    await self.persist()
                await self.db.inbox_done(batch, self.clock.now())
                if self.db.checkpoint_wanted:
                    self.db.checkpoint_wanted = False
                    await self.db.checkpoint()  # after an erasure: its own update's copy is blank now

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def stop(self) -> None:
        """Dispatch nothing more; what is waiting stays pending in the database for the next start."""
        self._stopped = True
        self._room.set()

    async def purge_handled(self) -> int:
        return await purge_inbox(self.db, self.clock.now())

    # --- polling ---------------------------------------------------------------------------------------------

    async def poll(self, allowed_updates: list[str], stop: asyncio.Event) -> None:
        """Long polling that confirms an update (the next offset) only after ``accept`` stored it."""
        offset: int | None = None
        backoff = 1.0
        while not stop.is_set():
            if not self.has_room:
                await _first(self.wait_for_room(), stop.wait())
                continue
            fetch = asyncio.ensure_future(
                raw_get_updates(self.bot, offset, LONG_POLL_SECONDS, GET_UPDATES_LIMIT, allowed_updates)
            )
            await _first(asyncio.shield(fetch), stop.wait())
            if not fetch.done():
                # Stopping: what this call would return was not confirmed (that needs the next offset), so
                # Telegram delivers it again after the restart.
                fetch.cancel()
                break
            try:
                raws = fetch.result()
            except (InvalidToken, Conflict):
                raise  # wrong token or a second instance: nothing to retry
            except (NetworkError, TimedOut, TelegramError) as exc:
                self.stats.fetch_errors += 1
                log.warning("getUpdates failed (%s); retrying in %.0f s", type(exc).__name__, backoff)
                await _first(asyncio.sleep(backoff), stop.wait())
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            backoff = 1.0
            if not isinstance(raws, list) or not raws:
                continue
            await self.accept([raw for raw in raws if isinstance(raw, dict)])
            ids = [
                raw["update_id"]
                for raw in raws
                if isinstance(raw, dict) and isinstance(raw.get("update_id"), int)
            ]
            if ids:
                offset = max(ids) + 1
        if offset is not None:
            # Confirm what was stored, so a restart is not handed it again (it would be recognised anyway).
            with contextlib.suppress(TelegramError):
                await raw_get_updates(self.bot, offset, 0, 1, allowed_updates)


async def purge_inbox(db: Database, now: datetime) -> int:
    """Retention: handled ids after ``KEEP_HANDLED``, set-aside updates after ``KEEP_SET_ASIDE``."""
    return await db.inbox_purge(now - KEEP_HANDLED, now - KEEP_SET_ASIDE)


async def raw_get_updates(
    bot: Any, offset: int | None, wait_seconds: int, limit: int, allowed_updates: list[str]
) -> Any:
    """``getUpdates`` returning Telegram's JSON as it is. ``Bot.get_updates`` parses every update, so one it
    cannot parse fails the whole call, again and again; the public ``do_api_request`` warns for known methods.
    ``Bot._post`` is what both use underneath (same request object, timeouts and rate limiter);
    tests/unit/test_intake.py fails loudly if an upgrade changes it."""
    params: dict[str, Any] = {"timeout": wait_seconds, "limit": limit, "allowed_updates": allowed_updates}
    if offset is not None:
        params["offset"] = offset
    return await bot._post("getUpdates", params, read_timeout=wait_seconds + 10)


async def _first(*aws: Any) -> None:
    """Wait until the first of the awaitables is done, cancel the others."""
    tasks = [asyncio.ensure_future(aw) for aw in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def make_processor(capacity: int) -> ChatOrderedUpdateProcessor:
    """The update processor for the running bot; its ``finished`` hook is set once the intake exists."""
    return ChatOrderedUpdateProcessor(capacity + 16)
