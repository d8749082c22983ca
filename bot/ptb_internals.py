"""The one module that touches python-telegram-bot's private ``ConversationHandler`` API.

Why: PTB offers no public way to ask whether a user has a dialogue open, to end a dialogue from outside it, or to
drop a user's dialogue states. The bot needs all three: the one-dialogue-at-a-time guard (handlers/dialogues.py)
and erasure on request (bot/privacy.py, so the next persistence flush deletes the rows too). The names used here
(``_get_key``, ``_conversations``, ``_update_state``) are private in PTB 22 (pinned ``<23`` in pyproject.toml);
tests/unit/test_ptb_internals.py fails loudly when an upgrade renames them or changes what they do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from telegram import Update
from telegram.ext import ConversationHandler

Conversation = ConversationHandler[Any]
Key = tuple[int | str, ...]


def open_key(conversation: Conversation, update: Update) -> Key | None:
    """The conversation key (chat, user) when this update's user has the dialogue open, else None."""
    try:
        key = conversation._get_key(update)  # PTB's own key for this update
    except RuntimeError:  # an update without chat or user
        return None
    return key if key in conversation._conversations else None


def end(conversation: Conversation, key: Key) -> None:
    """End the dialogue as a callback returning ``END`` would; PTB's tracking dict marks the key for the
    persistence, so the ended dialogue stays ended after a restart."""
    conversation._update_state(ConversationHandler.END, key)


def keys(conversation: Conversation) -> Iterator[Key]:
    """Every key with an open dialogue (a snapshot: ending dialogues while iterating is safe)."""
    yield from list(conversation._conversations)
