"""Helpers for the consultation-request tests: fill in the form as a user would, deliver the outbox, find buttons."""

from __future__ import annotations

import json
from typing import Any

from bot import callbacks
from bot.offline import Call, SentMessage
from bot.telegram_html import check_telegram_html, visible_length
from tests.harness import STAFF_CHAT_ID, Harness

USER = 4242
STAFF = 5151
OTHER_STAFF = 5252
OUTSIDER = 6161
STAFF_CHAT = {"id": STAFF_CHAT_ID, "type": "supergroup", "title": "Beratungsteam"}
QUESTION = "Wie finden wir eine Partnerorganisation in Polen für eine Jugendbegegnung im Sommer?"


def data_of(message: SentMessage, action: str, value: str | None = None) -> str:
    """The callback data of the button with this action (and value after the form id / request id)."""
    for button in message.buttons():
        parsed = callbacks.parse(button.get("callback_data"))
        if parsed is None or parsed.action != action:
            continue
        if value is None or parsed.arg == value or parsed.arg.endswith("." + value):
            return str(button["callback_data"])
    raise AssertionError(
        f"no {action}:{value} button in {[b.get('callback_data') for b in message.buttons()]}"
    )


async def deliver(h: Harness) -> None:
    """Run the outbox until nothing is due now (waiting for a worker the bot started itself)."""
    await h.deliver()


async def fill_form(
    h: Harness,
    user: dict[str, Any],
    *,
    kommune: str = "Stadt Musterstadt",
    land: str = "NI",
    role: str = "jugendamt",
    topic: str = "foerderung",
    question: str = QUESTION,
    contact: tuple[str, str | None] = ("telegram", None),
) -> SentMessage:
    """Answer every step of the form; returns the summary message (not yet sent)."""

    async def send(text: str) -> SentMessage:
        [reply] = [m for m in await h.send(user, text) if m.chat_id == user["id"]]
        return reply

    async def press(message: SentMessage, data: str) -> SentMessage:
        [reply] = [m for m in await h.press(user, message, data) if m.chat_id == user["id"]]
        return reply

    await deliver(h)  # notices still on their way would land in the middle of the form's replies
    await send("/beratung")
    prompt = await send(kommune)
    prompt = await press(prompt, data_of(prompt, "land", land))
    prompt = await press(prompt, data_of(prompt, "role", role))
    prompt = await press(prompt, data_of(prompt, "topic", topic))
    prompt = await send(question)
    prompt = await press(prompt, data_of(prompt, "contact", contact[0]))
    if contact[1] is not None:
        prompt = await send(contact[1])
    return await press(prompt, data_of(prompt, "privacy"))


async def file_request(h: Harness, user: dict[str, Any], **answers: Any) -> int:
    """Fill in and send the form; returns the request number."""
    summary = await fill_form(h, user, **answers)
    [done] = [m for m in await h.press(user, summary, data_of(summary, "send")) if m.chat_id == user["id"]]
    assert "#" in done.text, done.text
    reqs = await h.db.requests_of_user(user["id"], 1)
    return int(reqs[0].id)


def staff_posts(h: Harness) -> list[SentMessage]:
    return [m for m in h.api.sent_to(STAFF_CHAT_ID) if "📨" in m.text]


def calls(h: Harness, method: str) -> list[dict[str, Any]]:
    return [c.params for c in h.api.calls if c.method == method]


def assert_valid_html(messages: list[SentMessage]) -> None:
    for message in messages:
        check_telegram_html(message.text)


def reply_target(params: dict[str, Any]) -> int | None:
    """The message a sendMessage call replies to."""
    reply = params.get("reply_parameters")
    if isinstance(reply, str):
        reply = json.loads(reply)
    return int(reply["message_id"]) if reply else None


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def telegram_limits(call: Call) -> tuple[int, dict[str, Any]] | None:
    """A ``fail`` hook for the offline API that refuses what Telegram refuses: texts over 4096 characters (after
    entity parsing), topic names over 128, alerts over 200 (all counted in UTF-16 code units, as Telegram does)."""

    def bad(description: str) -> tuple[int, dict[str, Any]]:
        return 400, {"error_code": 400, "description": f"Bad Request: {description}"}

    params = call.params
    if call.method in ("sendMessage", "editMessageText") and visible_length(str(params["text"])) > 4096:
        return bad("message is too long")
    if (
        call.method in ("createForumTopic", "editForumTopic")
        and utf16_length(str(params.get("name", ""))) > 128
    ):
        return bad("TOPIC_TITLE_INVALID")
    if call.method == "answerCallbackQuery" and utf16_length(str(params.get("text") or "")) > 200:
        return bad("MESSAGE_TOO_LONG")
    return None
