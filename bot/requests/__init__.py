"""Consultation requests: the rules (validation, limits, status changes) and the way to the staff group and back.

A confirmed form becomes a ``requests`` row and, in the same transaction, an outbox row that posts it to the staff
group (``BOT_STAFF_CHAT_ID``). The post is rendered at delivery time from the database, so it always shows the
current status. In a forum group every request gets its own topic: the topic's id is stored on the request before
anything is posted into it, so a retried delivery never opens a second topic (a crash between creating the topic
and storing its id can leave one empty topic behind, never a second copy of the request).

Everything else that must arrive — the team's answers and status changes for the requester, the requester's
answers and reminders for the staff — is an outbox row written together with the state change it belongs to.

Statuses: neu → in_bearbeitung → wartet → erledigt (staff may also release a request back to "neu" or reopen a
closed one). A requester's plain message is relayed when they have exactly one request in dialogue
(in_bearbeitung or wartet); ``RelayIndex`` answers that question synchronously for the message filter.

The package: ``rules`` (validation, limits, status changes), ``views`` (what staff and requester see),
``services`` (state changes with their messages, the relay index) and ``desk`` (staff rights and delivery).
"""

from __future__ import annotations

# The package's names, for importers that need more than one of its modules.
from bot.requests.desk import *  # noqa: F403
from bot.requests.rules import *  # noqa: F403
from bot.requests.services import *  # noqa: F403
from bot.requests.views import *  # noqa: F403
