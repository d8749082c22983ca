"""/datenschutz (/privacy), /meine_daten and /loeschen: the privacy notice, the data export and erasure."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.context import App, Context
from bot.keyboards import MENU, PRIVACY, one_button
from bot.privacy import (
    Section,
    collect_export,
    count_user_data,
    erase_user_data,
    export_document,
    forget_runtime_state,
    privacy_notice,
)
from bot.privacy_features import (
    REDACT_KIND,
    REFRESH_KIND,
    redact_staff_message,
    refresher,
    register_feature_tables,
)
from bot.telegram_html import Html
from bot.texts import Texts
from handlers.common import answer, home_button, parse_press, show, user_of

log = logging.getLogger(__name__)

# A confirmation button older than this is refused: the user should see the current summary before erasing.
CONFIRM_VALID = timedelta(minutes=15)


def _notice_markup(texts: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                PRIVACY.button(texts("privacy.buttons.export"), "export"),
                PRIVACY.button(texts("privacy.buttons.erase"), "ask"),
            ],
            [home_button(texts)],
        ]
    )


def _summary(texts: Texts, sections: list[Section]) -> Html:
    lines = [
        texts("privacy.erase.line_one", label=texts(s.label))
        if s.rows == 1
        else texts("privacy.erase.line", label=texts(s.label), count=s.rows)
        for s in sections
    ]
    return Html("\n".join(lines))


async def notice(update: Update, context: Context) -> None:
    """/datenschutz, /privacy and the main-menu button: the privacy notice."""
    services = context.bot_data
    await answer(update.callback_query)
    await show(
        update, context, privacy_notice(services.texts, services.settings), _notice_markup(services.texts)
    )


async def export(update: Update, context: Context) -> None:
    """/meine_daten and its button: everything stored about the user as a JSON document."""
    if update.effective_chat is None or (user := await user_of(update)) is None:
        return
    services = context.bot_data
    # Form answers and dialogue states reach the database on PTB's next flush; flush now so none is missing.
    await context.application.update_persistence()
    now = services.clock.now()
    data = await collect_export(services, user.id, now)
    name = services.texts("privacy.export.filename", date=f"{now.astimezone(services.settings.tz):%Y-%m-%d}")
    await context.bot.send_document(
        user.id,  # only ever into the user's private chat
        InputFile(export_document(data), filename=name),
        caption=services.texts("privacy.export.caption"),
    )


async def ask_erase(update: Update, context: Context) -> None:
    """/loeschen and its button: what is stored, and a confirmation that expires."""
    if (user := await user_of(update)) is None:
        return
    services = context.bot_data
    texts = services.texts
    sections = await count_user_data(services, user.id)
    if not sections:
        await show(update, context, texts("privacy.erase.nothing"), one_button(home_button(texts)))
        return
    stamp = int(services.clock.now().timestamp())
    markup = InlineKeyboardMarkup(
        [
            [
                PRIVACY.button(texts("privacy.buttons.confirm"), "erase", stamp),
                PRIVACY.button(texts("privacy.buttons.cancel"), "keep"),
            ]
        ]
    )
    await show(update, context, texts("privacy.erase.confirm", summary=_summary(texts, sections)), markup)


async def erase(update: Update, context: Context, stamp: str) -> None:
    """The confirmation press: erase everything about the one who pressed, then say what went."""
    user = update.effective_user
    if user is None:
        return
    services = context.bot_data
    texts = services.texts
    now = services.clock.now()
    try:
        asked = int(stamp)
    except ValueError:
        asked = 0
    if not 0 <= now.timestamp() - asked <= CONFIRM_VALID.total_seconds():
        await answer(update.callback_query)
        await show(update, context, texts("privacy.erase.expired"))
        return
    await answer(update.callback_query)
    # PTB writes unfinished form answers in the background: a write already under way (it copied the user's
    # data before the erasure) would put them back after it. Waiting for the writes first closes that window;
    # until this update is handled no new write includes the user, and then the user's data is dropped.
    await context.application.update_persistence()
    erased = await erase_user_data(services, user.id, now)
    forget_runtime_state(context.application, user.id)
    # Erase hooks may have queued notices (e.g. a withdrawn request to staff).
    services.outbox.kick()
    log.info("personal data erased on request (%d rows)", sum(s.rows for s in erased))
    if erased:
        text = texts(
            "privacy.erase.done", summary=_summary(texts, erased), backup_days=services.settings.backup_keep
        )
    else:
        text = texts("privacy.erase.done_nothing")
    await show(update, context, text)


async def on_press(update: Update, context: Context) -> None:
    """Every ``privacy:`` button; the action is re-checked here, the arguments are never trusted."""
    press = parse_press(update, PRIVACY)
    chat = update.effective_chat
    private = chat is not None and chat.type == "private"
    if press is None or not private or press.action not in ("export", "ask", "erase", "keep"):
        await answer(update.callback_query, context.bot_data.texts("errors.stale_button"), alert=True)
        return
    if press.action == "export":
        await export(update, context)
    elif press.action == "ask":
        await ask_erase(update, context)
    elif press.action == "erase":
        await erase(update, context, press.arg)
    else:
        await answer(update.callback_query)
        await show(update, context, context.bot_data.texts("privacy.erase.kept"))


def register(app: App) -> None:
    register_feature_tables(app.bot_data.privacy)
    app.bot_data.outbox.register(REDACT_KIND, deliver=redact_staff_message)
    app.bot_data.outbox.register(REFRESH_KIND, deliver=refresher(app.bot_data))
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler(["datenschutz", "privacy"], notice, filters=private))
    app.add_handler(CommandHandler("meine_daten", export, filters=private))
    app.add_handler(CommandHandler("loeschen", ask_erase, filters=private))
    app.add_handler(CallbackQueryHandler(notice, pattern=MENU.pattern("datenschutz")))
    app.add_handler(CallbackQueryHandler(on_press, pattern=PRIVACY.pattern()))
