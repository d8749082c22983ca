"""Conversation state and unfinished form answers survive a restart (SQLite persistence, not pickle)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path

from telegram import Update
from telegram.ext import ApplicationHandlerStop, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.context import App, Context
from bot.db import MIGRATIONS_DIR, Database
from bot.persistence import SqlitePersistence
from tests.harness import harness

ASKED = 1


async def begin(update: Update, context: Context) -> None:
    assert context.user_data is not None
    context.user_data["probe"] = {"started": True}
    await context.bot.send_message(update.effective_chat.id, "frage")  # type: ignore[union-attr]
    raise ApplicationHandlerStop(ASKED)  # the probe owns the update: no other group answers it


async def answered(update: Update, context: Context) -> None:
    assert context.user_data is not None and update.message is not None
    started = context.user_data.get("probe", {}).get("started")
    await context.bot.send_message(update.message.chat_id, f"antwort {update.message.text} {started}")
    context.user_data.pop("probe", None)
    raise ApplicationHandlerStop(ConversationHandler.END)


def add_probe(app: App) -> None:
    app.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("probe", begin)],
            states={ASKED: [MessageHandler(filters.TEXT & ~filters.COMMAND, answered)]},
            fallbacks=[],
            name="probe",
            persistent=True,
        ),
        group=-2,
    )


async def test_conversation_continues_after_restart(tmp_path: Path) -> None:
    async with harness(tmp_path, setup=add_probe) as first:
        user = first.user(55)
        [reply] = await first.send(user, "/probe")
        assert reply.text == "frage"
    async with harness(tmp_path, setup=add_probe) as second:
        sent = await second.send(second.user(55), "hallo")
        assert [m.text for m in sent] == ["antwort hallo True"]
    # Stopping flushes: the finished conversation and its form data are gone from the database.
    with closing(sqlite3.connect(tmp_path / "bot.sqlite3")) as conn:
        assert conn.execute("SELECT COUNT(*) FROM conversations WHERE name = 'probe'").fetchone() == (0,)
        assert conn.execute("SELECT data FROM user_data WHERE user_id = 55").fetchall() in ([], [("{}",)])


@asynccontextmanager
async def counted(tmp_path: Path) -> AsyncIterator[tuple[SqlitePersistence, Database, list[int]]]:
    """A persistence on a fresh database, and a list that grows by one for every write transaction."""
    db = await Database.open(tmp_path / "p.sqlite3")
    await db.migrate(MIGRATIONS_DIR)
    writes: list[int] = []
    original = db.transaction

    def counting():  # type: ignore[no-untyped-def]
        writes.append(1)
        return original()

    class Services:
        async def open_database(self) -> Database:
            return db

    persistence = SqlitePersistence()
    persistence.attach(Services())  # type: ignore[arg-type]
    db.transaction = counting  # type: ignore[method-assign]
    try:
        yield persistence, db, writes
    finally:
        await db.close()


async def test_unchanged_user_data_is_not_written_again(tmp_path: Path) -> None:
    async with counted(tmp_path) as (persistence, db, writes):
        await persistence.get_user_data()
        await persistence.update_user_data(7, {"form": {"kommune": "Celle"}})
        await persistence.update_user_data(7, {"form": {"kommune": "Celle"}})  # touched, not changed
        assert len(writes) == 1
        await persistence.update_user_data(7, {"form": {"kommune": "Celle", "land": "NI"}})
        await persistence.update_user_data(7, {})
        await persistence.update_user_data(7, {})
        assert len(writes) == 3
        row = await db.fetchone("SELECT data FROM user_data WHERE user_id = 7")
        assert row is None


async def test_an_unchanged_conversation_state_is_not_written_again(tmp_path: Path) -> None:
    async with counted(tmp_path) as (persistence, db, writes):
        await db.set_conversation_state("form", (7, 7), 2)  # left by the last run
        del writes[:]
        assert await persistence.get_conversations("form") == {(7, 7): 2}
        await persistence.update_conversation("form", (7, 7), 2)  # the handler stayed in its step
        await persistence.update_conversation("form", (8, 8), None)  # no conversation, none begun
        assert writes == []
        await persistence.update_conversation("form", (7, 7), 3)
        await persistence.update_conversation("form", (7, 7), 3)
        assert len(writes) == 1 and await db.conversation_states("form") == {(7, 7): 3}
        await persistence.update_conversation("form", (7, 7), None)
        await persistence.update_conversation("form", (7, 7), None)
        assert len(writes) == 2 and await db.conversation_states("form") == {}
        # After the user's data was dropped (erasure), the same state is written again.
        await persistence.update_conversation("form", (7, 7), 1)
        await persistence.drop_user_data(7)
        assert await db.conversation_states("form") == {}
        await persistence.update_conversation("form", (7, 7), 1)
        assert await db.conversation_states("form") == {(7, 7): 1}


async def test_a_state_written_beside_the_users_drop_is_written_again(tmp_path: Path) -> None:
    """PTB's flush runs a user's drop (erasure) and a write for them side by side, in no fixed order; whichever
    landed, the next write of the same state reaches the database."""
    for first_the_write in (True, False):
        folder = tmp_path / ("write_first" if first_the_write else "drop_first")
        folder.mkdir()
        async with counted(folder) as (persistence, db, _):
            await persistence.get_conversations("form")
            await persistence.update_user_data(7, {"form": {"kommune": "Celle"}})
            steps = [persistence.update_conversation("form", (7, 7), 3), persistence.drop_user_data(7)]
            await asyncio.gather(*(steps if first_the_write else steps[::-1]))
            await persistence.update_conversation("form", (7, 7), 3)  # the handler stayed in its step
            await persistence.update_user_data(7, {"form": {"kommune": "Celle"}})
            assert await db.conversation_states("form") == {(7, 7): 3}
            row = await db.fetchone("SELECT data FROM user_data WHERE user_id = 7")
            assert row is not None and "Celle" in str(row["data"])
