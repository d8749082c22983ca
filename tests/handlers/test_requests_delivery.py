"""Requests reach the staff group even when Telegram refuses part of the way (no topic rights, long names and
texts), and a staff post that cannot be delivered is visible, reported, and posted again later."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.offline import Call, OfflineBotApi
from bot.telegram_html import visible_length
from tests.handlers.requests_support import (
    STAFF,
    STAFF_CHAT,
    USER,
    calls,
    data_of,
    deliver,
    file_request,
    fill_form,
    reply_target,
    staff_posts,
    telegram_limits,
    utf16_length,
)
from tests.harness import ADMIN_ID, STAFF_CHAT_ID, Harness, harness


async def test_without_the_right_to_create_topics_the_request_is_posted_into_the_forum_itself(
    tmp_path: Path,
) -> None:
    """A forum group where the bot may not manage topics: every request used to fail for good, unseen."""
    api = OfflineBotApi(strict=True, forum_chats=frozenset({STAFF_CHAT_ID}))
    api.fail = lambda call: (
        (400, {"error_code": 400, "description": "Bad Request: not enough rights to create a topic"})
        if call.method == "createForumTopic"
        else None
    )
    async with harness(tmp_path, api=api, broadcast_rate=30) as h:
        user, staff = h.user(USER, "Anna"), h.user(STAFF, "Sabine")
        await file_request(h, user)
        await deliver(h)
        [post] = staff_posts(h)
        assert post.thread_id is None and "Antworten Sie auf diese Nachricht" in post.text
        [row] = await h.db.outbox_by_ref("request:1")
        assert row.state == "sent"
        # Staff reply to it in the group, as in a plain group; the answer reaches the requester.
        await h.send(staff, "Guten Tag aus dem Team!", chat=STAFF_CHAT, reply_to=post)
        await deliver(h)
        assert "Guten Tag aus dem Team!" in h.api.sent_to(USER)[-1].text


async def test_a_long_kommune_with_emoji_still_gets_its_topic_and_the_rename_fits(tmp_path: Path) -> None:
    """Topic names are at most 128 characters as Telegram counts them (UTF-16): an emoji counts twice."""
    api = OfflineBotApi(strict=True, forum_chats=frozenset({STAFF_CHAT_ID}))
    api.fail = telegram_limits
    async with harness(tmp_path, api=api, broadcast_rate=30) as h:
        kommune = "Gemeinde " + "🏰" * 111
        await file_request(h, h.user(USER), kommune=kommune)
        await deliver(h)
        [topic] = calls(h, "createForumTopic")
        assert topic["name"].startswith("Anfrage #1 – Gemeinde 🏰") and utf16_length(topic["name"]) <= 128
        [post] = staff_posts(h)
        assert post.thread_id is not None
        await h.press(h.user(STAFF), post, data_of(post, "done"))
        [renamed] = calls(h, "editForumTopic")
        assert renamed["name"].startswith("✅ Anfrage #1") and utf16_length(renamed["name"]) <= 128


async def test_the_longest_request_fits_every_message_it_appears_in(tmp_path: Path) -> None:
    """2000 characters of question (emoji count twice for Telegram), the longest Kommune, names and address: the
    summary is one message (edited in place), the staff post is accepted, /offen and /anfragen too."""
    api = OfflineBotApi(strict=True, forum_chats=frozenset({STAFF_CHAT_ID}))
    api.fail = telegram_limits
    async with harness(tmp_path, api=api, broadcast_rate=30) as h:
        user = h.user(USER, "Å" * 64)
        staff = h.user(STAFF, "🙂" * 64)
        await h.send(user, "/beratung")
        [land] = await h.send(user, "Stadt " + "🏰" * 114)
        [role] = await h.press(user, land, data_of(land, "land", "MV"))
        [topic] = await h.press(user, role, data_of(role, "role", "traeger"))
        [ask] = await h.press(user, topic, data_of(topic, "topic", "sonstiges"))
        assert "<b>Frage</b>" in ask.text
        [refused] = await h.send(user, "🙂" * 1001)
        assert refused.text == h.texts("requests.invalid.question_long", max=2000, length=2002)
        [contact] = await h.send(user, "🙂" * 1000)
        [email] = await h.press(user, contact, data_of(contact, "contact", "email"))
        assert "<b>E-Mail-Adresse</b>" in email.text
        [privacy] = await h.send(user, "a" * 64 + "@" + "b" * 60 + "." + "c" * 60 + ".de")
        [summary] = await h.press(user, privacy, data_of(privacy, "privacy"))
        assert summary.message_id == privacy.message_id  # edited in place: it fits one message
        await h.press(user, summary, data_of(summary, "send"))
        await deliver(h)
        [post] = staff_posts(h)
        await h.press(staff, post, data_of(post, "claim"))
        await h.send(staff, "/offen", chat=STAFF_CHAT)
        await h.send(user, "/anfragen")
        await deliver(h)  # the claim's notice to the requester
        for message in h.api.sent_to(USER) + h.api.sent_to(STAFF_CHAT_ID):
            assert visible_length(message.text) <= 4096
        assert [r.state for r in await h.db.outbox_by_ref("request:1")] == ["sent"] * 2
        assert "bei " + "🙂" * 64 in post.text


async def test_a_closed_topic_does_not_swallow_the_requesters_answer(tmp_path: Path) -> None:
    """Someone closed the request's topic and the bot may no longer post there: the answer goes into the group."""
    api = OfflineBotApi(strict=True, forum_chats=frozenset({STAFF_CHAT_ID}))
    async with harness(tmp_path, api=api, broadcast_rate=30) as h:
        user, staff = h.user(USER, "Anna"), h.user(STAFF, "Sabine")
        await file_request(h, user)
        await deliver(h)
        [post] = staff_posts(h)
        await h.send(staff, "Hallo aus dem Team!", chat=STAFF_CHAT, thread_id=post.thread_id)
        await deliver(h)
        api.fail = lambda call: (
            (400, {"error_code": 400, "description": "Bad Request: TOPIC_CLOSED"})
            if call.method == "sendMessage" and call.params.get("message_thread_id") is not None
            else None
        )
        await h.send(user, "Danke, hier noch unsere Eckdaten.")
        await deliver(h)
        relayed = h.api.sent_to(STAFF_CHAT_ID)[-1]
        assert "Eckdaten" in relayed.text and relayed.thread_id is None
        assert [r.state for r in await h.db.outbox_by_ref("request:1") if r.kind == "request_note"] == [
            "sent"
        ]


def kicked_from(chat_id: int) -> Callable[[Call], tuple[int, dict[str, Any]] | None]:
    """Every call about ``chat_id`` is refused as after the bot was removed from the group."""

    def fail(call: Call) -> tuple[int, dict[str, Any]] | None:
        if call.params.get("chat_id") is not None and int(call.params["chat_id"]) == chat_id:
            description = "Forbidden: bot was kicked from the supergroup chat"
            return 403, {"error_code": 403, "description": description}
        return None

    return fail


async def tick(h: Harness) -> None:
    job = h.job("request_reminders")
    await job.run(h.app)
    await deliver(h)


async def test_a_staff_post_telegram_refuses_is_reported_listed_and_posted_again(tmp_path: Path) -> None:
    """The bot was removed from the staff group: the request is stored, the admins hear of it at once, /offen
    marks it, and once the bot is back the next reminder posts the whole request (not a bare reminder)."""
    api = OfflineBotApi(strict=True)
    api.fail = kicked_from(STAFF_CHAT_ID)
    async with harness(tmp_path, api=api, broadcast_rate=30, request_reminder_hours=6) as h:
        user, staff, admin = h.user(USER, "Anna"), h.user(STAFF, "Sabine"), h.user(ADMIN_ID, "Admin")
        summary = await fill_form(h, user, kommune="Stadt <Nirgendwo>")
        [done] = await h.press(user, summary, data_of(summary, "send"))
        assert done.text == h.texts("requests.form.submitted", number=1)
        await deliver(h)
        [row] = [r for r in await h.db.outbox_by_ref("request:1") if r.kind == "request_post"]
        assert row.state == "failed" and row.error is not None and "kicked" in row.error
        # The admins are told in private, without the requester's data.
        [notice] = h.api.sent_to(ADMIN_ID)
        assert notice.text == h.texts("requests.admin.post_failed", number=1, error=row.error, hours=6)
        assert "bot was kicked" in notice.text
        assert "Nirgendwo" not in notice.text and "Anna" not in notice.text
        # /offen (in private: the bot cannot answer in the group) shows it as not yet in the group.
        [listing] = await h.send(admin, "/offen")
        assert "#1" in listing.text and h.texts("requests.staff.open_not_posted") in listing.text
        # The bot is back in the group: the next reminder posts the request itself, then the reminder to it.
        api.fail = None
        h.clock.advance(timedelta(hours=6))
        await tick(h)
        [post] = staff_posts(h)
        assert "Stadt &lt;Nirgendwo&gt;" in post.text and data_of(post, "claim")
        reminder = h.api.sent_to(STAFF_CHAT_ID)[-1]
        assert reminder.text.startswith("⏰")
        sent = [c for c in calls(h, "sendMessage") if int(c["chat_id"]) == STAFF_CHAT_ID]
        assert reply_target(sent[-1]) == post.message_id
        [listing] = await h.send(admin, "/offen")
        assert h.texts("requests.staff.open_not_posted") not in listing.text
        # From here on it is an ordinary request: the staff reply reaches the requester.
        await h.send(staff, "Guten Tag, wir sind wieder da!", chat=STAFF_CHAT, reply_to=post)
        await deliver(h)
        assert "wir sind wieder da" in h.api.sent_to(USER)[-1].text
        # A further period: one reminder, no second copy of the request.
        h.clock.advance(timedelta(hours=6))
        await tick(h)
        assert len(staff_posts(h)) == 1


async def test_a_corrected_staff_chat_id_gets_the_requests_the_wrong_one_could_not(tmp_path: Path) -> None:
    wrong = -1009999999999
    api = OfflineBotApi(strict=True)
    api.fail = lambda call: (
        (400, {"error_code": 400, "description": "Bad Request: chat not found"})
        if call.params.get("chat_id") is not None and int(call.params["chat_id"]) == wrong
        else None
    )
    async with harness(tmp_path, api=api, broadcast_rate=30, staff_chat_id=wrong) as first:
        await file_request(first, first.user(USER))
        await deliver(first)
        rows = await first.db.outbox_by_ref("request:1")
        assert [(r.kind, r.state) for r in rows] == [("request_post", "failed"), ("message", "sent")]
    async with harness(tmp_path, api=api, broadcast_rate=30) as second:
        second.clock.advance(timedelta(hours=24))
        await tick(second)
        [post] = staff_posts(second)
        assert "Anfrage #1" in post.text
        req = await second.db.get_request(1)
        assert (
            req is not None and req.staff_chat_id == STAFF_CHAT_ID and req.staff_message_id == post.message_id
        )


async def test_a_requesters_answer_the_staff_group_refuses_is_reported_back_to_them(tmp_path: Path) -> None:
    """Told "weitergeleitet", but the group refused it for good: the requester must not wait for nothing."""
    api = OfflineBotApi(strict=True)
    async with harness(tmp_path, api=api, broadcast_rate=30) as h:
        user, staff = h.user(USER, "Anna"), h.user(STAFF, "Sabine")
        await file_request(h, user)
        await deliver(h)
        [post] = staff_posts(h)
        await h.send(staff, "Wie viele Jugendliche fahren mit?", chat=STAFF_CHAT, reply_to=post)
        await deliver(h)
        api.fail = kicked_from(STAFF_CHAT_ID)
        [confirm] = await h.send(user, "Es sind 20 Jugendliche.")
        assert confirm.text == h.texts("requests.user.reply_sent", number=1)
        await deliver(h)
        assert h.api.sent_to(USER)[-1].text == h.texts("requests.user.relay_failed", number=1)
        notes = [r for r in await h.db.outbox_by_ref("request:1") if r.kind == "request_note"]
        assert [r.state for r in notes] == ["failed"]
