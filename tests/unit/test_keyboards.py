"""Buttons and their handler patterns come from one family: the data on the wire and the patterns are the ones
the handlers used before (buttons already in users' chats keep working), and a family's pattern catches
exactly the buttons it builds."""

from __future__ import annotations

import re

import pytest

from bot import keyboards
from bot.keyboards import (
    DEADLINES,
    EVENT_FORM,
    EVENTS,
    FOERDERFINDER,
    MENU,
    REQUESTS,
    STANDORT,
    STANDORT_VIEW,
    Arg,
    Family,
)


def test_button_data_is_the_codec_format() -> None:
    assert EVENTS.button("Details", "show", 17).callback_data == "ev:show:17"
    assert MENU.button("Start", "home").callback_data == "menu:home"
    assert REQUESTS.data("rate", "12.5") == "req:rate:12.5"
    with pytest.raises(ValueError):
        EVENTS.data("show", "a:b")  # a colon would break the format
    with pytest.raises(ValueError):
        EVENTS.data("show", "x" * 64)  # Telegram allows 64 bytes


@pytest.mark.parametrize(
    ("pattern", "before"),
    [
        (MENU.pattern(), r"^menu:"),
        (MENU.pattern("home"), r"^menu:home$"),
        (REQUESTS.pattern("rcancel", arg=Arg.ANY), r"^req:rcancel:"),
        (
            REQUESTS.pattern("claim", "status", "set", "back", "done", arg=Arg.ANY),
            r"^req:(claim|status|set|back|done):",
        ),
        (MENU.pattern("beratung", arg="frage", optional=True), r"^menu:beratung(:frage)?$"),
        (EVENT_FORM.pattern("edit", arg=r"\d+"), r"^evf:edit:\d+$"),
        (EVENT_FORM.pattern("land", "topic", arg=Arg.ANY), r"^evf:(land|topic):"),
        (keyboards.pattern([FOERDERFINDER, STANDORT], "home"), r"^(ff|st):home$"),
        (keyboards.pattern([FOERDERFINDER, STANDORT_VIEW], "menu"), r"^(ff|stv):menu$"),
    ],
)
def test_patterns_are_the_ones_registered_before(pattern: str, before: str) -> None:
    assert pattern == before


def test_a_pattern_catches_its_own_buttons_and_no_others() -> None:
    def caught(pattern: str, data: str | None) -> bool:
        return data is not None and re.search(pattern, data) is not None

    assert caught(EVENTS.pattern(), EVENTS.data("show", 3))
    assert not caught(EVENTS.pattern(), EVENT_FORM.data("save"))  # "ev" is not a prefix of "evf:"
    assert caught(EVENTS.pattern("mycal"), str(EVENTS.button("Kalender", "mycal").callback_data))
    assert not caught(EVENTS.pattern("mycal"), EVENTS.data("mycal", 1))
    assert caught(EVENTS.pattern("list", arg=Arg.ANY), EVENTS.data("list", 0))
    assert not caught(DEADLINES.pattern("list", arg=Arg.ANY), EVENTS.data("list", 0))
    assert caught(EVENT_FORM.pattern("edit", arg=r"\d+"), EVENT_FORM.data("edit", 42))
    assert not caught(EVENT_FORM.pattern("edit", arg=r"\d+"), EVENT_FORM.data("edit", "x"))
    assert caught(MENU.pattern("beratung", arg="frage", optional=True), MENU.data("beratung"))
    assert caught(MENU.pattern("beratung", arg="frage", optional=True), MENU.data("beratung", "frage"))
    assert not caught(MENU.pattern("beratung", arg="frage", optional=True), MENU.data("beratung", "x"))


def test_every_prefix_belongs_to_one_family() -> None:
    families = [value for value in vars(keyboards).values() if isinstance(value, Family)]
    prefixes = [family.prefix for family in families]
    assert len(prefixes) == len(set(prefixes)) >= 15
