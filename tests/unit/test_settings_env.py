"""Where settings come from: keyword arguments over the environment over ``.env`` over the defaults, names in
any case, the ``.env`` syntax python-dotenv reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, load_settings


def test_arguments_win_over_the_environment_and_the_environment_over_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "BOT_TOKEN=from-file\nBOT_TIMEZONE=Europe/Vienna\nbot_staff_chat_id=-100\nOTHER=x\nBOT_UNKNOWN=1\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("BOT_TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("bot_admin_ids", "1, 2")
    settings = Settings(_env_file=env_file)
    assert settings.require_token() == "from-file"
    assert settings.timezone == "Europe/Paris"
    assert settings.staff_chat_id == -100
    assert settings.admin_ids == frozenset({1, 2})
    assert Settings(_env_file=env_file, timezone="UTC").timezone == "UTC"
    assert Settings(_env_file=None).token is None


def test_the_env_file_in_the_working_directory_is_read_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("BOT_BROADCAST_RATE=12.5\n", encoding="utf-8")
    assert load_settings().broadcast_rate == 12.5
    assert load_settings(broadcast_rate=3).broadcast_rate == 3


def test_env_file_syntax(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOST_NAME", "bot.example.org")
    path = tmp_path / ".env"
    path.write_text(
        "# a comment\n"
        "\n"
        "export BOT_PRIVACY_CONTROLLER=plain value  # trailing comment\n"
        "BOT_PRIVACY_CONTACT='single # kept ${HOST_NAME}'\n"
        'BOT_WEBHOOK_LISTEN="double \\"quoted\\"\\nline"\n'
        "BOT_WEBHOOK_URL=https://${HOST_NAME}/hook\n"
        "BOT_TOKEN=${BOT_PRIVACY_CONTROLLER}-${MISSING:-fallback}\n"
        "not a setting\n",
        encoding="utf-8",
    )
    settings = Settings(_env_file=path)
    assert settings.privacy_controller == "plain value"
    assert settings.privacy_contact == "single # kept bot.example.org"
    assert settings.webhook_listen == 'double "quoted"\nline'
    assert settings.webhook_url == "https://bot.example.org/hook"
    assert settings.require_token() == "plain value-fallback"
