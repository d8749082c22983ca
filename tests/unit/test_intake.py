"""The intake: updates are stored before they are confirmed, handled in order per chat, resumed after a crash, and
an update that cannot be parsed or keeps failing is set aside instead of stopping everything."""

from __future__ import annotations

import asyncio
import inspect
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram import Bot, Update

from bot.clock import FakeClock
from bot.db import Database
from bot.intake import MAX_ATTEMPTS, WINDOW, Intake, order_keys_raw, purge_inbox, raw_get_updates, update_kind
from bot.update_processor import ChatOrderedUpdateProcessor, order_keys


def message(update_id: int, chat_id: int, text: str = "hallo") -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "T"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private"},
            "from": user,
            "text": text,
        },
    }


def _raw(update_id: int, chat_id: int, user_id: int) -> dict[str, Any]:
    """A message from ``user_id`` in ``chat_id`` (a group if negative)."""
    raw = message(update_id, chat_id)
    raw["message"]["chat"]["type"] = "group" if chat_id < 0 else "private"
    raw["message"]["from"]["id"] = user_id
    return raw


def make_intake(db: Database, capacity: int = 8) -> Intake:
    return Intake(db, FakeClock(datetime(2026, 12, 4, 10, tzinfo=UTC)), asyncio.Queue(), None, capacity)


def drain(queue: asyncio.Queue[object]) -> list[int]:
    ids = []
    while not queue.empty():
        update = queue.get_nowait()
        assert isinstance(update, Update)
        ids.append(update.update_id)
    return ids


async def states(db: Database) -> dict[int, str]:
    rows = await db.fetchall("SELECT update_id, state FROM inbox")
    return {int(r["update_id"]): str(r["state"]) for r in rows}


async def test_updates_are_stored_before_they_are_handed_on_and_marked_done_after(db: Database) -> None:
    intake = make_intake(db)
    assert await intake.accept([message(1, 100), message(2, 200)]) == 2
    assert await states(db) == {1: "pending", 2: "pending"}
    handed = [intake.queue.get_nowait(), intake.queue.get_nowait()]
    await intake.finished(handed[0])
    assert await states(db) == {1: "done", 2: "pending"}
    stored = await db.fetchone("SELECT payload FROM inbox WHERE update_id = 1")
    assert stored is not None and stored["payload"] is None  # nothing of the message is kept once handled


async def test_one_chat_in_order_other_chats_side_by_side(db: Database) -> None:
    intake = make_intake(db)
    await intake.accept([message(1, 100), message(2, 100), message(3, 200), message(4, 100)])
    first = drain(intake.queue)
    assert first == [1, 3]  # chat 100's second update waits for its first; chat 200 goes ahead
    await intake.finished(_update(3, 200))
    assert drain(intake.queue) == []
    await intake.finished(_update(1, 100))
    assert drain(intake.queue) == [2]
    await intake.finished(_update(2, 100))
    assert drain(intake.queue) == [4]


async def test_one_users_updates_keep_their_order_across_chats(db: Database) -> None:
    """User 5 writes in a group where user 6's message is still being handled, then privately: the private
    message waits for the group one (they share ``user_data``); user 7 is held back by nobody."""
    intake = make_intake(db)
    await intake.accept([_raw(1, -300, 6), _raw(2, -300, 5), _raw(3, 5, 5), _raw(4, 7, 7), _raw(5, 5, 5)])
    assert drain(intake.queue) == [1, 4]
    await intake.finished(_update(4, 7, 7))
    assert drain(intake.queue) == []
    await intake.finished(_update(1, -300, 6))
    assert drain(intake.queue) == [2]
    await intake.finished(_update(2, -300, 5))
    assert drain(intake.queue) == [3]
    await intake.finished(_update(3, 5, 5))
    assert drain(intake.queue) == [5]
    await intake.finished(_update(5, 5, 5))
    assert intake.in_flight == 0 and await states(db) == dict.fromkeys(range(1, 6), "done")


async def test_an_unparseable_update_frees_what_waits_behind_it_in_each_of_its_keys(db: Database) -> None:
    intake = make_intake(db)
    broken = _raw(2, -300, 5)
    broken["message"]["date"] = "?"
    await intake.accept([_raw(1, -300, 6), broken, _raw(3, 5, 5)])
    await asyncio.sleep(0.05)  # the set-aside write runs as its own task
    assert drain(intake.queue) == [1]  # 3 waits behind 2 (same sender), 2 behind 1 (same group)
    await intake.finished(_update(1, -300, 6))
    await asyncio.sleep(0.05)
    assert drain(intake.queue) == [3]
    assert (await states(db))[2] == "set_aside"


async def test_a_redelivered_update_is_recognised(db: Database) -> None:
    intake = make_intake(db)
    assert await intake.accept([message(7, 100)]) == 1
    assert await intake.accept([message(7, 100)]) == 0
    assert drain(intake.queue) == [7]
    assert intake.stats.redelivered == 1


async def test_an_unparseable_update_is_set_aside_once_and_the_next_goes_on(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    intake = make_intake(db)
    broken = {
        "update_id": 5,
        "message": {"message_id": "x", "chat": {"id": 100, "type": "private"}, "date": "?"},
    }
    with caplog.at_level(logging.INFO):
        await intake.accept([broken, message(6, 100)])
        await asyncio.sleep(0)  # the set-aside write runs as its own task
        await asyncio.sleep(0.05)
    assert drain(intake.queue) == [6]
    assert (await states(db))[5] == "set_aside"
    lines = [r for r in caplog.records if "5" in r.getMessage() and "set aside" in r.getMessage()]
    assert len(lines) == 1
    assert "hallo" not in caplog.text
    rows = await db.inbox_set_aside_rows()
    assert [(r[0], r[1]) for r in rows] == [(5, "message")]


async def test_what_a_crash_left_pending_is_handled_after_the_restart_in_order(db: Database) -> None:
    before = make_intake(db)
    await before.accept([message(1, 100), message(2, 100), message(3, 200)])
    await before.finished(before.queue.get_nowait())  # 1 handled, then the crash
    after = make_intake(db)
    await after.resume()
    assert drain(after.queue) == [2, 3]


async def test_an_update_that_keeps_crashing_the_bot_is_set_aside(db: Database) -> None:
    await make_intake(db).accept([message(1, 100), message(2, 200)])
    for _ in range(MAX_ATTEMPTS - 1):
        await make_intake(db).resume()  # each start finds them pending: the bot died while handling them
    last = make_intake(db)
    await last.resume()
    assert drain(last.queue) == []
    assert await states(db) == {1: "set_aside", 2: "set_aside"}


async def test_a_flood_waits_in_the_database_not_in_memory(db: Database) -> None:
    intake = make_intake(db, capacity=4)
    flood = [message(i, 1000 + i) for i in range(1, WINDOW + 101)]
    await intake.accept(flood)
    assert not intake.has_room  # polling stops fetching
    seen = drain(intake.queue)
    assert seen == [1, 2, 3, 4]
    while seen[-1] < WINDOW + 100:
        for update_id in seen[-4:]:
            await intake.finished(_update(update_id, 1000 + update_id))
        handed = drain(intake.queue)
        assert handed, seen[-1]
        seen.extend(handed)
    assert seen == list(range(1, WINDOW + 101))
    assert intake.has_room


def test_keys_and_kinds_come_from_the_raw_update() -> None:
    press = {
        "update_id": 1,
        "callback_query": {"id": "9", "from": {"id": 5}, "message": {"chat": {"id": -7}}},
    }
    assert update_kind(press) == "callback_query"
    assert order_keys_raw(press) == ("c-7", "u5")
    assert order_keys_raw({"update_id": 2, "my_chat_member": {"chat": {"id": 3}}}) == ("c3",)
    assert order_keys_raw({"update_id": 4, "poll_answer": {"poll_id": "1", "user": {"id": 8}}}) == ("u8",)
    assert order_keys_raw({"update_id": 5, "message": {"chat": {"id": True}, "from": "?"}}) == ("other",)
    assert order_keys_raw({"update_id": 3}) == ("other",)


def test_the_private_bot_method_the_raw_fetch_relies_on_is_still_there() -> None:
    # raw_get_updates calls Bot._post (python-telegram-bot internals): fail loudly if an upgrade changes it.
    parameters = inspect.signature(Bot._post).parameters
    assert list(parameters)[:3] == ["self", "endpoint", "data"]
    assert "read_timeout" in parameters
    assert inspect.iscoroutinefunction(raw_get_updates)


def _update(update_id: int, chat_id: int, user_id: int | None = None) -> Update:
    return Update.de_json(_raw(update_id, chat_id, chat_id if user_id is None else user_id), None)


class Steps:
    """Handlers that note when they run: ``slow`` waits for ``release``, ``quick`` does not."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.release = asyncio.Event()

    async def slow(self, name: str) -> None:
        self.events.append(f"start {name}")
        await self.release.wait()
        self.events.append(f"end {name}")

    async def quick(self, name: str) -> None:
        self.events.append(f"run {name}")


async def test_processor_keeps_one_chats_order_and_runs_chats_side_by_side() -> None:
    processor = ChatOrderedUpdateProcessor(16)
    steps = Steps()
    events, release, slow, quick = steps.events, steps.release, steps.slow, steps.quick

    tasks = [
        asyncio.create_task(processor.process_update(_update(1, 100), slow("a1"))),
        asyncio.create_task(processor.process_update(_update(2, 100), quick("a2"))),
        asyncio.create_task(processor.process_update(_update(3, 200), quick("b1"))),
    ]
    await asyncio.sleep(0.01)
    assert events == ["start a1", "run b1"]  # chat 200 did not wait for chat 100
    release.set()
    await asyncio.gather(*tasks)
    assert events == ["start a1", "run b1", "end a1", "run a2"]
    assert processor.keys_in_use == 0


def test_order_keys_cover_chat_and_sender() -> None:
    assert order_keys(_update(1, 42)) == ("c42", "u42")
    assert order_keys(object()) == ()


async def test_handlers_changes_are_persisted_before_the_update_counts_as_done(db: Database) -> None:
    seen: list[dict[int, str]] = []

    async def persist() -> None:
        seen.append(await states(db))

    intake = make_intake(db)
    intake.persist = persist
    await intake.accept([message(1, 100)])
    await intake.finished(intake.queue.get_nowait())
    assert seen == [{1: "pending"}]
    assert await states(db) == {1: "done"}


async def test_retention_purges_handled_ids_after_a_day_and_set_aside_updates_after_30_days(
    db: Database,
) -> None:
    start = datetime(2026, 12, 4, 10, tzinfo=UTC)
    intake = make_intake(db)
    await intake.accept([message(1, 100), message(2, 200), message(3, 300)])
    await intake.finished(intake.queue.get_nowait())  # 1 handled
    await db.inbox_set_aside(2, "unparseable: TypeError")
    assert await purge_inbox(db, start + timedelta(hours=23)) == 0
    assert await purge_inbox(db, start + timedelta(days=1, hours=1)) == 1  # the handled id
    assert await states(db) == {2: "set_aside", 3: "pending"}
    assert await purge_inbox(db, start + timedelta(days=31)) == 1  # the set-aside update with its content
    assert await states(db) == {3: "pending"}  # never what is still to be handled
    assert await db.inbox_counts() == {"pending": 1}


def _in_chat(update_id: int, chat_id: int, user_id: int) -> Update:
    return Update.de_json(_raw(update_id, chat_id, user_id), None)


async def test_processor_keeps_one_users_order_across_chats() -> None:
    """A user's update in a group and their next one in the private chat run one after the other (their
    ``user_data`` and dialogues are shared), while another user's private update goes ahead."""
    processor = ChatOrderedUpdateProcessor(16)
    steps = Steps()
    events, release, slow, quick = steps.events, steps.release, steps.slow, steps.quick

    tasks = [
        asyncio.create_task(processor.process_update(_in_chat(1, -300, 5), slow("group"))),
        asyncio.create_task(processor.process_update(_in_chat(2, 5, 5), quick("private"))),
        asyncio.create_task(processor.process_update(_in_chat(3, 6, 6), quick("other"))),
    ]
    await asyncio.sleep(0.01)
    assert events == ["start group", "run other"]
    release.set()
    await asyncio.gather(*tasks)
    assert events == ["start group", "run other", "end group", "run private"]
    assert processor.keys_in_use == 0


async def test_updates_finishing_together_take_a_spilled_backlog_once(db: Database) -> None:
    """More waiting than the window holds (a flood, or a restart's backlog), and the processor finishes several
    updates at the same moment: each reloads from the database, and none may take the same rows twice."""
    intake = make_intake(db, capacity=8)
    total = WINDOW + 40
    await intake.accept([message(i, i) for i in range(1, total + 1)])
    handed: list[int] = []
    running: list[object] = []

    def take_handed() -> None:
        while not intake.queue.empty():
            update = intake.queue.get_nowait()
            assert isinstance(update, Update)
            handed.append(update.update_id)
            running.append(update)

    take_handed()
    while running:
        batch, running[:] = running[:4], running[4:]
        await asyncio.gather(*(intake.finished(update) for update in batch))
        take_handed()
    assert handed == list(range(1, total + 1))  # each once, in order
    assert intake.in_flight == 0 and intake.has_room
