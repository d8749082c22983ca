"""``python -m bot check-content``: everything ``load_content`` refuses, plus the warnings an editor should act on.

Apart from ``bot.content`` because the checks use the rules built on its models (``bot.deadlines``): the loader
itself must not import them back.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.content import ContentError, load_content
from bot.content_models.calendar import CalendarContent
from bot.deadlines import rules_needing_a_state


def check_content(root: Path, today: date) -> tuple[list[str], list[str]]:
    """(errors, warnings) for ``python -m bot check-content``."""
    try:
        content = load_content(root, today)
    except ContentError as exc:
        return exc.problems, []
    return [], [*content.warnings, *_stateless_rule_warnings(content.calendar, today)]


def _stateless_rule_warnings(calendar: CalendarContent, today: date) -> list[str]:
    """Rules whose dates have all passed and that say neither ``expected`` nor ``none`` (bot/deadlines.py)."""
    now = datetime.combine(today, time(12, 0), tzinfo=UTC)
    return [
        f"deadlines.yaml: rule {rule.id}: all its dates have passed and it says neither 'expected:' (when the "
        "next round usually comes) nor 'none:' (why there is none) – /fristen can only say no date is published"
        for rule in rules_needing_a_state(calendar, now, ZoneInfo("Europe/Berlin"))
    ]
