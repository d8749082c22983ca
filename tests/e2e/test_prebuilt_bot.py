"""The loader of tests/e2e/prebuilt_bot.py: the pickled content for the folder it was built from, the real loader
for any other folder (so a test's own content/ is read as the bot would)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.answers import Answerer
from tests.content_cache import REPO_CONTENT

from .prebuilt_bot import prebuilt_loader


def test_the_pickle_serves_its_folder_with_the_answerer_already_built(
    prebuilt_content: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content, search = prebuilt_loader(prebuilt_content)(REPO_CONTENT)

    def build(*args: object) -> Answerer:
        raise AssertionError("the answerer was built again")

    monkeypatch.setattr(Answerer, "build", build)
    answerer = Answerer.shared(content, search)  # what the bot's start-up asks for
    assert answerer.content is content and answerer.search is search
    assert content.texts("start.welcome", name="Anna")


def test_another_or_changed_folder_is_loaded_for_real(prebuilt_content: Path, tmp_path: Path) -> None:
    copy = tmp_path / "content"
    shutil.copytree(REPO_CONTENT, copy)
    served, _ = prebuilt_loader(prebuilt_content)(REPO_CONTENT)

    loaded, _ = prebuilt_loader(prebuilt_content)(copy)

    assert loaded is not served
    assert loaded.texts("start.welcome", name="Anna") == served.texts("start.welcome", name="Anna")
