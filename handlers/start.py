"""/start (with deep links handled by the feature modules), /hilfe and the main menu."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.context import App, Context
from bot.keyboards import MENU
from handlers.common import answer, main_menu, send_html, show


async def start(update: Update, context: Context) -> None:
    """Welcome and main menu; an unknown deep-link payload says so first."""
    texts = context.bot_data.texts
    user = update.effective_user
    if context.args:
        await send_html(update, context, texts("start.unknown_payload"), main_menu(texts))
        return
    name = user.first_name if user else ""
    await send_html(update, context, texts("start.welcome", name=name), main_menu(texts))


async def help_command(update: Update, context: Context) -> None:
    """The help text with all commands."""
    await send_html(update, context, context.bot_data.texts("help.text"), main_menu(context.bot_data.texts))


async def menu_home(update: Update, context: Context) -> None:
    """The main-menu (home) button: back to the main menu in place."""
    await answer(update.callback_query)
    texts = context.bot_data.texts
    await show(update, context, texts("start.menu_prompt"), main_menu(texts))


async def menu_coming_soon(update: Update, context: Context) -> None:
    """A main-menu entry whose feature is not built yet."""
    await answer(update.callback_query, context.bot_data.texts("menu.coming_soon"), alert=True)


def register(app: App) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", start, filters=private))
    app.add_handler(CommandHandler(["hilfe", "help"], help_command, filters=private))
    app.add_handler(CallbackQueryHandler(menu_home, pattern=MENU.pattern("home")))


def register_menu_fallback(app: App) -> None:
    """Registered after every feature: main-menu entries nobody handled yet."""
    app.add_handler(CallbackQueryHandler(menu_coming_soon, pattern=MENU.pattern()))
