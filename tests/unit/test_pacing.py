"""bot.pacing: even slots for requests to chats, replies before the outbox's background sends."""

from __future__ import annotations

import asyncio

from bot.pacing import Pacer


class Time:
    """Virtual time: the pacer's sleep advances it (by ``late`` more than asked, a busy event loop)."""

    def __init__(self, late: float = 0.0) -> None:
        self.now = 100.0
        self.late = late

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)  # whoever was just given a slot runs first, at the time of its slot
        self.now += seconds + self.late


async def timed(pacer: Pacer, time: Time, name: str, log: list[tuple[str, float]], background: bool) -> None:
    await pacer.wait(background)
    log.append((name, time.now))


async def test_requests_go_one_slot_apart_in_arrival_order() -> None:
    time = Time()
    pacer = Pacer(10, most=11, within=1.05, monotonic=time.monotonic, sleep=time.sleep)
    log: list[tuple[str, float]] = []
    await asyncio.gather(*(timed(pacer, time, f"r{i}", log, False) for i in range(5)))
    assert [name for name, _ in log] == ["r0", "r1", "r2", "r3", "r4"]
    assert [round(at - 100.0, 6) for _, at in log] == [0.0, 0.1, 0.2, 0.3, 0.4]


async def test_a_waiting_reply_goes_before_waiting_background_sends() -> None:
    time = Time()
    pacer = Pacer(10, most=11, within=1.05, monotonic=time.monotonic, sleep=time.sleep)
    log: list[tuple[str, float]] = []
    background = [asyncio.create_task(timed(pacer, time, f"b{i}", log, True)) for i in range(4)]
    await asyncio.sleep(0)
    reply = asyncio.create_task(timed(pacer, time, "reply", log, False))
    await asyncio.gather(*background, reply)
    # b0 took the free slot at once; the reply came after the other three were waiting and goes next.
    assert [name for name, _ in log] == ["b0", "reply", "b1", "b2", "b3"]


async def test_a_late_timer_does_not_lower_the_rate_nor_break_the_cap() -> None:
    time = Time(late=0.03)  # every wake-up 30 ms late at 10 per second
    pacer = Pacer(10, most=11, within=1.05, monotonic=time.monotonic, sleep=time.sleep)
    log: list[tuple[str, float]] = []
    await asyncio.gather(*(timed(pacer, time, f"r{i}", log, False) for i in range(31)))
    stamps = [at for _, at in log]
    # 30 slots of 0.1 s: the lateness did not add up.
    assert stamps[-1] - stamps[0] <= 3.0 + 0.03 + 1e-9
    # Never more than ``most`` within ``within`` seconds: 12 requests always span more than 1.05 s.
    assert min(b - a for a, b in zip(stamps, stamps[11:], strict=False)) > 1.05 - 1e-9


async def test_after_a_pause_the_schedule_starts_from_now_without_a_burst() -> None:
    time = Time()
    pacer = Pacer(10, most=11, within=1.05, monotonic=time.monotonic, sleep=time.sleep)
    log: list[tuple[str, float]] = []
    await timed(pacer, time, "first", log, False)
    time.now += 5.0  # quiet for five seconds
    await asyncio.gather(*(timed(pacer, time, f"r{i}", log, False) for i in range(3)))
    assert [round(at - 105.0, 6) for _, at in log[1:]] == [0.0, 0.1, 0.2]


async def test_a_cancelled_waiter_gives_its_slot_to_the_next() -> None:
    time = Time()
    pacer = Pacer(10, most=11, within=1.05, monotonic=time.monotonic, sleep=time.sleep)
    log: list[tuple[str, float]] = []
    await timed(pacer, time, "first", log, False)
    gone = asyncio.create_task(timed(pacer, time, "gone", log, False))
    kept = asyncio.create_task(timed(pacer, time, "kept", log, False))
    await asyncio.sleep(0)
    gone.cancel()
    await kept
    assert [name for name, _ in log] == ["first", "kept"]
    assert pacer.waiting == 0


async def test_a_hold_gives_no_slot_until_it_ends_and_then_no_burst() -> None:
    """After a 429 for the bot as a whole: nothing goes out during the hold, and the requests that waited go one
    slot apart after it, not all at once (which would draw the next 429)."""
    time = Time()
    pacer = Pacer(10, most=11, within=1.05, monotonic=time.monotonic, sleep=time.sleep)
    log: list[tuple[str, float]] = []
    await timed(pacer, time, "before", log, False)
    pacer.hold(101.0)
    await asyncio.gather(*(timed(pacer, time, f"r{i}", log, i % 2 == 1) for i in range(4)))
    assert [(name, round(at - 100.0, 6)) for name, at in log] == [
        ("before", 0.0),
        ("r0", 1.0),
        ("r2", 1.05),  # replies first, as always; half a slot early once, as after any idle spell
        ("r1", 1.15),
        ("r3", 1.25),
    ]
