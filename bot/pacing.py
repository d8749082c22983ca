"""Even pacing of the bot's requests to chats, replies before the outbox's background sends.

Telegram allows a bot about 30 messages per second across all chats and answers more with 429. ``Pacer`` hands
out slots one interval apart (28 per second) on an absolute schedule: a slot is booked from the previous slot,
not from when the previous request finished, and a wake-up late by less than half a slot is made up by the
next slot, so neither the time a request takes nor a busy event loop lowers the rate (PTB's leaky bucket, woken by
timers, reached about 27 of its 29 per second under load). After an idle spell the schedule starts again from
now: no burst.

Whatever the schedule, never more than 30 slots within 1.07 s: requests sent evenly reach Telegram less evenly,
and 31 requests that arrive within one second draw a 429. At an even 29 per second 31 requests span 1.03 s, and
a loaded test server (load 6 on 2 cores) saw them inside one second now and then (1-2 × 429 in 5 runs with 50
users asking); at 28.5 they span 1.05 s, and a quiet machine still drew one 429 in two `make bench` runs (the test
server's own threads stalled it for more than 50 ms). At 28 they span 1.07 s, and the cap keeps it so when a late
slot is made up.

After a 429 that stands for the bot's overall limit, ``hold`` gives out no slot until its ``retry_after`` has
passed; then the slots go on one interval apart from there, so the requests that waited meanwhile do not all go
at once (which drew the next 429, and the next: 16 in one loaded run).

Two queues: a request of someone waiting (a reply, an edited menu) takes the next free slot before any waiting
background send (the outbox: announcements, reminders), so an announcement uses only the slots replies leave and
never delays an answer by more than the one slot already given out.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

PER_SECOND = 28.0  # even slots: Telegram's 30 per second, minus a margin for jitter on the way
MOST = 30  # slots within ``WITHIN`` seconds at most: Telegram's 30 per second with 70 ms for jitter
WITHIN = 1.07


class Pacer:
    """Slots ``1 / rate`` apart in arrival order, foreground requests first."""

    def __init__(
        self,
        rate: float = PER_SECOND,
        *,
        most: int = MOST,
        within: float = WITHIN,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = 1.0 / rate
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = float("-inf")  # the earliest moment the next slot may be given out
        self._held_until = float("-inf")  # no slot before this moment (after a 429)
        # When the last slots were given out.
        self._recent: deque[float] = deque(maxlen=max(1, most))
        self._within = within
        self._queues: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (deque(), deque())
        self._driver: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot (for tests and the benchmark)."""
        return sum(1 for queue in self._queues for future in queue if not future.done())

    async def wait(self, background: bool = False) -> None:
        """Return in this request's slot; ``background`` requests go after every waiting foreground one."""
        now = self._monotonic()
        if self._driver is None and now >= self._free_at():
            self._next = now + self._interval  # nobody waiting and the slot is free: go at once
            self._recent.append(now)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queues[1 if background else 0].append(future)
        if self._driver is None:
            self._driver = asyncio.get_running_loop().create_task(self._drive())
        await future  # a cancelled waiter's future is done: the driver skips it

    def hold(self, until: float) -> None:
        """Give out no slot before ``until`` (monotonic seconds): Telegram answered 429 for the bot as a whole."""
        self._held_until = max(self._held_until, until)

    def _free_at(self) -> float:
        # The next slot, but not before the oldest of the last ``most`` slots is ``within`` seconds old, nor
        # during a hold.
        full = len(self._recent) == self._recent.maxlen
        free = max(self._next, self._recent[0] + self._within) if full else self._next
        return max(free, self._held_until)

    def _pop(self) -> asyncio.Future[None] | None:
        for queue in self._queues:
            while queue:
                future = queue.popleft()
                if not future.done():
                    return future
        return None

    async def _drive(self) -> None:
        try:
            while True:
                # Again after each sleep: a hold may have begun meanwhile.
                while (delay := self._free_at() - self._monotonic()) > 0:
                    await self._sleep(delay)
                future = self._pop()  # chosen after the sleep: a reply that came meanwhile goes first
                if future is None:
                    return
                # From the booked slot, not from the wake-up: a timer late by less than half a slot does not
                # cost a slot (no two requests closer than half a slot: a whole one let pairs go 1 ms apart,
                # and the test server saw 31 in a second); from now after a longer pause (no catching up in a
                # burst).
                now = self._monotonic()
                self._next = max(self._next, now - self._interval / 2) + self._interval
                self._recent.append(now)
                future.set_result(None)
        finally:
            self._driver = None
