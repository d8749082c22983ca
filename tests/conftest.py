from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import Harness, harness

# PTB 22 opts in to timedelta durations (RetryAfter.retry_after …); the bot process does the same in __main__.
os.environ["PTB_TIMEDELTA"] = "1"


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    """The real bot, in process, with a fresh database and a strict offline Bot API."""
    async with harness(tmp_path) as h:
        yield h
