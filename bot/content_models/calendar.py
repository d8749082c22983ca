"""Events, deadlines and reminders: the models of content/events.yaml, content/deadlines.yaml and
content/reminders.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from pydantic import AliasChoices, Field, field_validator, model_validator

from bot.content_models.base import (
    ID_PATTERN,
    LAND_CODES,
    ContentModel,
    Source,
    https_url,
    optional_land_code,
)

# content/events.yaml (topics and seed events), content/deadlines.yaml (programmes and yearly deadline rules),
# content/reminders.yaml (lead times and send time). Rules over them live in bot/events.py, bot/deadlines.py
# and bot/reminders.py.

HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")
CERTAINTIES = ("verified", "secondary", "uncertain")


def _no_html(value: str | None) -> str | None:
    if value is not None and HTML_TAG.search(value):
        raise ValueError("must not contain HTML tags (texts are escaped, write plain text)")
    return value


def _quoted_time(value: object) -> object:
    # YAML 1.1 reads an unquoted 12:00 as the number 720 (base 60): insist on quotes.
    if isinstance(value, int | float):
        raise ValueError('write times in quotes, e.g. "09:00"')
    return value


def month_day(value: str) -> tuple[int, int]:
    """``"12-31"`` → (12, 31): a day that exists every year (no 29 Feb)."""
    match = re.fullmatch(r"(\d{2})-(\d{2})", value)
    if match is None:
        raise ValueError(f"yearly date must look like MM-DD, got {value!r}")
    month, day = int(match.group(1)), int(match.group(2))
    try:
        date(2025, month, day)
    except ValueError:
        raise ValueError(f"{value!r} is not a day that exists every year") from None
    return month, day


def _yearly(value: str | None) -> str | None:
    if value is not None:
        month_day(value)
    return value


def _land_codes(value: list[str]) -> list[str]:
    unknown = [code for code in value if code not in LAND_CODES]
    if unknown:
        raise ValueError(f"unknown Bundesland code(s) {unknown}")
    return value


def _distinct_within(value: list[int], low: int, high: int, outside: str, twice: str) -> None:
    """Raise ValueError(``outside``) for a number outside ``low..high``, ValueError(``twice``) for a repeat."""
    if any(not low <= number <= high for number in value):
        raise ValueError(outside)
    if len(set(value)) != len(value):
        raise ValueError(twice)


class ReminderSettings(ContentModel):
    """When reminders go out: days before the local date of the event/deadline, at ``send_time`` local."""

    send_time: time = time(9, 0)
    event_leads_days: list[int] = Field(default_factory=lambda: [7, 1])
    deadline_leads_days: list[int] = Field(default_factory=lambda: [56, 14, 3])
    # An expected round (no published date yet): one early reminder this many days before the 1st of its month.
    expected_lead_days: int = Field(default=56, ge=0, le=366)

    _quoted = field_validator("send_time", mode="before")(_quoted_time)

    @field_validator("event_leads_days", "deadline_leads_days")
    @classmethod
    def _leads(cls, value: list[int]) -> list[int]:
        _distinct_within(
            value, 0, 366, "lead times are days between 0 and 366", "a lead time is listed twice"
        )
        return sorted(value, reverse=True)


class SeedEvent(ContentModel):
    """An event seeded from content/events.yaml; ``id`` is stable, so seeding twice changes nothing."""

    id: str = Field(pattern=ID_PATTERN, max_length=40)
    title: str = Field(min_length=3, max_length=120)
    start: datetime  # local wall-clock time in BOT_TIMEZONE, e.g. 2026-05-20 10:00
    end: datetime
    place: str | None = Field(default=None, max_length=200)
    online_url: str | None = Field(default=None, max_length=300)
    description: str = Field(default="", max_length=1500)
    bundesland: str | None = None
    topic: str

    _plain = field_validator("title", "place", "description")(_no_html)

    _land = field_validator("bundesland")(optional_land_code)

    @field_validator("online_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else https_url(value)

    @model_validator(mode="after")
    def _consistent(self) -> SeedEvent:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("write start and end as local times without offset (BOT_TIMEZONE applies)")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if not self.place and not self.online_url:
            raise ValueError("needs a place or an online_url")
        return self


class EventsFile(ContentModel):
    topics: dict[str, str] = Field(min_length=1)  # topic id → label shown to users
    events: list[SeedEvent] = Field(default_factory=list)

    @field_validator("topics")
    @classmethod
    def _topic_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for key, label in value.items():
            if not re.match(ID_PATTERN, key) or len(key) > 20:
                raise ValueError(f"topic id {key!r} must be short lowercase letters, digits and '-'")
            if not label.strip() or len(label) > 40:
                raise ValueError(f"topic {key!r}: label must be 1–40 characters")
        return value


class Programme(ContentModel):
    id: str = Field(pattern=ID_PATTERN, max_length=20)
    name: str = Field(min_length=1, max_length=120)
    short: str = Field(min_length=1, max_length=24)  # button label
    url: str

    _https = field_validator("url")(https_url)


class Intermediary(ContentModel):
    """The earlier deadline of the Zentral- or Länderstelle (the one that matters for a Kommune)."""

    who: str = Field(min_length=1, max_length=200)
    yearly: str | None = None  # MM-DD, every year
    dates: list[date] = Field(default_factory=list)  # dated occurrences, each with its year
    note: str | None = Field(default=None, max_length=300)

    _md = field_validator("yearly")(_yearly)
    _plain = field_validator("who", "note")(_no_html)

    @model_validator(mode="after")
    def _one_kind(self) -> Intermediary:
        if self.yearly and self.dates:
            raise ValueError("give either yearly or dates, not both")
        return self


class LandVariant(ContentModel):
    laender: list[str] = Field(min_length=1)
    intermediary: Intermediary

    _codes = field_validator("laender")(_land_codes)


class ExpectedRounds(ContentModel):
    """The usual yearly rhythm of a programme's rounds whose dates are not yet published: the months they
    usually fall in. A confirmed date in that month (or the month before or after) counts as the round's date."""

    months: list[int] = Field(min_length=1, max_length=12)
    note: str | None = Field(default=None, max_length=300)  # e.g. when the dates are usually published

    _plain = field_validator("note")(_no_html)

    @field_validator("months")
    @classmethod
    def _months(cls, value: list[int]) -> list[int]:
        _distinct_within(
            value,
            1,
            12,
            "expected months are numbers from 1 (January) to 12 (December)",
            "an expected month is listed twice",
        )
        return sorted(value)


class DeadlineRule(ContentModel):
    """One deadline of a programme: yearly (``MM-DD``), dated (``dates`` with years: CONFIRMED dates only) or
    without a fixed date; ``expected`` says in which months rounds usually fall while no date is published,
    ``none`` that there is no upcoming round and why."""

    id: str = Field(pattern=ID_PATTERN, max_length=30)
    programme: str
    what: str = Field(min_length=1, max_length=200)
    yearly: str | None = None
    dates: list[date] = Field(default_factory=list)
    # The hour on the deadline day (YAML key ``time``, e.g. "12:00"); otherwise the whole day counts.
    at: time | None = Field(default=None, alias="time")
    rhythm: str | None = Field(default=None, max_length=200)  # what is known when no date is current
    expected: ExpectedRounds | None = None
    none: str | None = Field(default=None, max_length=300)  # no upcoming round, and why
    # The date is the Zentral-/Länderstellen' deadline towards the programme, not a Kommune's: shown so, and
    # never reminded of (a Kommune is reminded of its intermediary's date where one is known).
    for_intermediaries: bool = False
    note: str | None = Field(default=None, max_length=400)
    laender: list[str] = Field(default_factory=list)  # only for these Länder; empty = everywhere
    intermediary: Intermediary | None = None
    variants: list[LandVariant] = Field(default_factory=list)
    certainty: str
    source: Source
    # ``checked`` (new format) and ``stand`` (old) both name the day the rule was last checked.
    stand: date = Field(validation_alias=AliasChoices("checked", "stand"))

    _md = field_validator("yearly")(_yearly)
    _codes = field_validator("laender")(_land_codes)
    _quoted = field_validator("at", mode="before")(_quoted_time)
    _plain = field_validator("what", "rhythm", "note", "none")(_no_html)

    @field_validator("certainty")
    @classmethod
    def _certainty(cls, value: str) -> str:
        if value not in CERTAINTIES:
            raise ValueError(f"certainty must be one of {', '.join(CERTAINTIES)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DeadlineRule:
        if self.yearly and self.dates:
            raise ValueError("give either yearly or dates, not both")
        if not (self.yearly or self.dates or self.expected or self.none or self.rhythm or self.note):
            raise ValueError(
                "a rule without a date needs expected, none, a rhythm or a note saying what is known"
            )
        if self.yearly and self.expected:
            raise ValueError(
                "a yearly rule already says when it is expected: give yearly or expected, not both"
            )
        if self.none and (self.yearly or self.expected):
            raise ValueError("'none' says there is no upcoming round: it cannot go with yearly or expected")
        seen: set[str] = set()
        for variant in self.variants:
            if seen & set(variant.laender):
                raise ValueError("a Land appears in two variants")
            seen |= set(variant.laender)
        return self

    def intermediary_for(self, land: str | None) -> Intermediary | None:
        """The Land variant's intermediary deadline where one exists, else the general one."""
        for variant in self.variants:
            if land is not None and land in variant.laender:
                return variant.intermediary
        return self.intermediary

    def applies_to(self, land: str | None) -> bool:
        return not self.laender or land in self.laender


class DeadlinesFile(ContentModel):
    programmes: list[Programme] = Field(min_length=1)
    deadlines: list[DeadlineRule] = Field(min_length=1)


@dataclass(frozen=True)
class CalendarContent:
    """Events, deadlines and reminder settings from content/, validated."""

    reminders: ReminderSettings = field(default_factory=ReminderSettings)
    topics: dict[str, str] = field(default_factory=dict)
    seed_events: list[SeedEvent] = field(default_factory=list)
    programmes: dict[str, Programme] = field(default_factory=dict)
    deadlines: list[DeadlineRule] = field(default_factory=list)

    def rule(self, rule_id: str) -> DeadlineRule | None:
        return next((r for r in self.deadlines if r.id == rule_id), None)
