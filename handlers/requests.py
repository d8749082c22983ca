"""Consultation requests: the form, the requester's /anfragen, replies and rating; the staff group's buttons,
relays and /offen.

Ways into the form: ``/beratung``, the main-menu button (``menu:beratung``), the deep link ``/start beratung``,
and with a question pre-filled: the advice feature's button ``menu:beratung:frage`` after an unanswered question
(the question in ``user_data["advice_question"]``), or for any feature ``request_offer_button(context, question)``:
a button (``req:new:<token>``) that keeps its own question, so an older offer still opens with the right one. (A
conversation can only be entered through its own handlers, so an offer is a button, not a function that starts
the form.)

The form's state and answers live in the persisted conversation and ``user_data``, so a restart continues where
the user was; every button carries the form's id, so a button from an older form changes nothing.
"""

from __future__ import annotations

import logging
import secrets
import warnings
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import callbacks
from bot.content import Html, Texts, html_to_plain, split_message
from bot.context import App, Context
from bot.db import NewRequest, RequestRow, from_db_time, to_db_time
from bot.requests import (
    CALLBACK_PREFIX,
    CONTACT_KINDS,
    FORM_EXPIRES,
    INTERNAL_MARK,
    MAX_OPEN,
    MAX_PER_DAY,
    OTHER_TOPIC,
    QUESTION_MAX,
    QUESTION_MIN,
    ROLES,
    AlreadySubmitted,
    Change,
    InvalidInput,
    Limited,
    Refusal,
    RequestDesk,
    RightsUnknown,
    Submitted,
    apply_change,
    clean_contact,
    clean_kommune,
    clean_question,
    contact_label,
    find_land,
    fit_utf16,
    format_time,
    land_label,
    limit_problem,
    local_day_start,
    plan_claim,
    plan_status,
    posted_to,
    relay_to_staff,
    relay_to_user,
    remind_unclaimed,
    role_label,
    staff_keyboard,
    status_keyboard,
    status_label,
    submit_request,
    topic_label,
    topic_name,
    utf16_length,
)
from handlers.common import answer, home_button, parse_press, send_html, show

log = logging.getLogger(__name__)

FORM_PREFIX = "rqf"
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
    return InlineKeyboardButton(
        context.bot_data.texts(key), callback_data=callbacks.encode(FORM_PREFIX, action, arg)
    )


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
            buttons.append(
                InlineKeyboardButton(
                    label,
                    callback_data=callbacks.encode(FORM_PREFIX, "land", f"{form['id']}.{land.code}"),
                )
            )
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    elif state == S_ROLE:
        body = texts("requests.form.role")
        rows = [
            [_form_button(context, f"requests.buttons.role.{role}", "role", form, role)] for role in ROLES
        ]
    elif state == S_TOPIC:
        body = texts("requests.form.topic")
        nodes = content.menu_children(None)
        topic_buttons = [
            InlineKeyboardButton(
                node.title, callback_data=callbacks.encode(FORM_PREFIX, "topic", f"{form['id']}.{node.id}")
            )
            for node in nodes
        ]
        topic_buttons.append(
            _form_button(context, "requests.buttons.topic_sonstiges", "topic", form, OTHER_TOPIC)
        )
        rows = [topic_buttons[i : i + 2] for i in range(0, len(topic_buttons), 2)]
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
    from bot.app import start_outbox_worker

    start_outbox_worker(cast(App, context.application))


# --- entering and leaving the form -----------------------------------------------------------------------------


def request_offer_button(context: Context, question: str) -> InlineKeyboardButton:
    """For other features: a button that opens the request form with ``question`` pre-filled.

    The question is kept in the user's persisted data under a short token (the last few offers), so an older
    offer still opens the form with its own question.
    """
    assert context.user_data is not None
    offers = context.user_data.setdefault(PREFILL, {})
    token = secrets.token_hex(4)
    offers[token] = question.strip()[:QUESTION_MAX]
    for old in list(offers)[:-PREFILL_KEEP]:
        del offers[old]
    return InlineKeyboardButton(
        context.bot_data.texts("requests.buttons.offer"),
        callback_data=callbacks.encode(CALLBACK_PREFIX, "new", token),
    )


async def start_form(update: Update, context: Context) -> str | int | None:
    """/beratung, the menu button, /start beratung, or an offer: check the limits, then ask for the Kommune."""
    if not await _in_private(update, context):
        return ConversationHandler.END
    await answer(update.callback_query)
    user = update.effective_user
    if user is None or context.user_data is None:
        return None
    services = context.bot_data
    now = _now(context)
    texts = services.texts
    open_count, today = await services.db.user_request_counts(
        user.id, local_day_start(now, services.settings.tz)
    )
    problem = limit_problem(open_count, today)
    if problem is not None:
        await show(
            update, context, texts(problem, max_open=MAX_OPEN, max_day=MAX_PER_DAY), _menu_markup(context)
        )
        return ConversationHandler.END
    prefill = None
    parsed = parse_press(update, CALLBACK_PREFIX)
    if parsed is not None and parsed.action == "new":
        prefill = context.user_data.get(PREFILL, {}).get(parsed.arg)
    menu = parse_press(update, "menu")
    if menu is not None and menu.arg == ADVICE_ARG:
        prefill = context.user_data.get(ADVICE_QUESTION)
    form = _new_form(user.id, now, prefill)
    context.user_data[FORM] = form
    context.user_data.pop(REPLY, None)
    text, markup = await _prompt(context, form, S_KOMMUNE)
    await show(update, context, texts("requests.form.intro") + "\n\n" + text, markup)
    return S_KOMMUNE


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


async def cancel(update: Update, context: Context) -> int:
    """/abbrechen or the cancel button: drop what was entered (the form, or a reply not yet sent)."""
    await answer(update.callback_query)
    replying = context.user_data.pop(REPLY, None) if context.user_data is not None else None
    form = context.user_data.get(FORM) if context.user_data is not None else None
    _drop_form(context)
    key = (
        "requests.user.reply_cancelled"
        if replying is not None and form is None
        else "requests.form.cancelled"
    )
    await show(update, context, context.bot_data.texts(key), _menu_markup(context))
    return ConversationHandler.END


# --- the form's buttons ----------------------------------------------------------------------------------------


async def form_press(update: Update, context: Context) -> str | int | None:
    """Every button of the form, in any state: a field's value, edit, send or cancel."""
    query = update.callback_query
    parsed = parse_press(update, FORM_PREFIX)
    texts = context.bot_data.texts
    if parsed is None:
        await answer(query, texts("requests.form.stale_button"), alert=True)
        return None
    form = await _current_form(update, context)
    if form is None:
        return ConversationHandler.END
    form_id, _, value = parsed.arg.partition(".")
    if form_id != form["id"]:
        await answer(query, texts("requests.form.stale_button"), alert=True)
        return None
    action = parsed.action
    content = context.bot_data.content
    if action == "cancel":
        return await cancel(update, context)
    if action == "send":
        return await _submit(update, context, form)
    if action == "edit":
        await answer(query)
        text, markup = _edit_menu(context, form)
        await show(update, context, text, markup)
        return S_SUMMARY
    if action == "summary":
        await answer(query)
        return await _ask(update, context, form, _next_state(form))
    if action == "field" and value in EDITABLE:
        await answer(query)
        state = next(s for name, s, _ in FIELDS if name == value)
        return await _ask(update, context, form, state)
    if action == "land" and value in {land.code for land in content.servicepoints.laender}:
        form["land"] = value
        await context.bot_data.db.set_user_land(int(form["user"]), value, _now(context))
    elif action == "role" and value in ROLES:
        form["role"] = value
    elif action == "topic" and (value == OTHER_TOPIC or value in {n.id for n in content.menu_children(None)}):
        form["topic"] = value
    elif action == "contact" and value in CONTACT_KINDS:
        form["contact_kind"] = value
        form["contact_value"] = None
    elif action == "privacy":
        form["privacy_at"] = to_db_time(_now(context))
    elif action == "keepq" and form.get("prefill"):
        try:
            form["question"] = clean_question(str(form["prefill"]))
        except InvalidInput as exc:
            await answer(query, _alert(texts(exc.key, **exc.params)), alert=True)
            return None
    else:
        await answer(query, texts("requests.form.stale_button"), alert=True)
        return None
    await answer(query)
    return await _ask(update, context, form, _next_state(form))


async def _submit(update: Update, context: Context, form: dict[str, Any]) -> str | int:
    """Store the request (and its staff post) and tell the user its number."""
    query = update.callback_query
    services = context.bot_data
    texts = services.texts
    missing = _next_state(form)
    if missing != S_SUMMARY:
        await answer(query)
        return await _ask(update, context, form, missing)
    user = update.effective_user
    assert user is not None
    name = user.full_name + (f" (@{user.username})" if user.username else "")
    new = NewRequest(
        user_id=user.id,
        requester_name=name,
        form_token=f"{user.id}:{form['id']}",
        kommune=str(form["kommune"]),
        bundesland=str(form["land"]),
        role=str(form["role"]),
        topic=str(form["topic"]),
        question=str(form["question"]),
        contact_kind=str(form["contact_kind"]),
        contact_value=form.get("contact_value"),
        privacy_ack_at=from_db_time(str(form["privacy_at"])),
    )
    staff_chat_id = services.settings.staff_chat_id
    result = await submit_request(services.db, new, _now(context), services.settings.tz, staff_chat_id)
    await answer(query)
    _drop_form(context)
    if isinstance(result, Limited):
        text = texts(result.key, max_open=MAX_OPEN, max_day=MAX_PER_DAY)
    elif isinstance(result, AlreadySubmitted):
        text = texts("requests.form.already_submitted", number=result.request_id)
    else:
        assert isinstance(result, Submitted)
        key = "requests.form.submitted" if staff_chat_id is not None else "requests.form.submitted_no_staff"
        text = texts(key, number=result.request_id)
        _kick_outbox(context)
    await show(update, context, text, _menu_markup(context))
    return ConversationHandler.END


# --- the form's text answers -----------------------------------------------------------------------------------


async def _text_step(
    update: Update, context: Context, clean: Callable[[dict[str, Any], str], None]
) -> str | int | None:
    form = await _current_form(update, context)
    if form is None:
        return ConversationHandler.END
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        clean(form, message.text)
    except InvalidInput as exc:
        await send_html(update, context, context.bot_data.texts(exc.key, **exc.params))
        return None
    return await _ask(update, context, form, _next_state(form))


async def kommune_text(update: Update, context: Context) -> str | int | None:
    def store(form: dict[str, Any], text: str) -> None:
        form["kommune"] = clean_kommune(text)

    return await _text_step(update, context, store)


async def question_text(update: Update, context: Context) -> str | int | None:
    def store(form: dict[str, Any], text: str) -> None:
        form["question"] = clean_question(text)

    return await _text_step(update, context, store)


async def contact_text(update: Update, context: Context) -> str | int | None:
    def store(form: dict[str, Any], text: str) -> None:
        form["contact_value"] = clean_contact(str(form.get("contact_kind")), text)

    return await _text_step(update, context, store)


async def land_text(update: Update, context: Context) -> str | int | None:
    """A typed Land name ("Bayern", "NRW") works as well as the buttons."""
    laender = {land.code: land.name for land in context.bot_data.content.servicepoints.laender}
    form = await _current_form(update, context)
    if form is None:
        return ConversationHandler.END
    message = update.effective_message
    assert message is not None and message.text is not None
    code = find_land(message.text, laender)
    if code is None:
        text, markup = await _prompt(context, form, S_LAND)
        await send_html(
            update, context, context.bot_data.texts("requests.invalid.land") + "\n\n" + text, markup
        )
        return None
    form["land"] = code
    await context.bot_data.db.set_user_land(int(form["user"]), code, _now(context))
    return await _ask(update, context, form, _next_state(form))


def _reprompt(state: str, key: str) -> Callback:
    """Text where a button is expected (or a photo where text is): explain, and show the question again."""

    async def reprompt(update: Update, context: Context) -> str | int | None:
        form = await _current_form(update, context)
        if form is None:
            return ConversationHandler.END
        text, markup = await _prompt(context, form, state)
        await send_html(update, context, context.bot_data.texts(key) + "\n\n" + text, markup)
        return None

    return reprompt


# --- the requester's answers -----------------------------------------------------------------------------------


async def start_reply(update: Update, context: Context) -> str | None:
    """The "Antworten" button under a message of the team (or in /anfragen): wait for the user's text."""
    if not await _in_private(update, context):
        return None
    query = update.callback_query
    parsed = parse_press(update, CALLBACK_PREFIX)
    texts = context.bot_data.texts
    user = update.effective_user
    req = await _own_request(context, parsed.arg if parsed else "", user.id if user else None)
    if req is None or context.user_data is None:
        await answer(query, texts("requests.user.unknown_request"), alert=True)
        return None
    if not req.is_open:
        await answer(query, texts("requests.user.closed", number=req.id), alert=True)
        return None
    await answer(query)
    context.user_data[REPLY] = {"id": req.id, "touched": to_db_time(_now(context))}
    cancel_button = InlineKeyboardButton(
        texts("requests.buttons.cancel"), callback_data=callbacks.encode(CALLBACK_PREFIX, "rcancel", req.id)
    )
    await send_html(
        update,
        context,
        texts("requests.user.reply_prompt", number=req.id),
        InlineKeyboardMarkup([[cancel_button]]),
    )
    return S_REPLY


async def _own_request(context: Context, arg: str, user_id: int | None) -> RequestRow | None:
    request_id = callbacks.number(arg)
    if user_id is None or request_id is None:
        return None
    req = await context.bot_data.db.get_request(request_id)
    return req if req is not None and req.user_id == user_id else None


async def reply_text(update: Update, context: Context) -> int:
    """The user's answer after "Antworten": relay it to the staff."""
    texts = context.bot_data.texts
    data = context.user_data.pop(REPLY, None) if context.user_data is not None else None
    user = update.effective_user
    message = update.effective_message
    assert message is not None and message.text is not None
    if not isinstance(data, dict) or user is None:
        await send_html(update, context, texts("requests.form.gone"))
        return ConversationHandler.END
    if _is_expired(context, data.get("touched")):
        await send_html(update, context, texts("requests.user.reply_expired"))
        return ConversationHandler.END
    req = await _own_request(context, str(data.get("id")), user.id)
    if req is None:
        await send_html(update, context, texts("requests.user.unknown_request"))
        return ConversationHandler.END
    await _relay_from_user(update, context, req, message.text)
    return ConversationHandler.END


async def reply_cancel(update: Update, context: Context) -> int:
    await answer(update.callback_query)
    if context.user_data is not None:
        context.user_data.pop(REPLY, None)
    await show(update, context, context.bot_data.texts("requests.user.reply_cancelled"))
    return ConversationHandler.END


async def _relay_from_user(update: Update, context: Context, req: RequestRow, text: str) -> None:
    services = context.bot_data
    texts = services.texts
    if not req.is_open:
        await send_html(update, context, texts("requests.user.closed", number=req.id))
        return
    staff_chat_id = services.settings.staff_chat_id
    if staff_chat_id is None:
        await send_html(update, context, texts("requests.user.reply_no_staff", number=req.id))
        return
    for _ in range(2):  # once more if the request changed between reading and writing
        updated = await relay_to_staff(
            services.db, texts, req, text.strip(), staff_chat_id=staff_chat_id, now=_now(context)
        )
        if updated is not None:
            break
        fresh = await services.db.get_request(req.id)
        if fresh is None or not fresh.is_open:
            await send_html(update, context, texts("requests.user.closed", number=req.id))
            return
        req = fresh
    else:
        await send_html(update, context, texts("errors.generic"))
        return
    _kick_outbox(context)
    if updated.status != req.status:
        await services.requests.refresh_staff_views(context.bot, updated, renamed=False)
        await send_html(update, context, texts("requests.user.reply_sent_back", number=req.id))
    else:
        await send_html(update, context, texts("requests.user.reply_sent", number=req.id))


async def relay_plain_text(update: Update, context: Context) -> None:
    """A plain message from a user with exactly one request in dialogue goes to the team."""
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None or message.text is None:
        return
    desk = context.bot_data.requests
    db = context.bot_data.db
    ids = [request_id for _, request_id in await db.answerable_requests(user.id)]
    await desk.index.refresh(db, user.id)
    if len(ids) == 1:
        req = await db.get_request(ids[0])
        if req is not None:
            await _relay_from_user(update, context, req, message.text)
            return
    key = "requests.user.several_open" if ids else "requests.user.no_dialogue"
    await send_html(update, context, context.bot_data.texts(key))


class _InDialogue(filters.MessageFilter):
    """Private text from a user who has exactly one request in dialogue (see ``RelayIndex``)."""

    def __init__(self, desk_of: Callable[[], RequestDesk]) -> None:
        super().__init__(name="InDialogue")
        self._desk_of = desk_of

    def filter(self, message: Message) -> bool:
        user = message.from_user
        return user is not None and self._desk_of().index.single(user.id) is not None


async def load_relay_index(update: Update, context: Context) -> None:
    """Load the relay index before the first update is matched against the relay filter."""
    desk = context.bot_data.requests
    if not desk.index.loaded:
        await desk.index.load(context.bot_data.db)


class _UntilIndexLoaded(TypeHandler[Update, Context, None]):
    """Matches every update until the relay index is loaded, then nothing (so it never shadows its group)."""

    def __init__(self, desk_of: Callable[[], RequestDesk]) -> None:
        super().__init__(Update, load_relay_index)
        self._desk_of = desk_of

    def check_update(self, update: object) -> bool:
        return not self._desk_of().index.loaded and super().check_update(update)


# --- /anfragen and the rating --------------------------------------------------------------------------------


async def my_requests(update: Update, context: Context) -> None:
    """/anfragen: the user's requests with their status; open ones can get a message."""
    user = update.effective_user
    if user is None:
        return
    services = context.bot_data
    texts = services.texts
    reqs = await services.db.requests_of_user(user.id, LIST_LIMIT)
    if not reqs:
        offer = InlineKeyboardButton(
            texts("requests.buttons.new_request"), callback_data=callbacks.encode("menu", "beratung")
        )
        await send_html(update, context, texts("requests.user.list_none"), InlineKeyboardMarkup([[offer]]))
        return
    lines = [texts("requests.user.list_head")]
    buttons = []
    for req in reqs:
        lines.append(
            texts(
                "requests.user.list_item",
                number=req.id,
                date=format_time(req.created_at, services.settings.tz),
                topic=topic_label(texts, services.content, req.topic),
                status=Html(status_label(texts, req.status)),
            )
        )
        if req.is_open:
            buttons.append(
                [
                    InlineKeyboardButton(
                        texts("requests.buttons.write_about", number=req.id),
                        callback_data=callbacks.encode(CALLBACK_PREFIX, "reply", req.id),
                    )
                ]
            )
    await send_html(update, context, "\n\n".join(lines), InlineKeyboardMarkup(buttons) if buttons else None)


async def rate(update: Update, context: Context) -> None:
    """The 1–5 rating of a closed request, stored once."""
    query = update.callback_query
    texts = context.bot_data.texts
    parsed = parse_press(update, CALLBACK_PREFIX)
    user = update.effective_user
    number, _, value = (parsed.arg if parsed else "").partition(".")
    req = await _own_request(context, number, user.id if user else None)
    if req is None or value not in {"1", "2", "3", "4", "5"} or user is None:
        await answer(query, texts("requests.user.unknown_request"), alert=True)
        return
    if req.status != "erledigt":
        await answer(query, texts("requests.user.rate_not_closed", number=req.id), alert=True)
        return
    if req.rating is not None or not await context.bot_data.db.rate_request(
        req.id, user.id, int(value), _now(context)
    ):
        await answer(query, texts("requests.user.already_rated"), alert=True)
        return
    await answer(query, texts("requests.user.rated_toast"))
    await show(update, context, texts("requests.user.rated", number=req.id, rating=int(value)))
    updated = await context.bot_data.db.get_request(req.id)
    if updated is not None:
        await context.bot_data.requests.refresh_staff_views(context.bot, updated, renamed=False)


# --- the staff group -------------------------------------------------------------------------------------------


async def _staff_allowed(update: Update, context: Context) -> bool:
    """Re-check on every action: member of the staff group or staff role; a polite refusal otherwise."""
    user = update.effective_user
    texts = context.bot_data.texts
    if _anonymous_admin(update, context):
        return True  # an admin of the staff group writing as the group (Telegram hides who it is)
    if user is None or user.is_bot:
        return False
    try:
        allowed = await context.bot_data.requests.is_staff(context.bot, user.id)
    except RightsUnknown:
        await _staff_refuse(update, context, texts("requests.staff.rights_unknown"))
        return False
    if not allowed:
        await _staff_refuse(update, context, texts("requests.staff.not_staff"))
    return allowed


def _anonymous_admin(update: Update, context: Context) -> bool:
    """A message an admin of the staff group sent anonymously, as the group itself."""
    message, chat = update.effective_message, update.effective_chat
    return (
        update.callback_query is None
        and message is not None
        and chat is not None
        and chat.id == context.bot_data.settings.staff_chat_id
        and message.sender_chat is not None
        and message.sender_chat.id == chat.id
    )


async def _staff_refuse(update: Update, context: Context, text: str) -> None:
    if update.callback_query is not None:
        await answer(update.callback_query, _alert(text), alert=True)
    elif update.effective_message is not None:
        await _reply_in_place(update.effective_message, text)


async def _reply_in_place(message: Message, text: str) -> None:
    """Answer a message where it was written (its forum topic, or as a reply in a plain group)."""
    try:
        await message.reply_text(text, do_quote=True)
    except TelegramError as exc:
        log.info("staff reply not sent: %s", type(exc).__name__)


async def staff_press(update: Update, context: Context) -> None:
    """The staff buttons: claim, change status (and the status chosen), back, done — rights re-checked on every press."""
    query = update.callback_query
    parsed = parse_press(update, CALLBACK_PREFIX)
    services = context.bot_data
    texts = services.texts
    number, _, target = (parsed.arg if parsed else "").partition(".")
    request_id = callbacks.number(number)
    if parsed is None or request_id is None or (parsed.action == "set") != bool(target):
        await answer(query, texts("requests.staff.stale"), alert=True)
        return
    if not await _staff_allowed(update, context):
        return
    req = await services.db.get_request(request_id)
    user = update.effective_user
    if req is None or user is None or query is None:
        await answer(query, texts("requests.staff.stale"), alert=True)
        return
    if parsed.action == "status":
        await answer(query)
        await _edit_markup(query.message, status_keyboard(texts, req))
        return
    if parsed.action == "back":
        await answer(query)
        await _edit_markup(query.message, staff_keyboard(texts, req))
        return
    if parsed.action == "claim":
        plan: Change | Refusal = plan_claim(req, user.id, user.full_name)
        action = "claimed"
    else:
        plan = plan_status(req, "erledigt" if parsed.action == "done" else target, user.id, user.full_name)
        action = "status"
    if isinstance(plan, Refusal):
        # Alerts are plain text: names in them must not show as HTML entities.
        await answer(query, _alert(texts(plan.key, **plan.params)), alert=True)
        await services.requests.refresh_staff_views(context.bot, req, renamed=False)
        return
    updated = await apply_change(services.db, texts, req, plan, by=user.id, now=_now(context), action=action)
    if updated is None:
        await answer(query, texts("requests.staff.changed_meanwhile"), alert=True)
        fresh = await services.db.get_request(req.id)
        if fresh is not None:
            await services.requests.refresh_staff_views(context.bot, fresh, renamed=False)
        return
    _kick_outbox(context)
    await services.requests.index.refresh(services.db, updated.user_id)
    renamed = (req.status == "erledigt") != (updated.status == "erledigt")
    await services.requests.refresh_staff_views(context.bot, updated, renamed=renamed)
    message = query.message
    if message is not None and message.message_id != updated.staff_message_id:
        await _edit_markup(message, None)  # a reminder's button has done its job
    await answer(
        query,
        _alert(
            texts(
                "requests.staff.changed", number=updated.id, status=Html(status_label(texts, updated.status))
            )
        ),
    )


async def _edit_markup(message: object, markup: InlineKeyboardMarkup | None) -> None:
    if not isinstance(message, Message):
        return
    try:
        await message.edit_reply_markup(reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            log.info("staff keyboard not updated: %s", exc.message)
    except TelegramError as exc:
        log.info("staff keyboard not updated: %s", type(exc).__name__)


async def _adopt_orphan_topic(
    context: Context, message: Message, chat_id: int, thread_id: int
) -> RequestRow | None:
    """A message in a topic the bot created for a request but never learned the id of (it stopped, or the answer
    got lost, right after creating it): the topic's creation message names the request, so it becomes that
    request's topic now instead of staying an orphan."""
    created = message.reply_to_message
    if created is None or created.forum_topic_created is None:
        return None
    if created.from_user is None or created.from_user.id != context.bot.id:
        return None
    name = created.forum_topic_created.name
    texts = context.bot_data.texts
    db = context.bot_data.db
    for req in await db.requests_awaiting_topic(chat_id):
        if topic_name(texts, req) == name:
            await db.set_request_thread(req.id, chat_id, thread_id)
            log.info("request %s: adopted its forum topic created before a restart", req.id)
            return await db.get_request(req.id)
    return None


async def staff_message(update: Update, context: Context) -> None:
    """A staff message in a request's topic, or a reply to a request's message: relay it to the requester."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    db = context.bot_data.db
    texts = context.bot_data.texts
    req = None
    if message.is_topic_message and message.message_thread_id is not None:
        req = await db.request_for_thread(chat.id, message.message_thread_id)
        if req is None:
            req = await _adopt_orphan_topic(context, message, chat.id, message.message_thread_id)
    if req is None and message.reply_to_message is not None:
        req = await db.request_for_staff_message(chat.id, message.reply_to_message.message_id)
    if req is None:
        return  # ordinary talk in the staff group
    text = message.text
    if text is not None and text.lstrip().lower().startswith(INTERNAL_MARK):
        return
    anonymous_admin = _anonymous_admin(update, context)
    if not await _staff_allowed(update, context):
        return
    if text is None or not text.strip():
        await _reply_in_place(message, texts("requests.staff.text_only"))
        return
    author = message.from_user
    staff_id = author.id if author is not None else 0
    staff_name = texts("requests.staff.anonymous") if anonymous_admin or author is None else author.full_name
    for _ in range(2):  # once more if the request changed between reading and writing
        result = await relay_to_user(
            db,
            texts,
            req,
            text.strip(),
            staff_id=staff_id,
            staff_name=staff_name,
            now=_now(context),
            ack=(chat.id, message.message_id),
        )
        if isinstance(result, Refusal):
            await _reply_in_place(message, texts(result.key, **result.params))
            return
        if result is not None:
            _kick_outbox(context)
            await context.bot_data.requests.index.refresh(db, result.user_id)
            if result.status != req.status:
                await context.bot_data.requests.refresh_staff_views(context.bot, result, renamed=False)
            return
        fresh = await db.get_request(req.id)
        if fresh is None:
            return
        req = fresh
    await _reply_in_place(message, texts("requests.staff.changed_meanwhile"))


async def open_requests(update: Update, context: Context) -> None:
    """/offen: open requests, oldest first, with who has them (staff group, or staff in private)."""
    message = update.effective_message
    if message is None or not await _staff_allowed(update, context):
        return
    services = context.bot_data
    texts = services.texts
    reqs = await services.db.open_requests(OPEN_LIST_LIMIT)
    if not reqs:
        await _reply_in_place(message, texts("requests.staff.open_none"))
        return
    total = await services.db.open_request_count()
    lines = [texts("requests.staff.open_head", count=total)]
    if total > len(reqs):
        lines.append(texts("requests.staff.open_more", shown=len(reqs)))
    staff_chat_id = services.settings.staff_chat_id
    for req in reqs:
        missing = staff_chat_id is not None and not posted_to(req, staff_chat_id)
        who = (
            texts("requests.staff.open_by", name=req.claimed_by_name)
            if req.claimed_by_name
            else texts("requests.staff.open_nobody")
        )
        lines.append(
            texts(
                "requests.staff.open_item",
                number=req.id,
                kommune=req.kommune,
                land=land_label(services.content, req.bundesland),
                status=Html(status_label(texts, req.status)),
                who=Html(who),
                since=format_time(req.created_at, services.settings.tz),
                link=Html(_message_link(texts, req)),
                warning=Html(texts("requests.staff.open_not_posted") if missing else ""),
            )
        )
    for part in split_message(lines):
        await _reply_in_place(message, part)


def _message_link(texts: Texts, req: RequestRow) -> str:
    """A t.me link to the request message in a supergroup ("-100…" ids), else nothing."""
    chat = str(req.staff_chat_id or "")
    if req.staff_message_id is None or not chat.startswith("-100"):
        return ""
    path = (
        f"{chat[4:]}/{req.staff_thread_id}/{req.staff_message_id}"
        if req.staff_thread_id
        else f"{chat[4:]}/{req.staff_message_id}"
    )
    return texts("requests.staff.open_link", url=f"https://t.me/c/{path}")


async def remind_job(context: Context) -> None:
    """Tick: raise unclaimed requests again (once per period) and re-sync the relay index with the database."""
    services = context.bot_data
    desk = services.requests
    await desk.index.load(services.db)
    staff_chat_id = services.settings.staff_chat_id
    if staff_chat_id is None:
        return
    reminded = await remind_unclaimed(
        services.db,
        services.texts,
        now=_now(context),
        hours=services.settings.request_reminder_hours,
        staff_chat_id=staff_chat_id,
    )
    if reminded:
        _kick_outbox(context)


async def form_gone(update: Update, context: Context) -> None:
    """A form button while no form is active (finished, cancelled, or from long ago)."""
    await answer(update.callback_query, context.bot_data.texts("requests.form.stale_button"), alert=True)


# --- registration ----------------------------------------------------------------------------------------------


def _conversation(app: App) -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    new_text = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    not_text = filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL
    press = CallbackQueryHandler(form_press, pattern=callbacks.pattern(FORM_PREFIX))

    def button_state(state: str) -> list[BaseHandler[Update, Context, Any]]:
        return [
            press,
            MessageHandler(new_text, _reprompt(state, "requests.form.use_buttons")),
            MessageHandler(not_text, _reprompt(state, "requests.form.use_buttons")),
        ]

    def text_state(state: str, callback: Callback) -> list[BaseHandler[Update, Context, Any]]:
        return [
            press,
            MessageHandler(new_text, callback),
            MessageHandler(not_text, _reprompt(state, "requests.form.text_only")),
        ]

    states: dict[object, list[BaseHandler[Update, Context, Any]]] = {
        S_KOMMUNE: text_state(S_KOMMUNE, kommune_text),
        S_LAND: [
            press,
            MessageHandler(new_text, land_text),
            MessageHandler(not_text, _reprompt(S_LAND, "requests.form.use_buttons")),
        ],
        S_ROLE: button_state(S_ROLE),
        S_TOPIC: button_state(S_TOPIC),
        S_QUESTION: text_state(S_QUESTION, question_text),
        S_CONTACT: button_state(S_CONTACT),
        S_CONTACT_VALUE: text_state(S_CONTACT_VALUE, contact_text),
        S_PRIVACY: button_state(S_PRIVACY),
        S_SUMMARY: button_state(S_SUMMARY),
        S_REPLY: [
            MessageHandler(new_text, reply_text),
            MessageHandler(not_text, _reprompt_reply),
            CallbackQueryHandler(reply_cancel, pattern=r"^req:rcancel:"),
        ],
    }
    entry_points: list[BaseHandler[Update, Context, Any]] = [
        CommandHandler("beratung", start_form, filters=private),
        CommandHandler("start", start_form, filters=private & filters.Regex(r"^/start beratung$")),
        CallbackQueryHandler(start_form, pattern=rf"^menu:beratung(:{ADVICE_ARG})?$"),
        CallbackQueryHandler(start_form, pattern=r"^req:new:"),
        CallbackQueryHandler(start_reply, pattern=r"^req:reply:"),
    ]
    with warnings.catch_warnings():
        # Buttons are tracked per user on purpose; each carries the form's id, so old ones change nothing.
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=entry_points,
            states=states,
            fallbacks=[CommandHandler(["abbrechen", "cancel"], cancel, filters=private)],
            name="requests",
            persistent=True,
            allow_reentry=True,
        )


async def _reprompt_reply(update: Update, context: Context) -> None:
    await send_html(update, context, context.bot_data.texts("requests.form.text_only"))


def register(app: App) -> None:
    """The form and every button of the feature; the staff group's handlers when it is configured."""
    app.bot_data.requests = RequestDesk(app.bot_data)
    app.bot_data.requests.register_kinds(app.bot_data.outbox)
    app.add_handler(_UntilIndexLoaded(lambda: app.bot_data.requests), group=INDEX_GROUP)
    app.add_handler(_conversation(app))
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("anfragen", my_requests, filters=private))
    app.add_handler(CallbackQueryHandler(rate, pattern=r"^req:rate:"))
    app.add_handler(CallbackQueryHandler(staff_press, pattern=r"^req:(claim|status|set|back|done):"))
    app.add_handler(CallbackQueryHandler(form_gone, pattern=callbacks.pattern(FORM_PREFIX)))
    staff_chat_id = app.bot_data.settings.staff_chat_id
    where = private | filters.Chat(staff_chat_id) if staff_chat_id is not None else private
    app.add_handler(CommandHandler("offen", open_requests, filters=where))
    if staff_chat_id is not None:
        app.add_handler(
            ChatMemberHandler(staff_member_changed, ChatMemberHandler.CHAT_MEMBER, chat_id=staff_chat_id),
            group=MEMBER_GROUP,
        )
        app.add_handler(
            MessageHandler(
                filters.Chat(staff_chat_id)
                & (filters.StatusUpdate.LEFT_CHAT_MEMBER | filters.StatusUpdate.NEW_CHAT_MEMBERS),
                staff_member_left,
            ),
            group=MEMBER_GROUP,
        )
        app.add_handler(
            MessageHandler(
                filters.Chat(staff_chat_id)
                & filters.UpdateType.MESSAGE
                & ~filters.COMMAND
                & ~filters.StatusUpdate.ALL
                & (filters.REPLY | filters.IS_TOPIC_MESSAGE),
                staff_message,
            )
        )
    assert app.job_queue is not None
    app.job_queue.run_repeating(
        remind_job, interval=app.bot_data.settings.tick_seconds, first=1.0, name="request_reminders"
    )


async def staff_member_changed(update: Update, context: Context) -> None:
    """Someone joined, left or was removed from the staff group: their rights change at once, not when the
    membership cache runs out."""
    change = update.chat_member
    if change is not None:
        context.bot_data.requests.member_changed(
            change.new_chat_member.user.id, change.new_chat_member.status
        )


async def staff_member_left(update: Update, context: Context) -> None:
    """The group's own 'left'/'joined' messages (seen even where the bot is no admin)."""
    message = update.effective_message
    if message is None:
        return
    desk = context.bot_data.requests
    if message.left_chat_member is not None:
        desk.member_changed(message.left_chat_member.id, ChatMemberStatus.LEFT)
    for member in message.new_chat_members or ():
        desk.member_changed(member.id, None)


def register_relay(app: App) -> None:
    """After every conversation, before the free-text search: a requester's plain text in a dialogue."""
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE
            & filters.UpdateType.MESSAGE
            & filters.TEXT
            & ~filters.COMMAND
            & _InDialogue(lambda: app.bot_data.requests),
            relay_plain_text,
        )
    )
