"""Logging: one line per event, text or JSON, without secrets or personal data.

Rules for every module: log what happened and ids of our own records (outbox row 12, request 7), never message
texts, names, e-mail addresses or phone numbers, and a Telegram user id only where an operator needs it. As a
safety net the filter below blanks anything shaped like a bot token, an e-mail address or a phone number, PTB
is kept at INFO or quieter (at DEBUG it logs every update and every sent text), and a traceback is one line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from types import TracebackType
from typing import TextIO

from telegram.error import TelegramError

_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# International (+49 …, 0049 …) or national (0171 …) numbers with optional separators; user and chat ids
# (no leading 0 or +) and ISO dates do not match.
_PHONE = re.compile(r"(?<![\w+-])(?:\+|00|0)[1-9](?:[ /().-]{0,2}\d){5,}(?!\w)")
# PTB messages that carry a whole update (only for malformed webhook data, but then with everything in it).
_UPDATE_CARRIERS = ("Received data was", "Webhook received data")
_NOT_JSON = "Can not load invalid JSON data"
_NOT_JSON_LINE = "Telegram answered with a page that is not JSON (a front-end error such as 502)"


def redact(text: str) -> str:
    text = _TOKEN.sub("<token>", text)
    text = _EMAIL.sub("<e-mail>", text)
    return _PHONE.sub("<phone>", text)


class RedactingFilter(logging.Filter):
    """Blank out tokens, e-mail addresses and phone numbers that slipped into a message or a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.name.startswith("telegram") and message.startswith(_NOT_JSON):
            # PTB logs a 502/504 front-end page (nginx HTML) with a traceback; the NetworkError it raises is
            # retried or handled where the request was made. One line, without the page.
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args, record.exc_info, record.exc_text = _NOT_JSON_LINE, None, None, None
            return True
        if record.name.startswith("telegram") and any(c in message for c in _UPDATE_CARRIERS):
            message = message.split(":", 1)[0] + ": <update withheld>"
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = safe_traceback(*record.exc_info)
        return True


def safe_traceback(
    kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
) -> str:
    """The traceback with the messages of non-Telegram exceptions withheld: ``int(text)`` or a validation error
    puts what the user typed into the message. Telegram's own error descriptions are kept (they name the
    problem, e.g. "can't parse entities", never the text)."""
    if kind is None or error is None:
        return ""
    report = traceback.TracebackException(kind, error, tb)
    seen: set[int] = set()
    # Walk the report and the exceptions side by side (the report keeps no exception objects).
    pending: list[tuple[traceback.TracebackException, BaseException]] = [(report, error)]
    while pending:
        current, exc = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if not isinstance(exc, TelegramError) and hasattr(current, "_str"):
            current._str = "<message withheld>"
        if hasattr(current, "__notes__"):
            current.__notes__ = None
        if current.__cause__ is not None and exc.__cause__ is not None:
            pending.append((current.__cause__, exc.__cause__))
        if current.__context__ is not None and exc.__context__ is not None:
            pending.append((current.__context__, exc.__context__))
    return redact("".join(report.format()).rstrip("\n"))


class OneLineFormatter(logging.Formatter):
    """Text lines; a traceback is folded into the same line (`` | ``-separated), so one event is one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        return line.replace("\n", " | ")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            data["error"] = record.exc_info[0].__name__
            data["trace"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def setup_logging(level: str, fmt: str, stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    numeric = logging.getLevelName(level)
    # httpx logs every request URL, which contains the token; PTB's and APScheduler's chatter is noise.
    for noisy in ("httpx", "httpcore", "apscheduler", "telegram.ext.Application"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, numeric))
    # At DEBUG, PTB logs every update and the parameters of every call (what users wrote and were sent), and
    # aiosqlite every query result (stored form answers): never below INFO for them.
    for chatty in ("telegram", "aiosqlite"):
        logging.getLogger(chatty).setLevel(max(logging.INFO, numeric))
