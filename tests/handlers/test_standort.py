"""The Standortbestimmung as a user sees it: questions, result, DOCX draft, stored result, update and progress."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from bot.offline import OfflineBotApi, SentMessage
from bot.telegram_html import check_telegram_html
from tests.harness import Harness, harness

USER = 5150
ALL_YES = ["Ja"] * 8


def texts_of(doc_bytes: bytes) -> str:
    doc = Document(io.BytesIO(doc_bytes))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


async def answer_all(
    h: Harness, user: dict[str, Any], step: SentMessage, answers: list[str]
) -> list[SentMessage]:
    sent: list[SentMessage] = []
    for label in answers:
        sent = await h.press_label(user, step, label)
        step = sent[0] if sent and "Frage" in sent[0].text else sent[-1]
    return sent


async def to_questions(
    h: Harness, user: dict[str, Any], name: str = "Musterstadt", land: str = "Nordrhein"
) -> SentMessage:
    [step] = await h.send(user, "/standort")
    assert "Wie heißt Ihre Kommune" in step.text
    [step] = await h.send(user, name)
    [step] = await h.press_label(user, step, "Stadt")
    [step] = await h.press_label(user, step, land)
    assert "Frage 1 von 8" in step.text
    return step


async def test_full_self_check_stores_result_and_sends_the_docx(bot: Harness) -> None:
    user = bot.user(USER)
    step = await to_questions(bot, user, name="Bad Münster & Umland")
    sent = await answer_all(
        bot, user, step, ["Ja", "Teilweise", "Nein", "Nein", "Nein", "Ja", "Nein", "Nein"]
    )
    result = next(m for m in sent if "Ihre Stufe" in m.text)
    assert "Bad Münster &amp; Umland" in result.text  # escaped
    assert "Ihre Stufe: 2 von 5" in result.text
    assert "Ihre nächsten Schritte" in result.text
    assert "thema_bestandsaufnahme" in result.text and "thema_entwicklungsplan" in result.text
    assert "servicestelle-ija-nrw.de" in result.text  # contacts for NRW
    urls = [b["url"] for b in result.buttons() if "url" in b]
    assert len(urls) == 3 and all(u.startswith("https://t.me/ija_lotse_bot?start=thema_") for u in urls)
    [document] = [m for m in sent if m.document is not None]
    name, data = document.document  # type: ignore[misc]
    assert name == "Entwicklungsplan_IJA_Bad_Muenster_Umland.docx"
    text = texts_of(data)
    assert "Bad Münster & Umland" in text
    for section in ("Bestandsaufnahme", "Bedarfsanalyse", "Ziele", "Maßnahmen", "Zeitplan", "Evaluation"):
        assert section in text
    [row] = await bot.db.standort_results(USER, 5)
    assert (row.kommune, row.kommune_type, row.bundesland, row.stage, row.score) == (
        "Bad Münster & Umland",
        "stadt",
        "NW",
        2,
        5,
    )
    assert row.answers["overview"] == "no"
    stored = await bot.db.get_user(USER)
    assert stored is not None and stored.bundesland == "NW"
    assert "st" not in bot.app.user_data.get(USER, {})


async def test_invalid_names_get_a_clear_answer_and_change_nothing(bot: Harness) -> None:
    user = bot.user(USER)
    await bot.send(user, "/standort")
    for bad, expected in (
        ("X", "zu kurz"),
        ("https://example.org", "ohne Links"),
        ("<script>", "Zeichen"),
        ("Wie beantrage ich Geld?", "Zeichen"),
    ):
        [reply] = await bot.send(user, bad)
        assert expected in reply.text and "Wie heißt Ihre Kommune" in reply.text
        assert "name" not in bot.app.user_data[USER]["st"]


async def test_back_and_restart_in_the_questions(bot: Harness) -> None:
    user = bot.user(USER)
    step = await to_questions(bot, user)
    [step] = await bot.press_label(user, step, "Ja")
    assert "Frage 2 von 8" in step.text
    [step] = await bot.press_label(user, step, "Zurück")
    assert "Frage 1 von 8" in step.text
    [step] = await bot.press_label(user, step, "Zurück")
    assert "Bundesland" in step.text
    [step] = await bot.press_label(user, step, "Zurück")
    assert "Stadt, ein Landkreis" in step.text
    [step] = await bot.press_label(user, step, "Neu starten")
    assert "Wie heißt Ihre Kommune" in step.text and "Schritt 1 von 11" in step.text


async def test_stale_answer_button_changes_nothing(bot: Harness) -> None:
    user = bot.user(USER)
    first = await to_questions(bot, user)
    stale = next(str(b["callback_data"]) for b in first.buttons() if "Nein" in b["text"])
    [step] = await bot.press_label(user, first, "Ja")
    answers_before = dict(bot.app.user_data[USER]["st"]["answers"])
    sent = await bot.press(user, step, stale)  # "Nein" for question 1 while question 2 is asked
    assert "früheren Schritt" in (bot.last_answer_text() or "")
    assert "Frage 2 von 8" in sent[-1].text
    for forged in ("st:a:network.maybe", "st:a:nix.yes", "st:t:dorf", "st:l:XX", "st:keep"):
        await bot.press(user, step, forged)
        assert bot.last_answer_text()
    assert bot.app.user_data[USER]["st"]["answers"] == answers_before


async def test_second_run_shows_the_last_result_and_progress_since(bot: Harness) -> None:
    user = bot.user(USER)
    step = await to_questions(bot, user)
    await answer_all(bot, user, step, ["Ja", "Ja", "Nein", "Nein", "Nein", "Nein", "Nein", "Nein"])
    bot.clock.advance(timedelta(days=90))
    [summary] = await bot.send(user, "/standort")
    assert "Ihre letzte Standortbestimmung vom 24.11.2026" in summary.text
    assert "Stufe 2 von 5" in summary.text
    # The draft can be sent again.
    sent = await bot.press_label(user, summary, "Entwurf erneut senden")
    [document] = [m for m in sent if m.document is not None]
    assert "Musterstadt" in texts_of(document.document[1])  # type: ignore[index]
    [step] = await bot.press_label(user, summary, "aktualisieren")
    assert labels_contain(step, "✓ Musterstadt")
    [step] = await bot.press_label(user, step, "✓ Musterstadt")
    [step] = await bot.press_label(user, step, "Stadt")
    assert labels_contain(step, "✓ Nordrhein-Westfalen")
    [step] = await bot.press_label(user, step, "✓ Nordrhein-Westfalen")
    assert "Letztes Mal: ja" in step.text
    sent = await answer_all(bot, user, step, ["Ja", "Ja", "Ja", "Teilweise", "Nein", "Nein", "Nein", "Nein"])
    result = next(m for m in sent if "Ihre Stufe" in m.text)
    assert "Fortschritt seit 24.11.2026" in result.text
    assert "Stufe 2 → 3" in result.text
    assert "✅ Überblick über Angebote: nein → ja" in result.text
    assert len(await bot.db.standort_results(USER, 5)) == 2


def labels_contain(message: SentMessage, label: str) -> bool:
    return any(label in b["text"] for b in message.buttons())


async def test_only_the_last_five_results_are_kept(bot: Harness) -> None:
    for _ in range(7):
        await bot.db.save_standort_result(
            USER,
            bot.clock.now(),
            kommune="A",
            kommune_type="stadt",
            bundesland="BE",
            answers={},
            stage=1,
            score=0,
        )
    await bot.db.save_standort_result(
        USER + 1,
        bot.clock.now(),
        kommune="B",
        kommune_type="stadt",
        bundesland="BE",
        answers={},
        stage=1,
        score=0,
    )
    assert len(await bot.db.standort_results(USER, 10)) == 5
    assert len(await bot.db.standort_results(USER + 1, 10)) == 1


async def test_standort_continues_an_unfinished_check(bot: Harness) -> None:
    user = bot.user(USER)
    step = await to_questions(bot, user)
    await bot.press_label(user, step, "Ja")
    [reply] = await bot.send(user, "/standort")
    assert "mitten in der Standortbestimmung" in reply.text and "Frage 2 von 8" in reply.text


async def test_cancel_keeps_the_stored_result(bot: Harness) -> None:
    user = bot.user(USER)
    step = await to_questions(bot, user)
    await answer_all(bot, user, step, ALL_YES)
    [summary] = await bot.send(user, "/standort")
    [step] = await bot.press_label(user, summary, "aktualisieren")
    [reply] = await bot.send(user, "/abbrechen")
    assert "Standortbestimmung ist beendet" in reply.text
    assert len(await bot.db.standort_results(USER, 5)) == 1
    sent = await bot.press_label(user, step, "✓ Musterstadt")
    assert "abgeschlossen" in (bot.last_answer_text() or "")
    assert labels_contain(sent[-1], "aktualisieren")


async def test_switching_tools_ends_the_other(bot: Harness) -> None:
    user = bot.user(USER)
    [ff_step] = await bot.send(user, "/foerderfinder")
    [st_step] = await bot.send(user, "/standort")
    assert "ff" not in bot.app.user_data[USER]
    await bot.press_label(user, ff_step, "Polen")
    assert "schon beendet" in (bot.last_answer_text() or "")
    assert bot.app.user_data[USER]["st"]["step"] == "name"
    [step] = await bot.send(user, "Musterdorf")  # free text still goes to the Standortbestimmung
    assert "Musterdorf" in step.text
    assert st_step.text


async def test_self_check_continues_after_a_bot_restart(tmp_path: Path) -> None:
    api = OfflineBotApi(strict=True)
    async with harness(tmp_path, api=api) as h:
        user = h.user(USER)
        [step] = await h.send(user, "/standort")
    async with harness(tmp_path, api=api) as h:
        [step] = await h.send(user, "Neustadt")  # the name step survived the restart
        assert "Neustadt" in step.text
        [step] = await h.press_label(user, step, "Gemeinde")
        [step] = await h.press_label(user, step, "Thüringen")
        [step] = await h.press_label(user, step, "Ja")
    async with harness(tmp_path, api=api) as h:
        sent = await answer_all(h, user, step, ["Ja"] * 7)
        assert any("Ihre Stufe" in m.text for m in sent)
        assert any(m.document is not None for m in sent)
        [row] = await h.db.standort_results(USER, 5)
        assert row.kommune == "Neustadt" and row.bundesland == "TH"


async def test_a_second_kommune_gets_no_progress_against_the_first(bot: Harness) -> None:
    """Someone checking two Kommunen: the second run neither shows the first one's answers as "Letztes Mal"
    nor "progress" between two different Kommunen; the same Kommune typed differently still compares."""
    user = bot.user(USER)
    step = await to_questions(bot, user, name="Musterstadt")
    await answer_all(bot, user, step, ALL_YES)
    [summary] = await bot.send(user, "/standort")
    assert "Stufe 5 von 5 – Verankert" in summary.text  # one dash, not "Stufe 5 von 5: Verankert: …"
    [step] = await bot.press_label(user, summary, "aktualisieren")
    [step] = await bot.send(user, "Nachbardorf")
    [step] = await bot.press_label(user, step, "Gemeinde")
    [step] = await bot.press_label(user, step, "Nordrhein")
    assert "Frage 1 von 8" in step.text and "Letztes Mal" not in step.text
    sent = await answer_all(bot, user, step, ["Nein"] * 8)
    result = next(m for m in sent if "Ihre Stufe" in m.text)
    assert "Gemeinde Nachbardorf" in result.text and "Fortschritt" not in result.text
    # The same Kommune typed differently ("Gemeinde nachbardorf"): hints and progress are back.
    [summary] = await bot.send(user, "/standort")
    [step] = await bot.press_label(user, summary, "aktualisieren")
    [step] = await bot.send(user, "Gemeinde nachbardorf")
    [step] = await bot.press_label(user, step, "Gemeinde")
    [step] = await bot.press_label(user, step, "Nordrhein")
    assert "Letztes Mal: nein" in step.text
    sent = await answer_all(bot, user, step, ["Ja"] + ["Nein"] * 7)
    result = next(m for m in sent if "Ihre Stufe" in m.text)
    assert "Fortschritt seit 24.11.2026" in result.text and "✅ Mitstreiter: nein → ja" in result.text
    assert "Gemeinde nachbardorf (Nordrhein-Westfalen)" in result.text


async def test_a_landkreis_typed_with_its_type_is_named_once(bot: Harness) -> None:
    user = bot.user(USER)
    [step] = await bot.send(user, "/standort")
    [step] = await bot.send(user, "Landkreis Musterland")
    [step] = await bot.press_label(user, step, "Landkreis")
    [step] = await bot.press_label(user, step, "Bayern")
    sent = await answer_all(bot, user, step, ALL_YES)
    result = next(m for m in sent if "Ihre Stufe" in m.text)
    assert "Landkreis Musterland (Bayern)" in result.text and "Landkreis Landkreis" not in result.text
    [document] = [m for m in sent if m.document is not None]
    assert "Landkreis Landkreis" not in texts_of(document.document[1])  # type: ignore[index]


async def test_main_menu_at_the_name_question_ends_the_dialogue(bot: Harness) -> None:
    """Pressing "Hauptmenü" at the name question and then asking something must not make the question the
    Kommune's name (before, the dialogue kept owning free text and answered "Der Name enthält Zeichen …")."""
    user = bot.user(USER)
    [step] = await bot.send(user, "/standort")
    [menu] = await bot.press_label(user, step, "Hauptmenü")
    assert menu.message_id == step.message_id and any(
        b.get("callback_data") == "menu:foerderfinder" for b in menu.buttons()
    )
    assert "st" not in bot.app.user_data[USER]
    sent = await bot.send(user, "Wie finde ich eine Partnerorganisation in Polen?")
    assert sent and all("Wie heißt Ihre Kommune" not in m.text and "Der Name" not in m.text for m in sent)
    assert "Partnerorganisation im Ausland finden" in sent[0].text  # the search answered
    assert await bot.db.standort_results(USER, 5) == []


async def test_main_menu_under_the_result_keeps_the_result(bot: Harness) -> None:
    user = bot.user(USER)
    step = await to_questions(bot, user)
    sent = await answer_all(bot, user, step, ALL_YES)
    result = next(m for m in sent if "Ihre Stufe" in m.text)
    [menu] = await bot.press_label(user, result, "Hauptmenü")
    assert menu.message_id != result.message_id  # a new message below
    assert "Ihre Stufe" in bot.api.messages[(result.chat_id, result.message_id)].text


async def test_answers_typed_at_button_steps_are_taken(bot: Harness) -> None:
    """Typing "Stadt", "nrw", "ja", "teilweise", "nein" answers the steps instead of starting a search."""
    user = bot.user(USER)
    [step] = await bot.send(user, "/standort")
    [step] = await bot.send(user, "Musterstadt")
    [step] = await bot.send(user, "stadt")
    assert "Bundesland" in step.text
    [step] = await bot.send(user, "nrw")
    assert "Frage 1 von 8" in step.text
    for typed in ("ja", "Ja.", "teilweise", "nein", "n", "teils", "j", "noch nicht"):
        sent = await bot.send(user, typed)
    result = next(m for m in sent if "Ihre Stufe" in m.text)
    assert "Stadt Musterstadt (Nordrhein-Westfalen)" in result.text
    assert any(m.document is not None for m in sent)
    [row] = await bot.db.standort_results(USER, 5)
    assert [
        row.answers[q]
        for q in ("allies", "network", "overview", "plan", "jha", "contact", "staff", "evaluation")
    ] == ["yes", "yes", "partly", "no", "no", "partly", "yes", "no"]


async def test_a_question_at_a_button_step_still_reaches_the_search(bot: Harness) -> None:
    user = bot.user(USER)
    step = await to_questions(bot, user)
    [reply] = await bot.send(user, "Wie finde ich eine Partnerorganisation in Polen?")
    assert "Partnerorganisation im Ausland finden" in reply.text
    assert bot.app.user_data[USER]["st"]["answers"] == {}
    [step] = await bot.press_label(user, step, "Ja")
    assert "Frage 2 von 8" in step.text


async def test_names_with_quotes_and_ampersands_are_safe_everywhere(bot: Harness) -> None:
    """Quotes, an ampersand and an apostrophe travel through the questions, the result, the buttons, the
    stored row, the DOCX, its file name and caption; the HTML stays valid; emoji and tags are refused."""
    user = bot.user(USER)
    await bot.send(user, "/standort")
    for bad in ("Musterstadt 🏰", "<b>Musterstadt</b>", "Muster&amp;stadt;"):
        [reply] = await bot.send(user, bad)
        assert "Zeichen" in reply.text and "name" not in bot.app.user_data[USER]["st"]
    name = 'St. Peter-Ording & „Umland“ "Süd" \'s'
    [step] = await bot.send(user, f"„{name}“")  # wrapping quotes are dropped
    assert "Ist St. Peter-Ording &amp; „Umland“ &quot;Süd&quot; &#x27;s eine Stadt" in step.text
    [step] = await bot.press_label(user, step, "Gemeinde")
    [step] = await bot.press_label(user, step, "Schleswig")
    sent = await answer_all(bot, user, step, ALL_YES)
    for message in bot.api.sent_to(USER):
        check_telegram_html(message.text)
    [document] = [m for m in sent if m.document is not None]
    filename, data = document.document  # type: ignore[misc]
    assert filename == "Entwicklungsplan_IJA_St_Peter_Ording_Umland_Sued_s.docx"
    assert f"Gemeinde {name} · Schleswig-Holstein" in texts_of(data)
    assert name.replace("&", "&amp;").replace('"', "&quot;").replace("'", "&#x27;") in document.text
    [row] = await bot.db.standort_results(USER, 1)
    assert row.kommune == name
    [summary] = await bot.send(user, "/standort")
    [step] = await bot.press_label(user, summary, "aktualisieren")
    assert labels_contain(step, f"✓ {name}")  # a button label: plain text, not escaped


async def test_the_docx_is_built_off_the_event_loop(bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan takes CPU time: built in a worker thread, other users' answers do not wait for it."""
    import bot.devplan as devplan  # the handler imports it on first use

    loop_thread = threading.get_ident()
    built_in: list[int] = []
    real = devplan.build_devplan

    def spy(*args: Any) -> bytes:
        built_in.append(threading.get_ident())
        return real(*args)

    monkeypatch.setattr(devplan, "build_devplan", spy)
    user = bot.user(USER)
    sent = await answer_all(bot, user, await to_questions(bot, user), ALL_YES)
    assert [m for m in sent if m.document is not None]
    assert len(built_in) == 1 and built_in[0] != loop_thread
