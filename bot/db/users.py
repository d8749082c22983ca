"""Users, their roles and role invitations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.db.core import DatabaseCore, Tx, from_db_time, to_db_time
from bot.db.outbox import OutboxMixin

# Users whose language is kept in memory (``touch_user``).
KNOWN_USERS_CACHED = 10_000


@dataclass(frozen=True, slots=True)
class UserRow:
    """Someone who wrote to the bot in private, with the Bundesland they chose (if any)."""

    id: int
    language: str | None
    first_seen: datetime
    bundesland: str | None


@dataclass(frozen=True, slots=True)
class InvitationRow:
    """A one-time code that grants ``role`` (only its hash is stored), and who used it."""

    id: int
    role: str
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_by: int | None
    used_at: datetime | None


async def _grant(tx: Tx, user_id: int, role: str, by: int, now: datetime, via: str) -> bool:
    """Grant a role and record the change inside the caller's transaction; False when the user had it."""
    cur = await tx.execute(
        "INSERT INTO roles (user_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(user_id, role) DO NOTHING",
        (user_id, role, by, to_db_time(now)),
    )
    if cur.rowcount != 1:
        return False
    await tx.execute(
        "INSERT INTO role_changes (user_id, role, action, changed_by, changed_at, via) "
        "VALUES (?, ?, 'grant', ?, ?, ?)",
        (user_id, role, by, to_db_time(now), via),
    )
    return True


class UsersMixin(DatabaseCore):
    """Users, their roles and role invitations."""

    async def touch_user(self, user_id: int, language: str | None, now: datetime) -> bool:
        """Record a user who writes in private; True when they are new. Writes only on a change."""
        if user_id in self._known_users and self._known_users[user_id] == language:
            self._known_users.move_to_end(user_id)
            return False
        known = await self.get_user(user_id)
        self._remember_user(user_id, language)
        if known is not None and known.language == language:
            return False
        async with self.transaction() as tx:
            cur = await tx.execute(
                "INSERT INTO users (id, language, first_seen) VALUES (?, ?, ?) ON CONFLICT(id) DO NOTHING",
                (user_id, language, to_db_time(now)),
            )
            if cur.rowcount == 1:
                return True
            await tx.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))
            return False

    def _remember_user(self, user_id: int, language: str | None) -> None:
        self._known_users[user_id] = language
        self._known_users.move_to_end(user_id)
        while len(self._known_users) > KNOWN_USERS_CACHED:
            self._known_users.popitem(last=False)

    def forget_user(self, user_id: int) -> None:
        """The user's rows were erased: the next update records them anew."""
        self._known_users.pop(user_id, None)

    async def get_user(self, user_id: int) -> UserRow | None:
        return await self.fetch_row(
            UserRow, "SELECT id, language, first_seen, bundesland FROM users WHERE id = ?", (user_id,)
        )

    async def set_user_land(self, user_id: int, code: str | None, now: datetime) -> None:
        """Remember the user's Bundesland (creates the user row if needed)."""
        await self.write(
            "INSERT INTO users (id, first_seen, bundesland) VALUES (?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET bundesland = excluded.bundesland",
            (user_id, to_db_time(now), code),
        )

    async def user_roles(self, user_id: int) -> set[str]:
        rows = await self.fetchall("SELECT role FROM roles WHERE user_id = ?", (user_id,))
        return {str(r["role"]) for r in rows}

    async def users_with_role(self, role: str) -> set[int]:
        rows = await self.fetchall("SELECT user_id FROM roles WHERE role = ?", (role,))
        return {int(r["user_id"]) for r in rows}

    async def grant_role(self, user_id: int, role: str, by: int, now: datetime, via: str) -> bool:
        """Grant a role and record the change; False when the user already had it."""
        async with self.transaction() as tx:
            return await _grant(tx, user_id, role, by, now, via)

    async def revoke_role(self, user_id: int, role: str, by: int, now: datetime) -> bool:
        async with self.transaction() as tx:
            cur = await tx.execute("DELETE FROM roles WHERE user_id = ? AND role = ?", (user_id, role))
            if cur.rowcount != 1:
                return False
            await tx.execute(
                "INSERT INTO role_changes (user_id, role, action, changed_by, changed_at, via) "
                "VALUES (?, ?, 'revoke', ?, ?, 'user_id')",
                (user_id, role, by, to_db_time(now)),
            )
            return True

    async def create_invitation(
        self, code_hash: str, role: str, by: int, now: datetime, expires_at: datetime
    ) -> int:
        async with self.transaction() as tx:
            return await tx.insert(
                "INSERT INTO role_invitations (code_hash, role, created_by, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (code_hash, role, by, to_db_time(now), to_db_time(expires_at)),
            )

    async def redeem_invitation(
        self,
        code_hash: str,
        user_id: int,
        now: datetime,
        notice: Callable[[InvitationRow, bool], tuple[int, dict[str, Any]] | None],
    ) -> tuple[InvitationRow, bool] | None:
        """Use an invitation once: mark it used, grant its role and record the change, in one transaction.

        ``notice(invitation, granted)`` returns ``(chat_id, payload)`` of a message for the inviter, or None; it is
        enqueued in the same transaction. Returns (invitation, newly granted) or None when the code is unknown,
        used or expired — then nothing changes.
        """
        async with self.transaction() as tx:
            cur = await tx.execute(
                "UPDATE role_invitations SET used_by = ?, used_at = ? "
                "WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?",
                (user_id, to_db_time(now), code_hash, to_db_time(now)),
            )
            if cur.rowcount != 1:
                return None
            invitation = await tx.fetch_row(
                InvitationRow, "SELECT * FROM role_invitations WHERE code_hash = ?", (code_hash,)
            )
            assert invitation is not None
            granted = await _grant(tx, user_id, invitation.role, invitation.created_by, now, "invitation")
            message = notice(invitation, granted)
            if message is not None:
                chat_id, payload = message
                await OutboxMixin.enqueue(tx, kind="message", chat_id=chat_id, payload=payload, now=now)
            return invitation, granted

    async def role_holders(self) -> list[tuple[int, str, datetime]]:
        """(user id, role, granted at) of every granted role."""
        rows = await self.fetchall("SELECT user_id, role, granted_at FROM roles ORDER BY role, granted_at")
        return [(int(r["user_id"]), str(r["role"]), from_db_time(str(r["granted_at"]))) for r in rows]
