"""A member removed from the staff group cannot act: the bot hears of it (a chat_member update, or the group's
'left' message) and forgets the cached membership at once; without either, the cache lasts only seconds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.requests import MEMBER_CACHE
from tests.handlers.requests_support import STAFF, STAFF_CHAT, data_of, deliver, file_request, staff_posts
from tests.harness import STAFF_CHAT_ID, Harness, harness

USER = 7201


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path) as running:
        yield running


def member(user: dict[str, Any], status: str) -> dict[str, Any]:
    return {"user": user, "status": status, **({"until_date": 0} if status == "kicked" else {})}


async def removed(h: Harness, staff: dict[str, Any]) -> None:
    update = {
        "update_id": 99_001,
        "chat_member": {
            "chat": STAFF_CHAT,
            "from": h.user(1, "Admin"),
            "date": int(h.clock.now().timestamp()),
            "old_chat_member": member(staff, "member"),
            "new_chat_member": member(staff, "kicked"),
        },
    }
    await h.app.process_update(Update.de_json(update, h.app.bot))


async def claimed_request(h: Harness, staff: dict[str, Any]) -> Any:
    await file_request(h, h.user(USER))
    await deliver(h)
    [post] = staff_posts(h)
    await h.press(staff, post, data_of(post, "claim"))  # a member: allowed, and remembered for a while
    req = await h.db.get_request(1)
    assert req is not None and req.claimed_by == STAFF
    return post


async def test_a_member_removed_from_the_staff_group_cannot_act_at_once(h: Harness) -> None:
    staff = h.user(STAFF, "Sabine")
    post = await claimed_request(h, staff)
    h.api.member_status[STAFF] = "kicked"
    await removed(h, staff)
    await h.press(staff, post, data_of(post, "done"))
    assert h.last_answer_text() == h.texts("requests.staff.not_staff")
    req = await h.db.get_request(1)
    assert req is not None and req.status != "erledigt"


async def test_the_groups_left_message_counts_too(h: Harness) -> None:
    staff = h.user(STAFF, "Sabine")
    post = await claimed_request(h, staff)
    h.api.member_status[STAFF] = "left"
    left = h.factory.message(staff, "", chat=STAFF_CHAT).to_dict()
    left["message"].pop("text", None)
    left["message"].pop("entities", None)
    left["message"]["left_chat_member"] = staff
    await h.app.process_update(Update.de_json(left, h.app.bot))
    await h.press(staff, post, data_of(post, "done"))
    assert h.last_answer_text() == h.texts("requests.staff.not_staff")


async def test_without_any_notice_the_cached_membership_ends_within_seconds(h: Harness) -> None:
    assert timedelta(seconds=5) <= MEMBER_CACHE <= timedelta(seconds=15)
    staff = h.user(STAFF, "Sabine")
    post = await claimed_request(h, staff)
    h.api.member_status[STAFF] = "left"
    h.clock.advance(MEMBER_CACHE + timedelta(seconds=1))
    await h.press(staff, post, data_of(post, "done"))
    assert h.last_answer_text() == h.texts("requests.staff.not_staff")
    assert STAFF_CHAT["id"] == STAFF_CHAT_ID
