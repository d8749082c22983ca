"""``python -m bot demo`` can be driven by piped standard input, offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_shows_welcome_menu_and_presses_buttons() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input="/hilfe\n99\n/quit\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Willkommen beim IJA-Lotsen" in out
    assert "[1] 📚 Themen" in out
    assert "<b>" not in out  # HTML rendered as plain text
    assert "/foerderfinder" in out  # the help text arrived
    assert "Keine Schaltfläche" in out
