"""Events and funding deadlines: /termine, /fristen, the "Termine & Fristen" menu, following, .ics files, the
``/start termin_<id>`` deep link, cancelling (coordinators), and the periodic reminder tick.

The event form (/termin_neu and "Bearbeiten") is in handlers/event_form.py.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import quote

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ExtBot, filters

from bot import callbacks, deadlines, events, outbox, reminders, subscriptions
from bot import following as follows
from bot.content import Content
from bot.content_models.base import LAND_CODES
from bot.context import App, Context
from bot.db import EventRow, OutboxRow, Tx
from bot.roles import is_coordinator
from handlers.common import answer, home_button, parse_press, send_html, show

log = logging.getLogger(__name__)

DEADLINE_PAGE_SIZE = 4
WITHOUT_LAND = "deadlines_without_land"  # user_data: /fristen shown without a Land (the user chose so)
FULL_SYNC_EVERY = timedelta(hours=1)


# --- the "Termine & Fristen" menu ------------------------------------------------------------------------------


def _menu_markup(content: Content) -> InlineKeyboardMarkup:
    texts = content.texts
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts("events.buttons.events"), callback_data=callbacks.encode("ev", "list", 0)
                ),
                InlineKeyboardButton(
                    texts("events.buttons.deadlines"), callback_data=callbacks.encode("dl", "list", 0)
                ),
            ],
            [
                InlineKeyboardButton(
                    texts("events.buttons.my_calendar"), callback_data=callbacks.encode("ev", "mycal")
                )
            ],
            [home_button(texts)],
        ]
    )


async def menu_termine(update: Update, context: Context) -> None:
    """Main-menu button: choose between events and deadlines."""
    await answer(update.callback_query)
    content = context.bot_data.content
    await show(update, context, content.texts("events.menu.prompt"), _menu_markup(content))


# --- events ----------------------------------------------------------------------------------------------------


async def _user_land(context: Context, user_id: int) -> str | None:
    user = await context.bot_data.db.get_user(user_id)
    return user.bundesland if user is not None else None


async def _render_list(context: Context, user_id: int, page: int) -> tuple[str, InlineKeyboardMarkup]:
    data = context.bot_data
    content, texts, tz, now = data.content, data.texts, data.settings.tz, data.clock.now()
    land = await _user_land(context, user_id)
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
                    when=events.when_text(texts, event.starts_at, event.ends_at, tz),
                    where=where,
                )
            )
            label = f"{number} · {event.starts_at.astimezone(tz).strftime('%d.%m.')} {event.title}"
            buttons.append(
                [
                    InlineKeyboardButton(
                        _clip(label, 60), callback_data=callbacks.encode("ev", "show", event.id)
                    )
                ]
            )
        text = (
            texts("events.list.header", scope=scope, page=page + 1, pages=pages) + "\n\n" + "\n\n".join(items)
        )
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(
                texts("events.buttons.previous"), callback_data=callbacks.encode("ev", "list", page - 1)
            )
        )
    if (page + 1) * events.PAGE_SIZE < total:
        nav.append(
            InlineKeyboardButton(
                texts("events.buttons.next"), callback_data=callbacks.encode("ev", "list", page + 1)
            )
        )
    if nav:
        buttons.append(nav)
    buttons.append(
        [
            InlineKeyboardButton(
                texts("events.buttons.my_calendar"), callback_data=callbacks.encode("ev", "mycal")
            ),
            InlineKeyboardButton(
                texts("events.buttons.deadlines"), callback_data=callbacks.encode("dl", "list", 0)
            ),
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


async def event_view(context: Context, event: EventRow, user_id: int) -> tuple[str, InlineKeyboardMarkup]:
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


async def _event_from_press(update: Update, context: Context) -> tuple[callbacks.Callback, EventRow] | None:
    """The pressed event, or None after telling the user it no longer exists."""
    press = parse_press(update, "ev")
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
        followers = len(await events.notice_recipients(data.db, event.id))
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        texts("events.buttons.cancel_confirm"),
                        callback_data=callbacks.encode("ev", "cancelok", event.id),
                    ),
                    InlineKeyboardButton(
                        texts("events.buttons.cancel_keep"),
                        callback_data=callbacks.encode("ev", "show", event.id),
                    ),
                ]
            ]
        )
        await show(
            update, context, texts("events.cancel.confirm", title=event.title, followers=followers), markup
        )
        return
    notified = await events.cancel_event(
        data.db, data.content, data.settings.tz, event.id, by=user.id, now=data.clock.now()
    )
    if notified is None:
        await show(update, context, texts("events.cancel.already"))
        return
    log.info("event %s cancelled, %s followers notified", event.id, notified)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts("events.buttons.all_events"), callback_data=callbacks.encode("ev", "list", 0)
                ),
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
    press = parse_press(update, "ev")
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
                    InlineKeyboardButton(
                        texts("events.buttons.all_events"), callback_data=callbacks.encode("ev", "list", 0)
                    ),
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
    land = await _user_land(context, user.id)
    views = deadlines.views_for(data.content.calendar, land, tz, now, programmes) if programmes else []
    dated = [v for v in views if v.calendar_dates]
    if not followed and not dated:
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        texts("events.buttons.events"), callback_data=callbacks.encode("ev", "list", 0)
                    ),
                    InlineKeyboardButton(
                        texts("events.buttons.deadlines"), callback_data=callbacks.encode("dl", "list", 0)
                    ),
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


# --- deadlines -------------------------------------------------------------------------------------------------


def _land_chooser(content: Content) -> InlineKeyboardMarkup:
    texts = content.texts
    buttons = [
        InlineKeyboardButton(content.land_name(code), callback_data=callbacks.encode("dl", "land", code))
        for code in sorted(LAND_CODES, key=content.land_name)
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(
        [
            InlineKeyboardButton(
                texts("events.buttons.no_land"), callback_data=callbacks.encode("dl", "land", "none")
            )
        ]
    )
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
            data_ = callbacks.encode("dl", "u", f"{programme_id}.{page}")
        else:
            label = texts("events.buttons.programme_follow", programme=programme.short)
            data_ = callbacks.encode("dl", "f", f"{programme_id}.{page}")
        follow_buttons.append(InlineKeyboardButton(label, callback_data=data_))
    rows.extend(follow_buttons[i : i + 2] for i in range(0, len(follow_buttons), 2))
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(
                texts("events.buttons.previous"), callback_data=callbacks.encode("dl", "list", page - 1)
            )
        )
    if page + 1 < pages:
        nav.append(
            InlineKeyboardButton(
                texts("events.buttons.next"), callback_data=callbacks.encode("dl", "list", page + 1)
            )
        )
    if nav:
        rows.append(nav)
    rows.append(
        [
            InlineKeyboardButton(
                texts("events.buttons.change_land"), callback_data=callbacks.encode("dl", "lands")
            ),
            InlineKeyboardButton(
                texts("events.buttons.my_calendar"), callback_data=callbacks.encode("ev", "mycal")
            ),
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
    land = None if without_land else await _user_land(context, user.id)
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
    press = parse_press(update, "dl")
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


# --- the periodic tick -----------------------------------------------------------------------------------------


@dataclass
class TickState:
    """Kept in the job's data: whether seeds were applied and when everything was last re-planned."""

    seeded: bool = False
    synced_at: datetime | None = None
    running: asyncio.Lock = field(default_factory=asyncio.Lock)  # one tick at a time


async def reminder_tick(context: Context) -> None:
    """Periodic: seed events once, re-plan all reminders hourly (deadlines roll over, Länder change), then
    queue what is due through the outbox."""
    job = context.job
    state = job.data if job is not None and isinstance(job.data, TickState) else TickState()
    async with state.running:
        await _tick(context, state)


async def _tick(context: Context, state: TickState) -> None:
    data = context.bot_data
    db, content, tz, now = data.db, data.content, data.settings.tz, data.clock.now()
    if not state.seeded:
        # Reminders must go out even when seeding fails: the failure is logged and tried again next tick.
        try:
            added, updated = await events.seed_events(db, content, tz, now)
        except Exception:
            log.exception("seeding events failed")
        else:
            if added or updated:
                log.info("seed events: %s added, %s updated", added, updated)
            state.seeded = True
    if state.synced_at is None or abs(now - state.synced_at) >= FULL_SYNC_EVERY:
        report = await reminders.sync_reminders(db, content.calendar, tz, now)
        if report.added or report.removed:
            log.info("reminders planned: %s added, %s removed", report.added, report.removed)
        state.synced_at = now
    queued = await reminders.queue_due_reminders(db, content, tz, now)
    if queued.queued:
        _kick_outbox(context)
    if queued.queued or queued.dropped or queued.skipped:
        log.info(
            "reminders: %s queued, %s dropped, %s skipped", queued.queued, queued.dropped, queued.skipped
        )


def register(app: App) -> None:
    private = filters.ChatType.PRIVATE
    clock = app.bot_data.clock

    async def forget_blocked(tx: Tx, row: OutboxRow, error: str) -> None:
        """A user who blocked the bot gets nothing more: follows and subscriptions end."""
        if error.startswith("Forbidden"):
            await subscriptions.end_all(tx, row.chat_id, clock.now())

    async def deliver_reminder(bot: ExtBot[None], row: OutboxRow) -> int | None:
        """Rendered anew at delivery; not sent when its event or deadline changed while it waited."""
        data = app.bot_data
        now = clock.now()
        payload = await reminders.current_payload(data.db, data.content, data.settings.tz, row, now)
        if payload is None:
            log.info("reminder outbox row %s withdrawn: out of date", row.id)
            if isinstance(row.payload.get("reminder_id"), int):
                await data.db.withdraw_reminder(int(row.payload["reminder_id"]), now)
            return None
        return await outbox.send_payload(bot, replace(row, payload=payload))

    async def deliver_notice(bot: ExtBot[None], row: OutboxRow) -> int | None:
        """A change notice overtaken by a later change or the cancellation is not sent."""
        if not await events.notice_is_current(app.bot_data.db, row.payload):
            log.info("event notice outbox row %s withdrawn: superseded", row.id)
            return None
        return await outbox.send_payload(bot, row)

    app.bot_data.outbox.register(reminders.REMINDER_KIND, deliver=deliver_reminder, on_failed=forget_blocked)
    app.bot_data.outbox.register(events.NOTICE_KIND, deliver=deliver_notice, on_failed=forget_blocked)
    app.add_handler(CommandHandler("termine", termine_command, filters=private))
    app.add_handler(CommandHandler("fristen", fristen_command, filters=private))
    app.add_handler(CallbackQueryHandler(menu_termine, pattern=rf"^{callbacks.encode('menu', 'termine')}$"))
    app.add_handler(CallbackQueryHandler(my_calendar, pattern=rf"^{callbacks.encode('ev', 'mycal')}$"))
    app.add_handler(CallbackQueryHandler(event_list_pressed, pattern=r"^ev:list:"))
    app.add_handler(CallbackQueryHandler(event_pressed, pattern=callbacks.pattern("ev")))
    app.add_handler(CallbackQueryHandler(deadline_pressed, pattern=callbacks.pattern("dl")))
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
