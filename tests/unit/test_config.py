"""Settings and the command line: one clear line and exit code 2 on a bad setting; the token never shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "123456789:AAH-very-secret-token-value-0123456789"


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **(env or {})},
        cwd=cwd,
    )


def test_missing_token_is_one_clear_line(tmp_path: Path) -> None:
    result = run_cli("run", env={"BOT_DATABASE": str(tmp_path / "db.sqlite3")})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "BOT_TOKEN" in lines[0]


def test_invalid_setting_names_the_variable_and_hides_the_token(tmp_path: Path) -> None:
    result = run_cli("run", env={"BOT_TOKEN": SECRET, "BOT_ADMIN_IDS": "12,abc"})
    assert result.returncode == 2
    assert "BOT_ADMIN_IDS" in result.stderr
    assert SECRET not in result.stderr + result.stdout
    result = run_cli("run", env={"BOT_TOKEN": SECRET, "BOT_TIMEZONE": "Mars/Olympus"})
    assert result.returncode == 2 and "BOT_TIMEZONE" in result.stderr


def test_admin_ids_parse_comma_separated() -> None:
    from bot.config import Settings

    settings = Settings(admin_ids="111, 222", _env_file=None)
    assert settings.admin_ids == frozenset({111, 222})


def test_migrate_and_backup_commands(tmp_path: Path) -> None:
    env = {"BOT_DATABASE": str(tmp_path / "db.sqlite3")}
    assert run_cli("migrate", env=env).returncode == 0
    result = run_cli("backup", str(tmp_path / "b.sqlite3"), env=env)
    assert result.returncode == 0 and (tmp_path / "b.sqlite3").exists()


def test_check_content_passes_on_the_shipped_content() -> None:
    result = run_cli("check-content")
    assert result.returncode == 0, result.stderr


def test_check_content_names_the_problem(tmp_path: Path) -> None:
    import shutil

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    article = next((content / "articles").glob("*.md"))
    article.write_text(article.read_text().replace("https://", "http://", 1))
    result = run_cli("check-content", env={"BOT_CONTENT_DIR": str(content)})
    assert result.returncode == 1
    assert f"articles/{article.name}" in result.stderr and "https" in result.stderr


def test_check_content_rejects_a_check_date_in_the_future(tmp_path: Path) -> None:
    import shutil
    from datetime import date

    from bot.content_check import check_content

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    today = date(2026, 12, 4)
    assert check_content(content, today)[0] == []
    article = content / "articles" / "eurodesk.md"
    text = article.read_text(encoding="utf-8")
    assert "checked: 2026-12-04" in text
    article.write_text(text.replace("checked: 2026-12-04", "checked: 2031-01-01", 1), encoding="utf-8")
    errors, _ = check_content(content, today)
    assert len(errors) == 1 and errors[0].startswith("articles/eurodesk.md: ")
    assert errors[0].endswith("2031-01-01 lies in the future"), errors


def test_misses_lists_unanswered_questions_and_ratings_without_users(tmp_path: Path) -> None:
    import asyncio
    from datetime import UTC, datetime

    from bot.app import MIGRATIONS_DIR
    from bot.db import Database

    async def seed() -> None:
        db = await Database.open(tmp_path / "db.sqlite3")
        await db.migrate(MIGRATIONS_DIR)
        now = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
        await db.log_miss("Zeltlager am Nordpol?", "recht-sicherheit", 0.12, now)
        await db.rate_article(987654321, "foerderung-dpjw", False, now)
        await db.rate_article(987654322, "foerderung-dpjw", True, now)
        await db.close()

    asyncio.run(seed())
    result = run_cli("misses", env={"BOT_DATABASE": str(tmp_path / "db.sqlite3")})
    assert result.returncode == 0, result.stderr
    assert "[recht-sicherheit]  Zeltlager am Nordpol?" in result.stdout
    assert "   1 / 1    foerderung-dpjw" in result.stdout
    assert "98765432" not in result.stdout
    missing = run_cli("misses", env={"BOT_DATABASE": str(tmp_path / "none.sqlite3")})
    assert missing.returncode == 1 and "no database" in missing.stderr
