"""``python -m bot demo``: the real Application and handlers, driven from the terminal, offline.

Bot messages are printed as readable text (HTML rendered, links shown), buttons as numbered choices; the user
types text or a number. Works with piped standard input, so a script can drive it.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from telegram import Update

from bot.app import build_application, running
from bot.config import Settings
from bot.context import App
from bot.offline import Call, OfflineBotApi, SentMessage, UpdateFactory
from bot.texts import Texts

DEMO_USER_ID = 424242
DEMO_STAFF_ID = 515151
DEMO_STAFF_CHAT_ID = -1009999999


def html_to_terminal(text: str) -> str:
    """Telegram HTML as plain terminal text: tags dropped, links shown with their address."""
    text = re.sub(
        r'<a href="([^"]*)">(.*?)</a>', lambda m: f"{m.group(2)} ({html.unescape(m.group(1))})", text
    )
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text)


class Terminal:
    """Prints what the bot sends and remembers the buttons the user can press by number."""

    def __init__(self, texts_ref: list[Texts], files_dir: Path) -> None:
        self._texts_ref = texts_ref
        self.files_dir = files_dir
        # The buttons of the latest message with buttons, in the private chat and in the staff group: pressing a
        # staff button must still work after the requester got a message with buttons of their own.
        self.buttons: dict[int, tuple[SentMessage, str]] = {}
        self.group_buttons: dict[int, tuple[SentMessage, str]] = {}

    @property
    def texts(self) -> Texts:
        return self._texts_ref[0]

    def label(self, chat_id: int) -> str:
        return self.texts("demo.staff_group") if chat_id < 0 else self.texts("demo.bot")

    def on_call(self, call: Call, message: SentMessage | None) -> None:
        if call.method == "answerCallbackQuery" and call.params.get("text"):
            print(f"  [{self.texts('demo.toast')}] {call.params['text']}")
        if message is None:
            return
        header = f"── {self.label(message.chat_id)}"
        if message.thread_id is not None:
            header += f" #{message.thread_id}"
        if message.edited:
            header += f" ({self.texts('demo.edited')})"
        print(header)
        if message.text:
            print(html_to_terminal(message.text))
        if message.document is not None:
            name, data = message.document
            target = self.files_dir / Path(name).name
            target.write_bytes(data)
            print(self.texts("demo.file_saved", path=str(target)))
        self._show_buttons(message)
        print(flush=True)

    def _show_buttons(self, message: SentMessage) -> None:
        buttons = message.buttons()
        if not buttons:
            return
        pressable: dict[int, tuple[SentMessage, str]] = {}
        if message.chat_id < 0:
            self.group_buttons = pressable
        else:
            self.buttons = pressable
        for number, button in enumerate(buttons, start=1):
            if "callback_data" in button:
                pressable[number] = (message, str(button["callback_data"]))
                print(f"  [{number}] {button['text']}")
            elif "url" in button:
                print(f"  [–] {button['text']} <{button['url']}>")


async def _settle(app: App) -> None:
    """Let background work print before the next prompt: wait (a few seconds at most) until the outbox has
    nothing due, so piped input sees e.g. the staff post before it presses the post's buttons."""
    await asyncio.sleep(0.05)
    services = app.bot_data
    for _ in range(100):
        if not services.outbox.busy and not await services.db.due_outbox(services.clock.now(), 1):
            return
        await asyncio.sleep(0.05)


async def _latest_request_message(
    app: App, api: OfflineBotApi, staff_chat: dict[str, Any]
) -> tuple[SentMessage, int] | None:
    """The newest bot message in the staff group that belongs to a request, with the request's number."""
    for message in reversed(api.sent_to(int(staff_chat["id"]))):
        req = await app.bot_data.db.request_for_staff_message(message.chat_id, message.message_id)
        if req is not None:
            return message, req.id
    return None


async def run_demo(settings: Settings, database: Path | None) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="ija-lotse-demo-"))
    settings = settings.model_copy(
        update={
            "database": database or workdir / "demo.sqlite3",
            "admin_ids": frozenset(settings.admin_ids | {DEMO_USER_ID}),
            "staff_chat_id": settings.staff_chat_id or DEMO_STAFF_CHAT_ID,
            "tick_seconds": 1.0,
        }
    )
    texts_ref: list[Texts] = []
    terminal = Terminal(texts_ref, workdir)
    api = OfflineBotApi(strict=False, on_call=terminal.on_call)
    app = build_application(settings, request=api)
    factory = UpdateFactory(app)
    user = factory.user(DEMO_USER_ID, "Demo")
    staff = factory.user(DEMO_STAFF_ID, "Team")
    staff_chat = {"id": settings.staff_chat_id, "type": "supergroup", "title": "Staff"}
    in_group = False
    async with running(app):
        texts_ref.append(app.bot_data.texts)
        print(app.bot_data.texts("demo.intro", user_id=DEMO_USER_ID), flush=True)
        await app.process_update(factory.message(user, "/start"))
        while True:
            print(f"{terminal.texts('demo.you')}> ", end="", flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                break
            text = line.strip()
            if text in ("/quit", "/exit"):
                break
            if not text:
                continue
            if text == "/gruppe":
                in_group = True
                print(terminal.texts("demo.now_group"), flush=True)
                continue
            if text == "/privat":
                in_group = False
                print(terminal.texts("demo.now_private"), flush=True)
                continue
            update: Update
            literal = text.startswith("'") and len(text) > 1
            if literal:
                text = text[1:]  # 'text: sent as typed, e.g. a number the bot asks for
            if text.isdigit() and not literal:
                pressed = (terminal.group_buttons if in_group else terminal.buttons).get(int(text))
                if pressed is None:
                    print(terminal.texts("demo.no_such_button"), flush=True)
                    continue
                update = factory.press(staff if in_group else user, pressed[0], pressed[1])
            elif in_group:
                # Staff answer a request by replying to its message: the demo replies to the latest one shown.
                target = None if text.startswith("/") else await _latest_request_message(app, api, staff_chat)
                if target is not None:
                    print(terminal.texts("demo.replying_to", number=target[1]), flush=True)
                update = factory.message(staff, text, chat=staff_chat, reply_to=target[0] if target else None)
            else:
                update = factory.message(user, text)
            await app.process_update(update)
            await _settle(app)
        print(terminal.texts("demo.bye"), flush=True)
    return 0
