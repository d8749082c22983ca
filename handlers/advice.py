"""Advice: the topic menu (edited in place), articles, deep links to articles, free-text answers and ratings."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.advice import answer_text, article_pages, check_question, looks_english, small_talk
from bot.answers import Answer
from bot.content import Content
from bot.content_models.articles import Article
from bot.context import App, BotData, Context
from bot.db import Rating
from bot.keyboards import ADVICE, MENU, SUBSCRIPTIONS
from bot.misses import log_miss
from bot.requests import QUESTION_MIN
from bot.texts import Texts
from handlers.common import answer, home_button, main_menu, parse_press, send_html, show
from handlers.requests import request_offer_button

# user_data key of the last question the search could not answer. The requests feature still reads it for the
# "menu:beratung:frage" buttons already sent; new offers carry their own question (request_offer_button).
PENDING_QUESTION = "advice_question"


def _offer(context: Context, question: str) -> InlineKeyboardButton:
    """The request form with the question pre-filled (the form keeps it under a token, so an older offer
    still opens the form with its own question)."""
    label = context.bot_data.texts("advice.buttons.consultation_with_question")
    return request_offer_button(context, question, label)


def _consultation_button(texts: Texts) -> InlineKeyboardButton:
    return MENU.button(texts("advice.buttons.consultation"), "beratung")


def _root_view(content: Content) -> tuple[str, InlineKeyboardMarkup]:
    texts = content.texts
    rows = [[ADVICE.button(node.title, "node", node.id)] for node in content.menu_children(None)]
    rows.append([home_button(texts)])
    return texts("advice.root"), InlineKeyboardMarkup(rows)


def _node_view(content: Content, node_id: str) -> tuple[str, InlineKeyboardMarkup]:
    texts = content.texts
    node = content.menu[node_id]
    rows = [
        [ADVICE.button(f"📂 {child.title}", "node", child.id)] for child in content.menu_children(node_id)
    ]
    rows += [[ADVICE.button(article.title, "art", article.id)] for article in content.articles_in(node_id)]
    back = (
        ADVICE.button(texts("menu.buttons.back"), "node", node.parent)
        if node.parent
        else ADVICE.button(texts("menu.buttons.back"), "root")
    )
    rows.append([back, home_button(texts)])
    return texts("advice.node", title=node.title), InlineKeyboardMarkup(rows)


def _article_keyboard(content: Content, article: Article, page: int, pages: int) -> InlineKeyboardMarkup:
    texts = content.texts
    rows: list[list[InlineKeyboardButton]] = []
    paging = []
    if page > 0:
        paging.append(ADVICE.button(texts("advice.buttons.previous_page"), "pg", f"{article.id}.{page - 1}"))
    if page < pages - 1:
        paging.append(ADVICE.button(texts("advice.buttons.next_page"), "pg", f"{article.id}.{page + 1}"))
    if paging:
        rows.append(paging)
    for ref in article.related[:3]:
        rows.append(
            [ADVICE.button(texts("advice.buttons.related", title=content.articles[ref].title), "art", ref)]
        )
    rows.append([_consultation_button(texts)])
    rows.append([ADVICE.button(texts("menu.buttons.back"), "node", article.topic), home_button(texts)])
    return InlineKeyboardMarkup(rows)


async def topics(update: Update, context: Context) -> None:
    """/themen and the "Themen" button: the top of the topic tree."""
    await answer(update.callback_query)
    text, markup = _root_view(context.bot_data.content)
    await show(update, context, text, markup)


async def on_press(update: Update, context: Context) -> None:
    """Every button of the topic menu and of answers; unknown ids are stale or forged."""
    press = parse_press(update, ADVICE)
    content = context.bot_data.content
    texts = content.texts
    if press is None:
        await answer(update.callback_query, texts("errors.stale_button"), alert=True)
        return
    if press.action == "root":
        await topics(update, context)
    elif press.action == "node" and press.arg in content.menu:
        await answer(update.callback_query)
        await show(update, context, *_node_view(content, press.arg))
    elif press.action in ("art", "pg"):
        article_id, _, page_text = press.arg.rpartition(".") if press.action == "pg" else (press.arg, "", "0")
        article = content.articles.get(article_id)
        pages = article_pages(article, texts) if article else []
        if article is None or not page_text.isdigit() or int(page_text) >= len(pages):
            await answer(update.callback_query, texts("errors.stale_button"), alert=True)
            return
        await answer(update.callback_query)
        page = int(page_text)
        await show(update, context, pages[page], _article_keyboard(content, article, page, len(pages)))
    elif press.action in ("up", "down") and press.arg in content.articles:
        await _rate(update, context, press.arg, helpful=press.action == "up")
    else:
        await answer(update.callback_query, texts("errors.stale_button"), alert=True)


async def _rate(update: Update, context: Context, article_id: str, *, helpful: bool) -> None:
    user = update.effective_user
    texts = context.bot_data.texts
    if user is None:
        return
    rating = await context.bot_data.db.rate_article(
        user.id, article_id, helpful, context.bot_data.clock.now()
    )
    if rating is Rating.NEW:
        await answer(
            update.callback_query, texts("advice.rated_helpful" if helpful else "advice.rated_unhelpful")
        )
    elif rating is Rating.CHANGED:
        await answer(update.callback_query, texts("advice.rating_changed"))
    else:
        await answer(update.callback_query, texts("advice.rating_kept"))


async def open_article_link(update: Update, context: Context) -> None:
    """Deep link ``/start thema_<id>``: open that article."""
    content = context.bot_data.content
    payload = (context.args or [""])[0]
    article = content.articles.get(payload.removeprefix("thema_"))
    if article is None:
        _text, markup = _root_view(content)
        await send_html(update, context, content.texts("advice.article_missing"), markup)
        return
    pages = article_pages(article, content.texts)
    await send_html(update, context, pages[0], _article_keyboard(content, article, 0, len(pages)))


async def free_text(update: Update, context: Context) -> None:
    """A question typed in the chat: the passage that answers it (for the asker's Land, read in the context of
    the last answer when it is a follow-up), with the whole article and alternatives one tap away; or an
    honest miss with the consultation offer."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    bot_data = context.bot_data
    content = bot_data.content
    texts = content.texts
    question = check_question(message.text)
    if not question.has_words:
        await send_html(update, context, texts("advice.empty_question"))
        return
    if (reply := small_talk(question.text, texts)) is not None:
        await send_html(update, context, texts(reply), main_menu(texts))
        return
    now = bot_data.clock.now()
    chat = update.effective_chat
    chat_id = chat.id if chat is not None else 0
    user = update.effective_user
    profile = await bot_data.db.get_user(user.id) if user is not None else None
    result = bot_data.answers.answer(
        question.text,
        now=now,
        tz=bot_data.settings.tz,
        profile_land=profile.bundesland if profile else None,
        previous=bot_data.followups.recall(chat_id, now),
    )
    note = texts("advice.long_question") + "\n\n" if question.truncated else ""
    if result.passage is not None:
        bot_data.followups.remember(chat_id, result.topic, now)
        if not result.exact:
            await log_miss(
                bot_data.db,
                user.id if user is not None else None,
                question.text,
                result.article_id,
                result.hits[0].score if result.hits else None,
                now,
            )
        offer = None
        if not result.exact and context.user_data is not None:
            context.user_data[PENDING_QUESTION] = question.full
            offer = _offer(context, question.full)
        others = _alternatives(content, result)
        await send_html(
            update,
            context,
            note + answer_text(result, content, alternatives=bool(others)),
            _passage_keyboard(content, result, others, offer),
        )
        return
    bot_data.followups.forget(chat_id)
    hits = result.hits
    await log_miss(
        bot_data.db,
        user.id if user is not None else None,
        question.text,
        hits[0].article_id if hits else None,
        hits[0].score if hits else None,
        now,
    )
    if context.user_data is None:
        return
    context.user_data[PENDING_QUESTION] = question.full
    # this offer keeps its own question, so an older one still opens the form with the right question
    offer = _offer(context, question.full)
    rows = [
        [
            ADVICE.button(
                texts("advice.buttons.maybe", title=content.articles[h.article_id].title), "art", h.article_id
            )
        ]
        for h in hits[:3]
    ]
    rows.append([offer])
    rows.append([ADVICE.button(texts("advice.buttons.topics"), "root"), home_button(texts)])
    if looks_english(question.text):
        text = texts("advice.no_answer_english")
    elif len(question.full) >= QUESTION_MIN:  # the form takes the question over
        text = texts("advice.no_answer")
    else:
        text = texts("advice.no_answer_short")
    await send_html(update, context, note + text, InlineKeyboardMarkup(rows))


def _alternatives(content: Content, result: Answer) -> list[Article]:
    """The did-you-mean buttons: up to two other confidently matching articles."""
    shown = {result.article_id}
    others: list[Article] = []
    for hit in result.hits[:4]:
        if len(others) >= 2:
            break
        if hit.confident and hit.article_id not in shown and hit.article_id in content.articles:
            shown.add(hit.article_id)
            others.append(content.articles[hit.article_id])
    return others


def _passage_keyboard(
    content: Content, result: Answer, others: list[Article], offer: InlineKeyboardButton | None
) -> InlineKeyboardMarkup:
    """Rating, the whole article, did-you-mean, changing the assumed Land, consultation, topics/home."""
    texts = content.texts
    rows: list[list[InlineKeyboardButton]] = []
    article = content.articles.get(result.article_id or "")
    if article is not None:
        rows.append(
            [
                ADVICE.button(texts("advice.buttons.helpful"), "up", article.id),
                ADVICE.button(texts("advice.buttons.unhelpful"), "down", article.id),
            ]
        )
        rows.append(
            [ADVICE.button(texts("advice.buttons.whole_article", title=article.title), "art", article.id)]
        )
    rows += [
        [ADVICE.button(texts("advice.buttons.maybe", title=other.title), "art", other.id)] for other in others
    ]
    if result.assumed_land:
        rows.append([SUBSCRIPTIONS.button(texts("advice.buttons.change_land"), "lands")])
    if offer is not None:
        rows.append([offer])
    else:
        rows.append([_consultation_button(texts)])
    rows.append([ADVICE.button(texts("advice.buttons.topics"), "root"), home_button(texts)])
    return InlineKeyboardMarkup(rows)


async def forget_followup(services: BotData, user_id: int) -> None:
    """/loeschen: the follow-up context of the person's private chat (its id is the user id) goes too."""
    services.followups.forget(user_id)


def register(app: App) -> None:
    private = filters.ChatType.PRIVATE
    app.bot_data.privacy.after_erase(forget_followup)
    app.add_handler(
        CommandHandler("start", open_article_link, filters=private & filters.Regex(r"^/start thema_"))
    )
    app.add_handler(CommandHandler("themen", topics, filters=private))
    app.add_handler(CallbackQueryHandler(topics, pattern=MENU.pattern("themen")))
    app.add_handler(CallbackQueryHandler(on_press, pattern=ADVICE.pattern()))


def register_free_text(app: App) -> None:
    """Registered after every conversation: they own free text while they are active."""
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, free_text))
