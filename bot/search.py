"""Free-text search over the advisory articles: German normalisation, a BM25F index, ranking.

How a text becomes search terms (articles and questions alike):

1. **Folding** — Unicode NFKD, case folding, accents dropped; ``ß`` becomes ``ss``; the umlauts, their
   spellings ``ae``/``oe``/``ue`` and the bare vowel typed without dots all fold to the plain vowel
   (``Förderung`` = ``Foerderung`` = ``Forderung``).
2. **Tokens** — runs of letters and digits ("E+" is read as Erasmus); HTML tags are removed and entities decoded; German (and a few
   English) stop words and question phrasing ("gibt es", "wie kann ich", "eigentlich") are dropped.
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
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from bot.content import Content

CONFIDENCE_THRESHOLD = 0.30
MAX_QUERY_CHARS = 600
MAX_QUERY_UNITS = 24
MAX_FUZZY_LOOKUPS = 6
UNKNOWN_UNIT_WEIGHT = 2.0

# (field name, weight, length-normalisation b)
_FIELDS: tuple[tuple[str, float, float], ...] = (
    ("title", 3.0, 0.3),
    ("keywords", 4.0, 0.3),
    ("summary", 1.5, 0.5),
    ("body", 0.4, 0.75),
)
_K1 = 3.0
# How strongly a document's compound counts for its parts (German compounds are head-final).
_HEAD_PART_TF = 0.5
_MODIFIER_PART_TF = 0.3
# Weights of a question word's alternatives relative to its literal stem.
_CONCEPT_WEIGHT = 0.9
_PARTS_WEIGHT = 0.6
_TYPO_WEIGHT = {1: 0.85, 2: 0.65}
_TYPO_MIN_LENGTH = (6, 11)  # one edit from 6 letters, two from 11
_PHRASE_WEIGHT = 0.7
_HUB_BOOST = 0.12
_INCIDENTAL_IDF = 0.5
_BLEND = 0.6
_CACHE_SIZE = 20_000
_MIN_MODIFIER = 3
_MIN_HEAD = 4
_MIN_TAIL = 5
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
_LINKERS = ("es", "en", "er", "s", "n", "e")
# Words with which people say who and where they are ("Wir sind ein kleiner Landkreis in Bayern, …"); the Länder
# (with every spelling of their synonym groups) are added from the content. They count at _CONTEXT_WEIGHT when
# the question also names a topic.
_ASKER_WORDS_RAW = """
landkreis kreis gemeinde stadt kommune kleinstadt grossstadt mittelstadt kreisstadt dorf samtgemeinde
verbandsgemeinde marktgemeinde ortsgemeinde einwohner einwohnerinnen stadtverwaltung kreisverwaltung
gemeindeverwaltung jugendpflege jugendpfleger jugendpflegerin kreisjugendpfleger kreisjugendpflegerin
stadtjugendpfleger stadtjugendpflegerin kreisjugendring stadtjugendring kreisjugendamt stadtjugendamt
burgermeisterburo
"""
_CONTEXT_WEIGHT = 0.4
# Inseparable verb prefixes: a compound is never cut right after or inside one (ver|fahren, be|gegnung).
_VERB_PREFIXES = ("be", "emp", "ent", "er", "ge", "miss", "ver", "zer")


class Document(Protocol):
    """What the index reads of a document: an article, or a passage of one (bot/passages.py)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def keywords(self) -> Sequence[str]: ...
    @property
    def summary(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def related(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked answer: an article and how well it matches the question."""

    article_id: str
    title: str
    score: float  # 0..1, comparable across queries
    confident: bool  # score >= CONFIDENCE_THRESHOLD


# --- normalisation -------------------------------------------------------------------------------------------

_SPECIAL_FOLD = str.maketrans(
    {"ß": "ss", "ẞ": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ı": "i"}
)
# Umlaut spellings fold to the plain vowel like the umlauts themselves; "ue" stays after q/a/e (Quelle, Dauer, neue).
_DIGRAPH = re.compile(r"ae|oe|(?<![aeq])ue")
_TOKEN = re.compile(r"[^\W_]+")
_TAG = re.compile(r"<[^<>]{0,300}>")
_MD_LINK = re.compile(r"\]\(https?://[^)\s]*\)")


def fold(text: str) -> str:
    """Case-fold and drop accents; umlauts, their ae/oe/ue spellings and the plain vowel become one."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL_FOLD).casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _DIGRAPH.sub(lambda m: m.group(0)[0], plain)


# "E+" is how Erasmus+ is written in a hurry; its one letter would otherwise be dropped.
_ERASMUS_PLUS = re.compile(r"(?<![\w+])e ?\+(?![\w+])")


def _tokens(text: str) -> list[str]:
    folded = _ERASMUS_PLUS.sub(" erasmus ", fold(text))
    return [t for t in _TOKEN.findall(folded) if len(t) > 1 or t.isdigit()]


_STOP_WORDS_RAW = """
aber alle allem allen aller alles als also am an ander andere anderen anderer anderes auch auf aus bei beim bin
bis bist bitte bzw da wem wen dabei dadurch dafur dagegen daher damit dann daran darauf daraus darf darfst daruber darum
das dass dasselbe dazu dein deine deinem deinen deiner dem den denen denn der deren des dessen deshalb dich die
dies diese diesem diesen dieser dieses dir doch dort du durch eben ein eine einem einen einer eines einfach
einige einigen einiger einiges einmal er es etwa etwas euch euer eure fur gar gegen gehabt gewesen gibt gibts
gab geben habe haben hab hat hatte hatten hattest hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer
ihres im immer in ins ist ja jede jedem jeden jeder jedes jemand jetzt kann kannst konnen konnte konnten kein
keine keinem keinen keiner keines man manche manchem manchen mancher manches mein meine meinem meinen meiner
meines mich mir mit muss mussen musste mussten nach nachdem nicht nichts noch nun nur ob oder ohne sehr sein
seine seinem seinen seiner seines seit selbst selber sich sie sind so solche solchem solchen solcher soll sollen
sollte sollten sondern sonst uber um und uns unser unsere unserem unseren unserer unseres unter viel viele
vom von vor wahrend war waren warst was weil weiter welche welchem welchen welcher welches wenn wer werde
werden werdet wessen wie wieder wieso will wir wird wirst wo woher wohin wollen wollte wollten womit worden
wurde wurden zu zum zur zwar zwischen weshalb wann wieviel wieviele wie viel
hallo moin hi hey servus guten tag morgen abend danke dank vielen gerne gern liebe lieber mal halt ok okay
eigentlich genau uberhaupt irgendwie irgendwas sowas so ne nee naja also eben grad gerade bisschen
frage fragen gefragt antwort machen macht gemacht mache tun tut geht gehen kommt kommen brauchen braucht
brauche bekommen bekommt kriegen kriegt kriege bekomme heisst heissen bedeutet bedeuten versteht verstehen
meint meinen gilt geltend stimmt usw etc ca bzw zb
the a an and or of to in on for with is are was do does did how what who where when which can could would
should i we you it this that there my our your me us please hello thanks
http https www com org net de html
"""
STOP_WORDS: frozenset[str] = frozenset(fold(w) for w in _STOP_WORDS_RAW.split())
# Dropped even where stop words count (keyword phrases such as "noch nichts gemacht", "wer hilft").
FILLER_WORDS: frozenset[str] = frozenset(
    fold(w)
    for w in [
        "eigentlich",
        "genau",
        "gar",
        "denn",
        "mal",
        "halt",
        "eben",
        "ja",
        "doch",
        "uberhaupt",
        "bitte",
        "schon",
        "wirklich",
        "echt",
        "einfach",
        "nun",
        "jetzt",
    ]
)


# --- Snowball German stemmer on folded words ------------------------------------------------------------------

_VOWELS = frozenset("aeiouy")
_S_ENDING = frozenset("bdfghklmnrt")
_ST_ENDING = frozenset("bdfghklmnt")


def _regions(word: str) -> tuple[int, int]:
    marked = list(word)
    for i in range(1, len(word) - 1):
        if word[i] in "uy" and word[i - 1] in _VOWELS and word[i + 1] in _VOWELS:
            marked[i] = word[i].upper()  # u/y between vowels act as consonants

    def after_vowel_consonant(start: int) -> int:
        for i in range(start + 1, len(marked)):
            if marked[i] not in _VOWELS and marked[i - 1] in _VOWELS:
                return i + 1
        return len(marked)

    r1 = after_vowel_consonant(0)
    r2 = after_vowel_consonant(r1)
    return max(r1, 3), r2


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """The Snowball German stem of a folded word (umlauts already folded to plain vowels)."""
    if len(word) < 4 or not word.isalpha():
        return word
    r1, r2 = _regions(word)
    for suffix in ("ern", "em", "er", "en", "es", "e", "s"):
        if word.endswith(suffix):
            start = len(word) - len(suffix)
            if start >= r1:
                if suffix == "s":
                    if word[start - 1] in _S_ENDING:
                        word = word[:start]
                else:
                    word = word[:start]
                    if suffix in ("en", "es", "e") and word.endswith("niss"):
                        word = word[:-1]
            break
    for suffix in ("est", "en", "er", "st"):
        if word.endswith(suffix):
            start = len(word) - len(suffix)
            if start >= r1 and (suffix != "st" or (start >= 4 and word[start - 1] in _ST_ENDING)):
                word = word[:start]
            break
    for suffix in ("isch", "lich", "heit", "keit", "end", "ung", "ig", "ik"):
        if not word.endswith(suffix):
            continue
        start = len(word) - len(suffix)
        if start < r2:
            break
        if suffix in ("end", "ung"):
            word = word[:start]
            if word.endswith("ig") and len(word) - 2 >= r2 and not word.endswith("eig"):
                word = word[:-2]
        elif suffix in ("ig", "ik", "isch"):
            if not word[:start].endswith("e"):
                word = word[:start]
        elif suffix in ("lich", "heit"):
            word = word[:start]
            if word.endswith(("er", "en")) and len(word) - 2 >= r1:
                word = word[:-2]
        else:  # keit
            word = word[:start]
            if word.endswith("lich") and len(word) - 4 >= r2:
                word = word[:-4]
            elif word.endswith("ig") and len(word) - 2 >= r2:
                word = word[:-2]
        break
    return word


# --- edit distance --------------------------------------------------------------------------------------------


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a transposition is one edit); ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        row_min = i
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            row_min = min(row_min, value)
        if row_min > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def _trigrams(word: str) -> set[str]:
    padded = f"^{word}$"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


# --- synonyms -------------------------------------------------------------------------------------------------


def validate_synonyms(raw: object) -> list[str]:
    """Problems in the parsed content/synonyms.yaml, one precise line each ([] if it is fine).

    Schema: a mapping with one key, ``groups``: a list of groups; a group is a list of at least two different
    terms; a term is a non-empty string (a word, an abbreviation or a phrase) with at least one searchable word,
    i.e. not only stop words or punctuation. A term may appear in several groups, but only once in a group
    (compared after folding case, umlauts and punctuation; inflected forms such as "Zuschuss" and "Zuschüsse" are
    allowed side by side although the search already treats them alike).
    """
    where = "synonyms.yaml"
    if not isinstance(raw, dict):
        return [f"{where}: must be a mapping with the key 'groups', got {type(raw).__name__}"]
    problems = [f"{where}: unknown key {key!r} (only 'groups' is allowed)" for key in raw if key != "groups"]
    groups = raw.get("groups")
    if not isinstance(groups, list):
        problems.append(f"{where}: groups: must be a list of groups, got {type(groups).__name__}")
        return problems
    first_seen: dict[frozenset[tuple[str, ...]], int] = {}
    for g_index, group in enumerate(groups):
        at = f"{where}: groups[{g_index}]"
        if not isinstance(group, list):
            problems.append(f"{at}: must be a list of terms, got {type(group).__name__}")
            continue
        seen: dict[tuple[str, ...], int] = {}
        for t_index, term in enumerate(group):
            if not isinstance(term, str) or not term.strip():
                problems.append(f"{at}[{t_index}]: must be a non-empty string, got {term!r}")
                continue
            spelling = tuple(_tokens(term))
            if not _term_key(term):
                problems.append(
                    f"{at}[{t_index}]: {term!r} has no searchable word (only stop words or punctuation)"
                )
            elif _collapses(term):
                word = next(t for t in spelling if t not in STOP_WORDS)
                problems.append(
                    f"{at}[{t_index}]: {term!r} would match every question with the word {word!r} (its other"
                    f" words are stop words); write {word!r} if that is meant, or drop the term"
                )
            elif spelling in seen:
                problems.append(
                    f"{at}[{t_index}]: {term!r} repeats term {seen[spelling]} ({group[seen[spelling]]!r})"
                )
            else:
                seen[spelling] = t_index
        if len(seen) < 2:
            problems.append(f"{at}: needs at least two different searchable terms, has {len(seen)}")
            continue
        signature = frozenset(seen)
        if signature in first_seen:
            problems.append(f"{at}: lists the same terms as groups[{first_seen[signature]}]")
        else:
            first_seen[signature] = g_index
    return problems


def _term_key(term: str) -> tuple[str, ...]:
    """A synonym term as the stems it is matched on (stop words dropped)."""
    return tuple(stem(t) for t in _tokens(term) if t not in STOP_WORDS)


def _collapses(term: str) -> bool:
    """Whether a term of several words is matched as one word because the others are stop words: "Ist-Stand"
    would stand for every "Stand", "ins Ausland gehen" for every "Ausland", "selbst zahlen" for every "zahlen"."""
    return len(_tokens(term)) > 1 and len(_term_key(term)) == 1


def context_stems(content: Content) -> frozenset[str]:
    """The stems of words that say who and where the asker is: _ASKER_WORDS and the Länder, each with all the
    terms of its synonym groups (NRW, BaWü, bayerisch …)."""
    stems = {stem(fold(word)) for word in _ASKER_WORDS_RAW.split()}
    laender = {_term_key(land.name) for land in content.servicepoints.laender}
    groups = content.synonyms.get("groups") if isinstance(content.synonyms, dict) else None
    for group in groups if isinstance(groups, list) else []:
        keys = [_term_key(t) for t in group if isinstance(t, str)] if isinstance(group, list) else []
        if laender & set(keys):
            laender.update(keys)
    stems.update(s for key in laender for s in key)
    return frozenset(stems)


def _synonym_concepts(raw: object) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Term key -> the concepts (one per group) it stands for; invalid entries are skipped (check-content reports
    them). A concept is named after its group's first term, e.g. ``~dfjw``."""
    groups = raw.get("groups") if isinstance(raw, dict) else None
    concepts: dict[tuple[str, ...], list[str]] = defaultdict(list)
    names: set[str] = set()
    for group in groups if isinstance(groups, list) else []:
        if not isinstance(group, list):
            continue
        terms = [t for t in group if isinstance(t, str) and not _collapses(t)]
        keys = [k for k in dict.fromkeys(_term_key(t) for t in terms) if k]
        if len(keys) < 2:
            continue
        name = "~" + "_".join(keys[0])
        while name in names:
            name += "'"
        names.add(name)
        for key in keys:
            concepts[key].append(name)
    return {key: tuple(names_) for key, names_ in concepts.items()}


# --- the index ------------------------------------------------------------------------------------------------


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


class _Vocabulary:
    """The words of the articles: compound splitting and synonym phrases."""

    def __init__(
        self,
        surface: set[str],
        concepts: dict[tuple[str, ...], tuple[str, ...]],
        context: frozenset[str] = frozenset(),
    ) -> None:
        words = {w for w in surface if w not in STOP_WORDS}
        self.context = context  # stems that describe the asker, not the topic
        self._stems = frozenset(stem(w) for w in words)
        self.lexicon = frozenset(w for w in words | self._stems if len(w) >= _MIN_MODIFIER)
        self.concepts = concepts
        self.concept_stems = frozenset(s for key in concepts for s in key)
        self.max_phrase = max((len(k) for k in concepts), default=1)
        self._split_cache: dict[str, tuple[str, ...]] = {}

    def split(self, word: str) -> tuple[str, ...]:
        """The compound parts of a folded word (fewest parts, all known), or () if it is no known compound."""
        cached = self._split_cache.get(word)
        if cached is not None:
            return cached
        parts: tuple[str, ...] = ()
        if len(word) >= _MIN_MODIFIER + _MIN_HEAD and word.isalpha():
            parts = self._segment(word)
        if len(self._split_cache) >= _CACHE_SIZE:  # bounded: questions bring arbitrary words
            self._split_cache.clear()
        self._split_cache[word] = parts
        return parts

    def part_stem(self, part: str) -> str:
        """The stem of a compound part; a part that already is a stem stays (Förder- in Fördertopf = Förderung)."""
        return part if part in self._stems else stem(part)

    def known_tail(self, word: str) -> str | None:
        """The longest known word an unknown compound ends with (Urlaubsantrag -> antrag), None if none."""
        for i in range(_MIN_MODIFIER, len(word) - _MIN_TAIL + 1):
            if word[i:] in self.lexicon:
                return word[i:]
        return None

    def cuts_verb_prefix(self, word: str, cut: int) -> bool:
        """Whether ``word[cut:]`` is no compound part because the cut falls at or inside the inseparable verb
        prefix of a known word: Direktverfahren is Direkt + Verfahren, not … + fahren or … + erfahren, and
        Jugendbegegnung holds no "gegnung". A cut right after a known word stays (Förder|mitteln)."""
        if self._modifier(word[:cut]) is not None:
            return False
        for prefix in _VERB_PREFIXES:
            for start in range(max(0, cut - len(prefix)), cut):
                if word.startswith(prefix, start) and word[start:] in self.lexicon:
                    return True
        return False

    def _segment(self, word: str) -> tuple[str, ...]:
        last_cut = len(word) - _MIN_HEAD
        # best[i]: the fewest known modifiers covering word[:i], None if there is no such cover
        best: list[tuple[str, ...] | None] = [None] * (last_cut + 1)
        best[0] = ()
        for i in range(_MIN_MODIFIER, last_cut + 1):
            for j in range(i - _MIN_MODIFIER + 1):
                prefix = best[j]
                current = best[i]
                if prefix is None or (current is not None and len(current) <= len(prefix) + 1):
                    continue
                modifier = self._modifier(word[j:i])
                if modifier is not None:
                    best[i] = (*prefix, modifier)
        result: tuple[str, ...] = ()
        for i in range(_MIN_MODIFIER, last_cut + 1):
            prefix = best[i]
            if (
                prefix is not None
                and word[i:] in self.lexicon
                and (not result or len(prefix) + 1 < len(result))
            ):
                result = (*prefix, word[i:])
        return result

    def _modifier(self, segment: str) -> str | None:
        if segment in self.lexicon:
            return segment
        for linker in _LINKERS:
            if segment.endswith(linker):
                base = segment[: -len(linker)]
                if len(base) >= _MIN_MODIFIER and base in self.lexicon:
                    return base
        return None

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
class _Postings:
    by_term: dict[str, dict[int, float]]  # term -> {article number: BM25F pseudo term frequency}
    idf: dict[str, float]
    # keyword phrases of two or more words (stop words kept): first stem -> [(phrase, article numbers)]
    phrases: dict[str, list[tuple[tuple[str, ...], frozenset[int], float]]]


class SearchIndex:
    """An in-memory BM25F index over the articles; build once after the content loads, then ``search``."""

    def __init__(
        self,
        articles: Sequence[Document],
        postings: _Postings,
        vocabulary: _Vocabulary,
        fuzzy_words: list[str],
    ) -> None:
        self._articles = tuple(articles)
        self._postings = postings.by_term
        self._idf = postings.idf
        self._phrases = postings.phrases
        self._vocabulary = vocabulary
        self._fuzzy_words = fuzzy_words
        trigram_index: dict[str, list[int]] = defaultdict(list)
        for i, word in enumerate(fuzzy_words):
            for gram in _trigrams(word):
                trigram_index[gram].append(i)
        self._trigram_index = dict(trigram_index)
        # the heads inside the articles' compounds: "begegn" -> the stems of jugendbegegnung, begegnungsprojekt …
        containing: dict[str, set[str]] = defaultdict(set)
        for word in fuzzy_words:
            for form in {word, stem(word)}:
                if stem(form) in self._postings:
                    for i in range(_MIN_MODIFIER, len(form) - _MIN_TAIL + 1):
                        if not vocabulary.cuts_verb_prefix(form, i):
                            containing[form[i:]].add(stem(form))
        self._containing = {
            tail: tuple(sorted(stems, key=lambda s: (-len(self._postings[s]), s)))
            for tail, stems in containing.items()
        }
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
        field_runs = [_field_runs(article) for article in articles]
        surface = {t for runs in field_runs for field in runs.values() for run in field for t in run}
        vocabulary = _Vocabulary(surface, _synonym_concepts(synonyms), context)

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

        n_docs = len(articles)
        avg_len = {
            name: sum(lengths[name] for lengths in field_len) / max(n_docs, 1) for name, _, _ in _FIELDS
        }
        by_term: dict[str, dict[int, float]] = defaultdict(dict)
        for doc, (tfs, lengths) in enumerate(zip(field_tf, field_len, strict=True)):
            for name, weight, b in _FIELDS:
                norm = (1 - b) + b * lengths[name] / avg_len[name]
                for term, tf in tfs[name].items():
                    by_term[term][doc] = by_term[term].get(doc, 0.0) + weight * tf / norm
        # A word no title, keyword list or summary uses is incidental ("hoch", "einladen"): in 33 articles it
        # is rare by chance, not because it is specific, so its IDF counts less.
        topical = {
            term for tfs in field_tf for name in ("title", "keywords", "summary") for term in tfs[name]
        }
        idf = {
            term: _idf(n_docs, len(docs)) * (1.0 if term in topical else _INCIDENTAL_IDF)
            for term, docs in by_term.items()
        }

        phrase_docs: dict[tuple[str, ...], set[int]] = defaultdict(set)
        phrase_words: dict[tuple[str, ...], set[str]] = defaultdict(set)  # the stems of its content words
        for doc, article in enumerate(articles):
            for keyword in article.keywords:
                phrase = _phrase_stems(keyword)
                # Only phrases with a stop word: they carry meaning the word units lose ("wer haftet").
                if len(phrase) >= 2 and any(t in STOP_WORDS for t in _tokens(keyword)):
                    phrase_docs[phrase].add(doc)
                    phrase_words[phrase].update(_term_key(keyword))
        # A phrase counts by how rare it is in the whole text: "wer haftet" is telling, "internationale
        # Jugendarbeit" is not, although each is a keyword of only one article.
        sizes = {len(phrase) for phrase in phrase_docs}
        ngrams = [_ngrams(_article_phrase_stems(article), sizes) for article in articles]
        phrases: dict[str, list[tuple[tuple[str, ...], frozenset[int], float]]] = defaultdict(list)
        for phrase, docs in phrase_docs.items():
            df = sum(phrase in grams for grams in ngrams)
            # the phrase adds what its words lose: its content words already count as units
            words = max((_word_idf(t, idf, vocabulary.concepts) for t in phrase_words[phrase]), default=0.0)
            value = _PHRASE_WEIGHT * max(_idf(n_docs, max(df, 1)) - words, 0.0)
            phrases[phrase[0]].append((phrase, frozenset(docs), value))

        fuzzy_words = sorted(w for w in surface if len(w) >= _TYPO_MIN_LENGTH[0] and w.isalpha())
        return cls(articles, _Postings(dict(by_term), idf, dict(phrases)), vocabulary, fuzzy_words)

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
        tokens = _tokens(text)[: 3 * MAX_QUERY_UNITS]
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
            for doc, tf in self._postings[term].items():
                per_doc[doc] += tf / (_K1 + tf) / len(terms)
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
            idf = _word_idf(term, self._idf, self._vocabulary.concepts)
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
            compounds = self._containing.get(word, ()) or self._containing.get(term, ())
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
        if len(self._resolve_cache) >= _CACHE_SIZE:  # bounded: questions bring arbitrary words
            self._resolve_cache.clear()
        self._resolve_cache[word] = result
        return result

    def _corrections(self, word: str) -> list[tuple[str, int]]:
        """Vocabulary words within the allowed edits of an unknown word: the closest ones, at most three."""
        if len(word) < _TYPO_MIN_LENGTH[0] or not word.isalpha():
            return []
        limit = 1 if len(word) < _TYPO_MIN_LENGTH[1] else 2
        grams = _trigrams(word)
        counts: Counter[int] = Counter()
        for gram in grams:
            counts.update(self._trigram_index.get(gram, ()))
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


def _word_idf(term: str, idf: dict[str, float], concepts: dict[tuple[str, ...], tuple[str, ...]]) -> float:
    """What a question word is worth: a synonym is the same term, so the literal is weighed with an IDF between
    its own and its concepts' (lower) one; 0 for a word the articles do not know."""
    values = [idf[t] for t in (term, *concepts.get((term,), ())) if t in idf]
    return _BLEND * min(values) + (1 - _BLEND) * max(values) if values else 0.0


def _idf(n_docs: int, df: int) -> float:
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))


def _phrase_stems(text: str) -> tuple[str, ...]:
    return tuple(stem(t) for t in _tokens(text) if t not in FILLER_WORDS)


def _article_phrase_stems(article: Document) -> list[str]:
    texts = [article.title, *article.keywords, article.summary, _MD_LINK.sub("]", article.body)]
    return [s for text in texts for s in (*_phrase_stems(text), "")]  # "" keeps texts apart


def _ngrams(stems: list[str], sizes: Iterable[int]) -> set[tuple[str, ...]]:
    return {tuple(stems[i : i + n]) for n in sizes for i in range(len(stems) - n + 1)}


def _field_runs(article: Document) -> dict[str, list[list[str]]]:
    """Each field as runs of content tokens: one run per keyword or body line, so no phrase spans two."""
    body = _MD_LINK.sub("]", article.body)
    return {
        "title": [_content_tokens(article.title)],
        "keywords": [_content_tokens(k) for k in article.keywords],
        "summary": [_content_tokens(article.summary)],
        "body": [_content_tokens(line) for line in body.splitlines()],
    }


def _content_tokens(text: str) -> list[str]:
    return [t for t in _tokens(text) if t not in STOP_WORDS]


def words(text: str) -> list[str]:
    """The folded words of a text as the search reads them (umlauts folded, "E+" read as Erasmus)."""
    return _tokens(text)
