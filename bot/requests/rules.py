"""Consultation requests, the rules: limits and texts' keys, input validation, the user's limits, and which
status change a staff action means (pure functions, no I/O)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo

from telegram.error import TelegramError

from bot.db import RequestRow
from bot.user_errors import KeyedError

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


class InvalidInput(KeyedError):
    """User input that does not pass; ``key`` names the text that explains why."""


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
