"""/statistik: coordinators see subscribers by Bundesland and topic, requests and recent announcements."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import broadcast
from bot.db import NewRequest
from bot.requests import Change, apply_change, submit_request
from tests.handlers.outbox_drain import drain
from tests.harness import ADMIN_ID, Harness

COORD = 601


async def test_statistics_for_coordinators(bot: Harness) -> None:
    now = bot.clock.now()
    db = bot.db
    await db.grant_role(COORD, "coordinator", ADMIN_ID, now, "user_id")
    for user_id, land in ((1, "BY"), (2, "BY"), (3, "SN"), (4, None)):
        await db.set_subscription(user_id, "announcements", True, now)
        if land:
            await db.set_user_land(user_id, land, now)
    await db.set_subscription(3, "deadline_reminders", True, now)
    await db.set_subscription_topic(1, "foerderung", True, now)
    await db.set_user_land(5, "HE", now)  # no subscription: not counted
    announcement_id = await db.create_announcement(
        created_by=COORD,
        body="<b>Infobrief</b> November",
        button=None,
        laender=[],
        topics=[],
        send_at=now,
        now=now,
    )
    await broadcast.start(bot.app.bot, bot.app.bot_data, announcement_id)
    await drain(bot)

    [reply] = await bot.send(bot.user(COORD), "/statistik")
    text = reply.text
    assert "Infobrief: 4 · Veranstaltungen: 0 · Fristen: 1" in text
    assert "Bayern: 2" in text and "Sachsen: 1" in text and "ohne Angabe: 1" in text and "Hessen" not in text
    assert "Förderung: 1" in text and "alle Themen (keine Auswahl): 3" in text
    assert "<b>Anfragen nach Status</b>\n–" in text  # no requests yet
    assert f"#{announcement_id}" in text and "Infobrief November" in text
    assert "4 Empfänger: zugestellt 4 · blockiert 0 · fehlgeschlagen 0" in text


async def test_statistics_are_for_coordinators_only(bot: Harness) -> None:
    [reply] = await bot.send(bot.user(COORD), "/statistik")
    assert reply.text == bot.texts("statistics.not_allowed")


async def test_requests_by_status(bot: Harness) -> None:
    now = bot.clock.now()
    for n, status in enumerate(("neu", "neu", "erledigt")):
        await submit_request(bot.db, _request(f"{n}"), now, bot.app.bot_data.settings.tz, None)
        if status == "erledigt":
            req = await bot.db.get_request(n + 1)
            assert req is not None
            await apply_change(
                bot.db,
                bot.texts,
                req,
                Change("erledigt", 7, "S", False, False),
                by=7,
                now=now,
                action="status",
            )
    [reply] = await bot.send(bot.user(ADMIN_ID), "/statistik")
    assert "erledigt: 1\nneu: 2" in reply.text


def _request(token: str) -> NewRequest:
    return NewRequest(
        user_id=1,
        requester_name="Anna",
        form_token=token,
        kommune="Stadt Musterstadt",
        bundesland="NI",
        role="jugendamt",
        topic="foerderung",
        question="Eine Frage, lang genug.",
        contact_kind="telegram",
        contact_value=None,
        privacy_ack_at=datetime(2026, 11, 24, tzinfo=UTC),
    )
