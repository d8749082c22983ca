"""Consultation requests, the desk: staff rights, the staff group's shape, and delivery through the outbox."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup, Message
from telegram.constants import ChatMemberStatus, ReactionEmoji
from telegram.error import BadRequest, TelegramError
from telegram.ext import ExtBot

from bot.db import Database, OutboxRow, RequestRow, Tx
from bot.outbox import MESSAGE, Outbox, payload
from bot.requests.rules import (
    FORUM_CACHE,
    KIND_ACK,
    KIND_NOTE,
    KIND_POST,
    KIND_USER,
    MEMBER_CACHE,
    NotPostedYet,
    RightsUnknown,
)
from bot.requests.services import RelayIndex, post_pending, posted_to
from bot.requests.views import reply_keyboard, staff_keyboard, staff_post_text, topic_name
from bot.roles import has_staff_role
from bot.telegram_html import split_message

if TYPE_CHECKING:
    from bot.context import BotData

log = logging.getLogger(__name__)


def _topic_unusable(exc: BadRequest) -> bool:
    """The request's topic was deleted or closed to the bot: post into the group itself instead."""
    message = exc.message.lower()
    return "thread" in message or "topic_closed" in message or "topic_deleted" in message


class RequestDesk:
    """Long-lived state of the feature (``context.bot_data.requests``) and its outbox deliverers."""

    def __init__(self, services: BotData) -> None:
        self._services = services
        self._forum: tuple[int, bool, datetime] | None = None
        self._members: dict[int, tuple[bool, datetime]] = {}
        self.index = RelayIndex()

    # -- rights --

    async def is_staff(self, bot: ExtBot[None], user_id: int) -> bool:
        """Member of the staff group (short cache) or the staff role; raises ``RightsUnknown`` on API errors."""
        services = self._services
        if await has_staff_role(services.settings, services.db, user_id):
            return True
        chat_id = services.settings.staff_chat_id
        if chat_id is None:
            return False
        now = services.clock.now()
        cached = self._members.get(user_id)
        if cached is not None and now - cached[1] < MEMBER_CACHE:
            return cached[0]
        try:
            member = await bot.get_chat_member(chat_id, user_id)
        except TelegramError as exc:
            if isinstance(exc, BadRequest) and "not found" in exc.message.lower():
                self._members[user_id] = (False, now)
                return False
            log.warning("staff check failed: %s", type(exc).__name__)
            raise RightsUnknown from exc
        allowed = member.status in (
            ChatMemberStatus.MEMBER,
            ChatMemberStatus.ADMINISTRATOR,
            ChatMemberStatus.OWNER,
        ) or (member.status == ChatMemberStatus.RESTRICTED and bool(getattr(member, "is_member", False)))
        self._members[user_id] = (allowed, now)
        return allowed

    def member_changed(self, user_id: int, status: str | None) -> None:
        """A chat_member update or a join/leave message from the staff group: the new status counts at once
        (None: unknown, ask Telegram at the next check)."""
        if status is None:
            self._members.pop(user_id, None)
            return
        allowed = status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
        if allowed:
            self._members.pop(
                user_id, None
            )  # confirmed by the next check (a restricted member may not be one)
        else:
            self._members[user_id] = (False, self._services.clock.now())

    async def is_forum(self, bot: ExtBot[None], chat_id: int) -> bool:
        now = self._services.clock.now()
        if self._forum is not None and self._forum[0] == chat_id and now - self._forum[2] < FORUM_CACHE:
            return self._forum[1]
        chat = await bot.get_chat(chat_id)
        forum = bool(chat.is_forum)
        self._forum = (chat_id, forum, now)
        return forum

    # -- outbox kinds --

    def register_kinds(self, outbox: Outbox) -> None:
        outbox.register(
            KIND_POST,
            deliver=self.deliver_post,
            on_sent=self.on_staff_message_sent,
            on_failed=self.on_post_failed,
        )
        outbox.register(
            KIND_NOTE,
            deliver=self.deliver_note,
            on_sent=self.on_staff_message_sent,
            on_failed=self.on_note_failed,
        )
        outbox.register(KIND_USER, on_sent=self.on_user_message_sent, on_failed=self.on_user_message_failed)
        outbox.register(KIND_ACK, deliver=self.deliver_ack)

    async def deliver_post(self, bot: ExtBot[None], row: OutboxRow) -> int | None:
        """Post the request: create its forum topic first (stored before posting) where the group is a forum."""
        services = self._services
        req = await services.db.get_request(int(row.payload["request_id"]))
        if req is None:  # erased in the meantime (privacy): nothing to post
            return None
        thread_id = req.staff_thread_id if req.staff_chat_id == row.chat_id else None
        if (
            thread_id is None
            and await self.is_forum(bot, row.chat_id)
            and not await self._topic_may_exist(req.id, row.chat_id)
        ):
            await services.db.set_topic_intent(req.id, row.chat_id)
            try:
                topic = await bot.create_forum_topic(row.chat_id, topic_name(services.texts, req))
            except BadRequest as exc:
                # No right to manage topics (or a name Telegram refuses): into the group itself rather than
                # nowhere; staff reply to the message there, as in a plain group.
                log.warning("request %s: no forum topic (%s); posting into the group", req.id, exc.message)
            else:
                thread_id = topic.message_thread_id
                await services.db.set_request_thread(req.id, row.chat_id, thread_id)
                req = await services.db.get_request(req.id)
                if req is None:
                    return None
        text = staff_post_text(services.texts, services.content, req, services.settings.tz)
        markup = staff_keyboard(services.texts, req)
        try:
            message = await bot.send_message(
                row.chat_id, text, reply_markup=markup, message_thread_id=thread_id
            )
        except BadRequest as exc:
            if thread_id is None or not _topic_unusable(exc):
                raise
            # The topic was deleted: post into the group itself rather than lose the request.
            await services.db.set_request_thread(req.id, row.chat_id, None)
            message = await bot.send_message(row.chat_id, text, reply_markup=markup)
        return message.message_id

    async def _topic_may_exist(self, request_id: int, chat_id: int) -> bool:
        """A topic was being created for the request when the bot stopped or the answer got lost: Telegram may
        have created it, and the Bot API cannot list topics to find it. Post into the group itself rather than
        into a second topic (staff writing in the first one make it the request's topic again)."""
        if await self._services.db.topic_intent(request_id) != chat_id:
            return False
        log.warning(
            "request %s: a forum topic may have been created before the bot stopped; posting into the group "
            "instead of creating a second one",
            request_id,
        )
        return True

    async def deliver_note(self, bot: ExtBot[None], row: OutboxRow) -> int | None:
        """Into the request's topic, or as a reply to the request message; waits until the request is posted."""
        req = await self._services.db.get_request(int(row.payload["request_id"]))
        if req is None:
            return None
        markup = (
            InlineKeyboardMarkup.de_json(row.payload["reply_markup"], bot)
            if row.payload.get("reply_markup")
            else None
        )
        same_chat = req.staff_chat_id == row.chat_id
        if not posted_to(req, row.chat_id) and await post_pending(self._services.db, req):
            raise NotPostedYet(f"request {req.id} not posted yet")
        thread_id = req.staff_thread_id if same_chat else None
        reply_to = req.staff_message_id if same_chat and thread_id is None else None
        text = str(row.payload["text"])
        try:
            return await self._send_parts(bot, row.chat_id, text, markup, thread_id, reply_to)
        except BadRequest as exc:
            if thread_id is None or not _topic_unusable(exc):
                raise
            return await self._send_parts(bot, row.chat_id, text, markup, None, None)

    @staticmethod
    async def _send_parts(
        bot: ExtBot[None],
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None,
        thread_id: int | None,
        reply_to: int | None,
    ) -> int | None:
        parts = split_message([text])
        message: Message | None = None
        for index, part in enumerate(parts):
            message = await bot.send_message(
                chat_id,
                part,
                reply_markup=markup if index == len(parts) - 1 else None,
                message_thread_id=thread_id,
                reply_to_message_id=reply_to if index == 0 else None,
                allow_sending_without_reply=True if reply_to is not None else None,
            )
        return message.message_id if message is not None else None

    async def on_staff_message_sent(self, tx: Tx, row: OutboxRow, message_id: int | None) -> None:
        """Remember the staff-chat message, so a reply to it reaches the requester."""
        if message_id is None:
            return
        request_id = int(row.payload["request_id"])
        if row.kind == KIND_POST:
            await Database.set_request_posted(tx, request_id, row.chat_id, message_id)
        else:
            await Database.link_request_message(tx, request_id, row.chat_id, message_id)

    async def on_post_failed(self, tx: Tx, row: OutboxRow, error: str) -> None:
        """Telegram refused the request for good (bot removed, wrong chat id, …): the admins hear of it now.

        The request stays stored and listed in /offen; the unclaimed-request reminder posts it again.
        """
        services = self._services
        request_id = int(row.payload["request_id"])
        log.warning("request %s did not reach the staff chat: %s", request_id, error)
        text = services.texts(
            "requests.admin.post_failed",
            number=request_id,
            error=error,
            hours=f"{services.settings.request_reminder_hours:g}",
        )
        for admin_id in sorted(services.settings.admin_ids):
            await Database.enqueue(
                tx,
                kind=MESSAGE,
                chat_id=admin_id,
                payload=payload(text),
                now=services.clock.now(),
                ref=row.ref,
            )

    async def on_note_failed(self, tx: Tx, row: OutboxRow, error: str) -> None:
        """A message for the staff was refused for good; if it was the requester's, they must not wait for it."""
        services = self._services
        request_id = int(row.payload["request_id"])
        log.warning("a message about request %s did not reach the staff chat: %s", request_id, error)
        if not row.payload.get("from_user"):
            return
        req = await services.db.get_request(request_id)
        if req is None:
            return
        await Database.enqueue(
            tx,
            kind=KIND_USER,
            chat_id=req.user_id,
            payload=payload(
                services.texts("requests.user.relay_failed", number=req.id),
                reply_keyboard(services.texts, req.id) if req.is_open else None,
                request_id=req.id,
            ),
            now=services.clock.now(),
            ref=row.ref,
        )

    async def on_user_message_sent(self, tx: Tx, row: OutboxRow, message_id: int | None) -> None:
        """The requester has the team's answer: mark the staff message with a 👍 (best effort, via the outbox)."""
        chat_id, ack_message = row.payload.get("ack_chat_id"), row.payload.get("ack_message_id")
        if chat_id is None or ack_message is None:
            return
        await Database.enqueue(
            tx,
            kind=KIND_ACK,
            chat_id=int(chat_id),
            payload={"message_id": int(ack_message)},
            now=self._services.clock.now(),
            ref=row.ref,
        )

    async def on_user_message_failed(self, tx: Tx, row: OutboxRow, error: str) -> None:
        """The requester cannot be reached (blocked the bot, deleted the account): the staff must know."""
        services = self._services
        staff_chat_id = services.settings.staff_chat_id
        request_id = row.payload.get("request_id")
        if staff_chat_id is None or request_id is None:
            return
        reason = "blocked" if error.startswith("Forbidden") else "other"
        await Database.enqueue(
            tx,
            kind=KIND_NOTE,
            chat_id=staff_chat_id,
            payload=payload(
                services.texts(f"requests.staff.undeliverable.{reason}", number=int(request_id)),
                request_id=int(request_id),
            ),
            now=services.clock.now(),
            ref=row.ref,
        )

    @staticmethod
    async def deliver_ack(bot: ExtBot[None], row: OutboxRow) -> int | None:
        """One try only: the 👍 is a courtesy (reactions may be off in the group); failures are just logged."""
        try:
            await bot.set_message_reaction(
                row.chat_id, int(row.payload["message_id"]), ReactionEmoji.THUMBS_UP
            )
        except TelegramError as exc:
            log.info("delivery mark not set: %s", type(exc).__name__)
        return None

    # -- the staff views after a change (best effort: the database and /offen stay the truth) --

    async def refresh_staff_views(self, bot: ExtBot[None], req: RequestRow, *, renamed: bool) -> None:
        services = self._services
        if req.staff_chat_id is None or req.staff_message_id is None:
            return
        text = staff_post_text(services.texts, services.content, req, services.settings.tz)
        try:
            await bot.edit_message_text(
                text,
                req.staff_chat_id,
                req.staff_message_id,
                reply_markup=staff_keyboard(services.texts, req),
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.info("request message not updated: %s", exc.message)
        except TelegramError as exc:
            log.info("request message not updated: %s", type(exc).__name__)
        if renamed and req.staff_thread_id is not None:
            try:
                await bot.edit_forum_topic(
                    req.staff_chat_id, req.staff_thread_id, name=topic_name(services.texts, req)
                )
            except TelegramError as exc:
                log.info("request topic not renamed: %s", type(exc).__name__)
