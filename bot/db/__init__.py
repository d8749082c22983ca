"""The only place with SQL: ``Database`` joins one mixin per area on the connection of ``DatabaseCore``.

``bot.db.core`` holds the connection, ``transaction()`` and the schema; each area module (users and roles,
requests, outbox, events, reminders, subscriptions, announcements, advice, the self-check, privacy, the
intake's inbox, what python-telegram-bot persists) adds its methods and row types. Importers use this package:
``from bot.db import Database, RequestRow``.
"""

from __future__ import annotations

from bot.db.advice import AdviceMixin, Rating
from bot.db.announcements import AnnouncementRow, AnnouncementsMixin, DeliveryCounts
from bot.db.core import (
    BUSY_TIMEOUT_MS,
    MIGRATION_NAME,
    MIGRATIONS_DIR,
    DatabaseCore,
    MigrationError,
    Tx,
    from_db_time,
    to_db_time,
)
from bot.db.events import EventFields, EventRow, EventsMixin
from bot.db.inbox import InboxMixin
from bot.db.outbox import OutboxMixin, OutboxRow
from bot.db.privacy import ColumnInfo, PrivacyMixin, UserRows
from bot.db.ptb import PtbStoreMixin
from bot.db.reminders import ReminderPlan, ReminderRow, RemindersMixin
from bot.db.requests import NewRequest, RequestRow, RequestsMixin, RequestTrace
from bot.db.standort import StandortMixin, StandortRow
from bot.db.subscriptions import SUBSCRIPTION_KINDS, SubscriptionRow, SubscriptionsMixin, SubscriptionStats
from bot.db.users import KNOWN_USERS_CACHED, InvitationRow, UserRow, UsersMixin

__all__ = [
    "BUSY_TIMEOUT_MS",
    "KNOWN_USERS_CACHED",
    "MIGRATIONS_DIR",
    "MIGRATION_NAME",
    "SUBSCRIPTION_KINDS",
    "AnnouncementRow",
    "ColumnInfo",
    "Database",
    "DeliveryCounts",
    "EventFields",
    "EventRow",
    "InvitationRow",
    "MigrationError",
    "NewRequest",
    "OutboxRow",
    "Rating",
    "ReminderPlan",
    "ReminderRow",
    "RequestRow",
    "RequestTrace",
    "StandortRow",
    "SubscriptionRow",
    "SubscriptionStats",
    "Tx",
    "UserRow",
    "UserRows",
    "from_db_time",
    "to_db_time",
]


class Database(
    UsersMixin,
    AdviceMixin,
    RequestsMixin,
    OutboxMixin,
    EventsMixin,
    RemindersMixin,
    SubscriptionsMixin,
    AnnouncementsMixin,
    StandortMixin,
    PrivacyMixin,
    InboxMixin,
    PtbStoreMixin,
    DatabaseCore,
):
    """One connection for the whole process; open with ``Database.open``. Every method lives in its area's
    module (see the package docstring)."""
