"""PTB persistence in SQLite: conversation states and ``user_data`` (unfinished form answers) survive restarts.

Only JSON-serialisable values may go into ``user_data``. Chat data, bot data and callback data are not persisted.
PTB loads persistence during ``Application.initialize`` — before ``post_init`` — so this class opens (and
migrates) the database through ``BotData.open_database``, which ``post_init`` then reuses.
"""

from __future__ import annotations

import json
from copy import deepcopy
from typing import TYPE_CHECKING, Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

if TYPE_CHECKING:
    from bot.context import BotData
    from bot.db import Database

# Seconds between PTB's automatic flushes of changed data; small, so a crash loses at most a step or two.
UPDATE_INTERVAL = 1.0
# A remembered conversation state equal to no state: the next write goes to the database.
_UNKNOWN = object()


class SqlitePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], "BotData"]):
    def __init__(self) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True, callback_data=False),
            update_interval=UPDATE_INTERVAL,
        )
        self._services_ref: BotData | None = None
        # What the database holds per user, as written: PTB hands over every user an update touched, changed
        # or not, so an unchanged form is not written again.
        self._written: dict[int, str] = {}
        # Likewise the conversation states the database holds: PTB hands over every state a handler returned,
        # also the one the conversation was already in.
        self._states: dict[tuple[str, tuple[Any, ...]], object] = {}

    def attach(self, bot_data: BotData) -> None:
        self._services_ref = bot_data

    async def _db(self) -> Database:
        """The database, opened (and migrated) by the attached ``BotData`` on first use."""
        if self._services_ref is None:
            raise RuntimeError("persistence not attached")
        return await self._services_ref.open_database()

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        db = await self._db()
        self._written = await db.stored_user_data()
        return {user_id: json.loads(text) for user_id, text in self._written.items()}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> BotData:
        raise NotImplementedError("bot_data is not persisted")

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        db = await self._db()
        states = await db.conversation_states(name)
        self._states.update(((name, tuple(key)), state) for key, state in states.items())
        return states

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        entry = (name, tuple(key))
        if self._states.get(entry) == new_state:  # None: no row, and none wanted
            return
        db = await self._db()
        await db.set_conversation_state(name, entry[1], new_state)
        if new_state is None:
            self._states.pop(entry, None)
        else:
            self._states[entry] = new_state

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        text = json.dumps(deepcopy(data), ensure_ascii=False) if data else ""
        if self._written.get(user_id, "") == text:
            return
        db = await self._db()
        await db.store_user_data(user_id, text)
        if text:
            self._written[user_id] = text
        else:
            self._written.pop(user_id, None)

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: BotData) -> None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def drop_user_data(self, user_id: int) -> None:
        db = await self._db()
        await db.drop_ptb_user(user_id)
        # drop_ptb_user deleted the user's form data and conversations (their keys hold the user id). PTB may
        # write either beside it in the same flush, before or after the delete: what the database holds now is
        # not known, so the next write of each goes through.
        self._written.pop(user_id, None)
        for entry in self._states:
            if user_id in entry[1]:
                self._states[entry] = _UNKNOWN

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: BotData) -> None:
        return None

    async def flush(self) -> None:
        return None
