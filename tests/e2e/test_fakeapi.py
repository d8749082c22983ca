"""The fake Bot API server, exercised with python-telegram-bot's real ``telegram.Bot``."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import socket
import threading
import time
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, BotCommandScopeChat, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.request import HTTPXRequest

from .fakeapi import DEFAULT_TOKEN, FakeBotApi, FakeChat, FakeUser
from .tghtml import EntityParseError, parse_html

ANNA = FakeUser(1001, "Anna", username="anna_kommune")
STAFF = FakeUser(2002, "Sven")
FORUM = FakeChat.supergroup(-1001234567890, "IJA-Beratung", is_forum=True)


@pytest.fixture
async def bot(fake_api: FakeBotApi) -> AsyncIterator[Bot]:
    """A PTB bot talking to the fake server, with short timeouts so failures show quickly."""
    request = HTTPXRequest(connect_timeout=1.0, read_timeout=1.0)
    async with Bot(
        DEFAULT_TOKEN, base_url=fake_api.base_url, base_file_url=fake_api.base_file_url, request=request
    ) as tg_bot:
        yield tg_bot


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data)] for text, data in buttons])


# ---- messages and Telegram's checks -------------------------------------------------------------------


async def test_send_message_is_stored_as_telegram_shows_it(fake_api: FakeBotApi, bot: Bot) -> None:
    fake_api.add_user(ANNA)
    sent = await bot.send_message(
        ANNA.id,
        "<b>Willkommen</b> bei IJA &amp; Co.",
        parse_mode="HTML",
        reply_markup=keyboard(("Themen", "menu:topics")),
    )

    assert sent.text == "Willkommen bei IJA & Co."
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 10)]
    stored = fake_api.last_message(ANNA)
    assert stored is not None
    assert (stored.chat_id, stored.message_id, stored.text) == (ANNA.id, sent.message_id, sent.text)
    assert stored.raw_text == "<b>Willkommen</b> bei IJA &amp; Co."
    assert stored.parse_mode == "HTML"
    assert stored.callback_data() == ["menu:topics"]
    assert fake_api.calls("sendMessage")[0].ok


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("Kosten < 500 Euro", 'unsupported start tag "" at byte offset 7'),
        ("<b>fett", 'can\'t find end tag corresponding to start tag "b"'),
        ("Zeile<br>zwei", 'unsupported start tag "br" at byte offset 5'),
        ("<b><i>x</b></i>", 'unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "unexpected end tag at byte offset 1"),
        ('<span class="rot">x</span>', 'tag "span" must have class "tg-spoiler"'),
        ("Müller & Söhne", 'unescaped "&" at byte offset 8'),
    ],
)
async def test_invalid_html_is_rejected_like_telegram(
    fake_api: FakeBotApi, bot: Bot, html: str, error: str
) -> None:
    fake_api.add_user(ANNA)
    with pytest.raises(BadRequest, match="Can't parse entities") as caught:
        await bot.send_message(ANNA.id, html, parse_mode="HTML")
    assert error in caught.value.message.lower()
    assert fake_api.messages(ANNA) == []


def test_html_parser_accepts_every_supported_tag_and_entity() -> None:
    parsed = parse_html(
        "<b>a</b><strong>b</strong><i>c</i><em>d</em><u>e</u><ins>f</ins><s>g</s><strike>h</strike><del>i</del>"
        '<span class="tg-spoiler">j</span><tg-spoiler>k</tg-spoiler><a href="https://ijab.de/?a=1&amp;b=2">l</a>'
        '<code>m</code><pre><code class="language-python">n</code></pre><blockquote>o</blockquote>'
        '<blockquote expandable>p</blockquote><tg-emoji emoji-id="5368324170671202286">q</tg-emoji>'
        "&lt;&gt;&amp;&quot;&#228;&#x1F600;"
    )
    assert parsed.text == 'abcdefghijklmnopq<>&"ä😀'
    kinds = [e["type"] for e in parsed.entities]
    assert kinds[:9] == ["bold", "bold", "italic", "italic", "underline", "underline"] + ["strikethrough"] * 3
    assert {
        "type": "text_link",
        "offset": 11,
        "length": 1,
        "url": "https://ijab.de/?a=1&b=2",
    } in parsed.entities
    assert {"type": "pre", "offset": 13, "length": 1, "language": "python"} in parsed.entities
    assert kinds[-3:] == ["blockquote", "expandable_blockquote", "custom_emoji"]
    with pytest.raises(EntityParseError):
        parse_html("<b>x</b")


async def test_length_is_counted_after_parsing_in_utf16(fake_api: FakeBotApi, bot: Bot) -> None:
    fake_api.add_user(ANNA)
    await bot.send_message(ANNA.id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ANNA.id, "x" * 4097)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ANNA.id, "😀" * 2049)  # 4098 UTF-16 code units
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(ANNA.id, "<b> </b>", parse_mode="HTML")
    assert len(fake_api.messages(ANNA)) == 1


async def test_inline_keyboards_are_checked(fake_api: FakeBotApi, bot: Bot) -> None:
    fake_api.add_user(ANNA)
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(ANNA.id, "Menü", reply_markup=keyboard(("Zu lang", "x" * 65)))
    with pytest.raises(BadRequest, match="Button_url_invalid"):
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Quelle", url="ftp://ijab.de")]])
        await bot.send_message(ANNA.id, "Menü", reply_markup=markup)
    await bot.send_message(ANNA.id, "Menü", reply_markup=keyboard(("Genau 64", "ä" * 32)))


async def test_edits_keep_history_and_identical_edits_fail(fake_api: FakeBotApi, bot: Bot) -> None:
    fake_api.add_user(ANNA)
    sent = await bot.send_message(ANNA.id, "Schritt 1", reply_markup=keyboard(("Weiter", "step:2")))
    await bot.edit_message_text("Schritt 2", chat_id=ANNA.id, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Schritt 2", chat_id=ANNA.id, message_id=sent.message_id)

    stored = fake_api.message(ANNA, sent.message_id)
    assert stored is not None
    assert stored.text == "Schritt 2"
    assert stored.reply_markup is None  # an edit without reply_markup removes the keyboard, as in Telegram
    assert [v.text for v in stored.history] == ["Schritt 1"]
    await bot.delete_message(ANNA.id, sent.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(ANNA.id, sent.message_id)


async def test_blocked_deactivated_and_unknown_recipients(fake_api: FakeBotApi, bot: Bot) -> None:
    fake_api.add_user(ANNA)
    fake_api.block_user(ANNA)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ANNA.id, "Infobrief")
    fake_api.send_text(ANNA, "/start")  # writing again lifts the block
    await bot.send_message(ANNA.id, "Willkommen zurück")

    fake_api.deactivate_user(ANNA)
    with pytest.raises(Forbidden, match="user is deactivated"):
        await bot.send_message(ANNA.id, "Infobrief")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(-100999, "Hallo")
    fake_api.add_user(STAFF, started=False)
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(STAFF.id, "Hallo")


async def test_flood_control_answers_retry_after(
    fake_api: FakeBotApi, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PTB warns about the int form of retry_after; opt in to the timedelta form the next major uses.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    fake_api.add_user(ANNA)
    fake_api.set_flood_limits(global_per_second=3, retry_after=7)
    for n in range(3):
        await bot.send_message(ANNA.id, f"Nachricht {n}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ANNA.id, "eine zu viel")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert fake_api.too_many_requests_count == 1
    assert len(fake_api.messages(ANNA)) == 3


async def test_group_flood_limit_counts_per_chat(
    fake_api: FakeBotApi, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    fake_api.add_chat(FORUM)
    fake_api.add_user(ANNA)
    fake_api.set_flood_limits(global_per_second=None, group_per_minute=2)
    await bot.send_message(FORUM.id, "1")
    await bot.send_message(FORUM.id, "2")
    await bot.send_message(ANNA.id, "private chats are not limited by the group limit")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(FORUM.id, "3")
    retry_after = caught.value.retry_after
    assert isinstance(retry_after, dtm.timedelta)
    assert dtm.timedelta(seconds=58) <= retry_after <= dtm.timedelta(seconds=60)
    assert fake_api.calls("sendMessage")[-1].status == 429


# ---- updates ------------------------------------------------------------------------------------------


async def test_long_polling_returns_as_soon_as_an_update_arrives(fake_api: FakeBotApi, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    loop.call_later(0.2, fake_api.send_text, ANNA, "/start beratung")
    started = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    assert time.monotonic() - started < 2

    assert len(updates) == 1
    message = updates[0].message
    assert message is not None and message.text == "/start beratung"
    assert message.from_user is not None and message.from_user.id == ANNA.id
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]

    # Without a new offset the update comes again; the offset confirms it.
    assert [u.update_id for u in await bot.get_updates()] == [updates[0].update_id]
    assert await bot.get_updates(offset=updates[0].update_id + 1) == ()
    assert fake_api.pending_update_count == 0


async def test_a_second_poller_ends_the_first_with_conflict(fake_api: FakeBotApi, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=20))
    await fake_api.wait_for_async(lambda: fake_api.polling)
    async with Bot(DEFAULT_TOKEN, base_url=fake_api.base_url) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


async def test_button_press_and_callback_answer(fake_api: FakeBotApi, bot: Bot) -> None:
    fake_api.add_user(ANNA)
    await bot.send_message(ANNA.id, "Menü", reply_markup=keyboard(("Förderung", "menu:funding")))
    menu = await fake_api.wait_for_message_async(ANNA, "Menü")
    query_id = fake_api.press_button(ANNA, menu, text="Förderung")

    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None
    assert (query.id, query.data, query.from_user.id) == (query_id, "menu:funding", ANNA.id)
    assert query.message is not None and query.message.message_id == menu.message_id
    await bot.answer_callback_query(query_id, text="OK")
    answer = fake_api.callback_answer(query_id)
    assert answer is not None and answer["text"] == "OK"
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(LookupError, match="no button"):
        fake_api.press_button(ANNA, menu, "menu:nonexistent")


async def test_webhook_receives_updates_with_the_secret(fake_api: FakeBotApi, bot: Bot) -> None:
    received: list[tuple[dict[str, Any], str | None]] = []

    async def webhook(request: web.Request) -> web.Response:
        received.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        return web.Response(status=500 if len(received) == 1 else 200)  # the first attempt fails

    app = web.Application()
    app.router.add_post("/hook", webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    try:
        fake_api.webhook_retry_delay = 0.05
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        fake_api.send_text(ANNA, "Hallo")
        await fake_api.wait_for_async(lambda: any(d.status == 200 for d in fake_api.webhook_deliveries()))
    finally:
        await runner.cleanup()

    assert [d.status for d in fake_api.webhook_deliveries()] == [500, 200]
    assert received[-1][1] == "s3cret"
    assert received[-1][0]["message"]["text"] == "Hallo"
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 0 and info.last_error_message is not None
    await bot.delete_webhook()
    assert fake_api.webhook_url is None


# ---- files, topics, commands ----------------------------------------------------------------------------


async def test_send_document_round_trips_bytes(fake_api: FakeBotApi, bot: Bot) -> None:
    fake_api.add_user(ANNA)
    content = json.dumps({"name": "Anna", "ä": "ß"}).encode()
    sent = await bot.send_document(
        ANNA.id,
        InputFile(content, filename="meine_daten.json"),
        caption="<i>Ihre Daten</i>",
        parse_mode="HTML",
    )
    assert sent.document is not None and sent.caption == "Ihre Daten"

    stored = fake_api.last_message(ANNA)
    assert stored is not None and stored.document is not None
    assert (stored.document.file_name, stored.document.data) == ("meine_daten.json", content)
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content

    upload = fake_api.send_document(ANNA, "plan.docx", b"PK\x03\x04docx")
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.document is not None
    assert update.message.document.file_name == "plan.docx"
    assert upload.document is not None
    downloaded = await (await bot.get_file(update.message.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == upload.document.data


async def test_forum_topics_and_staff_replies(fake_api: FakeBotApi, bot: Bot) -> None:
    fake_api.add_chat(FORUM, members={STAFF: "administrator"})
    topic = await bot.create_forum_topic(FORUM.id, "Anfrage #7")
    assert topic.message_thread_id > 0
    posted = await bot.send_message(FORUM.id, "Neue Anfrage", message_thread_id=topic.message_thread_id)
    assert posted.is_topic_message and posted.message_thread_id == topic.message_thread_id

    stored = await fake_api.wait_for_message_async(FORUM, "Neue", message_thread_id=topic.message_thread_id)
    reply = fake_api.send_text(STAFF, "Wir melden uns.", chat=FORUM, reply_to=stored)
    (update,) = await bot.get_updates()
    message = update.message
    assert message is not None and reply.message_thread_id == topic.message_thread_id
    assert message.is_topic_message and message.message_thread_id == topic.message_thread_id
    assert message.reply_to_message is not None and message.reply_to_message.message_id == posted.message_id

    await bot.close_forum_topic(FORUM.id, topic.message_thread_id)
    assert fake_api.topics(FORUM)[0].closed
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(FORUM.id, "x", message_thread_id=999)
    member = await bot.get_chat_member(FORUM.id, STAFF.id)
    assert member.status == "administrator"
    assert (await bot.get_chat_member(FORUM.id, 4242)).status == "left"
    assert (await bot.get_chat(FORUM.id)).is_forum


async def test_commands_are_stored_per_scope(fake_api: FakeBotApi, bot: Bot) -> None:
    await bot.set_my_commands([("start", "Start"), ("hilfe", "Hilfe")])
    fake_api.add_user(ANNA)
    await bot.set_my_commands([("ankuendigung", "Ankündigung")], scope=BotCommandScopeChat(ANNA.id))
    assert [c.command for c in await bot.get_my_commands()] == ["start", "hilfe"]
    assert fake_api.commands({"type": "chat", "chat_id": ANNA.id}) == [
        {"command": "ankuendigung", "description": "Ankündigung"}
    ]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Meine-Daten", "x")])


# ---- faults -------------------------------------------------------------------------------------------


async def test_injected_faults(fake_api: FakeBotApi, bot: Bot) -> None:
    fake_api.add_user(ANNA)
    fake_api.fail_next("sendMessage", 1, 502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(ANNA.id, "a")
    fake_api.fail_next("sendMessage", 1, "timeout", execute=True)
    with pytest.raises(TimedOut):
        await bot.send_message(ANNA.id, "b", read_timeout=0.2)
    fake_api.fail_next("sendMessage", 1, "disconnect")
    with pytest.raises(NetworkError):
        await bot.send_message(ANNA.id, "c")
    fake_api.fail_chat(ANNA, 1, 500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(ANNA.id, "d")
    await bot.send_message(ANNA.id, "e")

    # The timed-out call took effect although the bot never learned it (a lost response).
    assert [m.text for m in fake_api.messages(ANNA)] == ["b", "e"]
    assert [c.status for c in fake_api.calls("sendMessage")] == [502, "timeout", "disconnect", 500, 200]

    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendFancyThing")
    assert [c.method for c in fake_api.unknown_calls()] == ["sendFancyThing"]


def test_sync_tests_can_wait_for_what_a_client_thread_sends(fake_api: FakeBotApi) -> None:
    fake_api.add_user(ANNA)

    def client() -> None:
        body = json.dumps({"chat_id": ANNA.id, "text": "aus einem Thread"}).encode()
        request = urllib.request.Request(
            f"{fake_api.base_url}{DEFAULT_TOKEN}/sendMessage",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.load(response)["ok"] is True

    thread = threading.Thread(target=client)
    mark = fake_api.mark()
    thread.start()
    message = fake_api.wait_for_message(ANNA, "Thread", since=mark, timeout=5)
    thread.join()
    assert message.text == "aus einem Thread"
    with pytest.raises(TimeoutError, match="containing 'nie'"):
        fake_api.wait_for_message(ANNA, "nie", timeout=0.1)


async def test_a_multipart_upload_arriving_in_pieces_is_read(fake_api: FakeBotApi) -> None:
    """Under load an upload can reach the server in pieces: a field's start, a few bytes, then a lot at once.
    aiohttp's multipart reader then puts back what it read too far and says so with a DeprecationWarning,
    which pytest's "warnings are errors" turned into a 500 from the server now and then."""
    fake_api.add_user(ANNA)
    boundary = "b0undaryXYZ"
    data = bytes(range(256)) * 80  # more than aiohttp's 8 KiB read size
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="chat_id"\r\n\r\n{ANNA.id}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="document"; filename="plan.docx"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    head = (
        f"POST /bot{DEFAULT_TOKEN}/sendDocument HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    split = body.index(str(ANNA.id).encode()) + 2  # the chat_id's first digits, then two more, then the rest
    port = int(fake_api.url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for piece in (head + body[:split], body[split : split + 2], body[split + 2 :]):
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(0.2)  # the server reads each piece before the next arrives
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    assert response.startswith(b"HTTP/1.1 200"), response[:300]
    [message] = fake_api.messages(ANNA)
    assert message.document is not None and message.document.data == data


async def test_latency_delays_every_call_and_calls_wait_side_by_side(fake_api: FakeBotApi, bot: Bot) -> None:
    fake_api.latency = 0.2
    started = time.monotonic()
    await asyncio.gather(*(bot.get_me() for _ in range(5)))
    elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 0.6, elapsed  # each waited 0.2 s, all at once (sequential would be 1 s)
