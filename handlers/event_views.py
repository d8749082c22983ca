"""Views shared by the event handlers (handlers/events.py, handlers/event_form.py, handlers/deadlines.py): an
event's details with its buttons, the user's Land, the rows of Land buttons and the previous/next row of a list.
"""

from __future__ import annotations

from urllib.parse import quote

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks, events, reminders
from bot.content import Content
from bot.content_models.base import LAND_CODES
from bot.context import Context
from bot.db import EventRow
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
            InlineKeyboardButton(
                texts("events.buttons.unfollow"), callback_data=callbacks.encode("ev", "unfollow", event.id)
            )
            if following
            else InlineKeyboardButton(
                texts("events.buttons.follow"), callback_data=callbacks.encode("ev", "follow", event.id)
            )
        )
        rows.append(
            [
                follow,
                InlineKeyboardButton(
                    texts("events.buttons.ics_file"), callback_data=callbacks.encode("ev", "ics", event.id)
                ),
            ]
        )
        if link:
            rows.append(
                [
                    InlineKeyboardButton(
                        texts("events.buttons.share"),
                        url=f"https://t.me/share/url?url={quote(link, safe='')}",
                    )
                ]
            )
        if await is_coordinator(data.settings, data.db, user_id):
            rows.append(
                [
                    InlineKeyboardButton(
                        texts("events.buttons.edit"), callback_data=callbacks.encode("evf", "edit", event.id)
                    ),
                    InlineKeyboardButton(
                        texts("events.buttons.cancel_event"),
                        callback_data=callbacks.encode("ev", "cancel", event.id),
                    ),
                ]
            )
    elif following:
        rows.append(
            [
                InlineKeyboardButton(
                    texts("events.buttons.unfollow"),
                    callback_data=callbacks.encode("ev", "unfollow", event.id),
                )
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                texts("events.buttons.all_events"), callback_data=callbacks.encode("ev", "list", 0)
            ),
            home_button(texts),
        ]
    )
    return text, InlineKeyboardMarkup(rows)


def land_rows(content: Content, prefix: str) -> list[list[InlineKeyboardButton]]:
    """A button per Land (``<prefix>:land:<code>``), by name, two in a row."""
    buttons = [
        InlineKeyboardButton(content.land_name(code), callback_data=callbacks.encode(prefix, "land", code))
        for code in sorted(LAND_CODES, key=content.land_name)
    ]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def page_nav(texts: Texts, prefix: str, page: int, *, more: bool) -> list[InlineKeyboardButton]:
    """ "Zurück"/"Weiter" of a paged list (``<prefix>:list:<page>``); empty on a single page."""
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(
                texts("events.buttons.previous"), callback_data=callbacks.encode(prefix, "list", page - 1)
            )
        )
    if more:
        nav.append(
            InlineKeyboardButton(
                texts("events.buttons.next"), callback_data=callbacks.encode(prefix, "list", page + 1)
            )
        )
    return nav
