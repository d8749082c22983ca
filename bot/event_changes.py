"""The changes to events that reach other people, each in one transaction: a new event, an edit, a cancellation
and the seed events from content/events.yaml. An edit or cancellation queues a notice (outbox) for everyone who
follows the event or was reminded of it; every change re-plans the event's reminders (bot/reminders.py).

This module joins bot/events.py (input rules, rendering) and bot/reminders.py (what reminders exist), so
neither imports the other back.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup

from bot import outbox
from bot.content import Content
from bot.content_models.calendar import CalendarContent
from bot.date_phrasing import when_text
from bot.db import Database, EventFields, Tx
from bot.events import change_notice, changed_fields, details_markup, event_subject
from bot.german_time import DateInputError, to_aware
from bot.reminders import sync_reminders_in

log = logging.getLogger(__name__)

NOTICE_KIND = "event_notice"  # changed or cancelled: to every follower, through the outbox


async def create_event(
    db: Database, content: Content, tz: ZoneInfo, fields: EventFields, *, by: int | None, now: datetime
) -> int:
    """Store a new event and, in the same transaction, plan the reminders of users whose /abo subscription
    covers it (waiting for the hourly re-plan could miss a reminder due within the hour)."""
    async with db.transaction() as tx:
        event_id = await db.insert_event(tx, fields, by=by, now=now)
        await sync_reminders_in(tx, db, content.calendar, tz, now, event_id=event_id)
        return event_id


async def notice_recipients(db: Database, event_id: int, tx: Tx | None = None) -> list[int]:
    """Who hears that an event changed or was cancelled: its followers, and everyone who was reminded of it
    through a reminder subscription (/abo) — they may be planning to go."""
    followers = set(await db.event_followers(event_id, tx))
    reminded = set(await db.reminded_users(event_subject(event_id), tx))
    return sorted(followers | reminded)


async def _notify_followers(
    db: Database,
    tx: Tx,
    event_id: int,
    version: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
    now: datetime,
    what: str,
) -> int:
    followers = await notice_recipients(db, event_id, tx)
    for user_id in followers:
        await db.enqueue(
            tx,
            kind=NOTICE_KIND,
            chat_id=user_id,
            payload=outbox.payload(text, markup, event_id=event_id, event_version=version, notice=what),
            now=now,
            ref=f"event:{event_id}:{what}",
        )
    return len(followers)


async def notice_is_current(db: Database, payload: dict[str, Any]) -> bool:
    """Whether a queued change notice still tells the truth when it is delivered: not once the event was changed
    again or cancelled meanwhile (the later notice says what holds). Cancellation notices always go out."""
    event_id, version = payload.get("event_id"), payload.get("event_version")
    if payload.get("notice") != "changed" or not isinstance(event_id, int) or not isinstance(version, int):
        return True
    event = await db.get_event(event_id)
    return event is not None and event.state == "active" and event.version == version


@dataclass(frozen=True, slots=True)
class UpdateResult:
    changed: list[str]
    notified: int


async def update_event(
    db: Database,
    content: Content,
    tz: ZoneInfo,
    event_id: int,
    fields: EventFields,
    *,
    by: int | None,
    now: datetime,
    expected_version: int | None = None,
) -> UpdateResult | None:
    """Save changes, tell followers what changed and move their reminders — all in one transaction.

    None when the event is gone, cancelled, or changed by someone else since ``expected_version``.
    """
    async with db.transaction() as tx:
        current = await db.get_event(event_id, tx)
        if current is None or current.state != "active":
            return None
        if expected_version is not None and current.version != expected_version:
            return None
        old = current.fields
        changed = changed_fields(old, fields)
        if not changed:
            if fields.seed_hash is not None and fields.seed_hash != current.seed_hash:
                await db.set_event_seed_hash(tx, event_id, fields.seed_hash)
            return UpdateResult([], 0)
        await db.update_event(tx, event_id, fields, by=by, now=now)
        notified = 0
        if current.ends_at > now:
            text = change_notice(content, tz, old, fields, changed)
            notified = await _notify_followers(
                db,
                tx,
                event_id,
                current.version + 1,
                text,
                details_markup(content.texts, event_id),
                now,
                "changed",
            )
        await sync_reminders_in(tx, db, content.calendar, tz, now, event_id=event_id)
        return UpdateResult(changed, notified)


async def cancel_event(
    db: Database, content: Content, tz: ZoneInfo, event_id: int, *, by: int | None, now: datetime
) -> int | None:
    """Cancel, tell followers, drop their pending reminders; the number told, or None if not active."""
    async with db.transaction() as tx:
        current = await db.get_event(event_id, tx)
        if current is None or not await db.cancel_event(tx, event_id, by=by, now=now):
            return None
        notified = 0
        if current.ends_at > now:
            text = content.texts(
                "events.notice.cancelled",
                title=current.title,
                when=when_text(content.texts, current.starts_at, current.ends_at, tz),
            )
            notified = await _notify_followers(
                db, tx, event_id, current.version + 1, text, None, now, "cancelled"
            )
        await sync_reminders_in(tx, db, content.calendar, tz, now, event_id=event_id)
        return notified


def seed_fields(calendar: CalendarContent, seed_index: int, tz: ZoneInfo) -> EventFields:
    seed = calendar.seed_events[seed_index]
    digest = hashlib.sha256(seed.model_dump_json().encode()).hexdigest()[:16]
    try:
        start = to_aware(seed.start, tz)
        end = to_aware(seed.end, tz)
    except DateInputError as exc:
        raise ValueError(f"events.yaml: {seed.id}: {exc.code}") from exc
    return EventFields(
        title=seed.title,
        starts_at=start,
        ends_at=end,
        place=seed.place,
        online_url=seed.online_url,
        description=seed.description,
        bundesland=seed.bundesland,
        topic=seed.topic,
        seed_id=seed.id,
        seed_hash=digest,
    )


async def seed_events(db: Database, content: Content, tz: ZoneInfo, now: datetime) -> tuple[int, int]:
    """Add seed events not in the database yet; apply changed seed entries as edits. (added, updated).

    An entry that cannot be placed in time (a wall-clock time skipped by the spring DST change) is logged and
    left out; the others are seeded all the same."""
    added = updated = 0
    for index, seed in enumerate(content.calendar.seed_events):
        try:
            fields = seed_fields(content.calendar, index, tz)
        except ValueError as exc:
            log.error("seed event skipped: %s", exc)
            continue
        async with db.transaction() as tx:
            # Looked up inside the transaction, so two concurrent seedings cannot both insert.
            existing = await db.event_by_seed(seed.id, tx)
            if existing is None:
                event_id = await db.insert_event(tx, fields, by=None, now=now)
                await sync_reminders_in(tx, db, content.calendar, tz, now, event_id=event_id)
                added += 1
        if existing is None:
            continue
        if existing.seed_hash != fields.seed_hash and existing.state == "active":
            result = await update_event(db, content, tz, existing.id, fields, by=None, now=now)
            updated += 1 if result is not None and result.changed else 0
    return added, updated
