"""Small helpers every handler module uses: sending HTML, the main menu, answering button presses."""

from __future__ import annotations

import contextlib

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.error import BadRequest

from bot import callbacks
from bot.context import Context
from bot.keyboards import MENU, Family
from bot.telegram_html import split_message
from bot.texts import Texts

MAIN_MENU = (
    ("themen", "foerderfinder"),
    ("termine", "beratung"),
    ("abo", "datenschutz"),
)


def main_menu(texts: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[MENU.button(texts(f"menu.buttons.{entry}"), entry) for entry in row] for row in MAIN_MENU]
    )


def home_button(texts: Texts) -> InlineKeyboardButton:
    return MENU.button(texts("menu.buttons.home"), "home")


async def send_html(
    update: Update, context: Context, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send HTML into the update's chat (and thread), split when longer than Telegram allows.

    The keyboard goes with the last part, so it stays next to where the user reads.
    """
    chat = update.effective_chat
    if chat is None:
        return None
    message = update.effective_message
    # Only a forum topic has a thread to answer in; in a plain group message_thread_id names a reply chain.
    thread_id = message.message_thread_id if message is not None and message.is_topic_message else None
    parts = split_message([text])
    sent: Message | None = None
    for index, part in enumerate(parts):
        sent = await context.bot.send_message(
            chat.id,
            part,
            reply_markup=markup if index == len(parts) - 1 else None,
            message_thread_id=thread_id,
        )
    return sent


async def show(
    update: Update, context: Context, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit the pressed message in place when the update is a button press, else send a new message."""
    query = update.callback_query
    if query is not None and query.message is not None and len(split_message([text])) == 1:
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            # The message is too old or gone: fall through and send a new one.
    await send_html(update, context, text, markup)


async def answer(query: CallbackQuery | None, text: str | None = None, alert: bool = False) -> None:
    """Answer a button press (the spinner stops); never raises on a stale query."""
    if query is None:
        return
    with contextlib.suppress(BadRequest):
        await query.answer(text, show_alert=alert)


async def user_of(update: Update) -> User | None:
    """Who sent the update, with a button press answered first (its spinner stops); None for an update without
    a user, which the caller ignores."""
    user = update.effective_user
    if user is not None:
        await answer(update.callback_query)
    return user


def parse_press(update: Update, family: Family) -> callbacks.Callback | None:
    """The pressed button's data when it parses and belongs to ``family``, else None (stale or forged)."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    return parsed if parsed is not None and parsed.prefix == family.prefix else None
