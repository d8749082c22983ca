"""Loads and validates content/ into typed models: the texts catalogue, articles, menu and reference data.

``load_content`` raises ``ContentError`` listing every problem (file and field); ``check_content`` also returns
warnings (e.g. a bare homepage as the source of a fact) for ``python -m bot check-content``.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.yaml_text import YamlError, parse_yaml

ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
LAND_CODES = ("BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH")
TELEGRAM_TEXT_LIMIT = 4096


class ContentError(Exception):
    """content/ is invalid; ``problems`` holds one precise line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Html(str):
    """A string that is already safe Telegram HTML; ``Texts`` inserts it without escaping."""

    __slots__ = ()


def escape(value: object) -> str:
    """Escape any value for Telegram HTML (quotes too, so it is safe inside attributes)."""
    return html.escape(str(value), quote=True)


class Texts:
    """The UI texts catalogue, addressed by dotted key; placeholders are filled with escaped values.

    Keys under a ``buttons`` map are plain-text button labels: their placeholders are not escaped.
    """

    def __init__(self, entries: Mapping[str, str]) -> None:
        self._entries = dict(entries)

    def __call__(self, key: str, /, **params: object) -> str:
        template = self._entries[key]
        if not params:
            return template
        if ".buttons." in key:  # button labels are plain text: Telegram shows them verbatim
            return template.format_map({k: str(v) for k, v in params.items()})
        safe = {k: v if isinstance(v, Html) else escape(v) for k, v in params.items()}
        return template.format_map(safe)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def all_keys(self) -> list[str]:
        return sorted(self._entries)

    def placeholders(self, key: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self._entries[key]) if name}


class _Model(BaseModel):
    # defer_build: the validators are built when content is first parsed, not at import; a start from the
    # pre-built content (bot.prebuilt) never parses, which saves it about 0.1 s and 0.5 MB (bot.app)
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


_ModelT = TypeVar("_ModelT", bound=_Model)


def _https_url(value: str) -> str:
    if not re.match(r"^https://[^\s/]+\.[^\s]+$", value):
        raise ValueError(f"must be an https link, got {value!r}")
    return value


class Source(_Model):
    title: str = Field(min_length=1)
    url: str
    checked: date | None = None  # the day an editor last confirmed the page still states the claim

    _https = field_validator("url")(_https_url)


# --- provenance: time-sensitive facts, each with a deep-link source and the day it was last checked -----------
# Kinds and their maximum age live in content/provenance.yaml (defaults below); check-content enforces them.

FACT_KINDS = ("deadline", "amount", "limit", "body", "contact", "existence")


class Fact(_Model):
    """One time-sensitive statement of an article body (front matter ``facts:``)."""

    id: str = Field(pattern=ID_PATTERN, max_length=60)
    kind: Literal["deadline", "amount", "limit", "body", "contact", "existence"]
    claim: str = Field(min_length=1, max_length=400)
    source: Source | None = None  # required: check-content names a fact without one
    checked: date | None = None  # required: check-content names a fact without one
    note: str | None = Field(default=None, max_length=600)


class ProvenanceConfig(_Model):
    """content/provenance.yaml: how old a checked fact may get, per kind, before check-content fails."""

    max_age_months: dict[str, int] = Field(
        default_factory=lambda: {
            "deadline": 6,
            "amount": 12,
            "limit": 12,
            "body": 12,
            "contact": 12,
            "existence": 12,
        }
    )
    due_within_days: int = Field(default=30, ge=0, le=365)  # the editor report lists facts this close to due
    # Homepages accepted as the source of a specific claim, each with the reason (silences the warning).
    homepage_ok: dict[str, str] = Field(default_factory=dict)

    @field_validator("max_age_months")
    @classmethod
    def _kinds(cls, value: dict[str, int]) -> dict[str, int]:
        missing = sorted(set(FACT_KINDS) - set(value))
        unknown = sorted(set(value) - set(FACT_KINDS))
        if missing or unknown:
            raise ValueError(f"give a maximum age for exactly the kinds {list(FACT_KINDS)}")
        if any(not 1 <= months <= 60 for months in value.values()):
            raise ValueError("maximum ages are 1 to 60 months")
        return value


def oldest(dates: list[date | None]) -> date | None:
    """The oldest of the given check dates (``None`` entries ignored), or ``None``."""
    known = [d for d in dates if d is not None]
    return min(known) if known else None


class MenuNode(_Model):
    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1, max_length=60)
    parent: str | None = None
    order: int = 0


class Article(_Model):
    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1, max_length=120)
    topic: str
    order: int = 0
    summary: str = Field(min_length=1, max_length=300)
    keywords: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    facts: list[Fact] = Field(default_factory=list)
    # Old format (before provenance): a typed Stand and review date. Parsed only so that the loader can name
    # them as errors; the shown Stand is ``checked_on``.
    stand: date | None = None
    review: date | None = None
    related: list[str] = Field(default_factory=list)
    bundesland: str | None = None
    body: str = Field(min_length=1)

    @field_validator("bundesland")
    @classmethod
    def _land(cls, value: str | None) -> str | None:
        if value is not None and value not in LAND_CODES:
            raise ValueError(f"unknown Bundesland code {value!r}")
        return value

    @model_validator(mode="after")
    def _dated(self) -> Article:
        if self.checked_on is None:
            raise ValueError("no check date: give every source (and every fact) a 'checked:' date")
        return self

    @property
    def checked_on(self) -> date | None:
        """The shown Stand: the oldest ``checked`` among the facts, else among the sources (old: ``stand``)."""
        return (
            oldest([f.checked for f in self.facts]) or oldest([s.checked for s in self.sources]) or self.stand
        )

    @property
    def shown_stand(self) -> date:
        stand = self.checked_on
        assert stand is not None  # the validator above guarantees it
        return stand

    def html_sections(self) -> list[str]:
        """The body rendered to Telegram HTML, one string per ``## `` section (the lead first)."""
        return render_markdown_sections(self.body)


class Link(_Model):
    """A service point or Land programme: ``url`` is shown to users; ``source`` (a deep link) proves the claim
    where ``url`` is a homepage; ``checked`` is the day an editor last confirmed it."""

    name: str = Field(min_length=1)
    what: str = Field(min_length=1)
    url: str
    source: Source | None = None
    checked: date | None = None

    _https = field_validator("url")(_https_url)


class Laenderstelle(_Model):
    """Who takes applications of kommunale Träger in a Land, for the listed programmes (deadlines.yaml ids)."""

    programmes: list[str] = Field(min_length=1)
    who: str = Field(min_length=1, max_length=200)
    what: str = Field(default="", max_length=600)
    url: str
    source: Source | None = None  # a deeper page proving the claim, when ``url`` is an entry page
    checked: date | None = None

    _https = field_validator("url")(_https_url)


class Land(_Model):
    code: str
    name: str
    places: list[str] = Field(default_factory=list)  # cities and districts users might name
    laenderstelle: list[Laenderstelle] = Field(default_factory=list)
    points: list[Link] = Field(default_factory=list)
    programmes: list[Link] = Field(default_factory=list)
    no_programme: str | None = None  # what to say when the Land has no own programme (required iff none)
    note: str | None = None

    def laenderstelle_for(self, programme: str) -> Laenderstelle | None:
        """The Länderstelle for kommunale Träger of ``programme`` (a deadlines.yaml programme id), if known."""
        return next((entry for entry in self.laenderstelle if programme in entry.programmes), None)

    @property
    def checked_on(self) -> date | None:
        """The Stand of the Land's contacts: the oldest check among its Länderstellen, points and programmes."""
        return oldest(
            [
                *(entry.checked for entry in self.laenderstelle),
                *(link.checked for link in [*self.points, *self.programmes]),
            ]
        )

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if value not in LAND_CODES:
            raise ValueError(f"unknown Bundesland code {value!r}")
        return value


class ServicePoints(_Model):
    stand: date | None = None  # old format; the new one dates each entry with ``checked``
    laender: list[Land]
    fallback: list[Link] = Field(min_length=1)

    def land(self, code: str) -> Land:
        return next(land for land in self.laender if land.code == code)


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
    # Events, deadlines and reminders (defined at the end of this module).
    calendar: CalendarContent = field(default_factory=lambda: CalendarContent())
    # Guided tools (Förder-Finder, Standortbestimmung): programmes.yaml and standort.yaml; see the block below.
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
    from bot.search import validate_synonyms  # search owns the synonyms schema

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
            problems.append(f"servicepoints.yaml: Länder missing: {', '.join(missing)}")
        if len(codes) != len(set(codes)):
            problems.append("servicepoints.yaml: a Land is listed twice")

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
    from bot import provenance as facts  # provenance builds on the models of this module

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
                f"programmes.yaml: 'laenderstellen:' {OLD_FORMAT} – the Länderstellen belong in servicepoints.yaml "
                "(laenderstelle: per Land)"
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


# --- guided tools: Förder-Finder programmes (programmes.yaml) and Standortbestimmung (standort.yaml) ---------
# Editors change the rules here, not in code: bot/foerderfinder.py and bot/standort.py only read these models.

CHOICE_ID = r"^[a-z][a-z0-9_]{0,15}$"  # short: choice ids travel in callback data
PROGRAMME_ROUTES = ("laenderstelle", "zentralstelle", "direkt")
DEVPLAN_SECTIONS = ("bestandsaufnahme", "bedarfsanalyse", "ziele", "massnahmen", "zeitplan", "evaluation")


class Choice(_Model):
    id: str = Field(pattern=CHOICE_ID)
    label: str = Field(min_length=1, max_length=60)
    aliases: list[str] = Field(default_factory=list)  # other words a user may type for it ("Begegnung")


class KommuneType(Choice):
    # Leading words that already say what a Kommune is ("Hansestadt Lübeck", "Landkreis Tuttlingen"): such a
    # name is shown as typed, without the type in front ("Landkreis Landkreis Tuttlingen").
    prefixes: list[str] = Field(default_factory=list)


class Span(_Model):
    """An inclusive range (ages in years, durations in days); ``label`` replaces the generated button label."""

    min: int = Field(ge=0, le=3650)
    max: int = Field(ge=0, le=3650)
    label: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self


class FormatChoice(Choice):
    ask_ages: bool = True
    days: list[Span] = Field(min_length=1, max_length=8)


class DeadlinePattern(_Model):
    """A yearly date rule, e.g. 1 October of the year before the activity (``years_before: 1``)."""

    label: str = Field(min_length=1, max_length=80)
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    years_before: int = Field(ge=0, le=2)

    @model_validator(mode="after")
    def _real_date(self) -> DeadlinePattern:
        date(2001, self.month, self.day)  # raises ValueError for 31 April and friends (29 Feb excluded too)
        return self


class FundingDeadline(_Model):
    note: str = Field(min_length=1)
    checked: date | None = None  # the day the note was last checked against its source
    year: int | None = Field(default=None, ge=2000, le=2100)  # old format: the year the note refers to
    certainty: Literal["verified", "secondary", "uncertain"]
    source: Source
    pattern: DeadlinePattern | None = None
    by_land: dict[str, str] = Field(default_factory=dict)  # Land-specific additions (earlier internal dates)

    @field_validator("by_land")
    @classmethod
    def _lands(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(LAND_CODES))
        if unknown:
            raise ValueError(f"unknown Bundesland codes {unknown}")
        return value

    @model_validator(mode="after")
    def _dated(self) -> FundingDeadline:
        if self.checked is None and self.year is None:
            raise ValueError("give 'checked:' (the day the note was checked)")
        return self

    def stand_label(self) -> str:
        """How the note is dated for users: the check day, or (old format) the year its facts refer to."""
        return self.checked.strftime("%d.%m.%Y") if self.checked is not None else str(self.year)


class Rate(_Model):
    """A structured money fact of a programme (``rates:``), with its deep-link source and check day."""

    what: str = Field(min_length=1, max_length=300)
    amount: str = Field(min_length=1, max_length=120)
    source: Source
    checked: date


class FundingProgramme(_Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    short: str = Field(min_length=1, max_length=24)  # button label
    rank: int  # lower is shown first among the programmes that fit
    article: str
    countries: list[str] = Field(min_length=1)
    limited_countries: dict[str, str] = Field(default_factory=dict)  # country id → why it only almost fits
    formats: list[str] = Field(min_length=1)
    why: str = Field(min_length=1)
    ages: Span | None = None
    days: Span | None = None
    conditions: list[str] = Field(default_factory=list)
    reciprocity: str | None = None
    lead_time: str = Field(min_length=1)
    route: Literal["laenderstelle", "zentralstelle", "direkt"]
    route_note: str = Field(min_length=1)
    deadline: FundingDeadline
    rates: list[Rate] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    checked: date | None = None
    stand: date | None = None  # old format for ``checked``
    caution: str | None = None  # set: shown as a clear warning, never as a programme that fits

    @model_validator(mode="after")
    def _dated(self) -> FundingProgramme:
        if self.checked is None and self.stand is None:
            raise ValueError("give 'checked:' (the day the programme's facts were checked)")
        return self

    @property
    def checked_on(self) -> date:
        """The oldest check among the programme, its deadline note, rates and sources."""
        found = oldest(
            [
                self.checked or self.stand,
                self.deadline.checked,
                *(r.checked for r in self.rates),
                *(s.checked for s in self.sources),
            ]
        )
        assert found is not None  # ``_dated`` guarantees one
        return found


class FundingProgrammes(_Model):
    stand: date | None = None  # old format; the shown Stand is derived (``checked_on``)
    countries: list[Choice] = Field(min_length=1)
    formats: list[FormatChoice] = Field(min_length=1)
    ages: list[Span] = Field(min_length=1, max_length=10)
    laenderstellen: dict[str, str] = Field(default_factory=dict)  # old format: now in servicepoints.yaml
    programmes: list[FundingProgramme] = Field(min_length=1)

    @property
    def checked_on(self) -> date:
        """The oldest check among all programmes (the Förder-Finder's Stand)."""
        return min(p.checked_on for p in self.programmes)

    @field_validator("laenderstellen")
    @classmethod
    def _lands(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(LAND_CODES))
        if unknown:
            raise ValueError(f"unknown Bundesland codes {unknown}")
        return value

    def country(self, country_id: str) -> Choice | None:
        return next((c for c in self.countries if c.id == country_id), None)

    def format(self, format_id: str) -> FormatChoice | None:
        return next((f for f in self.formats if f.id == format_id), None)


class StandortQuestion(_Model):
    id: str = Field(pattern=CHOICE_ID)
    title: str = Field(min_length=1, max_length=60)
    question: str = Field(min_length=1, max_length=300)
    article: str
    stage: int = Field(ge=1, le=9)
    next_step: str = Field(min_length=1, max_length=400)
    need: str = Field(min_length=1)
    goal: str = Field(min_length=1)
    measure: str = Field(min_length=1)
    indicator: str = Field(min_length=1)


class StandortStage(_Model):
    number: int = Field(ge=1, le=10)
    title: str = Field(min_length=1, max_length=80)
    summary: str = Field(min_length=1, max_length=400)


class ExtraStep(_Model):
    title: str = Field(min_length=1, max_length=60)
    text: str = Field(min_length=1, max_length=400)
    article: str


class DevplanSection(_Model):
    id: Literal["bestandsaufnahme", "bedarfsanalyse", "ziele", "massnahmen", "zeitplan", "evaluation"]
    title: str = Field(min_length=1, max_length=80)
    intro: str = Field(min_length=1)
    guiding: list[str] = Field(min_length=1)
    columns: list[str] = Field(default_factory=list)  # table header, where the section has a table
    widths: list[float] = Field(default_factory=list)  # column widths in cm (A4 text width is 16 cm)
    # Replaces ``intro`` when the self-check shows no open point (e.g. no "needs" to list).
    complete_intro: str | None = None

    @model_validator(mode="after")
    def _widths(self) -> DevplanSection:
        if self.widths and len(self.widths) != len(self.columns):
            raise ValueError(f"widths: {len(self.widths)} given for {len(self.columns)} columns")
        if sum(self.widths) > 16:
            raise ValueError(f"widths add up to {sum(self.widths)} cm, more than the 16 cm of an A4 page")
        return self


class Devplan(_Model):
    title: str = Field(min_length=1)
    subtitle: str = Field(min_length=1)  # {kommune} (type and name as shown) or {type} {name}; {land}
    status_line: str = Field(min_length=1)  # {date} {number} {count} {stage} {score} {max}
    intro: str = Field(min_length=1)
    how_to: str = Field(min_length=1)
    placeholder: str = Field(min_length=1)
    guiding_label: str = Field(min_length=1)
    sections: list[DevplanSection]
    contacts_title: str = Field(min_length=1)
    basis: str = Field(min_length=1)
    quarter_label: str = Field(min_length=1)  # {quarter} {year}
    review_step: str = Field(min_length=1)
    decision_step: str = Field(min_length=1)
    decision_question: str  # the question whose open answer puts ``decision_step`` into the schedule

    @model_validator(mode="after")
    def _placeholders(self) -> Devplan:
        for name, allowed in (
            ("subtitle", {"kommune", "type", "name", "land"}),
            ("status_line", {"date", "number", "count", "stage", "score", "max"}),
            ("quarter_label", {"quarter", "year"}),
        ):
            used = {field for _, field, _, _ in string.Formatter().parse(getattr(self, name)) if field}
            if not used <= allowed:
                raise ValueError(
                    f"{name}: unknown placeholders {sorted(used - allowed)}; allowed {sorted(allowed)}"
                )
        return self

    @field_validator("sections")
    @classmethod
    def _all_sections(cls, value: list[DevplanSection]) -> list[DevplanSection]:
        ids = [s.id for s in value]
        if sorted(ids) != sorted(DEVPLAN_SECTIONS):
            raise ValueError(f"sections must be exactly {list(DEVPLAN_SECTIONS)}, once each; got {ids}")
        return value

    def section(self, section_id: str) -> DevplanSection:
        return next(s for s in self.sections if s.id == section_id)


class StandortContent(_Model):
    stand: date = Field(validation_alias=AliasChoices("checked", "stand"))
    sources: list[Source] = Field(min_length=1)
    kommune_types: list[KommuneType] = Field(min_length=1)
    questions: list[StandortQuestion] = Field(min_length=3, max_length=12)
    stages: list[StandortStage] = Field(min_length=2)
    extra_steps: list[ExtraStep] = Field(min_length=3)
    devplan: Devplan

    def question(self, question_id: str) -> StandortQuestion | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def stage(self, number: int) -> StandortStage:
        return next(s for s in self.stages if s.number == number)

    def kommune_type(self, type_id: str) -> KommuneType | None:
        return next((t for t in self.kommune_types if t.id == type_id), None)


@dataclass(frozen=True)
class GuidedContent:
    programmes: FundingProgrammes
    standort: StandortContent


def _load_model(root: Path, name: str, model: type[_ModelT], problems: list[str]) -> _ModelT | None:
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


# --- rendering -----------------------------------------------------------------------------------------------

_INLINE = re.compile(
    r"\[(?P<ltext>[^\]\n]+)\]\((?P<url>https?://[^)\s]+)\)"
    r"|\*\*(?P<bold>[^*\n]+)\*\*"
    r"|(?<![\w])_(?P<ital>[^_\n]+)_(?![\w])"
)


def render_inline(text: str) -> str:
    """Escape text and turn the inline Markdown forms **b**, _i_ and [t](url) into Telegram HTML."""
    out: list[str] = []
    pos = 0
    for match in _INLINE.finditer(text):
        out.append(escape(text[pos : match.start()]))
        if match.group("ltext") is not None:
            out.append(f'<a href="{escape(match.group("url"))}">{escape(match.group("ltext"))}</a>')
        elif match.group("bold") is not None:
            out.append(f"<b>{escape(match.group('bold'))}</b>")
        else:
            out.append(f"<i>{escape(match.group('ital'))}</i>")
        pos = match.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def render_markdown_sections(body: str) -> list[str]:
    """Render the article Markdown subset; each ``## `` heading starts a new section."""
    sections: list[list[str]] = [[]]
    for block in re.split(r"\n\s*\n", body.strip()):
        lines = [line.rstrip() for line in block.strip().splitlines()]
        rendered: list[str] = []
        for line in lines:
            if line.startswith("## "):
                if sections[-1] or rendered:
                    if rendered:
                        sections[-1].append("\n".join(rendered))
                        rendered = []
                    sections.append([])
                rendered.append(f"<b>{render_inline(line[3:].strip())}</b>")
            elif re.match(r"^\s*[-*] ", line):
                rendered.append("• " + render_inline(re.sub(r"^\s*[-*] ", "", line)))
            else:
                rendered.append(render_inline(line))
        if rendered:
            sections[-1].append("\n".join(rendered))
    return ["\n\n".join(parts) for parts in sections if parts]


def split_message(parts: list[str], limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Pack HTML parts into messages ≤ limit, breaking only between parts, then between paragraphs/lines."""
    pieces: list[str] = []
    for part in parts:
        if visible_length(part) <= limit:
            pieces.append(part)
            continue
        for para in part.split("\n"):
            pieces.extend(_hard_split(para, limit))
    messages: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}\n\n{piece}" if current else piece
        if visible_length(candidate) <= limit:
            current = candidate
        else:
            if current:
                messages.append(current)
            current = piece
    if current:
        messages.append(current)
    return messages


def _hard_split(paragraph: str, limit: int) -> list[str]:
    if visible_length(paragraph) <= limit:
        return [paragraph]
    # A single over-long paragraph: fall back to plain text so no tag is cut in half.
    plain = escape(html_to_plain(paragraph))
    chunks, current = [], ""
    for word in plain.split(" "):
        candidate = f"{current} {word}" if current else word
        if visible_length(candidate) > limit and current:
            chunks.append(current)
            current = word
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


_TAG = re.compile(r"<[^>]+>")


def html_to_plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


def visible_length(text: str) -> int:
    """Length as Telegram counts it: visible text after entity parsing, in UTF-16 code units."""
    return len(html_to_plain(text).encode("utf-16-le")) // 2


_ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote"}
_TAG_TOKEN = re.compile(r"<(/?)([a-zA-Z-]+)([^>]*)>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")


def check_telegram_html(text: str) -> None:
    """Raise ValueError where Telegram would answer "can't parse entities"."""
    stack: list[str] = []
    pos = 0
    for match in _TAG_TOKEN.finditer(text):
        _check_plain(text[pos : match.start()])
        closing, name, attrs = match.group(1), match.group(2).lower(), match.group(3)
        if name not in _ALLOWED_TAGS:
            raise ValueError(f"unsupported tag <{name}>")
        if closing:
            if not stack or stack[-1] != name:
                raise ValueError(f"unexpected </{name}>")
            stack.pop()
        else:
            if name == "a" and not re.match(r'^\s+href="[^"]*"\s*$', attrs):
                raise ValueError("<a> needs exactly one href attribute")
            stack.append(name)
        pos = match.end()
    _check_plain(text[pos:])
    if stack:
        raise ValueError(f"unclosed <{stack[-1]}>")


def _check_plain(chunk: str) -> None:
    if "<" in chunk or ">" in chunk:
        raise ValueError("bare '<' or '>' in text")
    for amp in re.finditer("&", chunk):
        if not _ENTITY.match(chunk, amp.start()):
            raise ValueError("bare '&' in text")


# --- events, deadlines and reminders -------------------------------------------------------------------------
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


class ReminderSettings(_Model):
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
        if any(not 0 <= n <= 366 for n in value):
            raise ValueError("lead times are days between 0 and 366")
        if len(set(value)) != len(value):
            raise ValueError("a lead time is listed twice")
        return sorted(value, reverse=True)


class SeedEvent(_Model):
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

    @field_validator("online_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _https_url(value)

    @field_validator("bundesland")
    @classmethod
    def _land(cls, value: str | None) -> str | None:
        if value is not None and value not in LAND_CODES:
            raise ValueError(f"unknown Bundesland code {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SeedEvent:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("write start and end as local times without offset (BOT_TIMEZONE applies)")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if not self.place and not self.online_url:
            raise ValueError("needs a place or an online_url")
        return self


class EventsFile(_Model):
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


class Programme(_Model):
    id: str = Field(pattern=ID_PATTERN, max_length=20)
    name: str = Field(min_length=1, max_length=120)
    short: str = Field(min_length=1, max_length=24)  # button label
    url: str

    _https = field_validator("url")(_https_url)


class Intermediary(_Model):
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


class LandVariant(_Model):
    laender: list[str] = Field(min_length=1)
    intermediary: Intermediary

    _codes = field_validator("laender")(_land_codes)


class ExpectedRounds(_Model):
    """The usual yearly rhythm of a programme's rounds whose dates are not yet published: the months they
    usually fall in. A confirmed date in that month (or the month before or after) counts as the round's date."""

    months: list[int] = Field(min_length=1, max_length=12)
    note: str | None = Field(default=None, max_length=300)  # e.g. when the dates are usually published

    _plain = field_validator("note")(_no_html)

    @field_validator("months")
    @classmethod
    def _months(cls, value: list[int]) -> list[int]:
        if any(not 1 <= month <= 12 for month in value):
            raise ValueError("expected months are numbers from 1 (January) to 12 (December)")
        if len(set(value)) != len(value):
            raise ValueError("an expected month is listed twice")
        return sorted(value)


class DeadlineRule(_Model):
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


class DeadlinesFile(_Model):
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


def _model_from(model: type[_ModelT], data: Any, where: str, problems: list[str]) -> _ModelT | None:
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
