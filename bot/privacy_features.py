"""Privacy rules of the features merged before the registry existed (up to the guided tools): their tables,
erase and export hooks and retention rules, in one place (later features register their own in their
``register(app)``).

Consultation requests need more than table rules. Erasing a requester deletes every outbox row about their
requests (posts, notes and relays still on their way carry their words), blanks the bot's messages about them
in the staff chat (the post, relayed notes, the forum topic's name) and tells the staff that an open request was
withdrawn — without any detail.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from telegram.ext import ExtBot

from bot import outbox
from bot.db import OutboxRow
from bot.misses import erase_misses
from bot.outbox import Deliverer
from bot.privacy import Erasure, Link, Parent, PersonalTable, PrivacyRegistry
from bot.retention import purge_inbox_rows, reduce_announcement_ledgers
from bot.telegram_html import html_to_plain

if TYPE_CHECKING:
    from bot.context import BotData

REDACT_KIND = "privacy_redact"  # edit a bot message (or rename a forum topic) in the staff chat
REFRESH_KIND = "privacy_refresh_request"  # show a request's staff post again, without the erased staff member


async def erase_unanswered_questions(erasure: Erasure) -> None:
    """The questions the user asked that found no answer: matched by the keyed hash stored with them."""
    await erase_misses(erasure.tx, erasure.services.db, erasure.user_id)


async def erase_set_aside_updates(erasure: Erasure) -> None:
    """Updates the intake set aside (they hold what was sent, as sent) from or to the user."""
    await erasure.tx.execute(
        "DELETE FROM inbox WHERE state = 'set_aside' AND EXISTS ("
        "SELECT 1 FROM json_tree(inbox.payload) WHERE key = 'id' AND type = 'integer' AND atom = ?)",
        (erasure.user_id,),
    )


def register_feature_tables(privacy: PrivacyRegistry) -> None:
    """The tables, hooks and retention rules of the features merged before the registry existed."""
    subject, actor = Link.SUBJECT, Link.ACTOR
    privacy.sections(
        ("advice_ratings", {"user_id": subject}, ("article_id", "helpful", "rated_at")),
        (
            "events",
            {"created_by": actor, "updated_by": actor},
            ("id", "title", "starts_at", "state", "created_at", "updated_at"),
        ),
        ("event_follows", {"user_id": subject}, ("event_id", "created_at")),
        ("deadline_follows", {"user_id": subject}, ("programme", "created_at")),
        (
            "reminders",
            {"user_id": subject},
            ("subject", "target_at", "lead_days", "due_at", "state", "done_at"),
        ),
        (
            "subscriptions",
            {"user_id": subject},
            ("announcements", "event_reminders", "deadline_reminders", "updated_at", "ended"),
        ),
        ("subscription_topics", {"user_id": subject}, ("topic",)),
        (
            "role_invitations",
            {"created_by": actor, "used_by": actor},
            ("role", "created_at", "expires_at", "used_at"),
        ),
        (
            "announcements",
            {"created_by": actor},
            ("id", "created_at", "body", "state", "send_at", "finished_at", "recipients"),
        ),
        (
            "standort_results",
            {"user_id": subject},
            ("id", "created_at", "kommune", "kommune_type", "bundesland", "answers", "stage", "score"),
        ),
    )
    # Misses are stored without a user id; they still expire.
    privacy.purge("advice_misses", older_than="created_at", days=lambda s: s.retention_miss_days)
    privacy.on_erase(erase_unanswered_questions)
    privacy.on_erase(erase_set_aside_updates)
    privacy.retention("announcement ledgers", reduce_announcement_ledgers)
    privacy.retention("inbox", purge_inbox_rows)
    privacy.table(
        PersonalTable(
            "requests",
            label="privacy.sections.requests",
            ids={"user_id": Link.SUBJECT, "claimed_by": Link.ACTOR},
            clear_with={"claimed_by": ("claimed_by_name",)},  # the staff member's name goes with their id
            export=(
                "id",
                "requester_name",
                "kommune",
                "bundesland",
                "role",
                "topic",
                "question",
                "contact_kind",
                "contact_value",
                "privacy_ack_at",
                "status",
                "created_at",
                "updated_at",
                "closed_at",
                "rating",
                "rated_at",
            ),
        )
    )
    privacy.table(
        PersonalTable(
            "request_history",
            label="privacy.sections.request_history",
            ids={"changed_by": Link.ACTOR},
            parent=Parent("request_id", "requests"),
            export=("request_id", "action", "status", "created_at"),
        )
    )
    privacy.table(
        PersonalTable(
            "request_messages",
            label="privacy.sections.request_messages",
            # The bot's own messages about a request in the staff chat (a staff reply to one reaches the
            # requester); the erase hook reads them first to blank those messages, then they go with the request.
            parent=Parent("request_id", "requests"),
            not_user_ids={"chat_id": "the staff group's chat, never a person's"},
            export=("request_id", "message_id"),
        )
    )
    privacy.on_erase(withdraw_requests)
    privacy.on_erase(forget_staff_member)
    privacy.after_erase(refresh_relay_index)
    privacy.on_export(export_request_messages)
    privacy.purge(
        "requests",
        older_than="closed_at",
        days=lambda s: s.retention_request_days,
        where={"status": ("erledigt",)},
    )


async def withdraw_requests(erasure: Erasure) -> None:
    """Inside the erase transaction, before the request rows go: staff views blanked, open requests withdrawn."""
    services, tx = erasure.services, erasure.tx
    texts, db = services.texts, services.db
    for trace in await db.request_traces(tx, erasure.user_id):
        await db.delete_outbox_ref(tx, f"request:{trace.id}")
        chat_id = trace.staff_chat_id
        if chat_id is None:
            continue  # never reached the staff
        blank = texts("privacy.staff.redacted", number=trace.id)
        messages = [m for m in trace.messages if m[0] == chat_id]
        if trace.staff_message_id is not None:
            messages.insert(0, (chat_id, trace.staff_message_id))
        for target_chat, message_id in messages:
            await db.enqueue(
                tx,
                kind=REDACT_KIND,
                chat_id=target_chat,
                payload={"message_id": message_id, "text": blank},
                now=erasure.now,
            )
        if trace.staff_thread_id is not None:
            await db.enqueue(
                tx,
                kind=REDACT_KIND,
                chat_id=chat_id,
                payload={
                    "topic_id": trace.staff_thread_id,
                    "name": texts("privacy.staff.topic", number=trace.id),
                },
                now=erasure.now,
            )
        if trace.status != "erledigt":
            await db.enqueue(
                tx,
                kind=outbox.MESSAGE,
                chat_id=chat_id,
                payload=outbox.payload(
                    texts("privacy.staff.withdrawn", number=trace.id),
                    message_thread_id=trace.staff_thread_id,
                    reply_to_message_id=trace.staff_message_id if trace.staff_thread_id is None else None,
                ),
                now=erasure.now,
            )


async def forget_staff_member(erasure: Erasure) -> None:
    """A staff member erases their data: the posts of the requests they had still show their name; once their
    id and name are cleared (the table rule), the posts are drawn again from the database."""
    db, staff_chat_id = erasure.services.db, erasure.services.settings.staff_chat_id
    if staff_chat_id is None:
        return  # nothing was posted
    for request_id in await db.requests_claimed_by(erasure.tx, erasure.user_id):
        await db.enqueue(
            erasure.tx,
            kind=REFRESH_KIND,
            chat_id=staff_chat_id,
            payload={"request_id": request_id},
            now=erasure.now,
        )


def refresher(services: BotData) -> Deliverer:
    """Outbox deliverer for ``REFRESH_KIND``: the requests feature redraws the post (best effort)."""

    async def refresh_request_post(bot: ExtBot[None], row: OutboxRow) -> int | None:
        req = await services.db.get_request(int(row.payload["request_id"]))
        if req is not None:
            await services.requests.refresh_staff_views(bot, req, renamed=False)
        return None

    return refresh_request_post


async def refresh_relay_index(services: BotData, user_id: int) -> None:
    """The requests feature keeps who has requests in dialogue in memory: forget the erased user there."""
    await services.requests.index.refresh(services.db, user_id)


async def export_request_messages(services: BotData, user_id: int) -> Mapping[str, Any]:
    """The messages about the user's requests still in the outbox (to them and to the staff), as text."""
    texts = services.texts
    entries: list[dict[str, Any]] = []
    for row in await services.db.request_outbox_rows(user_id):
        text = row.payload.get("text")
        if not isinstance(text, str):
            continue  # the request's own post: its content is in "requests"
        entries.append(
            {
                "anfrage": int(row.ref.split(":", 1)[1]) if row.ref else None,
                "an": texts("privacy.export.to_you")
                if row.chat_id == user_id
                else texts("privacy.export.to_staff"),
                "text": html_to_plain(text),
                "erstellt_am": row.created_at.isoformat(),
                "stand": row.state,
            }
        )
    return {
        "anfrage_nachrichten": {
            "bezeichnung": texts("privacy.sections.request_outbox"),
            "eintraege": entries,
        }
    }


async def redact_staff_message(bot: ExtBot[None], row: OutboxRow) -> int | None:
    """Outbox deliverer: replace a bot message's text (buttons removed), or rename a forum topic."""
    if "topic_id" in row.payload:
        await bot.edit_forum_topic(row.chat_id, int(row.payload["topic_id"]), name=str(row.payload["name"]))
        return None
    await bot.edit_message_text(str(row.payload["text"]), row.chat_id, int(row.payload["message_id"]))
    return None
