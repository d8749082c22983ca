"""Funding deadlines: yearly and dated rules from content/deadlines.yaml, as they apply to one Land at one moment.

A rule's date is a local day (optionally with an hour); a deadline without an hour lasts the whole day, so it
passes at the next local midnight. The date that matters for a Kommune is the earliest one it faces — usually the
intermediary's (Zentral-/Länderstelle) — and that is what reminders aim at. Plain functions, no Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.content import CalendarContent, DeadlineRule, Html, Intermediary, Programme, Texts, escape, month_day
from bot.events import fmt_date


@dataclass(frozen=True, slots=True)
class DeadlineDay:
    """One dated occurrence: the local day, the hour if any, and the moment it passes (aware UTC)."""

    day: date
    at: time | None
    passes_at: datetime


@dataclass(frozen=True, slots=True)
class DeadlineView:
    """A rule as it applies to one Land now."""

    rule: DeadlineRule
    programme: Programme
    next: DeadlineDay | None  # the programme's own next date
    last: DeadlineDay | None  # its latest past dated occurrence (for "zuletzt …"), dated rules only
    intermediary: Intermediary | None
    intermediary_next: DeadlineDay | None
    # A yearly date not confirmed for the year it would fall in (see ``rolls_over``): shown as unconfirmed,
    # never reminded of.
    unconfirmed: DeadlineDay | None = None
    intermediary_unconfirmed: DeadlineDay | None = None

    @property
    def effective(self) -> DeadlineDay | None:
        """The earliest upcoming date the user faces: the intermediary's where it is earlier or the only one."""
        candidates = [d for d in (self.intermediary_next, self.next) if d is not None]
        return min(candidates, key=lambda d: d.passes_at) if candidates else None

    @property
    def subject(self) -> str:
        return deadline_subject(self.rule.id)


def deadline_subject(rule_id: str) -> str:
    return f"deadline:{rule_id}"


def passes_at(day: date, at: time | None, tz: ZoneInfo) -> datetime:
    """The moment a deadline on ``day`` passes: at its hour, or at the end of the local day."""
    if at is not None:
        return datetime.combine(day, at).replace(tzinfo=tz).astimezone(UTC)
    return datetime.combine(day + timedelta(days=1), time(0, 0)).replace(tzinfo=tz).astimezone(UTC)


def _occurrence(day: date, at: time | None, tz: ZoneInfo) -> DeadlineDay:
    return DeadlineDay(day, at, passes_at(day, at, tz))


def next_yearly(yearly: str, at: time | None, tz: ZoneInfo, now: datetime) -> DeadlineDay:
    """The next occurrence of a ``MM-DD`` rule that has not passed at ``now``."""
    month, day = month_day(yearly)
    year = now.astimezone(tz).year
    while True:
        occurrence = _occurrence(date(year, month, day), at, tz)
        if occurrence.passes_at > now:
            return occurrence
        year += 1


def _dated(dates: list[date], at: time | None, tz: ZoneInfo, now: datetime) -> tuple[DeadlineDay | None, ...]:
    occurrences = sorted((_occurrence(d, at, tz) for d in dates), key=lambda o: o.passes_at)
    upcoming = [o for o in occurrences if o.passes_at > now]
    past = [o for o in occurrences if o.passes_at <= now]
    return (upcoming[0] if upcoming else None, past[-1] if past else None)


def upcoming_dates(
    rule_dates: list[date], yearly: str | None, at: time | None, tz: ZoneInfo, now: datetime
) -> list[DeadlineDay]:
    """Every upcoming occurrence (the next yearly one, or all future dated ones)."""
    if yearly is not None:
        return [next_yearly(yearly, at, tz, now)]
    return sorted(
        (o for o in (_occurrence(d, at, tz) for d in rule_dates) if o.passes_at > now),
        key=lambda o: o.passes_at,
    )


def rolls_over(rule: DeadlineRule) -> bool:
    """Whether a yearly date may be carried into a later year: only when the rule is confirmed (verified).
    An unconfirmed yearly date counts in the current year only; once it has passed, no date is current."""
    return rule.certainty == "verified"


def _yearly_occurrence(
    rule: DeadlineRule, yearly: str, at: time | None, tz: ZoneInfo, now: datetime
) -> tuple[DeadlineDay | None, DeadlineDay | None]:
    """(current, unconfirmed): the next occurrence, as current or — carried past this year without
    confirmation — as unconfirmed."""
    upcoming = next_yearly(yearly, at, tz, now)
    if rolls_over(rule) or upcoming.day.year == now.astimezone(tz).year:
        return upcoming, None
    return None, upcoming


def view(
    rule: DeadlineRule, calendar: CalendarContent, land: str | None, tz: ZoneInfo, now: datetime
) -> DeadlineView:
    own_unconfirmed: DeadlineDay | None = None
    own_last: DeadlineDay | None = None
    if rule.yearly is not None:
        own_next, own_unconfirmed = _yearly_occurrence(rule, rule.yearly, rule.at, tz, now)
    else:
        own_next, own_last = _dated(rule.dates, rule.at, tz, now)
    intermediary = rule.intermediary_for(land)
    inter_next: DeadlineDay | None = None
    inter_unconfirmed: DeadlineDay | None = None
    if intermediary is not None:
        if intermediary.yearly is not None:
            inter_next, inter_unconfirmed = _yearly_occurrence(rule, intermediary.yearly, None, tz, now)
        elif intermediary.dates:
            inter_next, _ = _dated(intermediary.dates, None, tz, now)
    return DeadlineView(
        rule,
        calendar.programmes[rule.programme],
        own_next,
        own_last,
        intermediary,
        inter_next,
        own_unconfirmed,
        inter_unconfirmed,
    )


def views_for(
    calendar: CalendarContent,
    land: str | None,
    tz: ZoneInfo,
    now: datetime,
    programmes: set[str] | None = None,
) -> list[DeadlineView]:
    """The rules that apply to ``land`` (all general rules when None), soonest first; rules without a current
    date come last, in file order."""
    views = [
        view(rule, calendar, land, tz, now)
        for rule in calendar.deadlines
        if rule.applies_to(land) and (programmes is None or rule.programme in programmes)
    ]
    far = datetime.max.replace(tzinfo=UTC)
    order = {rule.id: index for index, rule in enumerate(calendar.deadlines)}
    return sorted(
        views,
        key=lambda v: (v.effective.passes_at if v.effective else far, order[v.rule.id]),
    )


def days_until(day: date, now: datetime, tz: ZoneInfo) -> int:
    """Whole calendar days from today (local) to ``day``: 0 today, 1 tomorrow."""
    return (day - now.astimezone(tz).date()).days


# --- rendering -----------------------------------------------------------------------------------------------


def days_phrase(texts: Texts, day: date, now: datetime, tz: ZoneInfo) -> Html:
    """``heute`` / ``morgen`` / ``in 37 Tagen`` (local calendar days)."""
    days = days_until(day, now, tz)
    if days <= 0:
        return Html(texts("events.days.today"))
    if days == 1:
        return Html(texts("events.days.tomorrow"))
    return Html(texts("events.days.in_days", n=days))


def deadline_day_text(texts: Texts, occurrence: DeadlineDay) -> Html:
    if occurrence.at is not None:
        return Html(
            texts(
                "events.format.deadline_day_time",
                date=fmt_date(occurrence.day),
                time=occurrence.at.strftime("%H:%M"),
            )
        )
    return Html(texts("events.format.deadline_day", date=fmt_date(occurrence.day)))


def intermediary_html(
    texts: Texts, deadline: DeadlineView, now: datetime, tz: ZoneInfo, *, relative: bool = True
) -> Html:
    inter = deadline.intermediary
    if inter is None:
        return Html("")
    note = Html(" " + escape(inter.note)) if inter.note else Html("")
    if deadline.intermediary_next is not None:
        return Html(
            texts(
                "events.deadline.intermediary_dated"
                if relative
                else "events.deadline.intermediary_dated_fixed",
                who=inter.who,
                date=deadline_day_text(texts, deadline.intermediary_next),
                in_days=days_phrase(texts, deadline.intermediary_next.day, now, tz),
                note=note,
            )
        )
    if deadline.intermediary_unconfirmed is not None:
        return Html(
            texts(
                "events.deadline.intermediary_unconfirmed",
                who=inter.who,
                year=deadline.intermediary_unconfirmed.day.year,
                day=deadline.intermediary_unconfirmed.day.strftime("%d.%m."),
                note=note,
            )
        )
    return Html(texts("events.deadline.intermediary", who=inter.who, note=note))


def render_deadline(
    texts: Texts, deadline: DeadlineView, now: datetime, tz: ZoneInfo, *, relative: bool = True
) -> str:
    """One deadline for the list: what, the date with its year (or that none is current), the earlier
    intermediary deadline, notes, certainty, source and Stand. ``relative=False`` leaves out "in 44 Tagen"
    (for a calendar file, which is read on later days)."""
    rule = deadline.rule
    rhythm = rule.rhythm or ""
    if deadline.next is not None:
        if rule.yearly:
            key = "events.deadline.yearly" if relative else "events.deadline.yearly_fixed"
        else:
            key = "events.deadline.dated" if relative else "events.deadline.dated_fixed"
        date_line = texts(
            key,
            date=deadline_day_text(texts, deadline.next),
            in_days=days_phrase(texts, deadline.next.day, now, tz),
        )
    elif deadline.unconfirmed is not None:
        date_line = texts(
            "events.deadline.yearly_unconfirmed",
            year=deadline.unconfirmed.day.year,
            day=deadline.unconfirmed.day.strftime("%d.%m."),
            rhythm=rhythm,
        )
    elif deadline.last is not None:
        date_line = texts(
            "events.deadline.none_last", last=deadline_day_text(texts, deadline.last), rhythm=rhythm
        )
    else:
        date_line = texts("events.deadline.none", rhythm=rhythm)
    lines = [
        texts("events.deadline.title", programme=deadline.programme.name, what=rule.what),
        date_line,
    ]
    inter = intermediary_html(texts, deadline, now, tz, relative=relative)
    if inter:
        lines.append(inter)
    if rule.note:
        lines.append(texts("events.deadline.note", note=rule.note))
    lines.append(
        texts(
            "events.deadline.source",
            certainty=Html(texts(f"events.certainty.{rule.certainty}")),
            url=rule.source.url,
            title=rule.source.title,
            stand=fmt_date(rule.stand),
        )
    )
    return "\n".join(lines)
