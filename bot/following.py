"""Following an event or a programme's deadlines: the follow and the user's planned reminders change in one
transaction, so a reminder is never planned for something the user no longer follows (or missing for one they do).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content_models.calendar import CalendarContent
from bot.db import Database
from bot.events import event_subject
from bot.reminders import sync_reminders_in


async def follow_event(
    db: Database, calendar: CalendarContent, tz: ZoneInfo, now: datetime, event_id: int, user_id: int
) -> bool:
    """Follow the event; returns whether a reminder for it is planned (False: too close to the start for any
    lead time)."""
    async with db.transaction() as tx:
        await db.follow_event(tx, event_id, user_id, now)
        await sync_reminders_in(tx, db, calendar, tz, now, user_id=user_id)
        planned = await db.pending_reminders(tx, now, user_id=user_id, subject=event_subject(event_id))
    return bool(planned)


async def unfollow_event(
    db: Database, calendar: CalendarContent, tz: ZoneInfo, now: datetime, event_id: int, user_id: int
) -> bool:
    """Stop following; returns whether reminders for the event are still planned (the /abo subscription may
    bring them)."""
    async with db.transaction() as tx:
        await db.unfollow_event(tx, event_id, user_id)
        await sync_reminders_in(tx, db, calendar, tz, now, user_id=user_id)
        left = await db.pending_reminders(tx, now, user_id=user_id, subject=event_subject(event_id))
    return bool(left)


async def set_programme_followed(
    db: Database,
    calendar: CalendarContent,
    tz: ZoneInfo,
    now: datetime,
    programme_id: str,
    user_id: int,
    *,
    follow: bool,
) -> None:
    """Follow (or stop following) a programme's deadlines, with the user's deadline reminders to match."""
    async with db.transaction() as tx:
        if follow:
            await db.follow_programme(tx, programme_id, user_id, now)
        else:
            await db.unfollow_programme(tx, programme_id, user_id)
        await sync_reminders_in(tx, db, calendar, tz, now, user_id=user_id)
