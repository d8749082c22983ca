"""check-content names each kind of content mistake an editor can make (on a copy of the real content)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.content_check import check_content

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 6)  # after the provenance checks of 4 Dec 2026


def _sub(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text(encoding="utf-8")
    changed = re.sub(pattern, replacement, text, count=1, flags=re.M | re.S)
    assert changed != text, f"{pattern!r} not found in {path.name}"
    path.write_text(changed, encoding="utf-8")


def _copy(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    return content


def test_the_real_content_is_clean() -> None:
    errors, warnings = check_content(ROOT / "content", TODAY)
    assert errors == [] and warnings == []


EURODESK = "articles/eurodesk.md"


def _old_dates(content: Path, stand: str, review: str) -> None:
    """Give the eurodesk article the typed Stand and review date of the old format."""
    path = content / EURODESK
    text = re.sub(r"^(stand|review): .*\n", "", path.read_text(encoding="utf-8"), flags=re.M)
    path.write_text(
        text.replace("\nrelated: ", f"\nstand: {stand}\nreview: {review}\nrelated: ", 1), encoding="utf-8"
    )


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
        "a typed Stand (old format)",
        lambda c: _old_dates(c, "2026-11-24", "2027-05-24"),
        "articles/eurodesk.md: 'stand:' (old format) – remove it; the Stand is derived",
    ),
    (
        "unknown Bundesland",
        lambda c: _sub(c / "servicepoints.yaml", r"^  - code: BW$", "  - code: XX"),
        "unknown Bundesland code 'XX'",
    ),
    (
        "a Bundesland missing",
        lambda c: _sub(c / "servicepoints.yaml", r"^  - code: BW$.*?(?=^  - code: )", ""),
        "servicepoints.yaml: federal states missing: BW",
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


def test_a_rule_whose_dates_have_all_passed_needs_expected_or_none(tmp_path: Path) -> None:
    content = _copy(tmp_path)
    path = content / "deadlines.yaml"
    text = path.read_text(encoding="utf-8")
    rule = (
        "  - id: zz-vergangen\n    programme: kjp\n    what: Eine Runde, die vorbei ist\n"
        "    dates: [2025-03-01]\n    certainty: verified\n"
        '    source: {title: "Quelle", url: "https://example.org/fristen"}\n    checked: 2026-12-01\n'
    )
    path.write_text(text.replace("\ndeadlines:\n", "\ndeadlines:\n" + rule, 1), encoding="utf-8")
    errors, warnings = check_content(content, TODAY)
    assert errors == []
    assert any(w.startswith("deadlines.yaml: rule zz-vergangen: all its dates have passed") for w in warnings)


def test_every_old_field_is_an_error_that_says_what_replaces_it(tmp_path: Path) -> None:
    content = _copy(tmp_path)
    _old_dates(content, "2026-11-24", "2027-05-24")
    programmes = content / "programmes.yaml"
    text = programmes.read_text(encoding="utf-8")
    programmes.write_text(
        text.replace(
            "\nprogrammes:\n",
            '\nstand: 2026-11-24\nlaenderstellen:\n  BW: "die Regierungspräsidien"\nprogrammes:\n',
            1,
        ),
        encoding="utf-8",
    )
    _sub(programmes, r"^    checked: (\S+)$", r"    stand: \1")  # the first programme's date
    _sub(programmes, r"^      checked: \S+$", "      year: 2026")  # the first deadline note's date
    _sub(content / "deadlines.yaml", r"^    checked: (\S+)$", r"    stand: \1")
    _sub(content / "servicepoints.yaml", r"^laender:$", "stand: 2026-11-24\nlaender:")
    errors, _ = check_content(content, TODAY)
    for expected in (
        "articles/eurodesk.md: 'stand:' (old format) – remove it",
        "articles/eurodesk.md: 'review:' (old format) – remove it",
        "programmes.yaml: top-level 'stand:' (old format)",
        "programmes.yaml: 'laenderstellen:' (old format) – these contacts belong in servicepoints.yaml "
        "(laenderstelle: per federal state)",
        "'stand:' (old format) – write 'checked:'",
        "deadline 'year:' (old format) – write 'checked:'",
        "servicepoints.yaml: top-level 'stand:' (old format)",
    ):
        assert any(expected in line for line in errors), (expected, errors)
    assert any(e.startswith("deadlines.yaml: ") and "'stand:' (old format)" in e for e in errors), errors
