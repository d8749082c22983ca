"""Cross-cutting guard in group -1: remember who writes to the bot in private (id, language, first seen)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import TypeHandler

from bot.context import App, Context


async def remember_user(update: Update, context: Context) -> None:
    """Record the user on any private update; later groups still run (no ApplicationHandlerStop)."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != "private" or user.is_bot:
        return
    await context.bot_data.db.touch_user(user.id, user.language_code, context.bot_data.clock.now())


def register(app: App) -> None:
    app.add_handler(TypeHandler(Update, remember_user), group=-1)
