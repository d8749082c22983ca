"""Dialogue data from before a content change (a question or a format option gone): a polite restart."""

from __future__ import annotations

from tests.harness import Harness

USER = 6160


async def test_standort_index_beyond_the_questions_restarts_politely(bot: Harness) -> None:
    user = bot.user(USER)
    [step] = await bot.send(user, "/standort")
    [step] = await bot.send(user, "Musterstadt")
    [step] = await bot.press_label(user, step, "Stadt")
    [step] = await bot.press_label(user, step, "Bayern")
    # Content lost questions since (an editor shortened standort.yaml): the stored index points past them.
    bot.app.user_data[USER]["st"]["index"] = 20
    [reply] = await bot.send(user, "/standort")
    assert "Wie heißt Ihre Kommune" in reply.text
    bot.app.user_data[USER]["st"].update(step="question", index=20)
    sent = await bot.press(user, step, "st:a:allies.yes")
    assert "unterbrochen" in (bot.last_answer_text() or "")
    assert "Wie heißt Ihre Kommune" in sent[-1].text
    bot.app.user_data[USER]["st"].update(step="question", index=20)
    await bot.press(user, step, "st:back")
    assert "unterbrochen" in (bot.last_answer_text() or "")
    assert bot.app.user_data[USER]["st"]["step"] == "name"


async def test_foerderfinder_step_no_longer_asked_restarts_politely(bot: Harness) -> None:
    user = bot.user(USER)
    [step] = await bot.send(user, "/foerderfinder")
    [step] = await bot.press_label(user, step, "Polen")
    [step] = await bot.press_label(user, step, "Fachkräfteaustausch")
    # The stored step is one the chosen format does not ask (e.g. after a content change).
    bot.app.user_data[USER]["ff"]["step"] = "ages"
    sent = await bot.press(user, step, "ff:a:14-17")
    assert "unterbrochen" in (bot.last_answer_text() or "")
    assert "Schritt 1 von" in sent[-1].text
