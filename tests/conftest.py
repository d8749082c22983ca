from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import prebuilt
from bot.answers import Answerer
from bot.content import Content
from bot.db import MIGRATIONS_DIR, Database
from bot.search import SearchIndex
from tests.content_cache import cached_content, cached_index
from tests.harness import Harness, harness

ROOT = Path(__file__).resolve().parents[1]

# How `make test` shares the tests between its workers (pytest-xdist --dist loadgroup): a file's tests stay
# together on one worker (the end-to-end tests of one file never overlap), except in the files below, whose tests
# are long (each kill -9 scenario takes a minute or more) and go to whichever worker is free.
SPLIT_FILES = frozenset({"tests/e2e/test_crash_e2e.py"})
# The longest files are handed out first, so that no worker is left running one of them alone at the end.
LONGEST_FIRST = (
    "tests/e2e/test_crash_e2e.py",
    "tests/e2e/test_faults_e2e.py",
    "tests/e2e/test_announcements_e2e.py",
)


def pytest_configure(config: pytest.Config) -> None:
    """Once per session (in the controller, not in each xdist worker): the pre-built content beside content/, as
    an installation ships it (Dockerfile), so every bot, demo and command-line process the tests start reads it
    instead of building it in a child process. Tests of building and of changed content use their own folders."""
    if not hasattr(config, "workerinput"):
        prebuilt.ensure_shipped(ROOT / "content")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Puts each test in its xdist group (its file, or itself in SPLIT_FILES) and the longest files first."""
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(item.nodeid if path in SPLIT_FILES else path))

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within a file and among the other files stays


# The processes the tests start (the bot, its command line, the demo) compiled the project's modules anew at every
# start when PYTHONDONTWRITEBYTECODE is set (about a second each, some hundred starts); their bytecode goes to a
# cache outside the source tree instead, which keeps the tree as clean.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "ija-lotse-test-pycache"))

# PTB 22 opts in to timedelta durations (RetryAfter.retry_after …); the bot process does the same in __main__.
os.environ["PTB_TIMEDELTA"] = "1"


@pytest.fixture(scope="session", autouse=True)
def _shared_content_outside_gc() -> None:
    """The repository's content/, its indexes and answerer built once, then every object alive so far (these and
    the imported modules) left out of the cyclic garbage collector: each application the tests start collects
    garbage once started (bot.app.release_memory), which walked all of them every time (a quarter of a harness
    start)."""
    Answerer.shared(cached_content(), cached_index())
    gc.freeze()


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    """The real bot, in process, with a fresh database and a strict offline Bot API."""
    async with harness(tmp_path) as h:
        yield h


@pytest.fixture(scope="session")
def content() -> Content:
    """The repository's content/, parsed once for the whole run (read-only: the models are frozen)."""
    return cached_content()


@pytest.fixture(scope="session")
def index() -> SearchIndex:
    """The search index over the repository's content/, built once for the whole run."""
    return cached_index()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh, migrated database (no application around it)."""
    database = await Database.open(tmp_path / "test.sqlite3")
    await database.migrate(MIGRATIONS_DIR)
    yield database
    await database.close()
