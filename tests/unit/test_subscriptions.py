"""Subscriptions, audiences, invitations and the announcement ledger in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot import invitations, subscriptions
from bot.db import Database
from bot.roles import Role

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


async def subscribe(
    db: Database, user_id: int, land: str | None = None, topics: tuple[str, ...] = ()
) -> None:
    await db.set_subscription(user_id, "announcements", True, NOW)
    if land:
        await db.set_user_land(user_id, land, NOW)
    for topic in topics:
        await db.set_subscription_topic(user_id, topic, True, NOW)


async def test_nothing_is_on_until_chosen(db: Database) -> None:
    assert await db.offer_subscriptions(1, NOW) is True
    assert await db.offer_subscriptions(1, NOW) is False  # offered once
    for kind in subscriptions.KINDS:
        assert await subscriptions.wants(db, 1, kind) is False
        assert await subscriptions.wants(db, 2, kind) is False  # never seen
    await subscriptions.set_kind(db, 1, "deadline_reminders", True, NOW)
    assert await subscriptions.wants(db, 1, "deadline_reminders") is True
    assert await subscriptions.wants(db, 1, "event_reminders") is False
    assert await db.subscribers("deadline_reminders") == [1]
    with pytest.raises(ValueError):
        await subscriptions.wants(db, 1, "spam")


async def test_a_blocked_user_loses_every_subscription(db: Database) -> None:
    for kind in subscriptions.KINDS:
        await db.set_subscription(5, kind, True, NOW)
    async with db.transaction() as tx:
        await subscriptions.end_all(tx, 5, NOW)
    row = await db.subscription(5)
    assert row is not None and row.ended == "blocked"
    assert not any(row.wants(kind) for kind in subscriptions.KINDS)
    # Subscribing again by choice clears the mark.
    await db.set_subscription(5, "announcements", True, NOW)
    again = await db.subscription(5)
    assert again is not None and again.ended is None and again.announcements


async def test_audience_by_land_and_topic(db: Database) -> None:
    await subscribe(db, 1, "BY")
    await subscribe(db, 2, "BY", ("foerderung",))
    await subscribe(db, 3, "NW", ("praxis",))
    await subscribe(db, 4)  # no Land, no topic
    await db.set_subscription(5, "event_reminders", True, NOW)  # no Infobrief
    await db.set_user_land(5, "BY", NOW)
    assert await db.count_audience([], []) == 4
    assert await db.count_audience(["BY"], []) == 2
    assert await db.count_audience(["BY", "NW"], []) == 3
    # Users without topics get every topic; others only theirs.
    assert await db.count_audience([], ["foerderung"]) == 3  # 1, 2, 4
    assert await db.count_audience(["NW"], ["foerderung"]) == 0
    assert await db.count_audience(["NW"], ["foerderung", "praxis"]) == 1


async def test_announcement_rows_are_written_once_and_counted(db: Database) -> None:
    for user_id in (1, 2, 3):
        await subscribe(db, user_id, "BY")
    await subscribe(db, 4, "HE")
    announcement_id = await db.create_announcement(
        created_by=99, body="Hallo", button=None, laender=["BY"], topics=[], send_at=NOW, now=NOW
    )
    args = {"kind": "announcement", "priority": 10, "payload": {"text": "Hallo"}, "now": NOW}
    assert await db.start_announcement(announcement_id, **args) == 3  # type: ignore[arg-type]
    assert await db.start_announcement(announcement_id, **args) is None  # type: ignore[arg-type]
    rows = await db.outbox_by_ref(f"announcement:{announcement_id}")
    assert sorted(r.chat_id for r in rows) == [1, 2, 3]
    assert all(r.priority == 10 and r.kind == "announcement" for r in rows)
    async with db.transaction() as tx:
        await db.mark_outbox_sent(tx, rows[0].id, 7, NOW)
        await db.fail_outbox(tx, rows[1].id, "Forbidden: bot was blocked by the user")
    counts = await db.delivery_counts(f"announcement:{announcement_id}")
    assert (counts.sent, counts.blocked, counts.failed, counts.pending) == (1, 1, 0, 1)
    report = (99, {"text": "Bericht"})
    assert await db.finish_announcement(announcement_id, NOW, report) is True
    assert await db.finish_announcement(announcement_id, NOW, report) is False
    assert [r.chat_id for r in await db.due_outbox(NOW, 10) if r.kind == "message"] == [99]


async def test_scheduled_announcement_can_be_cancelled_until_it_starts(db: Database) -> None:
    later = NOW + timedelta(hours=2)
    first = await db.create_announcement(
        created_by=99, body="a", button=None, laender=[], topics=[], send_at=later, now=NOW
    )
    assert [a.id for a in await db.announcements_in_state("scheduled", due_before=NOW)] == []
    assert [a.id for a in await db.announcements_in_state("scheduled", due_before=later)] == [first]
    assert await db.cancel_announcement(first) is True
    assert await db.cancel_announcement(first) is False
    args = {"kind": "announcement", "priority": 10, "payload": {"text": "a"}, "now": later}
    assert await db.start_announcement(first, **args) is None  # type: ignore[arg-type]


async def test_invitation_works_once_and_expires(db: Database) -> None:
    code, expires = await invitations.create(db, Role.COORDINATOR, by=1, now=NOW)
    assert expires == NOW + timedelta(days=7)
    stored = await db.fetchall("SELECT code_hash FROM role_invitations")
    assert code not in str([tuple(r) for r in stored])  # only the hash is kept
    notices: list[bool] = []

    def notice(invitation: object, granted: bool) -> tuple[int, dict[str, str]]:
        notices.append(granted)
        return 1, {"text": "angenommen"}

    result = await invitations.redeem(db, code, 42, NOW, notice)
    assert result is not None and result[1] is True and result[0].role == "coordinator"
    assert await db.user_roles(42) == {"coordinator"}
    changes = await db.fetchall("SELECT user_id, changed_by, via FROM role_changes")
    assert [tuple(r) for r in changes] == [(42, 1, "invitation")]
    assert await invitations.redeem(db, code, 43, NOW, notice) is None  # reused
    assert await db.user_roles(43) == set()
    late, _ = await invitations.create(db, Role.STAFF, by=1, now=NOW)
    assert await invitations.redeem(db, late, 44, NOW + timedelta(days=7, seconds=1), notice) is None
    assert await invitations.redeem(db, "x" * 24, 44, NOW, notice) is None
    assert await db.user_roles(44) == set()
    assert notices == [True]
    assert [r.chat_id for r in await db.due_outbox(NOW, 10)] == [1]


def test_role_command_words() -> None:
    change = invitations.parse_role_command(["geben", "12345", "Koordination"])
    assert (change.grant, change.user_id, change.role) == (True, 12345, Role.COORDINATOR)
    change = invitations.parse_role_command(["nehmen", "team", "7"])
    assert (change.grant, change.user_id, change.role) == (False, 7, Role.STAFF)
    for bad in (["geben", "abc", "team"], ["machen", "1", "team"], ["geben", "1"], ["geben", "1", "chef"]):
        with pytest.raises(invitations.RoleCommandError):
            invitations.parse_role_command(bad)


def test_invitation_payloads() -> None:
    code = invitations.new_code()
    assert invitations.code_from_payload(f"rolle_{code}") == code
    assert len(f"rolle_{code}") <= 64
    assert invitations.code_from_payload("rolle_kurz") is None
    assert invitations.code_from_payload("rolle_" + "a" * 20 + "<") is None
    assert invitations.code_from_payload("beratung") is None
