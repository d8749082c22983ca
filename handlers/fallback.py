"""The answers of last resort: unknown commands, stale buttons, unsupported messages, and errors."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import App, Context
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
    """Log the failure without personal data and tell the user something went wrong."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    log.error(
        "update %s failed: %s",
        update_id,
        type(error).__name__,
        exc_info=(type(error), error, error.__traceback__) if error is not None else None,
    )
    if not isinstance(update, Update) or isinstance(error, Forbidden):
        return
    try:
        text = context.bot_data.texts("errors.generic")
        if update.callback_query is not None:
            await answer(update.callback_query, text, alert=True)
        elif update.effective_chat is not None and update.effective_chat.type == "private":
            await context.bot.send_message(update.effective_chat.id, text)
    except (TelegramError, RuntimeError) as exc:
        log.warning("could not tell the user about the error: %s", type(exc).__name__)


def register(app: App) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler(["abbrechen", "cancel"], nothing_to_cancel, filters=private))
    app.add_handler(MessageHandler(filters.COMMAND & private, unknown_command))
    app.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, unsupported_message))
    app.add_handler(CallbackQueryHandler(stale_button))
    app.add_error_handler(on_error)
