"""The requester's side of the conversation with the team: answering a request, plain text relayed while a
request is open, and the relay index that tells those apart."""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    ConversationHandler,
    TypeHandler,
    filters,
)

from bot import callbacks
from bot.context import Context
from bot.db import RequestRow, to_db_time
from bot.keyboards import REQUESTS
from bot.requests import (
    RequestDesk,
    relay_to_staff,
)
from handlers.common import answer, parse_press, send_html, show
from handlers.requests.shared import REPLY, S_REPLY, _in_private, _is_expired, _kick_outbox, _now

# --- the requester's answers -----------------------------------------------------------------------------------


async def start_reply(update: Update, context: Context) -> str | None:
    """The "Antworten" button under a message of the team (or in /anfragen): wait for the user's text."""
    if not await _in_private(update, context):
        return None
    query = update.callback_query
    parsed = parse_press(update, REQUESTS)
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
    cancel_button = REQUESTS.button(texts("requests.buttons.cancel"), "rcancel", req.id)
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
