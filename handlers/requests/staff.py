"""The staff group: its buttons, replies relayed to the requester, /offen, membership changes and the reminder
of unclaimed requests."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, TelegramError

from bot import callbacks
from bot.context import Context
from bot.db import RequestRow
from bot.keyboards import REQUESTS
from bot.requests import (
    INTERNAL_MARK,
    Change,
    Refusal,
    RightsUnknown,
    apply_change,
    format_time,
    land_label,
    plan_claim,
    plan_status,
    posted_to,
    relay_to_user,
    remind_unclaimed,
    staff_keyboard,
    status_keyboard,
    status_label,
    topic_name,
)
from bot.telegram_html import Html, split_message
from bot.texts import Texts
from handlers.common import answer, parse_press
from handlers.requests.shared import OPEN_LIST_LIMIT, _alert, _kick_outbox, _now

log = logging.getLogger(__name__)

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


# The staff keyboards' actions (built in bot/requests.py), all answered by ``staff_press``.
STAFF_ACTIONS = ("claim", "status", "set", "back", "done")


async def staff_press(update: Update, context: Context) -> None:
    """The staff buttons: claim, change status (and the status chosen), back, done — rights re-checked on every press."""
    query = update.callback_query
    parsed = parse_press(update, REQUESTS)
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
