"""An edited message is answered with how to correct ("Bitte senden Sie die Korrektur als neue Nachricht"), where it
was silently ignored before (a staff reply corrected by editing never reached the requester; an edited form answer
changed nothing) — and it changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from telegram import Update

from tests.handlers.requests_support import STAFF, STAFF_CHAT, deliver, file_request, staff_posts
from tests.harness import Harness, harness

USER = 7401


async def edit(h: Harness, user: dict[str, Any], text: str, **kwargs: Any) -> list[Any]:
    """``user`` edits an earlier message to ``text``; returns what the bot sent."""
    data = h.factory.message(user, text, **kwargs).to_dict()
    message = data.pop("message")
    message["edit_date"] = message["date"] + 60
    before = len(h.api.calls)
    await h.app.process_update(Update.de_json({**data, "edited_message": message}, h.app.bot))
    return [c for c in h.api.calls[before:] if c.method == "sendMessage"]


async def test_an_edited_form_answer_gets_the_hint_and_the_form_stays_where_it_was(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        user = h.user(USER)
        [ask] = await h.send(user, "/beratung")
        assert "Kommune" in ask.text
        sent = await edit(h, user, "Gemeinde Korrigiert")
        assert [c.params["text"] for c in sent] == [h.texts("errors.edited_message")]
        assert "Bitte senden Sie die Korrektur als neue Nachricht" in h.texts("errors.edited_message")
        # The form still asks for the Kommune: the next new message is taken as the answer.
        [land] = await h.send(user, "Gemeinde Neu")
        assert "Bundesland" in land.text


async def test_an_edited_question_is_not_answered_again(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        sent = await edit(h, h.user(USER), "Wie beantragt man ein Solidaritätsprojekt?")
        assert [c.params["text"] for c in sent] == [h.texts("errors.edited_message")]


async def test_an_edited_staff_reply_gets_the_hint_in_the_staff_group(tmp_path: Path) -> None:
    async with harness(tmp_path, broadcast_rate=30) as h:
        await file_request(h, h.user(USER))
        await deliver(h)
        [post] = staff_posts(h)
        staff = h.user(STAFF, "Sabine")
        to_user = len(h.api.sent_to(USER))
        sent = await edit(h, staff, "Korrigierte Antwort", chat=STAFF_CHAT, reply_to=post)
        assert [(c.params["chat_id"], c.params["text"]) for c in sent] == [
            (STAFF_CHAT["id"], h.texts("errors.edited_message"))
        ]
        await deliver(h)
        assert len(h.api.sent_to(USER)) == to_user  # nothing relayed
        # Ordinary talk in the staff group, edited, stays unanswered.
        assert await edit(h, staff, "Kaffee?", chat=STAFF_CHAT) == []
