"""Loads and validates content/ into typed models: the texts catalogue, articles, menu and reference data.

``load_content`` raises ``ContentError`` listing every problem (file and field); ``check_content`` also returns
warnings (e.g. a bare homepage as the source of a fact) for ``python -m bot check-content``. The models live in
bot/content_models/ (one module per area), the texts catalogue in bot/texts.py, Telegram HTML in
bot/telegram_html.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot import provenance as facts
from bot.content_models.articles import Article, MenuNode
from bot.content_models.base import LAND_CODES, ModelT
from bot.content_models.calendar import CalendarContent, DeadlinesFile, EventsFile, ReminderSettings
from bot.content_models.facts import ProvenanceConfig
from bot.content_models.guided import FundingProgrammes, GuidedContent, StandortContent
from bot.content_models.servicepoints import ServicePoints
from bot.synonyms import validate_synonyms
from bot.telegram_html import check_telegram_html
from bot.texts import Texts
from bot.yaml_text import YamlError, parse_yaml


class ContentError(Exception):
    """content/ is invalid; ``problems`` holds one precise line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Content:
    """Everything in content/, validated."""

    root: Path
    texts: Texts
    menu: dict[str, MenuNode]
    articles: dict[str, Article]
    synonyms: dict[str, Any]
    servicepoints: ServicePoints
    warnings: list[str] = field(default_factory=list)
    # Events, deadlines and reminders (bot/content_models/calendar.py).
    calendar: CalendarContent = field(default_factory=lambda: CalendarContent())
    # Guided tools (Förder-Finder, Standortbestimmung): programmes.yaml and standort.yaml.
    guided: GuidedContent | None = None
    # How old a checked fact may get (content/provenance.yaml).
    provenance: ProvenanceConfig = field(default_factory=lambda: ProvenanceConfig())

    @property
    def tools(self) -> GuidedContent:
        if self.guided is None:
            raise RuntimeError("guided-tools content not loaded")
        return self.guided

    def menu_children(self, parent: str | None) -> list[MenuNode]:
        return sorted((n for n in self.menu.values() if n.parent == parent), key=lambda n: (n.order, n.title))

    def articles_in(self, topic: str) -> list[Article]:
        return sorted(
            (a for a in self.articles.values() if a.topic == topic), key=lambda a: (a.order, a.title)
        )

    def land_name(self, code: str) -> str:
        return self.servicepoints.land(code).name


# --- loading -------------------------------------------------------------------------------------------------


def _read_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return parse_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{path.name}: file missing")
    except YamlError as exc:
        problems.append(f"{path.name}: invalid YAML: {exc}".replace("\n", " "))
    return None


def _validation_lines(where: str, exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"]) or "(root)"
        lines.append(f"{where}: {loc}: {err['msg']}")
    return lines


def _flatten(prefix: str, value: Any, out: dict[str, str], where: str, problems: list[str]) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), sub, out, where, problems)
    elif isinstance(value, str):
        if prefix in out:
            problems.append(f"{where}: text key {prefix!r} defined twice")
        out[prefix] = value
    else:
        problems.append(f"{where}: {prefix}: text must be a string, got {type(value).__name__}")


def _load_texts(root: Path, problems: list[str]) -> Texts:
    entries: dict[str, str] = {}
    files = sorted((root / "texts").glob("*.yaml"))
    if not files:
        problems.append("texts/: no *.yaml files")
    for file in files:
        data = _read_yaml(file, problems)
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(f"texts/{file.name}: must be a mapping of keys to texts")
            continue
        _flatten("", data, entries, f"texts/{file.name}", problems)
    texts = Texts(entries)
    for key in texts.all_keys():
        if ".buttons." in key:  # plain-text button labels
            continue
        try:
            texts.placeholders(key)
            check_telegram_html(texts(key, **dict.fromkeys(texts.placeholders(key), "x")))
        except (ValueError, KeyError, IndexError) as exc:
            problems.append(f"texts: {key}: {exc}")
    return texts


FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.DOTALL)


def _load_articles(root: Path, problems: list[str]) -> dict[str, Article]:
    articles: dict[str, Article] = {}
    for file in sorted((root / "articles").glob("*.md")):
        where = f"articles/{file.name}"
        match = FRONT_MATTER.match(file.read_text(encoding="utf-8"))
        if match is None:
            problems.append(f"{where}: must start with front matter between '---' lines")
            continue
        try:
            meta = parse_yaml(match.group(1))
        except YamlError as exc:
            problems.append(f"{where}: invalid front matter: {exc}".replace("\n", " "))
            continue
        if not isinstance(meta, dict):
            problems.append(f"{where}: front matter must be a mapping")
            continue
        try:
            article = Article(**meta, body=match.group(2).strip())
        except ValidationError as exc:
            problems.extend(_validation_lines(where, exc))
            continue
        if article.id != file.stem:
            problems.append(f"{where}: id {article.id!r} differs from the file name")
        if article.id in articles:
            problems.append(f"{where}: duplicate id {article.id!r}")
        try:
            for section in article.html_sections():
                check_telegram_html(section)
        except ValueError as exc:
            problems.append(f"{where}: body does not render: {exc}")
        articles[article.id] = article
    if not articles:
        problems.append("articles/: no articles")
    return articles


def _load_menu(root: Path, problems: list[str]) -> dict[str, MenuNode]:
    data = _read_yaml(root / "menu.yaml", problems)
    menu: dict[str, MenuNode] = {}
    if not isinstance(data, list):
        if data is not None:
            problems.append("menu.yaml: must be a list of nodes")
        return menu
    for index, item in enumerate(data):
        try:
            node = MenuNode(**item)
        except (ValidationError, TypeError) as exc:
            problems.extend(
                _validation_lines(f"menu.yaml[{index}]", exc)
                if isinstance(exc, ValidationError)
                else [f"menu.yaml[{index}]: {exc}"]
            )
            continue
        if node.id in menu:
            problems.append(f"menu.yaml: duplicate id {node.id!r}")
        menu[node.id] = node
    for node in menu.values():
        if node.parent is not None and node.parent not in menu:
            problems.append(f"menu.yaml: {node.id}: parent {node.parent!r} does not exist")
    return menu


def load_content(root: Path, today: date | None = None) -> Content:
    """Load and validate content/; raise ``ContentError`` listing every problem."""
    problems: list[str] = []
    texts = _load_texts(root, problems)
    menu = _load_menu(root, problems)
    articles = _load_articles(root, problems)
    synonyms = _read_yaml(root / "synonyms.yaml", problems) or {}
    if not isinstance(synonyms, dict):
        problems.append("synonyms.yaml: must be a mapping")
        synonyms = {}
    problems.extend(validate_synonyms(synonyms))
    servicepoints_raw = _read_yaml(root / "servicepoints.yaml", problems)
    servicepoints: ServicePoints | None = None
    if servicepoints_raw is not None:
        try:
            servicepoints = ServicePoints(**servicepoints_raw)
        except (ValidationError, TypeError) as exc:
            problems.extend(
                _validation_lines("servicepoints.yaml", exc)
                if isinstance(exc, ValidationError)
                else [f"servicepoints.yaml: {exc}"]
            )
    if servicepoints is not None:
        codes = [land.code for land in servicepoints.laender]
        missing = sorted(set(LAND_CODES) - set(codes))
        if missing:
            problems.append(f"servicepoints.yaml: federal states missing: {', '.join(missing)}")
        if len(codes) != len(set(codes)):
            problems.append("servicepoints.yaml: a federal state is listed twice")

    for article in articles.values():
        if article.topic not in menu:
            problems.append(f"articles/{article.id}.md: topic {article.topic!r} is not a menu node")
        for ref in article.related:
            if ref not in articles:
                problems.append(f"articles/{article.id}.md: related id {ref!r} does not exist")
            if ref == article.id:
                problems.append(f"articles/{article.id}.md: relates to itself")

    calendar = _load_calendar(root, problems)
    guided_programmes: list[FundingProgrammes] = []
    guided = _load_guided(root, articles, problems, guided_programmes)
    provenance = ProvenanceConfig()
    if (root / "provenance.yaml").exists():
        provenance = _load_model(root, "provenance.yaml", ProvenanceConfig, problems) or provenance
    programmes_data = guided_programmes[0] if guided_programmes else None
    fact_errors, fact_warnings = facts.check(
        facts.collect(articles, servicepoints, programmes_data, calendar.deadlines),
        provenance,
        today,
        articles,
        servicepoints,
        set(calendar.programmes),
        programmes_data,
    )
    problems.extend(fact_errors)
    problems.extend(_old_format_problems(root, articles, servicepoints, programmes_data))

    if problems or servicepoints is None:
        raise ContentError(problems or ["servicepoints.yaml: missing"])
    warnings = []
    if today is not None:
        warnings.extend(fact_warnings)
    return Content(
        root,
        texts,
        menu,
        articles,
        synonyms,
        servicepoints,
        warnings,
        calendar=calendar,
        guided=guided,
        provenance=provenance,
    )


OLD_FORMAT = "(old format)"  # marks the errors about fields the provenance format replaced


def _old_format_problems(
    root: Path,
    articles: Mapping[str, Article],
    servicepoints: ServicePoints | None,
    data: FundingProgrammes | None,
) -> list[str]:
    """Fields of the format before provenance (the models still parse them, to name them precisely): errors,
    each saying what replaces it (content/README.md)."""
    found: list[str] = []
    for article in sorted(articles.values(), key=lambda a: a.id):
        for name in ("stand", "review"):
            if getattr(article, name) is not None:
                found.append(
                    f"articles/{article.id}.md: '{name}:' {OLD_FORMAT} – remove it; the Stand is derived from "
                    "the 'checked:' dates of the facts and sources"
                )
    if servicepoints is not None and servicepoints.stand is not None:
        found.append(f"servicepoints.yaml: top-level 'stand:' {OLD_FORMAT} – date each entry with 'checked:'")
    if data is not None:
        if data.stand is not None:
            found.append(
                f"programmes.yaml: top-level 'stand:' {OLD_FORMAT} – date each programme with 'checked:'"
            )
        if data.laenderstellen:
            found.append(
                f"programmes.yaml: 'laenderstellen:' {OLD_FORMAT} – these contacts belong in servicepoints.yaml "
                "(laenderstelle: per federal state)"
            )
        for programme in data.programmes:
            if programme.stand is not None:
                found.append(
                    f"programmes.yaml: programme {programme.id}: 'stand:' {OLD_FORMAT} – write 'checked:'"
                )
            if programme.deadline.year is not None:
                found.append(
                    f"programmes.yaml: programme {programme.id}: deadline 'year:' {OLD_FORMAT} – write 'checked:'"
                )
    raw = _read_yaml(root / "deadlines.yaml", [])
    rules = raw.get("deadlines") if isinstance(raw, dict) else None
    for rule in rules if isinstance(rules, list) else []:
        if isinstance(rule, dict) and "stand" in rule:
            found.append(f"deadlines.yaml: {rule.get('id')}: 'stand:' {OLD_FORMAT} – write 'checked:'")
    return found


def _load_model(root: Path, name: str, model: type[ModelT], problems: list[str]) -> ModelT | None:
    return _model_from(model, _read_yaml(root / name, problems), name, problems)


def _duplicates(ids: list[str]) -> list[str]:
    return sorted({i for i in ids if ids.count(i) > 1})


def _check_programmes(data: FundingProgrammes, articles: Mapping[str, Article], problems: list[str]) -> None:
    where = "programmes.yaml"
    country_ids = [c.id for c in data.countries]
    format_ids = [f.id for f in data.formats]
    for label, ids in (("country", country_ids), ("format", format_ids)):
        for dup in _duplicates(ids):
            problems.append(f"{where}: {label} id {dup!r} used twice")
    for dup in _duplicates([p.id for p in data.programmes]):
        problems.append(f"{where}: programme id {dup!r} used twice")
    for programme in data.programmes:
        at = f"{where}: programme {programme.id}"
        if programme.article not in articles:
            problems.append(f"{at}: article {programme.article!r} does not exist")
        for country in [*programme.countries, *programme.limited_countries]:
            if country not in country_ids:
                problems.append(f"{at}: unknown country {country!r}")
        both = sorted(set(programme.countries) & set(programme.limited_countries))
        if both:
            problems.append(f"{at}: countries {both} are listed as fitting and as limited")
        for fmt in programme.formats:
            if fmt not in format_ids:
                problems.append(f"{at}: unknown format {fmt!r}")
    reachable = {c for p in data.programmes for c in [*p.countries, *p.limited_countries]}
    for country in country_ids:
        if country not in reachable:
            problems.append(f"{where}: no programme covers country {country!r}")


def _check_standort(data: StandortContent, articles: Mapping[str, Article], problems: list[str]) -> None:
    where = "standort.yaml"
    for dup in _duplicates([q.id for q in data.questions]):
        problems.append(f"{where}: question id {dup!r} used twice")
    for dup in _duplicates([t.id for t in data.kommune_types]):
        problems.append(f"{where}: kommune type {dup!r} used twice")
    for question in data.questions:
        if question.article not in articles:
            problems.append(f"{where}: question {question.id}: article {question.article!r} does not exist")
    if data.question(data.devplan.decision_question) is None:
        problems.append(
            f"{where}: devplan.decision_question {data.devplan.decision_question!r} is not a question id"
        )
    for step in data.extra_steps:
        if step.article not in articles:
            problems.append(f"{where}: extra step {step.title!r}: article {step.article!r} does not exist")
    # Stages 1..n are reached group by group; the stage after the last group means "everything in place".
    groups = sorted({q.stage for q in data.questions})
    expected = list(range(1, len(groups) + 2))
    if groups != expected[:-1]:
        problems.append(f"{where}: question stages must be 1..n without gaps, got {groups}")
    if sorted(s.number for s in data.stages) != expected:
        problems.append(f"{where}: stages must be numbered {expected} (one more than the question stages)")


def _load_guided(
    root: Path,
    articles: Mapping[str, Article],
    problems: list[str],
    loaded: list[FundingProgrammes] | None = None,
) -> GuidedContent | None:
    before = len(problems)
    programmes: FundingProgrammes | None = _load_model(root, "programmes.yaml", FundingProgrammes, problems)
    if programmes is not None and loaded is not None:
        loaded.append(programmes)  # for the provenance checks, even when standort.yaml has a problem
    standort: StandortContent | None = _load_model(root, "standort.yaml", StandortContent, problems)
    if programmes is not None:
        _check_programmes(programmes, articles, problems)
    if standort is not None:
        _check_standort(standort, articles, problems)
    if programmes is None or standort is None or len(problems) > before:
        return None
    return GuidedContent(programmes, standort)


def _model_from(model: type[ModelT], data: Any, where: str, problems: list[str]) -> ModelT | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    try:
        return model(**data)
    except ValidationError as exc:
        problems.extend(_validation_lines(where, exc))
    except TypeError as exc:
        problems.append(f"{where}: {exc}")
    return None


def _load_calendar(root: Path, problems: list[str]) -> CalendarContent:
    reminders = _load_model(root, "reminders.yaml", ReminderSettings, problems)
    events = _load_model(root, "events.yaml", EventsFile, problems)
    deadlines = _load_model(root, "deadlines.yaml", DeadlinesFile, problems)
    calendar = CalendarContent()
    if events is not None:
        ids = [e.id for e in events.events]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            problems.append(f"events.yaml: duplicate event id {dup!r}")
        for index, event in enumerate(events.events):
            if event.topic not in events.topics:
                problems.append(f"events.yaml: events[{index}] ({event.id}): unknown topic {event.topic!r}")
        calendar = replace(calendar, topics=dict(events.topics), seed_events=list(events.events))
    if deadlines is not None:
        programmes = {p.id: p for p in deadlines.programmes}
        if len(programmes) != len(deadlines.programmes):
            problems.append("deadlines.yaml: a programme id is listed twice")
        rule_ids = [r.id for r in deadlines.deadlines]
        for dup in sorted({i for i in rule_ids if rule_ids.count(i) > 1}):
            problems.append(f"deadlines.yaml: duplicate deadline id {dup!r}")
        for rule in deadlines.deadlines:
            if rule.programme not in programmes:
                problems.append(f"deadlines.yaml: {rule.id}: unknown programme {rule.programme!r}")
        for programme in programmes:
            if not any(r.programme == programme for r in deadlines.deadlines):
                problems.append(f"deadlines.yaml: programme {programme!r} has no deadline rule")
        calendar = replace(calendar, programmes=programmes, deadlines=list(deadlines.deadlines))
    if reminders is not None:
        calendar = replace(calendar, reminders=reminders)
    return calendar
