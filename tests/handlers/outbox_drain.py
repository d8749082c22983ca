"""Test helper: deliver everything in the outbox now, moving the fake clock over retry and flood waits."""

from __future__ import annotations

from tests.harness import Harness


async def drain(h: Harness, rounds: int = 50) -> None:
    """Run the outbox until no row is pending (a background worker may already be running)."""
    outbox = h.app.bot_data.outbox
    for _ in range(rounds):
        await outbox.idle()  # a background worker may run
        await outbox.deliver_due(h.app.bot)
        next_due = await h.db.next_outbox_due()
        if next_due is None:
            return
        if next_due > h.clock.now():
            h.clock.set(next_due)
    raise AssertionError("outbox did not drain")
