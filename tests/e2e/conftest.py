"""Fixtures for end-to-end tests: a fake Bot API server per test and the bot as a subprocess."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from .botprocess import BotProcess, BotStarter
from .fakeapi import FakeBotApi

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks every test in this folder with ``e2e`` (select with ``-m e2e``, skip with ``-m "not e2e"``)."""
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    """A running fake Bot API server, stopped after the test."""
    with FakeBotApi() as api:
        yield api


@pytest.fixture
def bot_process(
    fake_api: FakeBotApi,
    tmp_path: Path,
) -> Iterator[BotStarter]:
    """Starts the bot (``python -m bot``) against ``fake_api`` (database in tmp_path unless given). It reads
    content/ and its indexes from the pre-built file the test session wrote beside content/ (tests/conftest.py),
    as an installed image does.

    Every process still running at the end is terminated; each one's output is printed at teardown,
    so pytest shows it for a failing test.
    """
    started: list[BotProcess] = []

    def start(
        extra_env: Mapping[str, str] | None = None,
        *,
        db_path: Path | None = None,
        args: Sequence[str] = (),
        wait: bool = True,
    ) -> BotProcess:
        number = len(started) + 1
        process = BotProcess(
            fake_api.url,
            db_path or tmp_path / "bot.sqlite3",
            dict(extra_env or {}),
            log_path=tmp_path / f"bot-{number}.log",
            args=args,
        )
        calls_before = fake_api.received_count(process.ready_method)
        started.append(process.start())
        if wait:
            process.wait_started(fake_api, calls_before=calls_before)
        return process

    yield start

    for number, process in enumerate(started, start=1):
        if process.running:
            process.terminate()
        print(f"---- output of bot process {number} (exit code {process.process.returncode}) ----")
        print(process.output())
