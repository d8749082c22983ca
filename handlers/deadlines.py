"""Funding deadlines: /fristen and its ``dl:`` buttons — the deadlines for the user's Land page by page, choosing
the Land, and following a programme (its deadline reminders).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import deadlines, events, reminders
from bot import following as follows
from bot.content import Content
from bot.content_models.base import LAND_CODES
from bot.context import App, Context
from bot.keyboards import DEADLINES, EVENTS
from handlers.common import answer, home_button, parse_press, show
from handlers.event_views import land_rows, page_nav, user_land

DEADLINE_PAGE_SIZE = 4
WITHOUT_LAND = "deadlines_without_land"  # user_data: /fristen shown without a Land (the user chose so)


def _land_chooser(content: Content) -> InlineKeyboardMarkup:
    texts = content.texts
    rows = land_rows(content, DEADLINES)
    rows.append([DEADLINES.button(texts("events.buttons.no_land"), "land", "none")])
    rows.append([home_button(texts)])
    return InlineKeyboardMarkup(rows)


@dataclass(frozen=True, slots=True)
class _DeadlinePage:
    text: str
    markup: InlineKeyboardMarkup


async def _render_deadlines(context: Context, user_id: int, page: int, land: str | None) -> _DeadlinePage:
    data = context.bot_data
    content, texts, tz, now = data.content, data.texts, data.settings.tz, data.clock.now()
    views = deadlines.views_for(content.calendar, land, tz, now)
    pages = max(1, math.ceil(len(views) / DEADLINE_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = views[page * DEADLINE_PAGE_SIZE : (page + 1) * DEADLINE_PAGE_SIZE]
    following = await data.db.followed_programmes(user_id)
    scope = (
        texts("events.fristen.scope_land", land=content.land_name(land))
        if land
        else texts("events.fristen.scope_none")
    )
    items = [deadlines.render_deadline(texts, v, now, tz) for v in shown]
    text = (
        texts("events.fristen.header", scope=scope, page=page + 1, pages=pages) + "\n\n" + "\n\n".join(items)
    )
    rows: list[list[InlineKeyboardButton]] = []
    programmes_here: list[str] = []
    for v in shown:
        if v.programme.id not in programmes_here:
            programmes_here.append(v.programme.id)
    follow_buttons = []
    for programme_id in programmes_here:
        programme = content.calendar.programmes[programme_id]
        if programme_id in following:
            label = texts("events.buttons.programme_following", programme=programme.short)
            action = "u"
        else:
            label = texts("events.buttons.programme_follow", programme=programme.short)
            action = "f"
        follow_buttons.append(DEADLINES.button(label, action, f"{programme_id}.{page}"))
    rows.extend(follow_buttons[i : i + 2] for i in range(0, len(follow_buttons), 2))
    if nav := page_nav(texts, DEADLINES, page, more=page + 1 < pages):
        rows.append(nav)
    rows.append(
        [
            DEADLINES.button(texts("events.buttons.change_land"), "lands"),
            EVENTS.button(texts("events.buttons.my_calendar"), "mycal"),
        ]
    )
    rows.append([home_button(texts)])
    return _DeadlinePage(text, InlineKeyboardMarkup(rows))


async def _show_deadlines(
    update: Update, context: Context, page: int, land_choice: str | None = None
) -> None:
    """The deadlines for the user's Land; asks for the Land first when it is unknown."""
    user = update.effective_user
    if user is None:
        return
    content = context.bot_data.content
    user_data = context.user_data if context.user_data is not None else {}
    if land_choice == "none":
        # Remembered, so paging and following keep the choice instead of asking for the Land again.
        user_data[WITHOUT_LAND] = True
    without_land = bool(user_data.get(WITHOUT_LAND))
    land = None if without_land else await user_land(context, user.id)
    if land is None and not without_land:
        await show(update, context, content.texts("events.fristen.choose_land"), _land_chooser(content))
        return
    rendered = await _render_deadlines(context, user.id, page, land)
    await show(update, context, rendered.text, rendered.markup)


async def fristen_command(update: Update, context: Context) -> None:
    """/fristen: the next funding deadlines for the user's Bundesland."""
    await _show_deadlines(update, context, 0)


async def deadline_pressed(update: Update, context: Context) -> None:
    """``dl:list:<page>``, ``dl:f|u:<programme>.<page>``, ``dl:lands``, ``dl:land:<code|none>``."""
    press = parse_press(update, DEADLINES)
    user = update.effective_user
    data = context.bot_data
    texts, tz, now = data.texts, data.settings.tz, data.clock.now()
    if press is None or user is None:
        await answer(update.callback_query, texts("errors.stale_button"), alert=True)
        return
    if press.action == "list" and (page := events.parse_number(press.arg)) is not None:
        await answer(update.callback_query)
        await _show_deadlines(update, context, page)
    elif press.action == "lands":
        await answer(update.callback_query)
        await show(update, context, texts("events.fristen.choose_land"), _land_chooser(data.content))
    elif press.action == "land" and (press.arg in LAND_CODES or press.arg == "none"):
        if press.arg == "none":
            await answer(update.callback_query)
            await _show_deadlines(update, context, 0, land_choice="none")
            return
        await data.db.set_user_land(user.id, press.arg, now)
        if context.user_data is not None:
            context.user_data.pop(WITHOUT_LAND, None)
        # The Land decides which intermediary deadline the user's reminders aim at.
        await reminders.sync_reminders(data.db, data.content.calendar, tz, now, user_id=user.id)
        await answer(
            update.callback_query, texts("events.fristen.land_saved", land=data.content.land_name(press.arg))
        )
        await _show_deadlines(update, context, 0)
    elif press.action in ("f", "u"):
        programme_id, _, page_arg = press.arg.partition(".")
        programme = data.content.calendar.programmes.get(programme_id)
        page = events.parse_number(page_arg)
        if programme is None or page is None:
            await answer(update.callback_query, texts("errors.stale_button"), alert=True)
            return
        await follows.set_programme_followed(
            data.db, data.content.calendar, tz, now, programme_id, user.id, follow=press.action == "f"
        )
        if press.action == "f":
            settings = data.content.calendar.reminders
            await answer(
                update.callback_query,
                texts(
                    "events.fristen.followed",
                    programme=programme.short,
                    leads=events.lead_phrase(texts, settings.deadline_leads_days),
                    time=settings.send_time.strftime("%H:%M"),
                ),
                alert=True,
            )
        else:
            await answer(update.callback_query, texts("events.fristen.unfollowed", programme=programme.short))
        await _show_deadlines(update, context, page)
    else:
        await answer(update.callback_query, texts("errors.stale_button"), alert=True)


def register(app: App) -> None:
    app.add_handler(CommandHandler("fristen", fristen_command, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(deadline_pressed, pattern=DEADLINES.pattern()))
