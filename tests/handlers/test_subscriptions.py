"""/abo, the one-time offer after /start, Bundesland and topics, and "Abbestellen" — as a user sees them."""

from __future__ import annotations

from bot.offline import SentMessage
from tests.harness import Harness

USER = 201


def labels(message: SentMessage) -> list[str]:
    return [b["text"] for b in message.buttons()]


async def test_new_user_is_offered_subscriptions_once_nothing_preselected(bot: Harness) -> None:
    user = bot.user(USER)
    welcome, offer = await bot.send(user, "/start")
    assert "Willkommen" in welcome.text
    assert offer.text.startswith(bot.texts("subscriptions.offer"))
    kinds = [label for label in labels(offer) if label[0] in "✅⬜"]
    assert len(kinds) == 3 and all(label.startswith("⬜") for label in kinds)
    assert await bot.db.subscribers("announcements") == []
    # The second /start only greets.
    [again] = await bot.send(user, "/start")
    assert "Willkommen" in again.text


async def test_switching_a_subscription_on_and_off(bot: Harness) -> None:
    user = bot.user(USER)
    [overview] = await bot.send(user, "/abo")
    [edited] = await bot.press_label(user, overview, "Ankündigungen")
    assert edited.message_id == overview.message_id
    assert "✅ Ankündigungen / Infobrief" in labels(edited)
    assert await bot.db.subscribers("announcements") == [USER]
    assert bot.last_answer_text() == bot.texts("subscriptions.saved")
    [edited] = await bot.press_label(user, edited, "Förderfristen")
    assert await bot.db.subscribers("deadline_reminders") == [USER]
    [edited] = await bot.press_label(user, edited, "✅ Ankündigungen")
    assert await bot.db.subscribers("announcements") == []
    assert await bot.db.subscribers("deadline_reminders") == [USER]
    [edited] = await bot.press_label(user, edited, "Alles abbestellen")
    assert await bot.db.subscribers("deadline_reminders") == []
    assert all(label.startswith("⬜") for label in labels(edited) if label[0] in "✅⬜")


async def test_main_menu_button_opens_the_overview(bot: Harness) -> None:
    user = bot.user(USER)
    menu, *_ = await bot.send(user, "/start")
    [overview] = await bot.press(user, menu, "menu:abo")
    assert overview.message_id == menu.message_id
    assert "Ihre Abos" in overview.text


async def test_bundesland_and_topics(bot: Harness) -> None:
    user = bot.user(USER)
    [overview] = await bot.send(user, "/abo")
    assert "Bundesland: keine Angabe" in overview.text and "Themen: alle Themen" in overview.text
    [lands] = await bot.press_label(user, overview, "Bundesland")
    assert len([b for b in lands.buttons() if b["callback_data"].startswith("abo:land:")]) == 17
    [back] = await bot.press_label(user, lands, "Sachsen-Anhalt")
    stored = await bot.db.get_user(USER)
    assert stored is not None and stored.bundesland == "ST"
    assert "Bundesland: Sachsen-Anhalt" in back.text
    [topics] = await bot.press_label(user, back, "Themen")
    [topics] = await bot.press_label(user, topics, "Förderung")
    assert "✅ Förderung" in labels(topics)
    [topics] = await bot.press_label(user, topics, "Grundlagen")
    sub = await bot.db.subscription(USER)
    assert sub is not None and sub.topics == {"foerderung", "grundlagen"}
    [topics] = await bot.press_label(user, topics, "✅ Grundlagen")
    [overview] = await bot.press_label(user, topics, "Zurück")
    assert "Themen: Förderung" in overview.text


async def test_forged_subscription_buttons_change_nothing(bot: Harness) -> None:
    user = bot.user(USER)
    [overview] = await bot.send(user, "/abo")
    for data in ("abo:on:spam", "abo:land:XX", "abo:ton:gibtsnicht", "abo:zzz", "abo:on:announcements;drop"):
        await bot.press(user, overview, data)
        assert bot.last_answer_text() is not None
    sub = await bot.db.subscription(USER)
    assert sub is None or (not sub.announcements and not sub.topics)
    stored = await bot.db.get_user(USER)
    assert stored is not None and stored.bundesland is None


async def test_unsubscribe_button_works_with_one_tap_and_confirms(bot: Harness) -> None:
    user = bot.user(USER)
    await bot.db.set_subscription(USER, "announcements", True, bot.clock.now())
    await bot.db.set_subscription(USER, "event_reminders", True, bot.clock.now())
    # An announcement as delivered by the outbox carries the "Abbestellen" button.
    message = bot.api._store(
        USER,
        "📣 Infobrief",
        {"inline_keyboard": [[{"text": "🔕 Abbestellen", "callback_data": "abo:stop"}]]},
        None,
    )
    [confirmation] = await bot.press(user, message, "abo:stop")
    assert confirmation.text == bot.texts("subscriptions.stopped")
    assert bot.last_answer_text() == bot.texts("subscriptions.stopped_toast")
    assert await bot.db.subscribers("announcements") == []
    assert await bot.db.subscribers("event_reminders") == [USER]  # the other subscription stays
    [overview] = await bot.press_label(user, confirmation, "Wieder abonnieren")
    assert await bot.db.subscribers("announcements") == [USER]
    assert "✅ Ankündigungen / Infobrief" in labels(overview)
