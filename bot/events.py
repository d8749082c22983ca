"""Events: validating what a coordinator enters, the form's draft, and rendering events and change notices.

``check_*`` are plain functions raising ``EventInputError`` (its ``code`` selects ``events.input_error.<code>``).
Writing a change with its followers' notices and rescheduled reminders is bot/event_changes.py; German date
phrasing is bot/date_phrasing.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup

from bot.content import Content
from bot.content_models.base import LAND_CODES
from bot.content_models.calendar import HTML_TAG
from bot.date_phrasing import when_text
from bot.db import EventFields, EventRow
from bot.german_time import When, parse_end, parse_when, to_aware
from bot.keyboards import EVENTS, one_button
from bot.telegram_html import Html, escape
from bot.texts import Texts

TITLE_MIN, TITLE_MAX = 3, 120
PLACE_MAX = 200
URL_MAX = 300
DESCRIPTION_MAX = 1500
MAX_DURATION = timedelta(days=31)
MAX_AHEAD = timedelta(days=3 * 366)
PAGE_SIZE = 5

# The order a new event is asked in; also the order of the change lines followers get.
FIELDS = ("title", "start", "end", "place", "description", "bundesland", "topic")

_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_SMALL_NUMBER = re.compile(r"[0-9]{1,9}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class EventInputError(ValueError):
    """Unusable input for an event field; ``code`` selects the friendly text."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


INPUT_ERROR_CODES = (
    "html",
    "title_short",
    "title_long",
    "place_missing",
    "place_long",
    "url_long",
    "description_long",
    "past",
    "too_far",
    "end_before_start",
    "too_long",
)


def event_subject(event_id: int) -> str:
    """How reminders name an event."""
    return f"event:{event_id}"


def parse_number(text: str) -> int | None:
    """An event id or page number from a button or deep link: ASCII digits that fit SQLite, else None."""
    return int(text) if _SMALL_NUMBER.fullmatch(text) else None


# --- checking input ------------------------------------------------------------------------------------------


def _plain(text: str, *, keep_newlines: bool = False) -> str:
    if HTML_TAG.search(text):
        raise EventInputError("html")
    text = _CONTROL.sub("", text)
    if keep_newlines:
        lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.strip().splitlines()]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return re.sub(r"\s+", " ", text).strip()


def check_title(text: str) -> str:
    title = _plain(text)
    if len(title) < TITLE_MIN:
        raise EventInputError("title_short")
    if len(title) > TITLE_MAX:
        raise EventInputError("title_long")
    return title


def check_place(text: str) -> tuple[str | None, str | None]:
    """A place, an online link, or both in one line (``Köln, Rathaus https://…``)."""
    clean = _plain(text)
    urls = _URL.findall(clean)
    place = _URL.sub(" ", clean)
    place = re.sub(r"\s+", " ", place).strip(" ,;–-")
    url = urls[0].rstrip(".,;)") if urls else None
    if not place and not url:
        raise EventInputError("place_missing")
    if len(place) > PLACE_MAX:
        raise EventInputError("place_long")
    if url is not None and len(url) > URL_MAX:
        raise EventInputError("url_long")
    return (place or None), url


def check_description(text: str) -> str:
    """Free text; a single ``-`` means none."""
    if text.strip() in {"-", "–"}:
        return ""
    description = _plain(text, keep_newlines=True)
    if len(description) > DESCRIPTION_MAX:
        raise EventInputError("description_long")
    return description


def check_start(when: When, tz: ZoneInfo, now: datetime) -> tuple[datetime, datetime | None]:
    """The aware start (and end, where the input was a range); it must lie ahead, within three years."""
    start = to_aware(when.start, tz)
    if start <= now:
        raise EventInputError("past")
    if start - now > MAX_AHEAD:
        raise EventInputError("too_far")
    end = to_aware(when.end, tz) if when.end is not None else None
    if end is not None:
        check_duration(start, end)
    return start, end


def check_duration(start: datetime, end: datetime) -> None:
    if end <= start:
        raise EventInputError("end_before_start")
    if end - start > MAX_DURATION:
        raise EventInputError("too_long")


def parse_start(text: str, tz: ZoneInfo, now: datetime) -> tuple[datetime, datetime | None]:
    """German input → aware start (and end for a range); raises ``DateInputError`` or ``EventInputError``."""
    if HTML_TAG.search(text):
        raise EventInputError("html")
    return check_start(parse_when(text, now.astimezone(tz).date()), tz, now)


def parse_end_input(text: str, start: datetime, tz: ZoneInfo, now: datetime) -> datetime:
    if HTML_TAG.search(text):
        raise EventInputError("html")
    local_start = start.astimezone(tz).replace(tzinfo=None)
    end = to_aware(parse_end(text, local_start, now.astimezone(tz).date()), tz)
    check_duration(start, end)
    return end


# --- the form a coordinator fills in (kept JSON-serialisable in user_data) --------------------------------------


@dataclass(frozen=True, slots=True)
class Draft:
    title: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    place: str | None = None
    online_url: str | None = None
    description: str | None = None
    bundesland: str | None = None  # "" = nationwide (chosen), None = not chosen yet
    topic: str | None = None

    def missing(self) -> str | None:
        """The first field still to ask, or None when complete."""
        values = {
            "title": self.title,
            "start": self.starts_at,
            "end": self.ends_at,
            "place": self.place or self.online_url,
            "description": self.description,
            "bundesland": self.bundesland,
            "topic": self.topic,
        }
        return next((name for name in FIELDS if values[name] is None), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "place": self.place,
            "online_url": self.online_url,
            "description": self.description,
            "bundesland": self.bundesland,
            "topic": self.topic,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Draft:
        def when(key: str) -> datetime | None:
            value = data.get(key)
            return datetime.fromisoformat(value) if isinstance(value, str) else None

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        return cls(
            title=text("title"),
            starts_at=when("starts_at"),
            ends_at=when("ends_at"),
            place=text("place"),
            online_url=text("online_url"),
            description=text("description"),
            bundesland=text("bundesland"),
            topic=text("topic"),
        )

    @classmethod
    def from_fields(cls, fields: EventFields) -> Draft:
        return cls(
            fields.title,
            fields.starts_at,
            fields.ends_at,
            fields.place,
            fields.online_url,
            fields.description,
            fields.bundesland or "",
            fields.topic,
        )

    def fields(self) -> EventFields:
        if self.missing() is not None:
            raise ValueError(f"draft incomplete: {self.missing()}")
        assert self.title and self.starts_at and self.ends_at and self.topic is not None
        return EventFields(
            title=self.title,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            place=self.place,
            online_url=self.online_url,
            description=self.description or "",
            bundesland=self.bundesland or None,
            topic=self.topic,
        )

    def with_start(self, start: datetime, end: datetime | None) -> Draft:
        """A new start; without a new end an existing end keeps the event's length."""
        if end is None and self.starts_at is not None and self.ends_at is not None:
            end = start + (self.ends_at - self.starts_at)
        return replace(self, starts_at=start, ends_at=end if end is not None else self.ends_at)


def changed_fields(old: EventFields, new: EventFields) -> list[str]:
    """The form fields that differ, in form order."""
    pairs = {
        "title": (old.title, new.title),
        "start": (old.starts_at, new.starts_at),
        "end": (old.ends_at, new.ends_at),
        "place": ((old.place, old.online_url), (new.place, new.online_url)),
        "description": (old.description, new.description),
        "bundesland": (old.bundesland, new.bundesland),
        "topic": (old.topic, new.topic),
    }
    return [name for name in FIELDS if pairs[name][0] != pairs[name][1]]


# --- rendering -----------------------------------------------------------------------------------------------


def lead_phrase(texts: Texts, leads: Sequence[int]) -> Html:
    """``7 Tage und 1 Tag`` / ``8 Wochen, 2 Wochen und 3 Tage``."""
    parts: list[str] = []
    for days in leads:
        if days == 0:
            parts.append(texts("events.lead.same_day"))
        elif days == 1:
            parts.append(texts("events.lead.one_day"))
        elif days % 7 == 0 and days >= 14:
            parts.append(texts("events.lead.weeks", n=days // 7))
        else:
            parts.append(texts("events.lead.days", n=days))
    if len(parts) <= 1:
        return Html("".join(parts))
    return Html(texts("events.lead.joined", first=Html(", ".join(parts[:-1])), last=Html(parts[-1])))


def land_label(content: Content, code: str | None) -> str:
    if not code:
        return content.texts("events.nationwide")
    return content.land_name(code) if code in LAND_CODES else code


def place_html(texts: Texts, place: str | None, url: str | None) -> Html:
    lines = []
    if place:
        lines.append(texts("events.details.place", place=place))
    if url:
        lines.append(texts("events.details.online", url=url))
    return Html("\n".join(lines))


def render_fields(content: Content, tz: ZoneInfo, fields: EventFields | Draft) -> Html:
    """The body shared by details, preview and notices: title, when, where, Land, topic, description."""
    texts = content.texts
    if isinstance(fields, Draft):
        fields = fields.fields()
    topic = content.calendar.topics.get(fields.topic, fields.topic)
    body = texts(
        "events.details.body",
        title=fields.title,
        when=when_text(texts, fields.starts_at, fields.ends_at, tz),
        where=place_html(texts, fields.place, fields.online_url),
        land=land_label(content, fields.bundesland),
        topic=topic,
    )
    if fields.description:
        body += "\n\n" + escape(fields.description)
    return Html(body)


def share_link(bot_username: str | None, event_id: int) -> str | None:
    return f"https://t.me/{bot_username}?start=termin_{event_id}" if bot_username else None


def render_details(
    content: Content,
    tz: ZoneInfo,
    event: EventRow,
    *,
    now: datetime,
    following: bool,
    link: str | None,
    subscribed: bool = False,
) -> str:
    """The details; ``subscribed``: the user's /abo reminder subscription covers the event."""
    texts = content.texts
    parts: list[str] = [render_fields(content, tz, event.fields)]
    if event.state == "cancelled":
        parts.append(texts("events.details.cancelled"))
    elif event.ends_at <= now:
        parts.append(texts("events.details.over"))
    elif following or subscribed:
        leads = [d for d in content.calendar.reminders.event_leads_days if d >= 0]
        parts.append(
            texts(
                "events.details.following" if following else "events.details.subscribed",
                leads=lead_phrase(texts, leads),
                time=content.calendar.reminders.send_time.strftime("%H:%M"),
            )
        )
    if link and event.state == "active":
        parts.append(texts("events.details.share", link=link))
    return "\n\n".join(parts)


def details_markup(texts: Texts, event_id: int) -> InlineKeyboardMarkup:
    """The event's details button, under a change notice or a reminder."""
    return one_button(EVENTS.button(texts("events.buttons.details"), "show", event_id))


def change_notice(
    content: Content, tz: ZoneInfo, old: EventFields, new: EventFields, changed: list[str]
) -> str:
    texts = content.texts
    lines = []
    for name in changed:
        lines.append(
            texts(
                "events.notice.change_line",
                field=texts(f"events.field.{name}"),
                old=Html(_field_value(content, tz, old, name)),
                new=Html(_field_value(content, tz, new, name)),
            )
        )
    return texts(
        "events.notice.changed",
        title=old.title,
        changes=Html("\n".join(lines)),
        body=render_fields(content, tz, new),
    )


def _field_value(content: Content, tz: ZoneInfo, fields: EventFields, name: str) -> str:
    texts = content.texts
    if name == "title":
        return escape(fields.title)
    if name == "start":
        return when_text(texts, fields.starts_at, None, tz)
    if name == "end":
        return when_text(texts, fields.ends_at, None, tz)
    if name == "place":
        return " · ".join(escape(v) for v in (fields.place, fields.online_url) if v) or "–"
    if name == "description":
        short = fields.description if len(fields.description) <= 80 else fields.description[:79] + "…"
        return escape(short) if short else "–"
    if name == "bundesland":
        return escape(land_label(content, fields.bundesland))
    return escape(content.calendar.topics.get(fields.topic, fields.topic))
