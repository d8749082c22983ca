"""Reminders for followed events and funding deadlines: planned as database rows, delivered once through the outbox.

Planning (``plan_*``, ``sync_reminders``): for every follow, one row per lead time, due at the configured send
time (local) that many days before the local date of the event start or deadline. A deadline rule's expected round
(its month is known, its date not yet published) gets one early row of its own (subject ``expected:<rule>``,
target the local start of that month, ``expected_lead_days`` before it); once an editor enters the confirmed date,
that round is no longer expected, its pending row goes and the confirmed date's rows come instead. Syncing compares the rows that
should exist with the pending ones and, in one transaction, deletes what is no longer wanted (an unfollowed or
moved event, a changed Land) and inserts what is missing — only where the due time still lies ahead, and never
again for a (user, subject, occurrence, lead) that exists in any state, so nothing is sent twice.

Delivery (``queue_due_reminders``): each due row is checked — its target must still lie ahead (a reminder missed
while the bot was down is sent late, or dropped once the event or deadline has passed), the user must want it
(``reminder_recipients``) — then its outbox row is written and the reminder marked sent in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypedDict, Unpack
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup

from bot import outbox, subscriptions
from bot.content import Content
from bot.content_models.calendar import CalendarContent, ReminderSettings
from bot.date_phrasing import fmt_date, when_text
from bot.db import Database, EventRow, OutboxRow, ReminderPlan, ReminderRow, Tx
from bot.deadlines import (
    DeadlineView,
    days_phrase,
    deadline_day_text,
    intermediary_html,
    month_name,
    month_text,
    view,
)
from bot.events import details_markup, event_subject, place_html
from bot.keyboards import DEADLINES, one_button
from bot.telegram_html import Html
from bot.texts import Texts

log = logging.getLogger(__name__)

REMINDER_KIND = "reminder"
EVENT = "event"
DEADLINE = "deadline"
EXPECTED = "expected"  # an expected round of a deadline rule (one early reminder)
BATCH = 200


def subject_kind(subject: str) -> str:
    """The kind of reminder a user can want or not: "event" or "deadline" (an expected round is a deadline's)."""
    kind = subject.split(":", 1)[0]
    return DEADLINE if kind == EXPECTED else kind


def due_time(day: date, lead_days: int, send_time: time, tz: ZoneInfo) -> datetime:
    """``send_time`` local, ``lead_days`` calendar days before ``day``, as aware UTC (DST-proof: wall clock)."""
    local_day = day - timedelta(days=lead_days)
    return datetime.combine(local_day, send_time).replace(tzinfo=tz, fold=0).astimezone(UTC)


def _plans(
    user_id: int,
    subject: str,
    target_at: datetime,
    day: date,
    leads: Iterable[int],
    settings: ReminderSettings,
    tz: ZoneInfo,
) -> list[ReminderPlan]:
    """One reminder per lead time, due at the send time that many days before the local ``day``."""
    return [
        ReminderPlan(user_id, subject, target_at, lead, due_time(day, lead, settings.send_time, tz))
        for lead in leads
    ]


def plan_event(
    user_id: int, event_id: int, starts_at: datetime, settings: ReminderSettings, tz: ZoneInfo
) -> list[ReminderPlan]:
    day = starts_at.astimezone(tz).date()
    return _plans(user_id, event_subject(event_id), starts_at, day, settings.event_leads_days, settings, tz)


def plan_deadline(
    user_id: int, deadline: DeadlineView, settings: ReminderSettings, tz: ZoneInfo
) -> list[ReminderPlan]:
    target = deadline.effective
    if target is None:
        return []
    leads = settings.deadline_leads_days
    return _plans(user_id, deadline.subject, target.passes_at, target.day, leads, settings, tz)


def plan_expected(
    user_id: int, deadline: DeadlineView, settings: ReminderSettings, tz: ZoneInfo
) -> list[ReminderPlan]:
    """One early reminder of the rule's next expected round: ``expected_lead_days`` before the 1st of its month."""
    expected = deadline.reminded_expected
    if expected is None:
        return []
    leads = [settings.expected_lead_days]
    return _plans(user_id, deadline.expected_subject, expected.starts_at, expected.month, leads, settings, tz)


class Scope(TypedDict, total=False):
    """Which reminders a sync covers: one user's, one event's, or (neither given) everyone's."""

    user_id: int
    event_id: int


async def wanted_reminders(
    tx: Tx,
    db: Database,
    calendar: CalendarContent,
    tz: ZoneInfo,
    now: datetime,
    **scope: Unpack[Scope],
) -> list[ReminderPlan]:
    """Every reminder that should exist for the follows in scope (due time past or not)."""
    user_id, event_id = scope.get("user_id"), scope.get("event_id")
    settings = calendar.reminders
    plans: list[ReminderPlan] = []
    for follower, followed_event, starts_at in await db.event_follow_targets(
        tx, event_id=event_id, user_id=user_id
    ):
        if starts_at > now:
            plans.extend(plan_event(follower, followed_event, starts_at, settings, tz))
    if event_id is None:
        cache: dict[tuple[str, str | None], list[DeadlineView]] = {}
        targets = set(await db.programme_follow_targets(tx, user_id=user_id))
        # A subscription to deadline reminders stands for following every programme.
        programmes = {rule.programme for rule in calendar.deadlines}
        for subscriber, land in await db.deadline_subscribers(tx, user_id=user_id):
            targets |= {(subscriber, programme, land) for programme in programmes}
        for follower, programme, land in sorted(targets, key=lambda t: (t[0], t[1])):
            key = (programme, land)
            if key not in cache:
                cache[key] = [
                    view(rule, calendar, land, tz, now)
                    for rule in calendar.deadlines
                    if rule.programme == programme and rule.applies_to(land)
                ]
            for deadline in cache[key]:
                plans.extend(plan_deadline(follower, deadline, settings, tz))
                plans.extend(plan_expected(follower, deadline, settings, tz))
    # A follow and a subscription may ask for the same reminder: one row each.
    return list({plan.key: plan for plan in plans}.values())


@dataclass(frozen=True, slots=True)
class SyncReport:
    added: int
    removed: int


async def sync_reminders_in(
    tx: Tx,
    db: Database,
    calendar: CalendarContent,
    tz: ZoneInfo,
    now: datetime,
    **scope: Unpack[Scope],
) -> SyncReport:
    """Bring pending reminders in scope (one user, one event, or everything) in line with the follows."""
    wanted = await wanted_reminders(tx, db, calendar, tz, now, **scope)
    wanted_keys = {plan.key for plan in wanted}
    event_id = scope.get("event_id")
    subject = event_subject(event_id) if event_id is not None else None
    pending = await db.pending_reminders(tx, now, user_id=scope.get("user_id"), subject=subject)
    stale = [row.id for row in pending if row.key not in wanted_keys]
    await db.delete_pending_reminders(tx, stale)
    added = await db.add_reminders(tx, (plan for plan in wanted if plan.due_at > now), now)
    return SyncReport(added, len(stale))


async def sync_reminders(
    db: Database,
    calendar: CalendarContent,
    tz: ZoneInfo,
    now: datetime,
    **scope: Unpack[Scope],
) -> SyncReport:
    async with db.transaction() as tx:
        return await sync_reminders_in(tx, db, calendar, tz, now, **scope)


async def subscription_covers(db: Database, user_id: int, event: EventRow) -> bool:
    """Whether the user's /abo event reminder subscription brings reminders for ``event`` (nationwide or in
    their Land) — the same rule as ``Database.event_follow_targets``."""
    if not await subscriptions.wants(db, user_id, "event_reminders"):
        return False
    if event.bundesland is None:
        return True
    user = await db.get_user(user_id)
    return user is not None and user.bundesland == event.bundesland


async def calendar_of(
    db: Database, calendar: CalendarContent, user_id: int, now: datetime
) -> tuple[list[EventRow], set[str]]:
    """What "Mein Kalender" holds — what the user is reminded of: the events they follow (a cancelled one too,
    so a re-imported calendar shows it cancelled) or get through the /abo subscription, not yet over; and the
    programmes they follow, every programme with a deadline reminder subscription."""
    found = {event.id: event for event in await db.followed_events(user_id)}
    async with db.transaction() as tx:
        targets = await db.event_follow_targets(tx, user_id=user_id)
        deadline_subscribed = bool(await db.deadline_subscribers(tx, user_id=user_id))
    for _, event_id, _ in targets:
        if event_id not in found and (event := await db.get_event(event_id)) is not None:
            found[event_id] = event
    upcoming = sorted((e for e in found.values() if e.ends_at > now), key=lambda e: (e.starts_at, e.id))
    programmes = await db.followed_programmes(user_id)
    if deadline_subscribed:
        programmes |= set(calendar.programmes)
    return upcoming, programmes


async def reminder_recipients(db: Database, kind: str, user_ids: Iterable[int]) -> set[int]:
    """THE check point before any reminder is sent: which of ``user_ids`` want reminders of ``kind``
    ("event" or "deadline") now.

    Today everyone who follows something gets its reminders. A subscriptions feature that lets users switch a
    reminder kind off globally consults its stored preference here (and only here); rows of users it leaves
    out are marked 'skipped', not sent.
    """
    return set(user_ids)


# --- delivery ------------------------------------------------------------------------------------------------


@dataclass
class QueueReport:
    queued: int = 0
    dropped: int = 0
    skipped: int = 0


def _deadlines_markup(texts: Texts) -> InlineKeyboardMarkup:
    """The deadline list, under a deadline reminder."""
    return one_button(DEADLINES.button(texts("events.buttons.deadlines"), "list", 0))


def render_event_reminder(
    content: Content, tz: ZoneInfo, event: EventRow, now: datetime
) -> tuple[str, InlineKeyboardMarkup]:
    texts = content.texts
    text = texts(
        "events.reminder.event",
        title=event.title,
        in_days=days_phrase(texts, event.starts_at.astimezone(tz).date(), now, tz),
        when=when_text(texts, event.starts_at, event.ends_at, tz),
        where=place_html(texts, event.place, event.online_url),
    )
    return text, details_markup(texts, event.id)


def render_deadline_reminder(
    content: Content, tz: ZoneInfo, deadline: DeadlineView, now: datetime
) -> tuple[str, InlineKeyboardMarkup]:
    texts = content.texts
    target = deadline.effective
    assert target is not None
    text = texts(
        "events.reminder.deadline",
        programme=deadline.programme.name,
        what=deadline.rule.what,
        in_days=days_phrase(texts, target.day, now, tz),
        date=deadline_day_text(texts, target),
        intermediary=Html("\n" + inter)
        if (inter := intermediary_html(texts, deadline, now, tz))
        else Html(""),
        source=deadline.rule.source.url,
        source_title=deadline.rule.source.title,
        stand=fmt_date(deadline.rule.stand),
    )
    return text, _deadlines_markup(texts)


def render_expected_reminder(content: Content, deadline: DeadlineView) -> tuple[str, InlineKeyboardMarkup]:
    """The early reminder of an expected round (text ``events.reminder.expected``: the usual month, prepare now)."""
    texts = content.texts
    expected = deadline.reminded_expected
    assert expected is not None
    rule = deadline.rule
    text = texts(
        "events.reminder.expected",
        programme=deadline.programme.name,
        what=rule.what,
        month_name=month_name(texts, expected.month),
        month=month_text(texts, expected.month),
        note=Html("\n" + texts("events.deadline.note", note=expected.note)) if expected.note else Html(""),
        source=rule.source.url,
        source_title=rule.source.title,
        stand=fmt_date(rule.stand),
    )
    return text, _deadlines_markup(texts)


async def _render(
    db: Database, content: Content, tz: ZoneInfo, row: ReminderRow, now: datetime
) -> tuple[str, InlineKeyboardMarkup] | None:
    """The reminder text, or None when its subject is gone or has moved (the row is then dropped)."""
    kind, _, ident = row.subject.partition(":")
    if kind == EVENT and ident.isdigit():
        event = await db.get_event(int(ident))
        if event is None or event.state != "active" or event.starts_at != row.target_at:
            return None
        return render_event_reminder(content, tz, event, now)
    if kind in (DEADLINE, EXPECTED):
        rule = content.calendar.rule(ident)
        if rule is None:
            return None
        user = await db.get_user(row.user_id)
        deadline = view(rule, content.calendar, user.bundesland if user else None, tz, now)
        if kind == DEADLINE:
            if deadline.effective is None or deadline.effective.passes_at != row.target_at:
                return None
            return render_deadline_reminder(content, tz, deadline, now)
        # Not when the round got its confirmed date meanwhile (it is then no longer expected in that month).
        expected = deadline.reminded_expected
        if expected is None or expected.starts_at != row.target_at:
            return None
        return render_expected_reminder(content, deadline)
    return None


async def queue_due_reminders(db: Database, content: Content, tz: ZoneInfo, now: datetime) -> QueueReport:
    """Turn every due reminder into an outbox row (or drop/skip it), each in its own transaction."""
    report = QueueReport()
    while True:
        rows = await db.due_reminders(now, BATCH)
        if not rows:
            return report
        # Several leads of the same occurrence due at once (the bot was down): only the latest one is sent.
        latest: dict[tuple[int, str, datetime], ReminderRow] = {}
        for row in rows:
            key = (row.user_id, row.subject, row.target_at)
            if key not in latest or row.lead_days < latest[key].lead_days:
                latest[key] = row
        wanted: dict[str, set[int]] = {}
        for kind in (EVENT, DEADLINE):
            users = {row.user_id for row in rows if subject_kind(row.subject) == kind}
            wanted[kind] = await reminder_recipients(db, kind, users) if users else set()
        for row in rows:
            if row.target_at <= now or latest[(row.user_id, row.subject, row.target_at)] is not row:
                await _finish(db, row, "dropped", now)
                report.dropped += 1
                continue
            if row.user_id not in wanted.get(subject_kind(row.subject), set()):
                await _finish(db, row, "skipped", now)
                report.skipped += 1
                continue
            rendered = await _render(db, content, tz, row, now)
            if rendered is None:
                await _finish(db, row, "dropped", now)
                report.dropped += 1
                continue
            text, markup = rendered
            async with db.transaction() as tx:
                if not await db.reminder_is_pending(tx, row.id):
                    continue
                outbox_id = await db.enqueue(
                    tx,
                    kind=REMINDER_KIND,
                    chat_id=row.user_id,
                    payload=outbox.payload(text, markup, reminder_id=row.id),
                    now=now,
                    ref=f"reminder:{row.id}",
                )
                await db.finish_reminder(tx, row.id, "sent", now, outbox_id)
            report.queued += 1


async def _finish(db: Database, row: ReminderRow, state: str, now: datetime) -> None:
    async with db.transaction() as tx:
        await db.finish_reminder(tx, row.id, state, now)


async def current_payload(
    db: Database, content: Content, tz: ZoneInfo, row: OutboxRow, now: datetime
) -> dict[str, Any] | None:
    """The queued reminder as it reads at delivery time, or None when it must not go out any more.

    A reminder can wait in the outbox (Telegram unreachable, a long announcement ahead of it) while its event is
    moved or cancelled, the user's Land changes its deadline, or the target passes: it is then not sent — the
    follower has the change notice instead. Otherwise it is rendered anew, so "morgen" is still true.
    """
    reminder_id = row.payload.get("reminder_id")
    if not isinstance(reminder_id, int):
        return row.payload
    reminder = await db.reminder(reminder_id)
    if reminder is None or reminder.target_at <= now:
        return None
    rendered = await _render(db, content, tz, reminder, now)
    if rendered is None:
        return None
    text, markup = rendered
    return outbox.payload(text, markup, reminder_id=reminder_id)
