"""The synonym groups of content/synonyms.yaml: their schema (``validate_synonyms``, used by the content loader
and check-content) and the concepts the search index makes of them.

Every group is a concept. Wherever a group's term (a word or a phrase, matched on stems) occurs in an article,
the article also carries the concept; a question's term searches its literal stem and the concept (``OFAJ``
finds the DFJW article). A term of several words that is only one word without its stop words ("Ist-Stand",
"ins Ausland gehen") is not used: it would stand for every "Stand" or "Ausland" (check-content reports it).
"""

from __future__ import annotations

from collections import defaultdict

from bot.german_text import STOP_WORDS, stem, words


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
            spelling = tuple(words(term))
            if not term_key(term):
                problems.append(
                    f"{at}[{t_index}]: {term!r} has no searchable word (only stop words or punctuation)"
                )
            elif collapses(term):
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


def term_key(term: str) -> tuple[str, ...]:
    """A synonym term as the stems it is matched on (stop words dropped)."""
    return tuple(stem(t) for t in words(term) if t not in STOP_WORDS)


def collapses(term: str) -> bool:
    """Whether a term of several words is matched as one word because the others are stop words: "Ist-Stand"
    would stand for every "Stand", "ins Ausland gehen" for every "Ausland", "selbst zahlen" for every "zahlen"."""
    return len(words(term)) > 1 and len(term_key(term)) == 1


def synonym_concepts(raw: object) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Term key -> the concepts (one per group) it stands for; invalid entries are skipped (check-content reports
    them). A concept is named after its group's first term, e.g. ``~dfjw``."""
    groups = raw.get("groups") if isinstance(raw, dict) else None
    concepts: dict[tuple[str, ...], list[str]] = defaultdict(list)
    names: set[str] = set()
    for group in groups if isinstance(groups, list) else []:
        if not isinstance(group, list):
            continue
        terms = [t for t in group if isinstance(t, str) and not collapses(t)]
        keys = [k for k in dict.fromkeys(term_key(t) for t in terms) if k]
        if len(keys) < 2:
            continue
        name = "~" + "_".join(keys[0])
        while name in names:
            name += "'"
        names.add(name)
        for key in keys:
            concepts[key].append(name)
    return {key: tuple(names_) for key, names_ in concepts.items()}
