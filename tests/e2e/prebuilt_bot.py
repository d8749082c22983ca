"""``python -m tests.e2e.prebuilt_bot``: ``python -m bot`` with content/, its search index and the answerer read
from a pickle the test session built once, instead of parsing and indexing them again at every start.

Parsing content/ and building the indexes was about 2 s of each bot start, and the end-to-end tests start the
bot over a hundred times (60 in the kill -9 trials alone). Everything else is the real bot: the same command line,
settings, database, intake, outbox and handlers, and the same Content, SearchIndex and Answerer objects
``load_content`` and ``Answerer.build`` make (pickled after building). When the content folder differs from the one
the pickle was built from (another folder, or a file changed since), the real loader runs.
``tests/e2e/test_start_e2e.py`` starts the real ``python -m bot``.
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import bot.answers.answerer
import bot.app
from bot.cli import main
from bot.content import Content, load_content
from bot.search import SearchIndex
from tests.content_cache import content_key

# The pickle written by tests/e2e/conftest.py: (content_key of the folder, the Answerer built over it).
PREBUILT_ENV = "IJA_TEST_PREBUILT_CONTENT"


def prebuilt_loader(path: Path) -> bot.app.ContentLoader:
    """A loader for ``build_application`` that unpickles ``path`` for the folder it was built from."""

    def load(root: Path) -> tuple[Content, SearchIndex]:
        with path.open("rb") as file:
            key, answerer = pickle.load(file)
        if content_key(root) != key:
            content = load_content(root)
            return content, SearchIndex.build(content)
        content, search = answerer.content, answerer.search
        # What Answerer.shared(content, search) would build in _post_init, built by the test session already.
        bot.answers.answerer._SHARED[(id(content), id(search))] = answerer
        return content, search

    return load


if __name__ == "__main__":
    # build_application's keyword default is the only seam `python -m bot` offers; the rest runs unchanged.
    defaults = bot.app.build_application.__kwdefaults__
    assert defaults is not None and "load" in defaults, "build_application no longer takes load="
    defaults["load"] = prebuilt_loader(Path(os.environ[PREBUILT_ENV]))
    sys.exit(main())
