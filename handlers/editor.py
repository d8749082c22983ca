"""/redaktion (coordinators): the editors' report, and the opt-in monthly report (bot/editor_report.py).

Rights are checked on every use: the command and the subscribe button need the coordinator role; anyone may
unsubscribe (it only removes their own row). The monthly job unsubscribes who is no longer a coordinator.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.context import App, Context
from bot.db import Database, OutboxRow, Tx
from bot.editor_report import REPORT_KIND, build_report, month_key, queue_monthly_reports, render
from bot.keyboards import EDITOR, one_button
from bot.privacy import Link, PersonalTable, PrivacyRegistry
from bot.roles import is_coordinator
from bot.texts import Texts
from handlers.common import parse_press, send_html

log = logging.getLogger(__name__)

JOB_NAME = "editor_report_monthly"
JOB_INTERVAL_SECONDS = 60.0


def _button(texts: Texts, subscribed: bool) -> InlineKeyboardMarkup:
    """Unsubscribe for a subscriber, subscribe for anyone else."""
    if subscribed:
        return one_button(EDITOR.button(texts("editor.buttons.unsubscribe"), "off"))
    return one_button(EDITOR.button(texts("editor.buttons.subscribe"), "on"))


def _send_time(context: Context) -> str:
    return context.bot_data.content.calendar.reminders.send_time.strftime("%H:%M")


async def redaktion(update: Update, context: Context) -> None:
    data = context.bot_data
    texts = data.texts
    user = update.effective_user
    if user is None or not await is_coordinator(data.settings, data.db, user.id):
        await send_html(update, context, texts("editor.not_allowed"))
        return
    report = await build_report(data.db, data.content, data.clock.now(), data.settings.tz)
    subscribed = await data.db.editor_report_subscribed(user.id)
    state = (
        texts("editor.monthly_on", time=_send_time(context)) if subscribed else texts("editor.monthly_off")
    )
    text = render(texts, report, data.settings.tz) + "\n\n" + state
    await send_html(update, context, text, _button(texts, subscribed))


async def pressed(update: Update, context: Context) -> None:
    """The subscribe and unsubscribe buttons."""
    query, user, parsed = update.callback_query, update.effective_user, parse_press(update, EDITOR)
    if query is None or user is None:
        return
    data = context.bot_data
    texts = data.texts
    if parsed is None or parsed.action not in ("on", "off"):
        await query.answer()
        return
    if parsed.action == "on":
        if not await is_coordinator(data.settings, data.db, user.id):
            await query.answer()
            await send_html(update, context, texts("editor.not_allowed"))
            return
        now = data.clock.now()
        added = await data.db.subscribe_editor_report(user.id, now, month_key(now, data.settings.tz))
        await query.answer()
        text = (
            texts("editor.subscribed", time=_send_time(context))
            if added
            else texts("editor.already_subscribed")
        )
        await send_html(update, context, text, _button(texts, True))
        return
    removed = await data.db.unsubscribe_editor_report(user.id)
    await query.answer()
    markup = _button(texts, False) if await is_coordinator(data.settings, data.db, user.id) else None
    await send_html(
        update, context, texts("editor.unsubscribed" if removed else "editor.not_subscribed"), markup
    )


async def monthly_tick(context: Context) -> None:
    """Job: queue this month's report for the subscribers who have not had it (from the 1st at the send time)."""
    data = context.bot_data
    try:
        queued = await queue_monthly_reports(data, data.clock.now(), _button(data.texts, True))
    except Exception:
        log.exception("monthly editor reports failed")
        return
    if queued:
        log.info("monthly editor reports queued: %s", queued)
        data.outbox.kick()


def register_privacy(privacy: PrivacyRegistry) -> None:
    """The subscription is personal data: exported by /meine_daten, deleted by /loeschen."""
    table, columns = "editor_report_subscriptions", ("subscribed_at", "last_sent_month")
    ids = {"user_id": Link.SUBJECT}
    privacy.table(PersonalTable(table, label="editor.privacy.subscription", ids=ids, export=columns))


async def _forget_blocked(tx: Tx, row: OutboxRow, error: str) -> None:
    """A coordinator who blocked the bot gets no more monthly reports."""
    if error.startswith("Forbidden"):
        await Database.end_editor_report(tx, row.chat_id)


def register(app: App) -> None:
    app.bot_data.outbox.register(REPORT_KIND, on_failed=_forget_blocked)
    app.add_handler(CommandHandler("redaktion", redaktion, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(pressed, pattern=EDITOR.pattern()))
    register_privacy(app.bot_data.privacy)
    assert app.job_queue is not None
    app.job_queue.run_repeating(monthly_tick, interval=JOB_INTERVAL_SECONDS, first=5.0, name=JOB_NAME)
