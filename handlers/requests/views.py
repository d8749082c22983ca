"""The requester's /anfragen list and the rating of an answered request."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.context import Context
from bot.keyboards import MENU, REQUESTS, one_button
from bot.requests import (
    format_time,
    status_label,
    topic_label,
)
from bot.telegram_html import Html
from handlers.common import answer, parse_press, send_html, show
from handlers.requests.relay import _own_request
from handlers.requests.shared import LIST_LIMIT, _now

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
        offer = MENU.button(texts("requests.buttons.new_request"), "beratung")
        await send_html(update, context, texts("requests.user.list_none"), one_button(offer))
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
                [REQUESTS.button(texts("requests.buttons.write_about", number=req.id), "reply", req.id)]
            )
    await send_html(update, context, "\n\n".join(lines), InlineKeyboardMarkup(buttons) if buttons else None)


async def rate(update: Update, context: Context) -> None:
    """The 1–5 rating of a closed request, stored once."""
    query = update.callback_query
    texts = context.bot_data.texts
    parsed = parse_press(update, REQUESTS)
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
