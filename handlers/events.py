"""Events: /termine, the "Termine & Fristen" menu, following, .ics files, the ``/start termin_<id>`` deep link,
cancelling (coordinators), and the job that runs the reminder tick (bot/reminder_tick.py).

The event form (/termin_neu and "Bearbeiten") is in handlers/event_form.py, /fristen in handlers/deadlines.py.
"""

from __future__ import annotations

import asyncio
import logging
import math

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import callbacks, date_phrasing, deadlines, event_changes, events, reminders
from bot import following as follows
from bot.content import Content
from bot.context import App, Context
from bot.db import EventRow
from bot.keyboards import DEADLINES, EVENTS, MENU, Arg
from bot.reminder_tick import TickState, register_deliveries, run_tick
from bot.roles import is_coordinator
from handlers.common import answer, home_button, parse_press, send_html, show
from handlers.event_views import event_view, page_nav, user_land

log = logging.getLogger(__name__)


# --- the "Termine & Fristen" menu ------------------------------------------------------------------------------


def _menu_markup(content: Content) -> InlineKeyboardMarkup:
    texts = content.texts
    return InlineKeyboardMarkup(
        [
            [
                EVENTS.button(texts("events.buttons.events"), "list", 0),
                DEADLINES.button(texts("events.buttons.deadlines"), "list", 0),
            ],
            [EVENTS.button(texts("events.buttons.my_calendar"), "mycal")],
            [home_button(texts)],
        ]
    )


async def menu_termine(update: Update, context: Context) -> None:
    """Main-menu button: choose between events and deadlines."""
    await answer(update.callback_query)
    content = context.bot_data.content
    await show(update, context, content.texts("events.menu.prompt"), _menu_markup(content))


# --- events ----------------------------------------------------------------------------------------------------


async def _render_list(context: Context, user_id: int, page: int) -> tuple[str, InlineKeyboardMarkup]:
    data = context.bot_data
    content, texts, tz, now = data.content, data.texts, data.settings.tz, data.clock.now()
    land = await user_land(context, user_id)
    rows, total = await data.db.upcoming_events(
        now, land=land, limit=events.PAGE_SIZE, offset=page * events.PAGE_SIZE
    )
    pages = max(1, math.ceil(total / events.PAGE_SIZE))
    scope = (
        texts("events.list.scope_land", land=content.land_name(land))
        if land
        else texts("events.list.scope_all")
    )
    buttons: list[list[InlineKeyboardButton]] = []
    if not rows:
        text = texts("events.list.empty", scope=scope) if page == 0 else texts("events.list.page_gone")
    else:
        items = []
        for number, event in enumerate(rows, start=page * events.PAGE_SIZE + 1):
            where = event.place or texts("events.list.online")
            items.append(
                texts(
                    "events.list.item",
                    number=number,
                    title=event.title,
                    when=date_phrasing.when_text(texts, event.starts_at, event.ends_at, tz),
                    where=where,
                )
            )
            label = f"{number} · {event.starts_at.astimezone(tz).strftime('%d.%m.')} {event.title}"
            buttons.append([EVENTS.button(_clip(label, 60), "show", event.id)])
        text = (
            texts("events.list.header", scope=scope, page=page + 1, pages=pages) + "\n\n" + "\n\n".join(items)
        )
    if nav := page_nav(texts, EVENTS, page, more=(page + 1) * events.PAGE_SIZE < total):
        buttons.append(nav)
    buttons.append(
        [
            EVENTS.button(texts("events.buttons.my_calendar"), "mycal"),
            DEADLINES.button(texts("events.buttons.deadlines"), "list", 0),
        ]
    )
    buttons.append([home_button(texts)])
    return text, InlineKeyboardMarkup(buttons)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def termine_command(update: Update, context: Context) -> None:
    """/termine: the first page of upcoming events."""
    user = update.effective_user
    if user is None:
        return
    text, markup = await _render_list(context, user.id, 0)
    await send_html(update, context, text, markup)


async def _event_from_press(update: Update, context: Context) -> tuple[callbacks.Callback, EventRow] | None:
    """The pressed event, or None after telling the user it no longer exists."""
    press = parse_press(update, EVENTS)
    event_id = events.parse_number(press.arg) if press is not None else None
    if press is None or event_id is None:
        await answer(update.callback_query, context.bot_data.texts("errors.stale_button"), alert=True)
        return None
    event = await context.bot_data.db.get_event(event_id)
    if event is None:
        await answer(update.callback_query, context.bot_data.texts("events.unknown_event"), alert=True)
        return None
    return press, event


async def event_pressed(update: Update, context: Context) -> None:
    """Every ``ev:<action>:<id>`` button: details, follow/unfollow, .ics, cancel and its confirmation."""
    user = update.effective_user
    found = await _event_from_press(update, context)
    if user is None or found is None:
        return
    press, event = found
    data = context.bot_data
    texts, now, tz = data.texts, data.clock.now(), data.settings.tz
    if press.action == "show":
        await answer(update.callback_query)
    elif press.action == "follow":
        if event.state != "active" or event.ends_at <= now:
            await answer(update.callback_query, texts("events.follow_closed"), alert=True)
        else:
            planned = await follows.follow_event(data.db, data.content.calendar, tz, now, event.id, user.id)
            # Too close to the start for any lead time: say so instead of promising a reminder.
            await answer(
                update.callback_query, texts("events.followed" if planned else "events.followed_too_late")
            )
    elif press.action == "unfollow":
        left = await follows.unfollow_event(data.db, data.content.calendar, tz, now, event.id, user.id)
        # The /abo subscription may still bring reminders for this event: say so rather than promise silence.
        await answer(
            update.callback_query, texts("events.unfollowed_subscribed" if left else "events.unfollowed")
        )
    elif press.action == "ics":
        await answer(update.callback_query)
        await _send_event_ics(update, context, event)
        return
    elif press.action in ("cancel", "cancelok"):
        await _cancel(update, context, event, confirmed=press.action == "cancelok")
        return
    else:
        await answer(update.callback_query, texts("errors.stale_button"), alert=True)
        return
    event = await data.db.get_event(event.id) or event
    text, markup = await event_view(context, event, user.id)
    await show(update, context, text, markup)


async def _send_event_ics(update: Update, context: Context, event: EventRow) -> None:
    data = context.bot_data
    chat = update.effective_chat
    if chat is None:
        return
    link = events.share_link(context.bot.username, event.id)
    from bot import ics  # icalendar loads on first use: start-up time and memory at rest

    body = ics.event_ics(data.content, data.settings.tz, event, data.clock.now(), link)
    await context.bot.send_document(
        chat.id,
        document=body,
        filename=f"termin-{event.id}.ics",
        caption=data.texts("events.ics.caption", title=event.title),
    )


async def _cancel(update: Update, context: Context, event: EventRow, *, confirmed: bool) -> None:
    data = context.bot_data
    texts = data.texts
    user = update.effective_user
    if user is None or not await is_coordinator(data.settings, data.db, user.id):
        await answer(update.callback_query, texts("events.form.not_coordinator_short"), alert=True)
        return
    if event.state != "active":
        await answer(update.callback_query, texts("events.cancel.already"), alert=True)
        return
    await answer(update.callback_query)
    if not confirmed:
        followers = len(await event_changes.notice_recipients(data.db, event.id))
        markup = InlineKeyboardMarkup(
            [
                [
                    EVENTS.button(texts("events.buttons.cancel_confirm"), "cancelok", event.id),
                    EVENTS.button(texts("events.buttons.cancel_keep"), "show", event.id),
                ]
            ]
        )
        await show(
            update, context, texts("events.cancel.confirm", title=event.title, followers=followers), markup
        )
        return
    notified = await event_changes.cancel_event(
        data.db, data.content, data.settings.tz, event.id, by=user.id, now=data.clock.now()
    )
    if notified is None:
        await show(update, context, texts("events.cancel.already"))
        return
    log.info("event %s cancelled, %s followers notified", event.id, notified)
    markup = InlineKeyboardMarkup(
        [
            [
                EVENTS.button(texts("events.buttons.all_events"), "list", 0),
                home_button(texts),
            ]
        ]
    )
    await show(update, context, texts("events.cancel.done", title=event.title, followers=notified), markup)
    _kick_outbox(context)


def _kick_outbox(context: Context) -> None:
    context.bot_data.outbox.kick()


async def event_list_pressed(update: Update, context: Context) -> None:
    """``ev:list:<page>``."""
    press = parse_press(update, EVENTS)
    user = update.effective_user
    page = events.parse_number(press.arg) if press is not None else None
    if user is None or page is None:
        await answer(update.callback_query, context.bot_data.texts("errors.stale_button"), alert=True)
        return
    await answer(update.callback_query)
    text, markup = await _render_list(context, user.id, page)
    await show(update, context, text, markup)


async def deep_link(update: Update, context: Context) -> None:
    """``/start termin_<id>``: the shared event's details."""
    user = update.effective_user
    texts = context.bot_data.texts
    payload = context.args[0] if context.args else ""
    ident = payload.removeprefix("termin_")
    event_id = events.parse_number(ident)
    event = await context.bot_data.db.get_event(event_id) if event_id is not None else None
    if user is None:
        return
    if event is None:
        markup = InlineKeyboardMarkup(
            [
                [
                    EVENTS.button(texts("events.buttons.all_events"), "list", 0),
                    home_button(texts),
                ]
            ]
        )
        await send_html(update, context, texts("events.unknown_event"), markup)
        return
    text, markup = await event_view(context, event, user.id)
    await send_html(update, context, text, markup)


# --- my calendar -----------------------------------------------------------------------------------------------


async def my_calendar(update: Update, context: Context) -> None:
    """``ev:mycal``: one .ics with every upcoming event and programme deadline the user is reminded of."""
    await answer(update.callback_query)
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None:
        return
    data = context.bot_data
    texts, tz, now = data.texts, data.settings.tz, data.clock.now()
    followed, programmes = await reminders.calendar_of(data.db, data.content.calendar, user.id, now)
    land = await user_land(context, user.id)
    views = deadlines.views_for(data.content.calendar, land, tz, now, programmes) if programmes else []
    dated = [v for v in views if v.calendar_dates]
    if not followed and not dated:
        markup = InlineKeyboardMarkup(
            [
                [
                    EVENTS.button(texts("events.buttons.events"), "list", 0),
                    DEADLINES.button(texts("events.buttons.deadlines"), "list", 0),
                ]
            ]
        )
        key = "events.calendar.nothing_dated" if programmes or followed else "events.calendar.empty"
        await send_html(update, context, texts(key), markup)
        return
    from bot import ics  # icalendar loads on first use: start-up time and memory at rest

    body = await asyncio.to_thread(
        ics.personal_ics,
        data.content,
        tz,
        [(e, events.share_link(context.bot.username, e.id)) for e in followed],
        dated,
        now,
    )
    await context.bot.send_document(
        chat.id,
        document=body,
        filename="ija-lotse-kalender.ics",
        caption=texts("events.calendar.caption", events=len(followed), deadlines=len(dated)),
    )


# --- the periodic tick -----------------------------------------------------------------------------------------


async def reminder_tick(context: Context) -> None:
    """Periodic: the reminder run (bot/reminder_tick.py), then the outbox worker for what it queued."""
    job = context.job
    state = job.data if job is not None and isinstance(job.data, TickState) else TickState()
    queued = await run_tick(context.bot_data, state)
    if queued.queued:
        _kick_outbox(context)


def register(app: App) -> None:
    private = filters.ChatType.PRIVATE
    register_deliveries(app.bot_data)
    app.add_handler(CommandHandler("termine", termine_command, filters=private))
    app.add_handler(CallbackQueryHandler(menu_termine, pattern=MENU.pattern("termine")))
    app.add_handler(CallbackQueryHandler(my_calendar, pattern=EVENTS.pattern("mycal")))
    app.add_handler(CallbackQueryHandler(event_list_pressed, pattern=EVENTS.pattern("list", arg=Arg.ANY)))
    app.add_handler(CallbackQueryHandler(event_pressed, pattern=EVENTS.pattern()))
    assert app.job_queue is not None
    settings = app.bot_data.settings
    app.job_queue.run_repeating(
        reminder_tick, interval=settings.tick_seconds, first=0.5, name="reminder_tick", data=TickState()
    )


def register_deep_link(app: App) -> None:
    """``/start termin_<id>``; registered before the plain /start."""
    app.add_handler(
        CommandHandler(
            "start", deep_link, filters=filters.ChatType.PRIVATE & filters.Regex(r"^/start termin_")
        )
    )
