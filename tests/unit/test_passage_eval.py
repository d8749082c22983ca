"""Passage eval: for each question the article and the section a user should read first.

tests/data/eval_passages_before_tuning.yaml was written before the passage choice was tuned and is kept as
written; tests/data/eval_passages.yaml was written from the content of this round. The right section (and the
structured answer where one is expected) must come first for 90 % of the questions of this round's set.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.answers import Answerer
from bot.content import load_content

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
SETS = sorted(p.name for p in DATA.glob("eval_passages*.yaml"))
# The set of this round is held to 90 %. The set written before tuning is a check against over-fitting: its
# figure is reported; it must not fall below 80 % (its headings follow renamed sections, its questions stay).
SECTION_SHARE = {"eval_passages.yaml": 0.90, "eval_passages_before_tuning.yaml": 0.80}
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def answerer() -> Answerer:
    return Answerer.build(load_content(ROOT / "content"))


# eval_passages.yaml names the articles and sections of this round's content; until its new articles are merged
# (kosten-beispiel, partnerlaender-weitere, staedtepartnerschaften, zeitplan-erste-begegnung) it is skipped
# rather than failing on articles and headings that do not exist yet.
WRITTEN_FOR_NEW_CONTENT = {"eval_passages.yaml"}


def _skip_until_content_lands(name: str) -> None:
    articles = load_content(ROOT / "content").articles
    missing = {item["article"] for item in _items(name)} - set(articles)
    if name in WRITTEN_FOR_NEW_CONTENT and missing:
        pytest.skip(f"{name} is written for the content of this round; not merged yet: {sorted(missing)}")


def _items(name: str) -> list[dict[str, Any]]:
    items = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    assert isinstance(items, list) and items
    return items


def _sections(item: dict[str, Any]) -> list[str | None]:
    """The acceptable headings: one, or (for a section renamed since the item was written) old and new."""
    section = item["section"]
    return list(section) if isinstance(section, list) else [section]


def _got(answerer: Answerer, question: str) -> tuple[str | None, str | None, str | None]:
    result = answerer.answer(question, now=NOW, tz=TZ)
    passage = result.passage
    if passage is None:
        return None, None, None
    return passage.article_id, passage.section, passage.kind


def test_sets_exist() -> None:
    assert "eval_passages_before_tuning.yaml" in SETS


@pytest.mark.parametrize("name", SETS)
def test_eval_set_is_well_formed(name: str) -> None:
    _skip_until_content_lands(name)
    content = load_content(ROOT / "content")
    for item in _items(name):
        assert set(item) <= {"q", "article", "section", "kind"} and {"q", "article", "section"} <= set(item)
        article = content.articles.get(item["article"])
        assert article is not None, item
        sections = _sections(item)
        assert any(s is None or f"## {s}\n" in article.body + "\n" for s in sections), (
            f"{item['q']!r}: none of the sections {sections} is in {item['article']}"
        )


@pytest.mark.parametrize("name", SETS)
def test_the_right_section_comes_first_for_nearly_all(answerer: Answerer, name: str) -> None:
    _skip_until_content_lands(name)
    items = _items(name)
    wrong = []
    for item in items:
        got = _got(answerer, item["q"])
        want_kind = item.get("kind")
        ok = (
            got[0] == item["article"]
            and got[1] in _sections(item)
            and (want_kind is None or got[2] == want_kind)
        )
        if not ok:
            wrong.append(
                f"{item['q']!r}: want {item['article']} / {item['section']} ({want_kind}), got {got}"
            )
    share = 1 - len(wrong) / len(items)
    bar = SECTION_SHARE.get(name, 0.90)
    assert share >= bar, f"section first {share:.0%} < {bar:.0%}:\n" + "\n".join(wrong)
