"""Subscriptions: opt-in Infobrief (announcements) and reminders, plus the user's Bundesland and topics.

Nothing is on until the user switches it on. Other features ask ``wants`` before sending a reminder and call
``end_all`` from their outbox ``on_failed`` hook when Telegram answers 403 (blocked, deactivated).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from bot.content import Content
from bot.content_models.articles import MenuNode
from bot.content_models.base import LAND_CODES
from bot.db import SUBSCRIPTION_KINDS, Database, Tx

Kind = Literal["announcements", "event_reminders", "deadline_reminders"]
KINDS: tuple[Kind, ...] = ("announcements", "event_reminders", "deadline_reminders")
assert KINDS == SUBSCRIPTION_KINDS


async def wants(db: Database, user_id: int, kind: str) -> bool:
    """Whether the user subscribed to ``kind`` ("announcements" | "event_reminders" | "deadline_reminders")."""
    if kind not in KINDS:
        raise ValueError(f"unknown subscription kind {kind!r}")
    row = await db.subscription(user_id)
    return row is not None and row.wants(kind)


async def set_kind(db: Database, user_id: int, kind: str, on: bool, now: datetime) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown subscription kind {kind!r}")
    await db.set_subscription(user_id, kind, on, now)


async def stop_all(db: Database, user_id: int, now: datetime) -> None:
    """The user's own "Alles abbestellen": every kind off and every follow ended, so no announcement and no
    reminder reaches them any more (Bundesland and topics stay as preferences)."""
    for kind in KINDS:
        await db.set_subscription(user_id, kind, False, now)
    async with db.transaction() as tx:
        await Database.forget_follower(tx, user_id)


def topics(content: Content) -> list[MenuNode]:
    """The topics one can follow: the top-level nodes of the topic menu."""
    return content.menu_children(None)


def is_topic(content: Content, topic: str) -> bool:
    return any(node.id == topic for node in topics(content))


def is_land(code: str) -> bool:
    return code in LAND_CODES


async def set_topic(
    db: Database, content: Content, user_id: int, topic: str, on: bool, now: datetime
) -> bool:
    """Follow or unfollow a topic; False (and no change) for an unknown topic."""
    if not is_topic(content, topic):
        return False
    await db.set_subscription_topic(user_id, topic, on, now)
    return True


def is_blocked_error(error: str) -> bool:
    """An outbox error that means the user cannot be reached any more (403: blocked, deactivated)."""
    return error.startswith("Forbidden")


async def end_all(tx: Tx, user_id: int, now: datetime) -> None:
    """A user Telegram says is unreachable (403): every subscription ends, and so do the follows of events and
    programmes with their pending reminders; inside the outbox hook's transaction."""
    await Database.end_subscriptions(tx, user_id, now, "blocked")
    await Database.forget_follower(tx, user_id)
