"""Runs ``python -m bot demo`` as a user would, with piped input and no BOT_ settings from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_demo(lines: list[str]) -> str:
    """The demo's output for the typed ``lines``; fails the test when the demo does not end cleanly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
