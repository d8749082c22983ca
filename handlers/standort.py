"""Standortbestimmung (/standort): where the Kommune stands on the way to anchoring IJA, with a DOCX draft plan.

The Kommune's name, type and Bundesland, then one yes / partly / no question per step of the way. The result
(stage, next steps, contacts for the Land, progress since last time) is stored before it is shown; the draft
"Lokaler Entwicklungsplan" follows as a document. /standort later shows the last result and offers an update.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

import handlers.guided as guided
from bot.content_models.base import LAND_CODES
from bot.context import App, BotData, Context
from bot.db import StandortRow
from bot.guided import land_options, match_typed
from bot.keyboards import STANDORT, STANDORT_VIEW, url_button
from bot.standort import (
    ANSWER_WORDS,
    ANSWERS,
    Assessment,
    NameProblem,
    assess,
    clean_kommune_name,
    devplan_filename,
    progress,
    render_result,
    render_summary,
    same_kommune,
)
from bot.telegram_html import Html, html_to_plain
from handlers.common import answer, home_button, send_html, show
from handlers.guided import (
    END,
    HOME,
    MENU_BELOW,
    ST_KEY,
    article_url,
    begin_tool,
    leave_to_menu,
    show_parts,
    tool_data,
)

STEPS = ("name", "type", "land", "question")
STATE = {step: f"st_{step}" for step in STEPS}


def _local_date(context: Context, row: StandortRow) -> str:
    return row.created_at.astimezone(context.bot_data.settings.tz).strftime("%d.%m.%Y")


def _questions(context: Context) -> list[Any]:
    return list(context.bot_data.content.tools.standort.questions)


def _dialogue(context: Context) -> dict[str, Any] | None:
    """The answers so far, if they point at a step that exists (an editor may have removed questions since:
    then None, and the dialogue restarts politely)."""
    st = tool_data(context, ST_KEY)
    if st is None or st["step"] not in STEPS:
        return None
    index = st.get("index", 0)
    if st["step"] == "question" and not (isinstance(index, int) and 0 <= index < len(_questions(context))):
        return None
    return st


def _step_number(context: Context, st: dict[str, Any]) -> tuple[int, int]:
    total = 3 + len(_questions(context))
    step = st["step"]
    if step == "question":
        return 4 + int(st.get("index", 0)), total
    return STEPS.index(step) + 1, total


def _previous(st: dict[str, Any]) -> dict[str, Any]:
    prev = st.get("prev")
    return prev if isinstance(prev, dict) else {}


def _step_view(context: Context, st: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    texts = context.bot_data.texts
    content = context.bot_data.content
    config = content.tools.standort
    step = st["step"]
    prev = _previous(st)
    number, total = _step_number(context, st)
    rows: list[list[InlineKeyboardButton]] = []
    if step == "name":
        question = texts("standort.ask.name")
        if isinstance(prev.get("name"), str):
            rows.append([STANDORT.button(texts("standort.buttons.keep_name", name=prev["name"]), "keep")])
    elif step == "type":
        question = texts("standort.ask.type", name=st.get("name", ""))
        rows.append([STANDORT.button(t.label, "t", t.id) for t in config.kommune_types])
    elif step == "land":
        question = texts("standort.ask.land")
        rows += guided.land_rows(content, STANDORT, st.get("known_land"), "standort.buttons.keep_land")
    else:
        index = int(st.get("index", 0))
        item = config.questions[index]
        same = isinstance(prev.get("name"), str) and same_kommune(
            config, (str(prev["name"]), str(prev.get("land"))), (str(st.get("name")), str(st.get("land")))
        )
        # "Letztes Mal" only for the same Kommune: a second Kommune starts without another's answers.
        before = prev["answers"].get(item.id) if same and isinstance(prev.get("answers"), dict) else None
        hint = (
            texts("standort.last_time", answer=Html(texts(f"standort.answer.{before}")))
            if before in ANSWERS
            else ""
        )
        question = texts(
            "standort.ask.question",
            index=index + 1,
            count=len(config.questions),
            title=item.title,
            question=item.question,
            hint=Html(hint),
        )
        rows.append([STANDORT.button(texts(f"standort.buttons.{a}"), "a", f"{item.id}.{a}") for a in ANSWERS])
    if number == 1:
        rows.append([STANDORT.button(texts("menu.buttons.home"), HOME)])
    else:
        rows.append(
            [
                STANDORT.button(texts("standort.buttons.back"), "back"),
                STANDORT.button(texts("standort.buttons.restart"), "restart"),
            ]
        )
    text = texts("standort.step", number=number, total=total, question=Html(question))
    return text, InlineKeyboardMarkup(rows)


async def _go(update: Update, context: Context, st: dict[str, Any], step: str, index: int = 0) -> str:
    st["step"] = step
    st["index"] = index
    text, markup = _step_view(context, st)
    await show(update, context, text, markup)
    return STATE[step]


async def _begin(update: Update, context: Context, previous: StandortRow | None) -> str:
    """Start the questions; a previous result pre-fills name, type and Land and is shown as "last time"."""
    user = update.effective_user
    row = await context.bot_data.db.get_user(user.id) if user is not None else None
    known = previous.bundesland if previous is not None else (row.bundesland if row else None)
    prev = (
        {
            "name": previous.kommune,
            "type": previous.kommune_type,
            "land": previous.bundesland,
            "answers": previous.answers,
        }
        if previous is not None
        else None
    )
    st = begin_tool(context, ST_KEY, {"step": "name", "answers": {}, "known_land": known, "prev": prev})
    return await _go(update, context, st, "name")


async def _latest(context: Context, update: Update) -> StandortRow | None:
    user = update.effective_user
    if user is None:
        return None
    rows = await context.bot_data.db.standort_results(user.id, 1)
    return rows[0] if rows else None


async def standort_command(update: Update, context: Context) -> str | int:
    """/standort: continue an unfinished self-check, show the last result, or begin."""
    st = _dialogue(context)
    if st is not None and st["step"] in STEPS:
        texts = context.bot_data.texts
        text, markup = _step_view(context, st)
        await send_html(update, context, texts("standort.continue") + "\n\n" + text, markup)
        return STATE[st["step"]]
    latest = await _latest(context, update)
    if latest is None:
        return await _begin(update, context, None)
    if context.user_data is not None:
        context.user_data.pop(ST_KEY, None)
    await _show_summary(update, context, latest)
    return END


async def _show_summary(update: Update, context: Context, latest: StandortRow) -> None:
    texts = context.bot_data.texts
    content = context.bot_data.content
    config = content.tools.standort
    assessment = assess(config, latest.answers)
    text = render_summary(
        texts,
        config,
        content.servicepoints,
        kommune=latest.kommune,
        kommune_type=latest.kommune_type,
        land=latest.bundesland,
        assessment=assessment,
        when=_local_date(context, latest),
        link=lambda a: article_url(context, a),
    )
    markup = InlineKeyboardMarkup(
        [
            [STANDORT_VIEW.button(texts("standort.buttons.update"), "update")],
            [STANDORT_VIEW.button(texts("standort.buttons.resend"), "resend")],
            [home_button(texts)],
        ]
    )
    await show(update, context, text, markup)


async def update_press(update: Update, context: Context) -> str:
    """ "Aktualisieren": the questions again, with the last answers as hints."""
    await answer(update.callback_query)
    return await _begin(update, context, await _latest(context, update))


async def restart_press(update: Update, context: Context) -> str:
    """The restart button inside the dialogue: from the first question, keeping last time's hints."""
    await answer(update.callback_query)
    return await _begin(update, context, await _latest(context, update))


async def resend_press(update: Update, context: Context) -> None:
    """ "Entwurf erneut senden": the draft plan of the stored last result."""
    texts = context.bot_data.texts
    latest = await _latest(context, update)
    if latest is None:
        await answer(update.callback_query, texts("standort.no_result"), alert=True)
        return
    await answer(update.callback_query)
    await _send_devplan(
        update, context, latest, assess(context.bot_data.content.tools.standort, latest.answers)
    )


async def _send_devplan(update: Update, context: Context, row: StandortRow, assessment: Assessment) -> None:
    texts = context.bot_data.texts
    content = context.bot_data.content
    chat = update.effective_chat
    if chat is None:
        return
    labels = {a: html_to_plain(texts(f"standort.answer.{a}")) for a in ANSWERS}
    # python-docx (with lxml) loads when the first plan is made: it is the largest library the bot uses and
    # most processes never need it (start-up time and memory at rest).
    from bot.devplan import DevplanInput, build_devplan  # lazy: python-docx, see above

    # Building the document takes CPU time: in a thread, so other users' answers do not wait for it.
    document = await asyncio.to_thread(
        build_devplan,
        content.tools.standort,
        content.servicepoints,
        DevplanInput(
            kommune=row.kommune,
            kommune_type=row.kommune_type,
            land=row.bundesland,
            answers=row.answers,
            assessment=assessment,
            created=row.created_at.astimezone(context.bot_data.settings.tz).date(),
            answer_labels=labels,
        ),
    )
    await context.bot.send_document(
        chat.id,
        document=document,
        filename=devplan_filename(row.kommune),
        caption=texts("standort.document_caption", kommune=row.kommune),
    )


async def _finish(update: Update, context: Context, st: dict[str, Any]) -> str | int:
    """Store the result first, then show it and send the draft plan."""
    user = update.effective_user
    texts = context.bot_data.texts
    content = context.bot_data.content
    config = content.tools.standort
    name, kommune_type, land = st.get("name"), st.get("type"), st.get("land")
    answers = {str(k): str(v) for k, v in dict(st.get("answers", {})).items()}
    if (
        user is None
        or not isinstance(name, str)
        or config.kommune_type(str(kommune_type)) is None
        or land not in LAND_CODES
    ):
        await answer(update.callback_query, context.bot_data.texts("standort.interrupted"), alert=True)
        return await _begin(update, context, await _latest(context, update))
    assessment = assess(config, answers)
    previous = await _latest(context, update)
    db, now = context.bot_data.db, context.bot_data.clock.now()
    await db.save_standort_result(
        user.id,
        now,
        kommune=name,
        kommune_type=str(kommune_type),
        bundesland=str(land),
        answers=answers,
        stage=assessment.stage.number,
        score=assessment.score,
    )
    if context.user_data is not None:
        context.user_data.pop(ST_KEY, None)
    if previous is not None and not same_kommune(
        config, (previous.kommune, previous.bundesland), (name, str(land))
    ):
        previous = None  # the last result is another Kommune's: no "progress" against it
    change = progress(config, previous.created_at, previous.answers, answers) if previous else None
    parts = render_result(
        texts,
        config,
        content.servicepoints,
        kommune=name,
        kommune_type=str(kommune_type),
        land=str(land),
        assessment=assessment,
        link=lambda a: article_url(context, a),
        change=change,
        change_date=_local_date(context, previous) if previous else "",
        programme_names={p.id: p.short for p in content.calendar.programmes.values()},
    )
    parts.append(texts("standort.result.document_follows"))
    rows = [
        [url_button(texts("standort.buttons.article", title=s.title), article_url(context, s.article))]
        for s in assessment.next_steps
    ]
    rows.append([STANDORT_VIEW.button(texts("standort.buttons.update"), "update")])
    rows.append([STANDORT_VIEW.button(texts("menu.buttons.home"), MENU_BELOW)])
    await answer(update.callback_query)
    await show_parts(update, context, parts, InlineKeyboardMarkup(rows))
    [stored] = await db.standort_results(user.id, 1)
    await _send_devplan(update, context, stored, assessment)
    return END


def _accept(context: Context, st: dict[str, Any], action: str, arg: str) -> bool:
    """Store a button's answer for the current step; False for buttons of other steps or forged values."""
    config = context.bot_data.content.tools.standort
    step = st["step"]
    prev = _previous(st)
    if step == "name" and action == "keep" and isinstance(prev.get("name"), str):
        st["name"] = prev["name"]
    elif step == "type" and action == "t" and config.kommune_type(arg) is not None:
        st["type"] = arg
    elif step == "land" and action == "l" and arg in LAND_CODES:
        st["land"] = arg
    elif step == "question" and action == "a":
        question_id, _, value = arg.partition(".")
        index = int(st.get("index", 0))
        if (
            index >= len(config.questions)
            or config.questions[index].id != question_id
            or value not in ANSWERS
        ):
            return False
        st.setdefault("answers", {})[question_id] = value
    else:
        return False
    return True


async def _forward(update: Update, context: Context, st: dict[str, Any]) -> str | int:
    """The step after the current one (the last question leads to the result)."""
    step = st["step"]
    if step == "name":
        return await _go(update, context, st, "type")
    if step == "type":
        return await _go(update, context, st, "land")
    if step == "land":
        user = update.effective_user
        if user is not None:
            await context.bot_data.db.set_user_land(user.id, st["land"], context.bot_data.clock.now())
        return await _go(update, context, st, "question", 0)
    index = int(st.get("index", 0)) + 1
    if index < len(_questions(context)):
        return await _go(update, context, st, "question", index)
    return await _finish(update, context, st)


async def _back(update: Update, context: Context, st: dict[str, Any]) -> str:
    step = st["step"]
    index = int(st.get("index", 0))
    if step == "question" and index > 0:
        return await _go(update, context, st, "question", index - 1)
    if step == "question":
        return await _go(update, context, st, "land")
    if step == "land":
        return await _go(update, context, st, "type")
    return await _go(update, context, st, "name")


async def on_press(update: Update, context: Context) -> str | int | None:
    """A button of the dialogue: an answer for the current step, back, or restart."""
    parsed = await guided.step_press(update, context, STANDORT, "standort.stale_step")
    if parsed is None:
        return None
    if parsed.action == "restart":
        return await restart_press(update, context)
    if parsed.action == HOME:
        return await leave_to_menu(update, context)
    st = _dialogue(context)
    if st is None or st["step"] not in STEPS:
        await answer(update.callback_query, context.bot_data.texts("standort.interrupted"), alert=True)
        return await _begin(update, context, await _latest(context, update))
    if parsed.action == "back":
        await answer(update.callback_query)
        return await _back(update, context, st)
    if not _accept(context, st, parsed.action, parsed.arg):
        # A button of an earlier step or message: nothing changes; show where the dialogue stands.
        await answer(update.callback_query, context.bot_data.texts("standort.stale_step"))
        text, markup = _step_view(context, st)
        await send_html(update, context, text, markup)
        return None
    if st["step"] != "question" or int(st.get("index", 0)) + 1 < len(_questions(context)):
        await answer(update.callback_query)
    return await _forward(update, context, st)


async def on_name(update: Update, context: Context) -> str | None:
    """The Kommune's name, typed at the first step."""
    st = _dialogue(context)
    typed = await guided.typed_text(update, context, st, "standort.interrupted")
    if st is None or typed is None:
        return await _begin(update, context, await _latest(context, update))
    if st["step"] != "name":
        return None
    texts = context.bot_data.texts
    try:
        st["name"] = clean_kommune_name(typed)
    except NameProblem as problem:
        text, markup = _step_view(context, st)
        await send_html(update, context, texts(f"standort.bad_name.{problem.code}") + "\n\n" + text, markup)
        return None
    return await _go(update, context, st, "type")


# A button of a finished Standortbestimmung while none runs: say so and offer to start again.
ended_press = guided.tool_ended(
    "standort.ended_toast", "standort.ended", STANDORT_VIEW, "update", "standort.buttons.update"
)


def entry_points() -> list[BaseHandler[Update, Context, Any]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("standort", standort_command, filters=private),
        CallbackQueryHandler(update_press, pattern=STANDORT_VIEW.pattern("update")),
    ]


def typed_answer(bot_data: BotData, st: dict[str, Any], text: str) -> tuple[str, str] | None:
    """Typed text that names a button of the current button step ("Stadt", "NRW", "ja", "teilweise")."""
    content = bot_data.content
    config = content.tools.standort
    step = st.get("step")
    if step == "type":
        arg = match_typed(text, {t.id: [t.label, *t.aliases] for t in config.kommune_types})
        return ("t", arg) if arg is not None else None
    if step == "land":
        arg = match_typed(text, land_options(content))
        return ("l", arg) if arg is not None else None
    index = st.get("index", 0)
    if step == "question" and isinstance(index, int) and 0 <= index < len(config.questions):
        options = {
            a: [html_to_plain(bot_data.texts(f"standort.answer.{a}")), *ANSWER_WORDS[a]] for a in ANSWERS
        }
        value = match_typed(text, options)
        return ("a", f"{config.questions[index].id}.{value}") if value is not None else None
    return None


async def on_typed_answer(update: Update, context: Context) -> str | int | None:
    """A button's answer typed at a button step (the filter made sure it names one)."""
    st = _dialogue(context)
    found = guided.typed_choice(update, context, st, typed_answer)
    if st is None or found is None or not _accept(context, st, *found):
        return None
    return await _forward(update, context, st)


def states(app: App) -> dict[object, list[BaseHandler[Update, Context, Any]]]:
    press, typed, choice = guided.step_handlers(
        app, ST_KEY, STANDORT, on_press, on_name, typed_answer, on_typed_answer
    )
    return {STATE[step]: [press, typed] if step == "name" else [press, choice] for step in STEPS}


def fallbacks() -> list[BaseHandler[Update, Context, Any]]:
    """Standortbestimmung buttons while the other guided tool runs."""
    return [CallbackQueryHandler(ended_press, pattern=STANDORT.pattern())]


def register_outside(app: App) -> None:
    app.add_handler(CallbackQueryHandler(resend_press, pattern=STANDORT_VIEW.pattern("resend")))
    app.add_handler(CallbackQueryHandler(ended_press, pattern=STANDORT.pattern()))
