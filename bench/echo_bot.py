"""A bare python-telegram-bot echo bot, the yardstick for bench_load: PTB's own updater and concurrent update
handling, no database, no rate limiter. A text is echoed with one button; a press is answered and edits the
message. ``python -m bench.echo_bot`` with BOT_TOKEN and BOT_API_URL set; with BENCH_ECHO_PACED=1 it keeps
Telegram's limit as PTB offers it (``AIORateLimiter`` at an even 29 per second, the bot's setting before
``bot.pacing``), a yardstick for latency where the load is above Telegram's 30 messages per second."""

from __future__ import annotations

import os
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

BUTTON = InlineKeyboardMarkup([[InlineKeyboardButton("toggle", callback_data="toggle")]])


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo the text with a button."""
    assert update.message is not None
    await update.message.reply_text(update.message.text or "", reply_markup=BUTTON)


async def toggle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press and edit the message."""
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer()
    text = getattr(query.message, "text", "") or ""
    await query.edit_message_text("on" if text != "on" else "off", reply_markup=BUTTON)


def serve(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(toggle))
    app.run_polling(allowed_updates=["message", "callback_query"])


def main() -> None:
    url = os.environ["BOT_API_URL"]
    builder = (
        Application.builder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .concurrent_updates(True)
    )
    if os.environ.get("BENCH_ECHO_PACED") == "1":
        limiter = AIORateLimiter(overall_max_rate=1, overall_time_period=1 / 29, max_retries=2)
        serve(builder.rate_limiter(limiter).build())
    else:
        serve(builder.build())


if __name__ == "__main__":
    main()
