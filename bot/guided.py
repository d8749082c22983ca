"""Rules both guided tools share: reading a typed answer as one of a step's buttons.

Users often type the answer they see on a button ("ja", "Stadt", "NRW", "Polen") instead of tapping it.
``match_typed`` recognises such an answer; anything else is left to the search.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from bot.content import Content
from bot.content_models.base import LAND_CODES
from bot.german_text import fold

_WORDS = re.compile(r"[^\W_]+")

# Common short forms of the federal states besides their codes (typed input only; names come from servicepoints.yaml).
LAND_ALIASES: dict[str, tuple[str, ...]] = {
    "NW": ("NRW",),
    "RP": ("RLP",),
    "BW": ("BaWü",),
    "MV": ("Meck-Pomm",),
    "SH": ("S-H",),
}


def answer_key(text: str) -> str:
    """A typed answer or a label reduced to its words: case, accents, umlaut spellings, emoji and punctuation
    do not count ("🇵🇱 Polen" and "polen", "Baden-Württemberg" and "baden wuerttemberg" are the same)."""
    return " ".join(_WORDS.findall(fold(text)))


def match_typed(text: str, options: Mapping[str, Iterable[str]]) -> str | None:
    """The option one of whose names the whole text is, or None."""
    key = answer_key(text)
    if not key:
        return None
    for option, names in options.items():
        if any(answer_key(name) == key for name in names):
            return option
    return None


def land_options(content: Content) -> dict[str, list[str]]:
    """Each Land code with the names a user may type for it: code, name and the usual short forms."""
    return {code: [code, content.land_name(code), *LAND_ALIASES.get(code, ())] for code in LAND_CODES}
