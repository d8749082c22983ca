"""Buttons and the patterns that catch them, from one definition.

Every callback button belongs to a family: a prefix that one feature owns, all listed below so no two features
can share one. The family builds the button (``FOERDERFINDER.button(label, "land", "by")``) and the pattern its
handler is registered with (``FOERDERFINDER.pattern()`` for every press, ``FOERDERFINDER.pattern("restart")``
for one action), so a button and the handler that answers it cannot drift apart. On the wire the data is
``bot/callbacks.py``'s ``prefix:action:arg`` (buttons already sent to users' chats keep working); handlers read
it back with ``handlers.common.parse_press`` and ``callbacks.number``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks


class Arg(Enum):
    ANY = "any"  # the action with any argument: the pattern ends after the action's colon


@dataclass(frozen=True, slots=True)
class Family:
    """The buttons of one callback prefix."""

    prefix: str

    def data(self, action: str, arg: str | int = "") -> str:
        """The callback data of ``action`` (with ``arg``) — for a button built elsewhere."""
        return callbacks.encode(self.prefix, action, arg)

    def button(self, label: str, action: str, arg: str | int = "") -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=self.data(action, arg))

    def pattern(self, *actions: str, arg: str | Arg | None = None, optional: bool = False) -> str:
        """The handler pattern for this family's buttons; see ``pattern``."""
        return pattern([self], *actions, arg=arg, optional=optional)


def pattern(
    families: Sequence[Family], *actions: str, arg: str | Arg | None = None, optional: bool = False
) -> str:
    """The pattern a ``CallbackQueryHandler`` is registered with.

    Without actions: every press of the families. With actions: exactly those actions, and then ``arg`` says
    what may follow — None: nothing (the button was built without an argument); ``Arg.ANY``: any argument;
    a regular expression: an argument matching it (``optional``: or none at all).
    """
    head = _either(family.prefix for family in families)
    if not actions:
        return f"^{head}:"
    head = f"{head}:{_either(actions)}"
    if arg is None:
        return f"^{head}$"
    if arg is Arg.ANY:
        return f"^{head}:"
    return f"^{head}(:{arg})?$" if optional else f"^{head}:{arg}$"


def _either(names: Iterable[str]) -> str:
    escaped = [re.escape(name) for name in names]
    return escaped[0] if len(escaped) == 1 else f"({'|'.join(escaped)})"


def url_button(label: str, url: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, url=url)


def rows(buttons: Sequence[InlineKeyboardButton], width: int = 2) -> list[list[InlineKeyboardButton]]:
    """The buttons in rows of ``width`` (the last row may be shorter)."""
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def one_button(button: InlineKeyboardButton) -> InlineKeyboardMarkup:
    """A keyboard of a single button."""
    return InlineKeyboardMarkup([[button]])


# Every callback prefix, one line each (callback data must stay short: Telegram allows 64 bytes).
MENU = Family("menu")  # the main menu's entries and the way home
ADVICE = Family("adv")  # the topic menu over advisory articles
FOERDERFINDER = Family("ff")  # the Förderfinder's steps
STANDORT = Family("st")  # the Standort check's steps
STANDORT_VIEW = Family("stv")  # buttons under a stored Standort result, valid outside the dialogue
SUBSCRIPTIONS = Family("abo")  # announcement subscriptions (Land, topics, stop)
ANNOUNCEMENTS = Family("ann")  # writing and sending an announcement
EVENTS = Family("ev")  # the event list, one event, following it
EVENT_FORM = Family("evf")  # the dialogue that creates or edits an event
DEADLINES = Family("dl")  # the deadline list and following a programme's deadlines
REQUESTS = Family("req")  # consultation requests: staff desk, relay, rating
REQUEST_FORM = Family("rqf")  # the consultation request form
PRIVACY = Family("privacy")  # export and erase
EDITOR = Family("red")  # the editors' report subscription
ROLES = Family("rolle")  # granting and revoking roles
