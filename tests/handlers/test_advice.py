"""Advice as a user meets it: the topic menu, articles, deep links, free-text answers, ratings, misses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.advice import article_pages, check_question
from bot.content_models.articles import Article
from bot.content_models.base import Source
from bot.offline import SentMessage
from bot.telegram_html import check_telegram_html, html_to_plain, visible_length
from tests.content_cache import cached_content
from tests.handlers.requests_support import data_of
from tests.harness import Harness

USER = 770077


async def test_topic_menu_to_article_and_back(bot: Harness) -> None:
    user = bot.user(USER)
    [root] = await bot.send(user, "/themen")
    assert "Themen" in root.text
    [node] = await bot.press_label(user, root, "Förderung")
    assert node.message_id == root.message_id  # edited in place
    [sub] = await bot.press_label(user, node, "Bilaterale Jugendwerke")
    [article] = await bot.press_label(user, sub, "Deutsch-Polnisches Jugendwerk")
    dpjw = bot.app.bot_data.content.articles["foerderung-dpjw"]
    pages = article_pages(dpjw, bot.app.bot_data.texts)
    assert len(pages) >= 2 and article.text == pages[0] and "DPJW" in article.text
    assert "Quellen" not in article.text
    # The DPJW article is long: sources and the Stand (derived from its facts' check days) come on its last
    # page, reached in place with "Weiter".
    [last] = await bot.press_label(user, article, bot.texts("advice.buttons.next_page"))
    assert last.message_id == article.message_id and last.text == pages[1]
    assert "Quellen" in pages[-1] and f"Stand: {dpjw.shown_stand:%d.%m.%Y}" in pages[-1]
    assert 'href="https://dpjw.org/' in pages[-1]
    [article] = await bot.press_label(user, last, bot.texts("advice.buttons.previous_page"))
    assert article.text == pages[0]
    labels = [b["text"] for b in article.buttons()]
    assert bot.texts("advice.buttons.consultation") in labels
    # Related articles (the first three the article names), each opening in place.
    related = [bot.app.bot_data.content.articles[ref] for ref in dpjw.related[:3]]
    for ref in related:
        assert bot.texts("advice.buttons.related", title=ref.title) in labels
    [other] = await bot.press_label(user, article, related[0].title)
    assert other.message_id == article.message_id and related[0].title in other.text
    [article] = await bot.press_label(user, other, "Zurück")
    [sub] = await bot.press_label(user, article, "Bilaterale Jugendwerke")
    [article] = await bot.press_label(user, sub, "Deutsch-Polnisches Jugendwerk")
    [back] = await bot.press_label(user, article, "Zurück")
    assert "Bilaterale Jugendwerke" in back.text
    [home] = await bot.press_label(user, back, "Hauptmenü")
    assert home.text == bot.texts("start.menu_prompt")


async def test_deep_link_opens_article(bot: Harness) -> None:
    [reply] = await bot.send(bot.user(USER), "/start thema_foerderung-conact")
    assert "ConAct" in reply.text
    [reply] = await bot.send(bot.user(USER), "/start thema_gibtsnicht")
    assert reply.text == bot.texts("advice.article_missing")


async def test_free_text_answer_with_alternatives_and_rating(bot: Harness) -> None:
    user = bot.user(USER)
    [reply] = await bot.send(user, "Zuschuss fuer Austausch mit Polen")
    assert reply.text.startswith("<b>Deutsch-Polnisches Jugendwerk")
    await bot.press(user, reply, "adv:up:foerderung-dpjw")
    assert bot.last_answer_text() == bot.texts("advice.rated_helpful")
    await bot.press(user, reply, "adv:down:foerderung-dpjw")
    assert bot.last_answer_text() == bot.texts("advice.rating_changed")
    rows = await bot.db.fetchall(
        "SELECT user_id, helpful FROM advice_ratings WHERE article_id = 'foerderung-dpjw'"
    )
    assert [(r["user_id"], r["helpful"]) for r in rows] == [(USER, 0)]


async def test_the_same_rating_again_is_not_called_a_change(bot: Harness) -> None:
    user = bot.user(USER)
    [reply] = await bot.send(user, "Zuschuss fuer Austausch mit Polen")
    await bot.press(user, reply, "adv:up:foerderung-dpjw")
    [before] = await bot.db.fetchall("SELECT helpful, rated_at FROM advice_ratings")
    bot.clock.advance(timedelta(minutes=5))
    await bot.press(user, reply, "adv:up:foerderung-dpjw")
    assert bot.last_answer_text() == bot.texts("advice.rating_kept")
    assert [tuple(r) for r in await bot.db.fetchall("SELECT helpful, rated_at FROM advice_ratings")] == [
        tuple(before)
    ]


async def test_miss_is_honest_logged_without_user_and_offers_consultation(bot: Harness) -> None:
    user = bot.user(USER, "Maria")
    [reply] = await bot.send(user, "Wie wird das Wetter morgen in Paris?")
    assert reply.text == bot.texts("advice.no_answer")
    assert bot.texts("advice.buttons.consultation_with_question") in [b["text"] for b in reply.buttons()]
    rows = await bot.db.fetchall("SELECT * FROM advice_misses")
    assert len(rows) == 1 and rows[0]["question"] == "Wie wird das Wetter morgen in Paris?"
    assert str(USER) not in " ".join(str(v) for v in tuple(rows[0]))
    assert bot.app.user_data[USER]["advice_question"] == "Wie wird das Wetter morgen in Paris?"


async def _question_step(bot: Harness, user: dict[str, object], offer: SentMessage) -> SentMessage:
    """Press the consultation offer under an unanswered question and fill the form up to its question."""
    [form] = await bot.press_label(user, offer, bot.texts("advice.buttons.consultation_with_question"))
    [prompt] = await bot.send(user, "Stadt Musterstadt")
    for action, value in (("land", "NI"), ("role", "jugendamt"), ("topic", "foerderung")):
        [prompt] = await bot.press(user, prompt, data_of(prompt, action, value))
    assert form.chat_id == prompt.chat_id
    return prompt


async def test_each_offer_opens_the_form_with_its_own_question(bot: Harness) -> None:
    user = bot.user(USER)
    first, second = "Wie läuft es mit Kindergärten in Sibirien?", "Welche Zelte halten am Nordpol?"
    [offer1] = await bot.send(user, first)
    [offer2] = await bot.send(user, second)
    assert offer1.text == offer2.text == bot.texts("advice.no_answer")
    prompt = await _question_step(bot, user, offer1)
    assert first in prompt.text and second not in prompt.text
    await bot.send(user, "/abbrechen")
    prompt = await _question_step(bot, user, offer2)
    assert second in prompt.text


async def test_an_offer_sent_before_the_token_offers_still_prefills(bot: Harness) -> None:
    """Chats still hold "menu:beratung:frage" buttons from before each offer kept its own question."""
    user = bot.user(USER)
    question = "Wie läuft es mit Kindergärten in Sibirien?"
    [miss] = await bot.send(user, question)
    [form] = await bot.press(user, miss, "menu:beratung:frage")
    [prompt] = await bot.send(user, "Stadt Musterstadt")
    for action, value in (("land", "NI"), ("role", "jugendamt"), ("topic", "foerderung")):
        [prompt] = await bot.press(user, prompt, data_of(prompt, action, value))
    assert question in prompt.text and form.chat_id == prompt.chat_id


async def test_a_long_question_is_taken_over_whole(bot: Harness) -> None:
    user = bot.user(USER)
    question = "Wie planen wir ein Zeltlager am Nordpol? " + "Wir haben viele Fragen zum Ablauf. " * 30
    [offer] = await bot.send(user, question)
    assert offer.text.startswith(bot.texts("advice.long_question"))
    prompt = await _question_step(bot, user, offer)
    assert question.strip() in prompt.text


async def test_a_question_too_short_for_the_form_is_not_promised_to_it(bot: Harness) -> None:
    user = bot.user(USER)
    [offer] = await bot.send(user, "Sibirien?")
    assert offer.text == bot.texts("advice.no_answer_short")
    prompt = await _question_step(bot, user, offer)
    assert "Sibirien" not in prompt.text


async def test_bad_input_always_gets_one_valid_answer(bot: Harness) -> None:
    user = bot.user(USER)
    inputs = [
        "   ",
        "🙂🙂🙂",
        "Polen " * 2000,
        "<b>Polen</b> <script>alert(1)</script> & Co",
        "**Förderung** für _Frankreich_ [link](http://x)",
        "What funding exists for youth exchanges with France?",
        "\u0000\u200b",
    ]
    for text in inputs:
        replies = await bot.send(user, text)
        assert replies, f"no answer to {text[:30]!r}"
        for reply in replies:
            check_telegram_html(reply.text)
            assert visible_length(reply.text) <= 4096
    for no_words in ("🙂🙂🙂", "1", "-1", "2026"):  # a number alone is no question either
        [empty] = await bot.send(user, no_words)
        assert empty.text == bot.texts("advice.empty_question"), no_words


async def test_a_greeting_or_thanks_gets_a_friendly_answer_not_a_miss(bot: Harness) -> None:
    user = bot.user(USER)
    for text, key in [
        ("Hallo!", "advice.smalltalk.greeting"),
        ("Guten Morgen", "advice.smalltalk.greeting"),
        ("moin 👋", "advice.smalltalk.greeting"),
        ("Vielen Dank!", "advice.smalltalk.thanks"),
        ("ok, danke", "advice.smalltalk.thanks"),
    ]:
        [reply] = await bot.send(user, text)
        assert reply.text == bot.texts(key), text
        assert reply.buttons(), text  # the main menu to go on from
    assert await bot.db.recent_misses(10) == []
    # A greeting in front of a real question does not swallow it.
    [answer] = await bot.send(user, "Hallo, wie beantragen wir Geld beim DPJW?")
    assert "Deutsch-Polnisches Jugendwerk" in answer.text


async def test_stale_and_forged_article_buttons_change_nothing(bot: Harness) -> None:
    user = bot.user(USER)
    [root] = await bot.send(user, "/themen")
    before = root.text
    for data in ("adv:art:gibtsnicht", "adv:pg:foerderung-dpjw.99", "adv:node:xyz", "adv:up:nope", "adv:zzz"):
        changed = await bot.press(user, root, data)
        assert changed == [] and root.text == before
        assert bot.last_answer_text() == bot.texts("errors.stale_button")
    assert await bot.db.fetchall("SELECT * FROM advice_ratings") == []


def test_long_articles_are_paged_cleanly() -> None:
    texts = cached_content().texts
    body = "Einleitung.\n\n" + "\n\n".join(
        f"## Abschnitt {i}\n" + ("Satz mit Inhalt. " * 60) for i in range(12)
    )
    article = Article(
        id="lang",
        title="Langer Artikel",
        topic="grundlagen",
        summary="s",
        sources=[Source(title="Q", url="https://example.org")],
        stand=date(2026, 1, 1),
        review=date(2026, 6, 1),
        body=body,
    )
    pages = article_pages(article, texts)
    assert len(pages) > 1
    for page in pages:
        check_telegram_html(page)
        assert visible_length(page) <= 4096
    assert "Quellen" in pages[-1] and "Quellen" not in pages[0]


def test_question_check() -> None:
    assert not check_question("  🙂 ").has_words
    long = check_question("a" * 10_000)
    assert long.truncated and len(long.text) == 500 and len(long.full) == 10_000


# --- precise answers -------------------------------------------------------------------------------------------


def _article_length(bot: Harness, article_id: str) -> int:
    article = bot.app.bot_data.content.articles[article_id]
    return sum(visible_length(page) for page in article_pages(article, bot.app.bot_data.texts))


async def test_a_fact_question_gets_the_section_first_and_short(bot: Harness) -> None:
    user = bot.user(USER)
    [reply] = await bot.send(user, "Welche Versicherungen brauchen wir für die Fahrt?")
    text = html_to_plain(reply.text)
    assert "Haftpflicht" in text and "Auslandskrankenversicherung" in text
    assert "Notfallplan" not in text  # the other sections wait behind the button
    assert visible_length(reply.text) <= _article_length(bot, "recht-sicherheit") / 3 + 200
    assert "Quelle:" in text and "Stand:" in text
    article = bot.app.bot_data.content.articles["recht-sicherheit"]
    labels = [b["text"] for b in reply.buttons()]
    assert bot.texts("advice.buttons.whole_article", title=article.title) in labels
    [whole] = await bot.press_label(
        user, reply, bot.texts("advice.buttons.whole_article", title=article.title)
    )
    assert "Notfallplan" in whole.text


async def test_a_stored_land_is_assumed_and_can_be_changed(bot: Harness) -> None:
    user = bot.user(USER)
    await bot.send(user, "/start")
    await bot.db.set_user_land(USER, "BY", bot.clock.now())
    [reply] = await bot.send(user, "Wer ist für KJP-Anträge zuständig?")
    text = html_to_plain(reply.text)
    assert "Bayerische Jugendring" in text or "BJR" in text
    assert html_to_plain(bot.texts("advice.assumed_land", land="Bayern", other="Hessen")) in text
    [lands] = await bot.press_label(user, reply, bot.texts("advice.buttons.change_land"))
    assert lands.text == bot.texts("subscriptions.land_prompt")


async def test_follow_ups_within_minutes_then_fresh(bot: Harness) -> None:
    user = bot.user(USER)
    [first] = await bot.send(user, "Wer ist in Bayern für KJP-Anträge von Kommunen zuständig?")
    assert "Bayern" in html_to_plain(first.text)
    bot.clock.advance(timedelta(minutes=2))
    [second] = await bot.send(user, "und in Brandenburg?")
    body = bot.texts("advice.answer.body_title_land", programme="x", land="y").split("x")[0]
    assert html_to_plain(second.text).startswith(html_to_plain(body)) and "Brandenburg" in second.text
    assert "MBJS" in second.text
    bot.clock.advance(timedelta(minutes=30))
    [late] = await bot.send(user, "und in Brandenburg?")
    assert not html_to_plain(late.text).startswith(html_to_plain(body))  # the context has expired


async def test_erasure_forgets_the_follow_up_context(bot: Harness) -> None:
    user = bot.user(USER)
    await bot.send(user, "Wer ist in Bayern für KJP-Anträge von Kommunen zuständig?")
    followups = bot.app.bot_data.followups
    assert USER in followups
    [confirm] = await bot.send(user, "/loeschen")
    await bot.press_label(user, confirm, bot.texts("privacy.buttons.confirm"))
    assert USER not in followups


async def test_an_inexact_answer_says_so_and_offers_the_question_to_the_team(bot: Harness) -> None:
    user = bot.user(USER)
    question = "Wie hoch ist der Tagessatz bei der Stiftung Juve?"
    [reply] = await bot.send(user, question)
    if "Fördersätze" in reply.text:
        pytest.skip("programmes.yaml now holds the rates of the Stiftung Juve")
    assert reply.text.startswith(bot.texts("advice.nearby")) or reply.text == bot.texts("advice.no_answer")
    assert bot.texts("advice.buttons.consultation_with_question") in [b["text"] for b in reply.buttons()]
    assert bot.app.user_data[USER]["advice_question"] == question
