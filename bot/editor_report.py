"""The editors' report: what in content/ needs an editor now, for ``python -m bot editor-report`` and /redaktion.

1. facts due for a check: past their maximum age or within ``due_within_days`` of it (content/provenance.yaml),
   oldest first, with where they are and their source;
2. deadlines to confirm: expected rounds in the next three months without a confirmed date (bot/deadlines.py);
3. the questions the bot could not answer, most frequent first;
4. the articles rated unhelpful, most often first.

Coordinators may subscribe to it monthly (handlers/editor.py); ``queue_monthly_reports`` puts the report into the
outbox on the 1st of a month at the reminder send time (or at the next tick after it, when the bot was down).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from bot import deadlines as deadline_rules
from bot import outbox
from bot.clock import SystemClock
from bot.content import Content, load_content
from bot.date_phrasing import fmt_date
from bot.db import Database
from bot.provenance import Provenance, collect, due_items
from bot.roles import is_coordinator
from bot.telegram_html import html_to_plain
from bot.texts import Texts

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup

    from bot.config import Settings
    from bot.context import BotData

CONFIRM_MONTHS = 3
MISSES_LIMIT = 200  # most frequent unanswered questions read from the database
CHAT_ITEMS = 15  # per section in Telegram; the terminal shows everything
REPORT_REF = "editor_report"  # outbox ref of the monthly reports
REPORT_KIND = "editor_report"  # their outbox kind: a coordinator who blocked the bot is unsubscribed


@dataclass(frozen=True, slots=True)
class DueFact:
    due: date  # the last day its check is valid
    overdue: bool
    item: Provenance


@dataclass(frozen=True, slots=True)
class ToConfirm:
    month: date  # the 1st of the month the round is expected in
    rule: str
    programme: str
    what: str
    note: str | None
    source: str


@dataclass(frozen=True, slots=True)
class Miss:
    question: str
    count: int
    last: datetime


@dataclass(frozen=True, slots=True)
class Unhelpful:
    article: str
    title: str
    unhelpful: int
    helpful: int


@dataclass(frozen=True, slots=True)
class EditorReport:
    today: date
    due: list[DueFact]
    confirm: list[ToConfirm]
    misses: list[Miss]
    unhelpful: list[Unhelpful]
    database: bool = True  # False: no database yet, so no misses and ratings
    due_within_days: int = 30


def facts_due(content: Content, today: date) -> list[DueFact]:
    guided = content.guided.programmes if content.guided is not None else None
    items = collect(content.articles, content.servicepoints, guided, content.calendar.deadlines)
    return [DueFact(due, due < today, item) for due, item in due_items(items, content.provenance, today)]


def deadlines_to_confirm(content: Content, now: datetime, tz: ZoneInfo) -> list[ToConfirm]:
    """Expected rounds in the current and the next three months without a confirmed date, soonest first
    (``bot.deadlines.deadlines_to_confirm``)."""
    return [
        ToConfirm(
            entry.round.month.replace(day=1),
            entry.rule.id,
            entry.programme.name,
            entry.rule.what,
            entry.round.note,
            entry.rule.source.url,
        )
        for entry in deadline_rules.deadlines_to_confirm(content.calendar, now, tz, CONFIRM_MONTHS)
    ]


async def build_report(db: Database | None, content: Content, now: datetime, tz: ZoneInfo) -> EditorReport:
    today = now.astimezone(tz).date()
    misses: list[Miss] = []
    unhelpful: list[Unhelpful] = []
    if db is not None:
        misses = [Miss(q, n, last) for q, n, last in await db.frequent_misses(MISSES_LIMIT)]
        for article_id, bad, good in await db.unhelpful_articles():
            article = content.articles.get(article_id)
            unhelpful.append(Unhelpful(article_id, article.title if article else article_id, bad, good))
    return EditorReport(
        today,
        facts_due(content, today),
        deadlines_to_confirm(content, now, tz),
        misses,
        unhelpful,
        database=db is not None,
        due_within_days=content.provenance.due_within_days,
    )


_T = TypeVar("_T")


def _month_name(texts: Texts, month: date) -> str:
    name = texts("editor.months").split(",")[month.month - 1].strip()
    return texts("editor.month", month=name, year=month.year)


def render(texts: Texts, report: EditorReport, tz: ZoneInfo, limit: int | None = CHAT_ITEMS) -> str:
    """The report as Telegram HTML; ``limit`` items per section (None: all, for the terminal)."""

    def cut(items: Sequence[Any]) -> tuple[Sequence[Any], int]:
        if limit is None or len(items) <= limit:
            return items, 0
        return items[:limit], len(items) - limit

    def block(title: str, entries: Sequence[_T], item: Callable[[_T], str], none_key: str) -> str:
        """A section: its title, up to ``limit`` entries and how many more, or the text for none."""
        shown, more = cut(entries)
        lines = [title, *(item(entry) for entry in shown), texts("editor.more", n=more) if more else ""]
        if not entries:
            lines.append(texts(none_key))
        return "\n".join(line for line in lines if line)

    def due_item(fact: DueFact) -> str:
        item = fact.item
        return texts(
            "editor.due_overdue" if fact.overdue else "editor.due_soon",
            due=fmt_date(fact.due),
            where=item.file,
            place=item.place,
            kind=texts(f"editor.kinds.{item.kind}"),
            claim=item.claim,
            checked=fmt_date(item.checked) if item.checked else "–",
            url=item.url or "",
        )

    def confirm_item(entry: ToConfirm) -> str:
        return texts(
            "editor.confirm_item_note" if entry.note else "editor.confirm_item",
            month=_month_name(texts, entry.month),
            programme=entry.programme,
            what=entry.what,
            rule=entry.rule,
            note=entry.note or "",
            url=entry.source,
        )

    def miss_item(m: Miss) -> str:
        return texts(
            "editor.miss_item",
            count=m.count,
            question=m.question,
            last=fmt_date(m.last.astimezone(tz).date()),
        )

    def unhelpful_item(u: Unhelpful) -> str:
        return texts(
            "editor.unhelpful_item", count=u.unhelpful, helpful=u.helpful, title=u.title, id=u.article
        )

    blocks = [
        texts("editor.title", date=fmt_date(report.today)),
        block(
            texts("editor.due_title", n=len(report.due), days=report.due_within_days),
            report.due,
            due_item,
            "editor.due_none",
        ),
        block(
            texts("editor.confirm_title", n=len(report.confirm)),
            report.confirm,
            confirm_item,
            "editor.confirm_none",
        ),
    ]
    if not report.database:
        blocks.append(texts("editor.no_database"))
        return "\n\n".join(blocks)
    blocks.append(
        block(
            texts("editor.misses_title", n=len(report.misses)), report.misses, miss_item, "editor.misses_none"
        )
    )
    unhelpful_title = texts("editor.unhelpful_title", n=len(report.unhelpful))
    blocks.append(block(unhelpful_title, report.unhelpful, unhelpful_item, "editor.unhelpful_none"))
    return "\n\n".join(blocks)


def as_json(report: EditorReport) -> dict[str, Any]:
    return {
        "date": report.today.isoformat(),
        "facts_due": [
            {
                "due": f.due.isoformat(),
                "overdue": f.overdue,
                "file": f.item.file,
                "place": f.item.place,
                "fact_id": f.item.fact_id,
                "kind": f.item.kind,
                "claim": f.item.claim,
                "checked": f.item.checked.isoformat() if f.item.checked else None,
                "source": f.item.url,
            }
            for f in report.due
        ],
        "deadlines_to_confirm": [
            {
                "month": f"{c.month:%Y-%m}",
                "rule": c.rule,
                "programme": c.programme,
                "what": c.what,
                "note": c.note,
                "source": c.source,
            }
            for c in report.confirm
        ],
        "misses": (
            [
                {"question": m.question, "count": m.count, "last_asked": m.last.isoformat()}
                for m in report.misses
            ]
            if report.database
            else None
        ),
        "unhelpful": (
            [
                {"article": u.article, "title": u.title, "unhelpful": u.unhelpful, "helpful": u.helpful}
                for u in report.unhelpful
            ]
            if report.database
            else None
        ),
    }


async def editor_report_command(
    settings: Settings, *, as_json_output: bool, now: datetime | None = None
) -> int:
    """``python -m bot editor-report [--json]``: the whole report for the terminal. Reads only."""
    content = load_content(settings.content_dir)
    now = now or SystemClock().now()
    db = await Database.open(settings.database) if settings.database.exists() else None
    try:
        report = await build_report(db, content, now, settings.tz)
    finally:
        if db is not None:
            await db.close()
    if as_json_output:
        sys.stdout.write(json.dumps(as_json(report), ensure_ascii=False, indent=2) + "\n")
    else:
        text = render(content.texts, report, settings.tz, limit=None)
        sys.stdout.write(html_to_plain(text.replace("<br>", "\n")) + "\n")
    return 0


# --- the monthly report ----------------------------------------------------------------------------------------


def month_key(now: datetime, tz: ZoneInfo) -> str:
    return f"{now.astimezone(tz):%Y-%m}"


def monthly_due(now: datetime, tz: ZoneInfo, send_time: time) -> bool:
    """Whether this month's report is due: from the 1st at the send time (local) on."""
    local = now.astimezone(tz)
    first = local.replace(day=1, hour=send_time.hour, minute=send_time.minute, second=0, microsecond=0)
    return local >= first


async def queue_monthly_reports(
    services: BotData, now: datetime, markup: InlineKeyboardMarkup | None = None
) -> int:
    """Put this month's report into the outbox for every subscribed coordinator who has not had it; a subscriber
    who is no longer a coordinator is unsubscribed instead. Returns how many reports were queued."""
    settings, db, content = services.settings, services.db, services.content
    tz = settings.tz
    if not monthly_due(now, tz, content.calendar.reminders.send_time):
        return 0
    month = month_key(now, tz)
    due = await db.editor_reports_due(month)
    if not due:
        return 0
    texts = services.texts
    text = (
        texts("editor.monthly_title") + "\n\n" + render(texts, await build_report(db, content, now, tz), tz)
    )
    queued = 0
    for user_id in due:
        if not await is_coordinator(settings, db, user_id):
            await db.unsubscribe_editor_report(user_id)
            continue
        async with db.transaction() as tx:
            await Database.enqueue(
                tx,
                kind=REPORT_KIND,
                chat_id=user_id,
                payload=outbox.payload(text, markup),
                now=now,
                ref=REPORT_REF,
            )
            await Database.mark_editor_report_sent(tx, user_id, month)
        queued += 1
    return queued
