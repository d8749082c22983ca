"""Precise answers: the passage that answers a question, for the asker's Land, from structured data where it
holds the fact, read in the context of the last answer for follow-ups.

How a question is answered (``Answerer.answer``):

1. **Slots** — the question is read for a Land (name, abbreviation, adjective, a city or district of
   servicepoints.yaml ``places``), a programme (its name, short name or synonyms; a partner country stands for
   its programme: "Polen" → DPJW) and an *intent*: deadline, lead time, rate, limit (age/duration), who is
   responsible, Land funding, service point. Cue words are listed below (not user-facing).
2. **Follow-up** — a short message shaped like "und in Bayern?", "und für Polen?", "wie lange vorher?" within
   ``bot.followup.FOLLOWUP_TTL`` of the last answer keeps that answer's topic, Land, programme and intent and
   changes only what it names. Any other message starts fresh.
3. **Land** — the question's Land, else the follow-up's, else (for Land-dependent intents only) the user's
   stored Bundesland; the answer then says which Land it assumed.
4. **Structured answers** — deadline, lead time, rate, limit and responsibility questions about a programme are
   answered from deadlines.yaml (through bot.deadlines, exactly as /fristen shows them), programmes.yaml (the
   Förder-Finder's data) and servicepoints.yaml, so answer and tools never disagree.
5. **Passages** — everything else: the article ranking of bot.search picks the article, the passage index
   (bot.passages) the section inside it. A section is chosen only when it clearly beats the article's overview
   on words that are not just the article's name; a broad question ("Was ist der KJP?") gets the overview.
6. **Honest edges** — a specific question (a rate, a deadline …) that no passage answers is marked inexact:
   the handler says so, shows what is known nearby and offers the consultation request.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import SystemClock
from bot.config import Settings
from bot.content import Content, ContentError, load_content
from bot.content_models.base import Source, oldest
from bot.content_models.guided import FundingProgramme
from bot.content_models.servicepoints import Laenderstelle, Link
from bot.followup import Topic, is_followup
from bot.german_text import STOP_WORDS, stem, words
from bot.passages import Passage, PassageIndex, SourceRef
from bot.search import MAX_QUERY_CHARS, Hit, SearchIndex
from bot.telegram_html import Html, html_to_plain
from bot.texts import Texts

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

# Cue words (folded, then stemmed) and phrases (folded words) per intent, checked in this order.
_CUES_RAW: dict[str, tuple[str, tuple[str, ...]]] = {
    LEAD: (
        "vorher vorlauf vorlaufzeit vorlaufzeiten rechtzeitig vorab fruhzeitig",
        ("wie fruh", "im voraus"),
    ),
    DEADLINE: (
        "frist fristen antragsfrist antragsfristen einreichungsfrist stichtag stichtage deadline deadlines "
        "termin termine antragstermin antragstermine antragsrunde antragsrunden einsendeschluss forderfrist "
        "forderfristen anmeldefrist anmeldefristen "
        "bewerbungsfrist abgabetermin bewerbungsschluss antragsschluss",
        ("bis wann", "nachste runde"),
    ),
    RATE: (
        "fordersatz fordersatze tagessatz tagessatze pauschale pauschalen "
        "festbetrag festbetrage forderhohe fordersumme fahrtkostenzuschuss reisekostenzuschuss euro",
        (
            "was zahlt",
            "was zahlen",
            "was bezahlt",
            "wie viel zahlt",
            "wie viel zuschuss",
            "wieviel zuschuss",
            "wie viel geld",
            "wie hoch",
            "pro tag",
            "je tag",
            "pro person",
            "pro kopf",
            "pro teilnehmer",
            "pro teilnehmerin",
            "pro teilnehmende",
            "je teilnehmer",
            "je teilnehmende",
            "wieviel geld",
        ),
    ),
    LIMIT: (
        "alter altersgrenze altersgrenzen mindestalter hochstalter jahrig dauer mindestdauer hochstdauer "
        "gruppengrosse teilnehmerzahl",
        (
            "wie alt",
            "wie jung",
            "wie lange",
            "wie viele tage",
            "wie lang",
            "jahre alt",
            "wie viele jugendliche",
            "wie viele teilnehmende",
            "wie viele teilnehmer",
            "wie viele personen",
            "wie viele leute",
            "wie gross",
        ),
    ),
    BODY: (
        "zustandig zustandige zustandigen zustandigkeit ansprechpartner ansprechpartnerin landerstelle "
        "landerstellen zentralstelle zentralstellen antragsweg",
        (
            "an wen",
            "bei wem",
            "wo beantrage",
            "wo beantragen",
            "wo einreichen",
            "wo reiche",
            "wo reichen",
            "wo stellen",
            "wer nimmt",
        ),
    ),
    LAND_FUNDING: (
        "landesforderung landesprogramm landesprogramme landesmittel landesjugendplan landesforderplan "
        "landesfordermittel landeszuschuss landeszuschusse landesrichtlinie landesforderprogramm",
        ("vom land", "des landes", "zahlt das land", "fordert das land", "gibt das land"),
    ),
    SERVICE: (
        "servicestelle servicestellen anlaufstelle anlaufstellen beratungsstelle beratungsstellen fachstelle",
        (),
    ),
}
# Words of the application procedure: "wie lange" with one of them is no question about a programme's limits.
_PROCESS_WORDS = ("bearbeit", "bewillig", "prufung", "bescheid", "antwort", "auszahl", "entscheid")
_SIZE_WORDS = frozenset(stem(w) for w in ["gruppengrosse", "teilnehmerzahl", "viele", "gross"])
_AGE_WORDS = frozenset(
    stem(w)
    for w in ["alter", "alt", "altersgrenze", "mindestalter", "hochstalter", "jung", "jahrig", "jahre"]
)
_DAY_WORDS = frozenset(
    stem(w)
    for w in ["dauer", "lange", "lang", "tage", "tag", "wochen", "monate", "mindestdauer", "hochstdauer"]
)
# Words with which a follow-up asks for the same again ("und in Bayern?"); they name no topic of their own.
_FOLLOW_WORDS = frozenset(
    [
        "und",
        "auch",
        "wie",
        "ist",
        "es",
        "sieht",
        "aus",
        "mit",
        "bei",
        "fur",
        "in",
        "was",
        "gilt",
        "dort",
        "da",
        "durfen",
        "darf",
        "sein",
        "konnen",
        "kann",
        "mussen",
        "muss",
        "sollen",
        "soll",
        "erklar",
        "erklare",
        "erklaren",
        "kurz",
        "info",
        "infos",
        "informationen",
        "nachste",
        "nachsten",
        "nachstes",
        "stehen",
        "steht",
        "kommende",
        "kommenden",
        "aktuelle",
        "aktuellen",
        "neue",
        "neuen",
    ]
)
# Section headings that cover an intent (folded stems; a heading starting with one matches).
# Strong cues name the topic outright ("Fristen", "Fördersätze", "Altersgrenzen"): a section headed so answers
# a question of that kind before any other; weak cues only when no section matches the question's own words.
_HEADING_CUES_STRONG: dict[str, tuple[str, ...]] = {
    DEADLINE: ("frist", "termin", "antragsrund"),
    LEAD: ("frist", "termin", "vorlauf"),
    RATE: ("fordersatz", "forderhoh", "pauschal"),
    LIMIT: ("alter", "dauer"),
    BODY: ("zustand", "antragsweg", "landerstell"),
}
_HEADING_CUES: dict[str, tuple[str, ...]] = {
    DEADLINE: ("frist", "termin", "antragsrund", "zeitplan"),
    LEAD: ("frist", "termin", "vorlauf", "zeitplan"),
    RATE: ("fordersatz", "forderhoh", "pauschal", "zuschuss", "betrag", "kost", "finanz", "geld"),
    LIMIT: ("alter", "dauer", "teilnehm", "gruppe", "kriteri", "voraussetz", "bedingung"),
    BODY: ("zustand", "antragsweg", "landerstell", "antrag"),
    LAND_FUNDING: ("land",),
    SERVICE: ("servicestell", "beratung", "ansprech", "kontakt"),
}
# Article of the Land facts (servicepoints.yaml) and of Land funding, for "whole article".
LAND_ARTICLE = "servicestellen-laender"
LAND_FUNDING_ARTICLE = "foerderung-laender"
# The funding overview: the article of deadline questions about no programme in particular.
OVERVIEW_ARTICLE = "foerderung-ueberblick"
# A section is chosen over the overview only with at least this score and this lead over the overview.
SECTION_MIN_SCORE = 0.08
SECTION_MARGIN = 0.02
# The lead paragraph sums the article up and so mentions much in passing: it competes with the sections at this
# weight (a question that names no section's topic still gets the overview).
OVERVIEW_WEIGHT = 0.7
# The article's programme is taken for a specific question that names none ("Wann ist die Frist für
# Jugendbegegnungen in Frankreich?" names a country) only when the article matches at least this well.
PROGRAMME_FROM_ARTICLE = 0.45
# Two articles within this share of each other's score are a tie; a section of the second that scores at least
# TIE_SECTION_MIN and TIE_SECTION_RATIO times the best section of the first then wins it.
TIE = 0.95
TIE_SECTION_MIN = 0.25
TIE_SECTION_RATIO = 1.5
# A section that scores this much over all passages answers a question no article matches confidently (the
# off-topic questions of bot/search.py's docstring score at most 0.22 here).
RESCUE_SCORE = 0.4
# Added to a section's score per question word its heading names (at most two).
HEADING_BONUS = 0.2
# An amount of money in a passage ("24 €", "bis 1.234 Euro").
_AMOUNT = re.compile(r"\d\s*(?:€|Euro\b|EUR\b)", re.IGNORECASE)
# Extra spellings of Länder (folded) that are not in synonyms.yaml; upper-case codes are matched as typed.
_LAND_EXTRA = {
    "nds": "NI",
    "nrw": "NW",
    "rlp": "RP",
    "bawu": "BW",
    "mecklenburg": "MV",
    "meckpomm": "MV",
    "lsa": "ST",
}
_CODE_ALIASES = {"NRW": "NW", "NDS": "NI", "RLP": "RP", "LSA": "ST"}
# Leading words of a place name that users leave out ("Landkreis Fulda" → "Fulda").
_PLACE_PREFIXES = ("landkreis", "kreis", "stadt", "hansestadt", "region", "stadtkreis", "lkr", "lk")


@dataclass(frozen=True, slots=True)
class Slots:
    """What a question names: a Land, a programme (deadlines.yaml id), a country's programme, an intent."""

    land: str | None = None
    programme: str | None = None
    country_programme: str | None = None
    intent: str | None = None
    age: bool = False  # a limit question about ages
    days: bool = False  # a limit question about durations
    size: bool = False  # a limit question about group sizes (no structured data: the article answers)
    topic_words: int = 0  # content words beyond the slots and follow-up words
    several: bool = False  # the question names more than one programme (a comparison: the ranking decides)


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


class Answerer:
    """Built once from the content (with the article index); ``answer`` is pure and fast."""

    def __init__(self, content: Content, search: SearchIndex, passages: PassageIndex) -> None:
        self.content = content
        self.search = search
        self.passages = passages
        self._texts = content.texts
        self._laender = {land.code: land for land in content.servicepoints.laender}
        self._land_terms, self._programme_terms, self._country_terms = _terms(content)
        self._longest = max(
            (len(k) for d in (self._land_terms, self._programme_terms, self._country_terms) for k in d),
            default=1,
        )
        # per intent: cue stems, long cues a word may start with (Landesmitteln), phrases
        self._cues = {
            intent: (
                frozenset(stem(w) for w in raw.split()),
                tuple(w for w in raw.split() if len(w) >= 9),
                tuple(tuple(p.split()) for p in phrases),
            )
            for intent, (raw, phrases) in _CUES_RAW.items()
        }
        self._fp_by_key: dict[str, list[FundingProgramme]] = {}
        self._article_programme: dict[str, str] = {}
        guided = content.guided
        keys = set(content.calendar.programmes)
        if guided is not None:
            for fp in guided.programmes.programmes:
                key = programme_key(fp.id, keys)
                if key is None:
                    continue
                self._fp_by_key.setdefault(key, []).append(fp)
                self._article_programme.setdefault(fp.article, key)
        # An article's name: its title words that no section heading uses (the title of "Recht und Sicherheit:
        # Versicherung, Aufsicht, Visum, Notfall" lists its sections; those words still point to a section).
        names: dict[str, set[str]] = {}
        for article in content.articles.values():
            headed = {
                stem(w) for p in self.passages.of_article(article.id) if p.section for w in words(p.section)
            }
            title = {stem(w) for w in words(article.title)}
            names[article.id] = (title - headed) | self.passages.common_in(article.id, sorted(title))
        for article_id, key in self._article_programme.items():
            for terms in (self._programme_terms, self._country_terms):
                names.setdefault(article_id, set()).update(
                    stem(w) for t, k in terms.items() if k == key for w in t
                )
        self._name_stems = {article_id: frozenset(stems) for article_id, stems in names.items()}

    @classmethod
    def build(cls, content: Content, search: SearchIndex | None = None) -> Answerer:
        return cls(content, search or SearchIndex.build(content), PassageIndex.build(content))

    @classmethod
    def shared(cls, content: Content, search: SearchIndex) -> Answerer:
        """``build``, once per content and search index (tests share both between many applications)."""
        key = (id(content), id(search))
        cached = _SHARED.get(key)
        if cached is None or cached.content is not content or cached.search is not search:
            cached = cls.build(content, search)
            if len(_SHARED) >= _SHARED_MAX:
                _SHARED.pop(next(iter(_SHARED)))
            _SHARED[key] = cached
        return cached

    # -- reading the question ---------------------------------------------------------------------------------

    def slots(self, text: str) -> Slots:
        tokens = words(text)
        stems = [stem(t) for t in tokens]
        land, programme, country = self._find_land(text, stems), None, None
        used: set[int] = set()
        named: set[str] = set()
        i = 0
        while i < len(tokens):
            for size in range(min(self._longest, len(tokens) - i), 0, -1):
                key = tuple(stems[i : i + size])
                if key in self._land_terms:
                    used.update(range(i, i + size))
                elif key in self._programme_terms:
                    programme = programme or self._programme_terms[key]
                    named.add(self._programme_terms[key])
                    used.update(range(i, i + size))
                elif key in self._country_terms:
                    country = country or self._country_terms[key]
                    used.update(range(i, i + size))
                else:
                    continue
                i += size - 1
                break
            i += 1
        intent = None
        for name, (cue_stems, long_cues, phrases) in self._cues.items():
            hit = [
                k
                for k, s in enumerate(stems)
                if s in cue_stems or tokens[k] in cue_stems or (long_cues and tokens[k].startswith(long_cues))
            ]
            hit += [k for p in phrases for k in _phrase_at(tokens, p)]
            if hit:
                intent = intent or name
                used.update(hit)
        if intent in (None, RATE, LIMIT) and land is not None and self._cue_hits(LAND_FUNDING, tokens, stems):
            intent = LAND_FUNDING  # "Landesmittel BW – wie viel pro Tag?" asks about the Land's programme
        if (
            intent is None
            and "wann" in tokens
            and any(s.startswith(("antrag", "beantrag", "einreich", "anmeld", "bewerb")) for s in stems)
        ):
            intent = DEADLINE
        age = intent == LIMIT and any(s in _AGE_WORDS for s in stems)
        days = intent == LIMIT and any(s in _DAY_WORDS for s in stems)
        if intent == LIMIT and any(s.startswith(_PROCESS_WORDS) for s in stems):
            intent = None  # "Wie lange dauert die Bearbeitung?" asks about the procedure, not a limit
        size = intent == LIMIT and any(s in _SIZE_WORDS for s in stems)
        if intent == LIMIT and not age and not days and not size:
            age = days = True
        topic = sum(
            1
            for k, t in enumerate(tokens)
            if k not in used
            and t not in STOP_WORDS
            and stem(t) not in STOP_WORDS
            and t not in _FOLLOW_WORDS
            and not t.isdigit()
        )
        return Slots(land, programme, country, intent, age, days, size, topic, len(named) > 1)

    def _cue_hits(self, intent: str, tokens: Sequence[str], stems: Sequence[str]) -> bool:
        cue_stems, long_cues, phrases = self._cues[intent]
        return any(
            s in cue_stems or t in cue_stems or (bool(long_cues) and t.startswith(long_cues))
            for t, s in zip(tokens, stems, strict=True)
        ) or any(_phrase_at(tokens, p) for p in phrases)

    def _find_land(self, text: str, stems: Sequence[str]) -> str | None:
        for match in re.finditer(r"(?<![\w-])([A-Z]{2,3})(?![\w-])", text):
            code = _CODE_ALIASES.get(match.group(1), match.group(1))
            if code in self._laender:
                return code
        best: tuple[int, str] | None = None
        for i in range(len(stems)):
            for size in range(min(self._longest, len(stems) - i), 0, -1):
                found = self._land_terms.get(tuple(stems[i : i + size]))
                if found is not None:
                    if best is None or size > best[0]:
                        best = (size, found)
                    break
        return best[1] if best else None

    # -- answering -------------------------------------------------------------------------------------------

    def answer(
        self,
        question: str,
        *,
        now: datetime,
        tz: ZoneInfo,
        profile_land: str | None = None,
        previous: Topic | None = None,
    ) -> Answer:
        question = question[:MAX_QUERY_CHARS]  # the search reads no more either
        slots = self.slots(question)
        hits = self.search.search(question, limit=5)
        followup = previous is not None and is_followup(question, slots)
        if followup and previous is not None:
            programme = slots.programme or slots.country_programme or previous.programme
            intent = slots.intent or previous.intent
            land, land_source = slots.land, "question" if slots.land else None
            if land is None and previous.land is not None:
                land, land_source = previous.land, "context"
            article_id = previous.article_id
            if programme is not None and programme != previous.programme:
                article_id = self._programme_article(programme) or article_id
            if slots.land and not slots.programme and not slots.country_programme and intent is None:
                intent = None if programme else LAND_FUNDING
            hits = [h for h in hits if h.article_id != article_id]
        else:
            programme = slots.programme or slots.country_programme
            intent = slots.intent
            land, land_source = slots.land, "question" if slots.land else None
            confident = bool(hits) and hits[0].confident
            article_id = self._tie_break(question, hits) if confident else None
            if (
                programme is None
                and intent is not None
                and article_id is not None
                and slots.topic_words
                and hits[0].score >= PROGRAMME_FROM_ARTICLE
            ):
                # the article's programme, when the question says more than its kind ("Wann ist die
                # nächste Frist?" is about every programme)
                programme = self._article_programme.get(article_id)
            own = self._article_programme.get(article_id) if article_id else None
            if (
                programme is not None
                and own != programme
                and not slots.several
                and (
                    intent is not None
                    or article_id is None
                    or slots.topic_words == 0
                    or article_id == OVERVIEW_ARTICLE
                )
            ):
                # a specific question about a programme (its deadline, rates …) is answered from the programme;
                # otherwise the article ranking decides (a KJP question about Städtepartnerschaften)
                article_id = self._programme_article(programme) or article_id
        if land is None and profile_land in self._laender and (intent in LAND_INTENTS):
            land, land_source = profile_land, "profile"
        base = Answer(question, hits, None, False, article_id, land, land_source, programme, intent, followup)
        structured = self._structured(base, slots, now, tz)
        if structured is not None:
            return structured
        if article_id is None and not followup:
            rescued = self._rescue(question, hits)
            if rescued is not None:
                return replace(base, passage=rescued, exact=True, article_id=rescued.article_id)
        if article_id is None:
            if (
                land is not None
                and slots.land
                and (slots.topic_words == 0 or not hits or not hits[0].confident)
            ):
                return self._land_answer(base, LAND_FUNDING if intent is None else intent)
            return base  # nothing confident: the handler's honest miss
        if base.programme is None:  # the topic's programme, for follow-ups ("wie lange vorher?")
            base = replace(base, programme=self._article_programme.get(article_id))
        return self._passage_answer(base, slots)

    def _tie_break(self, question: str, hits: Sequence[Hit]) -> str:
        """The first article, unless another one scores nearly as well and has a section that matches the
        question much better than anything in the first (the answer is a section, so the section decides)."""
        first = hits[0]
        rivals = [h for h in hits[1:3] if h.confident and h.score >= TIE * first.score]
        if not rivals:
            return first.article_id
        scores = self.passages.scores(question)

        def best(article_id: str) -> float:
            return max((scores.get(p.id, 0.0) for p in self.passages.of_article(article_id)), default=0.0)

        own = best(first.article_id)
        rival = max(rivals, key=lambda h: best(h.article_id))
        if best(rival.article_id) >= TIE_SECTION_MIN and best(rival.article_id) >= TIE_SECTION_RATIO * own:
            return rival.article_id
        return first.article_id

    def _rescue(self, question: str, hits: Sequence[Hit]) -> Passage | None:
        """When no article is a confident match, a single section that matches the question very well (its
        heading and text say what was asked) still answers it, if its article is among the first three."""
        candidates = {h.article_id for h in hits[:3]}
        scores = self.passages.scores(question)
        best = max(scores.items(), key=lambda kv: kv[1], default=None)
        if best is None or best[1] < RESCUE_SCORE:
            return None
        passage = self.passages.get(best[0])
        if passage is None or passage.kind != "section" or passage.article_id not in candidates:
            return None
        return passage

    def _programme_article(self, programme: str) -> str | None:
        fps = self._fp_by_key.get(programme, [])
        if fps:
            return str(fps[0].article)
        return None

    # -- structured answers ----------------------------------------------------------------------------------

    def _structured(self, base: Answer, slots: Slots, now: datetime, tz: ZoneInfo) -> Answer | None:
        intent, programme, land = base.intent, base.programme, base.land
        if intent in (LAND_FUNDING, SERVICE) and land is not None:
            return self._land_answer(base, intent)
        if intent is None or programme is None:
            if intent == BODY and land is not None:
                return self._land_answer(base, BODY)
            if intent == DEADLINE:
                return self._upcoming_answer(base, slots, now, tz)
            return None
        if intent == DEADLINE:
            return self._deadline_answer(base, now, tz)
        if intent == LEAD:
            return self._lead_answer(base, now, tz)
        if intent == RATE:
            return self._rate_answer(base)
        if intent == LIMIT:
            return self._limit_answer(base, slots)
        if intent == BODY:
            return self._body_answer(base)
        return None

    def _section_for(self, article_id: str | None, intent: str, question: str = "") -> str | None:
        """The heading of the article section on the same topic as a structured answer (for "whole article"
        and the eval): one whose heading covers the intent, else the one the question points to."""
        if article_id is None:
            return None
        passage = self.passages.section(article_id, _HEADING_CUES.get(intent, ()))
        if passage is None and question:
            passage = self.choose_section(question, article_id, None)
        return passage.section if passage else None

    def _section_stating(self, article_id: str | None, phrases: Sequence[str]) -> str | None:
        """The first article section that states one of the phrases ("12 bis 26"): where the article says the
        same as the structured answer."""
        if article_id is None or not phrases:
            return None
        for passage in self.passages.of_article(article_id):
            text = html_to_plain(passage.html)
            if passage.section and any(phrase in text for phrase in phrases):
                return passage.section
        return None

    def _programme_name(self, programme: str) -> str:
        known = self.content.calendar.programmes.get(programme)
        return known.name if known else programme

    def _deadline_answer(self, base: Answer, now: datetime, tz: ZoneInfo) -> Answer | None:
        from bot import deadlines as deadline_rules  # lazily: it pulls in the events and outbox layers

        texts, programme = self._texts, base.programme
        assert programme is not None
        views = deadline_rules.views_for(self.content.calendar, base.land, tz, now, {programme})
        if not views:
            return None
        items = [deadline_rules.render_deadline(texts, v, now, tz) for v in views[:3]]
        if len(views) > 3:
            items.append(texts("advice.answer.more_deadlines", n=len(views) - 3))
        notes = self._laenderstelle_lines(base.land, programme)
        title = texts("advice.answer.deadline_title", programme=self._programme_name(programme))
        passage = Passage(
            f"deadline:{programme}:{base.land or '-'}",
            "deadline",
            base.article_id,
            self._section_for(base.article_id, DEADLINE, base.question),
            "\n\n".join(items),
            title,
            land=base.land if notes or any(v.intermediary is not None for v in views) else None,
            programme=programme,
        )
        return replace(base, passage=passage, exact=True, notes=notes)

    def _upcoming_answer(self, base: Answer, slots: Slots, now: datetime, tz: ZoneInfo) -> Answer | None:
        """A deadline question without a programme: the Land's own programme deadlines when it names a Land,
        else – when the question names nothing but the deadline – the next deadlines as /fristen lists them."""
        from bot import deadlines as deadline_rules  # lazily: it pulls in the events and outbox layers

        texts, calendar = self._texts, self.content.calendar
        if slots.land is not None:
            views = [
                v
                for v in deadline_rules.views_for(calendar, slots.land, tz, now)
                if slots.land in v.rule.laender
            ]
            land_name = self._laender[slots.land].name
            title = texts("advice.answer.land_deadlines_title", land=land_name)
            article_id = LAND_FUNDING_ARTICLE if LAND_FUNDING_ARTICLE in self.content.articles else None
            section = self._land_section(article_id, land_name, DEADLINE)
        elif slots.topic_words == 0:
            views = deadline_rules.views_for(calendar, base.land, tz, now)
            title = texts("advice.answer.upcoming_title")
            article_id = OVERVIEW_ARTICLE if OVERVIEW_ARTICLE in self.content.articles else None
            section = self._section_for(article_id, DEADLINE)
        else:
            return None
        if not views:
            return None
        items = [deadline_rules.render_deadline(texts, v, now, tz) for v in views[:3]]
        if len(views) > 3:
            items.append(texts("advice.answer.more_deadlines", n=len(views) - 3))
        passage = Passage(
            f"deadlines:{base.land or '-'}",
            "deadline",
            article_id,
            section,
            "\n\n".join(items),
            title,
            land=base.land,
        )
        return replace(base, passage=passage, exact=True, article_id=article_id)

    def _lead_answer(self, base: Answer, now: datetime, tz: ZoneInfo) -> Answer | None:
        texts, programme = self._texts, base.programme
        assert programme is not None
        fps = self._fp_by_key.get(programme, [])
        leads = list(dict.fromkeys(str(fp.lead_time) for fp in fps))
        if not leads:
            return self._deadline_answer(base, now, tz)
        lines = [texts("advice.answer.bullet", text=lead) for lead in leads]
        extra = [
            texts("advice.answer.bullet", text=str(fp.deadline.by_land[base.land]))
            for fp in fps
            if base.land is not None and base.land in fp.deadline.by_land
        ]
        notes = self._laenderstelle_lines(base.land, programme)
        title = texts("advice.answer.lead_title", programme=self._programme_name(programme))
        passage = Passage(
            f"lead:{programme}:{base.land or '-'}",
            "lead",
            base.article_id,
            self._section_for(base.article_id, LEAD, base.question),
            "\n".join([*lines, *extra]),
            title,
            _fp_sources(fps),
            _fp_stand(fps),
            land=base.land if notes or extra else None,
            programme=programme,
        )
        return replace(base, passage=passage, exact=True, notes=notes)

    def _rate_answer(self, base: Answer) -> Answer | None:
        texts, programme = self._texts, base.programme
        assert programme is not None
        fps = self._fp_by_key.get(programme, [])
        lines: list[str] = []
        sources: list[SourceRef] = []
        checked: list[date] = []
        seen: set[tuple[str, str]] = set()
        for fp in fps:
            for rate in fp.rates:
                if (rate.what, rate.amount) in seen:
                    continue
                seen.add((rate.what, rate.amount))
                lines.append(texts("advice.answer.rate", what=rate.what, amount=rate.amount))
                ref = SourceRef(rate.source.title, rate.source.url)
                if ref not in sources:
                    sources.append(ref)
                checked.append(rate.checked)
        if not lines:
            return None  # the article's sections may still say it (see _passage_answer)
        title = texts("advice.answer.rate_title", programme=self._programme_name(programme))
        passage = Passage(
            f"rates:{programme}",
            "rates",
            base.article_id,
            self._section_for(base.article_id, RATE, base.question),
            "\n".join(lines),
            title,
            tuple(sources[:3]) or _fp_sources(fps),
            min(checked) if checked else _fp_stand(fps),
            programme=programme,
        )
        return replace(base, passage=passage, exact=True)

    def _limit_answer(self, base: Answer, slots: Slots) -> Answer | None:
        texts, programme = self._texts, base.programme
        assert programme is not None
        fps = self._fp_by_key.get(programme, [])
        if slots.size and not slots.age and not slots.days:
            return None  # group sizes: the article's section says it
        if not slots.age and not slots.days:  # a follow-up ("und für Polen?") asks for both
            slots = replace(slots, age=True, days=True)
        lines: list[str] = []
        for fp in fps:
            parts = []
            if slots.age and fp.ages is not None:
                parts.append(texts("advice.answer.ages", min=fp.ages.min, max=fp.ages.max))
            if slots.days and fp.days is not None:
                parts.append(texts("advice.answer.days", min=fp.days.min, max=fp.days.max))
            if not parts:
                continue
            wanted = (_AGE_WORDS if slots.age else frozenset()) | (_DAY_WORDS if slots.days else frozenset())
            details = [c for c in fp.conditions if {stem(w) for w in words(c)} & wanted]
            line = texts("advice.answer.limit_line", programme=fp.name, limits=Html(" · ".join(parts)))
            lines.append("\n".join([line, *(texts("advice.answer.bullet", text=c) for c in details)]))
        if not lines:
            return None
        lines = list(dict.fromkeys(lines))
        title = texts("advice.answer.limit_title", programme=self._programme_name(programme))
        passage = Passage(
            f"limits:{programme}",
            "limits",
            base.article_id,
            self._section_stating(base.article_id, _limit_phrases(fps, slots))
            or self._section_for(base.article_id, LIMIT, base.question),
            "\n\n".join(lines),
            title,
            _fp_sources(fps),
            _fp_stand(fps),
            programme=programme,
        )
        return replace(base, passage=passage, exact=True)

    def _body_answer(self, base: Answer) -> Answer | None:
        texts, programme, land = self._texts, base.programme, base.land
        assert programme is not None
        fps = self._fp_by_key.get(programme, [])
        routes = {fp.route for fp in fps}
        name = self._programme_name(programme)
        lines: list[str] = []
        sources: list[SourceRef] = []
        checked: list[date] = []
        passage_land = None
        if land is not None and routes != {"direkt"}:
            entries = self._laenderstellen(land, programme)
            land_name = self._laender[land].name
            for entry in entries:
                lines.append(_entry_html(texts, entry))
                sources.append(_proof(entry.who, entry.url, entry.source))
                if entry.checked is not None:
                    checked.append(entry.checked)
            if not lines:
                for who, rule_source, rule_checked in self._variant_intermediaries(land, programme):
                    lines.append(
                        texts(
                            "advice.answer.laenderstelle", who=who, what=texts("advice.answer.variant_what")
                        )
                    )
                    sources.append(SourceRef(rule_source.title, rule_source.url))
                    if rule_checked is not None:
                        checked.append(rule_checked)
            if not lines:
                note = self._laender[land].note
                lines.append(texts("advice.answer.no_laenderstelle", land=land_name, programme=name))
                if note:
                    lines.append(texts("advice.answer.land_note", note=note))
            passage_land = land
            title = texts("advice.answer.body_title_land", programme=name, land=land_name)
        else:
            for route in dict.fromkeys(fp.route for fp in fps):
                notes = " ".join(dict.fromkeys(fp.route_note for fp in fps if fp.route == route))
                lines.append(texts(f"advice.answer.route.{route}", programme=name, note=notes))
            if land is None and routes != {"direkt"}:
                lines.append(texts("advice.answer.name_your_land"))
            title = texts("advice.answer.body_title", programme=name)
        if not lines:
            return None
        passage = Passage(
            f"body:{programme}:{passage_land or '-'}",
            "laenderstelle",
            base.article_id,
            self._section_for(base.article_id, BODY, base.question),
            "\n".join(lines),
            title,
            tuple(sources[:3]) or _fp_sources(fps),
            min(checked) if checked else (self._land_stand(passage_land) if passage_land else _fp_stand(fps)),
            land=passage_land,
            programme=programme,
        )
        return replace(base, passage=passage, exact=True)

    def _land_answer(self, base: Answer, intent: str) -> Answer:
        texts, land = self._texts, base.land
        assert land is not None
        info = self._laender[land]
        lines: list[str] = []
        # what each kind of question gets: Land funding its programmes, service its service points (or, if
        # there are none, who takes applications), responsibility its Länderstellen
        show_funding = intent not in (SERVICE, BODY)
        show_points = intent == SERVICE
        show_stellen = intent == BODY or (intent == SERVICE and not info.points)
        if show_funding:
            if info.programmes:
                lines.append(texts("advice.answer.land_programmes", land=info.name))
                lines += [_link_html(texts, item) for item in info.programmes]
            else:
                lines.append(
                    texts("advice.answer.land_no_programme", note=info.no_programme)
                    if info.no_programme
                    else texts("advice.answer.land_none_known", land=info.name)
                )
        if show_points and info.points:
            lines.append(texts("advice.answer.land_points", land=info.name))
            lines += [_link_html(texts, item) for item in info.points]
        if show_stellen and info.laenderstelle:
            lines.append(texts("advice.answer.land_laenderstellen", land=info.name))
            lines += [
                _entry_html(texts, e, with_programmes=self._programme_shorts(e)) for e in info.laenderstelle
            ]
        if info.note and (not lines or intent in (BODY, SERVICE)):
            lines.append(texts("advice.answer.land_note", note=info.note))
        if not lines:
            lines.append(texts("advice.answer.land_none_known", land=info.name))
        article = LAND_FUNDING_ARTICLE if intent == LAND_FUNDING else LAND_ARTICLE
        article_id = article if article in self.content.articles else base.article_id
        title = texts(
            f"advice.answer.land_title.{intent if intent in (LAND_FUNDING, SERVICE, BODY) else LAND_FUNDING}",
            land=info.name,
        )
        shown = [*info.laenderstelle] if show_stellen else []
        shown_links = [*(info.programmes if show_funding else []), *(info.points if show_points else [])]
        sources = [_proof(e.who, e.url, e.source) for e in shown] + [
            _proof(item.name, item.url, item.source) for item in shown_links
        ]
        passage = Passage(
            f"land:{land}:{intent}",
            "land",
            article_id,
            self._land_section(article_id, info.name, intent),
            "\n".join(lines),
            title,
            tuple(dict.fromkeys(sources))[:3],
            self._land_stand(land),
            land=land,
            programme=base.programme,
        )
        return replace(base, passage=passage, exact=True, article_id=article_id, intent=intent)

    def _land_section(self, article_id: str | None, land_name: str, intent: str) -> str | None:
        """The article's section about this Land (servicestellen-laender has one per Land), else by intent."""
        if article_id is None:
            return None
        passage = self._land_passage(article_id, land_name)
        return passage.section if passage is not None else self._section_for(article_id, intent)

    def _land_passage(self, article_id: str, land_name: str) -> Passage | None:
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

    def _programme_shorts(self, entry: Laenderstelle) -> str:
        known = self.content.calendar.programmes
        return ", ".join(known[p].short if p in known else p for p in entry.programmes)

    def _land_stand(self, land: str) -> date | None:
        """The oldest check of the Land's entries (servicepoints.yaml), or the file's old top-level Stand."""
        info = self._laender[land]
        checks = [e.checked for e in info.laenderstelle] + [
            e.checked for e in [*info.points, *info.programmes]
        ]
        return oldest(checks) or self.content.servicepoints.stand

    def _laenderstellen(self, land: str, programme: str) -> list[Laenderstelle]:
        info = self._laender.get(land)
        if info is None:
            return []
        return [e for e in info.laenderstelle if programme in e.programmes]

    def _variant_intermediaries(self, land: str, programme: str) -> list[tuple[str, Source, date | None]]:
        """Who takes applications in this Land according to deadlines.yaml's Land variants (when
        servicepoints.yaml names no Länderstelle), with the rule's source and check day."""
        found: dict[str, tuple[str, Source, date | None]] = {}
        for rule in self.content.calendar.deadlines:
            if rule.programme != programme:
                continue
            for variant in rule.variants:
                if land in variant.laender and variant.intermediary.who not in found:
                    found[variant.intermediary.who] = (variant.intermediary.who, rule.source, rule.stand)
        return list(found.values())

    def _laenderstelle_lines(self, land: str | None, programme: str) -> list[str]:
        if land is None:
            return []
        return [
            self._texts("advice.answer.laenderstelle_note", land=self._laender[land].name, who=e.who)
            for e in self._laenderstellen(land, programme)
        ]

    # -- article passages ------------------------------------------------------------------------------------

    def _passage_answer(self, base: Answer, slots: Slots) -> Answer:
        article_id = base.article_id
        assert article_id is not None
        strong = base.programme is not None and self._article_programme.get(article_id) == base.programme
        chosen = self.choose_section(base.question, article_id, base.intent, strong=strong)
        if base.land is not None and base.land_source == "question":
            # an article with a section per Land (Länder programmes, service points): the Land asked about
            chosen = self._land_passage(article_id, self._laender[base.land].name) or chosen
        overview = self.passages.overview(article_id)
        if chosen is None:
            chosen = overview
        # a specific question (a rate, a deadline …) that only the overview answers is not answered exactly,
        # nor is a question about money by a section that names no amount
        exact = chosen is not None and (chosen.kind == "section" or base.intent is None)
        if (
            exact
            and chosen is not None
            and base.intent == RATE
            and not _AMOUNT.search(html_to_plain(chosen.html))
        ):
            exact = False
        notes = (
            self._laenderstelle_lines(base.land, base.programme)
            if base.programme and base.land and base.land_source != "profile"
            else []
        )
        return replace(base, passage=chosen, exact=exact, notes=notes)

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
            and t not in _FOLLOW_WORDS
        ]
        if intent is not None and strong:
            # a specific question about a programme: the section whose heading covers it ("Fristen",
            # "Fördersätze") in the programme's article, if it has one
            cued = self.passages.section(article_id, _HEADING_CUES_STRONG.get(intent, ()))
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
            return self.passages.section(article_id, _HEADING_CUES.get(intent, ()))
        return None


# --- helpers ---------------------------------------------------------------------------------------------------

# Answerers by (content, search index) identity; the objects are held, so an id is not reused while cached.
_SHARED: dict[tuple[int, int], Answerer] = {}
_SHARED_MAX = 4


def programme_key(fp_id: str, keys: Iterable[str]) -> str | None:
    """The deadlines.yaml programme a Förder-Finder entry belongs to (kjp-begegnung → kjp)."""
    known = set(keys)
    if fp_id in known:
        return fp_id
    head = fp_id.split("-")[0]
    return head if head in known else None


def _limit_phrases(fps: Sequence[FundingProgramme], slots: Slots) -> list[str]:
    spans = [fp.ages for fp in fps if slots.age] + [fp.days for fp in fps if slots.days]
    return [f"{span.min} bis {span.max}" for span in spans if span is not None]


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


def _phrase_at(tokens: Sequence[str], phrase: tuple[str, ...]) -> list[int]:
    n = len(phrase)
    for i in range(len(tokens) - n + 1):
        if tuple(tokens[i : i + n]) == phrase:
            return list(range(i, i + n))
    return []


def _fp_sources(fps: Sequence[FundingProgramme]) -> tuple[SourceRef, ...]:
    refs: list[SourceRef] = []
    for fp in fps:
        for source in fp.sources:
            ref = SourceRef(source.title, source.url)
            if ref not in refs:
                refs.append(ref)
    return tuple(refs[:3])


def _fp_stand(fps: Sequence[FundingProgramme]) -> date | None:
    return min((fp.checked_on for fp in fps), default=None)


def _proof(name: str, url: str, source: Source | None) -> SourceRef:
    """The page proving an entry: its deep-link source where it has one, else the link shown."""
    return SourceRef(source.title, source.url) if source is not None else SourceRef(name, url)


def _link_html(texts: Texts, item: Link) -> str:
    return texts("advice.answer.link", name=item.name, what=item.what, url=item.url)


def _entry_html(texts: Texts, entry: Laenderstelle, with_programmes: str = "") -> str:
    key = "advice.answer.laenderstelle_link" if entry.url else "advice.answer.laenderstelle"
    line = texts(key, who=entry.who, what=entry.what, url=entry.url)
    if with_programmes:
        line += texts("advice.answer.for_programmes", programmes=with_programmes)
    return line


def _terms(
    content: Content,
) -> tuple[dict[tuple[str, ...], str], dict[tuple[str, ...], str], dict[tuple[str, ...], str]]:
    """(Land terms, programme terms, country terms) as tuples of stems."""
    groups = content.synonyms.get("groups") if isinstance(content.synonyms, dict) else None
    group_list = [g for g in groups if isinstance(g, list)] if isinstance(groups, list) else []

    def key(term: str) -> tuple[str, ...]:
        return tuple(stem(w) for w in words(term))

    def expand(seed: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
        out = set(seed)
        for group in group_list:
            keys = {key(t) for t in group if isinstance(t, str)}
            if keys & seed:
                out |= keys
        return {k for k in out if k}

    land_terms: dict[tuple[str, ...], str] = {}
    place_terms: dict[tuple[str, ...], set[str]] = {}
    for land in content.servicepoints.laender:
        for term in expand({key(land.name)}):
            if len(term) == 1 and len(term[0]) <= 2:
                continue  # two-letter codes only as typed in capitals (see _find_land)
            land_terms[term] = land.code
        for place in land.places:
            place_key = key(str(place))
            variants = {place_key}
            if len(place_key) > 1 and place_key[0] in {stem(p) for p in _PLACE_PREFIXES}:
                variants.add(place_key[1:])
            for variant in variants:
                if variant:
                    place_terms.setdefault(variant, set()).add(land.code)
    for alias, code in _LAND_EXTRA.items():
        land_terms.setdefault((stem(alias),), code)
    for term, codes in place_terms.items():
        if len(codes) == 1 and term not in land_terms and not (len(term) == 1 and term[0] in STOP_WORDS):
            land_terms[term] = next(iter(codes))

    programme_terms: dict[tuple[str, ...], str] = {}
    for pid, programme in content.calendar.programmes.items():
        seeds = {key(programme.short), key(programme.name), key(pid)}
        for term in expand(seeds):
            programme_terms.setdefault(term, pid)
    country_terms: dict[tuple[str, ...], str] = {}
    guided = content.guided
    if guided is not None:
        keys = set(content.calendar.programmes)
        for country in guided.programmes.countries:
            if country.id in ("eu", "other"):
                continue
            fitting = sorted(
                (
                    fp
                    for fp in guided.programmes.programmes
                    if country.id in fp.countries and fp.caution is None
                ),
                key=lambda fp: fp.rank,
            )
            target = next((k for fp in fitting if (k := programme_key(fp.id, keys))), None)
            if target is None:
                continue
            for name in [country.label, *country.aliases]:
                term_key = tuple(stem(w) for w in words(name) if w.isalpha())
                if term_key:
                    country_terms.setdefault(term_key, target)
    # a country named in a programme's synonym group is a country, not the programme itself
    for term in list(programme_terms):
        if term in country_terms:
            del programme_terms[term]
    return land_terms, programme_terms, country_terms


# --- command line ----------------------------------------------------------------------------------------------


def ask_command(settings: Settings, question: str, *, as_json: bool, limit: int) -> int:
    """``python -m bot ask "FRAGE" [--json]``: the passage a user would read first, and the article ranking."""
    try:
        content = load_content(settings.content_dir)
    except ContentError as exc:
        for line in exc.problems:
            print(f"error: {line}", file=sys.stderr)
        return 1
    answerer = Answerer.build(content)
    result = answerer.answer(question, now=SystemClock().now(), tz=settings.tz)
    hits = result.hits[: max(limit, 0)]
    passage = result.passage
    if as_json:
        print(json.dumps(answer_json(result, hits), ensure_ascii=False, indent=2))
        return 0
    if passage is None:
        print("no passage: the bot says it has no sure answer and offers a consultation")
    else:
        where = f"{passage.article_id or '-'} / {passage.section or '(overview)'}"
        print(f"passage: {passage.kind} {where}{'' if result.exact else ' (inexact: nearby)'}")
        print(f"stand: {passage.stand or '-'}; sources: {', '.join(s.url for s in passage.sources) or '-'}")
        print(html_to_plain(passage.html))
        print()
    if not hits:
        print("no matching article")
        return 0
    print(_table(["#", "score", "confident", "id", "title"], _rows(hits)))
    return 0


def answer_json(result: Answer, hits: Sequence[Hit]) -> dict[str, Any]:
    """The answer as ``ask --json`` prints it: the chosen passage, the slots read, and the article ranking."""
    passage = result.passage
    return {
        "question": result.question,
        "passage": None
        if passage is None
        else {
            "id": passage.id,
            "kind": passage.kind,
            "article": passage.article_id,
            "section": passage.section,
            "title": passage.title,
            "text": html_to_plain(passage.html),
            "sources": [{"title": s.title, "url": s.url} for s in passage.sources],
            "stand": passage.stand.isoformat() if passage.stand else None,
            "land": passage.land,
            "programme": passage.programme,
        },
        "exact": result.exact,
        "land": result.land,
        "land_source": result.land_source,
        "programme": result.programme,
        "intent": result.intent,
        "ranking": [
            {"id": h.article_id, "title": h.title, "score": h.score, "confident": h.confident} for h in hits
        ],
    }


def _rows(hits: Iterable[Hit]) -> list[list[str]]:
    return [
        [str(rank), f"{h.score:.3f}", "yes" if h.confident else "no", h.article_id, h.title]
        for rank, h in enumerate(hits, start=1)
    ]


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
