"""Reading a question: the Land, programme, partner country and intent it names (``Slots``).

A Land is a name, abbreviation, adjective, or a city or district of servicepoints.yaml ``places``; a programme its
name, short name or synonyms; a partner country stands for its programme ("Polen" → DPJW). Cue words (folded,
then stemmed) say the intent; they are not user-facing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.answers.model import BODY, DEADLINE, LAND_FUNDING, LEAD, LIMIT, RATE, SERVICE, Slots
from bot.content import Content
from bot.german_text import STOP_WORDS, stem, words

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
PROCESS_WORDS = ("bearbeit", "bewillig", "prufung", "bescheid", "antwort", "auszahl", "entscheid")
SIZE_WORDS = frozenset(stem(w) for w in ["gruppengrosse", "teilnehmerzahl", "viele", "gross"])
AGE_WORDS = frozenset(
    stem(w)
    for w in ["alter", "alt", "altersgrenze", "mindestalter", "hochstalter", "jung", "jahrig", "jahre"]
)
DAY_WORDS = frozenset(
    stem(w)
    for w in ["dauer", "lange", "lang", "tage", "tag", "wochen", "monate", "mindestdauer", "hochstdauer"]
)
# Words with which a follow-up asks for the same again ("und in Bayern?"); they name no topic of their own.
FOLLOW_WORDS = frozenset(
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
# Extra spellings of the federal states (folded) that are not in synonyms.yaml; upper-case codes are matched as typed.
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


class QuestionReader:
    """The terms of the content's federal states, programmes and partner countries, and the intents' cue words."""

    def __init__(self, content: Content) -> None:
        self._laender = {land.code for land in content.servicepoints.laender}
        self.land_terms, self.programme_terms, self.country_terms = _terms(content)
        self._longest = max(
            (len(k) for d in (self.land_terms, self.programme_terms, self.country_terms) for k in d),
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
                if key in self.land_terms:
                    used.update(range(i, i + size))
                elif key in self.programme_terms:
                    programme = programme or self.programme_terms[key]
                    named.add(self.programme_terms[key])
                    used.update(range(i, i + size))
                elif key in self.country_terms:
                    country = country or self.country_terms[key]
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
        age = intent == LIMIT and any(s in AGE_WORDS for s in stems)
        days = intent == LIMIT and any(s in DAY_WORDS for s in stems)
        if intent == LIMIT and any(s.startswith(PROCESS_WORDS) for s in stems):
            intent = None  # "Wie lange dauert die Bearbeitung?" asks about the procedure, not a limit
        size = intent == LIMIT and any(s in SIZE_WORDS for s in stems)
        if intent == LIMIT and not age and not days and not size:
            age = days = True
        topic = sum(
            1
            for k, t in enumerate(tokens)
            if k not in used
            and t not in STOP_WORDS
            and stem(t) not in STOP_WORDS
            and t not in FOLLOW_WORDS
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
                found = self.land_terms.get(tuple(stems[i : i + size]))
                if found is not None:
                    if best is None or size > best[0]:
                        best = (size, found)
                    break
        return best[1] if best else None


def programme_key(fp_id: str, keys: Iterable[str]) -> str | None:
    """The deadlines.yaml programme a funding-finder entry belongs to (kjp-begegnung → kjp)."""
    known = set(keys)
    if fp_id in known:
        return fp_id
    head = fp_id.split("-")[0]
    return head if head in known else None


def _phrase_at(tokens: Sequence[str], phrase: tuple[str, ...]) -> list[int]:
    n = len(phrase)
    for i in range(len(tokens) - n + 1):
        if tuple(tokens[i : i + n]) == phrase:
            return list(range(i, i + n))
    return []


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
