"""Advice rules: rendering articles into Telegram pages and checking free-text questions."""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass

from bot.answers import Answer
from bot.config import Settings
from bot.content import Content, load_content
from bot.content_models.articles import Article
from bot.db import Database
from bot.telegram_html import Html, escape, split_message, visible_length
from bot.texts import Texts

# Leave room for the page line under Telegram's 4096 characters.
PAGE_LIMIT = 3800
# Questions longer than this are answered from their beginning; the search caps its own work too.
QUESTION_LIMIT = 500


def article_pages(article: Article, texts: Texts) -> list[str]:
    """The article as one or more HTML pages: title and lead first, sources and Stand at the end."""
    sections = article.html_sections()
    head = (
        f"<b>{escape(article.title)}</b>\n\n{sections[0]}" if sections else f"<b>{escape(article.title)}</b>"
    )
    links = " · ".join(f'<a href="{escape(s.url)}">{escape(s.title)}</a>' for s in article.sources)
    footer = (
        texts("advice.sources", links=Html(links))
        + "\n"
        + texts("advice.stand", stand=f"{article.shown_stand:%d.%m.%Y}")
    )
    pages = split_message([head, *sections[1:], footer], limit=PAGE_LIMIT)
    if len(pages) > 1:
        pages = [f"{p}\n\n{texts('advice.page', page=i + 1, pages=len(pages))}" for i, p in enumerate(pages)]
    return pages


STRUCTURED_KINDS = frozenset({"rates", "limits", "lead", "laenderstelle", "land"})


def answer_text(answer: Answer, content: Content, *, alternatives: bool = False) -> str:
    """The first message of an answer: the passage (never cut), its source and Stand, which Land it assumed;
    for an inexact answer the honest "not exactly" first and the consultation offer last."""
    texts = content.texts
    passage = answer.passage
    if passage is None:
        return ""
    parts: list[str] = []
    if not answer.exact:
        parts.append(texts("advice.nearby"))
    head = texts("advice.passage_title", title=passage.title)
    parts.append(f"{head}\n{passage.html}" if passage.html else head)
    if answer.notes:
        parts.append("\n".join(answer.notes))
    footer: list[str] = []
    if passage.sources:
        links = " · ".join(f'<a href="{escape(s.url)}">{escape(s.title)}</a>' for s in passage.sources)
        if passage.stand is not None:
            footer.append(
                texts("advice.passage_sources", links=Html(links), stand=f"{passage.stand:%d.%m.%Y}")
            )
        else:
            footer.append(texts("advice.passage_sources_nostand", links=Html(links)))
    if answer.land is not None and passage.land is not None:
        land = content.land_name(answer.land)
        if answer.land_source == "profile":
            other = content.land_name("BY" if answer.land != "BY" else "HE")
            footer.append(texts("advice.assumed_land", land=land, other=other))
        elif answer.land_source == "context":
            footer.append(texts("advice.context_land", land=land))
    if passage.kind in STRUCTURED_KINDS:
        footer.append(texts("advice.passage_disclaimer"))
    if not answer.exact:
        footer.append(texts("advice.nearby_offer"))
    if alternatives:
        footer.append(texts("advice.alternatives"))
    if footer:
        parts.append("\n".join(footer))
    text = "\n\n".join(parts)
    if visible_length(text) > PAGE_LIMIT:  # a passage is never cut: too long for one message → the first page
        return split_message(parts, limit=PAGE_LIMIT)[0]
    return text


@dataclass(frozen=True, slots=True)
class Question:
    text: str  # what the search sees
    has_words: bool
    truncated: bool
    full: str  # the whole question (whitespace collapsed), for a consultation request


def check_question(raw: str) -> Question:
    """Normalise a typed question: NFC, collapsed whitespace, capped length; does it contain any words?"""
    full = re.sub(r"\s+", " ", unicodedata.normalize("NFC", raw)).strip()
    text = full[:QUESTION_LIMIT]
    has_words = any(ch.isalpha() for ch in text)  # a number alone is no question
    return Question(text, has_words, len(full) > QUESTION_LIMIT, full)


def small_talk(text: str, texts: Texts) -> str | None:
    """The key of a short answer when the message is only a greeting or a thank-you, else None."""
    said = " ".join(re.findall(r"\w+", text.casefold()))
    for kind in ("greeting", "thanks"):
        words = {w.strip().casefold() for w in texts(f"advice.smalltalk.{kind}_words").split(",")}
        if said in words:
            return f"advice.smalltalk.{kind}"
    return None


_ENGLISH = {
    "the",
    "what",
    "how",
    "is",
    "are",
    "can",
    "we",
    "our",
    "which",
    "funding",
    "where",
    "do",
    "does",
    "youth",
}


def looks_english(text: str) -> bool:
    words = re.findall(r"[a-z]+", text.lower())
    return len(words) >= 3 and sum(w in _ENGLISH for w in words) >= max(2, len(words) // 3)


async def misses_command(settings: Settings, *, limit: int) -> int:
    """``python -m bot misses``: the latest questions the search could not answer, and how answers were rated
    (least helpful first), so editors see where content or synonyms are missing. Reads only; no user ids."""
    if not settings.database.exists():
        print(f"no database at {settings.database}", file=sys.stderr)
        return 1
    articles = load_content(settings.content_dir).articles
    db = await Database.open(settings.database)
    try:
        misses = await db.recent_misses(max(limit, 0))
        ratings = [(article_id, *await db.article_ratings(article_id)) for article_id in sorted(articles)]
    finally:
        await db.close()
    print(f"Unanswered questions (latest {len(misses)}):")
    for question, best_id, created_at in misses:
        print(f"  {created_at:%Y-%m-%d %H:%M}  [{best_id or '-'}]  {question}")
    rated = sorted((r for r in ratings if r[1] or r[2]), key=lambda r: (-r[2], r[1], r[0]))
    print(f"Ratings (helpful / not helpful), {len(rated)} rated answers:")
    for article_id, helpful, unhelpful in rated:
        print(f"  {helpful:4d} / {unhelpful:<4d} {article_id}")
    return 0
