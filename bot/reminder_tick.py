"""The periodic reminder run and the delivery of what it queues, without Telegram's job machinery.

``run_tick`` seeds the events from content once, re-plans every reminder hourly (deadlines roll over, Länder
change) and queues what is due through the outbox; it returns what it queued, so the caller can start the
outbox worker. ``register_deliveries`` tells the outbox how reminders and change notices are delivered:
rendered anew, and not at all once overtaken by a change.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from telegram.ext import ExtBot

from bot import event_changes, outbox, reminders, subscriptions
from bot.context import BotData
from bot.db import OutboxRow, Tx
from bot.reminders import QueueReport

log = logging.getLogger(__name__)

FULL_SYNC_EVERY = timedelta(hours=1)


@dataclass
class TickState:
    """Kept between runs (in the job's data): whether seeds were applied and when everything was last
    re-planned."""

    seeded: bool = False
    synced_at: datetime | None = None
    running: asyncio.Lock = field(default_factory=asyncio.Lock)  # one run at a time


async def run_tick(data: BotData, state: TickState) -> QueueReport:
    """Seed events once, re-plan all reminders hourly, then queue what is due; what was queued."""
    async with state.running:
        return await _run(data, state)


async def _run(data: BotData, state: TickState) -> QueueReport:
    db, content, tz, now = data.db, data.content, data.settings.tz, data.clock.now()
    if not state.seeded:
        # Reminders must go out even when seeding fails: the failure is logged and tried again next run.
        try:
            added, updated = await event_changes.seed_events(db, content, tz, now)
        except Exception:
            log.exception("seeding events failed")
        else:
            if added or updated:
                log.info("seed events: %s added, %s updated", added, updated)
            state.seeded = True
    if state.synced_at is None or abs(now - state.synced_at) >= FULL_SYNC_EVERY:
        report = await reminders.sync_reminders(db, content.calendar, tz, now)
        if report.added or report.removed:
            log.info("reminders planned: %s added, %s removed", report.added, report.removed)
        state.synced_at = now
    queued = await reminders.queue_due_reminders(db, content, tz, now)
    if queued.queued or queued.dropped or queued.skipped:
        log.info(
            "reminders: %s queued, %s dropped, %s skipped", queued.queued, queued.dropped, queued.skipped
        )
    return queued


def register_deliveries(data: BotData) -> None:
    """How the outbox delivers reminders and event change notices, and what a blocked bot ends."""
    clock = data.clock

    async def forget_blocked(tx: Tx, row: OutboxRow, error: str) -> None:
        """A user who blocked the bot gets nothing more: follows and subscriptions end."""
        if error.startswith("Forbidden"):
            await subscriptions.end_all(tx, row.chat_id, clock.now())

    async def deliver_reminder(bot: ExtBot[None], row: OutboxRow) -> int | None:
        """Rendered anew at delivery; not sent when its event or deadline changed while it waited."""
        now = clock.now()
        payload = await reminders.current_payload(data.db, data.content, data.settings.tz, row, now)
        if payload is None:
            log.info("reminder outbox row %s withdrawn: out of date", row.id)
            if isinstance(row.payload.get("reminder_id"), int):
                await data.db.withdraw_reminder(int(row.payload["reminder_id"]), now)
            return None
        return await outbox.send_payload(bot, replace(row, payload=payload))

    async def deliver_notice(bot: ExtBot[None], row: OutboxRow) -> int | None:
        """A change notice overtaken by a later change or the cancellation is not sent."""
        if not await event_changes.notice_is_current(data.db, row.payload):
            log.info("event notice outbox row %s withdrawn: superseded", row.id)
            return None
        return await outbox.send_payload(bot, row)

    data.outbox.register(reminders.REMINDER_KIND, deliver=deliver_reminder, on_failed=forget_blocked)
    data.outbox.register(event_changes.NOTICE_KIND, deliver=deliver_notice, on_failed=forget_blocked)
