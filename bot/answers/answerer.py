"""The answerer: the passage that answers a question, for the asker's Land, from structured data where it holds
the fact, read in the context of the last answer for follow-ups (the steps are in the package's docstring)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.answers.land import LandAnswers
from bot.answers.model import LAND_FUNDING, LAND_INTENTS, OVERVIEW_ARTICLE, RATE, Answer, Slots
from bot.answers.reading import QuestionReader, programme_key
from bot.answers.sections import SectionChooser
from bot.answers.structured import ProgrammeAnswers
from bot.content import Content
from bot.content_models.guided import FundingProgramme
from bot.followup import Topic, is_followup
from bot.german_text import stem, words
from bot.passages import Passage, PassageIndex
from bot.search import MAX_QUERY_CHARS, Hit, SearchIndex
from bot.telegram_html import html_to_plain

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
# An amount of money in a passage ("24 €", "bis 1.234 Euro").
_AMOUNT = re.compile(r"\d\s*(?:€|Euro\b|EUR\b)", re.IGNORECASE)
# Answerers by (content, search index) identity; the objects are held, so an id is not reused while cached.
_SHARED: dict[tuple[int, int], Answerer] = {}
_SHARED_MAX = 4


class Answerer:
    """Built once from the content (with the article index); ``answer`` is pure and fast."""

    def __init__(self, content: Content, search: SearchIndex, passages: PassageIndex) -> None:
        self.content = content
        self.search = search
        self.passages = passages
        self._laender = {land.code: land for land in content.servicepoints.laender}
        self._reader = QuestionReader(content)
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
            for terms in (self._reader.programme_terms, self._reader.country_terms):
                names.setdefault(article_id, set()).update(
                    stem(w) for t, k in terms.items() if k == key for w in t
                )
        name_stems = {article_id: frozenset(stems) for article_id, stems in names.items()}
        self._sections = SectionChooser(passages, name_stems)
        self._land = LandAnswers(content, self._fp_by_key, self._sections)
        self._structured = ProgrammeAnswers(content, self._fp_by_key, self._sections, self._land)

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

    def slots(self, text: str) -> Slots:
        """What the question names (see ``QuestionReader``)."""
        return self._reader.slots(text)

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
        structured = self._structured.answer(base, slots, now, tz)
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
                return self._land.land_answer(base, LAND_FUNDING if intent is None else intent)
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

    # -- article passages ------------------------------------------------------------------------------------

    def _passage_answer(self, base: Answer, slots: Slots) -> Answer:
        article_id = base.article_id
        assert article_id is not None
        strong = base.programme is not None and self._article_programme.get(article_id) == base.programme
        chosen = self._sections.choose_section(base.question, article_id, base.intent, strong=strong)
        if base.land is not None and base.land_source == "question":
            # an article with a section per Land (the federal states' programmes, service points): the Land asked about
            chosen = self._sections.land_passage(article_id, self._laender[base.land].name) or chosen
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
            self._land.laenderstelle_lines(base.land, base.programme)
            if base.programme and base.land and base.land_source != "profile"
            else []
        )
        return replace(base, passage=chosen, exact=exact, notes=notes)
