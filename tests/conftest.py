from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.content import Content
from bot.db import MIGRATIONS_DIR, Database
from bot.search import SearchIndex
from tests.content_cache import cached_content, cached_index
from tests.harness import Harness, harness

# PTB 22 opts in to timedelta durations (RetryAfter.retry_after …); the bot process does the same in __main__.
os.environ["PTB_TIMEDELTA"] = "1"


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
