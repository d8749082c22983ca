"""The Docker image as the README promises it (no Docker daemon in CI, so the files are read)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _instructions() -> list[tuple[str, str]]:
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ").splitlines()
    return [
        (parts[0].upper(), parts[1] if len(parts) > 1 else "")
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
        for parts in [line.strip().split(maxsplit=1)]
    ]


def test_dockerfile_slim_python_non_root_data_volume_and_the_bot_as_command() -> None:
    steps = _instructions()
    [base] = [arg for op, arg in steps if op == "FROM"]
    assert re.fullmatch(r"python:3\.1[1-9]-slim", base), base
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("VOLUME", '["/data"]') in steps
    env = " ".join(arg for op, arg in steps if op == "ENV")
    assert "BOT_DATABASE=/data/" in env
    assert steps[-1] == ("CMD", '["python", "-m", "bot"]')
    # Everything the bot reads at run time is copied in.
    copied = " ".join(arg for op, arg in steps if op == "COPY")
    for needed in ("pyproject.toml", "bot", "handlers", "content", "migrations"):
        assert needed in copied, needed


def test_dockerignore_keeps_secrets_databases_and_the_venv_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".env", ".venv", "data", "*.sqlite3*", ".git"} <= ignored


def test_the_python_and_library_pins_of_the_stack() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = " ".join(project["dependencies"])
    assert project["requires-python"] == ">=3.11"
    assert "python-telegram-bot[job-queue,rate-limiter,webhooks]>=22" in deps
    assert "APScheduler>=3.11.2" in deps  # the DST fix


def test_every_package_is_installed() -> None:
    """A sub-package missing from [tool.setuptools] packages works in the checkout but not in the image."""
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("bot", "handlers")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found == listed
