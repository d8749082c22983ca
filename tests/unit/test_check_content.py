"""check-content names each kind of content mistake an editor can make (on a copy of the real content)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.content import OLD_FORMAT, check_content, load_content

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 24)


def _sub(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text(encoding="utf-8")
    changed = re.sub(pattern, replacement, text, count=1, flags=re.M | re.S)
    assert changed != text, f"{pattern!r} not found in {path.name}"
    path.write_text(changed, encoding="utf-8")


def _sub_if_old(path: Path, pattern: str, replacement: str) -> None:
    """Like ``_sub`` for a file the content editors may already have moved to the new format."""
    if re.search(pattern, path.read_text(encoding="utf-8"), flags=re.M | re.S):
        _sub(path, pattern, replacement)


def _copy(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    return content


def test_the_real_content_is_clean() -> None:
    errors, warnings = check_content(ROOT / "content", TODAY)
    # During the move to the provenance format, old fields are still read and only warned about.
    assert errors == [] and [w for w in warnings if OLD_FORMAT not in w] == []


EURODESK = "articles/eurodesk.md"
CASES: list[tuple[str, Callable[[Path], object], str]] = [
    (
        "duplicate id",
        lambda c: shutil.copy(c / EURODESK, c / "articles" / "eurodesk-kopie.md"),
        "articles/eurodesk.md: duplicate id 'eurodesk'",
    ),
    (
        "unknown related article",
        lambda c: _sub(c / EURODESK, r"^related: \[", "related: [gibt-es-nicht, "),
        "articles/eurodesk.md: related id 'gibt-es-nicht' does not exist",
    ),
    (
        "unknown menu node",
        lambda c: _sub(c / EURODESK, r"^topic: unterstuetzung", "topic: nirgendwo"),
        "articles/eurodesk.md: topic 'nirgendwo' is not a menu node",
    ),
    (
        "unknown parent node",
        lambda c: _sub(c / "menu.yaml", r"^  parent: foerderung$", "  parent: weg"),
        "menu.yaml: foerderung-jugendwerke: parent 'weg' does not exist",
    ),
    (
        "review before stand",
        lambda c: _sub(c / EURODESK, r"^review: .*?$", "review: 2026-01-01"),
        "articles/eurodesk.md: review 2026-01-01 is before stand 2026-11-24",
    ),
    (
        "unknown Bundesland",
        lambda c: _sub(c / "servicepoints.yaml", r"^  - code: BW$", "  - code: XX"),
        "unknown Bundesland code 'XX'",
    ),
    (
        "a Bundesland missing",
        lambda c: _sub(c / "servicepoints.yaml", r"^  - code: BW$.*?(?=^  - code: )", ""),
        "servicepoints.yaml: Länder missing: BW",
    ),
    (
        "plain http source",
        lambda c: _sub(c / EURODESK, r"url: https://ijab\.de/", "url: http://ijab.de/"),
        "articles/eurodesk.md",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [(m, e) for _, m, e in CASES], ids=[n for n, _, _ in CASES])
def test_each_mistake_is_named(tmp_path: Path, mutate: Callable[[Path], None], expected: str) -> None:
    content = _copy(tmp_path)
    mutate(content)
    errors, _ = check_content(content, TODAY)
    assert any(expected in line for line in errors), errors


def test_an_article_past_its_review_date_is_a_warning_not_an_error(tmp_path: Path) -> None:
    content = _copy(tmp_path)
    _sub(content / EURODESK, r"^stand: .*?$", "stand: 2026-01-01")
    _sub(content / EURODESK, r"^review: .*?$", "review: 2026-11-01")
    errors, warnings = check_content(content, TODAY)
    assert errors == []
    assert [w for w in warnings if OLD_FORMAT not in w] == [
        "articles/eurodesk.md: review date 2026-11-01 has passed"
    ]


def _to_new_format(content: Path) -> None:
    """Convert a few entries of the copy to the provenance format (facts, checked, laenderstelle, rates)."""
    _sub(content / EURODESK, r"^stand: .*?\nreview: .*?\n", "")
    _sub(
        content / EURODESK,
        r"^    url: https://ijab\.de/$",
        "    url: https://ijab.de/\n    checked: 2026-11-20",
    )
    _sub(
        content / EURODESK,
        r"^related: ",
        "facts:\n"
        "  - id: eurodesk-partner\n"
        "    kind: body\n"
        "    claim: IJAB koordiniert Eurodesk mit rund 50 Partnern\n"
        '    source: {title: "IJAB – Eurodesk", url: "https://ijab.de/eurodesk/partner"}\n'
        "    checked: 2026-11-10\n"
        "related: ",
    )
    _sub_if_old(
        content / "servicepoints.yaml",
        r"^    name: Hessen\n    points: \[\]\n    programmes: \[\]\n    note: .*?\n",
        "    name: Hessen\n"
        "    places: [Kassel, Wiesbaden]\n"
        "    laenderstelle:\n"
        "      - programmes: [kjp, dfjw]\n"
        '        who: "Regierungspräsidium Kassel"\n'
        '        what: "Länderstelle für kommunale Träger"\n'
        "        url: https://rp-kassel.hessen.de/soziales/internationale-jugendarbeit\n"
        "        checked: 2026-11-21\n"
        "    points:\n"
        '      - {name: "Stelle", what: "berät", url: "https://example.org/", '
        'source: {title: "Stelle – Beratung", url: "https://example.org/beratung"}, checked: 2026-11-21}\n'
        "    programmes: []\n"
        '    no_programme: "Kein eigenes Landesprogramm bekannt (geprüft 21.11.2026)."\n',
    )
    _sub_if_old(content / "servicepoints.yaml", r"^stand: .*?\n", "")
    _sub(content / "programmes.yaml", r"^laenderstellen:\n(?:  [^\n]*\n)*", "")
    _sub(content / "programmes.yaml", r"^      year: 2026$", "      checked: 2026-11-22")
    _sub(
        content / "programmes.yaml",
        r"^    stand: 2026-11-24$",
        "    rates:\n"
        '      - what: "Programmtag in Deutschland"\n'
        '        amount: "bis zu 24 €"\n'
        '        source: {title: "Richtlinien", url: "https://example.org/richtlinien"}\n'
        "        checked: 2026-11-19\n"
        "    checked: 2026-11-23",
    )
    _sub(content / "deadlines.yaml", r"^    stand: 2026-11-24$", "    checked: 2026-11-24")


def test_the_new_provenance_format_loads(tmp_path: Path) -> None:
    content = _copy(tmp_path)
    _to_new_format(content)
    errors, warnings = check_content(content, TODAY)
    assert errors == []
    assert not any(w.startswith("articles/eurodesk.md") for w in warnings), warnings
    assert not any("laenderstellen" in w for w in warnings), warnings
    loaded = load_content(content)
    eurodesk = loaded.articles["eurodesk"]
    assert eurodesk.shown_stand == date(2026, 11, 10)  # the oldest fact check, not a typed date
    hessen = loaded.servicepoints.land("HE")
    stelle = hessen.laenderstelle_for("dfjw")
    assert stelle is not None and "Regierungspräsidium Kassel" in stelle.who
    assert hessen.laenderstelle_for("esk") is None
    dfjw = next(p for p in loaded.tools.programmes.programmes if p.id == "dfjw")
    assert dfjw.rates[0].amount == "bis zu 24 €"
    assert dfjw.checked_on == date(2026, 11, 19)  # the oldest among programme, deadline note and rates


def test_old_fields_are_named_as_old_format(tmp_path: Path) -> None:
    _, warnings = check_content(_copy(tmp_path), TODAY)
    assert any(w.startswith("articles/eurodesk.md: 'stand:' (old format)") for w in warnings), warnings
