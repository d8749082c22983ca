"""How documents become the search index's postings: BM25F term frequencies per field (keywords 4, title 3,
summary 1.5, body 0.4), compound parts and synonym concepts counted in, IDF, and keyword phrases with stop words.
bot/search.py ranks questions against them.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.german_text import FILLER_WORDS, STOP_WORDS, Compounds, stem, words
from bot.synonyms import synonym_concepts, term_key

# (field name, weight, length-normalisation b)
_FIELDS: tuple[tuple[str, float, float], ...] = (
    ("title", 3.0, 0.3),
    ("keywords", 4.0, 0.3),
    ("summary", 1.5, 0.5),
    ("body", 0.4, 0.75),
)
# How strongly a document's compound counts for its parts (German compounds are head-final).
_HEAD_PART_TF = 0.5
_MODIFIER_PART_TF = 0.3
_PHRASE_WEIGHT = 0.7
_INCIDENTAL_IDF = 0.5
_BLEND = 0.6
_MD_LINK = re.compile(r"\]\(https?://[^)\s]*\)")


class Document(Protocol):
    """What the index reads of a document: an article, or a passage of one (bot/passages.py)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def keywords(self) -> Sequence[str]: ...
    @property
    def related(self) -> Sequence[str]: ...


class Vocabulary(Compounds):
    """The words of the documents: compound splitting (bot/german_text.py) and synonym phrases."""

    def __init__(
        self,
        surface: set[str],
        concepts: dict[tuple[str, ...], tuple[str, ...]],
        context: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(surface)
        self.context = context  # stems that describe the asker, not the topic
        self.concepts = concepts
        self.concept_stems = frozenset(s for key in concepts for s in key)
        self.max_phrase = max((len(k) for k in concepts), default=1)

    def concepts_in(self, stems: Sequence[str]) -> Iterator[str]:
        """The synonym concepts of a stem sequence, longest phrase first, each stem in at most one phrase."""
        i = 0
        while i < len(stems):
            for size in range(min(self.max_phrase, len(stems) - i), 0, -1):
                concepts = self.concepts.get(tuple(stems[i : i + size]))
                if concepts:
                    yield from concepts
                    i += size
                    break
            else:
                i += 1


@dataclass(frozen=True, slots=True)
class Postings:
    by_term: dict[str, dict[int, float]]  # term -> {article number: BM25F pseudo term frequency}
    idf: dict[str, float]
    # keyword phrases of two or more words (stop words kept): first stem -> [(phrase, article numbers)]
    phrases: dict[str, list[tuple[tuple[str, ...], frozenset[int], float]]]


def build_postings(
    articles: Sequence[Document], synonyms: object, context: frozenset[str] = frozenset()
) -> tuple[Postings, Vocabulary, set[str]]:
    """The postings of the documents with the given synonym groups, their vocabulary, and all their words."""
    field_runs = [_field_runs(article) for article in articles]
    surface = {t for runs in field_runs for field in runs.values() for run in field for t in run}
    vocabulary = Vocabulary(surface, synonym_concepts(synonyms), context)
    by_term, idf = _term_postings(field_runs, vocabulary)
    phrases = _keyword_phrases(articles, idf, vocabulary)
    return Postings(by_term, idf, phrases), vocabulary, surface


def _term_postings(
    field_runs: list[dict[str, list[list[str]]]], vocabulary: Vocabulary
) -> tuple[dict[str, dict[int, float]], dict[str, float]]:
    """Term -> {document number: BM25F pseudo term frequency}, and each term's IDF."""
    field_tf: list[dict[str, dict[str, float]]] = []
    field_len: list[dict[str, int]] = []
    for runs in field_runs:
        tfs: dict[str, dict[str, float]] = {}
        lengths: dict[str, int] = {}
        for name, _, _ in _FIELDS:
            counts: dict[str, float] = defaultdict(float)
            length = 0
            for run in runs[name]:
                stems = [stem(t) for t in run]
                length += len(stems)
                for term in stems:
                    counts[term] += 1.0
                for concept in vocabulary.concepts_in(stems):
                    counts[concept] += 1.0
                for token in run:
                    parts = vocabulary.split(token)
                    for i, part in enumerate(parts):
                        counts[vocabulary.part_stem(part)] += (
                            _HEAD_PART_TF if i == len(parts) - 1 else _MODIFIER_PART_TF
                        )
            tfs[name] = counts
            lengths[name] = max(length, 1)
        field_tf.append(tfs)
        field_len.append(lengths)

    n_docs = len(field_runs)
    avg_len = {name: sum(lengths[name] for lengths in field_len) / max(n_docs, 1) for name, _, _ in _FIELDS}
    by_term: dict[str, dict[int, float]] = defaultdict(dict)
    for doc, (tfs, lengths) in enumerate(zip(field_tf, field_len, strict=True)):
        for name, weight, b in _FIELDS:
            norm = (1 - b) + b * lengths[name] / avg_len[name]
            for term, tf in tfs[name].items():
                by_term[term][doc] = by_term[term].get(doc, 0.0) + weight * tf / norm
    # A word no title, keyword list or summary uses is incidental ("hoch", "einladen"): in 33 articles it
    # is rare by chance, not because it is specific, so its IDF counts less.
    topical = {term for tfs in field_tf for name in ("title", "keywords", "summary") for term in tfs[name]}
    idf = {
        term: _idf(n_docs, len(docs)) * (1.0 if term in topical else _INCIDENTAL_IDF)
        for term, docs in by_term.items()
    }
    return dict(by_term), idf


def _keyword_phrases(
    articles: Sequence[Document], idf: dict[str, float], vocabulary: Vocabulary
) -> dict[str, list[tuple[tuple[str, ...], frozenset[int], float]]]:
    """Keyword phrases with a stop word, by their first stem, with the documents listing them and their weight."""
    n_docs = len(articles)
    phrase_docs: dict[tuple[str, ...], set[int]] = defaultdict(set)
    phrase_words: dict[tuple[str, ...], set[str]] = defaultdict(set)  # the stems of its content words
    for doc, article in enumerate(articles):
        for keyword in article.keywords:
            phrase = _phrase_stems(keyword)
            # Only phrases with a stop word: they carry meaning the word units lose ("wer haftet").
            if len(phrase) >= 2 and any(t in STOP_WORDS for t in words(keyword)):
                phrase_docs[phrase].add(doc)
                phrase_words[phrase].update(term_key(keyword))
    # A phrase counts by how rare it is in the whole text: "wer haftet" is telling, "internationale
    # Jugendarbeit" is not, although each is a keyword of only one article.
    sizes = {len(phrase) for phrase in phrase_docs}
    ngrams = [_ngrams(_article_phrase_stems(article), sizes) for article in articles]
    phrases: dict[str, list[tuple[tuple[str, ...], frozenset[int], float]]] = defaultdict(list)
    for phrase, docs in phrase_docs.items():
        df = sum(phrase in grams for grams in ngrams)
        # the phrase adds what its words lose: its content words already count as units
        known = max((word_idf(t, idf, vocabulary.concepts) for t in phrase_words[phrase]), default=0.0)
        value = _PHRASE_WEIGHT * max(_idf(n_docs, max(df, 1)) - known, 0.0)
        phrases[phrase[0]].append((phrase, frozenset(docs), value))
    return dict(phrases)


def word_idf(term: str, idf: dict[str, float], concepts: dict[tuple[str, ...], tuple[str, ...]]) -> float:
    """What a question word is worth: a synonym is the same term, so the literal is weighed with an IDF between
    its own and its concepts' (lower) one; 0 for a word the articles do not know."""
    values = [idf[t] for t in (term, *concepts.get((term,), ())) if t in idf]
    return _BLEND * min(values) + (1 - _BLEND) * max(values) if values else 0.0


def _idf(n_docs: int, df: int) -> float:
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))


def _phrase_stems(text: str) -> tuple[str, ...]:
    return tuple(stem(t) for t in words(text) if t not in FILLER_WORDS)


def _article_phrase_stems(article: Document) -> list[str]:
    texts = [article.title, *article.keywords, article.summary, _MD_LINK.sub("]", article.body)]
    return [s for text in texts for s in (*_phrase_stems(text), "")]  # "" keeps texts apart


def _ngrams(stems: list[str], sizes: Iterable[int]) -> set[tuple[str, ...]]:
    return {tuple(stems[i : i + n]) for n in sizes for i in range(len(stems) - n + 1)}


def _field_runs(article: Document) -> dict[str, list[list[str]]]:
    """Each field as runs of content tokens: one run per keyword or body line, so no phrase spans two."""
    body = _MD_LINK.sub("]", article.body)
    return {
        "title": [_content_words(article.title)],
        "keywords": [_content_words(k) for k in article.keywords],
        "summary": [_content_words(article.summary)],
        "body": [_content_words(line) for line in body.splitlines()],
    }


def _content_words(text: str) -> list[str]:
    return [t for t in words(text) if t not in STOP_WORDS]
