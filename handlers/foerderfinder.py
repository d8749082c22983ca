"""Förder-Finder: partner country, format, ages, duration and Bundesland lead to the programmes that fit.

Entry: /foerderfinder, the main-menu button ``menu:foerderfinder`` and the deep link ``/start foerderfinder``.
The steps are states of the guided conversation (handlers/guided.py); the rules are in bot/foerderfinder.py.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

import handlers.guided as guided
from bot import keyboards
from bot.content_models.base import LAND_CODES
from bot.context import App, BotData, Context
from bot.foerderfinder import (
    STEPS,
    Plan,
    ages_label,
    days_label,
    find_programmes,
    parse_ages,
    parse_days,
    parse_span_arg,
    render_result,
    span_arg,
)
from bot.guided import land_options, match_typed
from bot.keyboards import FOERDERFINDER, MENU, url_button
from bot.telegram_html import Html
from handlers.common import answer, send_html, show
from handlers.guided import (
    FF_KEY,
    HOME,
    MENU_BELOW,
    article_url,
    begin_tool,
    leave_to_menu,
    menu_below,
    show_parts,
    tool_data,
)

RESULT = "result"
STATE = {step: f"ff_{step}" for step in (*STEPS, RESULT)}
# The callback action of each step's answer buttons.
ACTION = {"country": "c", "format": "f", "ages": "a", "days": "d", "land": "l"}
NO_LAND = "none"
NO_LAND_WORDS = ("ohne Angabe", "keine Angabe", "egal")  # typed instead of the "Ohne Angabe weiter" button
MAX_ARTICLE_BUTTONS = 4


def _steps(context: Context, ff: dict[str, Any]) -> list[str]:
    """The steps for the chosen format ("ages" is skipped where the format does not ask it)."""
    fmt = context.bot_data.content.tools.programmes.format(str(ff.get("format", "")))
    return [s for s in STEPS if s != "ages" or fmt is None or fmt.ask_ages]


def _dialogue(context: Context) -> dict[str, Any] | None:
    """The answers so far, if their step is one this dialogue asks (data from before a content change may
    name a step the chosen format no longer asks: then None, and the dialogue restarts politely)."""
    ff = tool_data(context, FF_KEY)
    return ff if ff is not None and ff["step"] in (*_steps(context, ff), RESULT) else None


def _span(value: object) -> tuple[int, int] | None:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return value[0], value[1]
    return None


def _plan(ff: dict[str, Any]) -> Plan | None:
    """The answers as a Plan, or None if something needed is missing (e.g. data from an older version)."""
    days = _span(ff.get("days"))
    if not isinstance(ff.get("country"), str) or not isinstance(ff.get("format"), str) or days is None:
        return None
    land = ff.get("land")
    return Plan(
        ff["country"], ff["format"], _span(ff.get("ages")), days, land if land in LAND_CODES else None
    )


def _nav(context: Context, first: bool) -> list[InlineKeyboardButton]:
    texts = context.bot_data.texts
    if first:
        return [FOERDERFINDER.button(texts("menu.buttons.home"), HOME)]
    return [
        FOERDERFINDER.button(texts("foerderfinder.buttons.back"), "back"),
        FOERDERFINDER.button(texts("foerderfinder.buttons.restart"), "restart"),
    ]


def _answers_so_far(context: Context, ff: dict[str, Any], steps: list[str]) -> list[str]:
    """Labels of the answers given in ``steps`` (shown above the next question for orientation)."""
    texts = context.bot_data.texts
    data = context.bot_data.content.tools.programmes
    labels: list[str] = []
    fmt = data.format(str(ff.get("format")))
    for step in steps:
        if step == "country" and (country := data.country(str(ff.get("country")))) is not None:
            labels.append(country.label)
        elif step == "format" and fmt is not None:
            labels.append(fmt.label)
        elif step == "ages" and (ages := _span(ff.get("ages"))) is not None:
            labels.append(ages_label(texts, ages))
        elif step == "days" and (days := _span(ff.get("days"))) is not None:
            labels.append(days_label(texts, days, fmt.days if fmt else None))
    return labels


def _step_view(context: Context, ff: dict[str, Any], step: str) -> tuple[str, InlineKeyboardMarkup]:
    texts = context.bot_data.texts
    content = context.bot_data.content
    data = content.tools.programmes
    steps = _steps(context, ff)
    number = steps.index(step) + 1
    rows: list[list[InlineKeyboardButton]] = []
    if step == "country":
        rows = [[FOERDERFINDER.button(c.label, "c", c.id)] for c in data.countries]
    elif step == "format":
        rows = [[FOERDERFINDER.button(f.label, "f", f.id)] for f in data.formats]
    elif step == "ages":
        rows = keyboards.rows(
            [
                FOERDERFINDER.button(ages_label(texts, (a.min, a.max)), "a", span_arg((a.min, a.max)))
                for a in data.ages
            ]
        )
    elif step == "days":
        fmt = data.format(str(ff.get("format")))
        options = fmt.days if fmt else []
        rows = keyboards.rows(
            [
                FOERDERFINDER.button(
                    days_label(texts, (d.min, d.max), options), "d", span_arg((d.min, d.max))
                )
                for d in options
            ]
        )
    elif step == "land":
        rows += guided.land_rows(
            content, FOERDERFINDER, ff.get("known_land"), "foerderfinder.buttons.keep_land"
        )
        rows.append([FOERDERFINDER.button(texts("foerderfinder.buttons.no_land"), "l", NO_LAND)])
    rows.append(_nav(context, number == 1))
    so_far = _answers_so_far(context, ff, steps[: number - 1])
    progress = texts("foerderfinder.so_far", answers=" · ".join(so_far)) if so_far else ""
    text = texts(
        "foerderfinder.step",
        number=number,
        total=len(steps),
        progress=Html(progress),
        question=Html(texts(f"foerderfinder.ask.{step}")),
    )
    return text, InlineKeyboardMarkup(rows)


async def _go(update: Update, context: Context, ff: dict[str, Any], step: str) -> str:
    ff["step"] = step
    text, markup = _step_view(context, ff, step)
    await show(update, context, text, markup)
    return STATE[step]


async def start(update: Update, context: Context) -> str:
    """Entry (command, menu button, deep link, restart button): the first question."""
    await answer(update.callback_query)
    return await _begin(update, context)


async def _begin(update: Update, context: Context) -> str:
    user = update.effective_user
    known = None
    if user is not None:
        row = await context.bot_data.db.get_user(user.id)
        known = row.bundesland if row else None
    ff = begin_tool(context, FF_KEY, {"step": "country", "known_land": known})
    return await _go(update, context, ff, "country")


async def _restart_politely(update: Update, context: Context) -> str:
    """The answers are gone (e.g. data from before an update): say so and begin again."""
    await answer(update.callback_query, context.bot_data.texts("foerderfinder.interrupted"), alert=True)
    return await _begin(update, context)


async def _result(update: Update, context: Context, ff: dict[str, Any]) -> str:
    plan = _plan(ff)
    if plan is None:
        return await _restart_politely(update, context)
    ff["step"] = RESULT
    texts = context.bot_data.texts
    content = context.bot_data.content
    data = content.tools.programmes
    finding = find_programmes(data, plan)
    today = context.bot_data.clock.now().astimezone(context.bot_data.settings.tz).date()
    parts = render_result(
        texts,
        data,
        content.servicepoints,
        plan,
        finding,
        today,
        lambda a: article_url(context, a),
        programme_names={p.id: p.short for p in content.calendar.programmes.values()},
    )
    rows: list[list[InlineKeyboardButton]] = []
    seen: list[str] = []
    for programme in [*finding.cautions, *finding.fits]:
        if programme.article not in seen and len(seen) < MAX_ARTICLE_BUTTONS:
            seen.append(programme.article)
            label = texts("foerderfinder.buttons.article", short=programme.short)
            rows.append([url_button(label, article_url(context, programme.article))])
    if not finding.fits:
        label = texts("foerderfinder.buttons.overview")
        rows.append([url_button(label, article_url(context, "foerderung-ueberblick"))])
    rows.append(_nav(context, first=False))
    rows.append([FOERDERFINDER.button(texts("menu.buttons.home"), MENU_BELOW)])
    await show_parts(update, context, parts, InlineKeyboardMarkup(rows))
    return STATE[RESULT]


def _accept(context: Context, ff: dict[str, Any], step: str, arg: str) -> bool:
    """Store a button's answer for ``step`` if it is valid; False for forged or outdated values."""
    data = context.bot_data.content.tools.programmes
    if step == "country" and data.country(arg) is not None:
        ff["country"] = arg
    elif step == "format" and (fmt := data.format(arg)) is not None:
        ff["format"] = arg
        if not fmt.ask_ages:
            ff.pop("ages", None)
    elif step == "ages" and (span := parse_span_arg(arg)) is not None:
        ff["ages"] = list(span)
    elif step == "days" and (span := parse_span_arg(arg)) is not None:
        ff["days"] = list(span)
    elif step == "land" and (arg in LAND_CODES or arg == NO_LAND):
        ff["land"] = arg if arg in LAND_CODES else None
    else:
        return False
    return True


async def _next(update: Update, context: Context, ff: dict[str, Any], step: str) -> str:
    steps = _steps(context, ff)
    if step == "land":
        land = ff.get("land")
        user = update.effective_user
        if land in LAND_CODES and user is not None:
            await context.bot_data.db.set_user_land(user.id, land, context.bot_data.clock.now())
        return await _result(update, context, ff)
    return await _go(update, context, ff, steps[steps.index(step) + 1])


async def on_press(update: Update, context: Context) -> str | int | None:
    """A button of the dialogue: an answer for the current step, back, or restart."""
    parsed = await guided.step_press(update, context, FOERDERFINDER, "foerderfinder.stale_step")
    if parsed is None:
        return None
    ff = _dialogue(context)
    if parsed.action == "restart":
        return await start(update, context)
    if parsed.action == HOME:
        return await leave_to_menu(update, context)
    if parsed.action == MENU_BELOW:
        await menu_below(update, context)
        return None
    if ff is None:
        return await _restart_politely(update, context)
    step = str(ff["step"])
    steps = _steps(context, ff)
    if parsed.action == "back":
        await answer(update.callback_query)
        if step == RESULT:
            return await _go(update, context, ff, "land")
        if step in steps and steps.index(step) > 0:
            return await _go(update, context, ff, steps[steps.index(step) - 1])
        return await _go(update, context, ff, steps[0])
    if step not in ACTION or ACTION[step] != parsed.action or not _accept(context, ff, step, parsed.arg):
        # A button of an earlier step or message: nothing changes; show where the dialogue stands.
        await answer(update.callback_query, context.bot_data.texts("foerderfinder.stale_step"))
        if step == RESULT:
            return None
        text, markup = _step_view(context, ff, step)
        await send_html(update, context, text, markup)
        return None
    await answer(update.callback_query)
    return await _next(update, context, ff, step)


async def on_text(update: Update, context: Context) -> str | None:
    """Typed ages ("14-17") or duration ("10", "3 Monate") at those steps."""
    ff = _dialogue(context)
    typed = await guided.typed_text(update, context, ff, "foerderfinder.interrupted")
    if ff is None or typed is None:
        return await start(update, context)
    step = str(ff["step"])
    if step == "ages" and (ages := parse_ages(typed)) is not None:
        ff["ages"] = list(ages)
        return await _next(update, context, ff, step)
    if step == "days" and (days := parse_days(typed)) is not None:
        ff["days"] = list(days)
        return await _next(update, context, ff, step)
    if step not in ("ages", "days"):
        return None
    text, markup = _step_view(context, ff, step)
    await send_html(
        update, context, context.bot_data.texts(f"foerderfinder.bad.{step}") + "\n\n" + text, markup
    )
    return None


# A funding-finder button while no funding finder runs: say so and offer a fresh start.
ended_press = guided.tool_ended(
    "foerderfinder.ended_toast",
    "foerderfinder.ended",
    FOERDERFINDER,
    "restart",
    "foerderfinder.buttons.restart",
)


def entry_points() -> list[BaseHandler[Update, Context, Any]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("foerderfinder", start, filters=private),
        CommandHandler("start", start, filters=private & filters.Regex(r"^/start foerderfinder\s*$")),
        CallbackQueryHandler(start, pattern=MENU.pattern("foerderfinder")),
        CallbackQueryHandler(start, pattern=FOERDERFINDER.pattern("restart")),
    ]


def typed_answer(bot_data: BotData, ff: dict[str, Any], text: str) -> tuple[str, str] | None:
    """Typed text that names a button of the current button step ("Polen", "Jugendbegegnung", "NRW")."""
    content = bot_data.content
    data = content.tools.programmes
    step = ff.get("step")
    options: dict[str, list[str]]
    if step == "country":
        options = {c.id: [c.label, *c.aliases] for c in data.countries}
    elif step == "format":
        options = {f.id: [f.label, *f.aliases] for f in data.formats}
    elif step == "land":
        no_land = [bot_data.texts("foerderfinder.buttons.no_land"), *NO_LAND_WORDS]
        options = {**land_options(content), NO_LAND: no_land}
    else:
        return None
    arg = match_typed(text, options)
    return (ACTION[str(step)], arg) if arg is not None else None


async def on_typed_answer(update: Update, context: Context) -> str | None:
    """A button's answer typed at a button step (the filter made sure it names one)."""
    ff = _dialogue(context)
    found = guided.typed_choice(update, context, ff, typed_answer)
    if ff is None or found is None or not _accept(context, ff, str(ff["step"]), found[1]):
        return None
    return await _next(update, context, ff, str(ff["step"]))


def states(app: App) -> dict[object, list[BaseHandler[Update, Context, Any]]]:
    press, typed, choice = guided.step_handlers(
        app, FF_KEY, FOERDERFINDER, on_press, on_text, typed_answer, on_typed_answer
    )
    return {
        STATE[step]: [press, typed] if step in ("ages", "days") else [press, choice]
        for step in (*STEPS, RESULT)
    }


def fallbacks() -> list[BaseHandler[Update, Context, Any]]:
    """Funding-finder buttons while the other guided tool runs."""
    return [CallbackQueryHandler(ended_press, pattern=FOERDERFINDER.pattern())]


def register_outside(app: App) -> None:
    app.add_handler(CallbackQueryHandler(ended_press, pattern=FOERDERFINDER.pattern()))
