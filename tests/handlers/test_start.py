"""/start, /hilfe, the main menu, unknown input and errors — as a user sees them."""

from __future__ import annotations

from bot.offline import OfflineBotApi
from bot.outbox import CountingRateLimiter
from tests.harness import Harness

USER = 101


async def test_start_shows_welcome_and_main_menu(bot: Harness) -> None:
    user = bot.user(USER, "Anna <script>")
    # A new user also gets the one-time subscription offer after the welcome.
    reply, *_ = await bot.send(user, "/start")
    assert reply.chat_id == USER
    assert "Willkommen" in reply.text
    # The user's name is escaped, never parsed as HTML.
    assert "Anna &lt;script&gt;" in reply.text
    labels = [b["text"] for b in reply.buttons()]
    for key in ("themen", "foerderfinder", "termine", "beratung", "abo", "datenschutz"):
        assert bot.texts(f"menu.buttons.{key}") in labels
    stored = await bot.db.get_user(USER)
    assert stored is not None and stored.language == "de"


async def test_help_lists_commands(bot: Harness) -> None:
    [reply] = await bot.send(bot.user(USER), "/hilfe")
    assert "/themen" in reply.text and "/beratung" in reply.text
    [reply] = await bot.send(bot.user(USER), "/help")
    assert "/themen" in reply.text


async def test_unknown_command_gets_a_friendly_answer(bot: Harness) -> None:
    [reply] = await bot.send(bot.user(USER), "/gibtsnicht")
    assert reply.text == bot.texts("errors.unknown_command")


async def test_unknown_deep_link_shows_menu(bot: Harness) -> None:
    [reply] = await bot.send(bot.user(USER), "/start quatsch_123")
    assert reply.text == bot.texts("start.unknown_payload")
    assert reply.buttons()


async def test_forged_and_stale_buttons_answer_politely(bot: Harness) -> None:
    user = bot.user(USER)
    menu, *_ = await bot.send(user, "/start")
    for data in ("zzz:nothing", "menu", "x" * 64, "menu:home:extra:parts"):
        await bot.press(user, menu, data)
        assert bot.last_answer_text() is not None


async def test_home_button_edits_in_place(bot: Harness) -> None:
    user = bot.user(USER)
    menu, *_ = await bot.send(user, "/start")
    [edited] = await bot.press(user, menu, "menu:home")
    assert edited.message_id == menu.message_id and edited.edited
    assert edited.text == bot.texts("start.menu_prompt")


async def test_sticker_gets_an_answer(bot: Harness) -> None:
    user = bot.user(USER)
    sticker = {
        "sticker": {
            "file_id": "s",
            "file_unique_id": "s",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
    }
    [reply] = await bot.send(user, "", extra=sticker)
    assert reply.text == bot.texts("errors.unsupported_message")


async def test_command_menu_registered_per_role(bot: Harness) -> None:
    scopes = [c.params.get("scope") for c in bot.api.calls if c.method == "setMyCommands"]
    assert {"type": "all_private_chats"} in scopes
    assert any(s and s.get("type") == "chat" and s.get("chat_id") == 900001 for s in scopes)


async def test_error_handler_tells_the_user(bot: Harness) -> None:
    api: OfflineBotApi = bot.api
    user = bot.user(USER)
    calls = {"n": 0}

    def fail_first_send(call):  # type: ignore[no-untyped-def]
        if call.method == "sendMessage" and calls["n"] < 3:  # the welcome's first try and both retries
            calls["n"] += 1
            return 500, {"error_code": 500, "description": "Internal Server Error"}
        return None

    async def no_wait(_: float) -> None:
        return None

    limiter = bot.app.bot.rate_limiter
    assert isinstance(limiter, CountingRateLimiter)
    limiter._sleep = no_wait
    api.fail = fail_first_send
    before = len(api.sent_to(USER))
    await bot.send(user, "/start")
    sent = api.sent_to(USER)[before:]
    # The welcome failed at every try; the user hears about it (the subscription offer may follow).
    assert [m.text for m in sent][:1] == [bot.texts("errors.generic")]


async def test_cancel_without_a_dialogue_says_so(bot: Harness) -> None:
    [reply] = await bot.send(bot.user(USER), "/abbrechen")
    assert reply.text == bot.texts("errors.nothing_to_cancel")
    assert reply.buttons()
