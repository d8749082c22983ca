"""In-process harness: the real Application fed real ``Update`` objects, answered by a strict offline Bot API.

Nothing ticks in the background: the job queue's scheduler is paused once the application runs, so a test
drives the periodic work itself (``Harness.deliver`` for the outbox, the jobs' callbacks for the rest) on the
fake clock. Workers the bot starts on its own (``Outbox.kick`` after a new row) still run; ``deliver`` awaits
them instead of polling, and their pacing runs on ``VirtualTime``. Content and the search index come from a
per-folder cache (tests/content_cache.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram.ext import Job

from bot.app import build_application, running
from bot.clock import FakeClock
from bot.config import Settings
from bot.context import App, Context
from bot.db import Database
from bot.offline import OfflineBotApi, SentMessage, UpdateFactory
from bot.outbox import Outbox
from bot.texts import Texts
from tests.content_cache import cached_content_and_index

STAFF_CHAT_ID = -1001234567890
ADMIN_ID = 900001


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "token": None,
        "database": tmp_path / "bot.sqlite3",
        "admin_ids": frozenset({ADMIN_ID}),
        "staff_chat_id": STAFF_CHAT_ID,
        "api_url": "https://api.telegram.invalid",
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


class VirtualTime:
    """Monotonic time for the outbox's pacing that passes only when the outbox sleeps: pacing is checked (the
    order and the waits are real), but costs the test no wall-clock time."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)  # still let other tasks run, as a real sleep would


class Harness:
    """Drive the bot as users would and look at what it sent."""

    def __init__(self, app: App, api: OfflineBotApi, clock: FakeClock) -> None:
        self.app = app
        self.api = api
        self.clock = clock
        self.factory = UpdateFactory(app)

    @property
    def db(self) -> Database:
        return self.app.bot_data.db

    @property
    def texts(self) -> Texts:
        return self.app.bot_data.texts

    def user(self, user_id: int, first_name: str = "Test", language: str | None = "de") -> dict[str, Any]:
        return self.factory.user(user_id, first_name, language)

    async def send(self, user: dict[str, Any], text: str, **kwargs: Any) -> list[SentMessage]:
        """Send a message as ``user``; return the messages the bot sent or edited in reply."""
        before = self._snapshot()
        await self.app.process_update(self.factory.message(user, text, **kwargs))
        return self._changed(before)

    async def press(self, user: dict[str, Any], message: SentMessage, data: str) -> list[SentMessage]:
        before = self._snapshot()
        await self.app.process_update(self.factory.press(user, message, data))
        return self._changed(before)

    async def press_label(
        self, user: dict[str, Any], message: SentMessage, label_part: str
    ) -> list[SentMessage]:
        """Press the button whose label contains ``label_part``."""
        for button in message.buttons():
            if label_part in button["text"] and "callback_data" in button:
                return await self.press(user, message, str(button["callback_data"]))
        raise AssertionError(
            f"no button containing {label_part!r} in {[b['text'] for b in message.buttons()]}"
        )

    def job(self, name: str) -> Job[Context]:
        """The one periodic job of that name (the scheduler is paused: run its callback yourself)."""
        assert self.app.job_queue is not None
        [job] = self.app.job_queue.get_jobs_by_name(name)
        return job

    async def deliver(self, rounds: int = 100) -> None:
        """Deliver every outbox row due now: wait for a worker the bot started itself, then run passes until
        nothing is due. Retry and flood waits are not skipped (move ``clock`` for those)."""
        outbox = self.app.bot_data.outbox
        for _ in range(rounds):
            await outbox.idle()
            await outbox.deliver_due(self.app.bot)
            if not outbox.busy and not await self.db.due_outbox(self.clock.now(), 1):
                return
        raise AssertionError("outbox never settled")

    def last_answer_text(self) -> str | None:
        """The text of the last answerCallbackQuery (a toast or alert)."""
        for call in reversed(self.api.calls):
            if call.method == "answerCallbackQuery":
                return call.params.get("text")
        return None

    def _snapshot(self) -> dict[tuple[int, int], tuple[str, Any]]:
        return {k: (m.text, m.reply_markup) for k, m in self.api.messages.items()}

    def _changed(self, before: dict[tuple[int, int], tuple[str, Any]]) -> list[SentMessage]:
        return [m for k, m in sorted(self.api.messages.items()) if before.get(k) != (m.text, m.reply_markup)]


@asynccontextmanager
async def harness(
    tmp_path: Path,
    *,
    now: datetime | None = None,
    api: OfflineBotApi | None = None,
    setup: Callable[[App], None] | None = None,
    **overrides: Any,
) -> AsyncIterator[Harness]:
    settings = make_settings(tmp_path, **overrides)
    clock = FakeClock(now or datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    api = api or OfflineBotApi(strict=True)
    pacing = VirtualTime()
    outbox = Outbox(clock, settings.broadcast_rate, monotonic=pacing.monotonic, sleep=pacing.sleep)
    app = build_application(settings, request=api, clock=clock, load=cached_content_and_index, outbox=outbox)
    if setup is not None:
        setup(app)
    async with running(app):
        assert app.job_queue is not None
        app.job_queue.scheduler.pause()  # background ticks off: tests run the jobs on the fake clock
        yield Harness(app, api, clock)
