"""Standortbestimmung rules: the Kommune's name check, its stage, the next steps, progress, and the result text.

Plain functions over content/standort.yaml (``StandortContent``); bot/devplan.py writes the DOCX draft and the
handlers ask the questions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict, Unpack

from bot.content_models.guided import StandortContent, StandortQuestion, StandortStage
from bot.content_models.servicepoints import ServicePoints
from bot.foerderfinder import render_land
from bot.guided import answer_key
from bot.telegram_html import Html
from bot.texts import Texts

ANSWERS = ("yes", "partly", "no")
# Typed instead of the buttons, besides the labels "ja" / "teilweise" / "nein" themselves.
ANSWER_WORDS = {"yes": ("j", "yes"), "partly": ("teils", "zum Teil", "jein"), "no": ("n", "no", "noch nicht")}
POINTS = {"yes": 2, "partly": 1, "no": 0}
NAME_MIN = 2
NAME_MAX = 80
NEXT_STEPS = 3

_NAME_CHARS = re.compile(r"^[\w .,'’()/&\"„“”-]+$")
_QUOTES = "\"'„“”‚‘’«»"
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
_LINK = re.compile(r"(https?:|www\.|t\.me/|@)", re.IGNORECASE)


class NameProblem(ValueError):
    """The Kommune's name is not acceptable; ``code`` selects the message (short, long, letters, link, chars)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def clean_kommune_name(text: str) -> str:
    """The name as it will be stored: whitespace collapsed; raises ``NameProblem`` when it is not a name."""
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if len(name) > 2 and name[0] in _QUOTES and name[-1] in _QUOTES:  # „Musterstadt“ → Musterstadt
        name = name[1:-1].strip()
    if len(name) < NAME_MIN:
        raise NameProblem("short")
    if len(name) > NAME_MAX:
        raise NameProblem("long")
    if _LINK.search(name):
        raise NameProblem("link")
    if not _NAME_CHARS.match(name) or "_" in name:
        raise NameProblem("chars")
    if sum(ch.isalpha() for ch in name) < NAME_MIN:
        raise NameProblem("letters")
    return name


@dataclass(frozen=True, slots=True)
class NextStep:
    title: str
    text: str
    article: str
    question_id: str | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    stage: StandortStage
    stage_count: int
    score: int
    max_score: int
    next_steps: list[NextStep]
    open_questions: list[StandortQuestion]  # answered "teilweise" or "nein", in the order of the way


def answer_of(answers: Mapping[str, str], question_id: str) -> str:
    """A missing or unknown answer counts as "no" (content may have gained a question since)."""
    value = answers.get(question_id, "no")
    return value if value in POINTS else "no"


def assess(config: StandortContent, answers: Mapping[str, str]) -> Assessment:
    """The stage (first stage not yet reached), the score and the three most useful next steps."""
    groups = sorted({q.stage for q in config.questions})
    stage_number = len(groups) + 1
    for group in groups:
        values = [answer_of(answers, q.id) for q in config.questions if q.stage == group]
        if "no" in values or values.count("partly") > 1:
            stage_number = group
            break
    score = sum(POINTS[answer_of(answers, q.id)] for q in config.questions)
    order = {q.id: i for i, q in enumerate(config.questions)}
    open_questions = sorted(
        (q for q in config.questions if answer_of(answers, q.id) != "yes"),
        key=lambda q: (q.stage, POINTS[answer_of(answers, q.id)], order[q.id]),
    )
    steps = [NextStep(q.title, q.next_step, q.article, q.id) for q in open_questions[:NEXT_STEPS]]
    for extra in config.extra_steps:
        if len(steps) >= NEXT_STEPS:
            break
        steps.append(NextStep(extra.title, extra.text, extra.article))
    return Assessment(
        stage=config.stage(stage_number),
        stage_count=len(config.stages),
        score=score,
        max_score=2 * len(config.questions),
        next_steps=steps,
        open_questions=open_questions,
    )


@dataclass(frozen=True, slots=True)
class Change:
    question: StandortQuestion
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Progress:
    since: datetime
    stage_before: int
    stage_after: int
    score_before: int
    score_after: int
    improved: list[Change]
    worsened: list[Change]


def progress(
    config: StandortContent,
    since: datetime,
    before: Mapping[str, str],
    after: Mapping[str, str],
) -> Progress:
    """What changed between two self-checks, judged by today's rules for both."""
    old, new = assess(config, before), assess(config, after)
    improved, worsened = [], []
    for question in config.questions:
        was, now = answer_of(before, question.id), answer_of(after, question.id)
        if POINTS[now] > POINTS[was]:
            improved.append(Change(question, was, now))
        elif POINTS[now] < POINTS[was]:
            worsened.append(Change(question, was, now))
    return Progress(since, old.stage.number, new.stage.number, old.score, new.score, improved, worsened)


# --- rendering ------------------------------------------------------------------------------------------------


def _prefix_words(config: StandortContent) -> list[list[str]]:
    words = [[t.label, *t.prefixes] for t in config.kommune_types]
    return [answer_key(p).split() for group in words for p in group]


def kommune_display(config: StandortContent, kommune: str, kommune_type: str) -> str:
    """'Stadt Musterstadt'; a name that already says what it is ('Landkreis Musterland', 'Hansestadt Lübeck')
    stays as typed instead of becoming 'Landkreis Landkreis Musterland'."""
    words = answer_key(kommune).split()
    for prefix in _prefix_words(config):
        if len(words) > len(prefix) and words[: len(prefix)] == prefix:
            return kommune
    choice = config.kommune_type(kommune_type)
    return f"{choice.label if choice else kommune_type} {kommune}"


def _core_name(config: StandortContent, kommune: str) -> str:
    words = answer_key(kommune).split()
    for prefix in sorted(_prefix_words(config), key=len, reverse=True):
        if len(words) > len(prefix) and words[: len(prefix)] == prefix:
            return " ".join(words[len(prefix) :])
    return " ".join(words)


def same_kommune(config: StandortContent, a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Whether two (name, Land) pairs name the same Kommune: 'Stadt Münster' and 'muenster' in NW are one,
    'Musterstadt' and 'Nachbardorf' are not – progress is only shown against the same Kommune."""
    return a[1] == b[1] and _core_name(config, a[0]) == _core_name(config, b[0])


def _kommune(texts: Texts, config: StandortContent, kommune: str, kommune_type: str, land_name: str) -> str:
    return texts(
        "standort.kommune_line", kommune=kommune_display(config, kommune, kommune_type), land=land_name
    )


class CheckedKommune(TypedDict):
    """Whose self-check a result shows (``render_result`` and ``render_summary`` take these by keyword)."""

    kommune: str
    kommune_type: str
    land: str
    assessment: Assessment


def _stage_params(
    texts: Texts, config: StandortContent, servicepoints: ServicePoints, checked: CheckedKommune
) -> dict[str, object]:
    """The Kommune and its stage, as the result's title and the stored summary show them."""
    assessment = checked["assessment"]
    land_name = servicepoints.land(checked["land"]).name
    return {
        "kommune": Html(_kommune(texts, config, checked["kommune"], checked["kommune_type"], land_name)),
        "number": assessment.stage.number,
        "count": assessment.stage_count,
        "stage": assessment.stage.title,
        "score": assessment.score,
        "max": assessment.max_score,
    }


def render_steps(texts: Texts, steps: list[NextStep], link: Callable[[str], str]) -> str:
    lines = [texts("standort.result.steps_title")]
    lines.extend(
        texts("standort.result.step", number=i, title=s.title, text=s.text, url=link(s.article))
        for i, s in enumerate(steps, start=1)
    )
    return "\n".join(lines)


class LandLinks(TypedDict, total=False):
    """What ``foerderfinder.render_land`` takes besides the Land: article links and programme names."""

    link: Callable[[str], str] | None
    programme_names: Mapping[str, str] | None


def render_contacts(
    texts: Texts, servicepoints: ServicePoints, code: str, **options: Unpack[LandLinks]
) -> str:
    """The Land's contacts (Länderstellen, programmes or why there is none, service points; see
    ``foerderfinder.render_land``) and the nationwide help."""
    lines = [render_land(texts, servicepoints, code, **options)]
    lines.append(texts("standort.result.nationwide"))
    lines.extend(
        texts("standort.result.contact_short", url=p.url, name=p.name) for p in servicepoints.fallback
    )
    return "\n".join(lines)


def render_progress(texts: Texts, config: StandortContent, change: Progress, tz_date: str) -> str:
    lines = [texts("standort.progress.title", date=tz_date)]
    if change.stage_after != change.stage_before:
        lines.append(texts("standort.progress.stage", before=change.stage_before, after=change.stage_after))
    lines.append(texts("standort.progress.score", before=change.score_before, after=change.score_after))
    for key, items in (("improved", change.improved), ("worsened", change.worsened)):
        lines.extend(
            texts(
                f"standort.progress.{key}",
                title=item.question.title,
                before=Html(texts(f"standort.answer.{item.before}")),
                after=Html(texts(f"standort.answer.{item.after}")),
            )
            for item in items
        )
    if not change.improved and not change.worsened:
        lines.append(texts("standort.progress.unchanged"))
    return "\n".join(lines)


def render_result(
    texts: Texts,
    config: StandortContent,
    servicepoints: ServicePoints,
    *,
    link: Callable[[str], str],
    change: Progress | None = None,
    change_date: str = "",
    programme_names: Mapping[str, str] | None = None,
    **checked: Unpack[CheckedKommune],
) -> list[str]:
    """The result of a self-check as HTML parts: stage, next steps, contacts, progress."""
    assessment = checked["assessment"]
    stage = _stage_params(texts, config, servicepoints, checked)
    parts = [texts("standort.result.title", summary=assessment.stage.summary, **stage)]
    if change is not None:
        parts.append(render_progress(texts, config, change, change_date))
    parts.append(render_steps(texts, assessment.next_steps, link))
    contacts = render_contacts(
        texts, servicepoints, checked["land"], link=link, programme_names=programme_names
    )
    parts.append(contacts)
    return parts


def render_summary(
    texts: Texts,
    config: StandortContent,
    servicepoints: ServicePoints,
    *,
    when: str,
    link: Callable[[str], str],
    **checked: Unpack[CheckedKommune],
) -> str:
    """The stored last result, shown by /standort before offering an update."""
    head = texts("standort.summary", date=when, **_stage_params(texts, config, servicepoints, checked))
    return head + "\n\n" + render_steps(texts, checked["assessment"].next_steps, link)


def devplan_filename(kommune: str) -> str:
    """A safe ASCII file name for the DOCX draft, e.g. Entwicklungsplan_IJA_Muenster.docx."""
    folded = kommune.translate(_UMLAUTS)
    ascii_name = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "_", ascii_name).strip("_")[:40] or "Kommune"
    return f"Entwicklungsplan_IJA_{slug}.docx"
