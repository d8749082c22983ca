"""A Bot-API-compatible HTTP server on 127.0.0.1 for end-to-end tests.

The bot under test talks to this server exactly as it would to ``api.telegram.org``; the test plays the
users (``send_text``, ``press_button``, ``send_document``) and inspects what the bot did (``messages``,
``calls``, ``wait_for_message``). The server runs its own event loop in a background thread, so
synchronous tests can block on its waiting helpers while the bot runs in a subprocess, and async tests
use the ``*_async`` variants so their own loop keeps running.

Telegram behaviour emulated: the response shapes, HTML parse mode with Telegram's error texts, text and
caption limits counted in UTF-16 after entity parsing, inline keyboard checks, "message is not modified",
blocked and deactivated users, long polling with offsets, webhooks with the secret token header, forum
topics, optional flood control and injected faults. Deliberate differences are noted where they occur:
webhooks may use plain http on any port; Markdown parse modes are stored but not validated; a bare
``&`` in HTML is an error (see :mod:`tghtml`).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import math
import random
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self, TypeVar, cast

import aiohttp
from aiohttp import web
from aiohttp.web_request import FileField

from .tghtml import EntityParseError, ParsedText, parse_html, strip_formatted, utf16_len

__all__ = [
    "DEFAULT_TOKEN",
    "ApiCall",
    "FakeBotApi",
    "FakeChat",
    "FakeUser",
    "FloodLimits",
    "ForumTopic",
    "StoredFile",
    "StoredMessage",
    "UploadedFile",
    "WebhookDelivery",
]

JSON = dict[str, Any]
T = TypeVar("T")

DEFAULT_TOKEN = "123456:TEST-token"
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
DEFAULT_TOPIC_ICON_COLOR = 7322096
# Update types Telegram leaves out unless allowed_updates asks for them.
_OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# fmt: off
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
    }
)
# Methods that count towards flood control.
_FLOOD_METHODS = frozenset(
    {
        "sendMessage", "sendDocument", "sendPhoto", "sendAudio", "sendVideo", "sendVoice", "sendAnimation",
        "sendSticker", "sendLocation", "sendContact", "sendPoll", "sendMediaGroup", "copyMessage",
        "forwardMessage",
    }
)
# Parameters that are plain strings; every other form field holds a JSON-encoded value (as PTB sends).
_STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "url", "secret_token", "file_id", "name",
        "title", "description", "short_description", "language_code", "icon_custom_emoji_id",
        "inline_message_id", "ip_address", "action", "emoji", "custom_title", "message_effect_id",
        "business_connection_id", "document",
    }
)
# fmt: on
_MAX_UPLOAD_BYTES = 60 * 1024 * 1024


# --------------------------------------------------------------------------------------------------------
# People and chats


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user the test acts as."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "de"
    last_name: str | None = None
    is_bot: bool = False

    def to_api(self) -> JSON:
        """The user as a Bot API ``User`` object."""
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data

    @property
    def chat(self) -> FakeChat:
        """The private chat between this user and the bot."""
        return FakeChat.private(self)


@dataclass(frozen=True)
class FakeChat:
    """A chat: ``private`` (id = user id), ``group`` or ``supergroup`` (negative ids), maybe a forum."""

    id: int
    type: Literal["private", "group", "supergroup", "channel"]
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_forum: bool = False

    @classmethod
    def private(cls, user: FakeUser) -> FakeChat:
        """The private chat with ``user``."""
        return cls(user.id, "private", username=user.username, first_name=user.first_name)

    @classmethod
    def group(cls, chat_id: int, title: str) -> FakeChat:
        """A basic group."""
        return cls(chat_id, "group", title=title)

    @classmethod
    def supergroup(cls, chat_id: int, title: str, *, is_forum: bool = False) -> FakeChat:
        """A supergroup, optionally with forum topics."""
        return cls(chat_id, "supergroup", title=title, is_forum=is_forum)

    def to_api(self) -> JSON:
        """The chat as a Bot API ``Chat`` object."""
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.is_forum:
            data["is_forum"] = True
        return data


ChatRef = FakeChat | FakeUser | int


def _chat_id(chat: ChatRef) -> int:
    if isinstance(chat, FakeUser):
        return chat.id
    if isinstance(chat, FakeChat):
        return chat.id
    return chat


# --------------------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    data: bytes
    content_type: str | None


@dataclass(frozen=True)
class StoredFile:
    """A file known to the server, downloadable via getFile and ``/file/bot<token>/<file_path>``."""

    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    data: bytes
    file_path: str

    def to_document(self) -> JSON:
        """The file as a Bot API ``Document`` object."""
        data: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.file_name is not None:
            data["file_name"] = self.file_name
        if self.mime_type is not None:
            data["mime_type"] = self.mime_type
        return data


@dataclass(frozen=True)
class MessageVersion:
    """An earlier state of an edited message."""

    text: str | None
    entities: list[JSON]
    caption: str | None
    reply_markup: JSON | None
    timestamp: float


@dataclass
class StoredMessage:
    """A message in a chat, sent by the bot or injected by the test.

    ``text`` / ``caption`` are the visible texts after entity parsing (what the user reads);
    ``raw_text`` is what the bot sent, ``parse_mode`` how it asked to format it. ``timestamp`` and
    ``edited_at`` are ``time.monotonic()`` values; ``history`` holds the versions before each edit.
    """

    chat_id: int
    message_id: int
    from_bot: bool
    sender: JSON
    date: int
    timestamp: float
    text: str | None = None
    raw_text: str | None = None
    parse_mode: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    document: StoredFile | None = None
    reply_markup: JSON | None = None
    message_thread_id: int | None = None
    reply_to: int | None = None
    method: str | None = None
    edited_at: float | None = None
    edit_date: int | None = None
    history: list[MessageVersion] = field(default_factory=list)
    deleted: bool = False
    pinned: bool = False
    service: JSON | None = None
    forward_origin: JSON | None = None
    extra: JSON = field(default_factory=dict)

    @property
    def content(self) -> str:
        """Text or caption, whichever the message has ('' if neither)."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def last_change(self) -> float:
        """Monotonic time of sending or of the last edit."""
        return self.edited_at if self.edited_at is not None else self.timestamp

    def buttons(self) -> list[JSON]:
        """The inline keyboard buttons, row by row, flattened."""
        if not self.reply_markup:
            return []
        return [b for row in self.reply_markup.get("inline_keyboard", []) for b in row]

    def button_texts(self) -> list[str]:
        """The labels of the inline keyboard buttons."""
        return [str(b.get("text")) for b in self.buttons()]

    def callback_data(self, button_text: str | None = None) -> list[str]:
        """All callback_data values, or those of the buttons labelled ``button_text``."""
        return [
            str(b["callback_data"])
            for b in self.buttons()
            if "callback_data" in b and (button_text is None or b.get("text") == button_text)
        ]


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made. ``status`` is the HTTP status served, or "timeout"/"disconnect"."""

    method: str
    params: JSON
    timestamp: float
    status: int | str
    result: Any = None
    description: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.status == 200


@dataclass
class ForumTopic:
    """A forum topic in a supergroup."""

    chat_id: int
    message_thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to POST an update to the bot's webhook."""

    update_id: int
    url: str
    status: int | None
    error: str | None
    timestamp: float


@dataclass
class FloodLimits:
    """Flood control; ``None`` switches a limit off. All off by default."""

    global_per_second: int | None = None
    private_per_second: int | None = None
    group_per_minute: int | None = None
    retry_after: int | None = None


@dataclass
class _Fault:
    remaining: int
    status: int | Literal["timeout", "disconnect"]
    retry_after: int | None
    description: str | None
    hold: float
    execute: bool
    methods: frozenset[str] | None = None


@dataclass
class _RandomFaults:
    rate: float
    rng: random.Random
    slow: tuple[float, float]
    methods: frozenset[str] | None


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    ip_address: str | None
    allowed_updates: list[str] | None


class ApiError(Exception):
    """A Bot API error answer."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def to_api(self) -> JSON:
        """The error in Telegram's response shape."""
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


# Standard chat member objects: every field PTB requires for each status.
_ADMIN_RIGHTS: JSON = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": True,
    "can_edit_stories": True,
    "can_delete_stories": True,
    "can_pin_messages": True,
    "can_manage_topics": True,
}
_RESTRICTED_RIGHTS: JSON = {
    "is_member": True,
    "can_change_info": False,
    "can_invite_users": False,
    "can_pin_messages": False,
    "can_send_messages": False,
    "can_send_polls": False,
    "can_send_other_messages": False,
    "can_add_web_page_previews": False,
    "can_manage_topics": False,
    "until_date": 0,
    "can_send_audios": False,
    "can_send_documents": False,
    "can_send_photos": False,
    "can_send_videos": False,
    "can_send_video_notes": False,
    "can_send_voice_notes": False,
    "can_edit_tag": False,
    "can_react_to_messages": False,
}
ChatMemberStatus = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]


def _member_object(user: JSON, status: ChatMemberStatus, overrides: Mapping[str, Any]) -> JSON:
    member: JSON = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(_ADMIN_RIGHTS)
    elif status == "restricted":
        member.update(_RESTRICTED_RIGHTS)
    elif status == "kicked":
        member["until_date"] = 0
    member.update(overrides)
    return member


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _bad_request(f"invalid {name} specified")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise _bad_request(f"invalid {name} specified")


def _coerce_form_value(key: str, value: str) -> Any:
    """PTB sends strings as they are and everything else JSON-encoded; undo that."""
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _bot_command_entities(text: str) -> list[JSON]:
    """The bot_command entity Telegram attaches to a message starting with ``/command``."""
    match = re.match(r"/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{3,32})?", text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}]


# --------------------------------------------------------------------------------------------------------
# The server


class FakeBotApi:
    """A fake Telegram Bot API server; see the module docstring.

    Everything the tests read or change is guarded by one condition variable, which is notified after
    every request and every injected update, so the ``wait_for*`` helpers wake up exactly when something
    happened instead of polling.
    """

    def __init__(
        self,
        token: str | None = DEFAULT_TOKEN,
        *,
        bot_username: str = "ija_lotse_test_bot",
        bot_first_name: str = "IJA-Lotse (Test)",
        strict_html: bool = True,
        strict_chats: bool = True,
        webhook_retry_delay: float = 0.5,
        latency: float = 0.0,
    ) -> None:
        """``token=None`` accepts any token. ``strict_chats`` makes sending to a chat the server does not
        know fail like Telegram ("chat not found" / "bot can't initiate conversation with a user")."""
        self.token = token
        bot_id = int(token.split(":", 1)[0]) if token and token.split(":", 1)[0].isdigit() else 123456
        self.bot_user = FakeUser(
            bot_id, bot_first_name, username=bot_username, language_code=None, is_bot=True
        )
        self.strict_html = strict_html
        self.strict_chats = strict_chats
        self.webhook_retry_delay = webhook_retry_delay
        # Seconds added to every Bot API call (Telegram's round trip from Germany is about 0.08); calls wait side
        # by side, as on a real network.
        self.latency = latency
        self.flood = FloodLimits()

        self._cond = threading.Condition(threading.RLock())
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._wake_event: asyncio.Event | None = None
        self._stop_event: asyncio.Event | None = None
        self._port: int | None = None
        self._stopping = False

        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, FakeChat] = {}
        self._started_users: set[int] = set()
        self._blocked: set[int] = set()
        self._deactivated: set[int] = set()
        self._kicked_from: set[int] = set()
        self._members: dict[tuple[int, int], JSON] = {}
        self._messages: dict[int, list[StoredMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self._topics: dict[tuple[int, int], ForumTopic] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._menu_buttons: dict[int | None, JSON] = {}
        self._reactions: dict[tuple[int, int], list[JSON]] = {}
        self._callback_queries: dict[str, JSON] = {}
        self._callback_answers: dict[str, JSON] = {}
        self._calls: list[ApiCall] = []
        self._unknown_calls: list[ApiCall] = []
        self._received: dict[str, int] = {}
        self._waiting_polls = 0

        self._updates: list[JSON] = []
        self._next_update_id = 100_000
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._webhook: _Webhook | None = None
        self._webhook_last_error: tuple[int, str] | None = None
        self._webhook_deliveries: list[WebhookDelivery] = []

        self._method_faults: dict[str, deque[_Fault]] = {}
        self._chat_faults: dict[int, deque[_Fault]] = {}
        self._random_faults: _RandomFaults | None = None
        self.injected: dict[str, int] = {}  # random faults served, by kind
        self._sent_all: deque[float] = deque()
        self._sent_per_chat: dict[int, deque[float]] = {}
        self._too_many_requests = 0
        self._counter = 0

        self._handlers: dict[str, tuple[str, Callable[[JSON], Any]]] = {}
        for name, handler in self._method_table().items():
            self._handlers[name.lower()] = (name, handler)

    # ---- lifecycle ---------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:43210`` (use as BOT_API_URL)."""
        if self._port is None:
            raise RuntimeError("the fake Bot API server is not running")
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """``base_url`` for ``telegram.Bot`` / ``ApplicationBuilder``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """``base_file_url`` for ``telegram.Bot`` / ``ApplicationBuilder``."""
        return f"{self.url}/file/bot"

    def start(self) -> Self:
        """Starts the server on a free port in a background thread and returns when it accepts requests."""
        if self._thread is not None:
            raise RuntimeError("already started")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve_setup())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
                loop.close()

        self._thread = threading.Thread(target=run, name="fake-bot-api", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            self._thread.join()
            self._thread = None
            raise RuntimeError("the fake Bot API server failed to start") from failure[0]
        return self

    def stop(self) -> None:
        """Releases waiting requests, closes every connection and socket and ends the thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        future = asyncio.run_coroutine_threadsafe(self._serve_teardown(), loop)
        try:
            future.result(timeout=15)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=15)
            self._thread = None
            self._loop = None
            self._port = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def _serve_setup(self) -> None:
        self._wake_event = asyncio.Event()
        self._stop_event = asyncio.Event()
        app = web.Application(client_max_size=_MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0, handler_cancellation=True)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
            self._port = int(sock.getsockname()[1])
            await web.SockSite(self._runner, sock).start()
        except BaseException:
            sock.close()
            await self._runner.cleanup()
            raise
        self._session = aiohttp.ClientSession()
        self._webhook_task = asyncio.get_running_loop().create_task(self._webhook_worker())

    async def _serve_teardown(self) -> None:
        assert self._stop_event is not None
        self._stop_event.set()
        self._wake()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def _wake(self) -> None:
        """Wakes long polls and the webhook worker (call on the server loop)."""
        if self._wake_event is not None:
            self._wake_event.set()
            self._wake_event = asyncio.Event()

    def _wake_threadsafe(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake)

    # ---- configuration (test side) ----------------------------------------------------------------------

    def add_user(self, user: FakeUser, *, started: bool = True) -> FakeUser:
        """Makes ``user`` known; ``started`` means they have opened the private chat with the bot."""
        with self._cond:
            self._users[user.id] = user
            self._chats.setdefault(user.id, user.chat)
            if started:
                self._started_users.add(user.id)
        return user

    def add_chat(
        self,
        chat: FakeChat,
        *,
        members: Mapping[FakeUser, ChatMemberStatus] | None = None,
        bot_status: ChatMemberStatus = "administrator",
    ) -> FakeChat:
        """Registers a group or supergroup chat with the bot in it (an administrator by default)."""
        with self._cond:
            self._chats[chat.id] = chat
            self._members[(chat.id, self.bot_user.id)] = _member_object(
                self.bot_user.to_api(), bot_status, {}
            )
            for user, status in (members or {}).items():
                self.set_member(chat, user, status)
        return chat

    def set_member(
        self, chat: ChatRef, user: FakeUser, status: ChatMemberStatus = "member", **fields: Any
    ) -> None:
        """Sets what getChatMember answers for ``user`` in ``chat``; ``fields`` override rights."""
        with self._cond:
            self._users.setdefault(user.id, user)
            self._members[(_chat_id(chat), user.id)] = _member_object(user.to_api(), status, fields)

    def block_user(self, user: FakeUser | int) -> None:
        """The user blocks the bot: sending to them answers 403 until they write again."""
        with self._cond:
            self._blocked.add(_chat_id(user))

    def unblock_user(self, user: FakeUser | int) -> None:
        """The user unblocks the bot."""
        with self._cond:
            self._blocked.discard(_chat_id(user))

    def deactivate_user(self, user: FakeUser | int) -> None:
        """The user deletes their account: sending to them answers 403 "user is deactivated"."""
        with self._cond:
            self._deactivated.add(_chat_id(user))

    def kick_bot(self, chat: ChatRef) -> None:
        """The bot is removed from a group: sending there answers 403."""
        with self._cond:
            self._kicked_from.add(_chat_id(chat))

    def set_flood_limits(
        self,
        *,
        global_per_second: int | None = 30,
        private_per_second: int | None = None,
        group_per_minute: int | None = 20,
        retry_after: int | None = None,
    ) -> None:
        """Switches flood control on; ``retry_after`` fixes the value served (else it is computed)."""
        with self._cond:
            self.flood = FloodLimits(global_per_second, private_per_second, group_per_minute, retry_after)
            self._sent_all.clear()
            self._sent_per_chat.clear()

    def disable_flood_limits(self) -> None:
        """Switches flood control off again."""
        with self._cond:
            self.flood = FloodLimits()

    def fail_next(
        self,
        method: str,
        n: int = 1,
        status: int | Literal["timeout", "disconnect"] = 502,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        hold: float = 30.0,
        execute: bool = False,
    ) -> None:
        """The next ``n`` calls of ``method`` fail.

        ``status`` is an HTTP status (502/504 answer nginx's HTML page like Telegram's front end, other
        codes Telegram's JSON error; with ``retry_after`` the answer is a 429-style flood error),
        ``"timeout"`` (hold the request ``hold`` seconds or until the client gives up, then answer
        normally) or ``"disconnect"`` (close the connection without an answer). ``execute=True`` performs
        the call first, so the effect happens but the bot never learns it (a lost response).
        """
        if n < 1:
            raise ValueError("n must be at least 1")
        with self._cond:
            fault = _Fault(n, status, retry_after, description, hold, execute)
            self._method_faults.setdefault(method.lower(), deque()).append(fault)

    def random_faults(
        self,
        rate: float,
        *,
        seed: int = 0,
        slow: tuple[float, float] = (1.0, 4.0),
        methods: set[str] | None = None,
    ) -> None:
        """From now on each call (of ``methods``, default: all) fails with probability ``rate``, evenly one of:
        a 500 JSON error, nginx's 502 HTML page, a lost answer (the call takes effect, the connection closes
        without an answer) or a slow answer (held ``slow`` seconds, then answered). ``rate=0`` switches off;
        ``injected`` counts what was served."""
        with self._cond:
            if rate <= 0:
                self._random_faults = None
                return
            wanted = frozenset(m.lower() for m in methods) if methods else None
            self._random_faults = _RandomFaults(rate, random.Random(seed), slow, wanted)

    def fail_chat(
        self,
        chat: ChatRef,
        n: int = 1,
        status: int | Literal["timeout", "disconnect"] = 500,
        *,
        methods: list[str] | None = None,
        retry_after: int | None = None,
        description: str | None = None,
        hold: float = 30.0,
        execute: bool = False,
    ) -> None:
        """The next ``n`` calls addressed to ``chat`` (optionally only ``methods``) fail; see fail_next."""
        if n < 1:
            raise ValueError("n must be at least 1")
        with self._cond:
            allowed = frozenset(m.lower() for m in methods) if methods else None
            fault = _Fault(n, status, retry_after, description, hold, execute, allowed)
            self._chat_faults.setdefault(_chat_id(chat), deque()).append(fault)

    # ---- injecting updates (the test acts as a user) ----------------------------------------------------

    def push_update(self, update: JSON) -> int:
        """Queues a raw update (an update_id is assigned if missing) and returns its update_id."""
        with self._cond:
            update = dict(update)
            if "update_id" not in update:
                update["update_id"] = self._next_update_id
            self._next_update_id = max(self._next_update_id, int(update["update_id"])) + 1
            self._updates.append(update)
            self._cond.notify_all()
        self._wake_threadsafe()
        return int(update["update_id"])

    def push_unparseable(self, user: FakeUser, how: Literal["date", "chat"] = "date") -> int:
        """Queues a message update python-telegram-bot cannot parse (as a Bot API change the pinned library
        does not know could produce): its ``date`` is a string, or its ``chat`` is missing. Returns the id."""
        with self._cond:
            self._users[user.id] = user
            message: JSON = {
                "message_id": self._allocate_message_id(user.id),
                "from": user.to_api(),
                "chat": user.chat.to_api(),
                "date": int(time.time()),
                "text": "Geheimtext im kaputten Update",
            }
        if how == "date":
            message["date"] = "2026-12-04T12:00:00Z"
        else:
            del message["chat"]
        return self.push_update({"message": message})

    def send_text(
        self,
        user: FakeUser,
        text: str,
        *,
        chat: FakeChat | None = None,
        reply_to: StoredMessage | int | None = None,
        message_thread_id: int | None = None,
        entities: list[JSON] | None = None,
    ) -> StoredMessage:
        """``user`` writes ``text`` (a ``/command`` gets its bot_command entity) in ``chat`` (default: the
        private chat). ``reply_to`` makes it a reply; in a forum, ``message_thread_id`` (or the replied
        message's topic) puts it in a topic."""
        if entities is None:
            entities = _bot_command_entities(text)
        return self._inject_message(
            user, chat, reply_to, message_thread_id, {"text": text, "entities": entities}
        )

    def send_document(
        self,
        user: FakeUser,
        file_name: str,
        data: bytes,
        *,
        mime_type: str | None = "application/octet-stream",
        caption: str | None = None,
        chat: FakeChat | None = None,
        reply_to: StoredMessage | int | None = None,
        message_thread_id: int | None = None,
    ) -> StoredMessage:
        """``user`` sends a file; the bot can fetch it with getFile and download it."""
        with self._cond:
            stored = self._store_file(file_name, mime_type, data)
        return self._inject_message(
            user, chat, reply_to, message_thread_id, {"document": stored, "caption": caption}
        )

    def press_button(
        self,
        user: FakeUser,
        message: StoredMessage,
        callback_data: str | None = None,
        *,
        text: str | None = None,
    ) -> str:
        """``user`` presses the inline button with ``callback_data`` (or labelled ``text``) under
        ``message``; returns the callback query id. The button must be on the message as it is now."""
        with self._cond:
            current = self._find_message(message.chat_id, message.message_id)
            if current is None or current.deleted:
                raise LookupError(f"message {message.chat_id}/{message.message_id} does not exist (anymore)")
            matching = [
                b
                for b in current.buttons()
                if "callback_data" in b
                and (callback_data is None or b["callback_data"] == callback_data)
                and (text is None or b.get("text") == text)
            ]
            if not matching or (callback_data is None and text is None):
                available = [(b.get("text"), b.get("callback_data")) for b in current.buttons()]
                raise LookupError(
                    f"no button {callback_data or text!r} on message {current.message_id}; buttons: {available}"
                )
            self._users.setdefault(user.id, user)
            self._counter += 1
            query_id = str(4_000_000_000_000_000 + self._counter)
            query: JSON = {
                "id": query_id,
                "from": user.to_api(),
                "message": self._message_json(current),
                "chat_instance": str(abs(current.chat_id) * 7 + 11),
                "data": matching[0]["callback_data"],
            }
            self._callback_queries[query_id] = query
        self.push_update({"callback_query": query})
        return query_id

    def _inject_message(
        self,
        user: FakeUser,
        chat: FakeChat | None,
        reply_to: StoredMessage | int | None,
        message_thread_id: int | None,
        content: JSON,
    ) -> StoredMessage:
        with self._cond:
            target = chat or user.chat
            self._users[user.id] = user
            if target.id not in self._chats:
                if target.type == "private":
                    self._chats[target.id] = target
                else:
                    self.add_chat(target)
            if target.type == "private":
                # Writing to the bot (re)starts the chat and lifts a block.
                self._started_users.add(user.id)
                self._blocked.discard(user.id)
            reply_id = reply_to.message_id if isinstance(reply_to, StoredMessage) else reply_to
            if reply_id is not None and message_thread_id is None:
                replied = self._find_message(target.id, reply_id)
                if replied is None:
                    raise LookupError(f"message {target.id}/{reply_id} to reply to does not exist")
                message_thread_id = replied.message_thread_id
            if (
                message_thread_id is not None
                and target.is_forum
                and (target.id, message_thread_id) not in self._topics
            ):
                raise LookupError(f"topic {message_thread_id} does not exist in chat {target.id}")
            document = content.get("document")
            message = StoredMessage(
                chat_id=target.id,
                message_id=self._allocate_message_id(target.id),
                from_bot=False,
                sender=user.to_api(),
                date=int(time.time()),
                timestamp=time.monotonic(),
                text=content.get("text"),
                raw_text=content.get("text"),
                entities=list(content.get("entities") or []),
                caption=content.get("caption"),
                document=document if isinstance(document, StoredFile) else None,
                message_thread_id=message_thread_id,
                reply_to=reply_id,
            )
            self._messages.setdefault(target.id, []).append(message)
            update = {"message": self._message_json(message)}
            snapshot = copy.deepcopy(message)
        self.push_update(update)
        return snapshot

    # ---- queries (test side) ----------------------------------------------------------------------------

    def messages(
        self,
        chat: ChatRef,
        *,
        from_bot: bool | None = True,
        message_thread_id: int | None = None,
        include_deleted: bool = False,
        include_service: bool = False,
    ) -> list[StoredMessage]:
        """Snapshots of the messages in ``chat``, oldest first (by default only the bot's, not deleted)."""
        with self._cond:
            result = [
                m
                for m in self._messages.get(_chat_id(chat), [])
                if (from_bot is None or m.from_bot == from_bot)
                and (message_thread_id is None or m.message_thread_id == message_thread_id)
                and (include_deleted or not m.deleted)
                and (include_service or m.service is None)
            ]
            return copy.deepcopy(result)

    def last_message(self, chat: ChatRef, *, from_bot: bool | None = True) -> StoredMessage | None:
        """The newest message in ``chat`` (by default the bot's newest)."""
        found = self.messages(chat, from_bot=from_bot)
        return found[-1] if found else None

    def message(self, chat: ChatRef, message_id: int) -> StoredMessage | None:
        """One message by id, in its current state (deleted ones included)."""
        with self._cond:
            found = self._find_message(_chat_id(chat), message_id)
            return copy.deepcopy(found)

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """The requests made so far (of one method, case-insensitive), oldest first."""
        with self._cond:
            if method is None:
                return list(self._calls)
            wanted = method.lower()
            return [c for c in self._calls if c.method.lower() == wanted]

    def received_count(self, method: str) -> int:
        """How many requests of ``method`` arrived, including ones still in progress (a long poll)."""
        with self._cond:
            return sum(n for name, n in self._received.items() if name.lower() == method.lower())

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting right now."""
        with self._cond:
            return self._waiting_polls > 0

    def unknown_calls(self) -> list[ApiCall]:
        """Requests of methods this server does not implement (answered 404)."""
        with self._cond:
            return list(self._unknown_calls)

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """The command menu set via setMyCommands for ``scope`` (default scope if None)."""
        with self._cond:
            return copy.deepcopy(self._commands.get((self._scope_key(scope), language_code), []))

    def command_scopes(self) -> list[tuple[JSON, str]]:
        """Every (scope, language_code) that has commands."""
        with self._cond:
            return [(json.loads(scope), lang) for scope, lang in self._commands]

    def topics(self, chat: ChatRef) -> list[ForumTopic]:
        """The forum topics created in ``chat``."""
        with self._cond:
            chat_id = _chat_id(chat)
            return copy.deepcopy([t for (c, _), t in self._topics.items() if c == chat_id])

    def file(self, file_id: str) -> StoredFile | None:
        """A stored file by file_id."""
        with self._cond:
            return self._files.get(file_id)

    def callback_answer(self, query_id: str) -> JSON | None:
        """The answerCallbackQuery parameters for a pressed button, or None if not answered yet."""
        with self._cond:
            return copy.deepcopy(self._callback_answers.get(query_id))

    def menu_button(self, chat: ChatRef | None = None) -> JSON | None:
        """The menu button set via setChatMenuButton (for a chat, or the default one)."""
        with self._cond:
            key = None if chat is None else _chat_id(chat)
            return copy.deepcopy(self._menu_buttons.get(key))

    @property
    def pending_update_count(self) -> int:
        """Updates not yet confirmed by getUpdates offset or delivered to the webhook."""
        with self._cond:
            return len(self._updates)

    @property
    def too_many_requests_count(self) -> int:
        """How many 429 answers were served (flood control and injected ones)."""
        with self._cond:
            return self._too_many_requests

    @property
    def webhook_url(self) -> str | None:
        """The webhook currently set, if any."""
        with self._cond:
            return self._webhook.url if self._webhook else None

    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every POST to the webhook with the status the bot answered."""
        with self._cond:
            return list(self._webhook_deliveries)

    def mark(self) -> float:
        """A point in time for ``wait_for_message(since=...)``: only later messages or edits count."""
        return time.monotonic()

    # ---- waiting ----------------------------------------------------------------------------------------

    def wait_for(self, predicate: Callable[[], T | None], timeout: float = 10.0, message: str = "") -> T:
        """Blocks until ``predicate()`` is truthy (checked on every change) and returns its value.

        Do not call this on the event loop that runs the bot; use :meth:`wait_for_async` there.
        """
        with self._cond:
            result = self._cond.wait_for(predicate, timeout)
            if not result:
                raise TimeoutError(f"{message or 'condition'} not met within {timeout} s\n{self.describe()}")
            return result

    def wait_for_message(
        self,
        chat: ChatRef,
        contains: str | None = None,
        predicate: Callable[[StoredMessage], bool] | None = None,
        timeout: float = 10.0,
        *,
        since: float | None = None,
        message_thread_id: int | None = None,
    ) -> StoredMessage:
        """Waits for a bot message in ``chat`` whose text or caption contains ``contains`` and that satisfies
        ``predicate``; with ``since`` (see :meth:`mark`) only messages sent or edited later count."""

        def find() -> StoredMessage | None:
            for m in reversed(self._messages.get(_chat_id(chat), [])):
                if not m.from_bot or m.deleted or m.service is not None:
                    continue
                if since is not None and m.last_change <= since:
                    continue
                if message_thread_id is not None and m.message_thread_id != message_thread_id:
                    continue
                if contains is not None and contains not in m.content:
                    continue
                if predicate is not None and not predicate(m):
                    continue
                return copy.deepcopy(m)
            return None

        what = f"bot message in chat {_chat_id(chat)}" + (f" containing {contains!r}" if contains else "")
        return self.wait_for(find, timeout, what)

    def wait_for_call(
        self, method: str, predicate: Callable[[ApiCall], bool] | None = None, timeout: float = 10.0
    ) -> ApiCall:
        """Waits until the bot called ``method`` (matching ``predicate``) and returns the newest such call."""

        def find() -> ApiCall | None:
            for c in reversed(self._calls):
                if c.method.lower() == method.lower() and (predicate is None or predicate(c)):
                    return c
            return None

        return self.wait_for(find, timeout, f"call of {method}")

    # The timeout parameters below mirror the blocking helpers (ruff's ASYNC109 would prefer asyncio.timeout,
    # which cannot interrupt the worker thread that does the waiting).
    async def wait_for_async(
        self,
        predicate: Callable[[], T | None],
        timeout: float = 10.0,  # noqa: ASYNC109
        message: str = "",
    ) -> T:
        """:meth:`wait_for` for async tests (waits in a worker thread, the caller's loop keeps running)."""
        return await asyncio.to_thread(self.wait_for, predicate, timeout, message)

    async def wait_for_message_async(
        self,
        chat: ChatRef,
        contains: str | None = None,
        predicate: Callable[[StoredMessage], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        since: float | None = None,
        message_thread_id: int | None = None,
    ) -> StoredMessage:
        """:meth:`wait_for_message` for async tests."""
        return await asyncio.to_thread(
            lambda: self.wait_for_message(
                chat, contains, predicate, timeout, since=since, message_thread_id=message_thread_id
            )
        )

    async def wait_for_call_async(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> ApiCall:
        """:meth:`wait_for_call` for async tests."""
        return await asyncio.to_thread(self.wait_for_call, method, predicate, timeout)

    def describe(self, last: int = 15) -> str:
        """A short account of the latest calls, for failure messages."""
        with self._cond:
            lines = [f"last {min(last, len(self._calls))} of {len(self._calls)} calls:"]
            for c in self._calls[-last:]:
                params = {k: v for k, v in c.params.items() if not isinstance(v, UploadedFile)}
                text = json.dumps(params, ensure_ascii=False, default=str)
                text = text if len(text) <= 200 else text[:197] + "..."
                lines.append(
                    f"  {c.method} -> {c.status}{' ' + c.description if c.description else ''}: {text}"
                )
            if self._unknown_calls:
                lines.append(f"unknown methods called: {sorted({c.method for c in self._unknown_calls})}")
            lines.append(f"pending updates: {len(self._updates)}")
            return "\n".join(lines)

    # ---- HTTP -------------------------------------------------------------------------------------------

    async def _read_params(self, request: web.Request) -> JSON:
        params: JSON = {}
        for key, value in request.query.items():
            params[key] = _coerce_form_value(key, value)
        if request.method != "POST" or not request.can_read_body:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise _bad_request("can't parse JSON body") from exc
            if not isinstance(body, dict):
                raise _bad_request("JSON body must be an object")
            params.update(body)
            return params
        form = await request.post()
        for key, field_value in form.items():
            if isinstance(field_value, str):
                params[key] = _coerce_form_value(key, field_value)
            elif isinstance(field_value, FileField):
                data = field_value.file.read()
                params[key] = UploadedFile(field_value.filename, data, field_value.content_type)
            else:
                params[key] = _coerce_form_value(key, bytes(field_value).decode("utf-8", "replace"))
        return params

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        token = request.match_info["token"]
        method = request.match_info["method"]
        if self.token is not None and token != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        try:
            params = await self._read_params(request)
        except ApiError as bad_body:
            return web.json_response(bad_body.to_api(), status=bad_body.code)

        entry = self._handlers.get(method.lower())
        if entry is None:
            error = ApiError(404, "Not Found")
            with self._cond:
                call = ApiCall(method, params, time.monotonic(), 404, None, error.description)
                self._unknown_calls.append(call)
                self._calls.append(call)
                self._cond.notify_all()
            return web.json_response(error.to_api(), status=404)
        name, handler = entry
        with self._cond:
            self._received[name] = self._received.get(name, 0) + 1
            self._cond.notify_all()

        fault = self._take_fault(name, params)
        if fault is not None:
            return await self._serve_fault(request, name, handler, params, fault)
        return await self._execute(name, handler, params)

    async def _run(self, handler: Callable[[JSON], Any], params: JSON) -> tuple[int, JSON, Any, str | None]:
        """Runs a method; returns (HTTP status, response body, result, error description)."""
        try:
            result = handler(params)
            if isinstance(result, Awaitable):
                result = await result
        except ApiError as error:
            if error.code == 429:
                with self._cond:
                    self._too_many_requests += 1
            return error.code, error.to_api(), None, error.description
        return 200, {"ok": True, "result": result}, result, None

    async def _execute(self, name: str, handler: Callable[[JSON], Any], params: JSON) -> web.StreamResponse:
        status, body, result, description = await self._run(handler, params)
        self._record(name, params, status, result, description)
        return web.json_response(body, status=status)

    def _record(
        self, name: str, params: JSON, status: int | str, result: Any, description: str | None
    ) -> None:
        with self._cond:
            self._calls.append(ApiCall(name, params, time.monotonic(), status, result, description))
            self._cond.notify_all()

    def _take_fault(self, name: str, params: JSON) -> _Fault | None:
        with self._cond:
            queue = self._method_faults.get(name.lower())
            fault: _Fault | None = queue[0] if queue else None
            if fault is None and "chat_id" in params:
                with contextlib.suppress(ApiError):
                    chat_queue = self._chat_faults.get(_as_int(params["chat_id"], "chat_id"))
                    if chat_queue and (
                        chat_queue[0].methods is None or name.lower() in chat_queue[0].methods
                    ):
                        queue, fault = chat_queue, chat_queue[0]
            if (fault is None or queue is None) and self._random_faults is not None:
                return self._random_fault(name)
            if fault is None or queue is None:
                return None
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.popleft()
            return fault

    def _random_fault(self, name: str) -> _Fault | None:
        chaos = self._random_faults
        assert chaos is not None
        if chaos.methods is not None and name.lower() not in chaos.methods:
            return None
        if chaos.rng.random() >= chaos.rate:
            return None
        kind = chaos.rng.choice(["500", "502", "lost", "slow"])
        self.injected[kind] = self.injected.get(kind, 0) + 1
        if kind == "lost":
            return _Fault(1, "disconnect", None, None, 0.0, execute=True)
        if kind == "slow":
            return _Fault(1, "timeout", None, None, chaos.rng.uniform(*chaos.slow), execute=False)
        return _Fault(1, int(kind), None, None, 0.0, execute=False)

    async def _serve_fault(
        self, request: web.Request, name: str, handler: Callable[[JSON], Any], params: JSON, fault: _Fault
    ) -> web.StreamResponse:
        executed = await self._run(handler, params) if fault.execute else None
        if fault.status == "timeout":
            self._record(name, params, "timeout", None, "executed, answer held" if executed else "held")
            assert self._stop_event is not None
            # If the client gives up first, aiohttp cancels this handler (handler_cancellation=True).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), fault.hold)
            if self._stopping:
                return web.json_response(ApiError(504, "Gateway Timeout").to_api(), status=504)
            status, body, _, _ = executed or await self._run(handler, params)
            return web.json_response(body, status=status)
        if fault.status == "disconnect":
            self._record(name, params, "disconnect", None, "connection closed without an answer")
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        if fault.retry_after is not None:
            status = 429
            description = fault.description or f"Too Many Requests: retry after {fault.retry_after}"
            error = ApiError(429, description, fault.retry_after)
            with self._cond:
                self._too_many_requests += 1
        else:
            status = fault.status
            error = ApiError(status, fault.description or _default_error_description(status))
        self._record(name, params, status, None, error.description)
        if status in (502, 504) and fault.description is None:
            # Telegram's front end answers these with nginx's HTML page, not JSON.
            title = "502 Bad Gateway" if status == 502 else "504 Gateway Time-out"
            page = (
                f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
                f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
            )
            return web.Response(status=status, text=page, content_type="text/html")
        return web.json_response(error.to_api(), status=status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if self.token is not None and request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        with self._cond:
            stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    # ---- webhook delivery -------------------------------------------------------------------------------

    async def _webhook_worker(self) -> None:
        assert self._session is not None
        while True:
            event = self._wake_event
            assert event is not None
            with self._cond:
                job: tuple[_Webhook, JSON] | None = None
                if self._webhook is not None and not self._stopping:
                    deliverable = self._deliverable(1, self._webhook.allowed_updates)
                    if deliverable:
                        job = (self._webhook, deliverable[0])
            if job is None:
                await event.wait()
                continue
            hook, update = job
            headers = {"Content-Type": "application/json"}
            if hook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
            status: int | None = None
            error: str | None = None
            try:
                async with self._session.post(
                    hook.url,
                    data=json.dumps(update),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as response:
                    await response.read()
                    status = response.status
                    if not 200 <= status < 300:
                        error = f"Wrong response from the webhook: {status} {response.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"Connection failed: {exc.__class__.__name__}"
            with self._cond:
                self._webhook_deliveries.append(
                    WebhookDelivery(int(update["update_id"]), hook.url, status, error, time.monotonic())
                )
                if error is None:
                    self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
                else:
                    self._webhook_last_error = (int(time.time()), error)
                self._cond.notify_all()
            if error is not None:
                assert self._stop_event is not None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_event.wait(), self.webhook_retry_delay)

    # ---- helpers for the methods ------------------------------------------------------------------------

    def _allocate_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _find_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        for m in self._messages.get(chat_id, []):
            if m.message_id == message_id:
                return m
        return None

    def _store_file(self, file_name: str | None, mime_type: str | None, data: bytes) -> StoredFile:
        self._counter += 1
        extension = ""
        if file_name and "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1]
        stored = StoredFile(
            file_id=f"BQACAgIAAxkBAAI{self._counter:06d}",
            file_unique_id=f"AgAD{self._counter:06d}",
            file_name=file_name,
            mime_type=mime_type,
            data=data,
            file_path=f"documents/file_{self._counter}{extension}",
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _scope_key(self, scope: Any) -> str:
        if scope is None:
            scope = {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in {
            "default",
            "all_private_chats",
            "all_group_chats",
            "all_chat_administrators",
            "chat",
            "chat_administrators",
            "chat_member",
        }:
            raise _bad_request("can't parse BotCommandScope")
        normalized = dict(scope)
        for key in ("chat_id", "user_id"):
            if key in normalized:
                normalized[key] = _as_int(normalized[key], key)
        return json.dumps(normalized, sort_keys=True)

    def _chat(self, params: JSON, *, for_sending: bool = True) -> FakeChat:
        """The chat named by chat_id, with Telegram's errors for unknown, blocked and left chats."""
        if "chat_id" not in params or params["chat_id"] in ("", None):
            raise _bad_request("chat_id is empty")
        raw = params["chat_id"]
        if isinstance(raw, str) and raw.startswith("@"):
            for known in self._chats.values():
                if known.username and f"@{known.username}".lower() == raw.lower():
                    raw = known.id
                    break
            else:
                raise _bad_request("chat not found")
        chat_id = _as_int(raw, "chat_id")
        chat = self._chats.get(chat_id)
        if chat is None:
            if self.strict_chats:
                raise _bad_request("chat not found")
            chat = FakeChat(chat_id, "private" if chat_id > 0 else "supergroup", first_name=f"User{chat_id}")
            self._chats[chat_id] = chat
            if chat_id > 0:
                self._started_users.add(chat_id)
        if for_sending:
            if chat.type == "private":
                if chat_id in self._deactivated:
                    raise ApiError(403, "Forbidden: user is deactivated")
                if chat_id in self._blocked:
                    raise ApiError(403, "Forbidden: bot was blocked by the user")
                if chat_id not in self._started_users:
                    raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            elif chat_id in self._kicked_from:
                kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
                raise ApiError(403, f"Forbidden: bot was kicked from the {kind}")
        return chat

    def _bot_member(self, chat: FakeChat) -> JSON:
        return self._members.get((chat.id, self.bot_user.id)) or _member_object(
            self.bot_user.to_api(), "member", {}
        )

    def _thread_id(self, chat: FakeChat, params: JSON) -> int | None:
        raw = params.get("message_thread_id")
        if raw is None:
            return None
        thread_id = _as_int(raw, "message_thread_id")
        if chat.is_forum:
            topic = self._topics.get((chat.id, thread_id))
            if topic is None:
                raise _bad_request("message thread not found")
            member = self._bot_member(chat)
            if topic.closed and not member.get("can_manage_topics") and member["status"] != "creator":
                raise _bad_request("TOPIC_CLOSED")
        return thread_id

    def _reply_to(self, chat: FakeChat, params: JSON) -> int | None:
        reply = params.get("reply_parameters")
        allow_missing = bool(params.get("allow_sending_without_reply"))
        message_id: Any = params.get("reply_to_message_id")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
            if "chat_id" in reply and _as_int(reply["chat_id"], "chat_id") != chat.id:
                raise _bad_request("cross-chat replies are not supported by the fake server")
        if message_id is None:
            return None
        found = self._find_message(chat.id, _as_int(message_id, "message_id"))
        if found is None or found.deleted:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        return found.message_id

    def _formatted(self, params: JSON, text_key: str, entities_key: str, limit: int) -> ParsedText | None:
        """Parses text or caption like Telegram, with its errors for bad markup, empty and long texts."""
        raw = params.get(text_key)
        is_caption = text_key == "caption"
        if raw is None or raw == "":
            if is_caption:
                return None
            raise _bad_request("message text is empty")
        if not isinstance(raw, str):
            raw = str(raw)
        parse_mode = params.get("parse_mode")
        entities = params.get(entities_key)
        if isinstance(parse_mode, str) and parse_mode:
            mode = parse_mode.lower()
            if mode == "html":
                try:
                    parsed = parse_html(raw, strict_ampersand=self.strict_html)
                except EntityParseError as exc:
                    raise _bad_request(f"can't parse entities: {exc}") from exc
            elif mode in ("markdown", "markdownv2"):
                parsed = ParsedText(raw, [])  # stored as sent: Markdown is not emulated
            else:
                raise _bad_request("unsupported parse_mode")
        elif isinstance(entities, list):
            parsed = ParsedText(raw, [dict(e) for e in entities])
        else:
            parsed = ParsedText(raw, [])
        parsed = strip_formatted(parsed.text, parsed.entities)
        if not parsed.text:
            if is_caption:
                return None
            raise _bad_request("message text is empty")
        if utf16_len(parsed.text) > limit:
            raise _bad_request("message caption is too long" if is_caption else "message is too long")
        return parsed

    def _markup(self, params: JSON) -> JSON | None:
        """Parses and checks reply_markup like Telegram does for inline keyboards."""
        markup = params.get("reply_markup")
        if markup is None or markup == "":
            return None
        if isinstance(markup, str):
            try:
                markup = json.loads(markup)
            except ValueError as exc:
                raise _bad_request("can't parse reply keyboard markup JSON object") from exc
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
                )
            for row in rows:
                for button in row:
                    self._check_button(button)
        return cast(JSON, markup)

    @staticmethod
    def _check_button(button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise _bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
        if not button["text"].strip():
            raise _bad_request("BUTTON_TEXT_INVALID")
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not data or len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                raise _bad_request("BUTTON_DATA_INVALID")
        elif "url" in button:
            url = button["url"]
            if not isinstance(url, str) or not re.match(r"(?i)^(https?|tg)://\S+$", url):
                raise _bad_request("BUTTON_URL_INVALID")
        elif not any(
            key in button
            for key in (
                "login_url",
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "copy_text",
                "web_app",
                "callback_game",
                "pay",
            )
        ):
            raise _bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
            )

    def _check_flood(self, method: str, chat: FakeChat) -> None:
        limits = self.flood
        if method not in _FLOOD_METHODS or (
            limits.global_per_second is None
            and limits.private_per_second is None
            and limits.group_per_minute is None
        ):
            return
        now = time.monotonic()
        waits: list[float] = []
        per_chat = self._sent_per_chat.setdefault(chat.id, deque())
        checks: list[tuple[deque[float], int | None, float]] = [
            (self._sent_all, limits.global_per_second, 1.0)
        ]
        if chat.type == "private":
            checks.append((per_chat, limits.private_per_second, 1.0))
        else:
            checks.append((per_chat, limits.group_per_minute, 60.0))
        for sent, limit, window in checks:
            while sent and sent[0] <= now - window:
                sent.popleft()
            if limit is not None and len(sent) >= limit:
                waits.append(sent[len(sent) - limit] + window - now)
        if waits:
            retry_after = limits.retry_after or max(1, math.ceil(max(waits)))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        self._sent_all.append(now)
        per_chat.append(now)

    def _message_json(self, m: StoredMessage, *, nested: bool = False) -> JSON:
        chat = self._chats.get(m.chat_id) or FakeChat(m.chat_id, "private")
        data: JSON = {"message_id": m.message_id, "from": m.sender, "chat": chat.to_api(), "date": m.date}
        if m.message_thread_id is not None:
            data["message_thread_id"] = m.message_thread_id
            if chat.is_forum:
                data["is_topic_message"] = True
        if m.service is not None:
            data.update(m.service)
        if m.forward_origin is not None:
            data["forward_origin"] = m.forward_origin
        if m.text is not None:
            data["text"] = m.text
            if m.entities:
                data["entities"] = m.entities
        if m.document is not None:
            data["document"] = m.document.to_document()
        if m.caption is not None:
            data["caption"] = m.caption
            if m.entities and m.text is None:
                data["caption_entities"] = m.entities
        if m.edit_date is not None:
            data["edit_date"] = m.edit_date
        if m.reply_markup is not None and "inline_keyboard" in m.reply_markup:
            data["reply_markup"] = m.reply_markup
        if not nested:
            reply_id = m.reply_to
            if reply_id is None and m.message_thread_id not in (None, m.message_id) and chat.is_forum:
                reply_id = m.message_thread_id  # topic messages reply to the topic's creation message
            replied = self._find_message(m.chat_id, reply_id) if reply_id is not None else None
            if replied is not None:
                data["reply_to_message"] = self._message_json(replied, nested=True)
        return data

    def _store_bot_message(self, method: str, chat: FakeChat, params: JSON, **content: Any) -> StoredMessage:
        thread_id = self._thread_id(chat, params)
        reply_to = self._reply_to(chat, params)
        if thread_id is None and reply_to is not None and chat.is_forum:
            replied = self._find_message(chat.id, reply_to)
            thread_id = replied.message_thread_id if replied else None  # a reply stays in its topic
        self._check_flood(method, chat)
        parse_mode = params.get("parse_mode")
        message = StoredMessage(
            chat_id=chat.id,
            message_id=self._allocate_message_id(chat.id),
            from_bot=True,
            sender=self.bot_user.to_api(),
            date=int(time.time()),
            timestamp=time.monotonic(),
            method=method,
            parse_mode=parse_mode if isinstance(parse_mode, str) else None,
            message_thread_id=thread_id,
            reply_to=reply_to,
            **content,
        )
        self._messages.setdefault(chat.id, []).append(message)
        return message

    def _bot_message(self, params: JSON, action: str) -> tuple[FakeChat, StoredMessage]:
        if params.get("inline_message_id"):
            raise _bad_request("inline messages are not supported by the fake server")
        chat = self._chat(params)
        if "message_id" not in params:
            raise _bad_request("message identifier is not specified")
        message = self._find_message(chat.id, _as_int(params["message_id"], "message_id"))
        if message is None or message.deleted:
            raise _bad_request(f"message to {action} not found")
        return chat, message

    def _edit(self, message: StoredMessage, **changes: Any) -> None:
        message.history.append(
            MessageVersion(
                message.text,
                list(message.entities),
                message.caption,
                message.reply_markup,
                message.last_change,
            )
        )
        for key, value in changes.items():
            setattr(message, key, value)
        message.edited_at = time.monotonic()
        message.edit_date = int(time.time())

    # ---- methods ----------------------------------------------------------------------------------------

    def _method_table(self) -> dict[str, Callable[[JSON], Any]]:
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "createForumTopic": self._create_forum_topic,
            "editForumTopic": self._edit_forum_topic,
            "closeForumTopic": lambda p: self._set_topic_closed(p, closed=True),
            "reopenForumTopic": lambda p: self._set_topic_closed(p, closed=False),
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "pinChatMessage": self._pin_chat_message,
            "unpinChatMessage": self._unpin_chat_message,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "setMessageReaction": self._set_message_reaction,
        }

    def _get_me(self, params: JSON) -> JSON:
        return {
            **self.bot_user.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _deliverable(self, limit: int, allowed: list[str] | None) -> list[JSON]:
        wanted = None if not allowed else set(allowed)
        result = []
        for update in self._updates:
            kinds = set(update) - {"update_id"}
            if (wanted is not None and not kinds & wanted) or (
                wanted is None and kinds <= _OPT_IN_UPDATE_TYPES
            ):
                continue
            result.append(update)
            if len(result) >= limit:
                break
        return result

    async def _get_updates(self, params: JSON) -> list[JSON]:
        timeout = max(0.0, float(params.get("timeout") or 0))
        limit = min(100, max(1, int(params.get("limit") or 100)))
        with self._cond:
            if self._webhook is not None:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            offset = params.get("offset")
            if offset is not None:
                offset = _as_int(offset, "offset")
                if offset < 0:
                    self._updates = self._updates[offset:]
                else:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if isinstance(params.get("allowed_updates"), list):
                self._allowed_updates = list(params["allowed_updates"])
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()
        self._wake()  # an older long poll of another instance ends with 409
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        with self._cond:
            self._waiting_polls += 1
        try:
            while True:
                event = self._wake_event
                assert event is not None
                with self._cond:
                    if generation != self._poll_generation:
                        raise ApiError(
                            409,
                            "Conflict: terminated by other getUpdates request; "
                            "make sure that only one bot instance is running",
                        )
                    ready = self._deliverable(limit, self._allowed_updates)
                    if ready or self._stopping:
                        return copy.deepcopy(ready)
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            with self._cond:
                self._waiting_polls -= 1
                self._cond.notify_all()

    def _set_webhook(self, params: JSON) -> bool:
        url = params.get("url") or ""
        with self._cond:
            if not url:
                self._webhook = None
                return True
            if not isinstance(url, str) or not re.match(r"^https?://", url):
                raise _bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
            secret = params.get("secret_token")
            if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
                raise _bad_request("secret token contains unallowed characters")
            if params.get("drop_pending_updates"):
                self._updates.clear()
            allowed = params.get("allowed_updates")
            self._webhook = _Webhook(
                url,
                str(secret) if secret is not None else None,
                int(params.get("max_connections") or 40),
                params.get("ip_address"),
                list(allowed) if isinstance(allowed, list) else None,
            )
            self._webhook_last_error = None
        self._wake()
        return True

    def _delete_webhook(self, params: JSON) -> bool:
        with self._cond:
            self._webhook = None
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _get_webhook_info(self, params: JSON) -> JSON:
        with self._cond:
            info: JSON = {
                "url": self._webhook.url if self._webhook else "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self._webhook is not None:
                info["max_connections"] = self._webhook.max_connections
                if self._webhook.ip_address:
                    info["ip_address"] = self._webhook.ip_address
                if self._webhook.allowed_updates is not None:
                    info["allowed_updates"] = self._webhook.allowed_updates
                if self._webhook_last_error is not None:
                    info["last_error_date"], info["last_error_message"] = self._webhook_last_error
            return info

    def _send_message(self, params: JSON) -> JSON:
        with self._cond:
            chat = self._chat(params)
            parsed = self._formatted(params, "text", "entities", MAX_TEXT_LENGTH)
            assert parsed is not None
            message = self._store_bot_message(
                "sendMessage",
                chat,
                params,
                text=parsed.text,
                raw_text=str(params["text"]),
                entities=parsed.entities,
                reply_markup=self._markup(params),
            )
            return self._message_json(message)

    def _send_document(self, params: JSON) -> JSON:
        with self._cond:
            chat = self._chat(params)
            document = params.get("document")
            if isinstance(document, UploadedFile):
                if not document.data:
                    raise _bad_request("file must be non-empty")
                stored = self._store_file(document.filename, document.content_type, document.data)
            elif isinstance(document, str) and document in self._files:
                stored = self._files[document]
            elif isinstance(document, str) and re.match(r"^https?://", document):
                raise _bad_request("failed to get HTTP URL content")
            elif isinstance(document, str) and document.startswith("attach://"):
                raise _bad_request(f"file {document} not found in the request")
            else:
                raise _bad_request("wrong file identifier/HTTP URL specified")
            caption = self._formatted(params, "caption", "caption_entities", MAX_CAPTION_LENGTH)
            message = self._store_bot_message(
                "sendDocument",
                chat,
                params,
                document=stored,
                caption=caption.text if caption else None,
                raw_text=params.get("caption"),
                entities=caption.entities if caption else [],
                reply_markup=self._markup(params),
            )
            return self._message_json(message)

    def _edit_message_text(self, params: JSON) -> JSON:
        with self._cond:
            _, message = self._bot_message(params, "edit")
            if not message.from_bot:
                raise _bad_request("message can't be edited")
            if message.text is None:
                raise _bad_request("there is no text in the message to edit")
            parsed = self._formatted(params, "text", "entities", MAX_TEXT_LENGTH)
            assert parsed is not None
            markup = self._markup(params)
            if (parsed.text, parsed.entities, markup) == (
                message.text,
                message.entities,
                message.reply_markup,
            ):
                raise _not_modified()
            self._edit(
                message,
                text=parsed.text,
                raw_text=str(params["text"]),
                entities=parsed.entities,
                reply_markup=markup,
                parse_mode=params.get("parse_mode"),
            )
            return self._message_json(message)

    def _edit_message_caption(self, params: JSON) -> JSON:
        with self._cond:
            _, message = self._bot_message(params, "edit")
            if not message.from_bot:
                raise _bad_request("message can't be edited")
            if message.document is None:
                raise _bad_request("there is no caption in the message to edit")
            caption = self._formatted(params, "caption", "caption_entities", MAX_CAPTION_LENGTH)
            markup = self._markup(params)
            new_text = caption.text if caption else None
            new_entities = caption.entities if caption else []
            if (new_text, new_entities, markup) == (message.caption, message.entities, message.reply_markup):
                raise _not_modified()
            self._edit(message, caption=new_text, entities=new_entities, reply_markup=markup)
            return self._message_json(message)

    def _edit_message_reply_markup(self, params: JSON) -> JSON:
        with self._cond:
            _, message = self._bot_message(params, "edit")
            if not message.from_bot:
                raise _bad_request("message can't be edited")
            markup = self._markup(params)
            if markup == message.reply_markup:
                raise _not_modified()
            self._edit(message, reply_markup=markup)
            return self._message_json(message)

    def _delete_message(self, params: JSON) -> bool:
        with self._cond:
            _, message = self._bot_message(params, "delete")
            message.deleted = True
            return True

    def _answer_callback_query(self, params: JSON) -> bool:
        with self._cond:
            query_id = str(params.get("callback_query_id") or "")
            if query_id not in self._callback_queries or query_id in self._callback_answers:
                raise _bad_request("query is too old and response timeout expired or query ID is invalid")
            text = params.get("text")
            if isinstance(text, str) and len(text) > 200:
                raise _bad_request("MESSAGE_TOO_LONG")
            self._callback_answers[query_id] = dict(params)
            return True

    def _get_file(self, params: JSON) -> JSON:
        with self._cond:
            stored = self._files.get(str(params.get("file_id") or ""))
            if stored is None:
                raise _bad_request("invalid file_id")
            return {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data),
                "file_path": stored.file_path,
            }

    def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("too many commands specified")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        with self._cond:
            key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
            if commands:
                self._commands[key] = [
                    {"command": c["command"], "description": c["description"]} for c in commands
                ]
            else:
                self._commands.pop(key, None)
            return True

    def _get_my_commands(self, params: JSON) -> list[JSON]:
        with self._cond:
            key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
            return copy.deepcopy(self._commands.get(key, []))

    def _delete_my_commands(self, params: JSON) -> bool:
        with self._cond:
            self._commands.pop(
                (self._scope_key(params.get("scope")), str(params.get("language_code") or "")), None
            )
            return True

    def _send_chat_action(self, params: JSON) -> bool:
        with self._cond:
            chat = self._chat(params)
            if params.get("action") not in _CHAT_ACTIONS:
                raise _bad_request("wrong parameter action in request")
            self._thread_id(chat, params)
            return True

    def _get_chat(self, params: JSON) -> JSON:
        with self._cond:
            chat = self._chat(params, for_sending=False)
            info = chat.to_api()
            info.update(
                {
                    "accent_color_id": 0,
                    "max_reaction_count": 11,
                    "accepted_gift_types": {
                        "unlimited_gifts": False,
                        "limited_gifts": False,
                        "unique_gifts": False,
                        "premium_subscription": False,
                        "gifts_from_channels": False,
                    },
                }
            )
            return info

    def _get_chat_member(self, params: JSON) -> JSON:
        with self._cond:
            chat = self._chat(params, for_sending=False)
            user_id = _as_int(params.get("user_id"), "user_id")
            if user_id == self.bot_user.id:
                return copy.deepcopy(self._bot_member(chat))
            member = self._members.get((chat.id, user_id))
            if member is not None:
                return copy.deepcopy(member)
            user = self._users.get(user_id)
            if chat.type == "private":
                status: ChatMemberStatus = "member" if user_id == chat.id else "left"
            else:
                status = "member" if user is not None else "left"
            user_json = (
                user.to_api() if user else {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
            )
            return _member_object(user_json, status, {})

    def _get_chat_administrators(self, params: JSON) -> list[JSON]:
        with self._cond:
            chat = self._chat(params, for_sending=False)
            if chat.type == "private":
                raise _bad_request("there are no administrators in the private chat")
            return copy.deepcopy(
                [
                    member
                    for (chat_id, _), member in self._members.items()
                    if chat_id == chat.id and member["status"] in ("creator", "administrator")
                ]
            )

    def _forum(self, params: JSON) -> FakeChat:
        chat = self._chat(params)
        if not chat.is_forum:
            raise _bad_request("the chat is not a forum")
        member = self._bot_member(chat)
        if member["status"] != "creator" and not member.get("can_manage_topics"):
            raise _bad_request("not enough rights to create a topic")
        return chat

    def _topic(self, chat: FakeChat, params: JSON) -> ForumTopic:
        topic = self._topics.get((chat.id, _as_int(params.get("message_thread_id"), "message_thread_id")))
        if topic is None:
            raise _bad_request("message thread not found")
        return topic

    def _create_forum_topic(self, params: JSON) -> JSON:
        with self._cond:
            chat = self._forum(params)
            name = params.get("name")
            if not isinstance(name, str) or not name.strip():
                raise _bad_request("TOPIC_TITLE_EMPTY")
            if len(name) > 128:
                raise _bad_request("TOPIC_TITLE_INVALID")
            icon_color = int(params.get("icon_color") or DEFAULT_TOPIC_ICON_COLOR)
            # The thread id is the id of the topic's service message, as in Telegram.
            thread_id = self._allocate_message_id(chat.id)
            topic = ForumTopic(chat.id, thread_id, name, icon_color, params.get("icon_custom_emoji_id"))
            self._topics[(chat.id, thread_id)] = topic
            created: JSON = {"name": name, "icon_color": icon_color}
            if topic.icon_custom_emoji_id:
                created["icon_custom_emoji_id"] = topic.icon_custom_emoji_id
            self._messages.setdefault(chat.id, []).append(
                StoredMessage(
                    chat_id=chat.id,
                    message_id=thread_id,
                    from_bot=True,
                    sender=self.bot_user.to_api(),
                    date=int(time.time()),
                    timestamp=time.monotonic(),
                    message_thread_id=thread_id,
                    method="createForumTopic",
                    service={"forum_topic_created": created},
                )
            )
            result: JSON = {"message_thread_id": thread_id, "name": name, "icon_color": icon_color}
            if topic.icon_custom_emoji_id:
                result["icon_custom_emoji_id"] = topic.icon_custom_emoji_id
            return result

    def _edit_forum_topic(self, params: JSON) -> bool:
        with self._cond:
            chat = self._forum(params)
            topic = self._topic(chat, params)
            name = params.get("name")
            emoji = params.get("icon_custom_emoji_id")
            if (name is None or name == topic.name) and (
                emoji is None or emoji == topic.icon_custom_emoji_id
            ):
                raise _bad_request("TOPIC_NOT_MODIFIED")
            if name is not None:
                topic.name = str(name)
            if emoji is not None:
                topic.icon_custom_emoji_id = str(emoji) or None
            return True

    def _set_topic_closed(self, params: JSON, *, closed: bool) -> bool:
        with self._cond:
            chat = self._forum(params)
            topic = self._topic(chat, params)
            if topic.closed == closed:
                raise _bad_request("TOPIC_NOT_MODIFIED")
            topic.closed = closed
            return True

    def _source_message(self, params: JSON) -> StoredMessage:
        source_chat = self._chat({"chat_id": params.get("from_chat_id")}, for_sending=False)
        found = self._find_message(source_chat.id, _as_int(params.get("message_id"), "message_id"))
        if found is None or found.deleted or found.service is not None:
            raise _bad_request("message to copy not found")
        return found

    def _copy_message(self, params: JSON) -> JSON:
        with self._cond:
            chat = self._chat(params)
            source = self._source_message(params)
            content: JSON = {
                "text": source.text,
                "raw_text": source.raw_text,
                "entities": list(source.entities),
                "caption": source.caption,
                "document": source.document,
                "reply_markup": self._markup(params),
            }
            if "caption" in params and source.text is None:
                caption = self._formatted(params, "caption", "caption_entities", MAX_CAPTION_LENGTH)
                content["caption"] = caption.text if caption else None
                content["entities"] = caption.entities if caption else []
            message = self._store_bot_message("copyMessage", chat, params, **content)
            message.extra["copied_from"] = (source.chat_id, source.message_id)
            return {"message_id": message.message_id}

    def _forward_message(self, params: JSON) -> JSON:
        with self._cond:
            chat = self._chat(params)
            source = self._source_message(params)
            source_chat = self._chats[source.chat_id]
            origin: JSON
            if source_chat.type in ("private",) or not source.from_bot:
                origin = {"type": "user", "date": source.date, "sender_user": source.sender}
            else:
                origin = {"type": "chat", "date": source.date, "sender_chat": source_chat.to_api()}
            message = self._store_bot_message(
                "forwardMessage",
                chat,
                params,
                text=source.text,
                raw_text=source.raw_text,
                entities=list(source.entities),
                caption=source.caption,
                document=source.document,
                forward_origin=origin,
            )
            return self._message_json(message)

    def _pin_chat_message(self, params: JSON) -> bool:
        with self._cond:
            _, message = self._bot_message(params, "pin")
            message.pinned = True
            return True

    def _unpin_chat_message(self, params: JSON) -> bool:
        with self._cond:
            chat = self._chat(params)
            pinned = [m for m in self._messages.get(chat.id, []) if m.pinned]
            if "message_id" in params:
                pinned = [m for m in pinned if m.message_id == _as_int(params["message_id"], "message_id")]
            for m in pinned[-1:]:
                m.pinned = False
            return True

    def _set_chat_menu_button(self, params: JSON) -> bool:
        with self._cond:
            chat_id = None
            if params.get("chat_id") not in (None, ""):
                chat_id = self._chat(params, for_sending=False).id
            button = params.get("menu_button") or {"type": "default"}
            if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
                raise _bad_request("can't parse menu button")
            self._menu_buttons[chat_id] = button
            return True

    def _set_message_reaction(self, params: JSON) -> bool:
        with self._cond:
            chat = self._chat(params, for_sending=False)
            message_id = _as_int(params.get("message_id"), "message_id")
            reaction = params.get("reaction") or []
            if not isinstance(reaction, list):
                raise _bad_request("can't parse reaction types")
            self._reactions[(chat.id, message_id)] = copy.deepcopy(reaction)
            self._cond.notify_all()
            return True

    def reactions(self, chat: ChatRef, message_id: int) -> list[JSON]:
        """The bot's reaction on a message (e.g. the 👍 a relayed staff message gets)."""
        with self._cond:
            return copy.deepcopy(self._reactions.get((_chat_id(chat), message_id), []))

    def _get_chat_menu_button(self, params: JSON) -> JSON:
        with self._cond:
            chat_id = None
            if params.get("chat_id") not in (None, ""):
                chat_id = self._chat(params, for_sending=False).id
            return copy.deepcopy(
                self._menu_buttons.get(chat_id) or self._menu_buttons.get(None) or {"type": "commands"}
            )


def _not_modified() -> ApiError:
    return _bad_request(
        "message is not modified: specified new message content and reply markup are exactly the same as a "
        "current content and reply markup of the message"
    )


def _default_error_description(status: int) -> str:
    return {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }.get(status, "Error")
