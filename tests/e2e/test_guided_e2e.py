"""The bot as a process: the Förder-Finder and the Standortbestimmung end to end, with back, restart, cancel,
a stale button, and restarts of the bot in the middle of a dialogue (graceful and a crash)."""

from __future__ import annotations

import io
import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from docx import Document

from .botprocess import BotStarter
from .fakeapi import FakeBotApi, FakeUser, StoredMessage

FRIEDA = FakeUser(3003, "Frieda")
STEFAN = FakeUser(3004, "Stefan")
# PTB writes conversation state and user_data at most this long after a step (bot/persistence.py).
PERSISTENCE_FLUSH = 1.5


def send(api: FakeBotApi, user: FakeUser, text: str, expect: str) -> StoredMessage:
    mark = api.mark()
    api.send_text(user, text)
    return api.wait_for_message(user, expect, since=mark)


def press(api: FakeBotApi, user: FakeUser, message: StoredMessage, data: str, expect: str) -> StoredMessage:
    mark = api.mark()
    api.press_button(user, message, data)
    return api.wait_for_message(user, expect, since=mark)


def no_failed_calls(api: FakeBotApi) -> None:
    failed = [c for c in api.calls() if c.status != 200 and c.method != "getUpdates"]
    assert not failed, api.describe()


def test_foerderfinder_walk_back_restart_cancel_and_bot_restarts(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    fake_api.add_user(FRIEDA)
    bot = bot_process()

    step = send(fake_api, FRIEDA, "/foerderfinder", "Mit welchem Land")
    step = press(fake_api, FRIEDA, step, "ff:c:pl", "Was planen Sie")
    step = press(fake_api, FRIEDA, step, "ff:f:begegnung", "Wie alt")
    # Back, then forward again.
    step = press(fake_api, FRIEDA, step, "ff:back", "Was planen Sie")
    step = press(fake_api, FRIEDA, step, "ff:f:begegnung", "Wie alt")

    # A graceful restart between two steps: the dialogue continues where it was.
    assert bot.terminate(timeout=5).code == 0, bot.output()
    bot = bot_process()
    step = press(fake_api, FRIEDA, step, "ff:a:14-17", "Wie lange")
    step = send(fake_api, FRIEDA, "10 Tage", "Bundesland")

    # A crash (SIGKILL) after the state was written: the next press still gets an answer.
    time.sleep(PERSISTENCE_FLUSH)
    bot.kill()
    bot = bot_process()
    mark = fake_api.mark()
    # A long result comes in several messages; the last one ends with the Stand and carries the buttons.
    result = press(fake_api, FRIEDA, step, "ff:l:BY", "Alle Angaben ohne Gewähr")
    content = "\n".join(m.content for m in fake_api.messages(FRIEDA) if m.last_change > mark)
    assert "Ihr Ergebnis" in content
    assert content.index("Deutsch-Polnisches Jugendwerk") < content.index("Erasmus+ Jugend")
    assert "Bayerische Jugendring" in content
    urls = [b.get("url") for b in result.buttons() if "url" in b]
    assert "https://t.me/ija_lotse_test_bot?start=thema_foerderung-dpjw" in urls

    # The article link works (the advice feature opens thema_<id>).
    send(fake_api, FRIEDA, "/start thema_foerderung-dpjw", "Deutsch-Polnische Jugendwerk")

    # Restart from the result, then cancel; the old step's buttons are then stale and answered politely.
    step = press(fake_api, FRIEDA, result, "ff:restart", "Schritt 1 von 5")
    step = press(fake_api, FRIEDA, step, "ff:c:fr", "Was planen Sie")
    send(fake_api, FRIEDA, "/abbrechen", "Förder-Finder ist beendet")
    mark = fake_api.mark()
    query_id = fake_api.press_button(FRIEDA, step, "ff:f:begegnung")
    offer = fake_api.wait_for_message(FRIEDA, "schon beendet", since=mark)
    answered = fake_api.wait_for(lambda: fake_api.callback_answer(query_id), message="stale press answered")
    assert "beendet" in str(answered.get("text"))
    press(fake_api, FRIEDA, offer, "ff:restart", "Schritt 1 von 5")

    # The Bundesland was remembered for the next time.
    assert bot.terminate(timeout=5).code == 0, bot.output()
    with closing(sqlite3.connect(tmp_path / "bot.sqlite3")) as conn:
        assert conn.execute("SELECT bundesland FROM users WHERE id = ?", (FRIEDA.id,)).fetchone() == ("BY",)
    no_failed_calls(fake_api)


def test_standort_result_docx_update_and_restart(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    fake_api.add_user(STEFAN)
    bot = bot_process()

    send(fake_api, STEFAN, "/standort", "Wie heißt Ihre Kommune")
    send(fake_api, STEFAN, "<b>", "Zeichen")  # rejected, friendly
    step = send(fake_api, STEFAN, "Landkreis Musterland", "Stadt, ein Landkreis")
    step = press(fake_api, STEFAN, step, "st:t:landkreis", "Bundesland")
    step = press(fake_api, STEFAN, step, "st:l:SN", "Frage 1 von 8")
    step = press(fake_api, STEFAN, step, "st:a:allies.yes", "Frage 2 von 8")
    step = press(fake_api, STEFAN, step, "st:back", "Frage 1 von 8")
    step = press(fake_api, STEFAN, step, "st:a:allies.yes", "Frage 2 von 8")

    # A restart in the middle of the questions: the next answer continues.
    assert bot.terminate(timeout=5).code == 0, bot.output()
    bot = bot_process()
    for number, (question, value) in enumerate(
        [
            ("network", "partly"),
            ("overview", "no"),
            ("plan", "no"),
            ("jha", "no"),
            ("contact", "no"),
            ("staff", "no"),
        ],
        start=3,
    ):
        step = press(fake_api, STEFAN, step, f"st:a:{question}.{value}", f"Frage {number} von 8")
    mark = fake_api.mark()
    fake_api.press_button(STEFAN, step, "st:a:evaluation.no")
    result = fake_api.wait_for_message(STEFAN, "Ihre Stufe", since=mark)
    assert "Landkreis Musterland" in result.content and "Stufe: 2 von 5" in result.content
    assert "Uferlos" in result.content  # the contact point for Sachsen
    document = fake_api.wait_for_message(STEFAN, since=mark, predicate=lambda m: m.document is not None)
    assert document.document is not None
    assert document.document.file_name == "Entwicklungsplan_IJA_Landkreis_Musterland.docx"
    doc = Document(io.BytesIO(document.document.data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Landkreis Musterland" in text
    for section in ("Bestandsaufnahme", "Bedarfsanalyse", "Ziele", "Maßnahmen", "Zeitplan", "Evaluation"):
        assert section in text

    # Later: /standort shows the stored result and offers an update; the update shows the progress.
    summary = send(fake_api, STEFAN, "/standort", "Ihre letzte Standortbestimmung")
    step = press(fake_api, STEFAN, summary, "stv:update", "Wie heißt Ihre Kommune")
    step = press(fake_api, STEFAN, step, "st:keep", "Stadt, ein Landkreis")
    step = press(fake_api, STEFAN, step, "st:t:landkreis", "Bundesland")
    step = press(fake_api, STEFAN, step, "st:l:SN", "Letztes Mal: ja")
    for question, value in [
        ("allies", "yes"),
        ("network", "yes"),
        ("overview", "yes"),
        ("plan", "partly"),
        ("jha", "no"),
        ("contact", "no"),
        ("staff", "no"),
    ]:
        step = press(fake_api, STEFAN, step, f"st:a:{question}.{value}", "Frage")
    result = press(fake_api, STEFAN, step, "st:a:evaluation.no", "Fortschritt seit")
    assert "Stufe 2 → 3" in result.content

    assert bot.terminate(timeout=5).code == 0, bot.output()
    with closing(sqlite3.connect(tmp_path / "bot.sqlite3")) as conn:
        rows = conn.execute("SELECT user_id, kommune, stage FROM standort_results ORDER BY id").fetchall()
    assert rows == [(STEFAN.id, "Landkreis Musterland", 2), (STEFAN.id, "Landkreis Musterland", 3)]
    no_failed_calls(fake_api)


def test_standort_restart_cancel_and_stale_buttons(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    fake_api.add_user(STEFAN)
    bot = bot_process()

    # A first run up to question 2 ...
    send(fake_api, STEFAN, "/standort", "Wie heißt Ihre Kommune")
    step = send(fake_api, STEFAN, "Stadt Altdorf", "Stadt, ein Landkreis")
    step = press(fake_api, STEFAN, step, "st:t:stadt", "Bundesland")
    step = press(fake_api, STEFAN, step, "st:l:BY", "Frage 1 von 8")
    old = press(fake_api, STEFAN, step, "st:a:allies.yes", "Frage 2 von 8")
    # ... /standort again continues it in a new message; the first one keeps its (now older) buttons.
    step = send(fake_api, STEFAN, "/standort", "mitten in der Standortbestimmung")
    assert "Frage 2 von 8" in step.content
    step = press(fake_api, STEFAN, step, "st:a:network.partly", "Frage 3 von 8")

    # A stale button of an earlier step: a polite answer, the current step is shown again, nothing changes.
    mark = fake_api.mark()
    query_id = fake_api.press_button(STEFAN, old, "st:a:network.no")
    again = fake_api.wait_for_message(STEFAN, "Frage 3 von 8", since=mark)
    answered = fake_api.wait_for(lambda: fake_api.callback_answer(query_id), message="stale press answered")
    assert "früheren Schritt" in str(answered.get("text"))
    current = fake_api.message(STEFAN, old.message_id)
    assert current is not None and current.content == old.content and current.edited_at == old.edited_at

    # "Neu starten": back to the first step, the answers so far dropped.
    step = press(fake_api, STEFAN, again, "st:restart", "Schritt 1 von 11")
    assert "Wie heißt Ihre Kommune" in step.content
    # The old question's button is stale after the restart as well: answered, the name step shown again.
    mark = fake_api.mark()
    query_id = fake_api.press_button(STEFAN, old, "st:a:network.yes")
    fake_api.wait_for_message(STEFAN, "Wie heißt Ihre Kommune", since=mark)
    answered = fake_api.wait_for(lambda: fake_api.callback_answer(query_id), message="stale press answered")
    assert "früheren Schritt" in str(answered.get("text"))

    # The restarted run is a new Kommune with new answers; nothing of the first run is stored with it.
    step = send(fake_api, STEFAN, "Gemeinde Neudorf", "Stadt, ein Landkreis")
    step = press(fake_api, STEFAN, step, "st:t:gemeinde", "Bundesland")
    step = press(fake_api, STEFAN, step, "st:l:BY", "Frage 1 von 8")
    assert "Letztes Mal" not in step.content
    questions = ["allies", "network", "overview", "plan", "jha", "contact", "staff", "evaluation"]
    for number, question in enumerate(questions[:-1], start=2):
        step = press(fake_api, STEFAN, step, f"st:a:{question}.no", f"Frage {number} von 8")
    mark = fake_api.mark()
    fake_api.press_button(STEFAN, step, "st:a:evaluation.no")
    result = fake_api.wait_for_message(STEFAN, "Ihre Stufe", since=mark)
    assert "Gemeinde Neudorf" in result.content and "Stadt Altdorf" not in result.content
    fake_api.wait_for_message(STEFAN, since=mark, predicate=lambda m: m.document is not None)

    def stored() -> list[tuple[object, ...]]:
        with closing(sqlite3.connect(tmp_path / "bot.sqlite3")) as conn:
            return conn.execute("SELECT kommune, answers FROM standort_results ORDER BY id").fetchall()

    [(kommune, answers)] = stored()
    assert kommune == "Gemeinde Neudorf"
    assert json.loads(str(answers)) == dict.fromkeys(questions, "no")

    # An update, cancelled with /abbrechen in the middle: its answers are dropped, the stored result stays.
    summary = send(fake_api, STEFAN, "/standort", "Ihre letzte Standortbestimmung")
    step = press(fake_api, STEFAN, summary, "stv:update", "Wie heißt Ihre Kommune")
    step = press(fake_api, STEFAN, step, "st:keep", "Stadt, ein Landkreis")
    step = press(fake_api, STEFAN, step, "st:t:gemeinde", "Bundesland")
    step = press(fake_api, STEFAN, step, "st:l:BY", "Frage 1 von 8")
    step = press(fake_api, STEFAN, step, "st:a:allies.yes", "Frage 2 von 8")
    send(fake_api, STEFAN, "/abbrechen", "Standortbestimmung ist beendet")

    # Its buttons are stale now: a polite answer and an offer to start again; nothing is stored or shown as
    # if the dialogue went on.
    mark = fake_api.mark()
    query_id = fake_api.press_button(STEFAN, step, "st:a:network.yes")
    offer = fake_api.wait_for_message(STEFAN, "schon abgeschlossen", since=mark)
    answered = fake_api.wait_for(lambda: fake_api.callback_answer(query_id), message="stale press answered")
    assert "schon abgeschlossen" in str(answered.get("text"))
    assert not [m for m in fake_api.messages(STEFAN) if m.last_change > mark and "Frage 3 von 8" in m.content]
    assert len(stored()) == 1
    # /standort shows the stored result, not the cancelled update.
    summary = send(fake_api, STEFAN, "/standort", "Ihre letzte Standortbestimmung")
    assert "Gemeinde Neudorf" in summary.content and "mitten in" not in summary.content
    # The offer starts afresh from the first step.
    press(fake_api, STEFAN, offer, "stv:update", "Schritt 1 von 11")

    assert bot.terminate(timeout=5).code == 0, bot.output()
    assert len(stored()) == 1
    no_failed_calls(fake_api)
