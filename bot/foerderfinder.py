"""Förder-Finder rules: which programmes fit a planned activity, which almost fit and why, and the result text.

Everything here is a plain function over the validated programme data (content/programmes.yaml); the handlers
ask the questions and call ``find_programmes`` and ``render_result``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from bot.content_models.base import oldest
from bot.content_models.guided import FundingProgramme, FundingProgrammes, Span
from bot.content_models.servicepoints import Land, ServicePoints
from bot.telegram_html import Html, escape
from bot.texts import Texts

# The questions in the order they are asked; "ages" is skipped for formats that do not ask it.
STEPS = ("country", "format", "ages", "days", "land")
MAX_AGE = 99
MAX_DAYS = 730


@dataclass(frozen=True, slots=True)
class Plan:
    """The user's answers."""

    country: str
    format: str
    ages: tuple[int, int] | None  # None: not asked (specialist exchange)
    days: tuple[int, int]
    land: str | None = None


class MissKind(enum.StrEnum):
    AGES_LOW = "ages_low"
    AGES_HIGH = "ages_high"
    DAYS_LOW = "days_low"
    DAYS_HIGH = "days_high"
    COUNTRY = "country"


@dataclass(frozen=True, slots=True)
class Miss:
    """Why a programme only almost fits: the programme's limit and the user's value, or a reason text.

    ``partly``: the user gave a range of days that reaches into the programme's limits (e.g. "3-10" for a
    programme from 5 days) – it fits if the plan settles inside them, and the message says so.
    """

    kind: MissKind
    limit: int = 0
    value: int = 0
    reason: str = ""
    partly: bool = False


@dataclass(frozen=True, slots=True)
class NearMiss:
    programme: FundingProgramme
    misses: tuple[Miss, ...]


@dataclass(frozen=True, slots=True)
class Finding:
    fits: list[FundingProgramme]
    almost: list[NearMiss]
    cautions: list[FundingProgramme]


def _span_misses(
    span: Span | None, wanted: tuple[int, int] | None, low: MissKind, high: MissKind, *, flexible: bool
) -> list[Miss]:
    """Where ``wanted`` leaves ``span``; ``flexible``: a range is the user's uncertainty (days), not a group
    that really spans it (ages), so an overlapping range is reported as "fits if …"."""
    if span is None or wanted is None:
        return []
    overlaps = flexible and wanted[0] <= span.max and wanted[1] >= span.min
    misses = []
    if wanted[0] < span.min:
        misses.append(Miss(low, limit=span.min, value=wanted[0], partly=overlaps))
    if wanted[1] > span.max:
        misses.append(Miss(high, limit=span.max, value=wanted[1], partly=overlaps))
    return misses


def find_programmes(data: FundingProgrammes, plan: Plan) -> Finding:
    """The programmes that fit the plan (best first), those that almost fit (with reasons), and warnings."""
    fits: list[FundingProgramme] = []
    almost: list[NearMiss] = []
    cautions: list[FundingProgramme] = []
    for programme in data.programmes:
        if plan.format not in programme.formats:
            continue
        limited = programme.limited_countries.get(plan.country)
        if plan.country not in programme.countries and limited is None:
            continue
        if programme.caution:
            cautions.append(programme)
            continue
        misses = [
            *_span_misses(programme.ages, plan.ages, MissKind.AGES_LOW, MissKind.AGES_HIGH, flexible=False),
            *_span_misses(programme.days, plan.days, MissKind.DAYS_LOW, MissKind.DAYS_HIGH, flexible=True),
        ]
        if limited is not None:
            misses.insert(0, Miss(MissKind.COUNTRY, reason=limited))
        if misses:
            almost.append(NearMiss(programme, tuple(misses)))
        else:
            fits.append(programme)
    fits.sort(key=lambda p: (p.rank, p.name))
    almost.sort(key=lambda n: (len(n.misses), n.programme.rank, n.programme.name))
    cautions.sort(key=lambda p: (p.rank, p.name))
    return Finding(fits, almost, cautions)


# --- parsing free-text answers ----------------------------------------------------------------------------

_SPAN = re.compile(
    r"^\s*(?:ca\.?\s*|etwa\s*)?(\d{1,3})\s*(?:(?:-|–|—|bis)\s*(\d{1,3}))?\s*([a-zäöüß.]*)\s*$", re.IGNORECASE
)
_DAY_UNITS = {
    "": 1,
    "t": 1,
    "tag": 1,
    "tage": 1,
    "tagen": 1,
    "w": 7,
    "woche": 7,
    "wochen": 7,
    "m": 30,
    "monat": 30,
    "monate": 30,
    "monaten": 30,
    "j": 365,
    "jahr": 365,
    "jahre": 365,
}
_AGE_UNITS = {"", "j", "j.", "jahr", "jahre", "jahren", "jährige"}


def parse_ages(text: str) -> tuple[int, int] | None:
    """'14-17', '14 bis 17 Jahre', '16' → (min, max); None when it is not an age range."""
    match = _SPAN.match(text)
    if match is None or match.group(3).lower() not in _AGE_UNITS:
        return None
    low = int(match.group(1))
    high = int(match.group(2) or low)
    low, high = min(low, high), max(low, high)
    if high > MAX_AGE or low < 1:
        return None
    return low, high


def parse_days(text: str) -> tuple[int, int] | None:
    """'10', '8-12 Tage', '3 Wochen', '6 Monate' → days as (min, max); None when it is not a duration."""
    match = _SPAN.match(text)
    if match is None:
        return None
    factor = _DAY_UNITS.get(match.group(3).lower().rstrip("."))
    if factor is None:
        return None
    low = int(match.group(1)) * factor
    high = int(match.group(2) or match.group(1)) * factor
    low, high = min(low, high), max(low, high)
    if low < 1 or high > MAX_DAYS:
        return None
    return low, high


def span_arg(span: tuple[int, int]) -> str:
    """Callback argument for a span: '14-17'."""
    return f"{span[0]}-{span[1]}"


def parse_span_arg(arg: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"(\d{1,3})-(\d{1,3})", arg)
    if match is None:
        return None
    low, high = int(match.group(1)), int(match.group(2))
    return (low, high) if low <= high else None


# --- deadlines ------------------------------------------------------------------------------------------------


def next_pattern_deadline(month: int, day: int, years_before: int, today: date) -> tuple[date, int]:
    """The next date of a yearly rule that is today or later, and the activity year it serves."""
    year = today.year
    while True:
        deadline = date(year - years_before, month, day)
        if deadline >= today:
            return deadline, year
        year += 1


# --- rendering ------------------------------------------------------------------------------------------------


def ages_label(texts: Texts, ages: tuple[int, int]) -> str:
    if ages[0] == ages[1]:
        return texts("foerderfinder.buttons.age_one", age=ages[0])
    return texts("foerderfinder.buttons.ages", min=ages[0], max=ages[1])


def days_label(texts: Texts, days: tuple[int, int], options: list[Span] | None = None) -> str:
    for option in options or []:
        if (option.min, option.max) == days and option.label:
            return option.label
    if days[0] == days[1]:
        return texts(
            "foerderfinder.buttons.day_one" if days[0] == 1 else "foerderfinder.buttons.days_one",
            days=days[0],
        )
    return texts("foerderfinder.buttons.days", min=days[0], max=days[1])


def plan_summary(texts: Texts, data: FundingProgrammes, plan: Plan, land_name: str | None) -> str:
    country = data.country(plan.country)
    fmt = data.format(plan.format)
    parts = [
        country.label if country else plan.country,
        fmt.label if fmt else plan.format,
    ]
    if plan.ages is not None:
        parts.append(ages_label(texts, plan.ages))
    parts.append(days_label(texts, plan.days, fmt.days if fmt else None))
    if land_name:
        parts.append(land_name)
    return " · ".join(parts)


def programme_keys(programme: FundingProgramme) -> list[str]:
    """The deadlines.yaml programme ids a Förder-Finder entry belongs to: its own id, then its family
    ("kjp-begegnung" → "kjp", "conact-fachkraefte" → "conact"), as servicepoints.yaml names them."""
    family = programme.id.split("-", 1)[0]
    return [programme.id] if family == programme.id else [programme.id, family]


def _route(
    texts: Texts,
    data: FundingProgrammes,
    programme: FundingProgramme,
    land: Land | None,
) -> str:
    if programme.route == "laenderstelle":
        entry = None
        if land is not None:
            entry = next((e for key in programme_keys(programme) if (e := land.laenderstelle_for(key))), None)
        if entry is not None and land is not None:
            route = texts(
                "foerderfinder.route.laenderstelle_entry", land=land.name, who=entry.who, url=entry.url
            )
        else:
            route = texts("foerderfinder.route.laenderstelle")
    elif programme.route == "zentralstelle":
        route = texts("foerderfinder.route.zentralstelle")
    else:
        route = texts("foerderfinder.route.direkt")
    return texts("foerderfinder.result.route", route=Html(route), note=programme.route_note)


def _deadline(
    texts: Texts, programme: FundingProgramme, land: str | None, land_name: str | None, today: date
) -> list[str]:
    deadline = programme.deadline
    certainty = texts(f"foerderfinder.certainty.{deadline.certainty}", year=deadline.stand_label())
    lines = [
        texts(
            "foerderfinder.result.deadline",
            note=deadline.note,
            certainty=certainty,
            url=deadline.source.url,
            source=deadline.source.title,
        )
    ]
    if land and land in deadline.by_land and land_name:
        lines.append(texts("foerderfinder.result.deadline_land", land=land_name, note=deadline.by_land[land]))
    if deadline.pattern is not None:
        pattern = deadline.pattern
        when, year = next_pattern_deadline(pattern.month, pattern.day, pattern.years_before, today)
        lines.append(
            texts(
                "foerderfinder.result.deadline_pattern",
                label=pattern.label,
                year=year,
                date=when.strftime("%d.%m.%Y"),
            )
        )
    return lines


def render_programme(
    texts: Texts,
    data: FundingProgrammes,
    programme: FundingProgramme,
    number: int,
    plan: Plan,
    land: Land | None,
    today: date,
    link: Callable[[str], str],
) -> str:
    """One fitting programme: why, conditions, reciprocity, lead time, route, deadline, article link."""
    lines = [texts("foerderfinder.result.programme", number=number, name=programme.name, why=programme.why)]
    if programme.conditions:
        items = Html("\n".join(f"• {escape(c)}" for c in programme.conditions))
        lines.append(texts("foerderfinder.result.conditions", items=items))
    if programme.reciprocity:
        lines.append(texts("foerderfinder.result.reciprocity", text=programme.reciprocity))
    lines.append(texts("foerderfinder.result.lead_time", text=programme.lead_time))
    lines.append(_route(texts, data, programme, land))
    lines.extend(_deadline(texts, programme, plan.land, land.name if land else None, today))
    lines.append(texts("foerderfinder.result.article", url=link(programme.article), short=programme.short))
    return "\n".join(lines)


def render_miss(texts: Texts, miss: Miss) -> str:
    if miss.kind is MissKind.COUNTRY:
        return escape(miss.reason)
    if miss.partly:
        return texts(f"foerderfinder.miss.{miss.kind.value}_partly", limit=miss.limit)
    return texts(f"foerderfinder.miss.{miss.kind.value}", limit=miss.limit, value=miss.value)


def render_result(
    texts: Texts,
    data: FundingProgrammes,
    servicepoints: ServicePoints,
    plan: Plan,
    finding: Finding,
    today: date,
    link: Callable[[str], str],
    programme_names: Mapping[str, str] | None = None,
) -> list[str]:
    """The whole result as HTML parts (each a paragraph block; the caller splits into messages).

    ``programme_names``: deadlines.yaml programme id → short name, for the Länderstellen of the Land."""
    land = servicepoints.land(plan.land) if plan.land else None
    land_name = land.name if land else None
    parts = [texts("foerderfinder.result.title", plan=plan_summary(texts, data, plan, land_name))]
    for programme in finding.cautions:
        parts.append(
            texts(
                "foerderfinder.result.caution",
                name=programme.name,
                text=programme.caution or "",
                url=link(programme.article),
            )
        )
    if finding.fits:
        parts.append(texts("foerderfinder.result.fits_title"))
        for number, programme in enumerate(finding.fits, start=1):
            parts.append(render_programme(texts, data, programme, number, plan, land, today, link))
    elif finding.cautions:  # after a warning, no "there are ways anyway"
        parts.append(texts("foerderfinder.result.none_fit_caution"))
    else:
        parts.append(texts("foerderfinder.result.none_fit"))
    if finding.almost:
        lines = [texts("foerderfinder.result.almost_title")]
        for near in finding.almost:
            reasons = Html("; ".join(render_miss(texts, m) for m in near.misses))
            lines.append(
                texts(
                    "foerderfinder.result.almost",
                    name=near.programme.name,
                    reasons=reasons,
                    url=link(near.programme.article),
                )
            )
        parts.append("\n".join(lines))
    if plan.land:
        parts.append(render_land(texts, servicepoints, plan.land, link, programme_names))
    if not finding.fits:
        lines = [texts("foerderfinder.result.fallback_title")]
        lines.extend(
            texts("foerderfinder.result.link_item", url=item.url, name=item.name, what=item.what)
            for item in servicepoints.fallback
        )
        lines.append(texts("foerderfinder.result.fallback_more", url=link("foerderung-ueberblick")))
        parts.append("\n".join(lines))
    shown = [*finding.cautions, *finding.fits, *(near.programme for near in finding.almost)]
    stand = oldest([*(p.checked_on for p in shown), land.checked_on if land else None]) or data.checked_on
    parts.append(texts("foerderfinder.result.stand", date=stand.strftime("%d.%m.%Y")))
    return parts


def render_land(
    texts: Texts,
    servicepoints: ServicePoints,
    code: str,
    link: Callable[[str], str] | None = None,
    programme_names: Mapping[str, str] | None = None,
) -> str:
    """A federal state's contacts (servicepoints.yaml): the state office that handles municipal applicants, the
    state's own programmes (or why there is none), the service points, and when these entries were checked."""
    land = servicepoints.land(code)
    names = programme_names or {}
    lines = [texts("foerderfinder.result.land_title", land=land.name)]
    if land.laenderstelle:
        lines.append(texts("foerderfinder.result.land_laenderstellen"))
        for entry in land.laenderstelle:
            label = ", ".join(names.get(p, p.upper()) for p in entry.programmes)
            key = "land_laenderstelle_what" if entry.what else "land_laenderstelle"
            lines.append(
                texts(
                    f"foerderfinder.result.{key}",
                    url=entry.url,
                    who=entry.who,
                    what=entry.what,
                    programmes=label,
                )
            )
    if land.programmes:
        lines.append(texts("foerderfinder.result.land_programmes"))
        lines.extend(
            texts("foerderfinder.result.link_item", url=p.url, name=p.name, what=p.what)
            for p in land.programmes
        )
    elif land.no_programme:
        lines.append(texts("foerderfinder.result.land_no_programme", text=land.no_programme))
    if land.points:
        lines.append(texts("foerderfinder.result.land_points"))
        lines.extend(
            texts("foerderfinder.result.link_item", url=p.url, name=p.name, what=p.what) for p in land.points
        )
    if land.note:
        lines.append(texts("foerderfinder.result.land_note", note=land.note))
    if land.checked_on is not None:
        lines.append(texts("foerderfinder.result.land_stand", date=land.checked_on.strftime("%d.%m.%Y")))
    if link is not None:
        lines.append(texts("foerderfinder.result.land_more", url=link("foerderung-laender")))
    return "\n".join(lines)
