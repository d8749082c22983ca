"""/rolle: admins grant and revoke roles by invitation link or user id; every change is recorded."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.offline import Call
from tests.handlers.outbox_drain import drain
from tests.harness import ADMIN_ID, Harness

USER = 301


def menu_calls(bot: Harness, chat_id: int) -> list[Call]:
    return [
        c
        for c in bot.api.calls
        if c.method in ("setMyCommands", "deleteMyCommands")
        and c.params.get("scope") == {"type": "chat", "chat_id": chat_id}
    ]


def command_names(call: Call) -> list[str]:
    return [c["command"] for c in call.params.get("commands", [])]


async def test_only_admins_manage_roles(bot: Harness) -> None:
    stranger = bot.user(USER)
    [reply] = await bot.send(stranger, "/rolle geben 301 koordination")
    assert reply.text == bot.texts("roles.not_allowed")
    assert await bot.db.user_roles(USER) == set()
    # A forged invitation button creates nothing.
    await bot.press(stranger, reply, "rolle:inv:coordinator")
    assert bot.last_answer_text() == bot.texts("roles.not_allowed")
    await bot.press(stranger, reply, "rolle:revok:coordinator.900001")
    assert await bot.db.fetchall("SELECT * FROM role_invitations") == []


async def test_grant_and_revoke_by_user_id_is_recorded_and_refreshes_the_menu(bot: Harness) -> None:
    admin = bot.user(ADMIN_ID)
    granted, overview = await bot.send(admin, "/rolle geben 301 koordination")
    assert granted.text == bot.texts("roles.granted", user_id=USER, role="Koordination")
    assert "301" in overview.text
    assert await bot.db.user_roles(USER) == {"coordinator"}
    [menu] = menu_calls(bot, USER)
    assert menu.method == "setMyCommands" and "ankuendigung" in command_names(menu)
    assert "rolle" not in command_names(menu)
    # The user is told (through the outbox).
    await drain(bot)
    assert [m.text for m in bot.api.sent_to(USER)] == [bot.texts("roles.granted_notice", role="Koordination")]

    again, _ = await bot.send(admin, "/rolle geben 301 koordination")
    assert again.text == bot.texts("roles.already", user_id=USER, role="Koordination")

    bot.clock.advance(timedelta(hours=1))
    # The outbox may deliver the user's notice while the admin's command is handled: look at the admin's chat.
    revoked, _ = [m for m in await bot.send(admin, "/rolle nehmen 301 koordination") if m.chat_id == ADMIN_ID]
    assert revoked.text == bot.texts("roles.revoked", user_id=USER, role="Koordination")
    await drain(bot)
    assert bot.api.sent_to(USER)[-1].text == bot.texts("roles.revoked_notice", role="Koordination")
    assert await bot.db.user_roles(USER) == set()
    assert menu_calls(bot, USER)[-1].method == "deleteMyCommands"
    changes = await bot.db.fetchall(
        "SELECT user_id, role, action, changed_by, changed_at, via FROM role_changes ORDER BY id"
    )
    assert [tuple(r) for r in changes] == [
        (USER, "coordinator", "grant", ADMIN_ID, "2026-11-24T10:00:00+00:00", "user_id"),
        (USER, "coordinator", "revoke", ADMIN_ID, "2026-11-24T11:00:00+00:00", "user_id"),
    ]


async def test_bad_role_commands_show_usage_and_change_nothing(bot: Harness) -> None:
    admin = bot.user(ADMIN_ID)
    for text in ("/rolle geben abc koordination", "/rolle geben 301 chef", "/rolle 301", "/rolle weg 1 team"):
        [usage] = await bot.send(admin, text)
        assert usage.text == bot.texts("roles.usage")
    assert await bot.db.fetchall("SELECT * FROM role_changes") == []


async def test_revoke_button_asks_first(bot: Harness) -> None:
    admin = bot.user(ADMIN_ID)
    await bot.db.grant_role(USER, "staff", ADMIN_ID, bot.clock.now(), "user_id")
    [overview] = await bot.send(admin, "/rolle")
    [confirm] = await bot.press_label(admin, overview, "301 · Beratungsteam")
    assert confirm.text == bot.texts("roles.confirm_revoke", user_id=USER, role="Beratungsteam")
    assert await bot.db.user_roles(USER) == {"staff"}
    [after] = await bot.press_label(admin, confirm, "Ja, Rolle entziehen")
    assert await bot.db.user_roles(USER) == set()
    assert "301" not in after.text


async def invitation_code(bot: Harness, role_label: str) -> str:
    admin = bot.user(ADMIN_ID)
    [overview] = await bot.send(admin, "/rolle")
    [link_message] = await bot.press_label(admin, overview, role_label)
    match = re.search(r"https://t\.me/ija_lotse_bot\?start=rolle_([A-Za-z0-9_-]+)", link_message.text)
    assert match is not None, link_message.text
    return match.group(1)


async def test_invitation_link_grants_once(bot: Harness) -> None:
    code = await invitation_code(bot, "Einladung: Koordination")
    invited = bot.user(USER, "Clara")
    [welcome] = await bot.send(invited, f"/start rolle_{code}")
    assert welcome.text == bot.texts("roles.welcome_coordinator")
    assert await bot.db.user_roles(USER) == {"coordinator"}
    assert "ankuendigung" in command_names(menu_calls(bot, USER)[-1])
    change = await bot.db.fetchone("SELECT changed_by, via FROM role_changes WHERE user_id = ?", (USER,))
    assert change is not None and tuple(change) == (ADMIN_ID, "invitation")
    await drain(bot)
    assert bot.api.sent_to(ADMIN_ID)[-1].text == bot.texts(
        "roles.invitation_used", role="Koordination", name="Clara", user_id=USER
    )
    # Reused by someone else: nothing happens.
    other = bot.user(USER + 1)
    [reply] = await bot.send(other, f"/start rolle_{code}")
    assert reply.text == bot.texts("roles.invitation_invalid")
    assert await bot.db.user_roles(USER + 1) == set()


async def test_expired_or_guessed_invitation_does_nothing(bot: Harness) -> None:
    code = await invitation_code(bot, "Einladung: Beratungsteam")
    bot.clock.advance(timedelta(days=7, minutes=1))
    invited = bot.user(USER)
    [reply] = await bot.send(invited, f"/start rolle_{code}")
    assert reply.text == bot.texts("roles.invitation_invalid")
    for guess in ("rolle_" + "A" * 24, "rolle_x", f"rolle_{code[:-1]}"):
        [reply] = await bot.send(invited, f"/start {guess}")
        assert reply.text == bot.texts("roles.invitation_invalid")
    assert await bot.db.user_roles(USER) == set()
    assert await bot.db.fetchall("SELECT * FROM role_changes") == []
