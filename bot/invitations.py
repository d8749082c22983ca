"""Roles granted by admins: one-time invitation links (``/start rolle_<code>``) and ``/rolle`` by user id.

An invitation code is 144 random bits; only its SHA-256 is stored, so a leaked database does not leak usable
links. A code works once and for ``INVITATION_DAYS``; redeeming it grants the role and records the change
(``role_changes.via = 'invitation'``) in one transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.db import Database, InvitationRow
from bot.roles import Role

INVITATION_DAYS = 7
PAYLOAD_PREFIX = "rolle_"
_CODE = re.compile(r"^[A-Za-z0-9_-]{16,58}$")

# Words an admin may type for a role or an action in /rolle (lower case).
ROLE_WORDS: dict[str, Role] = {
    "koordination": Role.COORDINATOR,
    "koordinator": Role.COORDINATOR,
    "koordinatorin": Role.COORDINATOR,
    "coordinator": Role.COORDINATOR,
    "team": Role.STAFF,
    "beratungsteam": Role.STAFF,
    "beratung": Role.STAFF,
    "staff": Role.STAFF,
}
GRANT_WORDS = {"geben", "vergeben", "erteilen", "grant", "+"}
REVOKE_WORDS = {"nehmen", "entziehen", "entfernen", "revoke", "-"}


def new_code() -> str:
    return secrets.token_urlsafe(18)  # 24 characters of [A-Za-z0-9_-]


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={PAYLOAD_PREFIX}{code}"


def code_from_payload(payload: str) -> str | None:
    """The code in a ``rolle_<code>`` deep-link payload, or None when it cannot be one."""
    if not payload.startswith(PAYLOAD_PREFIX):
        return None
    code = payload[len(PAYLOAD_PREFIX) :]
    return code if _CODE.match(code) else None


async def create(db: Database, role: Role, by: int, now: datetime) -> tuple[str, datetime]:
    """A new invitation: (the code for the link, when it expires)."""
    code = new_code()
    expires = now + timedelta(days=INVITATION_DAYS)
    await db.create_invitation(code_hash(code), role.value, by, now, expires)
    return code, expires


async def redeem(
    db: Database,
    code: str,
    user_id: int,
    now: datetime,
    notice: Callable[[InvitationRow, bool], tuple[int, dict[str, Any]] | None],
) -> tuple[InvitationRow, bool] | None:
    """Use a code: (invitation, newly granted), or None for an unknown, used or expired code (nothing changes)."""
    return await db.redeem_invitation(code_hash(code), user_id, now, notice)


@dataclass(frozen=True, slots=True)
class RoleChange:
    grant: bool
    user_id: int
    role: Role


class RoleCommandError(ValueError):
    """``/rolle`` arguments that do not parse; the handler shows the usage."""


def parse_role_command(args: list[str]) -> RoleChange:
    """``geben 12345 koordination`` / ``nehmen 12345 team`` (the order of id and role may vary)."""
    if len(args) != 3:
        raise RoleCommandError("three words expected")
    action, *rest = (a.strip().lower() for a in args)
    if action in GRANT_WORDS:
        grant = True
    elif action in REVOKE_WORDS:
        grant = False
    else:
        raise RoleCommandError("unknown action")
    ids = [w for w in rest if re.fullmatch(r"\d{1,15}", w)]
    roles = [ROLE_WORDS[w] for w in rest if w in ROLE_WORDS]
    if len(ids) != 1 or len(roles) != 1 or int(ids[0]) <= 0:
        raise RoleCommandError("one user id and one role expected")
    return RoleChange(grant, int(ids[0]), roles[0])
