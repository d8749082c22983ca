"""Typed access to the long-lived services from every callback (``context.bot_data``)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar, overload

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


T = TypeVar("T")


class Service(Generic[T]):
    """A service attribute of ``BotData``: stored in ``_<name>``, None until set, and never read as None."""

    def __init__(self, missing: str) -> None:
        self.missing = missing
        self.attr = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.attr = f"_{name}"

    @overload
    def __get__(self, obj: None, owner: type) -> Service[T]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> T: ...
    def __get__(self, obj: object | None, owner: type) -> Service[T] | T:
        if obj is None:
            return self
        value: T | None = getattr(obj, self.attr)
        if value is None:
            raise RuntimeError(self.missing)
        return value

    def __set__(self, obj: object, value: T | None) -> None:
        setattr(obj, self.attr, value)


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

    # Each service is set once at start; reading one before it is set raises with what has not happened yet.
    settings: Service[Settings] = Service("settings not set")
    db: Service[Database] = Service("database not open (post_init has not run)")
    content: Service[Content] = Service("content not loaded (post_init has not run)")
    outbox: Service[Outbox] = Service("outbox not set")
    # Every table holding personal data and the retention rules; features register in ``register(app)``.
    privacy: Service[PrivacyRegistry] = Service("privacy registry not set")
    # Consultation requests: staff rights, the staff group, the relay index (set by handlers.requests).
    requests: Service[RequestDesk] = Service("requests desk not set")
    search: Service[SearchIndex] = Service("search index not built (post_init has not run)")
    # Precise answers (passages, structured facts); built with the search index.
    answers: Service[Answerer] = Service("answers not built (post_init has not run)")

    @property
    def texts(self) -> Texts:
        return self.content.texts


Context: TypeAlias = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
App: TypeAlias = Application[
    ExtBot[None], Context, dict[Any, Any], dict[Any, Any], BotData, JobQueue[Context]
]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)
