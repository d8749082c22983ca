"""One dialogue at a time: starting a dialogue ends the one that was open, /abbrechen ends them all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import ADMIN_ID, Harness, harness

COORD = 501


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path) as h:
        await h.db.grant_role(COORD, "coordinator", ADMIN_ID, h.clock.now(), "user_id")
        yield h


async def test_the_event_form_takes_its_title_when_an_announcement_was_open(h: Harness) -> None:
    coord = h.user(COORD)
    [ask_text] = await h.send(coord, "/ankuendigung")
    assert ask_text.text == h.texts("announcements.ask_text")
    sent = await h.send(coord, "/termin_neu")
    assert any(h.texts("events.form.ask.title") in m.text for m in sent), [m.text for m in sent]
    [answer] = await h.send(coord, "Netzwerktreffen Nord")
    assert answer.text != h.texts("announcements.ask_button")  # the announcement no longer takes the text
    assert "Wann beginnt er?" in answer.text
    # One /abbrechen ends the event form; nothing is left open behind it.
    await h.send(coord, "/abbrechen")
    [nothing] = await h.send(coord, "/abbrechen")
    assert nothing.text == h.texts("errors.nothing_to_cancel")


async def test_the_self_check_takes_the_kommune_when_a_request_form_was_open(h: Harness) -> None:
    user = h.user(42)
    [step] = await h.send(user, "/beratung")
    assert "Kommune" in step.text
    await h.send(user, "/standort")
    [step] = await h.send(user, "Musterdorf")
    assert "Standortbestimmung" in step.text  # not the request form's next step
    assert "Musterdorf" in step.text
    assert h.app.user_data[42]["st"]["name"] == "Musterdorf"


async def test_one_abbrechen_ends_every_open_dialogue_after_a_restart(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.db.grant_role(COORD, "coordinator", ADMIN_ID, h.clock.now(), "user_id")
        coord = h.user(COORD)
        await h.send(coord, "/termin_neu")
        await h.send(coord, "/ankuendigung")
    async with harness(tmp_path) as h:  # the switch was persisted: only the announcement is open
        [asked] = await h.send(coord, "Neue Förderrunde ab März")
        assert asked.text == h.texts("announcements.ask_button")
        await h.send(coord, "/abbrechen")
        [nothing] = await h.send(coord, "/abbrechen")
        assert nothing.text == h.texts("errors.nothing_to_cancel")
