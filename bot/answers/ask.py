"""``python -m bot ask "FRAGE" [--json]``: the passage a user would read first, and the article ranking."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from bot.answers.answerer import Answerer
from bot.answers.model import Answer
from bot.clock import SystemClock
from bot.config import Settings
from bot.content import ContentError, load_content
from bot.search import Hit
from bot.telegram_html import html_to_plain


def ask_command(settings: Settings, question: str, *, as_json: bool, limit: int) -> int:
    """``python -m bot ask "FRAGE" [--json]``: the passage a user would read first, and the article ranking."""
    try:
        content = load_content(settings.content_dir)
    except ContentError as exc:
        for line in exc.problems:
            print(f"error: {line}", file=sys.stderr)
        return 1
    answerer = Answerer.build(content)
    result = answerer.answer(question, now=SystemClock().now(), tz=settings.tz)
    hits = result.hits[: max(limit, 0)]
    passage = result.passage
    if as_json:
        print(json.dumps(answer_json(result, hits), ensure_ascii=False, indent=2))
        return 0
    if passage is None:
        print("no passage: the bot says it has no sure answer and offers a consultation")
    else:
        where = f"{passage.article_id or '-'} / {passage.section or '(overview)'}"
        print(f"passage: {passage.kind} {where}{'' if result.exact else ' (inexact: nearby)'}")
        print(f"stand: {passage.stand or '-'}; sources: {', '.join(s.url for s in passage.sources) or '-'}")
        print(html_to_plain(passage.html))
        print()
    if not hits:
        print("no matching article")
        return 0
    print(_table(["#", "score", "confident", "id", "title"], _rows(hits)))
    return 0


def answer_json(result: Answer, hits: Sequence[Hit]) -> dict[str, Any]:
    """The answer as ``ask --json`` prints it: the chosen passage, the slots read, and the article ranking."""
    passage = result.passage
    return {
        "question": result.question,
        "passage": None
        if passage is None
        else {
            "id": passage.id,
            "kind": passage.kind,
            "article": passage.article_id,
            "section": passage.section,
            "title": passage.title,
            "text": html_to_plain(passage.html),
            "sources": [{"title": s.title, "url": s.url} for s in passage.sources],
            "stand": passage.stand.isoformat() if passage.stand else None,
            "land": passage.land,
            "programme": passage.programme,
        },
        "exact": result.exact,
        "land": result.land,
        "land_source": result.land_source,
        "programme": result.programme,
        "intent": result.intent,
        "ranking": [
            {"id": h.article_id, "title": h.title, "score": h.score, "confident": h.confident} for h in hits
        ],
    }


def _rows(hits: Iterable[Hit]) -> list[list[str]]:
    return [
        [str(rank), f"{h.score:.3f}", "yes" if h.confident else "no", h.article_id, h.title]
        for rank, h in enumerate(hits, start=1)
    ]


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
