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
from tests.handlers.test_privacy import FORM_ANSWER, add_probe
from tests.harness import harness

USER = 4_711_000_123
NAME = "Erika Mustermann"
EMAIL = "erika.mustermann@beispielhausen.de"
PHONE = "0171 2345678"
ANSWER = f"Sie erreichen mich unter {EMAIL} oder {PHONE}"
QUESTION = "Wie finden wir eine Partnerorganisation in Polen?"
SECRET_WORD = "Geheimwort-Zebra"


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
        replies = await h.send(user, f"/kaputt {SECRET_WORD}")
        assert h.texts("errors.generic") in [m.text for m in replies]
        await h.send(user, "/meine_daten")
        [confirm] = await h.send(user, "/loeschen")
        await h.press_label(user, confirm, h.texts("privacy.buttons.confirm"))
    logged = captured.getvalue()
    lines = logged.splitlines()
    events = [json.loads(line) for line in lines]  # one JSON object per line, nothing else
    assert any(e["level"] == "ERROR" and e.get("error") == "ValueError" for e in events), logged
    assert any(e["logger"] == "aiosqlite" for e in events) is False
    for secret in (NAME, "Erika", EMAIL, PHONE, ANSWER, QUESTION, SECRET_WORD, FORM_ANSWER, str(USER)):
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
