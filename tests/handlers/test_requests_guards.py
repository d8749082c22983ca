"""Requests: bad input, forged or stale buttons, rights, limits — each gets a clear answer and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ApplicationHandlerStop, CommandHandler

from bot.context import App, Context
from bot.offline import OfflineBotApi
from bot.roles import Role
from handlers.requests import request_offer_button
from tests.handlers.requests_support import (
    OTHER_STAFF,
    OUTSIDER,
    STAFF,
    STAFF_CHAT,
    USER,
    assert_valid_html,
    data_of,
    deliver,
    file_request,
    fill_form,
    staff_posts,
    telegram_limits,
)
from tests.harness import ADMIN_ID, STAFF_CHAT_ID, Harness, harness

EVIL = '<b>x</b><script>alert("1")</script> & <a href="javascript:1">'


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path, broadcast_rate=30) as running:
        yield running


async def start(h: Harness, user: dict[str, object]) -> None:
    [intro] = await h.send(user, "/beratung")
    assert "Für welche <b>Kommune</b>" in intro.text


async def test_invalid_text_answers_are_explained_and_change_nothing(h: Harness) -> None:
    user = h.user(USER)
    await start(h, user)
    [reply] = await h.send(user, "x")
    assert reply.text == h.texts("requests.invalid.kommune")
    [reply] = await h.send(user, "A" * 121)
    assert reply.text == h.texts("requests.invalid.kommune_long", max=120)
    [land] = await h.send(user, "Stadt Musterstadt")
    assert "<b>Bundesland</b>" in land.text
    # A typed Land is understood; nonsense is not.
    [reply] = await h.send(user, "Atlantis")
    assert reply.text.startswith(h.texts("requests.invalid.land"))
    [role] = await h.send(user, "nrw")
    assert "<b>Rolle</b>" in role.text
    [reply] = await h.send(user, "Jugendamt")  # typed where a button is expected
    assert reply.text.startswith(h.texts("requests.form.use_buttons"))
    [topic] = await h.press(user, role, data_of(role, "role", "traeger"))
    [question] = await h.press(user, topic, data_of(topic, "topic", "sonstiges"))
    assert "<b>Frage</b>" in question.text
    [reply] = await h.send(user, "Zu kurz")
    assert reply.text == h.texts("requests.invalid.question_short", min=10)
    [reply] = await h.send(user, "x" * 2001)
    assert reply.text == h.texts("requests.invalid.question_long", max=2000, length=2001)
    [contact] = await h.send(user, "Welche Förderung gibt es für Fachkräfteaustausch?")
    [email] = await h.press(user, contact, data_of(contact, "contact", "email"))
    assert "<b>E-Mail-Adresse</b>" in email.text
    for bad in ("anna", "anna@", "anna@musterstadt", "an na@musterstadt.de", "anna@@x.de", "<b>@x.de"):
        [reply] = await h.send(user, bad)
        assert reply.text == h.texts("requests.invalid.email"), bad
    [privacy] = await h.send(user, "anna.mueller@landkreis-beispiel.de")
    [summary] = await h.press(user, privacy, data_of(privacy, "privacy"))
    assert "Nordrhein-Westfalen" in summary.text and "anna.mueller@landkreis-beispiel.de" in summary.text
    # Switch to phone from the summary: the number is validated too.
    [edit] = await h.press(user, summary, data_of(summary, "edit"))
    [kinds] = await h.press(user, edit, data_of(edit, "field", "contact_kind"))
    [phone] = await h.press(user, kinds, data_of(kinds, "contact", "phone"))
    assert "<b>Telefonnummer</b>" in phone.text
    for bad in ("12345", "030 12a4567", "+49 0 30 1234567", "++49 30 1234567", "0049", "030--//1234567"):
        [reply] = await h.send(user, bad)
        assert reply.text == h.texts("requests.invalid.phone"), bad
    [summary] = await h.send(user, "+49 (0)30 123 456-7")
    assert "Telefon: +49 (0)30 123 456-7" in summary.text
    assert await h.db.requests_of_user(USER, 5) == []


async def test_html_in_every_field_is_shown_as_text(h: Harness) -> None:
    user = h.user(USER, EVIL)
    staff = h.user(STAFF, EVIL)
    evil_kommune = "Stadt <i>Evil</i> & Co"
    evil_question = f"Frage mit {EVIL} und noch mehr Text"
    number = await file_request(
        h, user, kommune=evil_kommune, question=evil_question, contact=("email", "a&b@example.de")
    )
    await deliver(h)
    [post] = staff_posts(h)
    assert "Stadt &lt;i&gt;Evil&lt;/i&gt; &amp; Co" in post.text
    assert "&lt;script&gt;" in post.text and "<script>" not in post.text
    assert "a&amp;b@example.de" in post.text
    await h.send(staff, f"Antwort {EVIL}", chat=STAFF_CHAT, reply_to=post)
    await h.press(staff, post, "req:claim:1")  # already taken by the reply: refused politely
    await deliver(h)
    await h.send(user, f"Rückfrage {EVIL}")
    await deliver(h)
    await h.send(user, "/anfragen")
    await h.send(staff, "/offen", chat=STAFF_CHAT)
    sent = h.api.sent_to(USER) + h.api.sent_to(STAFF_CHAT_ID)
    assert_valid_html(sent)
    assert all("<script>" not in m.text for m in sent)
    req = await h.db.get_request(number)
    assert req is not None and req.question == evil_question and req.kommune == evil_kommune


async def test_forged_and_stale_buttons_change_nothing(h: Harness) -> None:
    user = h.user(USER)
    first_summary = await fill_form(h, user)
    stale_send = data_of(first_summary, "send")
    # A second form replaces the first: the old summary's buttons belong to a form that no longer exists.
    second_summary = await fill_form(h, user, kommune="Zweite Kommune")
    await h.press(user, first_summary, stale_send)
    assert h.last_answer_text() == h.texts("requests.form.stale_button")
    assert await h.db.requests_of_user(USER, 5) == []
    form_id = stale_send.split(":")[2].split(".")[0]
    for forged in (
        "rqf:land:zzzz.BY",
        f"rqf:land:{form_id}.XX",
        data_of(second_summary, "send").replace(":send:", ":role:") + ".chef",
        "rqf:nothing",
        "req:claim:abc",
        "req:set:1",
        "req:rate:1.9",
        "req:reply:999",
    ):
        await h.press(user, second_summary, forged)
        assert h.last_answer_text(), forged
    # Nothing was stored by any of it, and the real form still works.
    assert await h.db.requests_of_user(USER, 5) == []
    send = data_of(second_summary, "send")
    [done] = await h.press(user, second_summary, send)
    assert "#1" in done.text
    # Pressing "Absenden" again after the form ended stores nothing twice and tells the number again.
    [again] = await h.press(user, second_summary, send)
    assert again.text == h.texts("requests.form.already_submitted", number=1)
    assert len(await h.db.requests_of_user(USER, 5)) == 1


async def test_only_staff_may_press_staff_buttons_or_relay(h: Harness) -> None:
    user = h.user(USER)
    outsider = h.user(OUTSIDER, "Mallory")
    h.api.member_status[OUTSIDER] = "left"
    await file_request(h, user)
    await deliver(h)
    [post] = staff_posts(h)
    for action in ("claim", "done", "status"):
        await h.press(outsider, post, data_of(post, action))
        assert h.last_answer_text() == h.texts("requests.staff.not_staff")
    # The same forged in the outsider's private chat.
    menu = next(m for m in await h.send(outsider, "/start") if "Willkommen" in m.text)
    await h.press(outsider, menu, "req:claim:1")
    assert h.last_answer_text() == h.texts("requests.staff.not_staff")
    await h.press(outsider, menu, "req:set:1.erledigt")
    assert h.last_answer_text() == h.texts("requests.staff.not_staff")
    # The requester may not act as staff on their own request either.
    h.api.member_status[USER] = "left"
    await h.press(user, post, data_of(post, "done"))
    assert h.last_answer_text() == h.texts("requests.staff.not_staff")
    req = await h.db.get_request(1)
    assert req is not None and req.status == "neu" and req.claimed_by is None
    assert [a for a, _, _ in await h.db.request_history(1)] == ["submitted"]
    # /offen is for staff only.
    [reply] = await h.send(outsider, "/offen")
    assert reply.text == h.texts("requests.staff.not_staff")
    await deliver(h)
    assert len(h.api.sent_to(USER)) == len([m for m in h.api.sent_to(USER) if "Status" not in m.text])


async def test_staff_role_counts_without_group_membership_and_rights_are_rechecked(h: Harness) -> None:
    user = h.user(USER)
    adviser = h.user(OTHER_STAFF, "Rita")
    await file_request(h, user)
    await deliver(h)
    [post] = staff_posts(h)
    h.api.member_status[OTHER_STAFF] = "left"
    await h.press(adviser, post, data_of(post, "claim"))
    assert h.last_answer_text() == h.texts("requests.staff.not_staff")
    await h.db.grant_role(OTHER_STAFF, Role.STAFF, ADMIN_ID, h.clock.now(), "user_id")
    await h.press(adviser, post, data_of(post, "claim"))
    req = await h.db.get_request(1)
    assert req is not None and req.claimed_by == OTHER_STAFF
    # A failing membership check is not a "no": the staff member is asked to try again, nothing changes.
    h.api.fail = lambda call: (
        (500, {"error_code": 500, "description": "Internal"}) if call.method == "getChatMember" else None
    )
    staff = h.user(STAFF, "Sabine")
    await h.press(staff, post, data_of(post, "done"))
    assert h.last_answer_text() == h.texts("requests.staff.rights_unknown")
    req = await h.db.get_request(1)
    assert req is not None and req.status == "in_bearbeitung"


async def test_claimed_requests_stay_with_their_staff_member(h: Harness) -> None:
    user = h.user(USER)
    sabine, rita = h.user(STAFF, "Sabine"), h.user(OTHER_STAFF, "Rita")
    await file_request(h, user)
    await deliver(h)
    [post] = staff_posts(h)
    claim = data_of(post, "claim")
    await h.press(sabine, post, claim)
    await h.press(rita, post, claim)  # a stale "Übernehmen" on an old copy of the keyboard
    assert h.last_answer_text() == h.texts("requests.staff.claimed_by_other", number=1, name="Sabine")
    # An alert is plain text: a name with "&" or "<" is shown as typed, not as an HTML entity.
    await h.press(sabine, post, "req:set:1.neu")
    await h.press(h.user(STAFF, "S&<b>"), post, claim)
    await h.press(rita, post, claim)
    assert (
        h.last_answer_text()
        == "Anfrage #1 hat bereits S&<b> übernommen. Zum Abgeben: „Status ändern“ → „neu (freigeben)“."
    )
    await h.press(h.user(STAFF, "Sabine"), post, "req:set:1.neu")
    await h.press(sabine, post, claim)
    await h.press(sabine, post, claim)
    assert h.last_answer_text() == h.texts("requests.staff.already_yours", number=1)
    await h.press(rita, post, "req:set:1.in_bearbeitung")
    assert h.last_answer_text() == h.texts("requests.staff.status_unchanged", number=1)
    # Releasing it ("neu") frees it for Rita.
    await h.press(sabine, post, "req:set:1.neu")
    await h.press(rita, post, data_of(post, "claim"))
    req = await h.db.get_request(1)
    assert req is not None and req.claimed_by == OTHER_STAFF and req.claimed_by_name == "Rita"
    await h.press(rita, post, data_of(post, "done"))
    await h.press(rita, post, "req:claim:1")
    assert h.last_answer_text() == h.texts("requests.staff.is_closed", number=1)


async def test_limits_three_open_and_five_a_day(h: Harness) -> None:
    user = h.user(USER)
    staff = h.user(STAFF)
    for _ in range(3):
        await file_request(h, user)
    await deliver(h)
    [refusal] = await h.send(user, "/beratung")
    assert refusal.text == h.texts("requests.limits.open", max_open=3)
    # A form filled in while a slot was free is refused at "Absenden" if the slot is gone by then.
    await deliver(h)
    first = staff_posts(h)[0]
    await h.press(staff, first, data_of(first, "done"))
    summary = await fill_form(h, user)
    await h.press(staff, first, "req:set:1.in_bearbeitung")  # staff reopen #1: three open again
    await deliver(h)
    [refused] = await h.press(user, summary, data_of(summary, "send"))
    assert refused.text == h.texts("requests.limits.open", max_open=3)
    assert len(await h.db.requests_of_user(USER, 10)) == 3
    await h.press(staff, first, "req:set:1.erledigt")
    await file_request(h, user)
    # Five a day: close two more and file again.
    await deliver(h)
    for post in staff_posts(h)[1:3]:
        await h.press(staff, post, data_of(post, "done"))
    await file_request(h, user)
    assert len(await h.db.requests_of_user(USER, 10)) == 5
    await deliver(h)
    [refusal] = await h.send(user, "/beratung")
    assert refusal.text == h.texts("requests.limits.daily", max_day=5)
    # Tomorrow (local time) it works again.
    h.clock.advance(timedelta(hours=14))
    [intro] = await h.send(user, "/beratung")
    assert "Kommune" in intro.text


async def test_cancel_at_any_step_and_entry_points(h: Harness) -> None:
    user = h.user(USER)
    await start(h, user)
    await h.send(user, "Stadt Musterstadt")
    [cancelled] = await h.send(user, "/abbrechen")
    assert cancelled.text == h.texts("requests.form.cancelled")
    # Free text no longer goes into the form (but to the search).
    [reply] = await h.send(user, "Noch eine Zeile")
    assert "Schritt" not in reply.text and "Kommune" not in reply.text
    # The deep link and the main-menu button open the same form.
    [intro] = await h.send(user, "/start beratung")
    assert "Kommune" in intro.text
    [cancelled] = await h.press(user, intro, data_of(intro, "cancel"))
    assert cancelled.text == h.texts("requests.form.cancelled")
    menu = next(m for m in await h.send(user, "/start") if "Willkommen" in m.text)
    [intro] = await h.press(user, menu, "menu:beratung")
    assert "Kommune" in intro.text and intro.message_id == menu.message_id
    assert await h.db.requests_of_user(USER, 5) == []


async def test_remembered_land_is_marked_and_editing_returns_to_the_summary(h: Harness) -> None:
    user = h.user(USER)
    await h.db.set_user_land(USER, "BY", h.clock.now())
    await start(h, user)
    [land] = await h.send(user, "Markt Beispiel")
    assert "Zuletzt gewählt: Bayern" in land.text
    assert "✓ Bayern" in [b["text"] for b in land.buttons()]
    await h.send(user, "/abbrechen")
    summary = await fill_form(h, user, land="BY")
    [edit] = await h.press(user, summary, data_of(summary, "edit"))
    [ask] = await h.press(user, edit, data_of(edit, "field", "kommune"))
    assert "Kommune" in ask.text and data_of(ask, "summary")
    [summary] = await h.send(user, "Gemeinde Neuhausen")
    assert "Gemeinde Neuhausen" in summary.text and data_of(summary, "send")
    [edit] = await h.press(user, summary, data_of(summary, "edit"))
    [topics] = await h.press(user, edit, data_of(edit, "field", "topic"))
    [summary] = await h.press(user, topics, data_of(topics, "topic", "praxis"))
    assert "Begegnungen umsetzen" in summary.text


async def test_an_old_unfinished_form_expires_politely(h: Harness) -> None:
    user = h.user(USER)
    await start(h, user)
    h.clock.advance(timedelta(hours=25))
    [reply] = await h.send(user, "Stadt Musterstadt")
    assert reply.text == h.texts("requests.form.expired")
    [reply] = await h.send(user, "Stadt Musterstadt")  # the form is over; the text goes to the search again
    assert "Schritt" not in reply.text and reply.text != h.texts("requests.form.expired")


async def test_without_staff_chat_requests_are_stored_and_nothing_crashes(tmp_path: Path) -> None:
    async with harness(tmp_path, staff_chat_id=None) as h:
        user = h.user(USER)
        summary = await fill_form(h, user)
        [done] = await h.press(user, summary, data_of(summary, "send"))
        assert done.text == h.texts("requests.form.submitted_no_staff", number=1)
        assert await h.db.outbox_by_ref("request:1") == []
        [listing] = await h.send(user, "/anfragen")
        assert "#1" in listing.text
        [prompt] = await h.press(user, listing, data_of(listing, "reply", "1"))
        assert prompt.text == h.texts("requests.user.reply_prompt", number=1)
        [reply] = await h.send(user, "Eine Ergänzung")
        assert reply.text == h.texts("requests.user.reply_no_staff", number=1)
        await h.app.bot_data.requests.index.load(h.db)
        assert not any(c.method == "getChat" for c in h.api.calls)


def add_offer(app: App) -> None:
    """Stands in for the advice feature: an unanswered question offers the form with the question pre-filled."""

    async def unanswered(update: Update, context: Context) -> None:
        button = request_offer_button(context, "Wie beantragen wir Mittel beim DPJW für 2027?")
        await context.bot.send_message(
            update.effective_chat.id,  # type: ignore[union-attr]
            "Dazu habe ich nichts gefunden.",
            reply_markup=InlineKeyboardMarkup([[button]]),
        )
        raise ApplicationHandlerStop

    app.add_handler(CommandHandler("frage", unanswered), group=-3)


async def test_offer_after_an_unanswered_question_prefills_the_form(tmp_path: Path) -> None:
    async with harness(tmp_path, setup=add_offer) as h:
        user = h.user(USER)
        [offer] = await h.send(user, "/frage")
        [intro] = await h.press(user, offer, offer.buttons()[0]["callback_data"])
        assert "<b>Kommune</b>" in intro.text
        [land] = await h.send(user, "Stadt Musterstadt")
        [role] = await h.press(user, land, data_of(land, "land", "SN"))
        [topic] = await h.press(user, role, data_of(role, "role", "verwaltung"))
        [question] = await h.press(user, topic, data_of(topic, "topic", "foerderung"))
        assert "Wie beantragen wir Mittel beim DPJW für 2027?" in question.text
        [contact] = await h.press(user, question, data_of(question, "keepq"))
        assert "<b>Antwort</b>" in contact.text
        [privacy] = await h.press(user, contact, data_of(contact, "contact", "telegram"))
        [summary] = await h.press(user, privacy, data_of(privacy, "privacy"))
        await h.press(user, summary, data_of(summary, "send"))
        req = await h.db.get_request(1)
        assert req is not None and req.question == "Wie beantragen wir Mittel beim DPJW für 2027?"


async def test_plain_text_is_relayed_only_with_exactly_one_request_in_dialogue(h: Harness) -> None:
    user = h.user(USER)
    staff = h.user(STAFF, "Sabine")
    # A new request is not in dialogue yet: plain text is not taken.
    await file_request(h, user)
    await deliver(h)
    [search_answer] = await h.send(user, "Hallo, gibt es schon Neuigkeiten?")
    assert search_answer.text != h.texts("requests.user.reply_sent", number=1)
    assert (await h.db.request_history(1))[-1][0] == "submitted"
    first = staff_posts(h)[0]
    await h.press(staff, first, data_of(first, "claim"))
    await file_request(h, user, kommune="Zweite")
    await deliver(h)
    second = staff_posts(h)[1]
    await h.press(staff, second, data_of(second, "claim"))
    await deliver(h)
    staff_before = len(h.api.sent_to(STAFF_CHAT_ID))
    # Two in dialogue: ambiguous, so not relayed (the "Antworten" button picks the request).
    [search_answer] = await h.send(user, "Welche meinen Sie?")
    assert "weitergeleitet" not in search_answer.text
    await deliver(h)
    assert len(h.api.sent_to(STAFF_CHAT_ID)) == staff_before
    await h.press(staff, second, data_of(second, "done"))
    await deliver(h)
    [confirm] = await h.send(user, "Jetzt ist es eindeutig.")
    assert confirm.text == h.texts("requests.user.reply_sent", number=1)


async def test_blocked_requester_is_reported_to_the_staff(h: Harness) -> None:
    user = h.user(USER)
    staff = h.user(STAFF, "Sabine")
    await file_request(h, user)
    await deliver(h)
    [post] = staff_posts(h)
    h.api.fail = lambda call: (
        (403, {"error_code": 403, "description": "Forbidden: bot was blocked by the user"})
        if call.method == "sendMessage" and int(call.params["chat_id"]) == USER
        else None
    )
    await h.send(staff, "Ihre Antwort", chat=STAFF_CHAT, reply_to=post)
    await deliver(h)
    note = h.api.sent_to(STAFF_CHAT_ID)[-1]
    assert note.text == h.texts("requests.staff.undeliverable.blocked", number=1)
    assert not any(c.method == "setMessageReaction" for c in h.api.calls)


async def test_the_advice_offer_after_an_unanswered_question_prefills_the_form(h: Harness) -> None:
    user = h.user(USER)
    question = "Gibt es Zuschüsse für unseren Kochkurs mit Quantenphysik am Mond?"
    [miss] = await h.send(user, question)
    offer = next(
        b for b in miss.buttons() if b["text"] == h.texts("advice.buttons.consultation_with_question")
    )
    [intro] = await h.press(user, miss, offer["callback_data"])
    assert "<b>Kommune</b>" in intro.text
    [land] = await h.send(user, "Stadt Musterstadt")
    [role] = await h.press(user, land, data_of(land, "land", "BE"))
    [topic] = await h.press(user, role, data_of(role, "role", "sonstige"))
    [ask] = await h.press(user, topic, data_of(topic, "topic", "sonstiges"))
    assert question in ask.text
    [contact] = await h.press(user, ask, data_of(ask, "keepq"))
    [privacy] = await h.press(user, contact, data_of(contact, "contact", "telegram"))
    [summary] = await h.press(user, privacy, data_of(privacy, "privacy"))
    assert question in summary.text


async def test_answers_to_presses_fit_telegrams_200_character_alerts(tmp_path: Path) -> None:
    """An alert over 200 characters is refused by Telegram: the user would see nothing at all."""
    api = OfflineBotApi(strict=True)
    api.fail = telegram_limits
    async with harness(tmp_path, api=api, broadcast_rate=30) as h:
        user = h.user(USER)
        await start(h, user)
        [land] = await h.send(user, "Stadt Musterstadt")
        # A form button pressed after the form expired: explained in place of the old form message.
        h.clock.advance(timedelta(hours=25))
        [expired] = await h.press(user, land, data_of(land, "land", "BY"))
        assert expired.message_id == land.message_id
        assert expired.text == h.texts("requests.form.expired") and data_of(expired, "home")
        assert not any(c.method == "answerCallbackQuery" and c.params.get("text") for c in api.calls[-3:])
        # A staff member with a long name has the request: the other one's alert is cut to fit, not lost.
        # Telegram allows 64 characters for the first and 64 for the last name.
        long_named = {
            **h.user(STAFF, ("Maximiliane-Josephine " * 3)[:64]),
            "last_name": "von und zu " + "H" * 53,
        }
        await file_request(h, user)
        await deliver(h)
        [post] = staff_posts(h)
        claim = data_of(post, "claim")
        await h.press(long_named, post, claim)
        await h.press(h.user(OTHER_STAFF, "Rita"), post, claim)
        alert = h.last_answer_text()
        assert alert is not None and alert.startswith("Anfrage #1 hat bereits Maximiliane")
        assert len(alert) <= 200 and alert.endswith("…")
        answered = [c for c in api.calls if c.method == "answerCallbackQuery"]
        assert answered[-1].params.get("text") == alert


async def test_an_anonymous_admin_of_the_staff_group_may_use_offen_and_answer(h: Harness) -> None:
    """Telegram sends an anonymous admin's messages from the group itself (user: GroupAnonymousBot)."""
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
    user = h.user(USER)
    await file_request(h, user, kommune="Stadt Anonym")
    await deliver(h)
    [post] = staff_posts(h)
    [listing] = await h.send(anonymous, "/offen", chat=STAFF_CHAT, extra={"sender_chat": STAFF_CHAT})
    assert "Stadt Anonym" in listing.text
    await h.send(
        anonymous, "Antwort vom Team", chat=STAFF_CHAT, reply_to=post, extra={"sender_chat": STAFF_CHAT}
    )
    await deliver(h)
    assert "Antwort vom Team" in h.api.sent_to(USER)[-1].text
    # The same bot account without the group as sender (e.g. another chat's anonymous admin) is no staff.
    await h.send(anonymous, "/offen", chat=STAFF_CHAT)
    assert h.api.sent_to(STAFF_CHAT_ID)[-1].message_id == listing.message_id


async def test_the_form_cannot_be_opened_in_a_group_where_it_would_swallow_staff_replies(h: Harness) -> None:
    user, staff = h.user(USER), h.user(STAFF, "Sabine")
    await file_request(h, user)
    await deliver(h)
    [post] = staff_posts(h)
    for forged in ("menu:beratung", "req:new:abcd", "req:reply:1"):
        await h.press(staff, post, forged)
        assert h.last_answer_text() == h.texts("requests.form.private_only"), forged
    assert h.api.sent_to(STAFF_CHAT_ID) == [post]
    await h.send(staff, "Guten Tag, wir kümmern uns.", chat=STAFF_CHAT, reply_to=post)
    await deliver(h)
    assert "wir kümmern uns" in h.api.sent_to(USER)[-1].text


async def test_a_staff_member_removed_from_the_group_loses_the_buttons_and_the_relay(h: Harness) -> None:
    user = h.user(USER)
    sabine = h.user(STAFF, "Sabine")
    await file_request(h, user)
    await deliver(h)
    [post] = staff_posts(h)
    await h.press(sabine, post, data_of(post, "claim"))
    # Removed from the group: within a minute at most (the membership answer is cached that long) she is out.
    h.api.member_status[STAFF] = "kicked"
    h.clock.advance(timedelta(seconds=61))
    await h.press(sabine, post, data_of(post, "done"))
    assert h.last_answer_text() == h.texts("requests.staff.not_staff")
    await deliver(h)  # the claim's notice to the requester
    before = len(h.api.sent_to(USER))
    [refusal] = await h.send(sabine, "Noch eine Antwort", chat=STAFF_CHAT, reply_to=post)
    assert refusal.text == h.texts("requests.staff.not_staff")
    await deliver(h)
    assert len(h.api.sent_to(USER)) == before
    req = await h.db.get_request(1)
    assert req is not None and req.status == "in_bearbeitung"
