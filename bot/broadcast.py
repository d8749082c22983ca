"""Announcements: the coordinator's text made safe, audience, scheduling, delivery through the outbox, progress.

Delivery: confirming writes the announcement row; ``start`` turns it into one outbox row per recipient (kind
``announcement``, ref ``announcement:<id>``, priority 10 so replies and staff notices go first) in one
transaction. The outbox worker sends them paced at ``BOT_BROADCAST_RATE``, marks each sent only after Telegram
accepted it (so a crash resends at most the one in flight), honours 429 retry_after, and calls
``on_announcement_failed`` for a 403, which ends that user's subscriptions. ``refresh_progress`` edits the
coordinator's progress message at most every ``PROGRESS_EVERY`` and, when no row is pending, marks the
announcement done and puts the report into the outbox — in one transaction, so it is sent exactly once.
Scheduled announcements are rows found by ``run_tick`` (the periodic job), not jobs held in memory.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity
from telegram.error import BadRequest, TelegramError
from telegram.ext import ExtBot

from bot import subscriptions
from bot.content import Content
from bot.db import AnnouncementRow, Database, DeliveryCounts, OutboxRow, Tx
from bot.outbox import payload as outbox_payload
from bot.outbox import send_payload
from bot.telegram_html import TELEGRAM_TEXT_LIMIT, Html, escape, visible_length
from bot.texts import Texts
from bot.user_errors import KeyedError

if TYPE_CHECKING:
    from bot.context import BotData
from bot.keyboards import SUBSCRIPTIONS, url_button

log = logging.getLogger(__name__)

KIND = "announcement"
PRIORITY = 10  # after replies and staff notices (priority 0)
PROGRESS_EVERY = timedelta(seconds=3)
# A recipient whose sends keep failing (5xx, network) is recorded as failed after this many attempts
# (backoff 1+2+4+8+16 s), so the report does not wait for the outbox's three-day limit.
MAX_ATTEMPTS = 6
MAX_BUTTON_LABEL = 40
MAX_URL = 2000
MAX_AHEAD = timedelta(days=366)
REF_PREFIX = "announcement:"


class AnnouncementError(KeyedError, ValueError):
    """Bad coordinator input; ``key`` names the text that explains it, ``params`` fill it."""


# --- the coordinator's text ----------------------------------------------------------------------------------

_SIMPLE_TAGS = {
    MessageEntity.BOLD: "b",
    MessageEntity.ITALIC: "i",
    MessageEntity.UNDERLINE: "u",
    MessageEntity.STRIKETHROUGH: "s",
    MessageEntity.SPOILER: "tg-spoiler",
    MessageEntity.CODE: "code",
    MessageEntity.BLOCKQUOTE: "blockquote",
}
_LINK_SCHEMES = ("https://", "http://", "tg://")


def _tags(entity: MessageEntity) -> tuple[str, str] | None:
    """Opening and closing tag for an entity, or None to keep its text plain (mentions, hashtags, …)."""
    if entity.type in _SIMPLE_TAGS:
        tag = _SIMPLE_TAGS[entity.type]
        return f"<{tag}>", f"</{tag}>"
    if entity.type == MessageEntity.EXPANDABLE_BLOCKQUOTE:
        return "<blockquote expandable>", "</blockquote>"
    if entity.type == MessageEntity.PRE:
        if entity.language and re.fullmatch(r"[A-Za-z0-9_+#.-]{1,30}", entity.language):
            return f'<pre><code class="language-{entity.language}">', "</code></pre>"
        return "<pre>", "</pre>"
    if entity.type == MessageEntity.TEXT_LINK and entity.url and entity.url.lower().startswith(_LINK_SCHEMES):
        return f'<a href="{escape(entity.url)}">', "</a>"
    return None


@dataclass(frozen=True, slots=True)
class _Span:
    start: int  # index into the text's characters (code points)
    end: int
    order: int  # position in the message's entity list, to keep Telegram's order among equals
    opening: str
    closing: str


def entities_to_html(text: str, entities: Sequence[MessageEntity]) -> str:
    """Render a message's text and entities to Telegram HTML: every character escaped, formatting kept.

    Offsets are UTF-16 code units as Telegram counts them; one that falls inside a surrogate pair (an emoji) is
    moved to the character's edge. Tags are always closed in the reverse order of opening: an entity that
    overlaps another without nesting is closed where the other ends and opened again right after, so the
    result parses whatever the entities are.
    """
    edges = [0]  # the UTF-16 offset at which each character starts, then the end
    for char in text:
        edges.append(edges[-1] + (2 if ord(char) > 0xFFFF else 1))
    size = len(text)
    spans: list[_Span] = []
    for order, entity in enumerate(entities):
        tags = _tags(entity)
        if tags is None:
            continue
        start = bisect_right(edges, max(0, entity.offset)) - 1
        end = min(size, bisect_left(edges, entity.offset + entity.length))
        if start < end:
            spans.append(_Span(start, end, order, *tags))
    spans.sort(key=lambda s: (s.start, -s.end, s.order))

    out: list[str] = []
    stack: list[_Span] = []
    waiting = deque(spans)
    pos = 0
    for point in sorted({size, *(s.start for s in spans), *(s.end for s in spans)}):
        out.append(escape(text[pos:point]))
        pos = point
        ending = [i for i, s in enumerate(stack) if s.end == point]
        reopen: list[_Span] = []
        if ending:
            # Close down to the outermost span ending here; spans opened inside it that go on are reopened.
            first = ending[0]
            out.extend(s.closing for s in reversed(stack[first:]))
            reopen = [s for s in stack[first:] if s.end != point]
            del stack[first:]
        opening = reopen
        while waiting and waiting[0].start == point:
            opening.append(waiting.popleft())
        for span in sorted(opening, key=lambda s: (-s.end, s.order)):  # the longest outermost
            out.append(span.opening)
            stack.append(span)
    return "".join(out)


def message_html(texts: Texts, body: str) -> str:
    """The announcement as every recipient sees it."""
    return texts("announcements.message", body=Html(body))


def check_body(texts: Texts, text: str, body: str) -> None:
    """Raise AnnouncementError for an empty text or one that would not fit into one Telegram message."""
    if not text.strip():
        raise AnnouncementError("announcements.errors.empty")
    length = visible_length(message_html(texts, body))
    if length > TELEGRAM_TEXT_LIMIT:
        limit = TELEGRAM_TEXT_LIMIT - visible_length(message_html(texts, ""))
        raise AnnouncementError("announcements.errors.too_long", length=visible_length(body), limit=limit)


def parse_button(text: str, default_label: str) -> tuple[str, str]:
    """``Beschriftung | https://…`` or just the address → (label, url); only https links to a real host."""
    label, separator, url = text.rpartition("|")
    if not separator:
        label, url = "", text
    label, url = " ".join(label.split()), url.strip()
    label = label or default_label
    if len(label) > MAX_BUTTON_LABEL:
        raise AnnouncementError("announcements.errors.button_label", limit=MAX_BUTTON_LABEL)
    if not _valid_https_url(url):
        raise AnnouncementError("announcements.errors.button_url")
    return label, url


def _valid_https_url(url: str) -> bool:
    if not url or len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    if parts.scheme != "https" or not host or parts.username or parts.password:
        return False
    labels = host.split(".")
    return len(labels) >= 2 and all(re.fullmatch(r"[a-z0-9-]{1,63}|xn--[a-z0-9-]+", p) for p in labels)


_WHEN = re.compile(
    r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})\s*(?:,|um)?\s*(\d{1,2})[:.](\d{2})\s*(?:uhr)?\s*$", re.I
)


def parse_send_time(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """German ``24.12.2026 09:00`` in local time → aware UTC; in the future and at most a year ahead."""
    match = _WHEN.match(text)
    if match is None:
        raise AnnouncementError("announcements.errors.when_format")
    day, month, year, hour, minute = (int(g) for g in match.groups())
    if year < 100:
        year += 2000
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=tz)
    except ValueError:
        raise AnnouncementError("announcements.errors.when_invalid") from None
    moment = local.astimezone(UTC)
    if moment.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        # 02:30 on the night clocks go forward does not exist.
        raise AnnouncementError("announcements.errors.when_gap")
    if moment <= now:
        raise AnnouncementError("announcements.errors.when_past")
    if moment > now + MAX_AHEAD:
        raise AnnouncementError("announcements.errors.when_far")
    return moment


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%d.%m.%Y %H:%M")


def number(value: int) -> str:
    """German thousands separator: 1.000."""
    return f"{value:,}".replace(",", ".")


def duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


# --- what recipients get ------------------------------------------------------------------------------------


def recipient_markup(texts: Texts, button: tuple[str, str] | None) -> InlineKeyboardMarkup:
    """The optional link button, then "Abbestellen" (one tap ends the Infobrief)."""
    rows: list[list[InlineKeyboardButton]] = []
    if button is not None:
        rows.append([url_button(*button)])
    rows.append([SUBSCRIPTIONS.button(texts("announcements.buttons.unsubscribe"), "stop")])
    return InlineKeyboardMarkup(rows)


def recipient_payload(texts: Texts, body: str, button: tuple[str, str] | None) -> dict[str, Any]:
    return outbox_payload(message_html(texts, body), recipient_markup(texts, button))


def audience_summary(texts: Texts, content: Content, laender: Sequence[str], topics: Sequence[str]) -> str:
    """One line in plain words: who gets it."""
    if not laender and not topics:
        return texts("announcements.audience.all")
    parts = []
    if laender:
        names = ", ".join(content.land_name(code) for code in laender)
        parts.append(texts("announcements.audience.laender", names=names))
    if topics:
        titles = ", ".join(content.menu[t].title if t in content.menu else t for t in topics)
        parts.append(texts("announcements.audience.topics", names=titles))
    return " · ".join(parts)


# --- delivery ------------------------------------------------------------------------------------------------


async def deliver_announcement(bot: ExtBot[None], row: OutboxRow) -> int | None:
    """The outbox deliverer: send the payload; after MAX_ATTEMPTS failed tries record the row as failed."""
    if row.attempts >= MAX_ATTEMPTS:
        raise BadRequest(f"gave up after {row.attempts} attempts ({row.error})")
    return await send_payload(bot, row)


def register_outbox_kind(data: BotData) -> None:
    """The ``announcement`` outbox kind and the progress hook; called once at build time."""

    async def on_failed(tx: Tx, row: OutboxRow, error: str) -> None:
        if subscriptions.is_blocked_error(error):
            await subscriptions.end_all(tx, row.chat_id, data.clock.now())

    async def on_pass(bot: ExtBot[None], refs: set[str]) -> None:
        for ref in sorted(refs):
            if ref.startswith(REF_PREFIX) and ref[len(REF_PREFIX) :].isdigit():
                await refresh_progress(bot, data, int(ref[len(REF_PREFIX) :]))

    data.outbox.register(KIND, deliver=deliver_announcement, on_failed=on_failed)
    data.outbox.on_progress(on_pass)


async def start(bot: ExtBot[None], data: BotData, announcement_id: int) -> int | None:
    """Write one outbox row per recipient and tell the coordinator; the number of recipients, or None when the
    announcement is not scheduled (any more). The caller starts the outbox worker."""
    row = await data.db.announcement(announcement_id)
    if row is None:
        return None
    # A worker already running may send the rows before the progress message is noted; its progress hook waits
    # until then, or it would finish the announcement with no message to show the final figures in.
    async with data.outbox.hooks_held():
        recipients = await data.db.start_announcement(
            announcement_id,
            kind=KIND,
            priority=PRIORITY,
            payload=recipient_payload(data.texts, row.body, row.button),
            now=data.clock.now(),
        )
        if recipients is None:
            return None
        log.info("announcement %s: sending to %s recipients", announcement_id, recipients)
        counts = DeliveryCounts(sent=0, pending=recipients, blocked=0, failed=0)
        try:
            message = await bot.send_message(row.created_by, progress_text(data.texts, row, counts))
        except TelegramError as exc:  # the coordinator still gets the report through the outbox
            log.warning("announcement %s: progress message not sent: %s", announcement_id, type(exc).__name__)
        else:
            await data.db.set_announcement_progress(
                announcement_id, message.message_id, _next_whole_second(data.clock.now())
            )
    await data.outbox.run_pass_hooks(bot, {row.ref})
    return recipients


def progress_text(texts: Texts, row: AnnouncementRow, counts: DeliveryCounts, done: bool = False) -> str:
    return texts(
        "announcements.progress_done" if done else "announcements.progress",
        id=row.id,
        done=number(counts.sent + counts.blocked + counts.failed),
        total=number(counts.total),
        sent=number(counts.sent),
        blocked=number(counts.blocked),
        failed=number(counts.failed),
    )


def report_text(texts: Texts, row: AnnouncementRow, counts: DeliveryCounts, finished: datetime) -> str:
    started = row.started_at or finished
    return texts(
        "announcements.report",
        id=row.id,
        total=number(counts.total),
        sent=number(counts.sent),
        blocked=number(counts.blocked),
        failed=number(counts.failed),
        duration=duration((finished - started).total_seconds()),
    )


async def refresh_progress(bot: ExtBot[None], data: BotData, announcement_id: int) -> None:
    """Edit the progress message (throttled); when nothing is pending, finish with the report (exactly once).

    It reads, decides and writes, so it must not run beside itself: it is called only as the outbox's progress
    hook (``Outbox.run_pass_hooks`` runs those one at a time)."""
    db: Database = data.db
    row = await db.announcement(announcement_id)
    if row is None or row.state != "sending":
        return
    counts = await db.delivery_counts(row.ref)
    now = data.clock.now()
    if counts.pending == 0:
        report = report_text(data.texts, row, counts, now)
        if await db.finish_announcement(row.id, now, (row.created_by, outbox_payload(report))):
            log.info(
                "announcement %s done: %s sent, %s blocked, %s failed",
                row.id,
                counts.sent,
                counts.blocked,
                counts.failed,
            )
            await _edit_progress(bot, row, progress_text(data.texts, row, counts, done=True))
        return
    if row.progress_message_id is None:
        return
    if row.progress_at is not None and now - row.progress_at < PROGRESS_EVERY:
        return
    await _edit_progress(bot, row, progress_text(data.texts, row, counts))
    # Noted once Telegram has answered, so the next edit comes PROGRESS_EVERY after this one arrived, however
    # long the call took; rounded up to the whole second the database keeps (rounding down would shorten it).
    await db.set_announcement_progress(row.id, None, _next_whole_second(data.clock.now()))


def _next_whole_second(moment: datetime) -> datetime:
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)


async def _edit_progress(bot: ExtBot[None], row: AnnouncementRow, text: str) -> None:
    if row.progress_message_id is None:
        return
    try:
        await bot.edit_message_text(text, chat_id=row.created_by, message_id=row.progress_message_id)
    except TelegramError as exc:  # "not modified", a deleted message, flood control: progress is best effort
        log.info("announcement %s: progress not edited: %s", row.id, type(exc).__name__)


async def run_tick(bot: ExtBot[None], data: BotData) -> bool:
    """Start due scheduled announcements and finish those whose rows are all delivered (also after a restart).

    True when outbox rows were written, so the caller starts the outbox worker."""
    started = False
    now = data.clock.now()
    for row in await data.db.announcements_in_state("scheduled", due_before=now):
        if await start(bot, data, row.id) is not None:
            started = True
    sending = {row.ref for row in await data.db.announcements_in_state("sending")}
    if sending:
        # Through the outbox's hooks, so this never runs beside a batch's refresh: two refreshes at once would both
        # pass the throttle and edit twice, and a late progress edit could overwrite the final one.
        await data.outbox.run_pass_hooks(bot, sending)
    return started
