"""Provenance of time-sensitive facts: every fact in content/ with its source and the day it was last checked.

``collect`` walks the loaded content (article ``facts:``, programmes.yaml deadline notes and ``rates:``,
deadlines.yaml rules, servicepoints.yaml Länderstellen, service points and Land programmes) into one flat list;
``check`` turns it into check-content errors and warnings; the editor report (bot/editor_report.py) lists the
facts that are due. Maximum ages per kind come from content/provenance.yaml (``ProvenanceConfig``).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

from bot.content_models.articles import Article
from bot.content_models.calendar import DeadlineRule
from bot.content_models.facts import ProvenanceConfig
from bot.content_models.guided import FundingProgrammes
from bot.content_models.servicepoints import ServicePoints

HOMEPAGE = "bare homepage"  # marks the homepage warnings


@dataclass(frozen=True, slots=True)
class Provenance:
    """One dated, sourced fact, and where an editor finds it."""

    file: str  # "articles/eurodesk.md", "programmes.yaml", "deadlines.yaml", "servicepoints.yaml"
    place: str  # what in the file: "fact eurodesk-partner", "programme dfjw: rate 1", "Land HE: Länderstelle"
    fact_id: (
        str  # the fact's id, or a stable label for structured entries ("dfjw.rate-1", "HE.laenderstelle-1")
    )
    kind: str  # deadline | amount | limit | body | contact | existence
    claim: str
    url: str | None  # the page that states it
    checked: date | None
    required: bool = True  # a missing source or check date is an error (not for old-format entries)
    specific: bool = True  # a bare homepage as its source gets a warning

    @property
    def where(self) -> str:
        return f"{self.file}: {self.place}"


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (the 31st becomes the last day of a shorter month)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_on(item: Provenance, config: ProvenanceConfig) -> date | None:
    """The last day the fact's check is valid (``checked`` plus its kind's maximum age)."""
    if item.checked is None:
        return None
    return add_months(item.checked, config.max_age_months[item.kind])


def is_homepage(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query and not parts.fragment


def collect(
    articles: Mapping[str, Article],
    servicepoints: ServicePoints | None,
    programmes: FundingProgrammes | None,
    rules: Sequence[DeadlineRule],
) -> list[Provenance]:
    items: list[Provenance] = []
    for article in sorted(articles.values(), key=lambda a: a.id):
        for fact in article.facts:
            items.append(
                Provenance(
                    f"articles/{article.id}.md",
                    f"fact {fact.id}",
                    fact.id,
                    fact.kind,
                    fact.claim,
                    fact.source.url if fact.source else None,
                    fact.checked,
                )
            )
    if programmes is not None:
        for programme in programmes.programmes:
            at = f"programme {programme.id}"
            deadline = programme.deadline
            items.append(
                Provenance(
                    "programmes.yaml",
                    f"{at}: deadline",
                    f"{programme.id}.deadline",
                    "deadline",
                    deadline.note,
                    deadline.source.url,
                    deadline.checked,
                    required=deadline.year is None,
                )
            )
            for number, rate in enumerate(programme.rates, start=1):
                items.append(
                    Provenance(
                        "programmes.yaml",
                        f"{at}: rate {number}",
                        f"{programme.id}.rate-{number}",
                        "amount",
                        f"{rate.what}: {rate.amount}",
                        rate.source.url,
                        rate.checked,
                    )
                )
    for rule in rules:
        items.append(
            Provenance(
                "deadlines.yaml",
                f"rule {rule.id}",
                rule.id,
                "deadline",
                rule.what,
                rule.source.url,
                rule.stand,
            )
        )
    if servicepoints is not None:
        new_format = servicepoints.stand is None
        for land in servicepoints.laender:
            for number, stelle in enumerate(land.laenderstelle, start=1):
                items.append(
                    Provenance(
                        "servicepoints.yaml",
                        f"Land {land.code}: Länderstelle {number}",
                        f"{land.code}.laenderstelle-{number}",
                        "body",
                        f"{stelle.who} ({', '.join(stelle.programmes)})",
                        stelle.url,
                        stelle.checked,
                    )
                )
            for label, kind, links in (
                ("point", "contact", land.points),
                ("programme", "existence", land.programmes),
            ):
                for number, link in enumerate(links, start=1):
                    items.append(
                        Provenance(
                            "servicepoints.yaml",
                            f"Land {land.code}: {label} {number} ({link.name})",
                            f"{land.code}.{label}-{number}",
                            kind,
                            f"{link.name}: {link.what}",
                            link.source.url if link.source else link.url,
                            link.checked,
                            required=new_format,
                            specific=link.source is not None,  # ``url`` alone is the link shown to users
                        )
                    )
    return items


def check(
    items: Sequence[Provenance],
    config: ProvenanceConfig,
    today: date | None,
    articles: Mapping[str, Article],
    servicepoints: ServicePoints | None,
    programme_ids: set[str],
    programmes: FundingProgrammes | None = None,
) -> tuple[list[str], list[str]]:
    """(errors, warnings) about provenance; date checks only when ``today`` is given (check-content)."""
    errors: list[str] = []
    warnings: list[str] = []
    for item in items:
        if item.required and item.url is None:
            errors.append(f"{item.where}: no source – add the page that states it (source: {{title, url}})")
        if item.required and item.checked is None:
            errors.append(f"{item.where}: no 'checked:' date – add the day you checked it against its source")
        if today is not None and item.checked is not None:
            due = due_on(item, config)
            if item.checked > today:
                errors.append(f"{item.where}: checked {item.checked} lies in the future")
            elif due is not None and due < today:
                months = config.max_age_months[item.kind]
                errors.append(
                    f"{item.where}: last checked {item.checked}, more than {months} months ago "
                    f"(kind {item.kind}) – check it against {item.url} and update 'checked:'"
                )
        if (
            item.specific
            and item.url is not None
            and is_homepage(item.url)
            and item.url not in config.homepage_ok
        ):
            warnings.append(
                f"{item.where}: source {item.url} is a {HOMEPAGE} – link the page that states the claim "
                "(or list it under homepage_ok in provenance.yaml with the reason)"
            )
    seen: dict[str, str] = {}
    for article in sorted(articles.values(), key=lambda a: a.id):
        for fact in article.facts:
            if fact.id in seen:
                errors.append(
                    f"articles/{article.id}.md: fact id {fact.id!r} is already used in {seen[fact.id]} "
                    "– fact ids are unique across all content"
                )
            else:
                seen[fact.id] = f"articles/{article.id}.md"
        for source in article.sources:
            if source.checked is None and article.stand is None:  # the old format dated the article instead
                errors.append(
                    f"articles/{article.id}.md: source {source.url}: no 'checked:' date – add the day you checked it"
                )
        if today is not None:
            for source in article.sources:
                if source.checked is not None and source.checked > today:
                    errors.append(
                        f"articles/{article.id}.md: source {source.url}: checked {source.checked} lies in the future"
                    )
    for programme in programmes.programmes if programmes is not None else []:
        if programme.stand is not None:
            continue  # old format: the programme's Stand covered its sources
        for source in programme.sources:
            if source.checked is None:
                errors.append(
                    f"programmes.yaml: programme {programme.id}: source {source.url}: no 'checked:' date "
                    "– add the day you checked it"
                )
            elif today is not None and source.checked > today:
                errors.append(
                    f"programmes.yaml: programme {programme.id}: source {source.url}: checked {source.checked} "
                    "lies in the future"
                )
    if servicepoints is not None:
        new_format = servicepoints.stand is None
        for land in servicepoints.laender:
            at = f"servicepoints.yaml: Land {land.code}"
            if new_format and not land.programmes and not land.no_programme:
                errors.append(
                    f"{at}: neither programmes nor no_programme – list the Land's own programmes or say in "
                    "no_programme that none is known (with the date and whom to ask)"
                )
            if land.programmes and land.no_programme:
                errors.append(f"{at}: has programmes and no_programme – keep one of them")
            for stelle in land.laenderstelle:
                unknown = [p for p in stelle.programmes if p not in programme_ids]
                if unknown:
                    errors.append(
                        f"{at}: Länderstelle {stelle.who!r} names unknown programme(s) {unknown} "
                        f"– use the ids of deadlines.yaml programmes: {sorted(programme_ids)}"
                    )
    return errors, warnings


def due_items(
    items: Sequence[Provenance], config: ProvenanceConfig, today: date
) -> list[tuple[date, Provenance]]:
    """Facts past their maximum age or within ``due_within_days`` of it, oldest due first."""
    horizon = today + timedelta(days=config.due_within_days)
    due = [(d, item) for item in items if (d := due_on(item, config)) is not None and d <= horizon]
    return sorted(due, key=lambda pair: (pair[0], pair[1].file, pair[1].fact_id))
