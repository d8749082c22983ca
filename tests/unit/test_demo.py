"""``python -m bot demo`` can be driven by piped standard input, offline."""

from __future__ import annotations

from tests.demo_run import run_demo


def test_demo_shows_welcome_menu_and_presses_buttons() -> None:
    out = run_demo(["/hilfe", "99", "/quit"])
    assert "Willkommen beim IJA-Lotsen" in out
    assert "[1] 📚 Themen" in out
    assert "<b>" not in out  # HTML rendered as plain text
    assert "/foerderfinder" in out  # the help text arrived
    assert "Keine Schaltfläche" in out
