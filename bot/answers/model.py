"""What a question names (``Slots``), what the user reads first (``Answer``), and the kinds of question."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.content_models.guided import FundingProgramme
from bot.followup import Topic
from bot.passages import Passage, SourceRef
from bot.search import Hit

# --- intents ---------------------------------------------------------------------------------------------------

DEADLINE, LEAD, RATE, LIMIT, BODY, LAND_FUNDING, SERVICE = (
    "deadline",
    "lead",
    "rate",
    "limit",
    "body",
    "land_funding",
    "service",
)
# Intents whose answer depends on the Land (a stored Bundesland is assumed for them).
LAND_INTENTS = frozenset({DEADLINE, BODY, LAND_FUNDING, SERVICE})
# Article of the Land facts (servicepoints.yaml) and of Land funding, for "whole article".
LAND_ARTICLE = "servicestellen-laender"
LAND_FUNDING_ARTICLE = "foerderung-laender"
# The funding overview: the article of deadline questions about no programme in particular.
OVERVIEW_ARTICLE = "foerderung-ueberblick"


@dataclass(frozen=True, slots=True)
class Slots:
    """What a question names: a Land, a programme (deadlines.yaml id), a country's programme, an intent (each
    None when it names none); ``QuestionReader.slots`` fills every field."""

    land: str | None
    programme: str | None
    country_programme: str | None
    intent: str | None
    age: bool  # a limit question about ages
    days: bool  # a limit question about durations
    size: bool  # a limit question about group sizes (no structured data: the article answers)
    topic_words: int  # content words beyond the slots and follow-up words
    several: bool  # the question names more than one programme (a comparison: the ranking decides)


@dataclass(frozen=True)
class Answer:
    """What the user reads first, and why."""

    question: str
    hits: list[Hit]
    passage: Passage | None
    exact: bool  # the passage answers the question (False: what is known nearby)
    article_id: str | None  # the topic (its whole article is one tap away)
    land: str | None = None
    land_source: str | None = None  # question | context | profile
    programme: str | None = None
    intent: str | None = None
    followup: bool = False
    notes: list[str] = field(default_factory=list)  # extra HTML lines (a Land's Länderstelle …)

    @property
    def topic(self) -> Topic:
        return Topic(self.article_id, self.programme, self.land, self.intent)

    @property
    def assumed_land(self) -> bool:
        """The Land came from the user's profile and the answer depends on it."""
        return self.land_source == "profile" and self.passage is not None and self.passage.land is not None


# --- passages from structured data ------------------------------------------------------------------------------


def fact_passage(
    base: Answer,
    passage_id: str,
    kind: str,
    section: str | None,
    text: str,
    title: str,
    sources: tuple[SourceRef, ...] = (),
    stand: date | None = None,
    land: str | None = None,
) -> Passage:
    """A passage built from structured data about the answer's programme, in the answer's article."""
    return Passage(
        passage_id,
        kind,
        base.article_id,
        section,
        text,
        title,
        sources,
        stand,
        land=land,
        programme=base.programme,
    )


def fp_sources(fps: Sequence[FundingProgramme]) -> tuple[SourceRef, ...]:
    refs: list[SourceRef] = []
    for fp in fps:
        for source in fp.sources:
            ref = SourceRef(source.title, source.url)
            if ref not in refs:
                refs.append(ref)
    return tuple(refs[:3])


def fp_stand(fps: Sequence[FundingProgramme]) -> date | None:
    return min((fp.checked_on for fp in fps), default=None)
