"""One persistent conversation for both guided tools (Förder-Finder and Standortbestimmung), and their helpers.

Why one conversation: a user is in at most one guided dialogue at a time, so free text (ages, duration, the
Kommune's name) always goes to the step the user is looking at, and starting one tool ends the other. Steps
are states; the answers live in ``user_data[FF_KEY]`` / ``user_data[ST_KEY]`` (JSON only), so a restart
continues where the user was. Button-only steps do not claim free text: a question typed meanwhile still
reaches the search.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import callbacks, keyboards
from bot.content import Content
from bot.content_models.base import LAND_CODES
from bot.context import App, BotData, Context
from bot.keyboards import FOERDERFINDER, STANDORT, STANDORT_VIEW, Family
from bot.telegram_html import split_message
from handlers.common import answer, home_button, main_menu, parse_press, send_html, show

NAME = "guided"
FF_KEY = "ff"  # Förder-Finder answers in user_data
ST_KEY = "st"  # Standortbestimmung answers in user_data
END = ConversationHandler.END
# The home button under a question (ends the dialogue, the question becomes the menu) and under a result (the
# menu comes as a new message below, the result stays readable).
HOME = "home"
MENU_BELOW = "menu"


# A tool's reading of typed text at its current step: (callback action, argument) of the button it names.
TypedResolver = Callable[[BotData, dict[str, Any], str], tuple[str, str] | None]
Callback = Callable[[Update, Context], Any]


class TypedChoice(filters.MessageFilter):
    """Text that names a button of the step the user is at ("ja", "Stadt", "NRW", "Polen"): the dialogue takes
    it as that answer. Any other text is left to the handlers after the dialogue (a relay, the search)."""

    def __init__(self, app: App, key: str, resolve: TypedResolver) -> None:
        super().__init__(name=f"TypedChoice({key})")
        self._app, self._key, self._resolve = app, key, resolve

    def filter(self, message: Message) -> bool:
        user, text = message.from_user, message.text
        if user is None or text is None:
            return False
        data = self._app.user_data.get(user.id, {}).get(self._key)
        return isinstance(data, dict) and self._resolve(self._app.bot_data, data, text) is not None


def begin_tool(context: Context, key: str, data: dict[str, Any]) -> dict[str, Any]:
    """Start a tool's answers afresh; the other tool's unfinished answers are dropped."""
    user_data = context.user_data
    if user_data is None:  # only channel posts lack user data; guided tools run in private chats
        raise RuntimeError("guided tools need user_data")
    for other in (FF_KEY, ST_KEY):
        user_data.pop(other, None)
    user_data[key] = data
    return data


def tool_data(context: Context, key: str) -> dict[str, Any] | None:
    """The tool's answers so far, or None when there are none (finished, cancelled or lost)."""
    data = context.user_data.get(key) if context.user_data is not None else None
    return data if isinstance(data, dict) and isinstance(data.get("step"), str) else None


def step_handlers(
    app: App,
    key: str,
    buttons: Family,
    on_press: Callback,
    on_text: Callback,
    resolve: TypedResolver,
    on_typed: Callback,
) -> tuple[BaseHandler[Update, Context, Any], ...]:
    """A tool's handlers at its steps: its buttons, free text (at a text step), and text that names a button (at
    a button step only such text is the dialogue's; a question still reaches the search)."""
    text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    return (
        CallbackQueryHandler(on_press, pattern=buttons.pattern()),
        MessageHandler(text, on_text),
        MessageHandler(text & TypedChoice(app, key, resolve), on_typed),
    )


async def step_press(
    update: Update, context: Context, buttons: Family, stale: str
) -> callbacks.Callback | None:
    """The tool's pressed button, or None after telling the user the step is gone (``stale``: the text key)."""
    parsed = parse_press(update, buttons)
    if parsed is None:
        await answer(update.callback_query, context.bot_data.texts(stale), alert=True)
    return parsed


async def typed_text(
    update: Update, context: Context, data: dict[str, Any] | None, interrupted: str
) -> str | None:
    """The text typed at a tool's text step; None, after saying so (``interrupted``: the text key), when the
    tool's answers are gone."""
    message = update.effective_message
    if data is None or message is None or message.text is None:
        await send_html(update, context, context.bot_data.texts(interrupted))
        return None
    return message.text


def typed_choice(
    update: Update, context: Context, data: dict[str, Any] | None, resolve: TypedResolver
) -> tuple[str, str] | None:
    """The (action, argument) of the button that the typed text names at the tool's current step, or None."""
    message = update.effective_message
    if data is None or message is None or message.text is None:
        return None
    return resolve(context.bot_data, data, message.text)


def tool_ended(
    toast: str, text: str, again: Family, action: str, label: str
) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    """The answer to a tool's button while the tool no longer runs: the ``toast``, then the ``text`` with a button
    to start again (``label``, ``again``'s ``action``) and the home button. All texts are keys."""

    async def ended_press(update: Update, context: Context) -> None:
        texts = context.bot_data.texts
        await answer(update.callback_query, texts(toast))
        markup = InlineKeyboardMarkup([[again.button(texts(label), action)], [home_button(texts)]])
        await send_html(update, context, texts(text), markup)

    return ended_press


def land_rows(
    content: Content, buttons: Family, known: object, keep: str
) -> list[list[InlineKeyboardButton]]:
    """The federal states in pairs (action ``l``), after the Land known from before (``keep``: its button's text key)."""
    rows = []
    if isinstance(known, str) and known in LAND_CODES:
        rows.append([buttons.button(content.texts(keep, land=content.land_name(known)), "l", known)])
    return rows + keyboards.rows([buttons.button(content.land_name(code), "l", code) for code in LAND_CODES])


def article_url(context: Context, article_id: str) -> str:
    """The deep link that opens an article in this bot (the advice feature handles ``thema_<id>``)."""
    return f"https://t.me/{context.bot.username}?start=thema_{article_id}"


async def show_parts(
    update: Update, context: Context, parts: list[str], markup: InlineKeyboardMarkup | None
) -> None:
    """Show a result: edit the pressed message into the first part, send the rest; the keyboard goes last."""
    messages = split_message(parts)
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_text(messages[0], reply_markup=None if len(messages) > 1 else markup)
            messages = messages[1:]
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            # The message is too old or gone: send everything anew.
    for index, text in enumerate(messages):
        await send_html(update, context, text, markup if index == len(messages) - 1 else None)


async def leave_to_menu(update: Update, context: Context) -> int:
    """The home button on a question: the guided dialogue ends – what the user types next is no longer taken as
    an answer (the Kommune's name) but goes to the search – and the question becomes the main menu."""
    if context.user_data is not None:
        for key in (FF_KEY, ST_KEY):
            context.user_data.pop(key, None)
    await answer(update.callback_query)
    texts = context.bot_data.texts
    await show(update, context, texts("start.menu_prompt"), main_menu(texts))
    return END


async def menu_below(update: Update, context: Context) -> None:
    """The home button under a result: the menu as a new message; the result is not overwritten."""
    await answer(update.callback_query)
    texts = context.bot_data.texts
    await send_html(update, context, texts("start.menu_prompt"), main_menu(texts))


async def cancel(update: Update, context: Context) -> int:
    """/abbrechen: end the guided dialogue and drop its unfinished answers."""
    texts = context.bot_data.texts
    user_data = context.user_data if context.user_data is not None else {}
    if user_data.pop(ST_KEY, None) is not None:
        text = texts("standort.cancelled")
    elif user_data.pop(FF_KEY, None) is not None:
        text = texts("foerderfinder.cancelled")
    else:
        text = texts("foerderfinder.nothing_to_cancel")
    await send_html(update, context, text)
    return END


def menu_handlers() -> list[CallbackQueryHandler[Context, Any]]:
    """The home buttons of both tools, inside the dialogue and outside it alike."""
    return [
        CallbackQueryHandler(leave_to_menu, pattern=keyboards.pattern([FOERDERFINDER, STANDORT], HOME)),
        CallbackQueryHandler(
            menu_below, pattern=keyboards.pattern([FOERDERFINDER, STANDORT_VIEW], MENU_BELOW)
        ),
    ]


class Tool(Protocol):
    """A guided tool's part of the shared conversation (handlers/foerderfinder.py, handlers/standort.py). The
    tools are passed in by handlers/__init__.py: they import this module's helpers, so it cannot import them."""

    def entry_points(self) -> list[BaseHandler[Update, Context, Any]]: ...

    def states(self, app: App) -> dict[object, list[BaseHandler[Update, Context, Any]]]: ...

    def fallbacks(self) -> list[BaseHandler[Update, Context, Any]]: ...

    def register_outside(self, app: App) -> None: ...


def build_conversation(app: App, tools: Sequence[Tool]) -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    states: dict[object, list[BaseHandler[Update, Context, Any]]] = {}
    for tool in tools:
        states.update(tool.states(app))
    with warnings.catch_warnings():
        # Buttons are matched per user and chat on purpose (per_message=False): each step checks its own data.
        warnings.filterwarnings("ignore", message=".*per_message=False.*", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[handler for tool in tools for handler in tool.entry_points()],
            states=states,
            fallbacks=[
                CommandHandler(["abbrechen", "cancel"], cancel, filters=private),
                *menu_handlers(),
                *(handler for tool in tools for handler in tool.fallbacks()),
            ],
            name=NAME,
            persistent=True,
            allow_reentry=True,
        )


def register(app: App, tools: Sequence[Tool]) -> None:
    """The conversation of ``tools`` (in this order: the funding finder, then the self-assessment) and their buttons."""
    app.add_handler(build_conversation(app, tools))
    for handler in menu_handlers():
        app.add_handler(handler)
    # Buttons of a finished or forgotten dialogue, pressed outside it: say so and offer a fresh start.
    for tool in tools:
        tool.register_outside(app)
