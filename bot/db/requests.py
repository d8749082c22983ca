"""Consultation requests: the form, the staff desk's claims and status changes, their history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.db.core import DatabaseCore, Reader, Tx, narrow, read_row, to_db_time


@dataclass(frozen=True, slots=True)
class NewRequest:
    """The answers of a confirmed request form."""

    user_id: int
    requester_name: str
    form_token: str
    kommune: str
    bundesland: str
    role: str
    topic: str
    question: str
    contact_kind: str
    contact_value: str | None
    privacy_ack_at: datetime


@dataclass(frozen=True, slots=True)
class RequestRow(NewRequest):
    """A stored request: the form's answers and where the request stands."""

    id: int
    status: str
    claimed_by: int | None
    claimed_by_name: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    staff_alert_at: datetime
    staff_chat_id: int | None
    staff_thread_id: int | None
    staff_message_id: int | None
    rating: int | None
    rated_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status != "erledigt"

    @property
    def ref(self) -> str:
        """The outbox ``ref`` of everything sent about this request."""
        return f"request:{self.id}"


_REQUEST_COUNTS = (
    "SELECT COALESCE(SUM(status != 'erledigt'), 0) AS open, COALESCE(SUM(created_at >= ?), 0) AS recent "
    "FROM requests WHERE user_id = ?"
)


async def _request_counts(reader: Reader, user_id: int, since: datetime) -> tuple[int, int]:
    row = await reader.fetchone(_REQUEST_COUNTS, (to_db_time(since), user_id))
    return (int(row["open"]), int(row["recent"])) if row is not None else (0, 0)


@dataclass(frozen=True, slots=True)
class RequestTrace:
    """Where a request left bot messages in the staff chat: its post, its topic, the linked notes."""

    id: int
    status: str
    staff_chat_id: int | None
    staff_thread_id: int | None
    staff_message_id: int | None
    messages: tuple[tuple[int, int], ...]  # (chat id, message id) from request_messages


class RequestsMixin(DatabaseCore):
    """Consultation requests: the form, the staff desk's claims and status changes, their history."""

    @staticmethod
    async def create_request(tx: Tx, new: NewRequest, now: datetime) -> int | None:
        """Store a submitted form; None when this form (``form_token``) was stored before."""
        stamp = to_db_time(now)
        cur = await tx.execute(
            "INSERT INTO requests (user_id, requester_name, form_token, kommune, bundesland, role, topic, "
            "question, contact_kind, contact_value, privacy_ack_at, created_at, updated_at, staff_alert_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(form_token) DO NOTHING",
            (
                new.user_id,
                new.requester_name,
                new.form_token,
                new.kommune,
                new.bundesland,
                new.role,
                new.topic,
                new.question,
                new.contact_kind,
                new.contact_value,
                to_db_time(new.privacy_ack_at),
                stamp,
                stamp,
                stamp,
            ),
        )
        if cur.rowcount != 1 or cur.lastrowid is None:
            return None
        await RequestsMixin.add_request_history(tx, cur.lastrowid, "submitted", "neu", new.user_id, now)
        return cur.lastrowid

    @staticmethod
    async def request_counts(tx: Tx, user_id: int, since: datetime) -> tuple[int, int]:
        """(open requests, requests created since ``since``) of a user, read inside the writing transaction."""
        return await _request_counts(tx, user_id, since)

    async def user_request_counts(self, user_id: int, since: datetime) -> tuple[int, int]:
        return await _request_counts(self, user_id, since)

    async def get_request(self, request_id: int) -> RequestRow | None:
        return await self.fetch_row(RequestRow, "SELECT * FROM requests WHERE id = ?", (request_id,))

    @staticmethod
    async def request_id_for_form(tx: Tx, token: str) -> int | None:
        row = await tx.fetchone("SELECT id FROM requests WHERE form_token = ?", (token,))
        return int(row["id"]) if row is not None else None

    async def request_by_form_token(self, token: str) -> RequestRow | None:
        return await self.fetch_row(RequestRow, "SELECT * FROM requests WHERE form_token = ?", (token,))

    async def requests_of_user(self, user_id: int, limit: int) -> list[RequestRow]:
        """The user's requests, newest first."""
        return await self.fetch_rows(
            RequestRow, "SELECT * FROM requests WHERE user_id = ? ORDER BY id DESC LIMIT ?", (user_id, limit)
        )

    async def open_requests(self, limit: int) -> list[RequestRow]:
        """Requests not yet closed, oldest first."""
        return await self.fetch_rows(
            RequestRow,
            "SELECT * FROM requests WHERE status != 'erledigt' ORDER BY created_at, id LIMIT ?",
            (limit,),
        )

    async def open_request_count(self) -> int:
        row = await self.fetchone("SELECT COUNT(*) FROM requests WHERE status != 'erledigt'")
        return int(row[0]) if row is not None else 0

    async def answerable_requests(self, user_id: int | None = None) -> list[tuple[int, int]]:
        """(user_id, request id) of requests in dialogue ('in_bearbeitung', 'wartet'), for all or one user."""
        sql, params = narrow(
            "SELECT user_id, id FROM requests WHERE status IN ('in_bearbeitung', 'wartet')",
            (),
            {"user_id": user_id},
        )
        rows = await self.fetchall(sql, params)
        return [(int(r["user_id"]), int(r["id"])) for r in rows]

    async def request_for_staff_message(self, chat_id: int, message_id: int) -> RequestRow | None:
        return await self.fetch_row(
            RequestRow,
            "SELECT r.* FROM request_messages m JOIN requests r ON r.id = m.request_id "
            "WHERE m.chat_id = ? AND m.message_id = ?",
            (chat_id, message_id),
        )

    async def request_for_thread(self, chat_id: int, thread_id: int) -> RequestRow | None:
        return await self.fetch_row(
            RequestRow,
            "SELECT * FROM requests WHERE staff_chat_id = ? AND staff_thread_id = ? ORDER BY id DESC LIMIT 1",
            (chat_id, thread_id),
        )

    async def topic_intent(self, request_id: int) -> int | None:
        """The staff chat a forum topic for the request was being created in (see migration 0014), if any."""
        row = await self.fetchone("SELECT topic_intent_chat FROM requests WHERE id = ?", (request_id,))
        return int(row[0]) if row is not None and row[0] is not None else None

    async def requests_awaiting_topic(self, chat_id: int) -> list[RequestRow]:
        """Requests whose topic was being created in ``chat_id`` but whose topic id was never stored."""
        return await self.fetch_rows(
            RequestRow,
            "SELECT * FROM requests WHERE topic_intent_chat = ? AND staff_thread_id IS NULL ORDER BY id",
            (chat_id,),
        )

    async def set_topic_intent(self, request_id: int, chat_id: int) -> None:
        """Committed before createForumTopic: a retry then knows a topic may already exist."""
        await self.write("UPDATE requests SET topic_intent_chat = ? WHERE id = ?", (chat_id, request_id))

    async def set_request_thread(self, request_id: int, chat_id: int, thread_id: int | None) -> None:
        """Remember the request's forum topic; committed before anything is posted into it."""
        await self.write(
            "UPDATE requests SET staff_chat_id = ?, staff_thread_id = ? WHERE id = ?",
            (chat_id, thread_id, request_id),
        )

    @staticmethod
    async def set_request_posted(tx: Tx, request_id: int, chat_id: int, message_id: int) -> None:
        await tx.execute(
            "UPDATE requests SET staff_chat_id = ?, staff_message_id = ? WHERE id = ?",
            (chat_id, message_id, request_id),
        )
        await RequestsMixin.link_request_message(tx, request_id, chat_id, message_id)

    @staticmethod
    async def link_request_message(tx: Tx, request_id: int, chat_id: int, message_id: int) -> None:
        # Only while the request exists: it may have been erased (privacy) while its message was on the way.
        await tx.execute(
            "INSERT INTO request_messages (chat_id, message_id, request_id) "
            "SELECT ?, ?, id FROM requests WHERE id = ? "
            "ON CONFLICT(chat_id, message_id) DO UPDATE SET request_id = excluded.request_id",
            (chat_id, message_id, request_id),
        )

    @staticmethod
    async def change_request(
        tx: Tx,
        before: RequestRow,
        *,
        status: str,
        claimed_by: int | None,
        claimed_by_name: str | None,
        by: int | None,
        now: datetime,
        action: str = "status",
    ) -> bool:
        """Set status and claim if the request is still as ``before`` (compare and set); False if it changed."""
        stamp = to_db_time(now)
        cur = await tx.execute(
            "UPDATE requests SET status = ?, claimed_by = ?, claimed_by_name = ?, updated_at = ?, "
            "closed_at = ?, staff_alert_at = CASE WHEN ? = 'neu' AND status != 'neu' THEN ? ELSE staff_alert_at END "
            "WHERE id = ? AND status = ? AND claimed_by IS ?",
            (
                status,
                claimed_by,
                claimed_by_name,
                stamp,
                stamp if status == "erledigt" else None,
                status,
                stamp,
                before.id,
                before.status,
                before.claimed_by,
            ),
        )
        if cur.rowcount != 1:
            return False
        await RequestsMixin.add_request_history(tx, before.id, action, status, by, now)
        return True

    @staticmethod
    async def add_request_history(
        tx: Tx, request_id: int, action: str, status: str | None, by: int | None, now: datetime
    ) -> None:
        await tx.execute(
            "INSERT INTO request_history (request_id, action, status, changed_by, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (request_id, action, status, by, to_db_time(now)),
        )

    async def request_history(self, request_id: int) -> list[tuple[str, str | None, int | None]]:
        rows = await self.fetchall(
            "SELECT action, status, changed_by FROM request_history WHERE request_id = ? ORDER BY id",
            (request_id,),
        )
        return [(str(r["action"]), r["status"], r["changed_by"]) for r in rows]

    async def unclaimed_requests_due(self, cutoff: datetime) -> list[RequestRow]:
        """New, unclaimed requests the staff were last told about at or before ``cutoff``."""
        return await self.fetch_rows(
            RequestRow,
            "SELECT * FROM requests WHERE status = 'neu' AND claimed_by IS NULL AND staff_alert_at <= ? "
            "ORDER BY created_at, id",
            (to_db_time(cutoff),),
        )

    @staticmethod
    async def mark_request_alerted(tx: Tx, before: RequestRow, now: datetime) -> bool:
        """Move the reminder clock on, once: False if another tick or a claim got there first."""
        cur = await tx.execute(
            "UPDATE requests SET staff_alert_at = ? WHERE id = ? AND staff_alert_at = ? AND status = 'neu' "
            "AND claimed_by IS NULL",
            (to_db_time(now), before.id, to_db_time(before.staff_alert_at)),
        )
        return cur.rowcount == 1

    async def rate_request(self, request_id: int, user_id: int, rating: int, now: datetime) -> bool:
        """Store the requester's rating of a closed request, once; False if not allowed or already rated."""
        async with self.transaction() as tx:
            cur = await tx.execute(
                "UPDATE requests SET rating = ?, rated_at = ? WHERE id = ? AND user_id = ? "
                "AND status = 'erledigt' AND rating IS NULL",
                (rating, to_db_time(now), request_id, user_id),
            )
            if cur.rowcount != 1:
                return False
            await self.add_request_history(tx, request_id, "rated", "erledigt", user_id, now)
            return True

    async def request_counts_by_status(self) -> dict[str, int] | None:
        """Consultation requests by status, or None while the requests table (another feature) is not there."""
        columns = {str(r["name"]) for r in await self.fetchall("PRAGMA table_info(requests)")}
        if "status" not in columns:
            return None
        rows = await self.fetchall(
            "SELECT status, COUNT(*) AS n FROM requests GROUP BY status ORDER BY status"
        )
        return {str(r["status"]): int(r["n"]) for r in rows}

    @staticmethod
    async def request_traces(tx: Tx, user_id: int) -> list[RequestTrace]:
        """The user's requests with every bot message about them in the staff chat (for erasure)."""
        rows = await tx.fetchall(
            "SELECT id, status, staff_chat_id, staff_thread_id, staff_message_id FROM requests "
            "WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        traces: list[RequestTrace] = []
        for r in rows:
            linked = await tx.fetchall(
                "SELECT chat_id, message_id FROM request_messages WHERE request_id = ? ORDER BY message_id",
                (r["id"],),
            )
            messages = tuple((int(m["chat_id"]), int(m["message_id"])) for m in linked)
            traces.append(read_row(RequestTrace, r, messages=messages))
        return traces

    @staticmethod
    async def requests_claimed_by(tx: Tx, user_id: int) -> list[int]:
        rows = await tx.fetchall("SELECT id FROM requests WHERE claimed_by = ? ORDER BY id", (user_id,))
        return [int(r["id"]) for r in rows]
