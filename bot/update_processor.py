"""Concurrent update handling that keeps the order of each chat's (and each user's) updates.

python-telegram-bot handles updates one after the other unless an update processor allows more; with plain
concurrency two messages of one user could overtake each other, and a form filled at machine speed would end in
a different state than one filled slowly. ``ChatOrderedUpdateProcessor`` lets updates of different chats run side
by side and serialises those that share a chat or a user: each update takes the locks of its keys (its chat and
its sender) in a fixed order, and asyncio's locks are fair, so updates of one key run in the order they arrived.

The processor is bounded by PTB's semaphore (``max_concurrent_updates``); the intake (``bot.intake``) feeds it
no more than that many at a time, so a flood of updates waits in the database, not in memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)

# Called after an update was handled (whatever the handlers did with it); the intake marks it done.
Finished = Callable[[object], Awaitable[None]]


def order_keys(update: object) -> tuple[str, ...]:
    """The keys whose order an update must keep: its chat and its sender (sorted, so locks nest the same way
    everywhere and two updates can never wait for each other)."""
    if not isinstance(update, Update):
        return ()
    keys: set[str] = set()
    if update.effective_chat is not None:
        keys.add(f"c{update.effective_chat.id}")
    if update.effective_user is not None:
        keys.add(f"u{update.effective_user.id}")
    return tuple(sorted(keys))


class _KeyLock:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Runs updates concurrently, but never two with a shared chat or user at once, and those in arrival order."""

    def __init__(self, max_concurrent_updates: int, finished: Finished | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[str, _KeyLock] = {}
        self.finished = finished

    @property
    def keys_in_use(self) -> int:
        """How many keys have an update running or waiting (for tests and the benchmark)."""
        return len(self._locks)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        keys = order_keys(update)
        holders = [self._take(key) for key in keys]
        try:
            async with AsyncExitStack() as stack:
                for holder in holders:
                    await stack.enter_async_context(holder.lock)
                await coroutine
        finally:
            for key in keys:
                self._release(key)
            if self.finished is not None:
                await self.finished(update)

    def _take(self, key: str) -> _KeyLock:
        # Registered synchronously, before the first await: the order of registration is the order of arrival.
        holder = self._locks.get(key)
        if holder is None:
            holder = self._locks[key] = _KeyLock()
        holder.users += 1
        return holder

    def _release(self, key: str) -> None:
        holder = self._locks[key]
        holder.users -= 1
        if holder.users == 0:
            del self._locks[key]  # no memory kept for chats that went quiet

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""
