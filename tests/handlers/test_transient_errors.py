"""Transient errors where a user waits: a reply is tried again; when every try fails, or a press can no longer
be answered, the user gets a clear message through the outbox once Telegram answers again. Expected conditions
are logged in one line without a traceback and counted; the outbox's own sends are not retried twice."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot import faults
from bot.offline import Call
from bot.outbox import CountingRateLimiter
from tests.handlers.requests_support import deliver
from tests.harness import Harness, harness

USER = 7001


def no_wait(h: Harness) -> CountingRateLimiter:
    limiter = h.app.bot.rate_limiter
    assert isinstance(limiter, CountingRateLimiter)

    async def instant(_: float) -> None:
        return None

    limiter._sleep = instant
    return limiter


def failing(method: str, times: int, status: int = 502, description: str = "Bad Gateway") -> Any:
    left = [times]

    def fail(call: Call) -> tuple[int, dict[str, Any]] | None:
        if call.method == method and left[0] > 0:
            left[0] -= 1
            return status, {"error_code": status, "description": description}
        return None

    return fail


def sent_texts(h: Harness) -> list[str]:
    return [m.text for m in h.api.sent_to(USER)]


async def test_a_reply_that_fails_twice_is_tried_again_and_arrives_once(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        limiter = no_wait(h)
        h.api.fail = failing("sendMessage", 2)
        await h.send(h.user(USER), "/start")
        assert len([t for t in sent_texts(h) if "Willkommen" in t]) == 1
        assert (limiter.retry_stats.retried, limiter.retry_stats.recovered) == (2, 1)


async def test_when_every_try_fails_the_user_gets_a_clear_message_once_telegram_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with harness(tmp_path) as h:
        no_wait(h)
        h.api.fail = failing("sendMessage", 6)  # the welcome's 3 tries and the error message's 3 tries
        with caplog.at_level(logging.INFO):
            await h.send(h.user(USER), "/start")
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
        assert "Traceback" not in caplog.text
        await deliver(h)  # Telegram answers again
        assert sent_texts(h).count(h.texts("errors.not_delivered")) == 1


async def test_a_press_too_old_to_answer_gets_a_message_instead(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        no_wait(h)
        user = h.user(USER)
        welcome = (await h.send(user, "/start"))[0]
        # The handler's work fails on a network error; by then the press is too old for an alert.
        h.api.fail = lambda call: (
            (502, {"error_code": 502, "description": "Bad Gateway"})
            if call.method in ("editMessageText", "sendMessage")
            else (
                400,
                {
                    "error_code": 400,
                    "description": "Bad Request: query is too old and response "
                    "timeout expired or query id is invalid",
                },
            )
            if call.method == "answerCallbackQuery"
            else None
        )
        await h.press(user, welcome, welcome.buttons()[0]["callback_data"])
        h.api.fail = None
        await deliver(h)
        assert sent_texts(h)[-1] == h.texts("errors.not_delivered")


async def test_a_user_who_blocked_the_bot_is_logged_in_one_line_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with harness(tmp_path) as h:
        no_wait(h)
        h.api.fail = failing("sendMessage", 5, 403, "Forbidden: bot was blocked by the user")
        before = faults.counts["blocked"]
        with caplog.at_level(logging.INFO):
            await h.send(h.user(USER), "/start")
        lines = [r for r in caplog.records if "blocked" in r.getMessage()]
        assert lines and faults.counts["blocked"] == before + len(lines)
        assert {(r.levelno, r.exc_info) for r in lines} == {(logging.INFO, None)}
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        calls = len([c for c in h.api.calls if c.method == "sendMessage"])
        assert calls == len(lines)  # a 403 is not tried again
        await deliver(h)
        assert len([c for c in h.api.calls if c.method == "sendMessage"]) == calls  # and nothing queued


async def test_a_defect_is_still_an_error_with_its_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with harness(tmp_path) as h:
        no_wait(h)
        h.api.fail = failing("sendMessage", 1, 400, "Bad Request: can't parse entities")
        with caplog.at_level(logging.INFO):
            await h.send(h.user(USER), "/start")
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and errors[0].exc_info is not None
        welcomes = [c for c in h.api.calls if c.method == "sendMessage" and "Willkommen" in c.params["text"]]
        assert len(welcomes) == 1  # a 400 is not tried again
        assert h.texts("errors.generic") in sent_texts(h)


async def test_the_outbox_sends_each_row_once_per_pass(tmp_path: Path) -> None:
    from bot.db import Database
    from bot.outbox import payload

    async with harness(tmp_path) as h:
        no_wait(h)
        async with h.db.transaction() as tx:
            await Database.enqueue(
                tx, kind="message", chat_id=USER, payload=payload("Hallo"), now=h.clock.now()
            )
        h.api.fail = failing("sendMessage", 1)
        await h.app.bot_data.outbox.deliver_due(h.app.bot)
        assert (
            len([c for c in h.api.calls if c.method == "sendMessage"]) == 1
        )  # the outbox reschedules itself
