"""The Förder-Finder dialogue as a user sees it: steps, back, restart, cancel, stale buttons, restarts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.offline import OfflineBotApi, SentMessage
from tests.harness import Harness, harness

USER = 4711


def labels(message: SentMessage) -> list[str]:
    return [b["text"] for b in message.buttons()]


def data_of(message: SentMessage, label_part: str) -> str:
    for button in message.buttons():
        if label_part in button["text"] and "callback_data" in button:
            return str(button["callback_data"])
    raise AssertionError(f"no {label_part!r} in {labels(message)}")


async def walk(h: Harness, user: dict[str, Any], *presses: str) -> SentMessage:
    """Start with /foerderfinder and press buttons by label; return the last message shown."""
    [message] = await h.send(user, "/foerderfinder")
    for label in presses:
        changed = await h.press_label(user, message, label)
        assert changed, f"pressing {label!r} changed nothing"
        message = changed[-1]
    return message


async def test_full_walk_poland_gives_dpjw_first_and_remembers_the_land(bot: Harness) -> None:
    user = bot.user(USER)
    [step] = await bot.send(user, "/foerderfinder")
    assert "Schritt 1 von 5" in step.text and "Polen" in " ".join(labels(step))
    [step] = await bot.press_label(user, step, "Polen")
    assert step.edited and "Schritt 2 von 5" in step.text and "Bisher: 🇵🇱 Polen" in step.text
    [step] = await bot.press_label(user, step, "Jugendbegegnung")
    [step] = await bot.press_label(user, step, "14–17 Jahre")
    assert "Wie lange" in step.text
    [step] = await bot.send(user, "10 Tage")  # typed instead of a button
    assert "Bundesland" in step.text and "Bisher:" in step.text and "10 Tage" in step.text
    sent = await bot.press_label(user, step, "Bayern")
    result, text = sent[-1], "\n".join(m.text for m in sent)  # a long result comes in several messages
    assert text.index("Deutsch-Polnisches Jugendwerk") < text.index("Erasmus+ Jugend")
    assert "Bayerische Jugendring" in text  # the route for a Bavarian Kommune
    urls = [b["url"] for b in result.buttons() if "url" in b]
    assert "https://t.me/ija_lotse_bot?start=thema_foerderung-dpjw" in urls
    assert "https://t.me/ija_lotse_bot?start=thema_foerderung-erasmus-jugend" in urls
    assert any("Zurück" in label for label in labels(result)) and any(
        "Neu starten" in x for x in labels(result)
    )
    stored = await bot.db.get_user(USER)
    assert stored is not None and stored.bundesland == "BY"


async def test_menu_button_and_deep_link_start_it(bot: Harness) -> None:
    user = bot.user(USER)
    sent = await bot.send(user, "/start")
    menu = next(m for m in sent if any(b.get("callback_data") == "menu:foerderfinder" for b in m.buttons()))
    [step] = await bot.press(user, menu, "menu:foerderfinder")
    assert step.message_id == menu.message_id and "Förder-Finder" in step.text
    [step] = await bot.send(user, "/start foerderfinder")
    assert "Schritt 1 von 5" in step.text


async def test_remembered_land_is_offered_first(bot: Harness) -> None:
    await bot.db.set_user_land(USER, "NW", bot.clock.now())
    user = bot.user(USER)
    step = await walk(bot, user, "Frankreich", "Jugendbegegnung", "14–17", "7–12")
    assert labels(step)[0] == "✓ Nordrhein-Westfalen"
    result = (await bot.press(user, step, data_of(step, "✓ Nordrhein")))[-1]
    assert "Kinder- und Jugendförderplan NRW" in result.text  # Land programme from servicepoints.yaml


async def test_specialist_exchange_skips_the_ages(bot: Harness) -> None:
    user = bot.user(USER)
    step = await walk(bot, user, "Polen", "Fachkräfteaustausch")
    assert "Schritt 3 von 4" in step.text and "Wie lange" in step.text


async def test_back_at_every_step_and_from_the_result(bot: Harness) -> None:
    user = bot.user(USER)
    step = await walk(bot, user, "Polen", "Jugendbegegnung", "14–17", "7–12")
    assert "Bundesland" in step.text
    for expected in ("Wie lange", "Wie alt", "Was planen Sie", "Mit welchem Land"):
        [step] = await bot.press_label(user, step, "Zurück")
        assert expected in step.text
    step = await walk(bot, user, "Polen", "Jugendbegegnung", "14–17", "7–12", "Ohne Angabe")
    assert "Ihr Ergebnis" in step.text
    [step] = await bot.press_label(user, step, "Zurück")
    assert "Bundesland" in step.text
    # Changing an earlier answer keeps the later ones: go back to the days and choose longer.
    [step] = await bot.press_label(user, step, "Zurück")
    result = (await bot.press_label(user, step, "22–28"))[-1]
    result = (await bot.press_label(user, result, "Ohne Angabe"))[-1]
    assert "Passt fast" in result.text and "höchstens 21 Tage" in result.text  # Erasmus+


async def test_restart_begins_again(bot: Harness) -> None:
    user = bot.user(USER)
    step = await walk(bot, user, "Polen", "Jugendbegegnung")
    [step] = await bot.press_label(user, step, "Neu starten")
    assert "Schritt 1 von 5" in step.text and "Bisher" not in step.text
    assert bot.app.user_data[USER]["ff"] == {"step": "country", "known_land": None}


async def test_france_25_days_lists_dfjw_as_almost_with_the_reason(bot: Harness) -> None:
    user = bot.user(USER)
    step = await walk(bot, user, "Frankreich", "Jugendbegegnung", "14–17")
    [step] = await bot.send(user, "25")
    result = (await bot.press_label(user, step, "Ohne Angabe"))[-1]
    assert "Kein Programm passt genau" in result.text
    almost = result.text[result.text.index("Passt fast") :]
    assert (
        "Deutsch-Französisches Jugendwerk" in almost and "höchstens 21 Tage, Sie planen bis zu 25" in almost
    )
    assert "ijab.de" in result.text  # nationwide fallback


async def test_russia_shows_the_advice_against_exchanges(bot: Harness) -> None:
    user = bot.user(USER)
    result = await walk(bot, user, "Russland", "Jugendbegegnung", "14–17", "7–12", "Hessen")
    assert "⚠️" in result.text and "abgeraten" in result.text
    assert result.text.index("abgeraten") < result.text.index("kein Förderprogramm empfehlen")
    assert "welche Wege es trotzdem gibt" not in result.text


async def test_israel_leads_to_conact(bot: Harness) -> None:
    result = await walk(bot, bot.user(USER), "Israel", "Jugendbegegnung", "16–20", "7–12", "Sachsen")
    assert "1. ConAct" in result.text


async def test_bad_typed_answers_get_help_and_change_nothing(bot: Harness) -> None:
    user = bot.user(USER)
    await walk(bot, user, "Polen", "Jugendbegegnung")
    [reply] = await bot.send(user, "ganz jung")
    assert "nicht als Alter erkannt" in reply.text and "Wie alt" in reply.text
    assert "ages" not in bot.app.user_data[USER]["ff"]
    [reply] = await bot.send(user, "16")
    [reply] = await bot.send(user, "ewig")
    assert "nicht als Dauer erkannt" in reply.text
    assert bot.app.user_data[USER]["ff"]["ages"] == [16, 16]


async def test_stale_and_forged_buttons_change_nothing(bot: Harness) -> None:
    user = bot.user(USER)
    [first] = await bot.send(user, "/foerderfinder")
    country_button = data_of(first, "Polen")
    step = await walk(bot, user, "Polen", "Jugendbegegnung")
    before = dict(bot.app.user_data[USER]["ff"])
    # A country button while the dialogue asks for ages: polite toast, the current step again.
    sent = await bot.press(user, first, country_button.replace(":pl", ":fr"))
    assert "früheren Schritt" in (bot.last_answer_text() or "")
    assert "Wie alt" in sent[-1].text
    for forged in ("ff:a:99-1", "ff:a:x", "ff:zz", "ff:l:XX", "ff"):
        await bot.press(user, step, forged)
        assert bot.last_answer_text()
    assert bot.app.user_data[USER]["ff"] == before


async def test_cancel_ends_and_old_buttons_then_offer_a_restart(bot: Harness) -> None:
    user = bot.user(USER)
    step = await walk(bot, user, "Polen", "Jugendbegegnung")
    [reply] = await bot.send(user, "/abbrechen")
    assert "Förder-Finder ist beendet" in reply.text
    assert "ff" not in bot.app.user_data[USER]
    # Free text is no longer the dialogue's: it goes to the search.
    assert all("Förder-Finder" not in m.text for m in await bot.send(user, "14-17"))
    sent = await bot.press_label(user, step, "14–17")
    assert "schon beendet" in (bot.last_answer_text() or "")
    [offer] = sent
    [restarted] = await bot.press_label(user, offer, "Neu starten")
    assert "Schritt 1 von 5" in restarted.text
    [reply] = await bot.send(user, "/abbrechen")
    assert "Förder-Finder ist beendet" in reply.text
    [reply] = await bot.send(user, "/abbrechen")  # nothing left to cancel: still an answer, never silence
    assert reply.text


async def test_dialogue_continues_after_a_bot_restart(tmp_path: Path) -> None:
    api = OfflineBotApi(strict=True)
    async with harness(tmp_path, api=api) as h:
        user = h.user(USER)
        step = await walk(h, user, "Polen", "Jugendbegegnung")
    async with harness(tmp_path, api=api) as h:
        [step] = await h.press_label(user, step, "14–17")
        assert "Wie lange" in step.text and "14–17 Jahre" in step.text
        [step] = await h.send(user, "10")
        assert "Bundesland" in step.text
    async with harness(tmp_path, api=api) as h:
        sent = await h.press_label(user, step, "Berlin")
        assert "Deutsch-Polnisches Jugendwerk" in "\n".join(m.text for m in sent)


async def test_lost_answers_restart_politely(tmp_path: Path) -> None:
    api = OfflineBotApi(strict=True)
    async with harness(tmp_path, api=api) as h:
        user = h.user(USER)
        step = await walk(h, user, "Polen", "Jugendbegegnung")
        # The answers vanish while the conversation state survives (e.g. edited by an operator).
        h.app.user_data[USER].pop("ff")
        sent = await h.press_label(user, step, "14–17")
        assert "unterbrochen" in (h.last_answer_text() or "")
        assert "Schritt 1 von 5" in sent[-1].text


async def test_button_steps_leave_free_text_to_the_search(bot: Harness) -> None:
    user = bot.user(USER)
    [step] = await bot.send(user, "/foerderfinder")
    [reply] = await bot.send(user, "Wie finde ich eine Partnerorganisation in Polen?")
    assert "Förder-Finder" not in reply.text  # the search answered
    assert bot.app.user_data[USER]["ff"]["step"] == "country"
    [step] = await bot.press_label(user, step, "Polen")  # the dialogue goes on where it was
    assert "Was planen Sie" in step.text


async def test_result_is_sent_anew_when_the_step_message_cannot_be_edited(bot: Harness) -> None:
    user = bot.user(USER)
    step = await walk(bot, user, "Griechenland", "Jugendbegegnung", "14–17", "7–12")

    def too_old(call):  # type: ignore[no-untyped-def]
        if call.method == "editMessageText":
            return 400, {"error_code": 400, "description": "Bad Request: message can't be edited"}
        return None

    bot.api.fail = too_old
    sent = await bot.press_label(user, step, "Hamburg")
    assert (
        sent
        and not sent[-1].edited
        and "1. Deutsch-Griechisches Jugendwerk" in "\n".join(m.text for m in sent)
    )


async def test_main_menu_under_the_result_keeps_the_result_and_back_still_works(bot: Harness) -> None:
    user = bot.user(USER)
    result = await walk(bot, user, "Polen", "Jugendbegegnung", "14–17", "7–12", "Bayern")
    [menu] = await bot.press_label(user, result, "Hauptmenü")
    assert menu.message_id != result.message_id
    assert bot.api.messages[(result.chat_id, result.message_id)].text == result.text  # the result stays
    [step] = await bot.press_label(user, result, "Zurück")
    assert "Bundesland" in step.text


async def test_main_menu_at_the_first_question_ends_the_dialogue(bot: Harness) -> None:
    user = bot.user(USER)
    [old] = await bot.send(user, "/foerderfinder")
    [step] = await bot.send(user, "/foerderfinder")
    [menu] = await bot.press_label(user, step, "Hauptmenü")
    assert menu.message_id == step.message_id and "ff" not in bot.app.user_data[USER]
    # The button of an older question, pressed after the dialogue ended, just shows the menu too.
    [again] = await bot.press_label(user, old, "Hauptmenü")
    assert again.message_id == old.message_id
    assert any(b.get("callback_data") == "menu:foerderfinder" for b in again.buttons())


async def test_answers_typed_at_button_steps_are_taken(bot: Harness) -> None:
    """Typing what a button says ("Polen", "Begegnung", "NRW") answers the step instead of starting a search."""
    user = bot.user(USER)
    await bot.send(user, "/foerderfinder")
    [step] = await bot.send(user, "Polen")
    assert "Was planen Sie" in step.text and "Bisher: 🇵🇱 Polen" in step.text
    [step] = await bot.send(user, "begegnung")
    assert "Wie alt" in step.text
    await bot.send(user, "14-17")
    [step] = await bot.send(user, "10 Tage")
    # A question at a button step still goes to the search; the dialogue waits where it was.
    replies = await bot.send(user, "Was ist der Unterschied zwischen Zentralstelle und Länderstelle?")
    assert replies and not any(
        str(b.get("callback_data", "")).startswith("ff:") for m in replies for b in m.buttons()
    )
    assert bot.app.user_data[USER]["ff"]["step"] == "land"
    sent = await bot.send(user, "NRW")
    text = "\n".join(m.text for m in sent)
    assert "1. Deutsch-Polnisches Jugendwerk" in text and "Nordrhein-Westfalen" in text
    stored = await bot.db.get_user(USER)
    assert stored is not None and stored.bundesland == "NW"
