"""/rolle (admins): grant and revoke the coordinator and staff roles by invitation link or by user id; and the
deep link ``/start rolle_<code>`` that redeems an invitation. Every change is recorded and refreshes the
command menu of the user concerned."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import callbacks, invitations
from bot.commands import refresh_user_command_menu
from bot.context import App, Context
from bot.db import InvitationRow
from bot.keyboards import ROLES
from bot.outbox import payload
from bot.roles import Role, change_role, is_admin
from bot.texts import Texts
from handlers.common import answer, main_menu, parse_press, send_html, show

log = logging.getLogger(__name__)

MAX_REVOKE_BUTTONS = 30


def _role_name(texts: Texts, role: str) -> str:
    return texts("roles.name.coordinator") if role == Role.COORDINATOR else texts("roles.name.staff")


async def _overview(context: Context) -> tuple[str, InlineKeyboardMarkup]:
    data = context.bot_data
    texts = data.texts
    holders = await data.db.role_holders()

    def ids(role: Role) -> str:
        found = [str(uid) for uid, r, _ in holders if r == role]
        return ", ".join(found) if found else texts("roles.nobody")

    text = texts(
        "roles.overview",
        coordinators=ids(Role.COORDINATOR),
        staff=ids(Role.STAFF),
        days=invitations.INVITATION_DAYS,
    )
    rows = [
        [
            ROLES.button(texts("roles.buttons.invite_coordinator"), "inv", Role.COORDINATOR.value),
            ROLES.button(texts("roles.buttons.invite_staff"), "inv", Role.STAFF.value),
        ]
    ]
    for uid, role, _ in holders[:MAX_REVOKE_BUTTONS]:
        label = texts("roles.buttons.revoke", user_id=uid, role=_role_name(texts, role))
        rows.append([ROLES.button(label, "rev", f"{role}.{uid}")])
    return text, InlineKeyboardMarkup(rows)


async def _apply_change(context: Context, admin_id: int, user_id: int, role: Role, grant: bool) -> bool:
    """Grant or revoke (recorded with who and when), tell the user, refresh their command menu."""
    data = context.bot_data
    key = "roles.granted_notice" if grant else "roles.revoked_notice"
    notice = data.texts(key, role=_role_name(data.texts, role))
    changed = await change_role(
        data.db, user_id, role, admin_id, data.clock.now(), grant=grant, notice=notice
    )
    if changed:
        await _after_change(context, user_id)
    return changed


async def _after_change(context: Context, user_id: int) -> None:
    data = context.bot_data
    roles = await data.db.user_roles(user_id)
    await refresh_user_command_menu(
        context.bot,
        data.texts,
        user_id,
        coordinator=Role.COORDINATOR in roles,
        admin=user_id in data.settings.admin_ids,
    )
    data.outbox.kick()


async def rolle_command(update: Update, context: Context) -> None:
    """/rolle: the overview; /rolle geben|nehmen <id> <rolle>: change a role by user id."""
    data = context.bot_data
    texts = data.texts
    user = update.effective_user
    if user is None or not await is_admin(data.settings, user.id):
        await send_html(update, context, texts("roles.not_allowed"))
        return
    if context.args:
        try:
            change = invitations.parse_role_command(context.args)
        except invitations.RoleCommandError:
            await send_html(update, context, texts("roles.usage"))
            return
        changed = await _apply_change(context, user.id, change.user_id, change.role, change.grant)
        name = _role_name(texts, change.role)
        if change.grant:
            key = "roles.granted" if changed else "roles.already"
        else:
            key = "roles.revoked" if changed else "roles.not_held"
        await send_html(update, context, texts(key, user_id=change.user_id, role=name))
    text, markup = await _overview(context)
    await send_html(update, context, text, markup)


async def on_press(update: Update, context: Context) -> None:
    """The /rolle buttons: new invitation link, revoke (with confirmation); admins only, checked every press."""
    data = context.bot_data
    texts = data.texts
    user = update.effective_user
    press = parse_press(update, ROLES)
    if user is None or not await is_admin(data.settings, user.id):
        await answer(update.callback_query, texts("roles.not_allowed"), alert=True)
        return
    if press is None:
        await answer(update.callback_query, texts("errors.stale_button"), alert=True)
        return
    if press.action == "inv" and press.arg in (Role.COORDINATOR.value, Role.STAFF.value):
        role = Role(press.arg)
        code, expires = await invitations.create(data.db, role, user.id, data.clock.now())
        await answer(update.callback_query)
        link = invitations.link(context.bot.username, code)
        await send_html(
            update,
            context,
            texts(
                "roles.invitation",
                role=_role_name(texts, role),
                link=link,
                expires=expires.astimezone(data.settings.tz).strftime("%d.%m.%Y %H:%M"),
            ),
        )
        return
    target = _parse_target(press.arg)
    if press.action in ("rev", "revok") and target is not None:
        role, user_id = target
        if press.action == "rev":
            await answer(update.callback_query)
            markup = InlineKeyboardMarkup(
                [
                    [ROLES.button(texts("roles.buttons.confirm_revoke"), "revok", press.arg)],
                    [ROLES.button(texts("menu.buttons.back"), "show")],
                ]
            )
            text = texts("roles.confirm_revoke", user_id=user_id, role=_role_name(texts, role))
            await show(update, context, text, markup)
            return
        changed = await _apply_change(context, user.id, user_id, role, grant=False)
        key = "roles.revoked" if changed else "roles.not_held"
        await answer(update.callback_query, texts(key, user_id=user_id, role=_role_name(texts, role)))
    elif press.action == "show":
        await answer(update.callback_query)
    else:
        await answer(update.callback_query, texts("errors.stale_button"), alert=True)
        return
    await show(update, context, *await _overview(context))


def _parse_target(arg: str) -> tuple[Role, int] | None:
    role, _, user_text = arg.partition(".")
    user_id = callbacks.number(user_text)
    if role not in (Role.COORDINATOR.value, Role.STAFF.value) or user_id is None:
        return None
    return Role(role), user_id


async def redeem_invitation(update: Update, context: Context) -> None:
    """``/start rolle_<code>``: a valid, unused, unexpired invitation grants its role once; else nothing."""
    data = context.bot_data
    texts = data.texts
    user = update.effective_user
    code = invitations.code_from_payload(context.args[0]) if context.args else None
    if user is None or code is None:
        await send_html(update, context, texts("roles.invitation_invalid"), main_menu(texts))
        return
    name = user.first_name

    def notice(invitation: InvitationRow, granted: bool) -> tuple[int, dict[str, Any]] | None:
        if not granted:
            return None
        text = texts(
            "roles.invitation_used", role=_role_name(texts, invitation.role), name=name, user_id=user.id
        )
        return invitation.created_by, payload(text)

    now: datetime = data.clock.now()
    result = await invitations.redeem(data.db, code, user.id, now, notice)
    if result is None:
        log.info("invalid, used or expired role invitation presented")
        await send_html(update, context, texts("roles.invitation_invalid"), main_menu(texts))
        return
    invitation, granted = result
    role_name = _role_name(texts, invitation.role)
    if not granted:
        await send_html(update, context, texts("roles.invitation_already", role=role_name), main_menu(texts))
        return
    key = "roles.welcome_coordinator" if invitation.role == Role.COORDINATOR else "roles.welcome_staff"
    await send_html(update, context, texts(key), main_menu(texts))
    await _after_change(context, user.id)


def register(app: App) -> None:
    """``/start rolle_…`` must be registered before the plain /start (handlers/__init__.py does so)."""
    private = filters.ChatType.PRIVATE
    app.add_handler(
        CommandHandler(
            "start",
            redeem_invitation,
            filters=private & filters.Regex(rf"^/start(@\w+)? {invitations.PAYLOAD_PREFIX}"),
        )
    )
    app.add_handler(CommandHandler("rolle", rolle_command, filters=private))
    app.add_handler(CallbackQueryHandler(on_press, pattern=ROLES.pattern()))
