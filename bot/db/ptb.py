"""What python-telegram-bot persists (``bot/persistence.py``): conversation states and ``user_data`` as JSON."""

from __future__ import annotations

import json
from typing import Any

from bot.db.core import DatabaseCore


class PtbStoreMixin(DatabaseCore):
    """Rows of ``conversations`` and ``user_data``; the JSON texts are stored as given."""

    async def stored_user_data(self) -> dict[int, str]:
        """Every user's ``user_data`` as the JSON text that was written."""
        rows = await self.fetchall("SELECT user_id, data FROM user_data")
        return {int(r["user_id"]): str(r["data"]) for r in rows}

    async def conversation_states(self, name: str) -> dict[tuple[Any, ...], object]:
        """The states of the conversation handler ``name`` by conversation key."""
        rows = await self.fetchall("SELECT key, state FROM conversations WHERE name = ?", (name,))
        return {tuple(json.loads(r["key"])): json.loads(r["state"]) for r in rows}

    async def set_conversation_state(self, name: str, key: tuple[Any, ...], state: object | None) -> None:
        """Store a conversation's state; None ends the conversation (its row goes)."""
        async with self.transaction() as tx:
            if state is None:
                await tx.execute(
                    "DELETE FROM conversations WHERE name = ? AND key = ?", (name, json.dumps(list(key)))
                )
            else:
                await tx.execute(
                    "INSERT INTO conversations (name, key, state) VALUES (?, ?, ?) "
                    "ON CONFLICT(name, key) DO UPDATE SET state = excluded.state",
                    (name, json.dumps(list(key)), json.dumps(state)),
                )

    async def store_user_data(self, user_id: int, text: str) -> None:
        """Store a user's ``user_data`` as JSON text; an empty text removes the row."""
        async with self.transaction() as tx:
            if text:
                await tx.execute(
                    "INSERT INTO user_data (user_id, data) VALUES (?, ?) "
                    "ON CONFLICT(user_id) DO UPDATE SET data = excluded.data",
                    (user_id, text),
                )
            else:
                await tx.execute("DELETE FROM user_data WHERE user_id = ?", (user_id,))

    async def drop_ptb_user(self, user_id: int) -> None:
        """Remove the user's ``user_data`` and end every conversation of theirs."""
        async with self.transaction() as tx:
            await tx.execute("DELETE FROM user_data WHERE user_id = ?", (user_id,))
            # Conversation keys hold the user id (per_user=True): end every conversation of that user.
            await tx.execute(
                "DELETE FROM conversations WHERE EXISTS "
                "(SELECT 1 FROM json_each(conversations.key) WHERE json_each.value = ?)",
                (user_id,),
            )
