"""The event form for coordinators: ``/termin_neu`` (a guided conversation with preview) and "Bearbeiten".

One persistent conversation: the answers so far live in ``user_data["event_form"]`` (JSON), so a restart
continues where the coordinator was. A new event is asked field by field; an edit starts at the preview, where
every field can be changed. Rights are checked on every step, and nothing is stored before publish /
save.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters
from telegram.warnings import PTBUserWarning

from bot import callbacks, date_phrasing, event_changes, events
from bot.content import Content
from bot.content_models.base import LAND_CODES
from bot.context import App, Context
from bot.events import Draft, EventInputError
from bot.german_time import DateInputError
from bot.keyboards import EVENT_FORM, Arg
from bot.roles import is_coordinator
from handlers.common import answer, parse_press, send_html, show
from handlers.event_views import event_view, land_rows

log = logging.getLogger(__name__)

ASK, PICK, PREVIEW = "ask", "pick", "preview"
FORM = "event_form"
END = ConversationHandler.END


def _form(context: Context) -> dict[str, Any] | None:
    form = context.user_data.get(FORM) if context.user_data is not None else None
    return form if isinstance(form, dict) and isinstance(form.get("draft"), dict) else None


def _save_form(context: Context, form: dict[str, Any]) -> None:
    assert context.user_data is not None
    context.user_data[FORM] = form


def _drop_form(context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(FORM, None)


def _draft(form: dict[str, Any]) -> Draft:
    return Draft.from_json(form["draft"])


async def _allowed(update: Update, context: Context) -> bool:
    """Coordinators only, checked on every step; anyone else is told so and the form is dropped."""
    user = update.effective_user
    data = context.bot_data
    if user is not None and await is_coordinator(data.settings, data.db, user.id):
        return True
    _drop_form(context)
    if update.callback_query is not None:
        await answer(update.callback_query, data.texts("events.form.not_coordinator_short"), alert=True)
    else:
        await send_html(update, context, data.texts("events.form.not_coordinator"))
    return False


def _cancel_row(content: Content) -> list[InlineKeyboardButton]:
    return [EVENT_FORM.button(content.texts("events.buttons.discard"), "discard")]


async def _ask(update: Update, context: Context, form: dict[str, Any], field: str) -> str:
    """Ask for ``field``: a text prompt, or buttons for Bundesland and topic."""
    content = context.bot_data.content
    texts = content.texts
    form["field"] = field
    _save_form(context, form)
    draft = _draft(form)
    back = (
        [EVENT_FORM.button(texts("events.buttons.back_to_preview"), "preview")]
        if draft.missing() is None
        else []
    )
    if field == "bundesland":
        rows = land_rows(content, EVENT_FORM)
        rows.insert(
            0,
            [EVENT_FORM.button(texts("events.buttons.nationwide"), "land", "all")],
        )
        rows.append(back + _cancel_row(content))
        await show(update, context, texts("events.form.ask.bundesland"), InlineKeyboardMarkup(rows))
        return PICK
    if field == "topic":
        buttons = [
            EVENT_FORM.button(label, "topic", topic) for topic, label in content.calendar.topics.items()
        ]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        rows.append(back + _cancel_row(content))
        await show(update, context, texts("events.form.ask.topic"), InlineKeyboardMarkup(rows))
        return PICK
    extra = []
    if field == "description":
        extra.append(EVENT_FORM.button(texts("events.buttons.skip"), "skip"))
    markup = InlineKeyboardMarkup(
        [extra + back, _cancel_row(content)] if extra or back else [_cancel_row(content)]
    )
    example = context.bot_data.clock.now().astimezone(context.bot_data.settings.tz)
    await show(update, context, texts(f"events.form.ask.{field}", year=example.year + 1), markup)
    return ASK


async def _next_step(update: Update, context: Context, form: dict[str, Any]) -> str:
    missing = _draft(form).missing()
    if missing is not None:
        return await _ask(update, context, form, missing)
    return await _preview(update, context, form)


async def _preview(update: Update, context: Context, form: dict[str, Any]) -> str:
    data = context.bot_data
    content, texts = data.content, data.texts
    form["field"] = None
    _save_form(context, form)
    draft = _draft(form)
    body = events.render_fields(content, data.settings.tz, draft)
    if form.get("mode") == "edit":
        current = await data.db.get_event(int(form["event_id"]))
        changed = events.changed_fields(current.fields, draft.fields()) if current is not None else []
        names = ", ".join(texts(f"events.field.{name}") for name in changed) or texts(
            "events.form.no_changes_yet"
        )
        text = texts("events.form.preview_edit", body=body, changed=names)
        save_label = texts("events.buttons.save")
    else:
        text = texts("events.form.preview_new", body=body)
        save_label = texts("events.buttons.publish")
    change_buttons = [
        EVENT_FORM.button(texts("events.buttons.change", field=texts(f"events.field.{name}")), "change", name)
        for name in events.FIELDS
    ]
    rows = [change_buttons[i : i + 3] for i in range(0, len(change_buttons), 3)]
    rows.append([EVENT_FORM.button(save_label, "save")])
    rows.append(_cancel_row(content))
    await show(update, context, text, InlineKeyboardMarkup(rows))
    return PREVIEW


# --- entry points ----------------------------------------------------------------------------------------------


async def start_new(update: Update, context: Context) -> str | int:
    """/termin_neu: coordinators only; starts with the title."""
    if not await _allowed(update, context):
        return END
    await send_html(update, context, context.bot_data.texts("events.form.intro"))
    return await _ask(
        update, context, {"mode": "new", "event_id": None, "version": None, "draft": {}}, "title"
    )


async def start_edit(update: Update, context: Context) -> str | int:
    """ "Bearbeiten" on an event: the preview of its current values, each field changeable."""
    if not await _allowed(update, context):
        return END
    data = context.bot_data
    press = parse_press(update, EVENT_FORM)
    event_id = events.parse_number(press.arg) if press is not None else None
    event = await data.db.get_event(event_id) if event_id is not None else None
    if event is None or event.state != "active" or event.ends_at <= data.clock.now():
        await answer(update.callback_query, data.texts("events.form.not_editable"), alert=True)
        return END
    await answer(update.callback_query)
    form = {
        "mode": "edit",
        "event_id": event.id,
        "version": event.version,
        "draft": Draft.from_fields(event.fields).to_json(),
    }
    return await _preview(update, context, form)


# --- steps -----------------------------------------------------------------------------------------------------


async def _stale(update: Update, context: Context) -> int:
    _drop_form(context)
    texts = context.bot_data.texts
    if update.callback_query is not None:
        await answer(update.callback_query, texts("events.form.stale"), alert=True)
    else:
        await send_html(update, context, texts("events.form.stale"))
    return END


FormButton = Callable[[Update, Context, dict[str, Any], callbacks.Callback], Awaitable[str | int]]


def _form_button(step: FormButton) -> Callable[[Update, Context], Coroutine[Any, Any, str | int]]:
    """A form button's step, given the open form and the press; without either, or without rights, the form
    ends (after saying why)."""

    @functools.wraps(step)
    async def run(update: Update, context: Context) -> str | int:
        form = _form(context)
        press = parse_press(update, EVENT_FORM)
        if form is None or press is None:
            return await _stale(update, context)
        if not await _allowed(update, context):
            return END
        return await step(update, context, form, press)

    return run


async def receive_text(update: Update, context: Context) -> str | int:
    """The answer to the field asked last."""
    form = _form(context)
    message = update.effective_message
    if form is None or not form.get("field") or message is None or message.text is None:
        return await _stale(update, context)
    if not await _allowed(update, context):
        return END
    data = context.bot_data
    tz, now, texts = data.settings.tz, data.clock.now(), data.texts
    draft = _draft(form)
    field = str(form["field"])
    text = message.text
    try:
        if field == "title":
            draft = replace(draft, title=events.check_title(text))
        elif field == "start":
            start, end = events.parse_start(text, tz, now)
            draft = draft.with_start(start, end)
        elif field == "end":
            if draft.starts_at is None:
                return await _ask(update, context, form, "start")
            draft = replace(draft, ends_at=events.parse_end_input(text, draft.starts_at, tz, now))
        elif field == "place":
            place, url = events.check_place(text)
            draft = replace(draft, place=place, online_url=url)
        elif field == "description":
            draft = replace(draft, description=events.check_description(text))
        else:
            await send_html(update, context, texts("events.form.use_buttons"))
            return PICK
    except DateInputError as exc:
        await send_html(update, context, date_phrasing.date_error_text(texts, exc, now, tz))
        return ASK
    except EventInputError as exc:
        await send_html(update, context, texts(f"events.input_error.{exc.code}"))
        return ASK
    form["draft"] = draft.to_json()
    return await _next_step(update, context, form)


async def skip_description(update: Update, context: Context) -> str | int:
    """ "Ohne Beschreibung"."""
    form = _form(context)
    if form is None or form.get("field") != "description":
        return await _stale(update, context)
    if not await _allowed(update, context):
        return END
    await answer(update.callback_query)
    form["draft"] = replace(_draft(form), description="").to_json()
    return await _next_step(update, context, form)


@_form_button
async def receive_pick(
    update: Update, context: Context, form: dict[str, Any], press: callbacks.Callback
) -> str | int:
    """A Bundesland (or nationwide) or a topic chosen by button."""
    content = context.bot_data.content
    draft = _draft(form)
    if (
        press.action == "land"
        and form.get("field") == "bundesland"
        and (press.arg in LAND_CODES or press.arg == "all")
    ):
        draft = replace(draft, bundesland="" if press.arg == "all" else press.arg)
    elif press.action == "topic" and form.get("field") == "topic" and press.arg in content.calendar.topics:
        draft = replace(draft, topic=press.arg)
    else:
        await answer(update.callback_query, content.texts("events.form.wrong_step"), alert=True)
        return PICK
    await answer(update.callback_query)
    form["draft"] = draft.to_json()
    return await _next_step(update, context, form)


@_form_button
async def change_field(
    update: Update, context: Context, form: dict[str, Any], press: callbacks.Callback
) -> str | int:
    """A "✏️ <Feld>" button on the preview."""
    if press.arg not in events.FIELDS:
        await answer(update.callback_query, context.bot_data.texts("events.form.wrong_step"), alert=True)
        return PREVIEW
    await answer(update.callback_query)
    return await _ask(update, context, form, press.arg)


async def back_to_preview(update: Update, context: Context) -> str | int:
    form = _form(context)
    if form is None or _draft(form).missing() is not None:
        return await _stale(update, context)
    if not await _allowed(update, context):
        return END
    await answer(update.callback_query)
    return await _preview(update, context, form)


async def save(update: Update, context: Context) -> str | int:
    """Publish / save: re-check rights and times, then store (and notify followers)."""
    form = _form(context)
    user = update.effective_user
    if form is None or user is None or _draft(form).missing() is not None:
        return await _stale(update, context)
    if not await _allowed(update, context):
        return END
    data = context.bot_data
    texts, tz, now = data.texts, data.settings.tz, data.clock.now()
    draft = _draft(form)
    fields = draft.fields()
    current = await data.db.get_event(int(form["event_id"])) if form.get("mode") == "edit" else None
    start_changed = current is None or current.starts_at != fields.starts_at
    if start_changed and fields.starts_at <= now:
        # Time passed while the form was open: the start must be entered again.
        await answer(update.callback_query)
        await send_html(update, context, texts("events.input_error.past"))
        return await _ask(update, context, form, "start")
    await answer(update.callback_query)
    if form.get("mode") != "edit":
        event_id = await event_changes.create_event(data.db, data.content, tz, fields, by=user.id, now=now)
        _drop_form(context)
        log.info("event %s created", event_id)
        await show(update, context, texts("events.form.published"))
        return await _show_event(update, context, event_id)
    result = await event_changes.update_event(
        data.db,
        data.content,
        tz,
        int(form["event_id"]),
        fields,
        by=user.id,
        now=now,
        expected_version=int(form["version"]),
    )
    _drop_form(context)
    if result is None:
        await show(update, context, texts("events.form.conflict"))
        return END
    if not result.changed:
        await show(update, context, texts("events.form.nothing_changed"))
    else:
        log.info(
            "event %s changed (%s), %s followers notified",
            form["event_id"],
            ",".join(result.changed),
            result.notified,
        )
        await show(update, context, texts("events.form.saved", followers=result.notified))
        context.bot_data.outbox.kick()
    return await _show_event(update, context, int(form["event_id"]))


async def _show_event(update: Update, context: Context, event_id: int) -> int:
    user = update.effective_user
    event = await context.bot_data.db.get_event(event_id)
    if event is not None and user is not None:
        text, markup = await event_view(context, event, user.id)
        await send_html(update, context, text, markup)
    return END


async def discard(update: Update, context: Context) -> int:
    """ "Verwerfen" or /abbrechen: nothing is stored."""
    _drop_form(context)
    await answer(update.callback_query)
    texts = context.bot_data.texts
    if update.callback_query is not None:
        await show(update, context, texts("events.form.discarded"))
    else:
        await send_html(update, context, texts("events.form.discarded"))
    return END


async def use_buttons(update: Update, context: Context) -> None:
    """Free text where a button is expected."""
    if _form(context) is None:
        await _stale(update, context)
        return
    await send_html(update, context, context.bot_data.texts("events.form.use_buttons"))


async def wrong_step(update: Update, context: Context) -> None:
    """A form button from an earlier step."""
    await answer(update.callback_query, context.bot_data.texts("events.form.wrong_step"), alert=True)


def build() -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND & private
    with warnings.catch_warnings():
        # The form's buttons belong to the user's single form, not to one message: per_message=False is meant.
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler("termin_neu", start_new, filters=private),
                CallbackQueryHandler(start_edit, pattern=EVENT_FORM.pattern("edit", arg=r"\d+")),
            ],
            states={
                ASK: [
                    MessageHandler(text, receive_text),
                    CallbackQueryHandler(skip_description, pattern=EVENT_FORM.pattern("skip")),
                    CallbackQueryHandler(back_to_preview, pattern=EVENT_FORM.pattern("preview")),
                ],
                PICK: [
                    CallbackQueryHandler(
                        receive_pick, pattern=EVENT_FORM.pattern("land", "topic", arg=Arg.ANY)
                    ),
                    CallbackQueryHandler(back_to_preview, pattern=EVENT_FORM.pattern("preview")),
                    MessageHandler(text, use_buttons),
                ],
                PREVIEW: [
                    CallbackQueryHandler(change_field, pattern=EVENT_FORM.pattern("change", arg=Arg.ANY)),
                    CallbackQueryHandler(save, pattern=EVENT_FORM.pattern("save")),
                    MessageHandler(text, use_buttons),
                ],
            },
            fallbacks=[
                CommandHandler("abbrechen", discard, filters=private),
                CallbackQueryHandler(discard, pattern=EVENT_FORM.pattern("discard")),
                CallbackQueryHandler(wrong_step, pattern=EVENT_FORM.pattern()),
            ],
            name="event_form",
            persistent=True,
            allow_reentry=True,
        )


def register(app: App) -> None:
    app.add_handler(build())
