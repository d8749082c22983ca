"""Typed access to the long-lived services from every callback (``context.bot_data``)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, TypeAlias

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.content import Content, Texts
from bot.db import MIGRATIONS_DIR, Database
from bot.outbox import Outbox
from bot.search import SearchIndex

log = logging.getLogger(__name__)


class BotData:
    """The services, set in ``build_application`` and ``post_init``; PTB creates it without arguments."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self.clock: Clock = SystemClock()
        self._db: Database | None = None
        self._content: Content | None = None
        self._outbox: Outbox | None = None
        self._search: SearchIndex | None = None
        self._opening = asyncio.Lock()

    async def open_database(self) -> Database:
        """Open and migrate the database once; persistence (during initialize) and post_init share it."""
        async with self._opening:
            if self._db is None:
                db = await Database.open(self.settings.database)
                try:
                    applied = await db.migrate(MIGRATIONS_DIR)
                except BaseException:
                    await db.close()
                    raise
                if applied:
                    log.info("database migrated: %s", ", ".join(applied))
                self._db = db
            return self._db

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            raise RuntimeError("settings not set")
        return self._settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self._settings = value

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("database not open (post_init has not run)")
        return self._db

    @db.setter
    def db(self, value: Database | None) -> None:
        self._db = value

    @property
    def content(self) -> Content:
        if self._content is None:
            raise RuntimeError("content not loaded (post_init has not run)")
        return self._content

    @content.setter
    def content(self, value: Content) -> None:
        self._content = value

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            raise RuntimeError("outbox not set")
        return self._outbox

    @outbox.setter
    def outbox(self, value: Outbox) -> None:
        self._outbox = value

    @property
    def search(self) -> SearchIndex:
        if self._search is None:
            raise RuntimeError("search index not built (post_init has not run)")
        return self._search

    @search.setter
    def search(self, value: SearchIndex) -> None:
        self._search = value

    @property
    def texts(self) -> Texts:
        return self.content.texts


Context: TypeAlias = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
App: TypeAlias = Application[
    ExtBot[None], Context, dict[Any, Any], dict[Any, Any], BotData, JobQueue[Context]
]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)
