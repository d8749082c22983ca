"""Callback data comes from the client: a forged press with an id beyond SQLite's range (2^63−1 and above), a
leading zero or a negative number gets a polite answer, never an exception (OverflowError reached the error
handler before)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import callbacks, faults
from tests.handlers.requests_support import STAFF, STAFF_CHAT
from tests.harness import ADMIN_ID, harness

HUGE = str(2**63)  # one above SQLite's INTEGER range
HUGER = str(2**64 + 5)


def test_number_checks_type_and_range() -> None:
    assert callbacks.number(str(2**63 - 1)) == 2**63 - 1
    assert callbacks.number("0") == 0 and callbacks.number("17") == 17
    for bad in (HUGE, HUGER, "017", "-1", "", "1e3", "1.5", " 1", "x"):
        assert callbacks.number(bad) is None, bad
    assert callbacks.number("12", maximum=10) is None
    parsed = callbacks.parse(f"req:reply:{HUGE}")
    assert parsed is not None and parsed.arg_number is None


@pytest.mark.parametrize(
    ("who", "data"),
    [
        ("user", f"req:reply:{HUGE}"),
        ("user", f"req:rcancel:{HUGER}"),
        ("user", f"req:rate:{HUGE}.5"),
        ("staff", f"req:claim:{HUGE}"),
        ("staff", f"req:set:{HUGER}.erledigt"),
        ("admin", f"ann:unplan:{HUGE}"),
        ("admin", f"rolle:revok:staff.{HUGE}"),
        ("admin", f"rolle:rev:coordinator.{HUGER}"),
    ],
)
async def test_a_forged_press_with_a_huge_id_is_answered_politely(
    tmp_path: Path, who: str, data: str
) -> None:
    async with harness(tmp_path) as h:
        user_id = {"user": 7101, "staff": STAFF, "admin": ADMIN_ID}[who]
        if who == "staff":
            await h.db.grant_role(STAFF, "staff", by=ADMIN_ID, now=h.clock.now(), via="user_id")
        user = h.user(user_id)
        welcome = (await h.send(user, "/start"))[0]
        defects = faults.counts["defect"]
        if who == "staff":
            posted = await h.send(user, "/start", chat=STAFF_CHAT)
            welcome = posted[0] if posted else welcome
        await h.press(user, welcome, data)
        assert faults.counts["defect"] == defects, f"{data} reached the error handler"
        assert any(c.method == "answerCallbackQuery" for c in h.api.calls), "the press got no answer"
