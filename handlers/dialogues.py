"""One dialogue at a time, a guard in its own group before the features.

Each dialogue (request form, announcement, event form, guided tools) is its own ConversationHandler and owns the
user's free text while it is active. Without this guard a second dialogue could start while the first was still
waiting for text, and the first — registered earlier — would take the answer meant for the second. So:

- an update that starts a dialogue (one of its entry points matches) ends every other dialogue of that user;
- ``/abbrechen`` ends them all: the first active dialogue answers it as usual, the others end silently.

Drafts of an ended dialogue stay where the feature keeps them; each dialogue starts afresh on entry.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, ConversationHandler, TypeHandler

from bot.context import App, Context

GROUP = -10  # its own group: in a group only the first matching handler runs
CANCEL_COMMANDS = frozenset({"abbrechen", "cancel"})
Conversation = ConversationHandler[Any]


def _matches(handler: BaseHandler[Any, Any, Any], update: Update) -> bool:
    check = handler.check_update(update)
    return check is not None and check is not False


def _is_cancel(update: Update) -> bool:
    message = update.effective_message
    if update.message is None or message is None or not message.text or not message.text.startswith("/"):
        return False
    command = message.text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()
    return command in CANCEL_COMMANDS


def _active(conversation: Conversation, update: Update) -> tuple[Any, ...] | None:
    """The conversation key when the user has this dialogue open in this chat, else None."""
    try:
        key = conversation._get_key(update)  # PTB's own key (chat, user) for this update
    except RuntimeError:  # an update without chat or user
        return None
    return key if key in conversation._conversations else None


def _end(conversation: Conversation, key: tuple[Any, ...]) -> None:
    # Deleting the state also marks it for the persistence, so the ended dialogue stays ended after a restart.
    conversation._update_state(ConversationHandler.END, key)


def guard(conversations: list[Conversation]) -> TypeHandler[Update, Context, None]:
    async def one_dialogue_at_a_time(update: Update, context: Context) -> None:
        chat = update.effective_chat
        if chat is None or chat.type != "private" or update.edited_message is not None:
            return  # an edit starts nothing (handlers.fallback answers it)
        open_ = [(c, key) for c in conversations if (key := _active(c, update)) is not None]
        if not open_:
            return
        if _is_cancel(update):
            for conversation, key in open_[1:]:  # the first one answers /abbrechen itself
                _end(conversation, key)
            return
        starting = [c for c in conversations if any(_matches(h, update) for h in c.entry_points)]
        if not starting:
            return
        for conversation, key in open_:
            if conversation not in starting:
                _end(conversation, key)

    return TypeHandler(Update, one_dialogue_at_a_time)


def register(app: App) -> None:
    """Call after every feature registered its handlers: it looks up the dialogues in group 0."""
    conversations = [h for h in app.handlers.get(0, []) if isinstance(h, ConversationHandler)]
    app.add_handler(guard(conversations), group=GROUP)
