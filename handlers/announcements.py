"""/ankuendigung (coordinators): write the text in Telegram, optionally a link button, choose the audience, see
the exact preview and the number of recipients, send now or at a chosen time, confirm.

The draft lives in ``user_data`` (persisted), so the dialogue survives a restart. Rights are checked on every
step and every press; a press outside an active draft (old or forged) changes nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters
from telegram.warnings import PTBUserWarning

from bot import broadcast, keyboards, subscriptions
from bot.broadcast import AnnouncementError
from bot.content_models.base import LAND_CODES
from bot.context import App, Context
from bot.keyboards import ANNOUNCEMENTS
from bot.roles import is_coordinator
from handlers.common import answer, parse_press, send_html, show

DRAFT = "announcement_draft"  # user_data key: {"body", "button", "laender", "topics", "send_at"}

TEXT, BUTTON, AUDIENCE, PREVIEW, WHEN, CONFIRM = "text", "button", "audience", "preview", "when", "confirm"
END = ConversationHandler.END


def _keyboard(context: Context, rows: Sequence[Sequence[tuple[str, str]]] = ()) -> InlineKeyboardMarkup:
    """Rows of the dialogue's (label, action) buttons, and the cancel button below them."""
    cancel = (context.bot_data.texts("announcements.buttons.cancel"), "cancel")
    return InlineKeyboardMarkup(
        [[ANNOUNCEMENTS.button(label, action) for label, action in row] for row in [*rows, [cancel]]]
    )


async def _present(
    update: Update, context: Context, text: str, markup: InlineKeyboardMarkup, *, edit: bool
) -> None:
    """Edit the pressed message in place, or send the text as a new message."""
    if edit:
        await show(update, context, text, markup)
    else:
        await send_html(update, context, text, markup)


def _draft(context: Context) -> dict[str, Any] | None:
    draft = context.user_data.get(DRAFT) if context.user_data is not None else None
    return draft if isinstance(draft, dict) else None


def _clear(context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)


async def _may_announce(update: Update, context: Context) -> bool:
    user = update.effective_user
    data = context.bot_data
    return user is not None and await is_coordinator(data.settings, data.db, user.id)


async def _deny(update: Update, context: Context) -> int:
    """Not (or no longer) a coordinator: say so, drop any draft, end."""
    _clear(context)
    text = context.bot_data.texts("announcements.not_allowed")
    if update.callback_query is not None:
        await answer(update.callback_query, text, alert=True)
    else:
        await send_html(update, context, text)
    return END


async def _stale(update: Update, context: Context) -> int:
    """A state without its draft (e.g. cleared elsewhere): ask to start again."""
    _clear(context)
    text = context.bot_data.texts("announcements.stale")
    await answer(update.callback_query)
    await send_html(update, context, text)
    return END


TypedStep = Callable[[Update, Context, dict[str, Any], Message], Awaitable[str | int]]


def _typed_step(step: TypedStep) -> Callable[[Update, Context], Coroutine[Any, Any, str | int]]:
    """A step that reads what the coordinator typed, given the draft and the message; it ends the dialogue
    instead when the sender may not announce (any longer) or the draft is gone."""

    async def handler(update: Update, context: Context) -> str | int:
        if not await _may_announce(update, context):
            return await _deny(update, context)
        draft = _draft(context)
        message = update.effective_message
        if draft is None or message is None:
            return await _stale(update, context)
        return await step(update, context, draft, message)

    return handler


# --- steps ---------------------------------------------------------------------------------------------------


async def begin(update: Update, context: Context) -> str | int:
    """/ankuendigung: start a new draft."""
    if not await _may_announce(update, context):
        return await _deny(update, context)
    if context.user_data is not None:
        context.user_data[DRAFT] = {"laender": [], "topics": []}
    texts = context.bot_data.texts
    await send_html(update, context, texts("announcements.ask_text"), _keyboard(context))
    return TEXT


@_typed_step
async def got_text(update: Update, context: Context, draft: dict[str, Any], message: Message) -> str | int:
    """The announcement text: rendered from its entities to safe HTML, checked for length."""
    texts = context.bot_data.texts
    text = message.text or ""
    body = broadcast.entities_to_html(text, message.entities)
    try:
        broadcast.check_body(texts, text, body)
    except AnnouncementError as exc:
        await send_html(update, context, texts(exc.key, **exc.params))
        return TEXT
    draft["body"] = body
    if draft.get("edited"):  # "edit text" from the preview: keep button and audience
        return await _send_preview(update, context, draft)
    markup = _keyboard(context, [[(texts("announcements.buttons.no_button"), "nobutton")]])
    await send_html(update, context, texts("announcements.ask_button"), markup)
    return BUTTON


async def unsupported(update: Update, context: Context) -> None:
    """Stickers, photos, videos … while the dialogue expects text: explain, stay in the step."""
    await send_html(update, context, context.bot_data.texts("announcements.errors.unsupported"))


@_typed_step
async def got_button(update: Update, context: Context, draft: dict[str, Any], message: Message) -> str | int:
    """``Beschriftung | https://…`` for an optional link button."""
    texts = context.bot_data.texts
    try:
        label, url = broadcast.parse_button(message.text or "", texts("announcements.buttons.link_default"))
    except AnnouncementError as exc:
        await send_html(update, context, texts(exc.key, **exc.params))
        return BUTTON
    draft["button"] = [label, url]
    await _show_audience(update, context, draft, new_message=True)
    return AUDIENCE


async def on_press(update: Update, context: Context) -> str | int | None:
    """Every button of the dialogue; rights and draft are checked on each press."""
    press = parse_press(update, ANNOUNCEMENTS)
    if press is not None and press.action == "cancel":
        return await cancel(update, context)
    if not await _may_announce(update, context):
        return await _deny(update, context)
    draft = _draft(context)
    if draft is None or press is None or "body" not in draft:
        return await _stale(update, context)
    texts = context.bot_data.texts
    action, arg = press.action, press.arg
    if action == "nobutton":
        draft["button"] = None
    elif action == "all":
        draft["laender"], draft["topics"] = [], []
    elif action == "land" and arg in LAND_CODES:
        draft["laender"] = _toggle(draft.get("laender", []), arg)
        await answer(update.callback_query)
        await _show_lands(update, context, draft)
        return AUDIENCE
    elif action == "topic" and subscriptions.is_topic(context.bot_data.content, arg):
        draft["topics"] = _toggle(draft.get("topics", []), arg)
        await answer(update.callback_query)
        await _show_topics(update, context, draft)
        return AUDIENCE
    elif action == "lands":
        await answer(update.callback_query)
        await _show_lands(update, context, draft)
        return AUDIENCE
    elif action == "topics":
        await answer(update.callback_query)
        await _show_topics(update, context, draft)
        return AUDIENCE
    elif action == "preview":
        await answer(update.callback_query)
        return await _send_preview(update, context, draft)
    elif action == "edit":
        draft["edited"] = True
        await answer(update.callback_query)
        await send_html(update, context, texts("announcements.ask_text"), _keyboard(context))
        return TEXT
    elif action == "now":
        draft["send_at"] = None
        await answer(update.callback_query)
        return await _show_confirm(update, context, draft)
    elif action == "later":
        await answer(update.callback_query)
        markup = _keyboard(context, [[(texts("menu.buttons.back"), "back")]])
        await send_html(
            update,
            context,
            texts("announcements.ask_when", timezone=context.bot_data.settings.timezone),
            markup,
        )
        return WHEN
    elif action == "back":
        await answer(update.callback_query)
        await _show_controls(update, context, draft, edit=True)
        return PREVIEW
    elif action == "go":
        return await _confirmed(update, context, draft)
    elif action != "aud":
        await answer(update.callback_query, texts("errors.stale_button"), alert=True)
        return None
    await answer(update.callback_query)
    await _show_audience(update, context, draft)
    return AUDIENCE


def _toggle(values: list[str], value: str) -> list[str]:
    return [v for v in values if v != value] if value in values else [*values, value]


async def got_when(update: Update, context: Context) -> str | int:
    """The send time, German style: ``24.12.2026 09:00`` in BOT_TIMEZONE."""
    if not await _may_announce(update, context):
        return await _deny(update, context)
    draft = _draft(context)
    message = update.effective_message
    if draft is None or message is None or "body" not in draft:
        return await _stale(update, context)
    data = context.bot_data
    try:
        moment = broadcast.parse_send_time(message.text or "", data.settings.tz, data.clock.now())
    except AnnouncementError as exc:
        await send_html(update, context, data.texts(exc.key, **exc.params))
        return WHEN
    draft["send_at"] = moment.isoformat()
    return await _show_confirm(update, context, draft)


async def cancel(update: Update, context: Context) -> int:
    """/abbrechen or the cancel button: the draft is dropped, nothing is sent."""
    _clear(context)
    await answer(update.callback_query)
    await send_html(update, context, context.bot_data.texts("announcements.cancelled"))
    return END


# --- screens -------------------------------------------------------------------------------------------------


async def _audience_line(context: Context, draft: dict[str, Any]) -> tuple[str, int]:
    data = context.bot_data
    laender, topics = draft.get("laender", []), draft.get("topics", [])
    summary = broadcast.audience_summary(data.texts, data.content, laender, topics)
    return summary, await data.db.count_audience(laender, topics)


async def _show_audience(
    update: Update, context: Context, draft: dict[str, Any], new_message: bool = False
) -> None:
    texts = context.bot_data.texts
    summary, count = await _audience_line(context, draft)
    text = texts("announcements.audience_prompt", summary=summary, count=broadcast.number(count))
    rows = [
        [(texts("announcements.buttons.all"), "all")],
        [
            (texts("announcements.buttons.lands", n=len(draft.get("laender", []))), "lands"),
            (texts("announcements.buttons.topics", n=len(draft.get("topics", []))), "topics"),
        ],
        [(texts("announcements.buttons.preview"), "preview")],
    ]
    await _present(update, context, text, _keyboard(context, rows), edit=not new_message)


async def _show_lands(update: Update, context: Context, draft: dict[str, Any]) -> None:
    data = context.bot_data
    chosen = draft.get("laender", [])
    buttons = [
        ANNOUNCEMENTS.button(("✅ " if code in chosen else "") + data.content.land_name(code), "land", code)
        for code in LAND_CODES
    ]
    await _show_choices(
        update,
        context,
        draft,
        keyboards.rows(buttons),
        "announcements.lands_prompt",
    )


async def _show_topics(update: Update, context: Context, draft: dict[str, Any]) -> None:
    data = context.bot_data
    chosen = draft.get("topics", [])
    rows = [
        [ANNOUNCEMENTS.button(("✅ " if node.id in chosen else "") + node.title, "topic", node.id)]
        for node in subscriptions.topics(data.content)
    ]
    await _show_choices(update, context, draft, rows, "announcements.topics_prompt")


async def _show_choices(
    update: Update,
    context: Context,
    draft: dict[str, Any],
    rows: list[list[InlineKeyboardButton]],
    prompt: str,
) -> None:
    """The federal states or topics to tick (``prompt``), with the audience they make so far, and a done button."""
    texts = context.bot_data.texts
    rows.append([ANNOUNCEMENTS.button(texts("announcements.buttons.done"), "aud")])
    summary, count = await _audience_line(context, draft)
    text = texts(prompt, summary=summary, count=broadcast.number(count))
    await show(update, context, text, InlineKeyboardMarkup(rows))


def _button_of(draft: dict[str, Any]) -> tuple[str, str] | None:
    button = draft.get("button")
    return (str(button[0]), str(button[1])) if button else None


async def _send_preview(update: Update, context: Context, draft: dict[str, Any]) -> str:
    """The exact message recipients get, then the controls with the number of recipients."""
    texts = context.bot_data.texts
    draft.pop("edited", None)
    html = broadcast.message_html(texts, str(draft["body"]))
    await send_html(update, context, html, broadcast.recipient_markup(texts, _button_of(draft)))
    await _show_controls(update, context, draft)
    return PREVIEW


async def _show_controls(update: Update, context: Context, draft: dict[str, Any], edit: bool = False) -> None:
    texts = context.bot_data.texts
    summary, count = await _audience_line(context, draft)
    key = "announcements.preview_info" if count else "announcements.preview_nobody"
    text = texts(key, summary=summary, count=broadcast.number(count))
    rows = [
        [(texts("announcements.buttons.now"), "now"), (texts("announcements.buttons.later"), "later")],
        [(texts("announcements.buttons.edit"), "edit"), (texts("announcements.buttons.audience"), "aud")],
    ]
    await _present(update, context, text, _keyboard(context, rows), edit=edit)


async def _show_confirm(update: Update, context: Context, draft: dict[str, Any]) -> str:
    data = context.bot_data
    texts = data.texts
    summary, count = await _audience_line(context, draft)
    if draft.get("send_at"):
        when = broadcast.local_time(datetime.fromisoformat(str(draft["send_at"])), data.settings.tz)
        text = texts("announcements.confirm_later", when=when, summary=summary, count=broadcast.number(count))
        label = texts("announcements.buttons.go_later")
    else:
        text = texts("announcements.confirm_now", summary=summary, count=broadcast.number(count))
        label = texts("announcements.buttons.go_now")
    markup = _keyboard(context, [[(label, "go")], [(texts("menu.buttons.back"), "back")]])
    await send_html(update, context, text, markup)
    return CONFIRM


async def _confirmed(update: Update, context: Context, draft: dict[str, Any]) -> int:
    """Store the announcement; send now (recipients into the outbox) or leave it for the periodic tick."""
    data = context.bot_data
    texts = data.texts
    user = update.effective_user
    assert user is not None
    now = data.clock.now()
    send_at = datetime.fromisoformat(str(draft["send_at"])) if draft.get("send_at") else None
    if send_at is not None and send_at <= now:
        send_at = None  # the chosen time passed while the coordinator was confirming: send now
    announcement_id = await data.db.create_announcement(
        created_by=user.id,
        body=str(draft["body"]),
        button=_button_of(draft),
        laender=list(draft.get("laender", [])),
        topics=list(draft.get("topics", [])),
        send_at=send_at or now,
        now=now,
    )
    _clear(context)
    await answer(update.callback_query, texts("announcements.confirmed_toast"))
    if send_at is None:
        await broadcast.start(context.bot, data, announcement_id)
        data.outbox.kick()
    else:
        markup = InlineKeyboardMarkup(
            [[ANNOUNCEMENTS.button(texts("announcements.buttons.unplan"), "unplan", str(announcement_id))]]
        )
        when = broadcast.local_time(send_at, data.settings.tz)
        await send_html(
            update, context, texts("announcements.scheduled", id=announcement_id, when=when), markup
        )
    return END


async def outside_press(update: Update, context: Context) -> None:
    """An "ann:" press outside an active draft: cancel a scheduled announcement, else an old or forged button."""
    data = context.bot_data
    texts = data.texts
    if not await _may_announce(update, context):
        await answer(update.callback_query, texts("announcements.not_allowed"), alert=True)
        return
    press = parse_press(update, ANNOUNCEMENTS)
    if press is not None and press.action == "unplan" and (announcement := press.arg_number) is not None:
        cancelled = await data.db.cancel_announcement(announcement)
        key = "announcements.unplanned" if cancelled else "announcements.unplan_too_late"
        await answer(update.callback_query)
        await show(update, context, texts(key, id=announcement))
        return
    await answer(update.callback_query, texts("announcements.stale_button"), alert=True)


async def announcement_tick(context: Context) -> None:
    """Periodic job: start due scheduled announcements, finish completed ones (also after a restart)."""
    if await broadcast.run_tick(context.bot, context.bot_data):
        context.bot_data.outbox.kick()


def register(app: App) -> None:
    private = filters.ChatType.PRIVATE
    text = private & filters.TEXT & ~filters.COMMAND
    other = private & ~filters.TEXT & ~filters.StatusUpdate.ALL
    press = CallbackQueryHandler[Context, object](on_press, pattern=ANNOUNCEMENTS.pattern())
    with warnings.catch_warnings():
        # Button presses are meant to reach the dialogue from any of its messages (per_message=False).
        warnings.filterwarnings("ignore", message=".*per_message=False.*", category=PTBUserWarning)
        conversation = ConversationHandler(
            entry_points=[CommandHandler("ankuendigung", begin, filters=private)],
            states={
                TEXT: [MessageHandler(text, got_text), MessageHandler(other, unsupported)],
                BUTTON: [MessageHandler(text, got_button), MessageHandler(other, unsupported), press],
                AUDIENCE: [press],
                PREVIEW: [press],
                WHEN: [MessageHandler(text, got_when), MessageHandler(other, unsupported), press],
                CONFIRM: [press],
            },
            fallbacks=[
                CommandHandler(["abbrechen", "cancel"], cancel, filters=private),
                CallbackQueryHandler(cancel, pattern=ANNOUNCEMENTS.pattern("cancel")),
            ],
            name="announcement",
            persistent=True,
            allow_reentry=True,
        )
    app.add_handler(conversation)
    app.add_handler(CallbackQueryHandler(outside_press, pattern=ANNOUNCEMENTS.pattern()))
    broadcast.register_outbox_kind(app.bot_data)
    assert app.job_queue is not None
    app.job_queue.run_repeating(
        announcement_tick,
        interval=app.bot_data.settings.tick_seconds,
        first=0.5,
        name="announcement_tick",
    )
