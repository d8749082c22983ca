"""The command table: which Telegram commands exist for which role; it also generates the command menu."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.texts import Texts

log = logging.getLogger(__name__)


class Audience(enum.Enum):
    USER = "user"  # everyone, in private chats
    COORDINATOR = "coordinator"  # coordinators and admins, in private chats
    ADMIN = "admin"
    STAFF_GROUP = "staff_group"  # the staff group chat


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    audience: Audience

    @property
    def text_key(self) -> str:
        return f"commands.{self.name}"


# Order is the order of the command menu in Telegram.
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", Audience.USER),
    CommandSpec("themen", Audience.USER),
    CommandSpec("hilfe", Audience.USER),
    CommandSpec("foerderfinder", Audience.USER),
    CommandSpec("standort", Audience.USER),
    CommandSpec("termine", Audience.USER),
    CommandSpec("fristen", Audience.USER),
    CommandSpec("termin_neu", Audience.COORDINATOR),
    CommandSpec("abo", Audience.USER),
    CommandSpec("ankuendigung", Audience.COORDINATOR),
    CommandSpec("statistik", Audience.COORDINATOR),
    CommandSpec("redaktion", Audience.COORDINATOR),
    CommandSpec("rolle", Audience.ADMIN),
    CommandSpec("beratung", Audience.USER),
    CommandSpec("anfragen", Audience.USER),
    CommandSpec("offen", Audience.STAFF_GROUP),
    CommandSpec("datenschutz", Audience.USER),
    CommandSpec("meine_daten", Audience.USER),
    CommandSpec("loeschen", Audience.USER),
)


def commands_for(audiences: set[Audience], texts: Texts) -> list[BotCommand]:
    return [BotCommand(c.name, texts(c.text_key)) for c in COMMANDS if c.audience in audiences]


async def register_command_menu(
    bot: ExtBot[None],
    texts: Texts,
    coordinators: set[int],
    admins: set[int],
    staff_chat_id: int | None,
) -> None:
    """setMyCommands per role: all private chats, then each coordinator/admin, then the staff group."""
    await bot.set_my_commands(commands_for({Audience.USER}, texts), scope=BotCommandScopeAllPrivateChats())
    for user_id in sorted(coordinators | admins):
        audiences = {Audience.USER, Audience.COORDINATOR}
        if user_id in admins:
            audiences.add(Audience.ADMIN)
        try:
            await bot.set_my_commands(commands_for(audiences, texts), scope=BotCommandScopeChat(user_id))
        except TelegramError as exc:  # a user who never started the bot: the menu can wait
            log.info("command menu for a privileged user not set: %s", type(exc).__name__)
    if staff_chat_id is not None:
        staff = commands_for({Audience.STAFF_GROUP}, texts)
        try:
            if staff:
                await bot.set_my_commands(staff, scope=BotCommandScopeChat(staff_chat_id))
        except TelegramError as exc:
            log.warning("command menu for the staff group not set: %s", type(exc).__name__)


async def refresh_user_command_menu(
    bot: ExtBot[None], texts: Texts, user_id: int, *, coordinator: bool, admin: bool
) -> None:
    """After a role change: the menu for that one private chat (back to the default when no role is left)."""
    audiences = {Audience.USER}
    if coordinator or admin:
        audiences.add(Audience.COORDINATOR)
    if admin:
        audiences.add(Audience.ADMIN)
    scope = BotCommandScopeChat(user_id)
    try:
        if audiences == {Audience.USER}:
            await bot.delete_my_commands(scope=scope)
        else:
            await bot.set_my_commands(commands_for(audiences, texts), scope=scope)
    except TelegramError as exc:  # a user who never started the bot: the menu comes with the next start
        log.info("command menu for one user not refreshed: %s", type(exc).__name__)
