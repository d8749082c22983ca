"""Shared by the consultation-request handlers: the form's constants and states, its data, small helpers."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType

from bot import keyboards
from bot.context import Context
from bot.db import from_db_time, to_db_time
from bot.keyboards import REQUEST_FORM
from bot.requests import (
    CONTACT_KINDS,
    FORM_EXPIRES,
    OTHER_TOPIC,
    QUESTION_MAX,
    QUESTION_MIN,
    ROLES,
    contact_label,
    fit_utf16,
    land_label,
    role_label,
    topic_label,
    utf16_length,
)
from bot.telegram_html import Html, html_to_plain
from handlers.common import answer, home_button, send_html, show

log = logging.getLogger(__name__)

FORM = "request_form"  # user_data: the answers so far
REPLY = "request_reply"  # user_data: the request the user is answering
PREFILL = "request_prefill"  # user_data: questions offered for the form by other features, by token
PREFILL_KEEP = 5
# The advice feature's offer after an unanswered question: "menu:beratung:frage", the question in user_data.
ADVICE_ARG = "frage"
ADVICE_QUESTION = "advice_question"
LIST_LIMIT = 10
ALERT_MAX = 200  # characters Telegram shows in a button's alert; longer ones are refused
OPEN_LIST_LIMIT = 50
# Handler group of the one-time relay-index loader: before every other group, including the guards in -1.
INDEX_GROUP = -100
MEMBER_GROUP = (
    -99
)  # staff-group membership changes: seen by their own group, whatever else handles the update

# Conversation states (strings: they are persisted as JSON).
S_KOMMUNE = "kommune"
S_LAND = "land"
S_ROLE = "role"
S_TOPIC = "topic"
S_QUESTION = "question"
S_CONTACT = "contact"
S_CONTACT_VALUE = "contact_value"
S_PRIVACY = "privacy"
S_SUMMARY = "summary"
S_REPLY = "reply"

# The form's fields in order, with the state that asks for each and its step number.
FIELDS: tuple[tuple[str, str, int], ...] = (
    ("kommune", S_KOMMUNE, 1),
    ("land", S_LAND, 2),
    ("role", S_ROLE, 3),
    ("topic", S_TOPIC, 4),
    ("question", S_QUESTION, 5),
    ("contact_kind", S_CONTACT, 6),
    ("contact_value", S_CONTACT_VALUE, 6),
    ("privacy_at", S_PRIVACY, 7),
)
STEPS = 7
EDITABLE = ("kommune", "land", "role", "topic", "question", "contact_kind")

Callback = Callable[[Update, Context], Coroutine[Any, Any, Any]]


# --- the form's data -------------------------------------------------------------------------------------------


def _now(context: Context) -> datetime:
    return context.bot_data.clock.now()


def _new_form(user_id: int, now: datetime, prefill: str | None) -> dict[str, Any]:
    return {
        "id": secrets.token_hex(4),
        "user": user_id,
        "touched": to_db_time(now),
        "prefill": prefill,
    }


def _next_state(form: dict[str, Any]) -> str:
    for name, state, _ in FIELDS:
        if name == "contact_value" and form.get("contact_kind") == "telegram":
            continue
        if not form.get(name):
            return state
    return S_SUMMARY


def _is_expired(context: Context, stamp: str | None) -> bool:
    return stamp is None or _now(context) - from_db_time(stamp) > FORM_EXPIRES


def _form_button(
    context: Context, key: str, action: str, form: dict[str, Any], value: str = ""
) -> InlineKeyboardButton:
    arg = f"{form['id']}.{value}" if value else str(form["id"])
    return REQUEST_FORM.button(context.bot_data.texts(key), action, arg)


def _form_footer(context: Context, form: dict[str, Any]) -> list[list[InlineKeyboardButton]]:
    """Back to the summary while editing a complete form; cancel always."""
    row = [_form_button(context, "requests.buttons.cancel", "cancel", form)]
    if _next_state(form) == S_SUMMARY:
        row.insert(0, _form_button(context, "requests.buttons.to_summary", "summary", form))
    return [row]


async def _prompt(context: Context, form: dict[str, Any], state: str) -> tuple[str, InlineKeyboardMarkup]:
    """The question (and buttons) of a state."""
    texts = context.bot_data.texts
    content = context.bot_data.content
    step = next((number for _, s, number in FIELDS if s == state), None)
    head = texts("requests.form.step", step=step, total=STEPS) if step is not None else ""
    rows: list[list[InlineKeyboardButton]] = []
    if state == S_KOMMUNE:
        body = texts("requests.form.kommune")
    elif state == S_LAND:
        user = await context.bot_data.db.get_user(int(form["user"]))
        remembered = form.get("land") or (user.bundesland if user is not None else None)
        body = texts("requests.form.land")
        if remembered:
            body += "\n" + texts("requests.form.land_remembered", land=land_label(content, remembered))
        buttons = []
        for land in content.servicepoints.laender:
            label = (
                texts("requests.buttons.land_marked", name=land.name)
                if land.code == remembered
                else land.name
            )
            buttons.append(REQUEST_FORM.button(label, "land", f"{form['id']}.{land.code}"))
        rows = keyboards.rows(buttons)
    elif state == S_ROLE:
        body = texts("requests.form.role")
        rows = [
            [_form_button(context, f"requests.buttons.role.{role}", "role", form, role)] for role in ROLES
        ]
    elif state == S_TOPIC:
        body = texts("requests.form.topic")
        nodes = content.menu_children(None)
        topic_buttons = [
            REQUEST_FORM.button(node.title, "topic", f"{form['id']}.{node.id}") for node in nodes
        ]
        topic_buttons.append(
            _form_button(context, "requests.buttons.topic_sonstiges", "topic", form, OTHER_TOPIC)
        )
        rows = keyboards.rows(topic_buttons)
    elif state == S_QUESTION:
        prefill = form.get("prefill")
        if prefill and QUESTION_MIN <= utf16_length(prefill.strip()) <= QUESTION_MAX:
            body = texts(
                "requests.form.question_prefilled",
                question=prefill.strip(),
                min=QUESTION_MIN,
                max=QUESTION_MAX,
            )
            rows = [[_form_button(context, "requests.buttons.keep_question", "keepq", form)]]
        else:
            body = texts("requests.form.question", min=QUESTION_MIN, max=QUESTION_MAX)
    elif state == S_CONTACT:
        body = texts("requests.form.contact")
        rows = [
            [_form_button(context, f"requests.buttons.contact.{kind}", "contact", form, kind)]
            for kind in CONTACT_KINDS
        ]
    elif state == S_CONTACT_VALUE:
        body = texts(
            "requests.form.contact_email"
            if form.get("contact_kind") == "email"
            else "requests.form.contact_phone"
        )
        rows = [[_form_button(context, "requests.buttons.other_contact", "field", form, "contact_kind")]]
    elif state == S_PRIVACY:
        body = texts("requests.form.privacy")
        rows = [[_form_button(context, "requests.buttons.privacy_ok", "privacy", form)]]
    else:
        return _summary(context, form)
    return head + body, InlineKeyboardMarkup(rows + _form_footer(context, form))


def _summary(context: Context, form: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    texts = context.bot_data.texts
    content = context.bot_data.content
    text = texts(
        "requests.form.summary",
        kommune=form["kommune"],
        land=land_label(content, form["land"]),
        role=role_label(texts, form["role"]),
        topic=topic_label(texts, content, form["topic"]),
        contact=Html(contact_label(texts, form["contact_kind"], form.get("contact_value"))),
        question=form["question"],
    )
    markup = InlineKeyboardMarkup(
        [
            [_form_button(context, "requests.buttons.send", "send", form)],
            [
                _form_button(context, "requests.buttons.edit", "edit", form),
                _form_button(context, "requests.buttons.cancel", "cancel", form),
            ],
        ]
    )
    return text, markup


def _edit_menu(context: Context, form: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    rows = [
        [_form_button(context, f"requests.buttons.edit_field.{name}", "field", form, name)]
        for name in EDITABLE
    ]
    rows.append([_form_button(context, "requests.buttons.to_summary", "summary", form)])
    return context.bot_data.texts("requests.form.edit"), InlineKeyboardMarkup(rows)


async def _ask(update: Update, context: Context, form: dict[str, Any], state: str) -> str:
    """Show the state's question (in place after a press, as a new message after text) and enter the state."""
    text, markup = await _prompt(context, form, state)
    await show(update, context, text, markup)
    return state


async def _current_form(update: Update, context: Context) -> dict[str, Any] | None:
    """The form in progress, or None after telling the user it is gone or expired (the form then ends)."""
    form = context.user_data.get(FORM) if context.user_data is not None else None
    texts = context.bot_data.texts
    if not isinstance(form, dict) or "id" not in form:
        await _tell(update, context, texts("requests.form.gone"))
        return None
    if _is_expired(context, form.get("touched")):
        _drop_form(context)
        await _tell(update, context, texts("requests.form.expired"))
        return None
    form["touched"] = to_db_time(_now(context))
    return form


async def _tell(update: Update, context: Context, text: str) -> None:
    """Explain why the form is over: in place of the pressed form message (its buttons are dead), or as a reply.

    Not as an alert: alerts hold 200 characters at most, and Telegram shows nothing for a longer one.
    """
    if update.callback_query is not None:
        await answer(update.callback_query)
        await show(update, context, text, _menu_markup(context))
    else:
        await send_html(update, context, text)


def _alert(text: str) -> str:
    """Alert text: plain (no HTML entities shown) and cut to Telegram's 200 characters."""
    return fit_utf16(html_to_plain(text), ALERT_MAX)


def _drop_form(context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(FORM, None)


def _kick_outbox(context: Context) -> None:
    context.bot_data.outbox.kick()


async def _in_private(update: Update, context: Context) -> bool:
    """Forms and answers only in the private chat: in a group the form would take over the member's messages
    (in the staff group: their replies to requests). The commands are private-only; this guards the buttons."""
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        return True
    await answer(update.callback_query, context.bot_data.texts("requests.form.private_only"), alert=True)
    return False


def _menu_markup(context: Context) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[home_button(context.bot_data.texts)]])
