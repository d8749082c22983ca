"""The bot as a process: /start, the main menu, one button, the command menu and a clean SIGTERM."""

from __future__ import annotations

from .botprocess import BotStarter, free_port
from .fakeapi import FakeBotApi, FakeUser

ANNA = FakeUser(1001, "Anna", username="anna_kommune")


def test_start_menu_button_and_graceful_shutdown(fake_api: FakeBotApi, bot_process: BotStarter) -> None:
    bot = bot_process()

    # The command menu is registered before polling starts.
    set_commands = [c for c in fake_api.calls("setMyCommands") if c.ok]
    assert set_commands, fake_api.describe()
    menus = [fake_api.commands(scope, lang) for scope, lang in fake_api.command_scopes()]
    assert any("start" in {c["command"] for c in menu} for menu in menus), menus

    fake_api.send_text(ANNA, "/start")
    welcome = fake_api.wait_for_message(ANNA, "Anna", predicate=lambda m: bool(m.callback_data()))
    assert "Willkommen" in welcome.content
    assert len(welcome.buttons()) >= 2, welcome.button_texts()

    mark = fake_api.mark()
    pressed = welcome.callback_data()[0]
    query_id = fake_api.press_button(ANNA, welcome, pressed)
    fake_api.wait_for(lambda: fake_api.callback_answer(query_id), message=f"answer to the press of {pressed}")
    reply = fake_api.wait_for_message(ANNA, since=mark)  # the menu edited in place, or a new message
    assert reply.content.strip()
    assert not [c for c in fake_api.calls() if c.status != 200 and c.method != "getUpdates"], (
        fake_api.describe()
    )

    exit_code, elapsed = bot.terminate(timeout=5)
    assert exit_code == 0, bot.output()
    assert elapsed < 5


def test_webhook_mode_receives_updates_with_the_secret(fake_api: FakeBotApi, bot_process: BotStarter) -> None:
    port = free_port()
    bot = bot_process(
        {
            "BOT_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
            "BOT_WEBHOOK_SECRET": "e2e-secret",
            "BOT_WEBHOOK_LISTEN": "127.0.0.1",
            "BOT_WEBHOOK_PORT": str(port),
        }
    )
    assert fake_api.webhook_url == f"http://127.0.0.1:{port}/telegram"

    fake_api.send_text(ANNA, "/start")
    welcome = fake_api.wait_for_message(ANNA, "Willkommen")
    assert welcome.callback_data()
    deliveries = fake_api.webhook_deliveries()
    assert deliveries and deliveries[-1].status == 200, deliveries

    exit_code, elapsed = bot.terminate(timeout=5)
    assert (exit_code, elapsed < 5) == (0, True), bot.output()
