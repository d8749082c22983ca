"""The pre-built content file: a start with unchanged content and code answers exactly as one that parsed and
built everything; any changed content file builds afresh; a file the bot cannot trust or read is ignored."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot import prebuilt
from bot.answers import Answerer, answer_json
from bot.content import ContentError
from bot.startup import build_content_early
from tests.content_cache import REPO_CONTENT, cached_content, cached_index

DATA = Path(__file__).resolve().parents[1] / "data"
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")


def _questions() -> list[str]:
    questions: list[str] = []
    for name in ("eval_passages.yaml", "eval_questions_unseen.yaml", "offtopic_questions.yaml"):
        items = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
        questions += [item["q"] if isinstance(item, dict) else str(item) for item in items]
    return questions


def _shipped() -> prebuilt.Loaded:
    content = cached_content()
    search = cached_index()
    return prebuilt.Loaded(content, search, Answerer.shared(content, search))


def _answers(loaded: prebuilt.Loaded, questions: list[str]) -> list[dict[str, Any]]:
    results = []
    for question in questions:
        result = loaded.answers.answer(question, now=NOW, tz=TZ)
        results.append(answer_json(result, result.hits))
    return results


class CountingBuild:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, content_dir: Path) -> prebuilt.Loaded:
        self.calls += 1
        return _shipped()


@pytest.fixture(autouse=True)
def no_shipped_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """The session writes a shipped file beside the repository's content/ (tests/conftest.py); these tests are
    about the data folder's file and the build, so for them that one file is not there."""
    read = prebuilt._read
    shipped = REPO_CONTENT.parent / prebuilt.FILE_NAME

    def without_shipped(path: Path, key: bytes) -> prebuilt.Loaded | None:
        return None if path == shipped else read(path, key)

    monkeypatch.setattr(prebuilt, "_read", without_shipped)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingBuild:
    build = CountingBuild()
    monkeypatch.setattr(prebuilt, "build", build)
    return build


def test_a_start_from_the_file_answers_exactly_as_a_fresh_build(
    tmp_path: Path, counting: CountingBuild
) -> None:
    first = prebuilt.load(REPO_CONTENT, tmp_path, in_child=False)
    again = prebuilt.load(REPO_CONTENT, tmp_path, in_child=False)
    assert counting.calls == 1 and again is not first
    assert (tmp_path / prebuilt.FILE_NAME).stat().st_mode & 0o777 == 0o600
    questions = _questions()
    assert len(questions) > 100
    assert _answers(again, questions) == _answers(first, questions)
    question = "Partnerorganisation in Polen"
    assert again.search.search(question) == first.search.search(question)
    # articles given the same fields share one set of names; a copy with changes takes its own
    by_fields: dict[frozenset[str], list[Any]] = {}
    for article in again.content.articles.values():
        by_fields.setdefault(frozenset(article.model_fields_set), []).append(article)
    one, other = max(by_fields.values(), key=len)[:2]
    assert one.__pydantic_fields_set__ is other.__pydantic_fields_set__
    before = set(other.model_fields_set)
    changed = one.model_copy(update={"title": "Neu"})
    assert changed.title == "Neu" and other.model_fields_set == before


def test_a_changed_content_file_builds_afresh(tmp_path: Path, counting: CountingBuild) -> None:
    content = tmp_path / "content"
    shutil.copytree(REPO_CONTENT, content)
    data = tmp_path / "data"
    data.mkdir()
    prebuilt.load(content, data, in_child=False)
    prebuilt.load(content, data, in_child=False)
    assert counting.calls == 1
    article = next((content / "articles").glob("*.md"))
    article.write_text(article.read_text(encoding="utf-8") + "\nEin Satz mehr.\n", encoding="utf-8")
    prebuilt.load(content, data, in_child=False)
    assert counting.calls == 2
    (content / "articles" / "neu.md").write_text("x", encoding="utf-8")
    prebuilt.load(content, data, in_child=False)
    assert counting.calls == 3


def test_a_file_others_can_write_or_a_damaged_one_is_ignored(tmp_path: Path, counting: CountingBuild) -> None:
    path = tmp_path / prebuilt.FILE_NAME
    prebuilt.load(REPO_CONTENT, tmp_path, in_child=False)
    os.chmod(path, 0o666)
    prebuilt.load(REPO_CONTENT, tmp_path, in_child=False)
    assert counting.calls == 2  # ignored, then replaced by one of mode 0600
    assert path.stat().st_mode & 0o777 == 0o600
    key = prebuilt.fingerprint(REPO_CONTENT)
    path.write_bytes(key + b"not a pickle")
    loaded = prebuilt.load(REPO_CONTENT, tmp_path, in_child=False)
    assert counting.calls == 3 and loaded.content is cached_content()
    prebuilt.load(REPO_CONTENT, tmp_path, in_child=False)
    assert counting.calls == 3


def test_a_child_process_builds_the_file_and_invalid_content_fails_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_here(content_dir: Path) -> prebuilt.Loaded:
        raise AssertionError("built in the bot's own process")

    monkeypatch.setattr(prebuilt, "build", not_here)
    loaded = prebuilt.load(REPO_CONTENT, tmp_path)
    question = "Wie finden wir eine Partnerorganisation in Polen?"
    assert _answers(loaded, [question]) == _answers(_shipped(), [question])
    monkeypatch.undo()
    content = tmp_path / "content"
    shutil.copytree(REPO_CONTENT, content)
    (content / "menu.yaml").write_text("[not: valid", encoding="utf-8")
    with pytest.raises(ContentError, match=r"menu\.yaml: invalid YAML"):
        prebuilt.load(content, tmp_path)


def test_a_file_shipped_beside_the_content_is_read_when_the_data_folder_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = tmp_path / "app" / "content"
    shutil.copytree(REPO_CONTENT, content)
    monkeypatch.setattr(prebuilt, "build", lambda content_dir: _shipped())
    prebuilt.write_shipped(content)
    shipped = tmp_path / "app" / prebuilt.FILE_NAME
    assert shipped.stat().st_mode & 0o777 == 0o644
    counting = CountingBuild()
    monkeypatch.setattr(prebuilt, "build", counting)
    data = tmp_path / "data"
    data.mkdir()
    prebuilt.load(content, data, in_child=False)
    assert counting.calls == 0 and not (data / prebuilt.FILE_NAME).exists()
    os.chmod(shipped, 0o666)
    prebuilt.load(content, data, in_child=False)
    assert counting.calls == 1 and (data / prebuilt.FILE_NAME).exists()


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, Path]]:
    """The child processes started, by content and data folder; none started early before the test."""
    calls: list[tuple[Path, Path]] = []
    spawn = prebuilt._spawn_child

    def counting(content_dir: Path, data_dir: Path) -> subprocess.Popen[bytes] | None:
        calls.append((content_dir, data_dir))
        return spawn(content_dir, data_dir)

    monkeypatch.setattr(prebuilt, "_spawn_child", counting)
    monkeypatch.setattr(prebuilt, "_early", None)
    return calls


def _not_here(content_dir: Path) -> prebuilt.Loaded:
    raise AssertionError("built in the bot's own process")


def test_a_child_started_early_is_the_one_the_start_waits_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spawned: list[tuple[Path, Path]]
) -> None:
    content = tmp_path / "content"  # no shipped file beside this copy
    shutil.copytree(REPO_CONTENT, content)
    data = tmp_path / "data" / "not-yet"  # a first start: the database has not made the folder yet
    monkeypatch.setattr(prebuilt, "build", _not_here)
    assert prebuilt.start_early(content, data)
    loaded = prebuilt.load(content, data)
    assert spawned == [(content, data)]
    question = "Wie finden wir eine Partnerorganisation in Polen?"
    assert _answers(loaded, [question]) == _answers(_shipped(), [question])
    assert not prebuilt.start_early(content, data)  # the file fits now: nothing to build
    assert spawned == [(content, data)]


def test_an_early_child_for_another_folder_is_stopped_and_the_start_builds_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spawned: list[tuple[Path, Path]]
) -> None:
    content = tmp_path / "content"
    shutil.copytree(REPO_CONTENT, content)
    other, data = tmp_path / "other", tmp_path / "data"
    assert prebuilt.start_early(content, other)
    early = prebuilt._early
    assert early is not None and early.process is not None
    monkeypatch.setattr(prebuilt, "build", _not_here)
    prebuilt.load(content, data)
    assert spawned == [(content, other), (content, data)]
    assert early.process.returncode is not None  # stopped and reaped, not left running
    assert (data / prebuilt.FILE_NAME).exists() and prebuilt._early is None


def test_only_the_run_verb_builds_early_and_bad_settings_are_left_to_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[tuple[Path, Path]] = []

    def start_early(content_dir: Path, data_dir: Path) -> bool:
        started.append((content_dir, data_dir))
        return True

    monkeypatch.setattr(prebuilt, "start_early", start_early)
    monkeypatch.setenv("BOT_CONTENT_DIR", str(tmp_path / "content"))
    monkeypatch.setenv("BOT_DATABASE", str(tmp_path / "data" / "bot.sqlite3"))
    for argv in (["demo"], ["ask", "Frage"], ["check-content"]):
        build_content_early(argv)
    assert started == []
    build_content_early([])
    build_content_early(["run"])
    assert started == [(tmp_path / "content", tmp_path / "data")] * 2
    monkeypatch.setenv("BOT_LOG_LEVEL", "LOUD")
    build_content_early(["run"])
    assert len(started) == 2
