"""Views shared by the event handlers (handlers/events.py, handlers/event_form.py, handlers/deadlines.py): an
event's details with its buttons, the user's Land, the rows of Land buttons and the previous/next row of a list.
"""

from __future__ import annotations

from urllib.parse import quote

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import events, reminders
from bot.content import Content
from bot.content_models.base import LAND_CODES
from bot.context import Context
from bot.db import EventRow
from bot.keyboards import EVENT_FORM, EVENTS, Family, url_button
from bot.roles import is_coordinator
from bot.texts import Texts
from handlers.common import home_button


async def user_land(context: Context, user_id: int) -> str | None:
    """The user's Bundesland, None when not given."""
    user = await context.bot_data.db.get_user(user_id)
    return user.bundesland if user is not None else None


async def event_view(context: Context, event: EventRow, user_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """An event's details as ``user_id`` sees them, with follow, .ics, share and (coordinators) edit/cancel."""
    data = context.bot_data
    texts, now = data.texts, data.clock.now()
    following = await data.db.follows_event(event.id, user_id)
    subscribed = not following and await reminders.subscription_covers(data.db, user_id, event)
    link = events.share_link(context.bot.username, event.id)
    text = events.render_details(
        data.content, data.settings.tz, event, now=now, following=following, link=link, subscribed=subscribed
    )
    rows: list[list[InlineKeyboardButton]] = []
    if event.state == "active" and event.ends_at > now:
        follow = (
            EVENTS.button(texts("events.buttons.unfollow"), "unfollow", event.id)
            if following
            else EVENTS.button(texts("events.buttons.follow"), "follow", event.id)
        )
        rows.append(
            [
                follow,
                EVENTS.button(texts("events.buttons.ics_file"), "ics", event.id),
            ]
        )
        if link:
            rows.append(
                [
                    url_button(
                        texts("events.buttons.share"), f"https://t.me/share/url?url={quote(link, safe='')}"
                    )
                ]
            )
        if await is_coordinator(data.settings, data.db, user_id):
            rows.append(
                [
                    EVENT_FORM.button(texts("events.buttons.edit"), "edit", event.id),
                    EVENTS.button(texts("events.buttons.cancel_event"), "cancel", event.id),
                ]
            )
    elif following:
        rows.append([EVENTS.button(texts("events.buttons.unfollow"), "unfollow", event.id)])
    rows.append(
        [
            EVENTS.button(texts("events.buttons.all_events"), "list", 0),
            home_button(texts),
        ]
    )
    return text, InlineKeyboardMarkup(rows)


def land_rows(content: Content, family: Family) -> list[list[InlineKeyboardButton]]:
    """A button per Land (``<family>:land:<code>``), by name, two in a row."""
    buttons = [
        family.button(content.land_name(code), "land", code)
        for code in sorted(LAND_CODES, key=content.land_name)
    ]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def page_nav(texts: Texts, family: Family, page: int, *, more: bool) -> list[InlineKeyboardButton]:
    """The previous/next buttons (text keys ``events.buttons.previous``/``next``) of a paged list (``<family>:list:<page>``); empty on a single page."""
    nav = []
    if page > 0:
        nav.append(family.button(texts("events.buttons.previous"), "list", page - 1))
    if more:
        nav.append(family.button(texts("events.buttons.next"), "list", page + 1))
    return nav
