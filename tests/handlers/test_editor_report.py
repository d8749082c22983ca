"""/redaktion: coordinators see the editors' report and may subscribe to it monthly; others are refused politely.
The monthly report goes out through the outbox on the 1st at the reminder send time (on an injected clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from bot.commands import Audience, commands_for
from bot.context import Context
from bot.offline import SentMessage
from bot.telegram_html import html_to_plain
from handlers.editor import monthly_tick
from tests.handlers.outbox_drain import drain
from tests.harness import ADMIN_ID, Harness, harness

COORD = 601
OTHER_COORD = 602
PLAIN = 603


async def _coordinator(bot: Harness, user_id: int = COORD) -> None:
    await bot.db.grant_role(user_id, "coordinator", ADMIN_ID, bot.clock.now(), "user_id")


async def _report(bot: Harness, user_id: int = COORD) -> tuple[str, SentMessage]:
    replies = await bot.send(bot.user(user_id), "/redaktion")
    return "\n".join(html_to_plain(m.text) for m in replies), replies[-1]


async def _tick(bot: Harness) -> None:
    context = SimpleNamespace(bot_data=bot.app.bot_data, application=bot.app, job=None)
    await monthly_tick(cast(Context, context))
    await drain(bot)


def _monthly(bot: Harness, user_id: int) -> list[SentMessage]:
    title = html_to_plain(bot.texts("editor.monthly_title"))
    return [m for m in bot.api.messages.values() if m.chat_id == user_id and title in html_to_plain(m.text)]


async def test_a_coordinator_sees_the_four_parts_most_frequent_first(bot: Harness) -> None:
    await _coordinator(bot)
    now = bot.clock.now()
    for _ in range(3):
        await bot.db.log_miss("Gibt es Geld für Fahrten nach Japan?", None, None, now)
    await bot.db.log_miss("Wer hilft in Bremen?", None, None, now)
    await bot.db.log_miss("gibt es geld für fahrten nach japan? ", None, None, now)  # the same question
    for user_id in (1, 2):
        await bot.db.rate_article(user_id, "eurodesk", False, now)
    await bot.db.rate_article(3, "beratung", False, now)
    await bot.db.rate_article(4, "beratung", True, now)
    await bot.db.rate_article(5, "partner-finden", True, now)  # only helpful: not listed

    text, last = await _report(bot)
    assert "Redaktionsbericht vom 24.11.2026" in text
    for part in (
        "1. Fakten, die geprüft werden müssen",
        "2. Fristen, die in den nächsten drei Monaten zu bestätigen sind",
        "3. Fragen, die der Bot nicht beantworten konnte (2)",
        "4. Als nicht hilfreich bewertete Artikel (2)",
    ):
        assert part in text
    assert text.index("4× „Gibt es Geld für Fahrten nach Japan?“") < text.index("1× „Wer hilft in Bremen?“")
    eurodesk = text.index("2× nicht hilfreich, 0× hilfreich")
    assert eurodesk < text.index("1× nicht hilfreich, 1× hilfreich")
    assert "partner-finden" not in text
    assert [b["text"] for b in last.buttons()] == [bot.texts("editor.buttons.subscribe")]


async def test_plain_users_get_a_friendly_refusal_and_cannot_subscribe(bot: Harness) -> None:
    [reply] = await bot.send(bot.user(PLAIN), "/redaktion")
    assert reply.text == bot.texts("editor.not_allowed")
    assert "Sie" in reply.text and reply.buttons() == []
    # A forged or old subscribe button does not subscribe them either.
    await _coordinator(bot, OTHER_COORD)
    _, offered = await _report(bot, OTHER_COORD)
    [refused] = await bot.press(bot.user(PLAIN), offered, "red:on")
    assert refused.text == bot.texts("editor.not_allowed")
    assert not await bot.db.editor_report_subscribed(PLAIN)


async def test_rights_are_checked_on_every_use(bot: Harness) -> None:
    await _coordinator(bot)
    text, _ = await _report(bot)
    assert "Redaktionsbericht" in text
    await bot.db.revoke_role(COORD, "coordinator", ADMIN_ID, bot.clock.now())
    [reply] = await bot.send(bot.user(COORD), "/redaktion")
    assert reply.text == bot.texts("editor.not_allowed")


async def test_redaktion_is_in_the_coordinator_menu_only(bot: Harness) -> None:
    assert "redaktion" in {c.command for c in commands_for({Audience.USER, Audience.COORDINATOR}, bot.texts)}
    assert "redaktion" not in {c.command for c in commands_for({Audience.USER}, bot.texts)}


async def test_monthly_report_on_the_first_at_the_send_time_once(tmp_path: Path) -> None:
    async with harness(tmp_path, now=datetime(2026, 11, 24, 10, 0, tzinfo=UTC)) as bot:
        await _coordinator(bot)
        await _coordinator(bot, OTHER_COORD)  # not subscribed: gets nothing
        _, offered = await _report(bot)
        [done] = await bot.press_label(bot.user(COORD), offered, bot.texts("editor.buttons.subscribe"))
        assert "Abonniert" in done.text and "am 1. um 09:00 Uhr" in done.text
        assert [b["text"] for b in done.buttons()] == [bot.texts("editor.buttons.unsubscribe")]

        await _tick(bot)  # still November: this month's report is the one just seen
        assert _monthly(bot, COORD) == []
        bot.clock.set(datetime(2026, 12, 1, 7, 59, tzinfo=UTC))  # 08:59 in Berlin
        await _tick(bot)
        assert _monthly(bot, COORD) == []
        bot.clock.set(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))  # 09:00 in Berlin
        await _tick(bot)
        [report] = _monthly(bot, COORD)
        assert "Redaktionsbericht vom 01.12.2026" in html_to_plain(report.text)
        assert [b["text"] for b in report.buttons()] == [bot.texts("editor.buttons.unsubscribe")]
        assert _monthly(bot, OTHER_COORD) == []
        bot.clock.set(datetime(2026, 12, 20, 8, 0, tzinfo=UTC))
        await _tick(bot)  # a later tick in the same month sends nothing more
        assert len(_monthly(bot, COORD)) == 1

        # Unsubscribing from the button under the report: January brings nothing.
        [off] = await bot.press_label(bot.user(COORD), report, bot.texts("editor.buttons.unsubscribe"))
        assert "Abbestellt" in off.text
        bot.clock.set(datetime(2027, 1, 1, 8, 30, tzinfo=UTC))
        await _tick(bot)
        assert len(_monthly(bot, COORD)) == 1


async def test_a_missed_first_is_caught_up_and_a_former_coordinator_gets_nothing(tmp_path: Path) -> None:
    async with harness(tmp_path, now=datetime(2026, 11, 24, 10, 0, tzinfo=UTC)) as bot:
        await _coordinator(bot)
        await _coordinator(bot, OTHER_COORD)
        for user_id in (COORD, OTHER_COORD):
            _, offered = await _report(bot, user_id)
            await bot.press_label(bot.user(user_id), offered, bot.texts("editor.buttons.subscribe"))
        await bot.db.revoke_role(OTHER_COORD, "coordinator", ADMIN_ID, bot.clock.now())
        bot.clock.set(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))  # the bot was down on the 1st
        await _tick(bot)
        assert len(_monthly(bot, COORD)) == 1
        assert _monthly(bot, OTHER_COORD) == []
        assert not await bot.db.editor_report_subscribed(OTHER_COORD)  # the subscription went with the role


async def test_a_coordinator_who_blocked_the_bot_is_unsubscribed(tmp_path: Path) -> None:
    async with harness(tmp_path, now=datetime(2026, 11, 24, 10, 0, tzinfo=UTC)) as bot:
        await _coordinator(bot)
        _, offered = await _report(bot)
        await bot.press_label(bot.user(COORD), offered, bot.texts("editor.buttons.subscribe"))

        def blocked(call: Any) -> tuple[int, dict[str, Any]] | None:
            if call.method == "sendMessage" and int(call.params["chat_id"]) == COORD:
                return 403, {"error_code": 403, "description": "Forbidden: bot was blocked by the user"}
            return None

        bot.api.fail = blocked
        bot.clock.set(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
        await _tick(bot)
        assert _monthly(bot, COORD) == []
        assert not await bot.db.editor_report_subscribed(COORD)
