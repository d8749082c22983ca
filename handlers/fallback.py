"""The answers of last resort: unknown commands, stale buttons, unsupported messages, and errors."""

from __future__ import annotations

import contextlib
import logging
from typing import cast

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import faults
from bot.context import App, Context
from bot.db import Database
from bot.outbox import MESSAGE, payload
from handlers.common import answer, main_menu, send_html

log = logging.getLogger(__name__)


async def unknown_command(update: Update, context: Context) -> None:
    """A command nobody handles."""
    await send_html(update, context, context.bot_data.texts("errors.unknown_command"))


async def nothing_to_cancel(update: Update, context: Context) -> None:
    """/abbrechen when no dialogue is running (every dialogue handles it itself while active)."""
    texts = context.bot_data.texts
    await send_html(update, context, texts("errors.nothing_to_cancel"), main_menu(texts))


async def unsupported_message(update: Update, context: Context) -> None:
    """Stickers, photos, voice … in a private chat."""
    texts = context.bot_data.texts
    await send_html(update, context, texts("errors.unsupported_message"), main_menu(texts))


async def stale_button(update: Update, context: Context) -> None:
    """A press no handler claimed: an old keyboard or forged data."""
    await answer(update.callback_query, context.bot_data.texts("errors.stale_button"), alert=True)


async def on_error(update: object, context: Context) -> None:
    """Log the failure without personal data and make sure the user hears something.

    Expected conditions (bot.faults: blocked, deactivated, message not modified, a press too old to answer,
    the network after every try) are logged in one line at INFO/WARNING and counted; anything else is a defect
    and logged as ERROR with its traceback. When the answer cannot be delivered now, a clear message goes out
    through the outbox, which delivers it once Telegram answers again."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    condition = faults.expected_condition(error)
    if condition is None:
        faults.note("defect")
        log.error(
            "update %s failed: %s",
            update_id,
            type(error).__name__,
            exc_info=(type(error), error, error.__traceback__) if error is not None else None,
        )
    else:
        seen = faults.note(condition)
        level = logging.INFO if condition in faults.SILENT else logging.WARNING
        log.log(level, "update %s: %s (%s; %s so far)", update_id, condition, type(error).__name__, seen)
    if not isinstance(update, Update) or condition in faults.SILENT:
        if isinstance(update, Update) and update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()  # the spinner stops; the press changed nothing
        return
    await tell_user_about_error(update, context, condition)


async def tell_user_about_error(update: Update, context: Context, condition: str | None) -> None:
    """The error alert for a press, the error message in a private chat; when neither can be delivered (the
    query is too old, Telegram still fails), a message through the outbox."""
    texts = context.bot_data.texts
    chat = update.effective_chat
    try:
        if condition == "query_too_old":
            raise LookupError("the press can no longer be answered")
        if update.callback_query is not None:
            await update.callback_query.answer(texts("errors.generic"), show_alert=True)
            return
        if chat is not None and chat.type == "private":
            await context.bot.send_message(chat.id, texts("errors.generic"))
        return
    except (TelegramError, LookupError) as exc:
        log.info("could not tell the user about the error now (%s): via the outbox", type(exc).__name__)
    if chat is None or (chat.type != "private" and update.callback_query is None):
        return
    thread_id = None
    message = update.effective_message
    if chat.type != "private" and message is not None and message.is_topic_message:
        thread_id = message.message_thread_id
    try:
        db = context.bot_data.db
        async with db.transaction() as tx:
            await Database.enqueue(
                tx,
                kind=MESSAGE,
                chat_id=chat.id,
                payload=payload(texts("errors.not_delivered"), message_thread_id=thread_id),
                now=context.bot_data.clock.now(),
                priority=-1,
            )
    except Exception:
        log.exception("could not queue the error message")
        return
    from bot.app import start_outbox_worker

    start_outbox_worker(cast(App, context.application))


async def edited_message(update: Update, context: Context) -> None:
    """An edited message (in a private chat, or a staff reply in the staff group): no feature reads edits (a form
    answer or a relayed reply would otherwise change silently, or not at all), so say how to correct."""
    message = update.edited_message
    if message is not None:
        await message.reply_text(context.bot_data.texts("errors.edited_message"))
    raise ApplicationHandlerStop  # no later group (e.g. the offer after /start) sees the edit either


def register_edits(app: App) -> None:
    """First in group 0: an edit is answered here and goes nowhere else."""
    where: filters.BaseFilter = filters.ChatType.PRIVATE
    staff_chat_id = app.bot_data.settings.staff_chat_id
    if staff_chat_id is not None:
        # In the staff group only edits of replies and topic messages (a staff answer), not ordinary talk.
        where = where | (filters.Chat(staff_chat_id) & (filters.REPLY | filters.IS_TOPIC_MESSAGE))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & where, edited_message))


def register(app: App) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler(["abbrechen", "cancel"], nothing_to_cancel, filters=private))
    app.add_handler(MessageHandler(filters.COMMAND & private, unknown_command))
    app.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, unsupported_message))
    app.add_handler(CallbackQueryHandler(stale_button))
    app.add_error_handler(on_error)
