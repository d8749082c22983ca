"""Who may do what. Checked where the action happens — every command and every button press."""

from __future__ import annotations

import enum
from datetime import datetime

from bot.config import Settings
from bot.db import Database
from bot.outbox import payload, queue_message


class Role(enum.StrEnum):
    COORDINATOR = "coordinator"
    STAFF = "staff"


async def is_admin(settings: Settings, user_id: int | None) -> bool:
    return user_id is not None and user_id in settings.admin_ids


async def is_coordinator(settings: Settings, db: Database, user_id: int | None) -> bool:
    """Coordinators push announcements and manage events; admins may do it too."""
    if user_id is None:
        return False
    return user_id in settings.admin_ids or Role.COORDINATOR in await db.user_roles(user_id)


async def has_staff_role(settings: Settings, db: Database, user_id: int | None) -> bool:
    """The staff role (admins included); membership of the staff group is checked by the requests feature."""
    if user_id is None:
        return False
    return user_id in settings.admin_ids or Role.STAFF in await db.user_roles(user_id)


async def change_role(
    db: Database, user_id: int, role: Role, admin_id: int, now: datetime, *, grant: bool, notice: str
) -> bool:
    """Grant or revoke (recorded with who and when); when that changed anything, queue ``notice`` for the user.
    Returns whether it changed. The change is committed first; the notice is a courtesy and follows it."""
    if grant:
        changed = await db.grant_role(user_id, role.value, admin_id, now, "user_id")
    else:
        changed = await db.revoke_role(user_id, role.value, admin_id, now)
    if changed:
        await queue_message(db, user_id, payload(notice), now)
    return changed
