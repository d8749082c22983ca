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

import re
import warnings
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.context import App, Context
from bot.keyboards import MENU, REQUEST_FORM, REQUESTS, Arg
from bot.requests import RequestDesk
from handlers.common import send_html
from handlers.requests.form import (
    _reprompt,
    cancel,
    contact_text,
    form_gone,
    form_press,
    kommune_text,
    land_text,
    question_text,
    request_offer_button,
    start_form,
)
from handlers.requests.relay import (
    _InDialogue,
    _UntilIndexLoaded,
    relay_plain_text,
    reply_cancel,
    reply_text,
    start_reply,
)
from handlers.requests.shared import (
    ADVICE_ARG,
    INDEX_GROUP,
    MEMBER_GROUP,
    S_CONTACT,
    S_CONTACT_VALUE,
    S_KOMMUNE,
    S_LAND,
    S_PRIVACY,
    S_QUESTION,
    S_REPLY,
    S_ROLE,
    S_SUMMARY,
    S_TOPIC,
    Callback,
)
from handlers.requests.staff import (
    STAFF_ACTIONS,
    open_requests,
    remind_job,
    staff_member_changed,
    staff_member_left,
    staff_message,
    staff_press,
)
from handlers.requests.views import my_requests, rate

# --- registration ----------------------------------------------------------------------------------------------


def _conversation(app: App) -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    new_text = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    not_text = filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL
    press = CallbackQueryHandler(form_press, pattern=REQUEST_FORM.pattern())

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
            CallbackQueryHandler(reply_cancel, pattern=REQUESTS.pattern("rcancel", arg=Arg.ANY)),
        ],
    }
    entry_points: list[BaseHandler[Update, Context, Any]] = [
        CommandHandler("beratung", start_form, filters=private),
        CommandHandler("start", start_form, filters=private & filters.Regex(r"^/start beratung$")),
        CallbackQueryHandler(
            start_form, pattern=MENU.pattern("beratung", arg=re.escape(ADVICE_ARG), optional=True)
        ),
        CallbackQueryHandler(start_form, pattern=REQUESTS.pattern("new", arg=Arg.ANY)),
        CallbackQueryHandler(start_reply, pattern=REQUESTS.pattern("reply", arg=Arg.ANY)),
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
    app.add_handler(CallbackQueryHandler(rate, pattern=REQUESTS.pattern("rate", arg=Arg.ANY)))
    app.add_handler(CallbackQueryHandler(staff_press, pattern=REQUESTS.pattern(*STAFF_ACTIONS, arg=Arg.ANY)))
    app.add_handler(CallbackQueryHandler(form_gone, pattern=REQUEST_FORM.pattern()))
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


__all__ = ["register", "register_relay", "request_offer_button"]
