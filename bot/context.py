"""Typed access to the long-lived services from every callback (``context.bot_data``)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, TypeAlias

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.content import Content
from bot.db import MIGRATIONS_DIR, Database
from bot.followup import FollowupStore
from bot.outbox import Outbox
from bot.privacy import PrivacyRegistry
from bot.requests import RequestDesk
from bot.search import SearchIndex
from bot.texts import Texts

if TYPE_CHECKING:
    from bot.answers import Answerer

log = logging.getLogger(__name__)


class BotData:
    """The services, set in ``build_application`` and ``post_init``; PTB creates it without arguments."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self.clock: Clock = SystemClock()
        self._db: Database | None = None
        self._content: Content | None = None
        self._outbox: Outbox | None = None
        self._privacy: PrivacyRegistry | None = None
        self._requests: RequestDesk | None = None
        self._search: SearchIndex | None = None
        self._answers: Answerer | None = None
        # Follow-up context of free-text answers, per chat, in memory only (bot/followup.py).
        self.followups = FollowupStore()
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
    def privacy(self) -> PrivacyRegistry:
        """Every table holding personal data and the retention rules; features register in ``register(app)``."""
        if self._privacy is None:
            raise RuntimeError("privacy registry not set")
        return self._privacy

    @privacy.setter
    def privacy(self, value: PrivacyRegistry) -> None:
        self._privacy = value

    @property
    def requests(self) -> RequestDesk:
        """Consultation requests: staff rights, the staff group, the relay index (set by handlers.requests)."""
        if self._requests is None:
            raise RuntimeError("requests desk not set")
        return self._requests

    @requests.setter
    def requests(self, value: RequestDesk) -> None:
        self._requests = value

    @property
    def search(self) -> SearchIndex:
        if self._search is None:
            raise RuntimeError("search index not built (post_init has not run)")
        return self._search

    @search.setter
    def search(self, value: SearchIndex) -> None:
        self._search = value

    @property
    def answers(self) -> Answerer:
        """Precise answers (passages, structured facts); built with the search index."""
        if self._answers is None:
            raise RuntimeError("answers not built (post_init has not run)")
        return self._answers

    @answers.setter
    def answers(self, value: Answerer) -> None:
        self._answers = value

    @property
    def texts(self) -> Texts:
        return self.content.texts


Context: TypeAlias = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
App: TypeAlias = Application[
    ExtBot[None], Context, dict[Any, Any], dict[Any, Any], BotData, JobQueue[Context]
]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)
