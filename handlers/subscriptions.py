"""/abo and the main-menu "Abos": Infobrief and reminders, Bundesland and topics; the one-time offer after
/start; and "Abbestellen" under every announcement (one tap, then a confirmation)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import keyboards, reminders, subscriptions
from bot.content import Content
from bot.content_models.base import LAND_CODES
from bot.context import App, Context
from bot.db import SubscriptionRow
from bot.keyboards import MENU, SUBSCRIPTIONS
from bot.texts import Texts
from handlers.common import answer, home_button, parse_press, send_html, show

# After the welcome of /start (group 0) this group offers the subscriptions once.
OFFER_GROUP = 1


def _overview(
    texts: Texts, content: Content, sub: SubscriptionRow | None, land: str | None, offer: bool = False
) -> tuple[str, InlineKeyboardMarkup]:
    chosen = sorted(sub.topics) if sub else []
    titles = [node.title for node in subscriptions.topics(content) if node.id in chosen]
    text = texts(
        "subscriptions.overview",
        land=content.land_name(land) if land else texts("subscriptions.no_land"),
        topics=", ".join(titles) if titles else texts("subscriptions.all_topics"),
    )
    if offer:
        text = texts("subscriptions.offer") + "\n\n" + text
    rows = []
    for kind in subscriptions.KINDS:
        on = sub is not None and sub.wants(kind)
        label = texts(f"subscriptions.buttons.kind.{kind}")
        rows.append(
            [
                SUBSCRIPTIONS.button(
                    texts("subscriptions.buttons.on" if on else "subscriptions.buttons.off", label=label),
                    "off" if on else "on",
                    kind,
                )
            ]
        )
    rows.append(
        [
            SUBSCRIPTIONS.button(texts("subscriptions.buttons.land"), "lands"),
            SUBSCRIPTIONS.button(texts("subscriptions.buttons.topics"), "topics"),
        ]
    )
    if sub is not None and any(sub.wants(kind) for kind in subscriptions.KINDS):
        rows.append([SUBSCRIPTIONS.button(texts("subscriptions.buttons.all_off"), "alloff")])
    rows.append([home_button(texts)])
    return text, InlineKeyboardMarkup(rows)


def _lands(texts: Texts, content: Content, land: str | None) -> tuple[str, InlineKeyboardMarkup]:
    buttons = [
        SUBSCRIPTIONS.button(("✅ " if code == land else "") + content.land_name(code), "land", code)
        for code in LAND_CODES
    ]
    rows = keyboards.rows(buttons)
    rows.append(
        [
            SUBSCRIPTIONS.button(
                ("✅ " if land is None else "") + texts("subscriptions.buttons.no_land"), "land", "none"
            ),
            SUBSCRIPTIONS.button(texts("menu.buttons.back"), "show"),
        ]
    )
    return texts("subscriptions.land_prompt"), InlineKeyboardMarkup(rows)


def _topics(texts: Texts, content: Content, sub: SubscriptionRow | None) -> tuple[str, InlineKeyboardMarkup]:
    chosen = sub.topics if sub else frozenset()
    rows = []
    for node in subscriptions.topics(content):
        on = node.id in chosen
        key = "subscriptions.buttons.on" if on else "subscriptions.buttons.off"
        rows.append([SUBSCRIPTIONS.button(texts(key, label=node.title), "toff" if on else "ton", node.id)])
    rows.append([SUBSCRIPTIONS.button(texts("menu.buttons.back"), "show")])
    return texts("subscriptions.topics_prompt"), InlineKeyboardMarkup(rows)


async def _user_state(context: Context, user_id: int) -> tuple[SubscriptionRow | None, str | None]:
    db = context.bot_data.db
    user = await db.get_user(user_id)
    return await db.subscription(user_id), user.bundesland if user else None


async def abo_command(update: Update, context: Context) -> None:
    """/abo and the main-menu button: the overview of the user's subscriptions."""
    await answer(update.callback_query)
    user = update.effective_user
    if user is None:
        return
    sub, land = await _user_state(context, user.id)
    text, markup = _overview(context.bot_data.texts, context.bot_data.content, sub, land)
    await show(update, context, text, markup)


async def offer_after_start(update: Update, context: Context) -> None:
    """After the welcome of a plain /start: offer the subscriptions once per user, nothing pre-selected."""
    user = update.effective_user
    if user is None or context.args:
        return
    data = context.bot_data
    if not await data.db.offer_subscriptions(user.id, data.clock.now()):
        return
    sub, land = await _user_state(context, user.id)
    text, markup = _overview(data.texts, data.content, sub, land, offer=True)
    await send_html(update, context, text, markup)


async def on_press(update: Update, context: Context) -> None:
    """Every "abo:" button: switch a kind, choose Bundesland or topics, unsubscribe."""
    data = context.bot_data
    texts, content, db, now = data.texts, data.content, data.db, data.clock.now()
    press = parse_press(update, SUBSCRIPTIONS)
    user = update.effective_user
    if press is None or user is None:
        await answer(update.callback_query, texts("errors.stale_button"), alert=True)
        return
    action, arg = press.action, press.arg
    if action in ("on", "off") and arg in subscriptions.KINDS:
        await subscriptions.set_kind(db, user.id, arg, action == "on", now)
        await answer(update.callback_query, texts("subscriptions.saved"))
    elif action == "alloff":
        await subscriptions.stop_all(db, user.id, now)
        await answer(update.callback_query, texts("subscriptions.all_stopped"), alert=True)
    elif action == "stop":
        await _unsubscribe_from_announcement(update, context, user.id)
        return
    elif action == "land" and (arg == "none" or subscriptions.is_land(arg)):
        await db.set_user_land(user.id, None if arg == "none" else arg, now)
        await answer(update.callback_query, texts("subscriptions.saved"))
    elif action in ("ton", "toff") and subscriptions.is_topic(content, arg):
        await subscriptions.set_topic(db, content, user.id, arg, action == "ton", now)
        await answer(update.callback_query, texts("subscriptions.saved"))
        sub, _ = await _user_state(context, user.id)
        await show(update, context, *_topics(texts, content, sub))
        return
    elif action == "lands":
        await answer(update.callback_query)
        _, land = await _user_state(context, user.id)
        await show(update, context, *_lands(texts, content, land))
        return
    elif action == "topics":
        await answer(update.callback_query)
        sub, _ = await _user_state(context, user.id)
        await show(update, context, *_topics(texts, content, sub))
        return
    elif action == "show":
        await answer(update.callback_query)
    else:
        await answer(update.callback_query, texts("errors.stale_button"), alert=True)
        return
    # Reminder subscriptions and the Bundesland decide which reminders are planned: re-plan this user's now.
    await reminders.sync_reminders(db, content.calendar, data.settings.tz, now, user_id=user.id)
    sub, land = await _user_state(context, user.id)
    await show(update, context, *_overview(texts, content, sub, land))


async def _unsubscribe_from_announcement(update: Update, context: Context, user_id: int) -> None:
    """ "Abbestellen" under an announcement: the Infobrief ends at once; a new message confirms it."""
    data = context.bot_data
    texts = data.texts
    await subscriptions.set_kind(data.db, user_id, "announcements", False, data.clock.now())
    await answer(update.callback_query, texts("subscriptions.stopped_toast"))
    markup = InlineKeyboardMarkup(
        [
            [SUBSCRIPTIONS.button(texts("subscriptions.buttons.resubscribe"), "on", "announcements")],
            [SUBSCRIPTIONS.button(texts("subscriptions.buttons.manage"), "show")],
        ]
    )
    await send_html(update, context, texts("subscriptions.stopped"), markup)


def register(app: App) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("abo", abo_command, filters=private))
    app.add_handler(CallbackQueryHandler(abo_command, pattern=MENU.pattern("abo")))
    app.add_handler(CallbackQueryHandler(on_press, pattern=SUBSCRIPTIONS.pattern()))
    app.add_handler(CommandHandler("start", offer_after_start, filters=private), group=OFFER_GROUP)
