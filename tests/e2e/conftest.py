"""Fixtures for end-to-end tests: a fake Bot API server per test and the bot as a subprocess."""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from bot.answers import Answerer
from tests.content_cache import REPO_CONTENT, cached_content, cached_index, content_key

from .botprocess import BotProcess, BotStarter
from .fakeapi import FakeBotApi
from .prebuilt_bot import PREBUILT_ENV

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


@pytest.fixture(scope="session")
def prebuilt_content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """content/ with its search index and answerer, built once per test process and pickled for the bot
    processes (see tests/e2e/prebuilt_bot.py)."""
    path = tmp_path_factory.mktemp("prebuilt") / "content.pickle"
    answerer = Answerer.build(cached_content(), cached_index())
    with path.open("wb") as file:
        pickle.dump((content_key(REPO_CONTENT), answerer), file, protocol=pickle.HIGHEST_PROTOCOL)
    return path


@pytest.fixture
def bot_process(
    fake_api: FakeBotApi,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[BotStarter]:
    """Starts the bot against ``fake_api`` (database in tmp_path unless given): ``python -m bot`` for tests
    marked ``plain_start``, else ``python -m tests.e2e.prebuilt_bot`` (the same bot with content/ and its indexes
    unpickled instead of built at every start).

    Every process still running at the end is terminated; each one's output is printed at teardown,
    so pytest shows it for a failing test.
    """
    started: list[BotProcess] = []
    plain = request.node.get_closest_marker("plain_start") is not None
    prebuilt = {} if plain else {PREBUILT_ENV: str(request.getfixturevalue("prebuilt_content"))}

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
            {**prebuilt, **(extra_env or {})},
            log_path=tmp_path / f"bot-{number}.log",
            args=args,
            module="bot" if plain else "tests.e2e.prebuilt_bot",
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
