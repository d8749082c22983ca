"""An in-process stand-in for the Bot API, used by ``python -m bot demo`` and the handler tests.

``OfflineBotApi`` is a PTB request object: the real ``Application`` talks to it instead of the network. It
answers the Bot API methods the bot uses with Telegram-shaped results, keeps the messages it "sent", and records
every call. ``UpdateFactory`` builds the updates a user would cause (a text, a command, a button press).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

BOT_ID = 7000000001
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "IJA-Lotse", "username": "ija_lotse_bot"}
OFFLINE_TOKEN = f"{BOT_ID}:offline-token-not-secret"


class UnexpectedCall(AssertionError):
    """The bot called a method the offline API does not answer (tests fail on it)."""


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


@dataclass
class SentMessage:
    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None
    thread_id: int | None = None
    document: tuple[str, bytes] | None = None
    edited: bool = False

    def buttons(self) -> list[dict[str, Any]]:
        if not self.reply_markup:
            return []
        return [b for row in self.reply_markup.get("inline_keyboard", []) for b in row]

    def as_message_dict(self) -> dict[str, Any]:
        chat_type = "private" if self.chat_id > 0 else "supergroup"
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": self.chat_id, "type": chat_type},
            "from": BOT_USER,
        }
        if self.document is not None:
            data["document"] = {
                "file_id": f"doc{self.message_id}",
                "file_unique_id": f"u{self.message_id}",
                "file_name": self.document[0],
            }
            if self.text:
                data["caption"] = self.text
        else:
            data["text"] = self.text
        if self.reply_markup:
            data["reply_markup"] = self.reply_markup
        if self.thread_id is not None:
            data["message_thread_id"] = self.thread_id
            data["is_topic_message"] = True
        return data


_TRUE_METHODS = {
    "setMyCommands",
    "deleteMyCommands",
    "sendChatAction",
    "deleteMessage",
    "setChatMenuButton",
    "closeForumTopic",
    "reopenForumTopic",
    "editForumTopic",
    "pinChatMessage",
    "deleteWebhook",
    "setWebhook",
    "answerCallbackQuery",
    "setMessageReaction",
}


class OfflineBotApi(BaseRequest):
    """Answers Bot API calls in process. ``on_call`` sees each call (the demo prints from it)."""

    def __init__(
        self,
        *,
        strict: bool = True,
        on_call: Callable[[Call, SentMessage | None], None] | None = None,
        forum_chats: frozenset[int] = frozenset(),
    ) -> None:
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], SentMessage] = {}
        self.strict = strict
        self.on_call = on_call
        self.forum_chats = forum_chats
        self._ids = itertools.count(1)
        self._topics = itertools.count(100)
        self.fail: Callable[[Call], tuple[int, dict[str, Any]] | None] | None = None
        # getChatMember answers "member" unless a user id is listed here (e.g. "left" for a non-member).
        self.member_status: dict[int, str] = {}

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        files: dict[str, tuple[str, bytes]] = {}
        if request_data and request_data.contains_files:
            for name, part in request_data.multipart_data.items():
                content = part[1]
                files[name] = (str(part[0]), content if isinstance(content, bytes) else content.read())
        call = Call(api_method, params, files)
        self.calls.append(call)
        if self.fail is not None and (failure := self.fail(call)) is not None:
            return failure[0], json.dumps({"ok": False, **failure[1]}).encode()
        result, message = self._answer(call)
        if self.on_call is not None:
            self.on_call(call, message)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _answer(self, call: Call) -> tuple[Any, SentMessage | None]:
        p = call.params
        method = call.method
        if method == "getMe":
            return {
                **BOT_USER,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }, None
        if method == "sendMessage":
            msg = self._store(
                int(p["chat_id"]), str(p["text"]), p.get("reply_markup"), p.get("message_thread_id")
            )
            return msg.as_message_dict(), msg
        if method == "sendDocument":
            name, data = call.files.get("document", ("file", b""))
            msg = self._store(
                int(p["chat_id"]),
                str(p.get("caption", "")),
                p.get("reply_markup"),
                p.get("message_thread_id"),
            )
            msg.document = (name, data)
            return msg.as_message_dict(), msg
        if method in ("editMessageText", "editMessageReplyMarkup"):
            key = (int(p["chat_id"]), int(p["message_id"]))
            found = self.messages.get(key)
            if found is None:
                raise UnexpectedCall(f"{method} for unknown message {key}")
            msg = found
            if method == "editMessageText":
                msg.text = str(p["text"])
            msg.reply_markup = p.get("reply_markup")
            msg.edited = True
            return msg.as_message_dict(), msg
        if method == "createForumTopic":
            return {
                "message_thread_id": next(self._topics),
                "name": p.get("name", ""),
                "icon_color": 7322096,
            }, None
        if method == "getChat":
            chat_id = int(p["chat_id"])
            kind = "private" if chat_id > 0 else "supergroup"
            return {
                "id": chat_id,
                "type": kind,
                "is_forum": chat_id in self.forum_chats,
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,  # required by PTB 22.8's AcceptedGiftTypes
                },
            }, None
        if method == "getChatMember":
            user_id = int(p["user_id"])
            status = self.member_status.get(user_id, "member")
            member: dict[str, Any] = {
                "status": status,
                "user": {"id": user_id, "is_bot": False, "first_name": "U"},
            }
            if status == "kicked":
                member["until_date"] = 0  # banned for good, as Telegram sends it
            return member, None
        if method == "getUpdates":
            return [], None
        if method in _TRUE_METHODS:
            return True, None
        if self.strict:
            raise UnexpectedCall(f"unexpected Bot API call {method} {p}")
        return True, None

    def _store(self, chat_id: int, text: str, markup: Any, thread_id: Any) -> SentMessage:
        if isinstance(markup, str):
            markup = json.loads(markup)
        msg = SentMessage(chat_id, next(self._ids), text, markup, int(thread_id) if thread_id else None)
        self.messages[(chat_id, msg.message_id)] = msg
        return msg

    # --- queries for tests and the demo ------------------------------------------------------------------

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        return [m for (chat, _), m in sorted(self.messages.items()) if chat == chat_id]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]


class UpdateFactory:
    """Builds real ``Update`` objects as Telegram would send them."""

    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self.app = app
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1_000_000)

    @staticmethod
    def user(user_id: int, first_name: str = "Test", language: str | None = "de") -> dict[str, Any]:
        data: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language:
            data["language_code"] = language
        return data

    def message(
        self,
        user: dict[str, Any],
        text: str,
        *,
        chat: dict[str, Any] | None = None,
        reply_to: SentMessage | None = None,
        thread_id: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Update:
        chat = chat or {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(datetime.now(UTC).timestamp()),
            "chat": chat,
            "from": user,
        }
        if text:
            msg["text"] = text
        if text.startswith("/"):
            length = len(text.split()[0])
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if reply_to is not None:
            msg["reply_to_message"] = reply_to.as_message_dict()
        if thread_id is not None:
            msg["message_thread_id"] = thread_id
            msg["is_topic_message"] = True
        if extra:
            msg.update(extra)
        return self._update({"message": msg})

    def press(self, user: dict[str, Any], message: SentMessage, data: str) -> Update:
        query = {
            "id": str(next(self._update_ids) * 7919),
            "from": user,
            "chat_instance": str(message.chat_id),
            "message": message.as_message_dict(),
            "data": data,
        }
        return self._update({"callback_query": query})

    def _update(self, payload: dict[str, Any]) -> Update:
        data = {"update_id": next(self._update_ids), **payload}
        update = Update.de_json(data, self.app.bot)
        assert update is not None
        return update
