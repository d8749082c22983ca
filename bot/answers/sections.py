"""Which section of an article answers a question: the passage index ranks them, a heading that names a word of
the question adds to the score, and a section is chosen only when it clearly beats the article's overview on words
that are not just the article's name (a broad question, "Was ist der KJP?", gets the overview)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from bot.answers.model import BODY, DEADLINE, LAND_FUNDING, LEAD, LIMIT, RATE, SERVICE
from bot.answers.reading import FOLLOW_WORDS
from bot.german_text import STOP_WORDS, stem, words
from bot.passages import Passage, PassageIndex
from bot.telegram_html import html_to_plain

# Section headings that cover an intent (folded stems; a heading starting with one matches).
# Strong cues name the topic outright (headings on deadlines, funding rates, age limits): a section headed so answers
# a question of that kind before any other; weak cues only when no section matches the question's own words.
HEADING_CUES_STRONG: dict[str, tuple[str, ...]] = {
    DEADLINE: ("frist", "termin", "antragsrund"),
    LEAD: ("frist", "termin", "vorlauf"),
    RATE: ("fordersatz", "forderhoh", "pauschal"),
    LIMIT: ("alter", "dauer"),
    BODY: ("zustand", "antragsweg", "landerstell"),
}
HEADING_CUES: dict[str, tuple[str, ...]] = {
    DEADLINE: ("frist", "termin", "antragsrund", "zeitplan"),
    LEAD: ("frist", "termin", "vorlauf", "zeitplan"),
    RATE: ("fordersatz", "forderhoh", "pauschal", "zuschuss", "betrag", "kost", "finanz", "geld"),
    LIMIT: ("alter", "dauer", "teilnehm", "gruppe", "kriteri", "voraussetz", "bedingung"),
    BODY: ("zustand", "antragsweg", "landerstell", "antrag"),
    LAND_FUNDING: ("land",),
    SERVICE: ("servicestell", "beratung", "ansprech", "kontakt"),
}
# A section is chosen over the overview only with at least this score and this lead over the overview.
SECTION_MIN_SCORE = 0.08
SECTION_MARGIN = 0.02
# The lead paragraph sums the article up and so mentions much in passing: it competes with the sections at this
# weight (a question that names no section's topic still gets the overview).
OVERVIEW_WEIGHT = 0.7
# Added to a section's score per question word its heading names (at most two).
HEADING_BONUS = 0.2


class SectionChooser:
    """The sections of the articles, and each article's name (its title words that no section heading uses, its
    programme's names): the name says which article, not which section."""

    def __init__(self, passages: PassageIndex, name_stems: Mapping[str, frozenset[str]]) -> None:
        self.passages = passages
        self._name_stems = name_stems

    def choose_section(
        self, question: str, article_id: str, intent: str | None, *, strong: bool = True
    ) -> Passage | None:
        """The section of the article that answers the question, None when none clearly beats the overview.

        The article's own name (title words, programme names and their synonyms) is taken out of the question
        first: it says which article, not which section ("Was ist der KJP?" names no section)."""
        names = self._name_stems.get(article_id, frozenset())
        own = [
            t
            for t in words(question)
            if t not in STOP_WORDS
            and stem(t) not in STOP_WORDS
            and stem(t) not in names
            and t not in FOLLOW_WORDS
        ]
        if intent is not None and strong:
            # a specific question about a programme: the section whose heading covers it (deadlines, funding
            # rates) in the programme's article, if it has one
            cued = self.passages.section(article_id, HEADING_CUES_STRONG.get(intent, ()))
            if cued is not None:
                return cued
        if not own:
            return None
        # words most sections use say which article, not which section – unless a heading names them
        common = frozenset(self.passages.common_in(article_id, [stem(t) for t in own]))
        headings = [p.section for p in self.passages.of_article(article_id) if p.section]
        own = [
            t for t in own if stem(t) not in common or any(_heading_bonus([t], h) for h in headings)
        ] or own
        ranked = self.passages.rank(" ".join(own), article_id)
        if ranked:
            overview_score = next((s for p, s in ranked if p.kind == "overview"), 0.0) * OVERVIEW_WEIGHT
            best, score = max(
                ((p, s + _heading_bonus(own, p.section, common)) for p, s in ranked if p.kind == "section"),
                key=lambda pair: pair[1],
                default=(ranked[0][0], 0.0),
            )
            if (
                best.kind == "section"
                and score >= SECTION_MIN_SCORE
                and score >= overview_score + SECTION_MARGIN
            ):
                return best
        if intent is not None:
            return self.passages.section(article_id, HEADING_CUES.get(intent, ()))
        return None

    def section_for(self, article_id: str | None, intent: str, question: str = "") -> str | None:
        """The heading of the article section on the same topic as a structured answer (for "whole article"
        and the eval): one whose heading covers the intent, else the one the question points to."""
        if article_id is None:
            return None
        passage = self.passages.section(article_id, HEADING_CUES.get(intent, ()))
        if passage is None and question:
            passage = self.choose_section(question, article_id, None)
        return passage.section if passage else None

    def section_stating(self, article_id: str | None, phrases: Sequence[str]) -> str | None:
        """The first article section that states one of the phrases ("12 bis 26"): where the article says the
        same as the structured answer."""
        if article_id is None or not phrases:
            return None
        for passage in self.passages.of_article(article_id):
            text = html_to_plain(passage.html)
            if passage.section and any(phrase in text for phrase in phrases):
                return passage.section
        return None

    def land_section(self, article_id: str | None, land_name: str, intent: str) -> str | None:
        """The article's section about this Land (servicestellen-laender has one per Land), else by intent."""
        if article_id is None:
            return None
        passage = self.land_passage(article_id, land_name)
        return passage.section if passage is not None else self.section_for(article_id, intent)

    def land_passage(self, article_id: str, land_name: str) -> Passage | None:
        """The article's section headed with the Land's name, if it has one."""
        wanted = tuple(words(land_name))
        return next(
            (
                p
                for p in self.passages.of_article(article_id)
                if p.section and tuple(words(p.section)) == wanted
            ),
            None,
        )


def _heading_bonus(own: Sequence[str], heading: str | None, common: frozenset[str] = frozenset()) -> float:
    """What a section's heading adds when it names a word of the question: the heading says what the section
    answers. Words match by stem or by a common beginning of at least five letters and three quarters of the
    shorter word (sicher ~ Sicherheit, but not Fördergeld ~ Fördersätze). A word most of the article's passages
    use (``common`` stems) counts half."""
    if not heading:
        return 0.0
    heading_words = _heading_words(heading)
    matched = 0.0
    for word in own:
        if len(word) < 3:
            continue
        for candidate in heading_words:
            prefix = len(_common_prefix(word, candidate))
            shorter = min(len(word), len(candidate))
            head = len(word) >= 5 and stem(candidate).endswith(stem(word))  # Länder ~ Partnerländer
            if (
                stem(word) == stem(candidate)
                or head
                or (prefix >= min(5, shorter) and prefix >= 0.75 * shorter)
            ):
                matched += 0.5 if stem(word) in common else 1.0
                break
    return HEADING_BONUS * min(matched, 2.0)


@lru_cache(maxsize=4096)
def _heading_words(heading: str) -> tuple[str, ...]:
    return tuple(w for w in words(heading) if w not in STOP_WORDS and len(w) >= 3)


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]
