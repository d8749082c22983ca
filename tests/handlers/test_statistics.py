"""/statistik: coordinators see subscribers by Bundesland and topic, requests and recent announcements."""

from __future__ import annotations

from bot import broadcast
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
    assert bot.texts("statistics.requests_unavailable") in text
    assert f"#{announcement_id}" in text and "Infobrief November" in text
    assert "4 Empfänger: zugestellt 4 · blockiert 0 · fehlgeschlagen 0" in text


async def test_statistics_are_for_coordinators_only(bot: Harness) -> None:
    [reply] = await bot.send(bot.user(COORD), "/statistik")
    assert reply.text == bot.texts("statistics.not_allowed")


async def test_requests_by_status_once_the_table_exists(bot: Harness) -> None:
    async with bot.db.transaction() as tx:  # stands in for the requests feature's migration
        await tx.execute("CREATE TABLE requests (id INTEGER PRIMARY KEY, status TEXT NOT NULL)")
        await tx.execute("INSERT INTO requests (status) VALUES ('neu'), ('neu'), ('erledigt')")
    [reply] = await bot.send(bot.user(ADMIN_ID), "/statistik")
    assert "erledigt: 1\nneu: 2" in reply.text
