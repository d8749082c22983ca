"""/statistik (coordinators): subscribers by Bundesland and topic, requests by status, recent announcements."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot import broadcast
from bot.context import App, Context
from bot.db import AnnouncementRow
from bot.roles import is_coordinator
from bot.telegram_html import Html, html_to_plain
from handlers.common import send_html

RECENT_ANNOUNCEMENTS = 5
SNIPPET = 50


async def statistik(update: Update, context: Context) -> None:
    """The numbers a coordinator needs to plan the next announcement."""
    data = context.bot_data
    texts, db, content = data.texts, data.db, data.content
    user = update.effective_user
    if user is None or not await is_coordinator(data.settings, db, user.id):
        await send_html(update, context, texts("statistics.not_allowed"))
        return

    def line(label: str, n: int) -> str:
        return texts("statistics.line", label=label, n=broadcast.number(n))

    stats = await db.subscription_stats()
    lands = [
        line(content.land_name(code) if code else texts("statistics.no_land"), n) for code, n in stats.by_land
    ]
    topics = [line(content.menu[t].title if t in content.menu else t, n) for t, n in stats.by_topic]
    if stats.all_topics:
        topics.append(line(texts("statistics.all_topics"), stats.all_topics))
    requests = await db.request_counts_by_status()
    if requests is None:
        request_lines = [texts("statistics.requests_unavailable")]
    else:
        request_lines = [
            line(texts(f"requests.status.{status}") if f"requests.status.{status}" in texts else status, n)
            for status, n in requests.items()
        ] or [texts("statistics.none")]
    recent = [
        await _announcement_line(context, row) for row in await db.recent_announcements(RECENT_ANNOUNCEMENTS)
    ]
    none = texts("statistics.none")
    text = texts(
        "statistics.text",
        announcements=broadcast.number(stats.announcements),
        event_reminders=broadcast.number(stats.event_reminders),
        deadline_reminders=broadcast.number(stats.deadline_reminders),
        lands=Html("\n".join(lands) or none),
        topics=Html("\n".join(topics) or none),
        requests=Html("\n".join(request_lines)),
        recent=Html("\n\n".join(recent) or none),
    )
    await send_html(update, context, text)


async def _announcement_line(context: Context, row: AnnouncementRow) -> str:
    data = context.bot_data
    texts, tz = data.texts, data.settings.tz
    plain = " ".join(html_to_plain(row.body).split())
    snippet = plain if len(plain) <= SNIPPET else plain[: SNIPPET - 1] + "…"
    audience = broadcast.audience_summary(texts, data.content, row.laender, row.topics)
    if row.state == "scheduled":
        return texts(
            "statistics.announcement_scheduled",
            id=row.id,
            when=broadcast.local_time(row.send_at, tz),
            snippet=snippet,
            audience=audience,
        )
    if row.state == "cancelled":
        return texts("statistics.announcement_cancelled", id=row.id, snippet=snippet)
    counts = await data.db.delivery_counts(row.ref)
    started = row.started_at or row.send_at
    common = {
        "id": row.id,
        "when": broadcast.local_time(started, tz),
        "snippet": snippet,
        "audience": audience,
        "total": broadcast.number(counts.total),
        "sent": broadcast.number(counts.sent),
        "blocked": broadcast.number(counts.blocked),
        "failed": broadcast.number(counts.failed),
    }
    if row.state == "sending":
        return texts("statistics.announcement_sending", **common)
    finished = row.finished_at or started
    return texts(
        "statistics.announcement_done",
        **common,
        duration=broadcast.duration((finished - started).total_seconds()),
    )


def register(app: App) -> None:
    app.add_handler(CommandHandler("statistik", statistik, filters=filters.ChatType.PRIVATE))
