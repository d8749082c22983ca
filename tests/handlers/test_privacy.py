"""/datenschutz, /meine_daten and /loeschen as a user sees them; the export is complete, erasure leaves no trace."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import ApplicationHandlerStop, CommandHandler, ConversationHandler, MessageHandler, filters

from bot import outbox
from bot.context import App, Context
from bot.db import EventFields, ReminderPlan
from bot.offline import OfflineBotApi, SentMessage
from bot.privacy import Erasure, Link, PersonalTable
from bot.telegram_html import html_to_plain
from tests.handlers.requests_support import (
    STAFF_CHAT,
    data_of,
    deliver,
    file_request,
    reply_target,
    staff_posts,
)
from tests.handlers.test_standort import answer_all, to_questions
from tests.harness import ADMIN_ID, STAFF_CHAT_ID, Harness, harness
from tests.privacy_scan import child_rows, rows_mentioning, traces, user_id_columns

USER = 4_711_000_123  # distinctive, so a scan for it finds nothing by accident
OTHER = 4_711_000_456
NAME = "Erika Mustermann"
FORM_ANSWER = "Stadtjugendamt Beispielhausen"
KOMMUNE = "Gemeinde Erikastadt"
REQUEST_QUESTION = "Wie beantragen wir eine deutsch-polnische Jugendbegegnung?"
REQUEST_REPLY = "Danke, wir sind 20 Jugendliche aus Erikastadt."
REQUEST_STAFF = 5151
STANDORT_KOMMUNE = "Erikadorf an der Lotse"

# --- a persistent form, as the features' guided dialogues are --------------------------------------------

ASKED = 1


async def _probe_begin(update: Update, context: Context) -> None:
    assert context.user_data is not None and update.effective_chat is not None
    context.user_data["probe"] = {"kommune": FORM_ANSWER}
    await context.bot.send_message(update.effective_chat.id, "Welche Kommune?")
    raise ApplicationHandlerStop(ASKED)


async def _probe_answer(update: Update, context: Context) -> None:
    assert update.message is not None
    await context.bot.send_message(update.message.chat_id, "probe got an answer")
    raise ApplicationHandlerStop(ConversationHandler.END)


def add_probe(app: App) -> None:
    app.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("probe", _probe_begin)],
            states={ASKED: [MessageHandler(filters.TEXT & ~filters.COMMAND, _probe_answer)]},
            fallbacks=[],
            name="probe",
            persistent=True,
        ),
        group=-2,
    )


# --- fillers: one per registered table, through the features' own functions -----------------------------
# A feature that registers a table adds its filler here; the completeness test fails until it does.


async def _fill_users(h: Harness, user: dict[str, Any]) -> None:
    await h.send(user, "/start")
    await h.db.set_user_land(USER, "NW", h.clock.now())


async def _fill_roles(h: Harness, user: dict[str, Any]) -> None:
    await h.db.grant_role(USER, "coordinator", by=ADMIN_ID, now=h.clock.now(), via="user_id")
    # The user as the one who acted: a grant they made to someone else.
    await h.db.grant_role(OTHER, "staff", by=USER, now=h.clock.now(), via="user_id")


async def _fill_editor_report(h: Harness, user: dict[str, Any]) -> None:
    await h.db.subscribe_editor_report(USER, h.clock.now(), "2026-11")


async def _fill_outbox(h: Harness, user: dict[str, Any]) -> None:
    async with h.db.transaction() as tx:
        later = h.clock.now() + timedelta(days=1)  # pending, not yet due
        await h.db.enqueue(
            tx, kind=outbox.MESSAGE, chat_id=USER, payload=outbox.payload("Erinnerung"), now=later
        )


async def _fill_dialogue(h: Harness, user: dict[str, Any]) -> None:
    await h.send(user, "/probe")
    await h.app.update_persistence()


async def _fill_advice(h: Harness, user: dict[str, Any]) -> None:
    assert await h.db.rate_article(USER, "foerderung-kjp", True, h.clock.now())


async def _fill_events(h: Harness, user: dict[str, Any]) -> None:
    now = h.clock.now()
    starts = now + timedelta(days=30)
    fields = EventFields(
        "Netzwerktreffen", starts, starts + timedelta(hours=3), "Bonn", None, "", None, "netzwerk"
    )
    async with h.db.transaction() as tx:
        # The user as coordinator who created an event, and as a follower of it.
        event_id = await h.db.insert_event(tx, fields, by=USER, now=now)
        await h.db.follow_event(tx, event_id, USER, now)
        await h.db.follow_programme(tx, "kjp", USER, now)
        plan = ReminderPlan(USER, f"event:{event_id}", starts, 7, starts - timedelta(days=7))
        await h.db.add_reminders(tx, [plan], now)


async def _fill_subscriptions(h: Harness, user: dict[str, Any]) -> None:
    now = h.clock.now()
    await h.db.set_subscription(USER, "announcements", True, now)
    await h.db.set_subscription_topic(USER, "foerderung", True, now)


async def _fill_invitations(h: Harness, user: dict[str, Any]) -> None:
    now = h.clock.now()
    # One the user created (as admin) and one they used.
    await h.db.create_invitation("hash-made", "staff", USER, now, now + timedelta(days=7))
    await h.db.create_invitation("hash-used", "coordinator", ADMIN_ID, now, now + timedelta(days=7))
    assert await h.db.redeem_invitation("hash-used", USER, now, lambda invitation, granted: None)


async def _fill_announcements(h: Harness, user: dict[str, Any]) -> None:
    await h.db.create_announcement(
        created_by=USER,
        body="Infobrief <b>Juni</b>",
        button=None,
        laender=[],
        topics=[],
        send_at=h.clock.now() + timedelta(days=2),
        now=h.clock.now(),
    )


async def _fill_requests(h: Harness, user: dict[str, Any]) -> None:
    """The user's own request (posted, claimed, answered both ways), and one of someone else they took as staff."""
    staff = h.user(REQUEST_STAFF, "Sabine")
    own = await file_request(h, user, kommune=KOMMUNE, question=REQUEST_QUESTION)
    await deliver(h)
    [post] = [m for m in staff_posts(h) if f"#{own}" in m.text]
    await h.press(staff, post, data_of(post, "claim"))
    await h.send(staff, "Guten Tag, wir helfen gern.", chat=STAFF_CHAT, reply_to=post)
    await deliver(h)
    await h.send(user, REQUEST_REPLY)
    await deliver(h)
    other = await file_request(h, h.user(OTHER, "Max"))
    await deliver(h)
    [other_post] = [m for m in staff_posts(h) if f"#{other}" in m.text]
    await h.press(user, other_post, data_of(other_post, "claim"))
    await deliver(h)


async def _fill_standort(h: Harness, user: dict[str, Any]) -> None:
    """A completed Standortbestimmung, through the guided tool itself."""
    step = await to_questions(h, user, name=STANDORT_KOMMUNE)
    sent = await answer_all(h, user, step, ["Ja", "Teilweise", "Nein", "Nein", "Nein", "Ja", "Nein", "Nein"])
    assert any("Ihre Stufe" in m.text for m in sent)
    assert await h.db.standort_results(USER, 5)


FILLERS: dict[str, Callable[[Harness, dict[str, Any]], Awaitable[None]]] = {
    "users": _fill_users,
    "roles": _fill_roles,
    "role_changes": _fill_roles,
    "outbox": _fill_outbox,
    "advice_ratings": _fill_advice,
    "events": _fill_events,
    "event_follows": _fill_events,
    "deadline_follows": _fill_events,
    "reminders": _fill_events,
    "subscriptions": _fill_subscriptions,
    "subscription_topics": _fill_subscriptions,
    "role_invitations": _fill_invitations,
    "announcements": _fill_announcements,
    "requests": _fill_requests,
    "request_history": _fill_requests,
    "request_messages": _fill_requests,
    "standort_results": _fill_standort,
    "editor_report_subscriptions": _fill_editor_report,
    # Last: the open form owns the user's next text message.
    "conversations": _fill_dialogue,
    "user_data": _fill_dialogue,
}


async def fill_everything(h: Harness, user: dict[str, Any]) -> None:
    missing = [t.table for t in h.app.bot_data.privacy.tables if t.table not in FILLERS]
    assert not missing, f"add a filler to FILLERS in {__file__} for the registered tables {missing}"
    done: set[Callable[..., Any]] = set()
    for filler in FILLERS.values():
        if filler not in done:
            await filler(h, user)
            done.add(filler)


async def export_json(h: Harness, user: dict[str, Any]) -> tuple[SentMessage, dict[str, Any]]:
    [reply] = await h.send(user, "/meine_daten")
    assert reply.document is not None
    return reply, json.loads(reply.document[1].decode("utf-8"))


# --- the notice --------------------------------------------------------------------------------------------


async def test_notice_from_menu_and_commands_states_periods_and_placeholders(tmp_path: Path) -> None:
    async with harness(tmp_path, retention_request_days=200, retention_miss_days=45) as h:
        user = h.user(USER, NAME)
        menu = next(m for m in await h.send(user, "/start") if "Willkommen" in m.text)
        [notice] = await h.press(user, menu, "menu:datenschutz")
        assert notice.edited and notice.message_id == menu.message_id
        text = html_to_plain(notice.text)
        assert "200 Tage" in text and "45 Tage" in text and "30 Tage" in text
        # Nothing configured: the operator's gap is visible, naming the setting to fill in.
        assert "BOT_PRIVACY_CONTROLLER" in text and "BOT_PRIVACY_CONTACT" in text
        assert "/meine_daten" in text and "/loeschen" in text
        for command in ("/datenschutz", "/privacy"):
            [again] = await h.send(user, command)
            assert again.text == notice.text
            assert {b["text"] for b in again.buttons()} >= {
                h.texts("privacy.buttons.export"),
                h.texts("privacy.buttons.erase"),
            }


async def test_notice_shows_the_operator_details(tmp_path: Path) -> None:
    controller = "Jugendamt <Musterstadt>, Marktplatz 1, 12345 Musterstadt"
    async with harness(
        tmp_path, privacy_controller=controller, privacy_contact="datenschutz@musterstadt.example"
    ) as h:
        [notice] = await h.send(h.user(USER), "/datenschutz")
        assert "Jugendamt &lt;Musterstadt&gt;" in notice.text  # escaped, never parsed
        assert "datenschutz@musterstadt.example" in notice.text
        assert "BOT_PRIVACY_CONTROLLER" not in notice.text


async def test_privacy_commands_are_in_the_command_menu(bot: Harness) -> None:
    [menu] = [
        c.params["commands"]
        for c in bot.api.calls
        if c.method == "setMyCommands" and c.params.get("scope") == {"type": "all_private_chats"}
    ]
    names = {c["command"] for c in menu}
    assert {"datenschutz", "meine_daten", "loeschen"} <= names


# --- /meine_daten --------------------------------------------------------------------------------------------


async def test_export_contains_every_registered_table(tmp_path: Path) -> None:
    async with harness(tmp_path, setup=add_probe) as h:
        user = h.user(USER, NAME)
        await fill_everything(h, user)
        reply, data = await export_json(h, user)
        assert reply.chat_id == USER
        assert reply.document is not None and reply.document[0].endswith(".json")
        assert data["telegram_nutzer_id"] == USER
        database = h.app.bot_data.settings.database
        registry = h.app.bot_data.privacy
        # Every table with a column named like a user id (read from the migrated schema) is in the export,
        # unless the registry says why that column never holds one.
        declared = {(t.table, c) for t in registry.tables for c in t.not_user_ids}
        for table, columns in user_id_columns(database).items():
            if any((table, c) not in declared for c in columns):
                assert table in data["daten"], f"{table} holds user ids but is not in /meine_daten"
        for spec in registry.tables:
            if spec.parent is None:
                stored = rows_mentioning(database, spec.table, USER)
            else:
                p = spec.parent
                owners = [c for c, link in registry_table(h, p.table).ids.items() if link is not Link.ACTOR]
                stored = child_rows(database, spec.table, p.column, p.table, p.key, owners, USER)
            assert stored, f"the filler for {spec.table} stored nothing about the user"
            section = data["daten"][spec.table]
            assert section["bezeichnung"] == h.texts(spec.label)
            exported = section["eintraege"] + section.get("von_ihnen_vorgenommen", [])
            assert len(exported) >= len(stored), f"{spec.table}: {len(stored)} rows, {len(exported)} exported"
            for row in stored:
                wanted = {c: row[c] for c in spec.export}
                assert any(_same(wanted, entry) for entry in exported), f"{spec.table}: {wanted} missing"
        # Readable: form answers and payloads as structure, not as escaped JSON strings.
        assert data["daten"]["user_data"]["eintraege"][0]["data"]["probe"]["kommune"] == FORM_ANSWER
        assert data["daten"]["outbox"]["eintraege"][0]["payload"]["text"] == "Erinnerung"
        roles = data["daten"]["roles"]
        assert roles["eintraege"] == [
            {"role": "coordinator", "granted_at": roles["eintraege"][0]["granted_at"]}
        ]
        assert roles["von_ihnen_vorgenommen"][0]["role"] == "staff"
        requests = data["daten"]["requests"]
        assert [r["question"] for r in requests["eintraege"]] == [REQUEST_QUESTION]
        assert requests["eintraege"][0]["requester_name"] == NAME
        assert len(requests["von_ihnen_vorgenommen"]) == 1  # the request the user took as staff
        relayed = data["daten"]["anfrage_nachrichten"]["eintraege"]
        assert any(
            REQUEST_REPLY in m["text"] and m["an"] == h.texts("privacy.export.to_staff") for m in relayed
        )
        assert any(m["an"] == h.texts("privacy.export.to_you") for m in relayed)
        # Other people's ids are never exported.
        assert str(OTHER) not in reply.document[1].decode()


def registry_table(h: Harness, table: str) -> PersonalTable:
    [spec] = [t for t in h.app.bot_data.privacy.tables if t.table == table]
    return spec


def _same(wanted: dict[str, Any], entry: dict[str, Any]) -> bool:
    for column, value in wanted.items():
        got = entry.get(column)
        if isinstance(value, str) and not isinstance(got, str):
            got = json.loads(value)
            if got != entry.get(column):
                return False
        elif got != value:
            return False
    return True


async def test_export_from_the_button_and_for_a_stranger(bot: Harness) -> None:
    user = bot.user(USER, NAME)
    [notice] = await bot.send(user, "/datenschutz")
    [doc] = await bot.press_label(user, notice, bot.texts("privacy.buttons.export"))
    assert doc.document is not None and doc.chat_id == USER
    data = json.loads(doc.document[1])
    assert data["daten"]["users"]["eintraege"][0]["language"] == "de"
    # Somebody else's export never contains this user.
    _, other = await export_json(bot, bot.user(OTHER, "Max"))
    assert str(USER) not in json.dumps(other)


# --- /loeschen --------------------------------------------------------------------------------------------------


async def test_erase_leaves_no_trace(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    async with harness(tmp_path, setup=add_probe) as h:
        user = h.user(USER, NAME)
        await fill_everything(h, user)
        await h.send(h.user(OTHER, "Max"), "/start")
        assert traces(database, USER)
        [confirm] = await h.send(user, "/loeschen")
        assert "Rollen" in confirm.text and "Profil" in confirm.text
        [done] = await h.press_label(user, confirm, h.texts("privacy.buttons.confirm"))
        assert done.message_id == confirm.message_id
        assert "gelöscht" in done.text and "Rollen: 2 Einträge" in html_to_plain(
            done.text
        )  # own role, one granted
        assert (
            traces(
                database, USER, NAME, FORM_ANSWER, KOMMUNE, REQUEST_QUESTION, REQUEST_REPLY, STANDORT_KOMMUNE
            )
            == []
        )
        # The conversation is over in memory as well: an answer no longer reaches the form.
        replies = await h.send(user, "Beispielhausen")
        assert "probe got an answer" not in [m.text for m in replies]
        # Other users keep their data, and the role the user granted stays (without the granter's id).
        assert await h.db.get_user(OTHER) is not None
        assert await h.db.user_roles(OTHER) == {"staff"}
    # After the final flush at stop, still nothing — except what the last message created anew: the profile row
    # and, when PTB's background write ran between the erasure and that message, its pending question.
    left = traces(database, USER, NAME, FORM_ANSWER)
    assert set(left) - {"user_data.user_id (1 rows contain 4711000123)"} == {
        "users.id (1 rows contain 4711000123)"
    }
    with closing(sqlite3.connect(database)) as conn:
        rows = conn.execute("SELECT data FROM user_data WHERE user_id = ?", (USER,)).fetchall()
    erased = (NAME, FORM_ANSWER, KOMMUNE, REQUEST_QUESTION, REQUEST_REPLY, STANDORT_KOMMUNE)
    assert all("Beispielhausen" in data and not any(c in data for c in erased) for (data,) in rows), rows


async def test_erase_asks_first_and_can_be_declined(bot: Harness) -> None:
    user = bot.user(USER, NAME)
    [notice] = await bot.send(user, "/datenschutz")
    [confirm] = await bot.press_label(user, notice, bot.texts("privacy.buttons.erase"))
    assert "löschen?" in confirm.text
    [kept] = await bot.press_label(user, confirm, bot.texts("privacy.buttons.cancel"))
    assert kept.text == bot.texts("privacy.erase.kept")
    assert await bot.db.get_user(USER) is not None


async def test_stale_and_forged_confirmations_change_nothing(bot: Harness) -> None:
    user = bot.user(USER, NAME)
    [confirm] = await bot.send(user, "/loeschen")
    bot.clock.advance(timedelta(hours=1))
    [expired] = await bot.press_label(user, confirm, bot.texts("privacy.buttons.confirm"))
    assert expired.text == bot.texts("privacy.erase.expired")
    for data in ("privacy:erase:abc", "privacy:erase:99999999999", "privacy:erase", "privacy:nuke"):
        await bot.press(user, confirm, data)
    assert await bot.db.get_user(USER) is not None
    assert bot.last_answer_text() == bot.texts("errors.stale_button")


async def test_nothing_stored_nothing_to_erase(bot: Harness) -> None:
    user = bot.user(USER, NAME)
    [confirm] = await bot.send(user, "/loeschen")
    [done] = await bot.press_label(user, confirm, bot.texts("privacy.buttons.confirm"))
    assert "gelöscht" in done.text
    # The press re-created the profile row (any private update does); a second round finds only that.
    [again] = await bot.send(user, "/loeschen")
    assert "1 Eintrag" in html_to_plain(again.text)


async def test_erase_hook_tells_staff_without_details(tmp_path: Path) -> None:
    """The requests feature's case: an open request is withdrawn and staff are told, nothing more."""

    async def withdraw(erasure: Erasure) -> None:
        settings = erasure.services.settings
        assert settings.staff_chat_id is not None
        await erasure.services.db.enqueue(
            erasure.tx,
            kind=outbox.MESSAGE,
            chat_id=settings.staff_chat_id,
            payload=outbox.payload("Anfrage #7 wurde zurückgezogen."),
            now=erasure.now,
            ref="request:7",
        )

    def setup(app: App) -> None:
        app.bot_data.privacy.on_erase(withdraw)

    async with harness(tmp_path, setup=setup) as h:
        user = h.user(USER, NAME)
        [confirm] = await h.send(user, "/loeschen")
        await h.press_label(user, confirm, h.texts("privacy.buttons.confirm"))
        await h.app.bot_data.outbox.deliver_due(h.app.bot)
        [notice] = h.api.sent_to(STAFF_CHAT_ID)
        assert notice.text == "Anfrage #7 wurde zurückgezogen."
        assert str(USER) not in notice.text and NAME not in notice.text


@pytest.mark.parametrize("forum", [False, True], ids=["plain group", "forum"])
async def test_erase_withdraws_open_requests_and_blanks_the_staff_chat(tmp_path: Path, forum: bool) -> None:
    api = OfflineBotApi(strict=True, forum_chats=frozenset({STAFF_CHAT_ID} if forum else set()))
    async with harness(tmp_path, api=api, broadcast_rate=30) as h:
        user = h.user(USER, NAME)
        await _fill_requests(h, user)
        own = (await h.db.requests_of_user(USER, 5))[0].id
        [post] = [m for m in staff_posts(h) if f"#{own}" in m.text]
        relayed = [m for m in h.api.sent_to(STAFF_CHAT_ID) if REQUEST_REPLY in m.text]
        assert relayed and NAME in post.text
        before = len(h.api.sent_to(STAFF_CHAT_ID))

        [confirm] = await h.send(user, "/loeschen")
        assert "Beratungsanfragen: 2 Einträge" in html_to_plain(confirm.text)  # own + the one taken as staff
        await h.press_label(user, confirm, h.texts("privacy.buttons.confirm"))
        await deliver(h)

        blank = h.texts("privacy.staff.redacted", number=own)
        assert post.text == blank and not post.buttons()
        assert all(m.text == blank for m in relayed)
        [withdrawn] = h.api.sent_to(STAFF_CHAT_ID)[before:]
        assert withdrawn.text == h.texts("privacy.staff.withdrawn", number=own)
        if forum:
            assert withdrawn.thread_id == post.thread_id
            renames = [c.params for c in h.api.calls if c.method == "editForumTopic"]
            assert renames[-1]["name"] == h.texts("privacy.staff.topic", number=own)
        else:
            [send] = [c.params for c in h.api.calls if c.method == "sendMessage"][-1:]
            assert reply_target(send) == post.message_id
        # Nothing the bot shows the staff names the person or repeats what they wrote.
        for message in h.api.sent_to(STAFF_CHAT_ID):
            for secret in (NAME, KOMMUNE, REQUEST_QUESTION, REQUEST_REPLY):
                assert secret not in message.text, message.text
        # The staff's buttons on the blanked post are gone; a press on an old one is answered politely.
        await h.press(h.user(REQUEST_STAFF, "Sabine"), post, f"req:claim:{own}")
        assert h.last_answer_text()
        assert await h.db.get_request(own) is None
