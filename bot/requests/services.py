"""Consultation requests, the services: every state change with the messages it causes, in one transaction,
and the index of who may relay without the "Antworten" button."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from telegram import InlineKeyboardMarkup

from bot.db import Database, NewRequest, RequestRow, Tx
from bot.outbox import payload
from bot.requests.rules import (
    ANSWERABLE,
    KIND_NOTE,
    KIND_POST,
    KIND_USER,
    Change,
    Refusal,
    limit_problem,
    local_day_start,
    plan_staff_reply,
)
from bot.requests.views import button, rating_keyboard, reply_keyboard
from bot.texts import Texts


@dataclass(frozen=True, slots=True)
class Submitted:
    request_id: int


@dataclass(frozen=True, slots=True)
class AlreadySubmitted:
    request_id: int


@dataclass(frozen=True, slots=True)
class Limited:
    key: str


async def submit_request(
    db: Database, new: NewRequest, now: datetime, tz: tzinfo, staff_chat_id: int | None
) -> Submitted | AlreadySubmitted | Limited:
    """Store the request and its staff post together, within the user's limits; idempotent per form."""
    async with db.transaction() as tx:
        existing = await db.request_id_for_form(tx, new.form_token)
        if existing is not None:
            return AlreadySubmitted(existing)
        open_count, today = await db.request_counts(tx, new.user_id, local_day_start(now, tz))
        problem = limit_problem(open_count, today)
        if problem is not None:
            return Limited(problem)
        request_id = await db.create_request(tx, new, now)
        assert request_id is not None  # the token was checked above, inside the same transaction
        if staff_chat_id is not None:
            await _queue(
                db, tx, KIND_POST, staff_chat_id, {"request_id": request_id}, f"request:{request_id}", now
            )
        return Submitted(request_id)


async def _queue(
    db: Database, tx: Tx, kind: str, chat_id: int, body: dict[str, Any], ref: str, now: datetime
) -> None:
    """Queue a message about a request in the caller's transaction (its ref keeps one request's messages in order)."""
    await db.enqueue(tx, kind=kind, chat_id=chat_id, payload=body, now=now, ref=ref)


async def _enqueue_user_notices(
    db: Database, tx: Tx, texts: Texts, req: RequestRow, change: Change, now: datetime
) -> None:
    if change.notify:
        markup = reply_keyboard(texts, req.id) if change.status in ANSWERABLE else None
        text = texts(f"requests.user.status.{change.status}", number=req.id)
        await _queue(db, tx, KIND_USER, req.user_id, payload(text, markup, request_id=req.id), req.ref, now)
    if change.ask_rating:
        body = payload(
            texts("requests.user.rate_prompt", number=req.id),
            rating_keyboard(texts, req.id),
            request_id=req.id,
        )
        await _queue(db, tx, KIND_USER, req.user_id, body, req.ref, now)


async def _change(
    db: Database,
    tx: Tx,
    texts: Texts,
    req: RequestRow,
    change: Change,
    *,
    by: int,
    now: datetime,
    action: str,
) -> bool:
    """Apply ``change`` if the request is unchanged since it was read (False: someone was faster) and queue what
    the requester gets told about it."""
    ok = await db.change_request(
        tx,
        req,
        status=change.status,
        claimed_by=change.claimed_by,
        claimed_by_name=change.claimed_by_name,
        by=by,
        now=now,
        action=action,
    )
    if ok:
        await _enqueue_user_notices(db, tx, texts, req, change, now)
    return ok


async def apply_change(
    db: Database, texts: Texts, req: RequestRow, change: Change, *, by: int, now: datetime, action: str
) -> RequestRow | None:
    """Apply a planned change if the request is unchanged since it was read; None when someone was faster."""
    async with db.transaction() as tx:
        if not await _change(db, tx, texts, req, change, by=by, now=now, action=action):
            return None
    return await db.get_request(req.id)


async def relay_to_user(
    db: Database,
    texts: Texts,
    req: RequestRow,
    text: str,
    *,
    staff_id: int,
    staff_name: str,
    now: datetime,
    ack: tuple[int, int] | None,
) -> RequestRow | Refusal | None:
    """A staff answer for the requester (a new request is taken by its author); None on a concurrent change."""
    plan = plan_staff_reply(req, staff_id, staff_name)
    if isinstance(plan, Refusal):
        return plan
    async with db.transaction() as tx:
        if plan is not None and not await _change(
            db, tx, texts, req, plan, by=staff_id, now=now, action="claimed"
        ):
            return None
        extra: dict[str, Any] = {"request_id": req.id}
        if ack is not None:
            extra["ack_chat_id"], extra["ack_message_id"] = ack
        body = payload(
            texts("requests.user.answer", number=req.id, text=text), reply_keyboard(texts, req.id), **extra
        )
        await _queue(db, tx, KIND_USER, req.user_id, body, req.ref, now)
        await db.add_request_history(
            tx, req.id, "to_user", plan.status if plan else req.status, staff_id, now
        )
    return await db.get_request(req.id)


async def relay_to_staff(
    db: Database, texts: Texts, req: RequestRow, text: str, *, staff_chat_id: int, now: datetime
) -> RequestRow | None:
    """The requester's answer, into the request's topic or as a reply to the request message.

    A request that was waiting for the requester is back with the staff ("in Bearbeitung"); the requester's
    confirmation says so. None when the request changed meanwhile (read it again and retry).
    """
    async with db.transaction() as tx:
        status = req.status
        if req.status == "wartet":
            status = "in_bearbeitung"
            back = Change(status, req.claimed_by, req.claimed_by_name, notify=False, ask_rating=False)
            if not await _change(db, tx, texts, req, back, by=req.user_id, now=now, action="status"):
                return None
        note = texts("requests.staff.from_user", number=req.id, name=req.requester_name, text=text)
        body = payload(note, request_id=req.id, from_user=True)
        await _queue(db, tx, KIND_NOTE, staff_chat_id, body, req.ref, now)
        await db.add_request_history(tx, req.id, "to_staff", status, req.user_id, now)
    return await db.get_request(req.id)


async def remind_unclaimed(
    db: Database, texts: Texts, *, now: datetime, hours: float, staff_chat_id: int
) -> list[int]:
    """Raise every request nobody has taken for ``hours`` once more; once per period, not on every tick.

    A request that never reached this staff group is posted again with its reminder.
    """
    reminded: list[int] = []
    for req in await db.unclaimed_requests_due(now - timedelta(hours=hours)):
        # Never arrived in this staff group (refused for good, or sent to a wrong chat id since corrected):
        # post the request itself again, so the staff see what the reminder is about.
        repost = not posted_to(req, staff_chat_id) and not await post_pending(db, req)
        async with db.transaction() as tx:
            if not await db.mark_request_alerted(tx, req, now):
                continue
            if repost:
                await _queue(db, tx, KIND_POST, staff_chat_id, {"request_id": req.id}, req.ref, now)
            waited = max(1, int((now - req.created_at).total_seconds() // 3600))
            markup = InlineKeyboardMarkup([[button(texts, "requests.buttons.claim", "claim", req.id)]])
            note = texts("requests.staff.reminder", number=req.id, kommune=req.kommune, hours=waited)
            await _queue(
                db, tx, KIND_NOTE, staff_chat_id, payload(note, markup, request_id=req.id), req.ref, now
            )
        reminded.append(req.id)
    return reminded


async def post_pending(db: Database, req: RequestRow) -> bool:
    """The request's own post is still on its way (notes about it wait for it, to keep the order)."""
    rows = await db.outbox_by_ref(req.ref)
    return any(r.kind == KIND_POST and r.state == "pending" for r in rows)


def posted_to(req: RequestRow, staff_chat_id: int) -> bool:
    """The request's message is in this staff chat (not: never delivered, or only to an earlier staff chat)."""
    return req.staff_message_id is not None and req.staff_chat_id == staff_chat_id


# --- who may relay without the "Antworten" button -------------------------------------------------------------


class RelayIndex:
    """Which users have requests in dialogue, for the synchronous message filter of the plain-text relay.

    The database is the truth: the index is loaded before the first update is handled, refreshed for a user after
    every change of their requests, and reloaded on the reminder tick (a reload that raced with a refresh is
    dropped, so it never overwrites newer data).
    """

    def __init__(self) -> None:
        self._by_user: dict[int, set[int]] = {}
        self._version = 0
        self.loaded = False

    def single(self, user_id: int) -> int | None:
        """The id of the user's only request in dialogue, or None (none or several)."""
        ids = self._by_user.get(user_id)
        return next(iter(ids)) if ids is not None and len(ids) == 1 else None

    async def load(self, db: Database) -> None:
        version = self._version
        pairs = await db.answerable_requests()
        if version != self._version:
            return
        by_user: dict[int, set[int]] = {}
        for user_id, request_id in pairs:
            by_user.setdefault(user_id, set()).add(request_id)
        self._by_user = by_user
        self.loaded = True

    async def refresh(self, db: Database, user_id: int) -> None:
        self._version += 1
        ids = {request_id for _, request_id in await db.answerable_requests(user_id)}
        if ids:
            self._by_user[user_id] = ids
        else:
            self._by_user.pop(user_id, None)
