"""Free-text search over the advisory articles: a BM25F index and the ranking of questions against it.

The steps live in four modules: folding, words, stemming, compound splitting and edit distance in
bot/german_text.py; the synonym groups in bot/synonyms.py; the postings (BM25F, IDF, keyword phrases) in
bot/search_postings.py; resolving a question's words and ranking here.

How a text becomes search terms (articles and questions alike):

1. **Folding** — case, accents and umlaut spellings fold away (``Förderung`` = ``Foerderung`` = ``Forderung``).
2. **Tokens** — runs of letters and digits ("E+" is read as Erasmus); HTML tags are removed and entities
   decoded; stop words and question phrasing ("gibt es", "wie kann ich", "eigentlich") are dropped.
3. **Stemming** — the Snowball German algorithm on the folded word (``Begegnungen`` → ``begegn``).
4. **Compounds** — a word is split into parts the articles know, fewest parts first, allowing the linking
   ``s``/``n``/``en``/``es``/``e``/``er`` (``Jugendbegegnung`` → ``jugend`` + ``begegnung``). Articles index
   the parts of their compounds at a reduced weight (the head more than the modifiers), so ``Begegnung`` finds
   ``Jugendbegegnung``; a question's compound also searches its parts together (``Fachkräfteaustausch``); a
   question word that only occurs inside the articles' compounds finds them (``Krankenversicherung`` →
   ``Auslandskrankenversicherung``), but never by a cut at or inside the verb prefix of a known word
   (``fahren`` is no part of ``Direktverfahren``); an unknown compound falls back to its known head
   (``Urlaubsantrag``).
5. **Typos** — a question word the articles do not know is matched to their words within one edit (from 6
   letters) or two edits (from 11 letters), a transposition counting as one (optimal string alignment),
   keeping the first letter, towards words of six letters or more; candidates come from a trigram index
   (``Fördermittl``, ``Eurodeks``, ``Tschechein``).
6. **Synonyms** — every group of content/synonyms.yaml is a concept. Wherever a group's term (a word or a
   phrase, matched on stems) occurs in an article, the article also carries the concept; a question's term
   searches its literal stem and the concept (``OFAJ`` finds the DFJW article, ``Bürgermeister`` finds
   "Verwaltungsspitze"). The literal is preferred slightly (``_CONCEPT_WEIGHT``), and both are weighed with an
   IDF between the literal's and the concept's (a synonym of a word every article uses is not rare). A term
   of several words that is only one word without its stop words ("Ist-Stand", "ins Ausland gehen") is not
   used: it would stand for every "Stand" or "Ausland" (check-content reports it).
7. **Separable verbs** — a verb joins its particle from later in the question when the articles know the joined
   word ("Wie bauen wir … auf?" finds ``Aufbau``, "Wie rechnen wir ab?" finds ``Abrechnung``).
8. **Keyword phrases** — an article keyword with stop words ("wer haftet", "was ist IJA", "noch nichts gemacht")
   that the question contains word for word adds a bonus: what the phrase's rarity in all articles adds to that
   of its rarest content word (which already counts as a unit). The longest phrase wins ("lohnt sich" inside
   "lohnt sich das" adds nothing more).
9. **Context** — words that say who and where the asker is (Landkreis, Gemeinde, Jugendpflege,
   Kreisjugendring, the Länder in every spelling of their synonym groups) count at ``_CONTEXT_WEIGHT`` once
   the question also names a topic: in "Wir sind ein Landkreis in Bayern und wollen mit Tschechien …" the
   answer is about Tschechien, not about Bayern.

Ranking is BM25F: field weights and length normalisation (keywords 4, title 3, summary 1.5, body 0.4; the
body is long and mentions much in passing), BM25 IDF, saturation ``k1`` = 3. A term no title, keyword list or
summary uses is incidental and its IDF is halved (in 33 articles, "hoch" is rare by chance, not because it is
specific). Each question word is a *unit* with alternatives (literal, concept, compound parts, typo
corrections); a unit scores its best alternative in an article. Articles many others relate to (the funding
overview) get up to ``_HUB_BOOST`` more, which only decides near-ties of generic questions.

The score is comparable across questions: the sum of the unit scores divided by the most the units could score,
so it lies in 0..1 and reads as "how much of the question this article answers". A weaker alternative earns
only part of its unit's credit, and a word the articles do not know at all still counts in the divisor (at
``UNKNOWN_UNIT_WEIGHT``), so a question about the weather, pizza or keyboard noise scores low however one stray
word matches.

**Confidence threshold** — ``CONFIDENCE_THRESHOLD = 0.30``, chosen from the data: the given eval questions
(tests/data/eval_questions.yaml) score at least 0.41 as top hit (median 0.75); the unseen set at least 0.12
(median 0.67; the five below 0.30 are long rambling or colloquial messages); "Wie wird das Wetter morgen?",
"asdf qwer" and "Pizza bestellen" give no hit at all, and 40 off-topic questions a municipal employee might
type ("Hundesteuer anmelden", "Elterngeld Antrag", "Müllabfuhr Termine", English small talk) score at most
0.28. The threshold sits between the off-topic maximum and the eval minimum, nearer the off-topic side so
that every real question of the given kind is answered directly; an unsure answer is still shown, with
"Meinten Sie …?" and the consultation offer.

Work per question is capped (the first ``MAX_QUERY_CHARS`` characters, ``MAX_QUERY_UNITS`` words of at most
``_MAX_WORD`` letters, at most ``MAX_FUZZY_LOOKUPS`` typo look-ups; lookups are cached with a bound), so a
10,000-character message costs no more than a long question. Pure Python, no dependency beyond the stdlib.
"""

from __future__ import annotations

import html
import math
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from bot.content import Content
from bot.german_text import (
    CACHE_SIZE,
    FILLER_WORDS,
    MIN_MODIFIER,
    MIN_TAIL,
    STOP_WORDS,
    fold,
    osa_distance,
    stem,
    trigrams,
    words,
)
from bot.packed import Packed
from bot.search_postings import Document, Postings, Vocabulary, build_postings, word_idf
from bot.synonyms import term_key

CONFIDENCE_THRESHOLD = 0.30
MAX_QUERY_CHARS = 600
MAX_QUERY_UNITS = 24
MAX_FUZZY_LOOKUPS = 6
UNKNOWN_UNIT_WEIGHT = 2.0

_K1 = 3.0
# Weights of a question word's alternatives relative to its literal stem.
_CONCEPT_WEIGHT = 0.9
_PARTS_WEIGHT = 0.6
_TYPO_WEIGHT = {1: 0.85, 2: 0.65}
_TYPO_MIN_LENGTH = (6, 11)  # one edit from 6 letters, two from 11
_HUB_BOOST = 0.12
_MAX_WORD = 40
_MAX_COMPOUNDS = 5
# Separable-verb particles ("fangen … an") and how far after the verb they are looked for.
_PARTICLES = frozenset(
    [
        "ab",
        "an",
        "auf",
        "aus",
        "bei",
        "ein",
        "fest",
        "her",
        "hin",
        "los",
        "mit",
        "nach",
        "vor",
        "weg",
        "zu",
        "zuruck",
    ]
)
_PARTICLE_REACH = 8
_PARTICLE_WEIGHT = 0.9
# Words with which people say who and where they are ("Wir sind ein kleiner Landkreis in Bayern, …"); the federal
# states (with every spelling of their synonym groups) are added from the content. They count at _CONTEXT_WEIGHT
# when the question also names a topic.
_ASKER_WORDS_RAW = """
landkreis kreis gemeinde stadt kommune kleinstadt grossstadt mittelstadt kreisstadt dorf samtgemeinde
verbandsgemeinde marktgemeinde ortsgemeinde einwohner einwohnerinnen stadtverwaltung kreisverwaltung
gemeindeverwaltung jugendpflege jugendpfleger jugendpflegerin kreisjugendpfleger kreisjugendpflegerin
stadtjugendpfleger stadtjugendpflegerin kreisjugendring stadtjugendring kreisjugendamt stadtjugendamt
burgermeisterburo
"""
_CONTEXT_WEIGHT = 0.4
_TAG = re.compile(r"<[^<>]{0,300}>")


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked answer: an article and how well it matches the question."""

    article_id: str
    title: str
    score: float  # 0..1, comparable across queries
    confident: bool  # score >= CONFIDENCE_THRESHOLD


@dataclass(frozen=True, slots=True)
class _Alternative:
    """One way a question word can match: all ``terms`` (their mean saturation), at ``weight`` × ``idf``."""

    terms: tuple[str, ...]
    weight: float
    idf: float


@dataclass(frozen=True, slots=True)
class _Resolved:
    stems: tuple[tuple[str, float], ...]  # (stem, weight): the literal, or its typo corrections
    parts: tuple[str, ...]  # stems of the compound parts, () if not a compound


class SearchIndex:
    """An in-memory BM25F index over the articles; build once after the content loads, then ``search``."""

    def __init__(
        self,
        articles: Sequence[Document],
        postings: Postings,
        vocabulary: Vocabulary,
        fuzzy_words: list[str],
    ) -> None:
        self._articles = tuple(articles)
        # term -> its documents and pseudo term frequencies as doubles (number, tf, number, tf, …) in the
        # postings' order: a dict of int and float objects per term took 1.5 MB for both indexes at rest
        self._postings: Packed[float] = Packed(
            "d",
            {
                term: [x for posting in docs.items() for x in posting]
                for term, docs in postings.by_term.items()
            },
        )
        self._idf = postings.idf
        self._phrases = postings.phrases
        self._vocabulary = vocabulary
        self._fuzzy_words = fuzzy_words
        trigram_index: dict[str, list[int]] = defaultdict(list)
        for i, word in enumerate(fuzzy_words):
            for gram in trigrams(word):
                trigram_index[gram].append(i)
        # word numbers as 2- or 4-byte machine integers, not lists of int objects (0.2 MB less per index)
        self._trigram_index: Packed[int] = Packed("H" if len(fuzzy_words) <= 0xFFFF else "I", trigram_index)
        # The words and stems whose stem the index knows, in the order of their reversed spelling: the ones that
        # end in a given word are one run (_compounds_ending_in). A table of every possible ending took 1.3 MB
        # at rest for both indexes (16,000 endings, each its own string).
        forms = {form for word in fuzzy_words for form in (word, stem(word)) if stem(form) in self._postings}
        self._forms_by_ending = tuple(sorted(forms, key=_reversed))
        self._resolve_cache: dict[str, _Resolved] = {}
        # Hub articles (many others relate to them, e.g. the funding overview) win near-ties: a generic question
        # ("Fördermittel für Jugendaustausch") is best answered by the overview, not by whichever programme
        # happens to say "Jugendaustausch" in its name.
        known = {a.id for a in self._articles}
        in_degree = Counter(ref for a in self._articles for ref in set(a.related) if ref in known)
        top = math.log1p(max(in_degree.values(), default=0)) or 1.0
        self._boost = tuple(1 + _HUB_BOOST * math.log1p(in_degree[a.id]) / top for a in self._articles)

    # -- building --

    @classmethod
    def build(cls, content: Content) -> SearchIndex:
        """Index every article of the content, with the synonym groups of content/synonyms.yaml."""
        articles = sorted(content.articles.values(), key=lambda a: a.id)
        return cls.from_documents(articles, content.synonyms, context_stems(content))

    @classmethod
    def from_documents(
        cls, articles: Sequence[Document], synonyms: object, context: frozenset[str] = frozenset()
    ) -> SearchIndex:
        """Index any documents (articles, or the passages of bot/passages.py) with the given synonym groups."""
        postings, vocabulary, surface = build_postings(articles, synonyms, context)
        fuzzy_words = sorted(w for w in surface if len(w) >= _TYPO_MIN_LENGTH[0] and w.isalpha())
        return cls(articles, postings, vocabulary, fuzzy_words)

    # -- searching --

    def search(self, query: str, limit: int = 5) -> list[Hit]:
        """The best-matching articles, best first; [] for an empty question or one with nothing to match."""
        if limit <= 0:
            return []
        hits = []
        for score, doc in self._rank(query)[:limit]:
            article = self._articles[doc]
            value = round(min(score, 1.0), 4)
            hits.append(Hit(article.id, article.title, value, value >= CONFIDENCE_THRESHOLD))
        return hits

    def scores(self, query: str) -> dict[str, float]:
        """Document id -> score (0..1) of every document that matches the question at all."""
        return {self._articles[doc].id: min(score, 1.0) for score, doc in self._rank(query)}

    def _rank(self, query: str) -> list[tuple[float, int]]:
        text = html.unescape(_TAG.sub(" ", query[:MAX_QUERY_CHARS]))
        tokens = words(text)[: 3 * MAX_QUERY_UNITS]
        if not any(t.isalpha() for t in tokens):
            return []  # numbers alone ("1", "2026") name no topic
        scores = [0.0] * len(self._articles)
        possible = 0.0
        units = self._units(tokens)
        # who and where the asker is counts less once the question names a topic
        topical = any(alternatives and not context for alternatives, context in units)
        for alternatives, context in units:
            factor = _CONTEXT_WEIGHT if context and topical else 1.0
            if not alternatives:
                possible += UNKNOWN_UNIT_WEIGHT * factor
                continue
            best: dict[int, float] = {}
            for alt in alternatives:
                possible_here = alt.weight * alt.idf
                for doc, value in self._saturation(alt.terms).items():
                    if value * possible_here > best.get(doc, 0.0):
                        best[doc] = value * possible_here
            # a weaker alternative (synonym, compound part, typo) earns only part of the unit's credit
            possible += max(alt.idf for alt in alternatives) * factor
            for doc, value in best.items():
                scores[doc] += value * factor
        for docs, value in self._phrase_matches(tokens):
            possible += value
            for doc in docs:
                scores[doc] += value
        if possible <= 0:
            return []
        return sorted(
            ((score / possible * self._boost[doc], doc) for doc, score in enumerate(scores) if score > 0),
            key=lambda pair: (-pair[0], self._articles[pair[1]].id),
        )

    def _saturation(self, terms: tuple[str, ...]) -> dict[int, float]:
        """Article number -> the mean BM25 saturation tf/(k1+tf) of the terms in it (0..1)."""
        per_doc: dict[int, float] = defaultdict(float)
        for term in terms:
            packed = self._postings.get(term)
            for i in range(0, len(packed), 2):
                tf = packed[i + 1]
                per_doc[int(packed[i])] += tf / (_K1 + tf) / len(terms)
        return per_doc

    def _phrase_matches(self, tokens: list[str]) -> list[tuple[frozenset[int], float]]:
        """Keyword phrases (stop words kept) that occur word for word in the question, with their weight."""
        stems = [stem(t) for t in tokens if t not in FILLER_WORDS]
        found: dict[tuple[str, ...], tuple[frozenset[int], float]] = {}
        covered = 0  # the longest match wins: "lohnt sich" inside "lohnt sich das" adds nothing more
        for i, first in enumerate(stems):
            matches = [m for m in self._phrases.get(first, ()) if tuple(stems[i : i + len(m[0])]) == m[0]]
            if not matches:
                continue
            phrase, docs, value = max(matches, key=lambda m: len(m[0]))
            if i + len(phrase) > covered:
                found[phrase] = (docs, value)
                covered = i + len(phrase)
        return list(found.values())

    def _units(self, tokens: list[str]) -> list[tuple[tuple[_Alternative, ...], bool]]:
        """The question as units, each a tuple of alternatives (empty: a word the articles do not know): one
        unit per content word, or one per synonym phrase of several words; with whether the unit only says who
        or where the asker is (all its words are context words)."""
        positions = [i for i, t in enumerate(tokens) if t not in STOP_WORDS and stem(t) not in STOP_WORDS]
        positions = positions[:MAX_QUERY_UNITS]
        budget = [MAX_FUZZY_LOOKUPS]
        resolved = [self._with_particle(tokens, i, self._resolve(tokens[i], budget)) for i in positions]
        context = self._vocabulary.context
        is_context = [
            stem(tokens[at]) in context or bool(r.stems and all(s in context for s, _ in r.stems))
            for at, r in zip(positions, resolved, strict=True)
        ]
        units: list[tuple[tuple[_Alternative, ...], bool]] = []
        i = 0
        while i < len(resolved):
            for size in range(min(self._vocabulary.max_phrase, len(resolved) - i), 1, -1):
                window = resolved[i : i + size]
                if not all(r.stems for r in window):
                    continue
                concepts = self._vocabulary.concepts.get(tuple(r.stems[0][0] for r in window), ())
                weight = min(r.stems[0][1] for r in window)
                alts = tuple(
                    _Alternative((c,), weight, self._idf[c]) for c in concepts if c in self._postings
                )
                if alts:
                    units.append((alts, all(is_context[i : i + size])))
                    i += size
                    break
            else:
                units.append((self._word_alternatives(resolved[i]), is_context[i]))
                i += 1
        return units

    def _with_particle(self, tokens: list[str], at: int, word: _Resolved) -> _Resolved:
        """A separable verb joined again with its particle later in the sentence ("bauen … auf" -> Aufbau,
        "rechnen … ab" -> Abrechnung), if the articles know the joined word."""
        joined = []
        for particle in tokens[at + 1 : at + 1 + _PARTICLE_REACH]:
            if particle in _PARTICLES:
                for candidate in (stem(particle + tokens[at]), particle + stem(tokens[at])):
                    if candidate in self._postings and candidate not in joined:
                        joined.append(candidate)
        if not joined:
            return word
        return _Resolved((*word.stems, *((c, _PARTICLE_WEIGHT) for c in joined)), word.parts)

    def _word_alternatives(self, word: _Resolved) -> tuple[_Alternative, ...]:
        alts: list[_Alternative] = []
        for term, weight in word.stems:
            concepts = [c for c in self._vocabulary.concepts.get((term,), ()) if c in self._postings]
            literal = [term] if term in self._postings else []
            if not concepts and not literal:
                continue
            idf = word_idf(term, self._idf, self._vocabulary.concepts)
            alts.extend(_Alternative((t,), weight, idf) for t in literal)
            alts.extend(_Alternative((c,), weight * _CONCEPT_WEIGHT, idf) for c in concepts)
        if word.parts:
            idf = sum(self._idf[p] for p in word.parts) / len(word.parts)
            alts.append(_Alternative(word.parts, _PARTS_WEIGHT, idf))
        return tuple(alts)

    def _resolve(self, word: str, budget: list[int]) -> _Resolved:
        """A question word as stems the index knows: itself, its compound parts, or its typo corrections."""
        cached = self._resolve_cache.get(word)
        if cached is not None:
            return cached
        if len(word) > _MAX_WORD:  # no real word; splitting or correcting it would only cost time
            return _Resolved(((word, 1.0),) if word in self._postings else (), ())
        term = stem(word)
        split = tuple(self._vocabulary.part_stem(p) for p in self._vocabulary.split(word))
        parts = split if split and all(p in self._postings for p in split) else ()
        stems: tuple[tuple[str, float], ...] = ()
        if term in self._postings or term in self._vocabulary.concept_stems:
            stems = ((term, 1.0),)
        elif not parts:
            # the head of an article's compound (Versicherung in Auslandskrankenversicherung) …
            compounds = self._compounds_ending_in(word) or self._compounds_ending_in(term)
            stems = tuple((c, _PARTS_WEIGHT) for c in compounds[:_MAX_COMPOUNDS])
            if not stems:
                # … or a typo …
                if budget[0] <= 0:
                    return _Resolved((), ())  # not cached: a later question may have budget left
                budget[0] -= 1
                stems = tuple((stem(w), _TYPO_WEIGHT[d]) for w, d in self._corrections(word))
            tail = self._vocabulary.known_tail(word) if not stems else None
            if tail is not None and stem(tail) in self._postings:
                # … or a compound of the question ending in a known word (Urlaubsantrag -> antrag)
                parts = (stem(tail),)
        result = _Resolved(stems, parts)
        if len(self._resolve_cache) >= CACHE_SIZE:  # bounded: questions bring arbitrary words
            self._resolve_cache.clear()
        self._resolve_cache[word] = result
        return result

    def _compounds_ending_in(self, tail: str) -> tuple[str, ...]:
        """The stems of the documents' compounds with ``tail`` as their head ("versicherung" -> the stem of
        auslandskrankenversicherung …), those in the most documents first: words and stems ending in ``tail``
        after a first part of at least ``MIN_MODIFIER`` letters, unless the cut falls into a verb prefix."""
        if len(tail) < MIN_TAIL:
            return ()
        forms = self._forms_by_ending
        found: set[str] = set()
        for k in range(bisect_left(forms, tail[::-1], key=_reversed), len(forms)):
            form = forms[k]
            if not form.endswith(tail):
                break  # past the run of forms ending in tail
            cut = len(form) - len(tail)
            if cut >= MIN_MODIFIER and not self._vocabulary.cuts_verb_prefix(form, cut):
                found.add(stem(form))
        return tuple(sorted(found, key=lambda s: (-len(self._postings.get(s)), s)))

    def _corrections(self, word: str) -> list[tuple[str, int]]:
        """Vocabulary words within the allowed edits of an unknown word: the closest ones, at most three."""
        if len(word) < _TYPO_MIN_LENGTH[0] or not word.isalpha():
            return []
        limit = 1 if len(word) < _TYPO_MIN_LENGTH[1] else 2
        grams = trigrams(word)
        counts: Counter[int] = Counter()
        for gram in grams:
            counts.update(self._trigram_index.get(gram))
        # q-gram lemma: a word within k edits shares at least |grams| - 3k trigrams
        needed = max(1, len(grams) - 3 * limit)
        found: list[tuple[str, int]] = []
        for i, shared in counts.most_common():
            if shared < needed:
                break
            candidate = self._fuzzy_words[i]
            if (
                candidate[0] != word[0]
            ):  # people rarely mistype the first letter; this avoids bezahlt -> gezahlt
                continue
            distance = osa_distance(word, candidate, limit)
            if distance <= limit:
                found.append((candidate, distance))
        if not found:
            return []
        closest = min(d for _, d in found)
        return sorted((w, d) for w, d in found if d == closest)[:3]

    @property
    def size(self) -> int:
        """The number of indexed articles."""
        return len(self._articles)


def _reversed(word: str) -> str:
    return word[::-1]


def context_stems(content: Content) -> frozenset[str]:
    """The stems of words that say who and where the asker is: _ASKER_WORDS and the federal states, each with all the
    terms of its synonym groups (NRW, BaWü, bayerisch …)."""
    stems = {stem(fold(word)) for word in _ASKER_WORDS_RAW.split()}
    laender = {term_key(land.name) for land in content.servicepoints.laender}
    groups = content.synonyms.get("groups") if isinstance(content.synonyms, dict) else None
    for group in groups if isinstance(groups, list) else []:
        keys = [term_key(t) for t in group if isinstance(t, str)] if isinstance(group, list) else []
        if laender & set(keys):
            laender.update(keys)
    stems.update(s for key in laender for s in key)
    return frozenset(stems)
