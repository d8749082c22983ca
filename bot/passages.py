"""Passages: the parts of the content a question can be answered with, and the index that finds them.

An article is split at its ``## `` headings: the lead paragraph is the article's *overview*, every section is
one passage (one answerable topic, see content/README.md). Sections are never cut further, so an answer is never
broken off mid-list or mid-sentence. Answers built from structured data (deadlines, rates, limits, Länder
contacts) are passages too (bot/answers/ builds them per question); they carry the article section that
covers the same topic, so "whole article" opens the right page and the eval can check the section.

The section index is a second BM25F index (bot/search.py) over the passages: a section's heading is its title,
the article's title its summary (so the article's name counts less than the section's own words), its text the
body; the overview carries the article's title, keywords and summary. The article ranking stays with the
article index; this index only picks the passage inside the article it chose.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.content import Content
from bot.content_models.articles import Article
from bot.content_models.facts import Fact
from bot.german_text import STOP_WORDS, stem, words
from bot.search import SearchIndex, context_stems
from bot.telegram_html import html_to_plain, render_markdown_sections

_HEADING = re.compile(r"^## +(.+?)\s*$")
# How many questions' passage scores are remembered.
_RECENT = 8
# A fact counts as stated by a section when the section uses this share of its claim's words.
FACT_MATCH = 0.6
# … and only the facts it states (nearly) as well as its best one: a section about Bayern shares some words with
# a fact about Hessen.
FACT_SPREAD = 0.15


@dataclass(frozen=True, slots=True)
class SourceRef:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Passage:
    """One answer-sized piece of content."""

    id: str  # "foerderung-kjp#2" (a section), "foerderung-kjp#0" (the overview), "deadline:erasmus:HE" …
    kind: str  # overview | section | deadline | rates | limits | lead | laenderstelle | land
    article_id: str | None  # the article "whole article" opens
    section: str | None  # the heading of the article section it matches (None: the overview)
    html: str  # Telegram HTML, without the title line
    title: str  # the title line (plain text)
    sources: tuple[SourceRef, ...] = ()
    stand: date | None = None
    land: str | None = None
    programme: str | None = None


@dataclass(frozen=True, slots=True)
class _Doc:
    """A passage as the search index reads it (see bot.search.Document)."""

    id: str
    title: str
    keywords: tuple[str, ...]
    summary: str
    body: str
    related: tuple[str, ...] = field(default=())


def split_sections(body: str) -> list[tuple[str | None, str]]:
    """(heading, Markdown text) of the lead (heading None) and of every ``## `` section, in order."""
    parts: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in body.strip().splitlines():
        match = _HEADING.match(line)
        if match:
            parts.append((match.group(1).strip(), []))
        else:
            parts[-1][1].append(line)
    return [
        (heading, "\n".join(lines).strip()) for heading, lines in parts if heading or "\n".join(lines).strip()
    ]


def section_provenance(article: Article, text: str) -> tuple[tuple[SourceRef, ...], date | None]:
    """The sources and the Stand of what a section says: the facts (front matter ``facts:``) whose claim the
    section states, with their sources and the oldest of their check days; else the article's sources and
    its Stand."""
    stems = {stem(w) for w in words(text)}
    scored: list[tuple[float, int, Fact]] = []
    for number, fact in enumerate(article.facts):
        claim = {stem(w) for w in words(fact.claim) if len(w) > 2 and w not in STOP_WORDS}
        shared = len(claim & stems)
        if claim and shared >= min(3, len(claim)) and shared / len(claim) >= FACT_MATCH:
            scored.append((shared / len(claim), -number, fact))
    found: list[SourceRef] = []
    checked: list[date] = []
    best = max((ratio for ratio, _, _ in scored), default=0.0)
    for ratio, _, fact in sorted(scored, key=lambda item: (item[0], item[1]), reverse=True):
        if ratio < best - FACT_SPREAD:
            break
        if fact.checked is not None:
            checked.append(fact.checked)
        if fact.source is not None:
            ref = SourceRef(fact.source.title, fact.source.url)
            if ref not in found:
                found.append(ref)
    if found:
        return tuple(found[:3]), min(checked) if checked else article.checked_on
    return tuple(SourceRef(s.title, s.url) for s in article.sources[:3]), article.checked_on


class PassageIndex:
    """The passages of every article and an index to pick the one inside an article that answers a question."""

    def __init__(self, passages: Sequence[Passage], index: SearchIndex) -> None:
        self._passages = {p.id: p for p in passages}
        self._by_article: dict[str, list[Passage]] = {}
        for passage in passages:
            if passage.article_id is not None:
                self._by_article.setdefault(passage.article_id, []).append(passage)
        self._index = index
        self._recent: dict[str, dict[str, float]] = {}
        self._heading_words = {p.id: tuple(words(p.section)) if p.section else () for p in passages}
        # the stems each passage uses (heading and text), for words common to a whole article
        self._stems = {
            p.id: frozenset(stem(w) for w in words(f"{p.section or p.title}\n{html_to_plain(p.html)}"))
            for p in passages
        }

    def common_in(self, article_id: str, stems: Sequence[str]) -> set[str]:
        """The stems that more than half of the article's passages use: they say which article, not which
        section ("Begegnung" in a programme article)."""
        passages = self._by_article.get(article_id, [])
        if len(passages) < 3:
            return set()
        return {s for s in stems if sum(s in self._stems[p.id] for p in passages) * 2 > len(passages)}

    @classmethod
    def build(cls, content: Content) -> PassageIndex:
        passages: list[Passage] = []
        docs: list[_Doc] = []
        for article in sorted(content.articles.values(), key=lambda a: a.id):
            for number, (heading, text) in enumerate(split_sections(article.body)):
                rendered = render_markdown_sections(text)
                html = "\n\n".join(rendered)
                pid = f"{article.id}#{number}"
                sources, stand = section_provenance(article, text)
                if heading is None:
                    passages.append(
                        Passage(
                            pid,
                            "overview",
                            article.id,
                            None,
                            html,
                            article.title,
                            sources,
                            stand,
                        )
                    )
                    docs.append(_Doc(pid, article.title, (), "", text))
                else:
                    passages.append(
                        Passage(
                            pid,
                            "section",
                            article.id,
                            heading,
                            html,
                            f"{article.title} – {heading}",
                            sources,
                            stand,
                        )
                    )
                    docs.append(_Doc(pid, heading, _participles(heading), "", text))
        index = SearchIndex.from_documents(docs, content.synonyms, context_stems(content))
        return cls(passages, index)

    def get(self, passage_id: str) -> Passage | None:
        return self._passages.get(passage_id)

    def of_article(self, article_id: str) -> list[Passage]:
        return list(self._by_article.get(article_id, ()))

    def overview(self, article_id: str) -> Passage | None:
        passages = self._by_article.get(article_id, [])
        return next((p for p in passages if p.kind == "overview"), passages[0] if passages else None)

    def section(self, article_id: str, heading_words: Sequence[str]) -> Passage | None:
        """The section of the article whose heading has the first of the (folded, stemmed) words any heading
        has."""
        for cue in heading_words:  # the cues in order: the first one any heading has wins
            for passage in self._by_article.get(article_id, []):
                if passage.section and any(_matches(w, {cue}) for w in self._heading_words[passage.id]):
                    return passage
        return None

    def scores(self, question: str) -> dict[str, float]:
        """Passage id -> score (0..1) over all passages (the last few questions are remembered: one answer asks
        for the same scores more than once)."""
        cached = self._recent.get(question)
        if cached is None:
            cached = self._index.scores(question)
            if len(self._recent) >= _RECENT:
                self._recent.pop(next(iter(self._recent)))
            self._recent[question] = cached
        return cached

    def rank(self, question: str, article_id: str) -> list[tuple[Passage, float]]:
        """The passages of one article, best first, with their score for the question (0..1)."""
        scores = self.scores(question)
        ranked = [(p, scores.get(p.id, 0.0)) for p in self._by_article.get(article_id, [])]
        return sorted(ranked, key=lambda pair: -pair[1])

    @property
    def size(self) -> int:
        return len(self._passages)


def _participles(heading: str) -> tuple[str, ...]:
    """A heading's participles without their "ge-" (a heading's past participle also matches the present tense of the verb)."""
    return tuple(w[2:] for w in words(heading) if w.startswith("ge") and len(w) >= 7)


def _matches(word: str, wanted: set[str]) -> bool:
    """A folded word matches a stem, or starts with it (a plural or compound still finds its stem)."""
    stemmed = stem(word)
    return any(stemmed.startswith(w) or word.startswith(w) for w in wanted)
