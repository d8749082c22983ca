"""Consultation requests as the staff and the requester see them: labels, the staff post, keyboards and the
forum topic's name."""

from __future__ import annotations

from datetime import datetime, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.content import Content
from bot.db import RequestRow
from bot.keyboards import REQUESTS
from bot.requests.rules import ROLES, STATUSES, TOPIC_NAME_MAX, fit_utf16
from bot.telegram_html import Html, html_to_plain
from bot.texts import Texts


def format_time(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%d.%m.%Y, %H:%M")


def role_label(texts: Texts, role: str) -> str:
    return texts(f"requests.buttons.role.{role}") if role in ROLES else role


def topic_label(texts: Texts, content: Content, topic: str) -> str:
    node = content.menu.get(topic)
    if node is not None:
        return node.title
    return texts("requests.buttons.topic_sonstiges")


def land_label(content: Content, code: str) -> str:
    try:
        return content.land_name(code)
    except StopIteration:
        return code


def contact_label(texts: Texts, kind: str, value: str | None) -> str:
    """HTML: how the requester wants to be contacted."""
    if kind == "email":
        return texts("requests.contact.email", value=value or "")
    if kind == "phone":
        return texts("requests.contact.phone", value=value or "")
    return texts("requests.contact.telegram")


def status_label(texts: Texts, status: str) -> str:
    return texts(f"requests.status.{status}")


def staff_post_text(texts: Texts, content: Content, req: RequestRow, tz: tzinfo) -> str:
    """The request as the staff see it (every user-provided value escaped by ``Texts``)."""
    claimed = (
        Html(texts("requests.staff.claimed", name=req.claimed_by_name)) if req.claimed_by_name else Html("")
    )
    rating = Html(texts("requests.staff.rating", rating=req.rating)) if req.rating is not None else Html("")
    hint_key = "requests.staff.hint_topic" if req.staff_thread_id is not None else "requests.staff.hint_reply"
    return texts(
        "requests.staff.post",
        number=req.id,
        status=Html(status_label(texts, req.status)),
        claimed=claimed,
        kommune=req.kommune,
        land=land_label(content, req.bundesland),
        role=role_label(texts, req.role),
        topic=topic_label(texts, content, req.topic),
        name=req.requester_name,
        contact=Html(contact_label(texts, req.contact_kind, req.contact_value)),
        created=format_time(req.created_at, tz),
        question=req.question,
        rating=rating,
        hint=Html(texts(hint_key)),
    )


def button(texts: Texts, key: str, action: str, arg: str | int) -> InlineKeyboardButton:
    return REQUESTS.button(texts(key), action, arg)


def staff_keyboard(texts: Texts, req: RequestRow) -> InlineKeyboardMarkup:
    if req.status == "erledigt":
        return InlineKeyboardMarkup([[button(texts, "requests.buttons.status", "status", req.id)]])
    first = [button(texts, "requests.buttons.status", "status", req.id)]
    if req.claimed_by is None:
        first.insert(0, button(texts, "requests.buttons.claim", "claim", req.id))
    return InlineKeyboardMarkup([first, [button(texts, "requests.buttons.done", "done", req.id)]])


def status_keyboard(texts: Texts, req: RequestRow) -> InlineKeyboardMarkup:
    rows = [
        [button(texts, f"requests.buttons.set.{status}", "set", f"{req.id}.{status}")]
        for status in STATUSES
        if status != req.status
    ]
    rows.append([button(texts, "requests.buttons.back", "back", req.id)])
    return InlineKeyboardMarkup(rows)


def reply_keyboard(texts: Texts, request_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(texts, "requests.buttons.reply", "reply", request_id)]])


def rating_keyboard(texts: Texts, request_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button(texts, f"requests.buttons.rate.{n}", "rate", f"{request_id}.{n}") for n in range(1, 6)]]
    )


def topic_name(texts: Texts, req: RequestRow) -> str:
    """The forum topic's name (plain text, at most 128 characters as Telegram counts); closed ones get a tick."""
    key = "requests.staff.topic_name_closed" if req.status == "erledigt" else "requests.staff.topic_name"
    return fit_utf16(html_to_plain(texts(key, number=req.id, kommune=req.kommune)), TOPIC_NAME_MAX)
