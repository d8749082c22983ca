"""The editors' report as an editor reads it in the terminal (``python -m bot editor-report``, ``--json``):
facts due for a check, oldest first, with where they are and their source."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.content import load_content
from bot.editor_report import build_report, editor_report_command, render
from bot.telegram_html import escape
from tests.harness import make_settings
from tests.unit.test_check_content_provenance import ARTICLE, Folder, _fact

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _folder(tmp_path: Path) -> Path:
    folder = Folder(tmp_path)
    folder.facts = [
        _fact("frist-bald", kind="deadline", checked=date(2026, 6, 20), claim="Antrag bis 1. Februar"),
        _fact("frist-alt", kind="deadline", checked=date(2026, 5, 2), claim="Antrag bis 1. Oktober"),
        _fact("betrag-alt", kind="amount", checked=date(2025, 11, 20), claim="bis zu 24 € am Tag"),
        _fact("alter-neu", kind="limit", checked=date(2026, 12, 1)),
    ]
    return folder.write()


def test_facts_due_oldest_first_with_where_and_source(tmp_path: Path) -> None:
    content = load_content(_folder(tmp_path))
    report = asyncio.run(build_report(None, content, NOW, make_settings(tmp_path).tz))
    mine = [f for f in report.due if f.item.file == ARTICLE]
    assert [(f.item.fact_id, f.due, f.overdue) for f in mine] == [
        ("frist-alt", date(2026, 11, 2), True),
        ("betrag-alt", date(2026, 11, 20), True),
        ("frist-bald", date(2026, 12, 20), False),  # within 30 days of its maximum age
    ]  # alter-neu (checked last week) is not due
    assert mine[0].item.url == "https://example.org/foerderkriterien"
    text = render(content.texts, report, make_settings(tmp_path).tz, limit=None)
    assert "überfällig seit 02.11.2026" in text and "fällig am 20.12.2026" in text
    assert f"<code>{ARTICLE}</code>, fact frist-alt" in text
    assert "„Antrag bis 1. Oktober“ – zuletzt geprüft 02.05.2026" in text


def test_the_terminal_report_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _folder(tmp_path)
    settings = make_settings(tmp_path, content_dir=root)
    assert asyncio.run(editor_report_command(settings, as_json_output=False, now=NOW)) == 0
    out = capsys.readouterr().out
    assert "Redaktionsbericht vom 06.12.2026" in out
    assert "<code>" not in out and "überfällig seit 02.11.2026" in out
    assert "Noch keine Datenbank" in out  # no bot has run here: no misses, no ratings
    assert asyncio.run(editor_report_command(settings, as_json_output=True, now=NOW)) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["date"] == "2026-12-06"
    first = data["facts_due"][0]
    assert first["fact_id"] == "frist-alt" and first["overdue"] is True and first["kind"] == "deadline"
    assert first["file"] == ARTICLE and first["source"] == "https://example.org/foerderkriterien"
    assert data["misses"] is None and data["unhelpful"] is None
    assert isinstance(data["deadlines_to_confirm"], list)


def test_deadlines_to_confirm_in_the_next_three_months(tmp_path: Path) -> None:
    folder = Folder(tmp_path)
    rules = folder.deadlines["deadlines"]
    base = {
        "programme": "erasmus",
        "certainty": "secondary",
        "source": {"title": "Aufruf", "url": "https://example.org/aufruf"},
        "checked": date(2026, 12, 1),
    }
    rules.append(
        {
            **base,
            "id": "zz-februar",
            "what": "Runde im Februar",
            "expected": {"months": [2], "note": "Termin erscheint im Aufruf."},
        }
    )
    rules.append(
        {**base, "id": "zz-juni", "what": "Runde im Juni", "expected": {"months": [6]}}
    )  # too far ahead
    rules.append(
        {
            **base,
            "id": "zz-bestaetigt",
            "what": "Runde im Januar",
            "dates": [date(2027, 1, 15)],
            "expected": {"months": [1]},
        }
    )
    content = load_content(folder.write())
    tz = make_settings(tmp_path).tz
    report = asyncio.run(build_report(None, content, NOW, tz))
    mine = [c for c in report.confirm if c.rule.startswith("zz-")]
    assert [(c.rule, c.month) for c in mine] == [("zz-februar", date(2027, 2, 1))]
    assert mine[0].note == "Termin erscheint im Aufruf." and mine[0].source == "https://example.org/aufruf"
    text = render(content.texts, report, tz, limit=None)
    erasmus = escape(content.calendar.programmes["erasmus"].name)
    assert f"• Februar 2027: {erasmus} – Runde im Februar (<code>zz-februar</code>)" in text
