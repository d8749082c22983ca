"""Typed answers at the guided tools' button steps: what counts as naming a button."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import Content
from bot.guided import answer_key, land_options, match_typed

ROOT = Path(__file__).resolve().parents[2]


def test_answer_key_ignores_case_accents_umlaut_spellings_emoji_and_punctuation() -> None:
    assert answer_key("🇵🇱 Polen") == answer_key("polen.") == "polen"
    assert answer_key("Baden-Württemberg") == answer_key("baden wuerttemberg")
    assert answer_key("  Ja! ") == "ja"


@pytest.mark.parametrize(
    ("text", "code"),
    [("NRW", "NW"), ("nordrhein-westfalen", "NW"), ("Bayern", "BY"), ("by", "BY"), ("Thueringen", "TH")],
)
def test_lands_by_name_code_and_short_form(content: Content, text: str, code: str) -> None:
    assert match_typed(text, land_options(content)) == code


@pytest.mark.parametrize("text", ["", "Wie finde ich Partner in Bayern?", "Bayern und Hessen", "🙂"])
def test_anything_but_a_whole_option_is_no_answer(content: Content, text: str) -> None:
    assert match_typed(text, land_options(content)) is None


def test_every_typed_name_names_one_option_only(content: Content) -> None:
    """No alias of one button may be the label or alias of another on the same step."""
    data = content.tools.programmes
    steps = [
        {c.id: [c.label, *c.aliases] for c in data.countries},
        {f.id: [f.label, *f.aliases] for f in data.formats},
        {t.id: [t.label, *t.aliases] for t in content.tools.standort.kommune_types},
        land_options(content),
    ]
    for options in steps:
        keys = [answer_key(name) for names in options.values() for name in set(names)]
        assert len(keys) == len(set(keys)), keys
