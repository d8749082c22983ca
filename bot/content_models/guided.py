"""Guided tools: the Förder-Finder's programmes (content/programmes.yaml) and the Standortbestimmung
(content/standort.yaml)."""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator

from bot.content_models.base import ID_PATTERN, ContentModel, Source, land_keys, oldest

# Editors change the rules here, not in code: bot/foerderfinder.py and bot/standort.py only read these models.

CHOICE_ID = r"^[a-z][a-z0-9_]{0,15}$"  # short: choice ids travel in callback data
PROGRAMME_ROUTES = ("laenderstelle", "zentralstelle", "direkt")
DEVPLAN_SECTIONS = ("bestandsaufnahme", "bedarfsanalyse", "ziele", "massnahmen", "zeitplan", "evaluation")


class Choice(ContentModel):
    id: str = Field(pattern=CHOICE_ID)
    label: str = Field(min_length=1, max_length=60)
    aliases: list[str] = Field(default_factory=list)  # other words a user may type for it ("Begegnung")


class KommuneType(Choice):
    # Leading words that already say what a Kommune is ("Hansestadt Lübeck", "Landkreis Tuttlingen"): such a
    # name is shown as typed, without the type in front ("Landkreis Landkreis Tuttlingen").
    prefixes: list[str] = Field(default_factory=list)


class Span(ContentModel):
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


class DeadlinePattern(ContentModel):
    """A yearly date rule, e.g. 1 October of the year before the activity (``years_before: 1``)."""

    label: str = Field(min_length=1, max_length=80)
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    years_before: int = Field(ge=0, le=2)

    @model_validator(mode="after")
    def _real_date(self) -> DeadlinePattern:
        date(2001, self.month, self.day)  # raises ValueError for 31 April and friends (29 Feb excluded too)
        return self


class FundingDeadline(ContentModel):
    note: str = Field(min_length=1)
    checked: date | None = None  # the day the note was last checked against its source
    year: int | None = Field(default=None, ge=2000, le=2100)  # old format: the year the note refers to
    certainty: Literal["verified", "secondary", "uncertain"]
    source: Source
    pattern: DeadlinePattern | None = None
    by_land: dict[str, str] = Field(default_factory=dict)  # Land-specific additions (earlier internal dates)

    _lands = field_validator("by_land")(land_keys)

    @model_validator(mode="after")
    def _dated(self) -> FundingDeadline:
        if self.checked is None and self.year is None:
            raise ValueError("give 'checked:' (the day the note was checked)")
        return self

    def stand_label(self) -> str:
        """How the note is dated for users: the check day, or (old format) the year its facts refer to."""
        return self.checked.strftime("%d.%m.%Y") if self.checked is not None else str(self.year)


class Rate(ContentModel):
    """A structured money fact of a programme (``rates:``), with its deep-link source and check day."""

    what: str = Field(min_length=1, max_length=300)
    amount: str = Field(min_length=1, max_length=120)
    source: Source
    checked: date


class FundingProgramme(ContentModel):
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


class FundingProgrammes(ContentModel):
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

    _lands = field_validator("laenderstellen")(land_keys)

    def country(self, country_id: str) -> Choice | None:
        return next((c for c in self.countries if c.id == country_id), None)

    def format(self, format_id: str) -> FormatChoice | None:
        return next((f for f in self.formats if f.id == format_id), None)


class StandortQuestion(ContentModel):
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


class StandortStage(ContentModel):
    number: int = Field(ge=1, le=10)
    title: str = Field(min_length=1, max_length=80)
    summary: str = Field(min_length=1, max_length=400)


class ExtraStep(ContentModel):
    title: str = Field(min_length=1, max_length=60)
    text: str = Field(min_length=1, max_length=400)
    article: str


class DevplanSection(ContentModel):
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


class Devplan(ContentModel):
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


class StandortContent(ContentModel):
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
