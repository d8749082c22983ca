"""German text as the search reads it: folding, words, stop words, the Snowball stemmer, edit distance and
compound splitting. Articles and questions go through the same steps (bot/search.py lists them all):

1. **Folding** — Unicode NFKD, case folding, accents dropped; ``ß`` becomes ``ss``; the umlauts, their
   spellings ``ae``/``oe``/``ue`` and the bare vowel typed without dots all fold to the plain vowel
   (``Förderung`` = ``Foerderung`` = ``Forderung``).
2. **Words** — runs of letters and digits ("E+" is read as Erasmus); German (and a few English) stop words and
   question phrasing ("gibt es", "wie kann ich", "eigentlich") are dropped by the callers.
3. **Stemming** — the Snowball German algorithm on the folded word (``Begegnungen`` → ``begegn``).
4. **Compounds** — a word is split into parts a lexicon knows, fewest parts first, allowing the linking
   ``s``/``n``/``en``/``es``/``e``/``er`` (``Jugendbegegnung`` → ``jugend`` + ``begegnung``), but never by a cut
   at or inside the verb prefix of a known word (``fahren`` is no part of ``Direktverfahren``).
5. **Edit distance** — optimal string alignment (a transposition counts as one edit) and trigrams, for typos.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

CACHE_SIZE = 20_000  # bound of the per-word caches: questions bring arbitrary words
MIN_MODIFIER = 3  # the shortest first part of a compound
MIN_TAIL = 5  # the shortest known word an unknown compound may end with
_MIN_HEAD = 4
_LINKERS = ("es", "en", "er", "s", "n", "e")
# Inseparable verb prefixes: a compound is never cut right after or inside one (ver|fahren, be|gegnung).
_VERB_PREFIXES = ("be", "emp", "ent", "er", "ge", "miss", "ver", "zer")

_SPECIAL_FOLD = str.maketrans(
    {"ß": "ss", "ẞ": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ı": "i"}
)
# Umlaut spellings fold to the plain vowel like the umlauts themselves; "ue" stays after q/a/e (Quelle, Dauer, neue).
_DIGRAPH = re.compile(r"ae|oe|(?<![aeq])ue")
_TOKEN = re.compile(r"[^\W_]+")


class _DropCombining(dict[int, int | None]):
    """A ``str.translate`` table that deletes combining marks, each code point looked up once."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_DROP_COMBINING = _DropCombining()


# Building the indexes folds the same text many times (33,600 calls for 3,500 texts); a question's words once.
@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Case-fold and drop accents; umlauts, their ae/oe/ue spellings and the plain vowel become one."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL_FOLD).casefold())
    plain = decomposed if decomposed.isascii() else decomposed.translate(_DROP_COMBINING)
    return _DIGRAPH.sub(lambda m: m.group(0)[0], plain)


# "E+" is how Erasmus+ is written in a hurry; its one letter would otherwise be dropped.
_ERASMUS_PLUS = re.compile(r"(?<![\w+])e ?\+(?![\w+])")


def words(text: str) -> list[str]:
    """The folded words of a text as the search reads them (umlauts folded, "E+" read as Erasmus)."""
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


# --- the Snowball German stemmer on folded words --------------------------------------------------------------

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


# --- edit distance and compounds ------------------------------------------------------------------------------


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


def trigrams(word: str) -> set[str]:
    """The letter trigrams of a word, its start and end marked (``^ab``, ``bc$``)."""
    padded = f"^{word}$"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class Compounds:
    """Compound splitting over a lexicon: the given words (stop words left out) and their stems."""

    def __init__(self, surface: set[str]) -> None:
        known = {w for w in surface if w not in STOP_WORDS}
        self._stems = frozenset(stem(w) for w in known)
        self.lexicon = frozenset(w for w in known | self._stems if len(w) >= MIN_MODIFIER)
        self._split_cache: dict[str, tuple[str, ...]] = {}

    def __getstate__(self) -> dict[str, object]:
        """Pickled without the split cache (bot/prebuilt.py): the build fills it with the documents' words, which
        questions rarely ask again; 0.2 MB at rest."""
        return {**self.__dict__, "_split_cache": {}}

    def split(self, word: str) -> tuple[str, ...]:
        """The compound parts of a folded word (fewest parts, all known), or () if it is no known compound."""
        cached = self._split_cache.get(word)
        if cached is not None:
            return cached
        parts: tuple[str, ...] = ()
        if len(word) >= MIN_MODIFIER + _MIN_HEAD and word.isalpha():
            parts = self._segment(word)
        if len(self._split_cache) >= CACHE_SIZE:  # bounded: questions bring arbitrary words
            self._split_cache.clear()
        self._split_cache[word] = parts
        return parts

    def part_stem(self, part: str) -> str:
        """The stem of a compound part; a part that already is a stem stays (Förder- in Fördertopf = Förderung)."""
        return part if part in self._stems else stem(part)

    def known_tail(self, word: str) -> str | None:
        """The longest known word an unknown compound ends with (Urlaubsantrag -> antrag), None if none."""
        for i in range(MIN_MODIFIER, len(word) - MIN_TAIL + 1):
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
        for i in range(MIN_MODIFIER, last_cut + 1):
            for j in range(i - MIN_MODIFIER + 1):
                prefix = best[j]
                current = best[i]
                if prefix is None or (current is not None and len(current) <= len(prefix) + 1):
                    continue
                modifier = self._modifier(word[j:i])
                if modifier is not None:
                    best[i] = (*prefix, modifier)
        result: tuple[str, ...] = ()
        for i in range(MIN_MODIFIER, last_cut + 1):
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
                if len(base) >= MIN_MODIFIER and base in self.lexicon:
                    return base
        return None
