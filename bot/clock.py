"""The clock every rule asks for the time, so tests can inject one."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, value: datetime) -> None:
        self._now = value.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class FileClock:
    """Reads the time from a file on every call (ISO 8601); end-to-end tests move a bot process's clock with it.

    Enabled only by the test-only environment variable ``IJA_LOTSE_TEST_CLOCK_FILE``.
    """

    def __init__(self, path: Path) -> None:
        self._path = path

    def now(self) -> datetime:
        try:
            text = self._path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return datetime.now(UTC)
        return datetime.fromisoformat(text).astimezone(UTC)


def clock_from_environment() -> Clock:
    path = os.environ.get("IJA_LOTSE_TEST_CLOCK_FILE")
    return FileClock(Path(path)) if path else SystemClock()
