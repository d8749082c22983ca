"""Consultation requests: the rules (validation, limits, status changes) and the way to the staff group and back.

A confirmed form becomes a ``requests`` row and, in the same transaction, an outbox row that posts it to the staff
group (``BOT_STAFF_CHAT_ID``). The post is rendered at delivery time from the database, so it always shows the
current status. In a forum group every request gets its own topic: the topic's id is stored on the request before
anything is posted into it, so a retried delivery never opens a second topic (a crash between creating the topic
and storing its id can leave one empty topic behind, never a second copy of the request).

Everything else that must arrive — the team's answers and status changes for the requester, the requester's
answers and reminders for the staff — is an outbox row written together with the state change it belongs to.

Statuses: neu → in_bearbeitung → wartet → erledigt (staff may also release a request back to "neu" or reopen a
closed one). A requester's plain message is relayed when they have exactly one request in dialogue
(in_bearbeitung or wartet); ``RelayIndex`` answers that question synchronously for the message filter.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ChatMemberStatus, ReactionEmoji
from telegram.error import BadRequest, TelegramError
from telegram.ext import ExtBot

from bot import callbacks
from bot.content import Content
from bot.db import Database, NewRequest, OutboxRow, RequestRow, Tx
from bot.outbox import MESSAGE, Outbox, payload
from bot.roles import has_staff_role
from bot.telegram_html import Html, html_to_plain, split_message
from bot.texts import Texts

if TYPE_CHECKING:
    from bot.context import BotData

log = logging.getLogger(__name__)

ROLES = ("jugendamt", "traeger", "verwaltung", "sonstige")
CONTACT_KINDS = ("telegram", "email", "phone")
STATUSES = ("neu", "in_bearbeitung", "wartet", "erledigt")
ANSWERABLE = ("in_bearbeitung", "wartet")
OTHER_TOPIC = "sonstiges"

MAX_OPEN = 3
MAX_PER_DAY = 5
KOMMUNE_MIN, KOMMUNE_MAX = 2, 120
QUESTION_MIN, QUESTION_MAX = 10, 2000
EMAIL_MAX = 254
# An unfinished form older than this is dropped: the next free text is more likely a new question than the answer.
FORM_EXPIRES = timedelta(hours=24)
# How long a staff-group membership check is trusted. A removal is also seen at once: the bot gets a chat_member
# update (as an admin of the group) or the 'left the group' message, and forgets the cached answer.
MEMBER_CACHE = timedelta(seconds=15)
FORUM_CACHE = timedelta(minutes=10)
# Staff messages in a request's topic that start with this stay in the staff group.
INTERNAL_MARK = "#intern"
TOPIC_NAME_MAX = 128

# Outbox kinds.
KIND_POST = "request_post"  # the request itself, into the staff group
KIND_NOTE = "request_note"  # a message about a request into its topic / as a reply to it
KIND_USER = "request_user"  # a message to the requester
KIND_ACK = "request_ack"  # a 👍 on the staff message once the requester has it

CALLBACK_PREFIX = "req"


class InvalidInput(Exception):
    """User input that does not pass; ``key`` names the text that explains why."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class RightsUnknown(Exception):
    """Telegram could not tell whether the user belongs to the staff group (try again)."""


class NotPostedYet(TelegramError):
    """A note about a request whose staff post has not been delivered yet: the outbox retries it later."""


# --- validation ------------------------------------------------------------------------------------------------


def clean_kommune(text: str) -> str:
    value = " ".join(text.split())
    if len(value) < KOMMUNE_MIN or not any(ch.isalpha() for ch in value):
        raise InvalidInput("requests.invalid.kommune")
    if len(value) > KOMMUNE_MAX:
        raise InvalidInput("requests.invalid.kommune_long", max=KOMMUNE_MAX)
    return value


def utf16_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def fit_utf16(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-16 code units with "…", never inside a character."""
    if utf16_length(text) <= limit:
        return text
    kept: list[str] = []
    used = 1  # the "…"
    for char in text:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            break
        kept.append(char)
    return "".join(kept).rstrip() + "…"


def clean_question(text: str) -> str:
    """10–2000 characters as Telegram counts them, so the request always fits one staff message."""
    value = text.strip()
    length = utf16_length(value)
    if length < QUESTION_MIN:
        raise InvalidInput("requests.invalid.question_short", min=QUESTION_MIN)
    if length > QUESTION_MAX:
        raise InvalidInput("requests.invalid.question_long", max=QUESTION_MAX, length=length)
    return value


_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_TLD = re.compile(r"^([A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$")


def clean_email(text: str) -> str:
    """An e-mail address in the usual syntax (umlaut domains allowed); raises ``InvalidInput``."""
    value = text.strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or len(value) > EMAIL_MAX or len(local) > 64:
        raise InvalidInput("requests.invalid.email")
    if not _EMAIL_LOCAL.match(local):
        raise InvalidInput("requests.invalid.email")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidInput("requests.invalid.email") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise InvalidInput("requests.invalid.email")
    if not _TLD.match(labels[-1]):
        raise InvalidInput("requests.invalid.email")
    return value


_PHONE_CHARS = re.compile(r"^\+?[0-9(][0-9 ()/.\-]*[0-9]$")
_TRUNK_ZERO = re.compile(r"\(\s*0\s*\)")
_SEPARATORS = re.compile(r"[ ()/.\-]")


def clean_phone(text: str) -> str:
    """A German or international phone number: 030 1234567, 0151/12345678, +49 (0)30 123456, 0049 30 …"""
    value = " ".join(text.split())
    if not _PHONE_CHARS.match(value) or value.count("(") != value.count(")"):
        raise InvalidInput("requests.invalid.phone")
    if re.search(r"[ ()/.\-]{3,}", value):
        raise InvalidInput("requests.invalid.phone")
    digits = _SEPARATORS.sub("", _TRUNK_ZERO.sub("", value))
    if digits.startswith("+"):
        ok = re.fullmatch(r"\+[1-9]\d{6,14}", digits) is not None and not digits.startswith("+490")
    elif digits.startswith("00"):
        ok = re.fullmatch(r"00[1-9]\d{6,14}", digits) is not None and not digits.startswith("00490")
    else:
        ok = re.fullmatch(r"0[1-9]\d{5,13}", digits) is not None
    if not ok:
        raise InvalidInput("requests.invalid.phone")
    return value


def clean_contact(kind: str, text: str) -> str:
    if kind == "email":
        return clean_email(text)
    if kind == "phone":
        return clean_phone(text)
    raise InvalidInput("requests.invalid.contact_kind")


def find_land(text: str, laender: Mapping[str, str]) -> str | None:
    """The Land code for a typed name or code ("bayern", "NRW", "BW"), or None."""
    wanted = re.sub(r"[^a-zäöüß]", "", text.lower())
    aliases = {"nrw": "NW"}
    if wanted in aliases:
        return aliases[wanted]
    for code, name in laender.items():
        if wanted in (code.lower(), re.sub(r"[^a-zäöüß]", "", name.lower())):
            return code
    return None


# --- limits ----------------------------------------------------------------------------------------------------


def local_day_start(now: datetime, tz: tzinfo) -> datetime:
    """Midnight of ``now``'s local day, in UTC."""
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz).astimezone(UTC)


def limit_problem(open_count: int, today_count: int) -> str | None:
    """The text key explaining why a user may not file another request now, or None."""
    if open_count >= MAX_OPEN:
        return "requests.limits.open"
    if today_count >= MAX_PER_DAY:
        return "requests.limits.daily"
    return None


# --- status rules ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    """A planned change of a request: the new status and claim, and what the requester gets told."""

    status: str
    claimed_by: int | None
    claimed_by_name: str | None
    notify: bool
    ask_rating: bool


@dataclass(frozen=True, slots=True)
class Refusal:
    key: str
    params: dict[str, object] = field(default_factory=dict)


def plan_claim(req: RequestRow, staff_id: int, staff_name: str) -> Change | Refusal:
    """The claim button: the staff member takes the request; a request someone else has stays theirs."""
    if req.status == "erledigt":
        return Refusal("requests.staff.is_closed", {"number": req.id})
    if req.claimed_by == staff_id:
        return Refusal("requests.staff.already_yours", {"number": req.id})
    if req.claimed_by is not None:
        return Refusal(
            "requests.staff.claimed_by_other", {"number": req.id, "name": req.claimed_by_name or "?"}
        )
    status = "in_bearbeitung" if req.status == "neu" else req.status
    return Change(status, staff_id, staff_name, notify=status != req.status, ask_rating=False)


def plan_status(req: RequestRow, target: str, staff_id: int, staff_name: str) -> Change | Refusal:
    """A status chosen by staff. "neu" releases the claim; any other status keeps or takes it."""
    if target not in STATUSES:
        return Refusal("requests.staff.stale")
    if target == req.status:
        return Refusal("requests.staff.status_unchanged", {"number": req.id})
    if target == "neu":
        return Change("neu", None, None, notify=True, ask_rating=False)
    claimed_by = req.claimed_by if req.claimed_by is not None else staff_id
    claimed_name = req.claimed_by_name if req.claimed_by is not None else staff_name
    ask_rating = target == "erledigt" and req.rating is None
    return Change(target, claimed_by, claimed_name, notify=True, ask_rating=ask_rating)


def plan_staff_reply(req: RequestRow, staff_id: int, staff_name: str) -> Change | Refusal | None:
    """A staff answer: refused on a closed request; on a new one the author takes it (no one else had it)."""
    if req.status == "erledigt":
        return Refusal("requests.staff.relay_closed", {"number": req.id})
    if req.status == "neu" and req.claimed_by is None:
        return Change("in_bearbeitung", staff_id, staff_name, notify=True, ask_rating=False)
    return None


# --- rendering -------------------------------------------------------------------------------------------------


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


def _button(texts: Texts, key: str, action: str, arg: str | int) -> InlineKeyboardButton:
    return InlineKeyboardButton(texts(key), callback_data=callbacks.encode(CALLBACK_PREFIX, action, arg))


def staff_keyboard(texts: Texts, req: RequestRow) -> InlineKeyboardMarkup:
    if req.status == "erledigt":
        return InlineKeyboardMarkup([[_button(texts, "requests.buttons.status", "status", req.id)]])
    first = [_button(texts, "requests.buttons.status", "status", req.id)]
    if req.claimed_by is None:
        first.insert(0, _button(texts, "requests.buttons.claim", "claim", req.id))
    return InlineKeyboardMarkup([first, [_button(texts, "requests.buttons.done", "done", req.id)]])


def status_keyboard(texts: Texts, req: RequestRow) -> InlineKeyboardMarkup:
    rows = [
        [_button(texts, f"requests.buttons.set.{status}", "set", f"{req.id}.{status}")]
        for status in STATUSES
        if status != req.status
    ]
    rows.append([_button(texts, "requests.buttons.back", "back", req.id)])
    return InlineKeyboardMarkup(rows)


def reply_keyboard(texts: Texts, request_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(texts, "requests.buttons.reply", "reply", request_id)]])


def rating_keyboard(texts: Texts, request_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(texts, f"requests.buttons.rate.{n}", "rate", f"{request_id}.{n}") for n in range(1, 6)]]
    )


def topic_name(texts: Texts, req: RequestRow) -> str:
    """The forum topic's name (plain text, at most 128 characters as Telegram counts); closed ones get a tick."""
    key = "requests.staff.topic_name_closed" if req.status == "erledigt" else "requests.staff.topic_name"
    return fit_utf16(html_to_plain(texts(key, number=req.id, kommune=req.kommune)), TOPIC_NAME_MAX)


# --- services: every state change with the messages it causes, in one transaction -----------------------------


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
            await db.enqueue(
                tx,
                kind=KIND_POST,
                chat_id=staff_chat_id,
                payload={"request_id": request_id},
                now=now,
                ref=f"request:{request_id}",
            )
        return Submitted(request_id)


async def _enqueue_user_notices(
    db: Database, tx: Tx, texts: Texts, req: RequestRow, change: Change, now: datetime
) -> None:
    if change.notify:
        markup = reply_keyboard(texts, req.id) if change.status in ANSWERABLE else None
        await db.enqueue(
            tx,
            kind=KIND_USER,
            chat_id=req.user_id,
            payload=payload(
                texts(f"requests.user.status.{change.status}", number=req.id), markup, request_id=req.id
            ),
            now=now,
            ref=req.ref,
        )
    if change.ask_rating:
        await db.enqueue(
            tx,
            kind=KIND_USER,
            chat_id=req.user_id,
            payload=payload(
                texts("requests.user.rate_prompt", number=req.id),
                rating_keyboard(texts, req.id),
                request_id=req.id,
            ),
            now=now,
            ref=req.ref,
        )


async def apply_change(
    db: Database, texts: Texts, req: RequestRow, change: Change, *, by: int, now: datetime, action: str
) -> RequestRow | None:
    """Apply a planned change if the request is unchanged since it was read; None when someone was faster."""
    async with db.transaction() as tx:
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
        if not ok:
            return None
        await _enqueue_user_notices(db, tx, texts, req, change, now)
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
        if plan is not None:
            ok = await db.change_request(
                tx,
                req,
                status=plan.status,
                claimed_by=plan.claimed_by,
                claimed_by_name=plan.claimed_by_name,
                by=staff_id,
                now=now,
                action="claimed",
            )
            if not ok:
                return None
            await _enqueue_user_notices(db, tx, texts, req, plan, now)
        extra: dict[str, Any] = {"request_id": req.id}
        if ack is not None:
            extra["ack_chat_id"], extra["ack_message_id"] = ack
        await db.enqueue(
            tx,
            kind=KIND_USER,
            chat_id=req.user_id,
            payload=payload(
                texts("requests.user.answer", number=req.id, text=text),
                reply_keyboard(texts, req.id),
                **extra,
            ),
            now=now,
            ref=req.ref,
        )
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
            ok = await db.change_request(
                tx,
                req,
                status=status,
                claimed_by=req.claimed_by,
                claimed_by_name=req.claimed_by_name,
                by=req.user_id,
                now=now,
            )
            if not ok:
                return None
        await db.enqueue(
            tx,
            kind=KIND_NOTE,
            chat_id=staff_chat_id,
            payload=payload(
                texts("requests.staff.from_user", number=req.id, name=req.requester_name, text=text),
                request_id=req.id,
                from_user=True,
            ),
            now=now,
            ref=req.ref,
        )
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
                await db.enqueue(
                    tx,
                    kind=KIND_POST,
                    chat_id=staff_chat_id,
                    payload={"request_id": req.id},
                    now=now,
                    ref=req.ref,
                )
            waited = max(1, int((now - req.created_at).total_seconds() // 3600))
            markup = InlineKeyboardMarkup([[_button(texts, "requests.buttons.claim", "claim", req.id)]])
            await db.enqueue(
                tx,
                kind=KIND_NOTE,
                chat_id=staff_chat_id,
                payload=payload(
                    texts("requests.staff.reminder", number=req.id, kommune=req.kommune, hours=waited),
                    markup,
                    request_id=req.id,
                ),
                now=now,
                ref=req.ref,
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


# --- the desk: staff rights, the staff group's shape, and delivery -------------------------------------------


def _topic_unusable(exc: BadRequest) -> bool:
    """The request's topic was deleted or closed to the bot: post into the group itself instead."""
    message = exc.message.lower()
    return "thread" in message or "topic_closed" in message or "topic_deleted" in message


class RequestDesk:
    """Long-lived state of the feature (``context.bot_data.requests``) and its outbox deliverers."""

    def __init__(self, services: BotData) -> None:
        self._services = services
        self._forum: tuple[int, bool, datetime] | None = None
        self._members: dict[int, tuple[bool, datetime]] = {}
        self.index = RelayIndex()

    # -- rights --

    async def is_staff(self, bot: ExtBot[None], user_id: int) -> bool:
        """Member of the staff group (short cache) or the staff role; raises ``RightsUnknown`` on API errors."""
        services = self._services
        if await has_staff_role(services.settings, services.db, user_id):
            return True
        chat_id = services.settings.staff_chat_id
        if chat_id is None:
            return False
        now = services.clock.now()
        cached = self._members.get(user_id)
        if cached is not None and now - cached[1] < MEMBER_CACHE:
            return cached[0]
        try:
            member = await bot.get_chat_member(chat_id, user_id)
        except TelegramError as exc:
            if isinstance(exc, BadRequest) and "not found" in exc.message.lower():
                self._members[user_id] = (False, now)
                return False
            log.warning("staff check failed: %s", type(exc).__name__)
            raise RightsUnknown from exc
        allowed = member.status in (
            ChatMemberStatus.MEMBER,
            ChatMemberStatus.ADMINISTRATOR,
            ChatMemberStatus.OWNER,
        ) or (member.status == ChatMemberStatus.RESTRICTED and bool(getattr(member, "is_member", False)))
        self._members[user_id] = (allowed, now)
        return allowed

    def member_changed(self, user_id: int, status: str | None) -> None:
        """A chat_member update or a join/leave message from the staff group: the new status counts at once
        (None: unknown, ask Telegram at the next check)."""
        if status is None:
            self._members.pop(user_id, None)
            return
        allowed = status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
        if allowed:
            self._members.pop(
                user_id, None
            )  # confirmed by the next check (a restricted member may not be one)
        else:
            self._members[user_id] = (False, self._services.clock.now())

    async def is_forum(self, bot: ExtBot[None], chat_id: int) -> bool:
        now = self._services.clock.now()
        if self._forum is not None and self._forum[0] == chat_id and now - self._forum[2] < FORUM_CACHE:
            return self._forum[1]
        chat = await bot.get_chat(chat_id)
        forum = bool(chat.is_forum)
        self._forum = (chat_id, forum, now)
        return forum

    # -- outbox kinds --

    def register_kinds(self, outbox: Outbox) -> None:
        outbox.register(
            KIND_POST,
            deliver=self.deliver_post,
            on_sent=self.on_staff_message_sent,
            on_failed=self.on_post_failed,
        )
        outbox.register(
            KIND_NOTE,
            deliver=self.deliver_note,
            on_sent=self.on_staff_message_sent,
            on_failed=self.on_note_failed,
        )
        outbox.register(KIND_USER, on_sent=self.on_user_message_sent, on_failed=self.on_user_message_failed)
        outbox.register(KIND_ACK, deliver=self.deliver_ack)

    async def deliver_post(self, bot: ExtBot[None], row: OutboxRow) -> int | None:
        """Post the request: create its forum topic first (stored before posting) where the group is a forum."""
        services = self._services
        req = await services.db.get_request(int(row.payload["request_id"]))
        if req is None:  # erased in the meantime (privacy): nothing to post
            return None
        thread_id = req.staff_thread_id if req.staff_chat_id == row.chat_id else None
        if (
            thread_id is None
            and await self.is_forum(bot, row.chat_id)
            and not await self._topic_may_exist(req.id, row.chat_id)
        ):
            await services.db.set_topic_intent(req.id, row.chat_id)
            try:
                topic = await bot.create_forum_topic(row.chat_id, topic_name(services.texts, req))
            except BadRequest as exc:
                # No right to manage topics (or a name Telegram refuses): into the group itself rather than
                # nowhere; staff reply to the message there, as in a plain group.
                log.warning("request %s: no forum topic (%s); posting into the group", req.id, exc.message)
            else:
                thread_id = topic.message_thread_id
                await services.db.set_request_thread(req.id, row.chat_id, thread_id)
                req = await services.db.get_request(req.id)
                if req is None:
                    return None
        text = staff_post_text(services.texts, services.content, req, services.settings.tz)
        markup = staff_keyboard(services.texts, req)
        try:
            message = await bot.send_message(
                row.chat_id, text, reply_markup=markup, message_thread_id=thread_id
            )
        except BadRequest as exc:
            if thread_id is None or not _topic_unusable(exc):
                raise
            # The topic was deleted: post into the group itself rather than lose the request.
            await services.db.set_request_thread(req.id, row.chat_id, None)
            message = await bot.send_message(row.chat_id, text, reply_markup=markup)
        return message.message_id

    async def _topic_may_exist(self, request_id: int, chat_id: int) -> bool:
        """A topic was being created for the request when the bot stopped or the answer got lost: Telegram may
        have created it, and the Bot API cannot list topics to find it. Post into the group itself rather than
        into a second topic (staff writing in the first one make it the request's topic again)."""
        if await self._services.db.topic_intent(request_id) != chat_id:
            return False
        log.warning(
            "request %s: a forum topic may have been created before the bot stopped; posting into the group "
            "instead of creating a second one",
            request_id,
        )
        return True

    async def deliver_note(self, bot: ExtBot[None], row: OutboxRow) -> int | None:
        """Into the request's topic, or as a reply to the request message; waits until the request is posted."""
        req = await self._services.db.get_request(int(row.payload["request_id"]))
        if req is None:
            return None
        markup = (
            InlineKeyboardMarkup.de_json(row.payload["reply_markup"], bot)
            if row.payload.get("reply_markup")
            else None
        )
        same_chat = req.staff_chat_id == row.chat_id
        if not posted_to(req, row.chat_id) and await post_pending(self._services.db, req):
            raise NotPostedYet(f"request {req.id} not posted yet")
        thread_id = req.staff_thread_id if same_chat else None
        reply_to = req.staff_message_id if same_chat and thread_id is None else None
        text = str(row.payload["text"])
        try:
            return await self._send_parts(bot, row.chat_id, text, markup, thread_id, reply_to)
        except BadRequest as exc:
            if thread_id is None or not _topic_unusable(exc):
                raise
            return await self._send_parts(bot, row.chat_id, text, markup, None, None)

    @staticmethod
    async def _send_parts(
        bot: ExtBot[None],
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None,
        thread_id: int | None,
        reply_to: int | None,
    ) -> int | None:
        parts = split_message([text])
        message: Message | None = None
        for index, part in enumerate(parts):
            message = await bot.send_message(
                chat_id,
                part,
                reply_markup=markup if index == len(parts) - 1 else None,
                message_thread_id=thread_id,
                reply_to_message_id=reply_to if index == 0 else None,
                allow_sending_without_reply=True if reply_to is not None else None,
            )
        return message.message_id if message is not None else None

    async def on_staff_message_sent(self, tx: Tx, row: OutboxRow, message_id: int | None) -> None:
        """Remember the staff-chat message, so a reply to it reaches the requester."""
        if message_id is None:
            return
        request_id = int(row.payload["request_id"])
        if row.kind == KIND_POST:
            await Database.set_request_posted(tx, request_id, row.chat_id, message_id)
        else:
            await Database.link_request_message(tx, request_id, row.chat_id, message_id)

    async def on_post_failed(self, tx: Tx, row: OutboxRow, error: str) -> None:
        """Telegram refused the request for good (bot removed, wrong chat id, …): the admins hear of it now.

        The request stays stored and listed in /offen; the unclaimed-request reminder posts it again.
        """
        services = self._services
        request_id = int(row.payload["request_id"])
        log.warning("request %s did not reach the staff chat: %s", request_id, error)
        text = services.texts(
            "requests.admin.post_failed",
            number=request_id,
            error=error,
            hours=f"{services.settings.request_reminder_hours:g}",
        )
        for admin_id in sorted(services.settings.admin_ids):
            await Database.enqueue(
                tx,
                kind=MESSAGE,
                chat_id=admin_id,
                payload=payload(text),
                now=services.clock.now(),
                ref=row.ref,
            )

    async def on_note_failed(self, tx: Tx, row: OutboxRow, error: str) -> None:
        """A message for the staff was refused for good; if it was the requester's, they must not wait for it."""
        services = self._services
        request_id = int(row.payload["request_id"])
        log.warning("a message about request %s did not reach the staff chat: %s", request_id, error)
        if not row.payload.get("from_user"):
            return
        req = await services.db.get_request(request_id)
        if req is None:
            return
        await Database.enqueue(
            tx,
            kind=KIND_USER,
            chat_id=req.user_id,
            payload=payload(
                services.texts("requests.user.relay_failed", number=req.id),
                reply_keyboard(services.texts, req.id) if req.is_open else None,
                request_id=req.id,
            ),
            now=services.clock.now(),
            ref=row.ref,
        )

    async def on_user_message_sent(self, tx: Tx, row: OutboxRow, message_id: int | None) -> None:
        """The requester has the team's answer: mark the staff message with a 👍 (best effort, via the outbox)."""
        chat_id, ack_message = row.payload.get("ack_chat_id"), row.payload.get("ack_message_id")
        if chat_id is None or ack_message is None:
            return
        await Database.enqueue(
            tx,
            kind=KIND_ACK,
            chat_id=int(chat_id),
            payload={"message_id": int(ack_message)},
            now=self._services.clock.now(),
            ref=row.ref,
        )

    async def on_user_message_failed(self, tx: Tx, row: OutboxRow, error: str) -> None:
        """The requester cannot be reached (blocked the bot, deleted the account): the staff must know."""
        services = self._services
        staff_chat_id = services.settings.staff_chat_id
        request_id = row.payload.get("request_id")
        if staff_chat_id is None or request_id is None:
            return
        reason = "blocked" if error.startswith("Forbidden") else "other"
        await Database.enqueue(
            tx,
            kind=KIND_NOTE,
            chat_id=staff_chat_id,
            payload=payload(
                services.texts(f"requests.staff.undeliverable.{reason}", number=int(request_id)),
                request_id=int(request_id),
            ),
            now=services.clock.now(),
            ref=row.ref,
        )

    @staticmethod
    async def deliver_ack(bot: ExtBot[None], row: OutboxRow) -> int | None:
        """One try only: the 👍 is a courtesy (reactions may be off in the group); failures are just logged."""
        try:
            await bot.set_message_reaction(
                row.chat_id, int(row.payload["message_id"]), ReactionEmoji.THUMBS_UP
            )
        except TelegramError as exc:
            log.info("delivery mark not set: %s", type(exc).__name__)
        return None

    # -- the staff views after a change (best effort: the database and /offen stay the truth) --

    async def refresh_staff_views(self, bot: ExtBot[None], req: RequestRow, *, renamed: bool) -> None:
        services = self._services
        if req.staff_chat_id is None or req.staff_message_id is None:
            return
        text = staff_post_text(services.texts, services.content, req, services.settings.tz)
        try:
            await bot.edit_message_text(
                text,
                req.staff_chat_id,
                req.staff_message_id,
                reply_markup=staff_keyboard(services.texts, req),
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.info("request message not updated: %s", exc.message)
        except TelegramError as exc:
            log.info("request message not updated: %s", type(exc).__name__)
        if renamed and req.staff_thread_id is not None:
            try:
                await bot.edit_forum_topic(
                    req.staff_chat_id, req.staff_thread_id, name=topic_name(services.texts, req)
                )
            except TelegramError as exc:
                log.info("request topic not renamed: %s", type(exc).__name__)
