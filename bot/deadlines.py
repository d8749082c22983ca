"""Funding deadlines: yearly and dated rules from content/deadlines.yaml, as they apply to one Land at one moment.

A rule's date is a local day (optionally with an hour); a deadline without an hour lasts the whole day, so it
passes at the next local midnight. The date that matters for a Kommune is the earliest one it faces — usually the
intermediary's (Zentral-/Länderstelle) — and that is what reminders aim at. Plain functions, no Telegram.

What a rule says at a moment (its state), most certain first:
- ``confirmed``: an upcoming confirmed date (``dates``, or a ``yearly`` day that counts this year);
- ``expected``: no upcoming confirmed date, but a round usually falls in a month (``expected.months``, or the
  month of a yearly day not confirmed for next year): "voraussichtlich Februar 2027 – Termin noch nicht
  veröffentlicht". The current month counts while it lasts;
- ``none``: no upcoming round, and why (``none``);
- ``unknown``: nothing of the above (the rule's rhythm says what is known).
A past confirmed date is never the state; it is shown after it as history ("Zuletzt: …").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.content_models.calendar import CalendarContent, DeadlineRule, Intermediary, Programme, month_day
from bot.date_phrasing import fmt_date
from bot.telegram_html import Html, escape
from bot.texts import Texts

State = Literal["confirmed", "expected", "none", "unknown"]

# How far ahead an expected round is looked for (a rhythm with a month every year always finds one).
EXPECTED_HORIZON_MONTHS = 24


@dataclass(frozen=True, slots=True)
class DeadlineDay:
    """One dated occurrence: the local day, the hour if any, and the moment it passes (aware UTC)."""

    day: date
    at: time | None
    passes_at: datetime


@dataclass(frozen=True, slots=True)
class ExpectedRound:
    """A round expected in a month whose date is not yet published (or, for a yearly rule, not yet confirmed)."""

    month: date  # the 1st of the month
    starts_at: datetime  # local midnight of the 1st, aware UTC: what an early reminder aims at
    note: str | None = None
    usual_day: date | None = None  # a yearly rule's day in that month (not confirmed for that year)


@dataclass(frozen=True, slots=True)
class DeadlineView:
    """A rule as it applies to one Land now."""

    rule: DeadlineRule
    programme: Programme
    next: DeadlineDay | None  # the programme's own next date
    last: DeadlineDay | None  # its latest past dated occurrence (for "zuletzt …"), dated rules only
    intermediary: Intermediary | None
    intermediary_next: DeadlineDay | None
    # A yearly date not confirmed for the year it would fall in (see ``rolls_over``): shown as expected, never
    # reminded of with the deadline lead times.
    unconfirmed: DeadlineDay | None = None
    intermediary_unconfirmed: DeadlineDay | None = None
    # The next expected round without a confirmed date (it may lie after ``next``, see ``expected_rounds``).
    expected: ExpectedRound | None = None

    @property
    def effective(self) -> DeadlineDay | None:
        """The earliest upcoming date the user faces: the intermediary's where it is earlier or the only one.
        A rule ``for_intermediaries`` is not the Kommune's deadline: only its intermediary's date counts."""
        own = None if self.rule.for_intermediaries else self.next
        candidates = [d for d in (self.intermediary_next, own) if d is not None]
        return min(candidates, key=lambda d: d.passes_at) if candidates else None

    @property
    def state(self) -> State:
        if self.next is not None:
            return "confirmed"
        if self.expected is not None:
            return "expected"
        if self.rule.none:
            return "none"
        return "unknown"

    @property
    def reminded_expected(self) -> ExpectedRound | None:
        """The expected round a follower gets an early reminder of (none for the intermediaries' own date)."""
        return None if self.rule.for_intermediaries else self.expected

    @property
    def order_at(self) -> datetime | None:
        """When this rule comes up next (for sorting): its deadline, else its expected month."""
        if self.effective is not None:
            return self.effective.passes_at
        if self.next is not None:
            return self.next.passes_at
        return self.expected.starts_at if self.expected is not None else None

    @property
    def calendar_dates(self) -> list[tuple[DeadlineDay, bool]]:
        """The confirmed upcoming dates for a calendar file, each with whether it is the intermediary's: never
        an expected round (it has no day), nor the intermediaries' own date of a ``for_intermediaries`` rule."""
        dates = [(self.intermediary_next, True)] if self.intermediary_next is not None else []
        if self.next is not None and not self.rule.for_intermediaries:
            dates.append((self.next, False))
        return dates

    @property
    def subject(self) -> str:
        return deadline_subject(self.rule.id)

    @property
    def expected_subject(self) -> str:
        return expected_subject(self.rule.id)


def deadline_subject(rule_id: str) -> str:
    return f"deadline:{rule_id}"


def expected_subject(rule_id: str) -> str:
    """Reminders of an expected round have their own subject: they never collide with a confirmed date's."""
    return f"expected:{rule_id}"


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


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_of(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def month_start(month: date, tz: ZoneInfo) -> datetime:
    """Local midnight of the 1st of ``month``, as aware UTC."""
    return datetime.combine(month.replace(day=1), time(0, 0)).replace(tzinfo=tz).astimezone(UTC)


def _covered_months(rule: DeadlineRule) -> set[int]:
    """The expected rounds (month indexes) that a confirmed date stands for: each date covers the expected month
    nearest to it, if that is its own month or the month before or after."""
    assert rule.expected is not None
    months = set(rule.expected.months)
    covered: set[int] = set()
    for day in rule.dates:
        index = _month_index(day)
        near = [k for k in (index, index - 1, index + 1) if k % 12 + 1 in months]
        if near:
            covered.add(min(near, key=lambda k: (abs(k - index), k)))
    return covered


def expected_rounds(
    rule: DeadlineRule, tz: ZoneInfo, now: datetime, horizon_months: int = EXPECTED_HORIZON_MONTHS
) -> Iterator[ExpectedRound]:
    """The rule's expected rounds without a confirmed date, from the current local month (which counts while it
    lasts) for ``horizon_months`` months, soonest first."""
    if rule.expected is None:
        return
    covered = _covered_months(rule)
    current = _month_index(now.astimezone(tz).date())
    for index in range(current, current + horizon_months + 1):
        if index % 12 + 1 in rule.expected.months and index not in covered:
            month = _month_of(index)
            yield ExpectedRound(month, month_start(month, tz), rule.expected.note)


def _yearly_expected(unconfirmed: DeadlineDay, tz: ZoneInfo) -> ExpectedRound:
    month = unconfirmed.day.replace(day=1)
    return ExpectedRound(month, month_start(month, tz), None, unconfirmed.day)


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
    if own_unconfirmed is not None:
        expected: ExpectedRound | None = _yearly_expected(own_unconfirmed, tz)
    else:
        expected = next(expected_rounds(rule, tz, now), None)
    return DeadlineView(
        rule,
        calendar.programmes[rule.programme],
        own_next,
        own_last,
        intermediary,
        inter_next,
        own_unconfirmed,
        inter_unconfirmed,
        expected,
    )


def views_for(
    calendar: CalendarContent,
    land: str | None,
    tz: ZoneInfo,
    now: datetime,
    programmes: set[str] | None = None,
) -> list[DeadlineView]:
    """The rules that apply to ``land`` (all general rules when None), soonest first (a confirmed date, else an
    expected month); rules with neither come last, in file order."""
    views = [
        view(rule, calendar, land, tz, now)
        for rule in calendar.deadlines
        if rule.applies_to(land) and (programmes is None or rule.programme in programmes)
    ]
    far = datetime.max.replace(tzinfo=UTC)
    order = {rule.id: index for index, rule in enumerate(calendar.deadlines)}
    return sorted(
        views,
        key=lambda v: (v.order_at or far, order[v.rule.id]),
    )


@dataclass(frozen=True, slots=True)
class DeadlineToConfirm:
    """An expected round coming up soon whose date no editor has entered yet."""

    rule: DeadlineRule
    programme: Programme
    round: ExpectedRound


def deadlines_to_confirm(
    calendar: CalendarContent, now: datetime, tz: ZoneInfo, months: int = 3
) -> list[DeadlineToConfirm]:
    """Rules with an expected round in the current month or the next ``months`` months and no confirmed date
    for it (including yearly rules not confirmed for the coming year), soonest first: for the editors' report.
    Land-only rules count too (they are listed once, for their Land)."""
    today = now.astimezone(tz).date()
    last = _month_index(today) + months
    found: list[DeadlineToConfirm] = []
    for rule in calendar.deadlines:
        programme = calendar.programmes[rule.programme]
        if rule.yearly is not None:
            # A yearly day not verified needs confirming, whether it is still this year's or next year's.
            upcoming = next_yearly(rule.yearly, rule.at, tz, now)
            rounds = [] if rolls_over(rule) else [_yearly_expected(upcoming, tz)]
        else:
            rounds = list(expected_rounds(rule, tz, now, months))
        found.extend(DeadlineToConfirm(rule, programme, r) for r in rounds if _month_index(r.month) <= last)
    order = {rule.id: index for index, rule in enumerate(calendar.deadlines)}
    return sorted(found, key=lambda d: (d.round.month, order[d.rule.id]))


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


def month_text(texts: Texts, month: date) -> str:
    """``Februar 2027``."""
    return f"{month_name(texts, month)} {month.year}"


def month_name(texts: Texts, month: date) -> str:
    return texts("events.format.month_names").split(",")[month.month - 1].strip()


def expected_text(texts: Texts, expected: ExpectedRound) -> Html:
    """The expected-round line: the month and year of the next round and that its date is not published yet
    (or, for a yearly day not yet confirmed for that year, with the usual day); wording in texts/events.yaml."""
    if expected.usual_day is not None:
        return Html(
            texts(
                "events.deadline.expected_yearly",
                month=month_text(texts, expected.month),
                day=expected.usual_day.strftime("%d.%m."),
                year=expected.month.year,
            )
        )
    return Html(texts("events.deadline.expected", month=month_text(texts, expected.month)))


def state_lines(
    texts: Texts, deadline: DeadlineView, now: datetime, tz: ZoneInfo, *, relative: bool
) -> list[str]:
    """The rule's current state first (confirmed, expected, none or unknown), then history ("Zuletzt: …") —
    what an answer about "the next deadline" should say, too."""
    rule = deadline.rule
    rhythm = rule.rhythm or ""
    lines: list[str] = []
    state = deadline.state
    if state == "confirmed":
        assert deadline.next is not None
        if rule.yearly:
            key = "events.deadline.yearly" if relative else "events.deadline.yearly_fixed"
        else:
            key = "events.deadline.dated" if relative else "events.deadline.dated_fixed"
        lines.append(
            texts(
                key,
                date=deadline_day_text(texts, deadline.next),
                in_days=days_phrase(texts, deadline.next.day, now, tz),
            )
        )
        if rule.for_intermediaries:
            lines.append(texts("events.deadline.for_intermediaries"))
        earlier = deadline.expected
        if earlier is not None and earlier.starts_at < deadline.next.passes_at:
            lines.append(texts("events.deadline.expected_before", month=month_text(texts, earlier.month)))
        return lines
    if state == "expected":
        assert deadline.expected is not None
        lines.append(expected_text(texts, deadline.expected))
        if rule.for_intermediaries:
            lines.append(texts("events.deadline.for_intermediaries"))
        if deadline.expected.note:
            lines.append(texts("events.deadline.note", note=deadline.expected.note))
    elif state == "none":
        lines.append(texts("events.deadline.no_round", reason=rule.none or ""))
    elif rule.dates:
        lines.append(texts("events.deadline.unpublished", rhythm=rhythm).rstrip())
    else:
        lines.append(texts("events.deadline.none", rhythm=rhythm).rstrip())
    if deadline.last is not None:
        lines.append(texts("events.deadline.last", last=deadline_day_text(texts, deadline.last)))
    return lines


def render_deadline(
    texts: Texts, deadline: DeadlineView, now: datetime, tz: ZoneInfo, *, relative: bool = True
) -> str:
    """One deadline for the list: what, its current state (the next confirmed date with its year, the expected
    round, or that there is none and why — never a past date), the earlier intermediary deadline, notes,
    certainty, source and the day it was checked. ``relative=False`` leaves out "in 44 Tagen" (for a calendar
    file, which is read on later days)."""
    rule = deadline.rule
    lines = [texts("events.deadline.title", programme=deadline.programme.name, what=rule.what)]
    lines.extend(state_lines(texts, deadline, now, tz, relative=relative))
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


def rules_needing_a_state(calendar: CalendarContent, now: datetime, tz: ZoneInfo) -> list[DeadlineRule]:
    """Rules whose confirmed dates have all passed and that say neither when the next round is expected
    (``expected``) nor that there is none (``none``): /fristen can only say that no date is published. For a
    check-content warning or the editors' report."""
    return [
        rule
        for rule in calendar.deadlines
        if rule.dates and view(rule, calendar, None, tz, now).state == "unknown"
    ]
