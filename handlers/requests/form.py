"""The request form: entering and leaving it, its buttons and its text answers."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from telegram import InlineKeyboardButton, Update
from telegram.ext import (
    ConversationHandler,
)

from bot import callbacks
from bot.context import Context
from bot.db import NewRequest, from_db_time, to_db_time
from bot.keyboards import MENU, REQUEST_FORM, REQUESTS
from bot.requests import (
    CONTACT_KINDS,
    MAX_OPEN,
    MAX_PER_DAY,
    OTHER_TOPIC,
    QUESTION_MAX,
    ROLES,
    AlreadySubmitted,
    InvalidInput,
    Limited,
    Submitted,
    clean_contact,
    clean_kommune,
    clean_question,
    find_land,
    limit_problem,
    local_day_start,
    submit_request,
)
from handlers.common import answer, parse_press, send_html, show
from handlers.requests.shared import (
    ADVICE_ARG,
    ADVICE_QUESTION,
    EDITABLE,
    FIELDS,
    FORM,
    PREFILL,
    PREFILL_KEEP,
    REPLY,
    S_KOMMUNE,
    S_LAND,
    S_SUMMARY,
    Callback,
    _alert,
    _ask,
    _current_form,
    _drop_form,
    _edit_menu,
    _in_private,
    _kick_outbox,
    _menu_markup,
    _new_form,
    _next_state,
    _now,
    _prompt,
)

# --- entering and leaving the form -----------------------------------------------------------------------------


# The form's answers that a request takes as they are.
ANSWERS = ("kommune", "land", "role", "topic", "question", "contact_kind")


def request_offer_button(context: Context, question: str, label: str | None = None) -> InlineKeyboardButton:
    """For other features: a button that opens the request form with ``question`` pre-filled (``label``: its
    text, by default the form's own offer).

    The question is kept in the user's persisted data under a short token (the last few offers), so an older
    offer still opens the form with its own question.
    """
    assert context.user_data is not None
    offers = context.user_data.setdefault(PREFILL, {})
    token = secrets.token_hex(4)
    offers[token] = question.strip()[:QUESTION_MAX]
    for old in list(offers)[:-PREFILL_KEEP]:
        del offers[old]
    return REQUESTS.button(label or context.bot_data.texts("requests.buttons.offer"), "new", token)


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
    parsed = parse_press(update, REQUESTS)
    if parsed is not None and parsed.action == "new":
        prefill = context.user_data.get(PREFILL, {}).get(parsed.arg)
    menu = parse_press(update, MENU)
    if menu is not None and menu.arg == ADVICE_ARG:
        prefill = context.user_data.get(ADVICE_QUESTION)
    form = _new_form(user.id, now, prefill)
    context.user_data[FORM] = form
    context.user_data.pop(REPLY, None)
    text, markup = await _prompt(context, form, S_KOMMUNE)
    await show(update, context, texts("requests.form.intro") + "\n\n" + text, markup)
    return S_KOMMUNE


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
    parsed = parse_press(update, REQUEST_FORM)
    texts = context.bot_data.texts
    if parsed is None:
        await answer(query, texts("requests.form.stale_button"), alert=True)
        return None
    if await _told_already_filed(update, context, parsed):
        return ConversationHandler.END
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
    kommune, land, role, topic, question, contact_kind = (str(form[key]) for key in ANSWERS)
    new = NewRequest(
        user_id=user.id,
        requester_name=name,
        form_token=f"{user.id}:{form['id']}",
        kommune=kommune,
        bundesland=land,
        role=role,
        topic=topic,
        question=question,
        contact_kind=contact_kind,
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


async def form_gone(update: Update, context: Context) -> None:
    """A form button while no form is active (finished, cancelled, or from long ago)."""
    parsed = parse_press(update, REQUEST_FORM)
    if parsed is not None and await _told_already_filed(update, context, parsed):
        return
    await answer(update.callback_query, context.bot_data.texts("requests.form.stale_button"), alert=True)


async def _told_already_filed(update: Update, context: Context, press: callbacks.Callback) -> bool:
    """ "Absenden" of a form that is no longer in memory but whose request was stored: tell its number again.

    A crash after the request was stored can leave the press to be handled once more, with the form already
    dropped from the user's data (PTB writes that data and the conversation's state separately); the user must
    still learn the number, not that the form is gone.
    """
    user = update.effective_user
    if press.action != "send" or user is None:
        return False
    form = context.user_data.get(FORM) if context.user_data is not None else None
    if isinstance(form, dict) and "id" in form:
        return False  # the form is still there: the normal path files it (idempotently) and says so
    form_id = press.arg.partition(".")[0]
    filed = await context.bot_data.db.request_by_form_token(f"{user.id}:{form_id}")
    if filed is None:
        return False
    texts = context.bot_data.texts
    await answer(update.callback_query)
    await show(
        update, context, texts("requests.form.already_submitted", number=filed.id), _menu_markup(context)
    )
    return True
