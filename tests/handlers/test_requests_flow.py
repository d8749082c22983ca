"""A consultation request from the form to the staff group and back, as requester and staff see it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.db import NewRequest
from bot.offline import OfflineBotApi
from bot.requests import Submitted, submit_request
from bot.roles import Role
from tests.handlers.requests_support import (
    QUESTION,
    STAFF,
    STAFF_CHAT,
    USER,
    assert_valid_html,
    calls,
    data_of,
    deliver,
    file_request,
    fill_form,
    reply_target,
    staff_posts,
)
from tests.harness import ADMIN_ID, STAFF_CHAT_ID, Harness, harness


@pytest.fixture
async def plain(tmp_path: Path) -> AsyncIterator[Harness]:
    """The staff chat is an ordinary supergroup: one message per request, staff reply to it."""
    async with harness(tmp_path, broadcast_rate=30) as h:
        yield h


@pytest.fixture
async def forum(tmp_path: Path) -> AsyncIterator[Harness]:
    """The staff chat is a forum: one topic per request."""
    api = OfflineBotApi(strict=True, forum_chats=frozenset({STAFF_CHAT_ID}))
    async with harness(tmp_path, api=api, broadcast_rate=30) as h:
        yield h


async def test_confirmed_form_is_stored_numbered_and_posted_to_the_staff_group(plain: Harness) -> None:
    h = plain
    user = h.user(USER, "Anna")
    summary = await fill_form(h, user, contact=("email", "anna@musterstadt.de"))
    assert "Stadt Musterstadt" in summary.text and "Niedersachsen" in summary.text
    assert "anna@musterstadt.de" in summary.text and QUESTION in summary.text
    [done] = await h.press(user, summary, data_of(summary, "send"))
    assert done.text.startswith("<b>Vielen Dank! Ihre Anfrage hat die Nummer #1.</b>")
    req = await h.db.get_request(1)
    assert req is not None
    assert (req.user_id, req.kommune, req.bundesland, req.role, req.topic) == (
        USER,
        "Stadt Musterstadt",
        "NI",
        "jugendamt",
        "foerderung",
    )
    assert (req.contact_kind, req.contact_value, req.status, req.question) == (
        "email",
        "anna@musterstadt.de",
        "neu",
        QUESTION,
    )
    # The staff notification was an outbox row committed with the request, before the user was told.
    [row] = await h.db.outbox_by_ref("request:1")
    assert row.kind == "request_post" and row.chat_id == STAFF_CHAT_ID
    await deliver(h)
    [post] = staff_posts(h)
    assert "Anfrage #1" in post.text and "Stadt Musterstadt" in post.text and QUESTION in post.text
    assert [b["text"] for b in post.buttons()] == ["🙋 Übernehmen", "🔄 Status ändern", "✅ Erledigt"]
    req = await h.db.get_request(1)
    assert req is not None and req.staff_message_id == post.message_id and req.staff_thread_id is None
    # The user's Bundesland is remembered for the next form and every other feature.
    stored = await h.db.get_user(USER)
    assert stored is not None and stored.bundesland == "NI"


async def test_whole_dialogue_in_a_plain_group(plain: Harness) -> None:
    h = plain
    user = h.user(USER, "Anna")
    staff = h.user(STAFF, "Sabine")
    number = await file_request(h, user)
    await deliver(h)
    [post] = staff_posts(h)

    # Staff claim it: the post shows who has it, the requester is told.
    await h.press(staff, post, data_of(post, "claim"))
    await deliver(h)
    assert "in Bearbeitung · bei Sabine" in post.text
    assert h.last_answer_text() == "Anfrage #1: in Bearbeitung"
    notice = h.api.sent_to(USER)[-1]
    assert "Ihre Anfrage #1 ist jetzt <b>in Bearbeitung</b>" in notice.text

    # Staff reply to the request message: relayed, marked as the team's answer, with an "Antworten" button.
    await h.send(staff, "Guten Tag! Haben Sie schon Kontakt zum DPJW?", chat=STAFF_CHAT, reply_to=post)
    await deliver(h)
    answer = h.api.sent_to(USER)[-1]
    assert "Antwort des Beratungsteams" in answer.text and "Kontakt zum DPJW?" in answer.text
    assert data_of(answer, "reply", str(number))
    # The staff see their message arrived (a 👍 on it once the requester has it).
    [reaction] = calls(h, "setMessageReaction")
    assert int(reaction["chat_id"]) == STAFF_CHAT_ID

    # A plain message from the requester (exactly one request in dialogue) goes back as a reply to the post.
    [confirm] = await h.send(user, "Noch nicht – können Sie uns helfen?")
    assert confirm.text == h.texts("requests.user.reply_sent", number=number)
    await deliver(h)
    relayed = h.api.sent_to(STAFF_CHAT_ID)[-1]
    assert "Nachricht von Anna" in relayed.text and "können Sie uns helfen?" in relayed.text
    send = [c for c in calls(h, "sendMessage") if int(c["chat_id"]) == STAFF_CHAT_ID][-1]
    assert reply_target(send) == post.message_id

    # Staff may also reply to the relayed message; it reaches the same requester.
    await h.send(staff, "Ja, gern: hier ist der Link zur Partnerbörse.", chat=STAFF_CHAT, reply_to=relayed)
    await deliver(h)
    answer = h.api.sent_to(USER)[-1]
    assert "Partnerbörse" in answer.text

    # The requester answers with the button this time.
    await h.press(user, answer, data_of(answer, "reply", str(number)))
    prompt = h.api.sent_to(USER)[-1]
    assert prompt.text == h.texts("requests.user.reply_prompt", number=number)
    await h.send(user, "Danke, das hilft!")
    await deliver(h)
    assert "Danke, das hilft!" in h.api.sent_to(STAFF_CHAT_ID)[-1].text

    # Status: waiting for the requester, then closed; the requester hears of each change.
    await h.press(staff, post, data_of(post, "status"))
    assert data_of(post, "set", "wartet")
    await h.press(staff, post, data_of(post, "set", "wartet"))
    await deliver(h)
    assert "wartet auf Ihre Rückmeldung" in h.api.sent_to(USER)[-1].text
    assert "wartet auf Rückmeldung" in post.text
    # The requester's answer puts it back with the staff, and the requester's confirmation says so.
    sent = await h.send(user, "Hier sind die Angaben: 20 Jugendliche, 14 bis 17 Jahre.")
    [confirm] = [m for m in sent if m.chat_id == USER]
    assert confirm.text == h.texts("requests.user.reply_sent_back", number=number)
    assert "in Bearbeitung · bei Sabine" in post.text
    await deliver(h)
    # "Antworten" and then /abbrechen sends nothing.
    staff_messages = len(h.api.sent_to(STAFF_CHAT_ID))
    await h.press(user, answer, data_of(answer, "reply", str(number)))
    [cancelled] = await h.send(user, "/abbrechen")
    assert cancelled.text == h.texts("requests.user.reply_cancelled")
    await deliver(h)
    assert len(h.api.sent_to(STAFF_CHAT_ID)) == staff_messages
    await h.press(staff, post, data_of(post, "done"))
    await deliver(h)
    closed, rating_prompt = h.api.sent_to(USER)[-2:]
    assert "ist <b>erledigt</b>" in closed.text
    assert [b["text"] for b in rating_prompt.buttons()] == ["1", "2", "3", "4", "5"]

    # The rating is stored once.
    five, one = data_of(rating_prompt, "rate", "5"), data_of(rating_prompt, "rate", "1")
    [thanks] = [m for m in await h.press(user, rating_prompt, five) if m.chat_id == USER]
    assert h.last_answer_text() == h.texts("requests.user.rated_toast")
    assert thanks.text == h.texts("requests.user.rated", number=number, rating=5) and not thanks.buttons()
    await h.press(user, rating_prompt, one)
    assert h.last_answer_text() == h.texts("requests.user.already_rated")
    req = await h.db.get_request(number)
    assert req is not None and req.status == "erledigt" and req.rating == 5 and req.closed_at is not None
    assert "Bewertung:</b> 5 von 5" in post.text
    history = [(action, status) for action, status, _ in await h.db.request_history(number)]
    assert history == [
        ("submitted", "neu"),
        ("claimed", "in_bearbeitung"),
        ("to_user", "in_bearbeitung"),
        ("to_staff", "in_bearbeitung"),
        ("to_user", "in_bearbeitung"),
        ("to_staff", "in_bearbeitung"),
        ("status", "wartet"),
        ("status", "in_bearbeitung"),
        ("to_staff", "in_bearbeitung"),
        ("status", "erledigt"),
        ("rated", "erledigt"),
    ]
    assert_valid_html(h.api.sent_to(USER) + h.api.sent_to(STAFF_CHAT_ID))


async def test_whole_dialogue_in_a_forum_group(forum: Harness) -> None:
    h = forum
    user = h.user(USER, "Anna")
    staff = h.user(STAFF, "Sabine")
    number = await file_request(h, user, kommune="Landkreis Beispiel")
    await deliver(h)
    [topic] = calls(h, "createForumTopic")
    assert topic["name"] == "Anfrage #1 – Landkreis Beispiel"
    [post] = staff_posts(h)
    assert post.thread_id is not None
    req = await h.db.get_request(number)
    assert req is not None and req.staff_thread_id == post.thread_id
    assert "Schreiben Sie in diesem Thema" in post.text

    # Writing in the topic is enough; a new request is taken by whoever answers first.
    await h.send(staff, "Hallo aus dem Team!", chat=STAFF_CHAT, thread_id=post.thread_id)
    await deliver(h)
    status_notice, answer = h.api.sent_to(USER)[-2:]
    assert "in Bearbeitung" in status_notice.text and "Hallo aus dem Team!" in answer.text
    req = await h.db.get_request(number)
    assert req is not None and req.claimed_by == STAFF and req.status == "in_bearbeitung"

    # The requester's answer lands in the same topic.
    await h.send(user, "Hallo zurück, wir planen eine Begegnung mit Polen.")
    await deliver(h)
    relayed = h.api.sent_to(STAFF_CHAT_ID)[-1]
    assert relayed.thread_id == post.thread_id and "Begegnung mit Polen" in relayed.text

    # Internal notes stay in the team.
    before = len(h.api.sent_to(USER))
    await h.send(staff, "#intern Wer kennt jemanden beim DPJW?", chat=STAFF_CHAT, thread_id=post.thread_id)
    await deliver(h)
    assert len(h.api.sent_to(USER)) == before

    # Closing renames the topic; a later staff message is not relayed and the staff are told why.
    await h.press(staff, post, data_of(post, "done"))
    await deliver(h)
    assert any(c.get("name") == "✅ Anfrage #1 – Landkreis Beispiel" for c in calls(h, "editForumTopic"))
    closing_messages = len(h.api.sent_to(USER))
    await h.send(staff, "Noch ein Nachtrag", chat=STAFF_CHAT, thread_id=post.thread_id)
    await deliver(h)
    assert len(h.api.sent_to(USER)) == closing_messages
    assert h.api.sent_to(STAFF_CHAT_ID)[-1].text == h.texts("requests.staff.relay_closed", number=number)
    # Reopening works through "Status ändern".
    await h.press(staff, post, data_of(post, "status"))
    await h.press(staff, post, data_of(post, "set", "in_bearbeitung"))
    req = await h.db.get_request(number)
    assert req is not None and req.status == "in_bearbeitung" and req.closed_at is None
    assert_valid_html(h.api.sent_to(USER) + h.api.sent_to(STAFF_CHAT_ID))


async def test_a_failed_send_after_creating_the_topic_never_creates_a_second_topic(forum: Harness) -> None:
    h = forum
    failures = {"n": 0}

    def fail_first_post(call):  # type: ignore[no-untyped-def]
        if (
            call.method == "sendMessage"
            and int(call.params["chat_id"]) == STAFF_CHAT_ID
            and failures["n"] < 2
        ):
            failures["n"] += 1
            return 502, {"error_code": 502, "description": "Bad Gateway"}
        return None

    h.api.fail = fail_first_post
    await file_request(h, h.user(USER))
    for _ in range(3):
        await deliver(h)
        h.clock.advance(__import__("datetime").timedelta(minutes=5))
    await deliver(h)
    assert len(calls(h, "createForumTopic")) == 1
    [post] = staff_posts(h)
    req = await h.db.get_request(1)
    assert (
        req is not None and req.staff_message_id == post.message_id and post.thread_id == req.staff_thread_id
    )


async def test_user_answer_from_anfragen_and_list(plain: Harness) -> None:
    h = plain
    user = h.user(USER)
    await file_request(h, user)
    await file_request(h, user, topic="praxis")
    await deliver(h)
    [listing] = await h.send(user, "/anfragen")
    assert listing.text.index("#2") < listing.text.index("#1")  # newest first
    assert "Status: <b>neu</b>" in listing.text
    [prompt] = await h.press(user, listing, data_of(listing, "reply", "1"))
    assert prompt.text == h.texts("requests.user.reply_prompt", number=1)
    await h.send(user, "Ergänzung: Wir sind 20 Jugendliche.")
    await deliver(h)
    staff_side = h.api.sent_to(STAFF_CHAT_ID)
    assert "Ergänzung: Wir sind 20 Jugendliche." in staff_side[-1].text
    assert (await h.db.request_history(1))[-1][0] == "to_staff"


async def test_open_list_for_staff_oldest_first_with_who_has_them(plain: Harness) -> None:
    h = plain
    user = h.user(USER)
    staff = h.user(STAFF, "Sabine")
    await file_request(h, user, kommune="Erste Kommune")
    h.clock.advance(__import__("datetime").timedelta(hours=1))
    await file_request(h, user, kommune="Zweite Kommune")
    await deliver(h)
    first_post = staff_posts(h)[0]
    await h.press(staff, first_post, data_of(first_post, "claim"))
    await h.send(staff, "/offen", chat=STAFF_CHAT)
    listing = h.api.sent_to(STAFF_CHAT_ID)[-1]
    assert listing.text.index("Erste Kommune") < listing.text.index("Zweite Kommune")
    assert "bei Sabine" in listing.text and "noch von niemandem übernommen" in listing.text
    assert "https://t.me/c/1234567890/" in listing.text


async def test_open_list_counts_every_open_request_even_beyond_the_fifty_shown(tmp_path: Path) -> None:
    async with harness(tmp_path, broadcast_rate=30, staff_chat_id=None) as h:
        for n in range(52):
            new = NewRequest(
                user_id=10_000 + n,
                requester_name=f"Person {n}",
                form_token=f"{n}:x",
                kommune=f"Gemeinde {n:02d}",
                bundesland="NI",
                role="jugendamt",
                topic="foerderung",
                question=QUESTION,
                contact_kind="telegram",
                contact_value=None,
                privacy_ack_at=h.clock.now(),
            )
            assert isinstance(
                await submit_request(h.db, new, h.clock.now(), h.app.bot_data.settings.tz, None), Submitted
            )
            h.clock.advance(timedelta(minutes=1))
        await h.db.grant_role(STAFF, Role.STAFF, ADMIN_ID, h.clock.now(), "user_id")
        listing = await h.send(h.user(STAFF), "/offen")
        text = "\n".join(m.text for m in listing)
        assert text.startswith("<b>Offene Anfragen (52)</b>")
        assert h.texts("requests.staff.open_more", shown=50) in text
        assert "Gemeinde 00" in text and "Gemeinde 49" in text and "Gemeinde 50" not in text
