"""bot/ptb_internals.py uses private python-telegram-bot API; these tests fail loudly when an upgrade changes it."""

from __future__ import annotations

from typing import Any

from telegram import Bot, Update
from telegram.ext import CommandHandler, ConversationHandler, MessageHandler, filters
from telegram.ext._utils.trackingdict import TrackingDict

from bot import ptb_internals
from tests.harness import Harness

USER = 4711
ASKING = 1


async def _start(update: Update, context: Any) -> int:
    return ASKING


def _dialogue() -> ConversationHandler[Any]:
    return ConversationHandler(
        entry_points=[CommandHandler("start", _start)],
        states={ASKING: [MessageHandler(filters.TEXT, _start)]},
        fallbacks=[],
        name="probe",
        persistent=False,
    )


def _update(text: str, chat_id: int = USER) -> Update:
    user = {"id": USER, "is_bot": False, "first_name": "Test"}
    data = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": chat_id, "type": "private"},
            "from": user,
            "text": text,
        },
    }
    return Update.de_json(data, Bot("1:x"))


def test_the_private_names_still_exist() -> None:
    for name in ("_get_key", "_update_state"):
        assert callable(getattr(ConversationHandler, name, None)), (
            f"PTB renamed ConversationHandler.{name}: update bot/ptb_internals.py"
        )
    assert isinstance(getattr(_dialogue(), "_conversations", None), dict), (
        "PTB changed ConversationHandler._conversations: update bot/ptb_internals.py"
    )


def test_open_key_end_and_keys_work_on_a_real_conversation_handler() -> None:
    dialogue = _dialogue()
    update = _update("/start")
    assert ptb_internals.open_key(dialogue, update) is None  # nothing open yet
    key = dialogue._get_key(update)
    assert key == (USER, USER)
    dialogue._update_state(ASKING, key)  # what PTB does when the entry point returns ASKING
    assert ptb_internals.open_key(dialogue, update) == key
    assert list(ptb_internals.keys(dialogue)) == [key]
    assert ptb_internals.open_key(dialogue, _update("hallo", chat_id=-100)) is None  # another chat
    ptb_internals.end(dialogue, key)
    assert ptb_internals.open_key(dialogue, update) is None
    assert list(ptb_internals.keys(dialogue)) == []


async def test_in_the_running_bot_an_ended_dialogue_reaches_the_persistence(bot: Harness) -> None:
    """PTB swaps in a TrackingDict for persistent dialogues; ending through it is what lets the next flush
    delete the stored state, so an ended dialogue stays ended after a restart."""
    dialogues = [h for h in bot.app.handlers[0] if isinstance(h, ConversationHandler)]
    assert dialogues and all(isinstance(d._conversations, TrackingDict) for d in dialogues)
    user = bot.user(USER)
    await bot.send(user, "/beratung")
    update = bot.factory.message(user, "Stadt Musterstadt")
    [(dialogue, key)] = [(d, k) for d in dialogues if (k := ptb_internals.open_key(d, update)) is not None]
    conversations = dialogue._conversations
    assert isinstance(conversations, TrackingDict)
    conversations.pop_accessed_keys()
    ptb_internals.end(dialogue, key)
    assert ptb_internals.open_key(dialogue, update) is None
    assert key in conversations.pop_accessed_keys()


def test_an_update_without_user_has_no_open_dialogue() -> None:
    dialogue = _dialogue()
    update = Update.de_json({"update_id": 2}, Bot("1:x"))
    assert ptb_internals.open_key(dialogue, update) is None
