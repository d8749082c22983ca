"""Settings from the environment (prefix ``BOT_``) and an optional ``.env`` file.

Built once in ``bot.cli`` and passed down; nothing reads the environment at import time.
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class Settings(BaseSettings):
    """The runtime contract of DESIGN.md; field names map to ``BOT_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="BOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    token: SecretStr | None = None
    api_url: str = "https://api.telegram.org"
    database: Path = Path("data/ija-lotse.sqlite3")
    staff_chat_id: int | None = None
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    timezone: str = "Europe/Berlin"
    content_dir: Path = REPO_ROOT / "content"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    broadcast_rate: float = Field(default=25.0, gt=0, le=30)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    # Seconds between ticks of the job that finds due work in the database (outbox, reminders).
    tick_seconds: float = Field(default=2.0, gt=0, le=300)
    # Hours after which an unclaimed consultation request is raised again in the staff group.
    request_reminder_hours: float = Field(default=24.0, gt=0)
    # Privacy notice: who is responsible (name, address) and a contact outside Telegram; the operator fills
    # them in, until then the notice shows a clearly marked placeholder.
    privacy_controller: str | None = None
    privacy_contact: str | None = None
    # Retention in days, applied by the daily maintenance job and stated in the privacy notice.
    retention_request_days: int = Field(default=365, ge=1)
    retention_miss_days: int = Field(default=90, ge=1)
    retention_announcement_days: int = Field(default=30, ge=1)
    retention_outbox_days: int = Field(default=30, ge=1)
    # Local time (BOT_TIMEZONE) of the daily maintenance job: retention, then the automatic backup.
    maintenance_time: time = time(3, 30)
    # Folder for automatic daily backups (unset: none) and how many of them to keep.
    backup_dir: Path | None = None
    backup_keep: int = Field(default=7, ge=1, le=365)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            return frozenset(int(p) for p in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("api_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("webhook_secret")
    @classmethod
    def _secret_token_charset(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value() == "":
            return None
        # Telegram's rule for setWebhook's secret_token; checked here so a bad one fails at start, not later.
        if not _SECRET_TOKEN.match(value.get_secret_value()):
            raise ValueError("1-256 characters A-Z, a-z, 0-9, _ and - only")
        return value

    @field_validator("privacy_controller", "privacy_contact", "backup_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def require_token(self) -> str:
        """The bot token, or a ``SettingsError`` naming ``BOT_TOKEN``."""
        if self.token is None or not self.token.get_secret_value().strip():
            raise SettingsError("BOT_TOKEN: required to run the bot (the token from @BotFather)")
        return self.token.get_secret_value().strip()


class SettingsError(Exception):
    """A missing or invalid setting; its message is one line naming the variable."""


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into one clear line without secret values."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "BOT_" + str(first["loc"][0]).upper() if first["loc"] else "BOT_*"
        # Never echo the input: it may be the token.
        raise SettingsError(f"{name}: {first['msg']}") from None
