"""iCalendar files (RFC 5545) for one event and for everything a user follows, made with ``icalendar``.

Times are written in the bot's time zone with a VTIMEZONE, so calendar apps show the local wall-clock time;
deadlines without an hour are all-day entries. Every entry has a stable UID, so importing a newer file updates
the entry (SEQUENCE counts an event's changes) instead of adding a copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vText

from bot.content import Content
from bot.db import EventRow
from bot.deadlines import DeadlineDay, DeadlineView, render_deadline
from bot.telegram_html import html_to_plain

UID_DOMAIN = "ija-lotse"
PRODID = "-//IJA-Lotse//Termine und Fristen//DE"


def ics_time(moment: datetime, tz: ZoneInfo) -> datetime:
    """Local time with TZID; in UTC only for the repeated hour of an autumn DST night, because RFC 5545 reads
    an ambiguous local time as its first occurrence."""
    local = moment.astimezone(tz)
    if local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset():
        return moment.astimezone(UTC)
    return local


def event_component(
    content: Content, tz: ZoneInfo, event: EventRow, now: datetime, link: str | None
) -> Event:
    entry = Event()
    entry.add("uid", f"event-{event.id}@{UID_DOMAIN}")
    entry.add("dtstamp", now.astimezone(UTC))
    entry.add("last-modified", event.updated_at.astimezone(UTC))
    entry.add("sequence", event.version - 1)
    entry.add("dtstart", ics_time(event.starts_at, tz))
    entry.add("dtend", ics_time(event.ends_at, tz))
    entry.add("summary", event.title)
    entry.add("status", "CANCELLED" if event.state == "cancelled" else "CONFIRMED")
    if event.place or event.online_url:
        entry.add("location", event.place or event.online_url)
    if event.online_url:
        entry.add("url", event.online_url)
    description = [event.description] if event.description else []
    if event.online_url:
        description.append(event.online_url)
    if link:
        description.append(link)
    if description:
        entry.add("description", "\n\n".join(description))
    topic = content.calendar.topics.get(event.topic)
    if topic:
        entry.add("categories", [topic])
    return entry


def deadline_component(
    content: Content,
    tz: ZoneInfo,
    deadline: DeadlineView,
    occurrence: DeadlineDay,
    now: datetime,
    *,
    intermediary: bool,
) -> Event:
    texts = content.texts
    entry = Event()
    kind = "i" if intermediary else "p"
    entry.add("uid", f"deadline-{deadline.rule.id}-{kind}-{occurrence.day.isoformat()}@{UID_DOMAIN}")
    entry.add("dtstamp", now.astimezone(UTC))
    if occurrence.at is not None:
        entry.add("dtstart", datetime.combine(occurrence.day, occurrence.at).replace(tzinfo=tz))
    else:
        entry.add("dtstart", occurrence.day)
        entry.add("dtend", occurrence.day + timedelta(days=1))
    key = "events.ics.intermediary_summary" if intermediary else "events.ics.deadline_summary"
    entry.add(
        "summary", html_to_plain(texts(key, programme=deadline.programme.short, what=deadline.rule.what))
    )
    entry.add("description", html_to_plain(render_deadline(texts, deadline, now, tz, relative=False)))
    entry.add("url", deadline.rule.source.url)
    entry.add("transp", "TRANSPARENT")
    return entry


def deadline_components(content: Content, tz: ZoneInfo, deadline: DeadlineView, now: datetime) -> list[Event]:
    """The upcoming confirmed programme date and the earlier intermediary date, where each is known (an expected
    round has no day and is not in the calendar)."""
    return [
        deadline_component(content, tz, deadline, occurrence, now, intermediary=intermediary)
        for occurrence, intermediary in deadline.calendar_dates
    ]


def calendar_bytes(content: Content, tz: ZoneInfo, entries: Iterable[Event], name: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    # An X- property is TEXT (RFC 5545 3.8.8.2): as vText its commas and semicolons are escaped.
    cal.add("x-wr-calname", vText(name))
    cal.add("x-wr-timezone", tz.key)
    days: list[date] = []
    for entry in entries:
        cal.add_component(entry)
        start = entry.decoded("dtstart")
        days.append(start.date() if isinstance(start, datetime) else start)
    if days:
        # A VTIMEZONE covering the entries (and a year around them), not 1970–2038.
        cal.add_missing_timezones(
            first_date=min(days) - timedelta(days=366), last_date=max(days) + timedelta(days=366)
        )
    return bytes(cal.to_ical())


def event_ics(content: Content, tz: ZoneInfo, event: EventRow, now: datetime, link: str | None) -> bytes:
    return calendar_bytes(content, tz, [event_component(content, tz, event, now, link)], event.title)


def personal_ics(
    content: Content,
    tz: ZoneInfo,
    events: Iterable[tuple[EventRow, str | None]],
    deadlines: Iterable[DeadlineView],
    now: datetime,
) -> bytes:
    entries = [event_component(content, tz, event, now, link) for event, link in events]
    for deadline in deadlines:
        entries.extend(deadline_components(content, tz, deadline, now))
    return calendar_bytes(content, tz, entries, html_to_plain(content.texts("events.ics.calendar_name")))
