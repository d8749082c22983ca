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
from datetime import UTC, datetime
from typing import TextIO

_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# International (+49 …, 0049 …) or national (0171 …) numbers with optional separators; user and chat ids
# (no leading 0 or +) and ISO dates do not match.
_PHONE = re.compile(r"(?<![\w+-])(?:\+|00|0)[1-9](?:[ /().-]?\d){5,}(?!\w)")
# PTB messages that carry a whole update (only for malformed webhook data, but then with everything in it).
_UPDATE_CARRIERS = ("Received data was", "Webhook received data")


def redact(text: str) -> str:
    text = _TOKEN.sub("<token>", text)
    text = _EMAIL.sub("<e-mail>", text)
    return _PHONE.sub("<phone>", text)


class RedactingFilter(logging.Filter):
    """Blank out tokens, e-mail addresses and phone numbers that slipped into a message or a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.name.startswith("telegram") and any(c in message for c in _UPDATE_CARRIERS):
            message = message.split(":", 1)[0] + ": <update withheld>"
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


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
    # At DEBUG PTB logs every update and the parameters of every call, i.e. what users wrote and were sent.
    logging.getLogger("telegram").setLevel(max(logging.INFO, numeric))
