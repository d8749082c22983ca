"""Logs carry no message texts, names, e-mail addresses or phone numbers — even at DEBUG and when a handler
fails on what the user typed — and every event is one line (JSON when asked)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import CommandHandler

from bot.context import App, Context
from bot.logs import redact, setup_logging
from tests.handlers.requests_support import STAFF_CHAT, data_of, deliver, file_request, staff_posts
from tests.handlers.test_privacy import FORM_ANSWER, add_probe
from tests.handlers.test_standort import answer_all, to_questions
from tests.harness import STAFF_CHAT_ID, harness

USER = 4_711_000_123
NAME = "Erika Mustermann"
EMAIL = "erika.mustermann@beispielhausen.de"
PHONE = "0171 2345678"
ANSWER = f"Sie erreichen mich unter {EMAIL} oder {PHONE}"
QUESTION = "Wie finden wir eine Partnerorganisation in Polen?"
SECRET_WORD = "Geheimwort-Zebra"
KOMMUNE = "Gemeinde Zebrahausen"
STAFF = 5151
STAFF_NAME = "Sabine Beraterin"
STAFF_ANSWER = "Gern, ich rufe Sie morgen an."


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The bot's own logging setup at DEBUG, into a buffer; the test's logging is restored afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    names = ("httpx", "httpcore", "apscheduler", "telegram.ext.Application", "telegram", "aiosqlite")
    levels = {n: logging.getLogger(n).level for n in names}
    buffer = io.StringIO()
    setup_logging("DEBUG", "json", stream=buffer)
    yield buffer
    root.handlers[:], root.level = saved
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def fails_on_input(update: Update, context: Context) -> None:
    """A handler with a bug that puts the user's input into the exception message."""
    int(" ".join(context.args or []))


def add_failing_handler(app: App) -> None:
    add_probe(app)
    app.add_handler(CommandHandler("kaputt", fails_on_input), group=-2)


async def test_a_whole_session_leaves_no_personal_data_in_the_logs(
    tmp_path: Path, captured: io.StringIO
) -> None:
    async with harness(tmp_path, setup=add_failing_handler) as h:
        user = h.user(USER, NAME)
        await h.send(user, "/start")
        await h.send(user, "/probe")
        await h.send(user, ANSWER)
        await h.send(user, QUESTION)
        # A consultation request with an e-mail address and one with a phone number, a staff member who takes
        # one and answers, the requester's reply; a Standortbestimmung naming the Kommune.
        first = await file_request(h, user, kommune=KOMMUNE, question=QUESTION, contact=("email", EMAIL))
        await file_request(h, user, kommune=KOMMUNE, question=QUESTION, contact=("phone", PHONE))
        await deliver(h)
        staff = h.user(STAFF, STAFF_NAME)
        [post] = [m for m in staff_posts(h) if f"#{first}" in m.text]
        await h.press(staff, post, data_of(post, "claim"))
        await h.send(staff, STAFF_ANSWER, chat=STAFF_CHAT, reply_to=post)
        await deliver(h)
        assert any(STAFF_ANSWER in m.text for m in h.api.sent_to(USER))  # the dialogue really happened
        await h.send(user, ANSWER)
        await deliver(h)
        assert any(ANSWER in m.text for m in h.api.sent_to(STAFF_CHAT_ID))
        step = await to_questions(h, user, name=KOMMUNE)
        await answer_all(h, user, step, ["Ja", "Teilweise", "Nein", "Nein", "Nein", "Ja", "Nein", "Nein"])
        replies = await h.send(user, f"/kaputt {SECRET_WORD}")
        assert h.texts("errors.generic") in [m.text for m in replies]
        await h.send(user, "/meine_daten")
        [confirm] = await h.send(user, "/loeschen")
        await h.press_label(user, confirm, h.texts("privacy.buttons.confirm"))
        await deliver(h)
    logged = captured.getvalue()
    lines = logged.splitlines()
    events = [json.loads(line) for line in lines]  # one JSON object per line, nothing else
    assert any(e["level"] == "ERROR" and e.get("error") == "ValueError" for e in events), logged
    assert any(e["logger"] == "aiosqlite" for e in events) is False
    secrets = (NAME, "Erika", EMAIL, PHONE, ANSWER, QUESTION, SECRET_WORD, FORM_ANSWER, str(USER), KOMMUNE)
    for secret in (*secrets, STAFF_NAME, STAFF_ANSWER):
        assert secret not in logged, f"{secret!r} leaked into the logs"


def test_text_format_is_one_line_per_event_even_with_a_traceback(captured: io.StringIO) -> None:
    setup_logging("INFO", "text", stream=captured)
    log = logging.getLogger("bot.test")
    try:
        int(f"{NAME} {PHONE}")
    except ValueError:
        log.exception("parsing failed")
    log.info("contact %s or %s", EMAIL, "+49 30 1234567")
    lines = captured.getvalue().splitlines()
    assert len(lines) == 2
    assert "ValueError: <message withheld>" in lines[0] and NAME not in lines[0]
    assert lines[1].endswith("contact <e-mail> or <phone>")


def test_redact_keeps_ids_dates_and_counts() -> None:
    kept = "update 123456789 for chat -1001234567890 at 2026-11-24T03:30:00+00:00, row 12, 0.25 s, 127.0.0.1:8443"
    assert redact(kept) == kept
    assert redact("Tel. +49 (0)30 123 456 78, mobil 0171/2345678") == "Tel. <phone>, mobil <phone>"
    assert redact("mail a.b-c@sub.example.org now") == "mail <e-mail> now"
    assert redact("token 123456789:AAH-very-secret-token-value-0123456789") == "token <token>"
