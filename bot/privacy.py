"""Personal data (DSGVO): one registry of every table that holds it; export, erasure and retention run over it.

Every feature that stores something about a Telegram user registers it here, in its handlers module's
``register(app)`` through ``app.bot_data.privacy``::

    privacy = app.bot_data.privacy
    privacy.table(
        PersonalTable(
            "requests",
            label="requests.privacy.requests",  # a text key of the feature's own texts file
            ids={"user_id": Link.SUBJECT, "claimed_by": Link.ACTOR},
            clear_with={"claimed_by": ("claimed_by_name",)},  # the staff member's name goes with their id
            export=("id", "kommune", "topic", "question", "contact_kind", "contact_value", "status", "created_at"),
        )
    )
    privacy.table(
        PersonalTable(
            "request_history",
            label="requests.privacy.history",
            ids={"changed_by": Link.ACTOR},
            parent=Parent("request_id", "requests"),  # the requester's through their request
            export=("request_id", "action", "status", "created_at"),
        )
    )
    privacy.on_erase(withdraw_open_requests)  # async (Erasure) -> None, inside the erase transaction
    privacy.on_export(request_texts)  # async (BotData, user_id) -> {section: data}, merged into the export
    privacy.purge(
        "requests", older_than="closed_at", days=lambda s: s.retention_request_days, where={"status": ("erledigt",)}
    )  # registered child tables (parent=...) are purged with their parents
    privacy.retention("announcement ledgers", reduce_announcement_ledgers)  # async (RetentionRun) -> int

``tests/unit/test_privacy_schema.py`` fails when a column named ``user_id``, ``*_user_id`` or ``*_by`` (the
project's rule for columns holding a Telegram user id) is not covered here, so a new table cannot forget it.
"""

from __future__ import annotations

import contextlib
import enum
import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, BaseHandler, ConversationHandler

from bot import ptb_internals
from bot.config import Settings
from bot.db import ColumnInfo, Database, Tx, UserRows
from bot.telegram_html import Html
from bot.texts import Texts

if TYPE_CHECKING:
    from bot.context import BotData

# The naming rule for columns that hold a Telegram user id, and the columns that hold one under another name.
ID_COLUMN = re.compile(r"^(user_id|.+_user_id|.+_by|chat_id)$")
ID_COLUMNS_BY_OTHER_NAME: frozenset[tuple[str, str]] = frozenset(
    {
        ("users", "id"),  # the user's own row
        ("conversations", "key"),  # PTB's conversation key, a JSON array [chat_id, user_id]
    }
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Link(enum.Enum):
    """How a column holding a Telegram user id relates the row to that user."""

    SUBJECT = "subject"  # the row is about the user: exported, erased as the table says
    SUBJECT_JSON = "subject_json"  # the same, the column being a JSON array that contains the id
    ACTOR = "actor"  # the user acted on someone else's row (granted a role): exported; erasing removes the id


class Erase(enum.Enum):
    DELETE = "delete"  # the user's rows are deleted
    ANONYMISE = (
        "anonymise"  # kept for statistics: the id columns (NULL, or 0 when NOT NULL) and `scrub` blanked
    )


@dataclass(frozen=True, slots=True)
class Parent:
    """The rows belong to the user through a registered parent table (a request's messages)."""

    column: str  # this table's column referencing the parent
    table: str
    key: str = "id"  # the parent's referenced column


@dataclass(frozen=True)
class PersonalTable:
    table: str
    label: str  # text key: the section's name in /meine_daten and in /loeschen's report
    ids: Mapping[str, Link] = field(default_factory=dict)  # every column holding a Telegram user id
    export: tuple[str, ...] = ()  # columns written to /meine_daten — never other users' ids
    erase: Erase = Erase.DELETE
    scrub: tuple[str, ...] = ()  # Erase.ANONYMISE: further columns set to NULL (free text, names)
    parent: Parent | None = None
    # ACTOR columns whose person is also described elsewhere in the row (their name): blanked with the id.
    clear_with: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Columns the naming rule takes for a user id that never hold one, each with the reason (a group's chat id).
    not_user_ids: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [self.table, *self.ids, *self.export, *self.scrub, *self.clear_with, *self.not_user_ids]
        names += [c for columns in self.clear_with.values() for c in columns]
        if self.parent is not None:
            names += [self.parent.column, self.parent.table, self.parent.key]
        for name in names:
            if not _IDENTIFIER.match(name):
                raise ValueError(f"privacy: {name!r} is not a plain SQL identifier")
        if not self.ids and self.parent is None:
            raise ValueError(f"privacy: {self.table} needs an id column or a parent")
        if any(self.ids.get(c) is not Link.ACTOR for c in self.clear_with):
            raise ValueError(f"privacy: {self.table}: clear_with names ACTOR columns only")
        if set(self.ids) & set(self.not_user_ids):
            raise ValueError(f"privacy: {self.table}: a column is either a user id or not")
        if self.erase is Erase.ANONYMISE and Link.SUBJECT_JSON in self.ids.values():
            raise ValueError(f"privacy: {self.table}: JSON id columns cannot be anonymised, only deleted")

    @property
    def actor_columns(self) -> tuple[str, ...]:
        return tuple(c for c, link in self.ids.items() if link is Link.ACTOR)


@dataclass(frozen=True)
class Erasure:
    """What an erase hook gets: the open erase transaction, whose data, when, and the services."""

    tx: Tx
    user_id: int
    now: datetime
    services: BotData


@dataclass(frozen=True)
class RetentionRun:
    db: Database
    now: datetime
    settings: Settings


EraseHook = Callable[[Erasure], Awaitable[None]]
# After the erase transaction committed: drop what a feature keeps in memory about the user (caches, indexes).
AfterEraseHook = Callable[["BotData", int], Awaitable[None]]
# An export hook returns extra sections for /meine_daten (merged into "daten"; e.g. requests with messages).
ExportHook = Callable[["BotData", int], Awaitable[Mapping[str, Any]]]
# A retention rule purges or reduces what is past its time and returns how many rows it changed. It must find
# its work from the database alone, so running it twice is harmless.
RetentionRule = Callable[[RetentionRun], Awaitable[int]]


@dataclass(frozen=True)
class _Rule:
    name: str
    rule: RetentionRule
    order: int


class PrivacyRegistry:
    """Which tables hold personal data and how to export, erase and expire it."""

    def __init__(self) -> None:
        self._tables: dict[str, PersonalTable] = {}
        self._erase_hooks: list[EraseHook] = []
        self._after_erase_hooks: list[AfterEraseHook] = []
        self._export_hooks: list[ExportHook] = []
        self._rules: list[_Rule] = []

    # --- registration -------------------------------------------------------------------------------------

    def table(self, spec: PersonalTable) -> None:
        if spec.table in self._tables:
            raise ValueError(f"privacy: table {spec.table} registered twice")
        if spec.parent is not None and spec.parent.table not in self._tables:
            raise ValueError(f"privacy: {spec.table}: register the parent {spec.parent.table} first")
        self._tables[spec.table] = spec

    def sections(self, *rows: tuple[str, Mapping[str, Link], tuple[str, ...]]) -> None:
        """Tables registered as (table, user-id columns, exported columns), each exported as the section named
        by the text ``privacy.sections.<table>`` and deleted with the user."""
        for table, ids, export in rows:
            self.table(PersonalTable(table, label=f"privacy.sections.{table}", ids=ids, export=export))

    def on_erase(self, hook: EraseHook) -> None:
        """Run inside the erase transaction before the registered rows go (e.g. tell staff a request was
        withdrawn: enqueue an outbox row with ``erasure.tx``)."""
        self._erase_hooks.append(hook)

    def after_erase(self, hook: AfterEraseHook) -> None:
        """Run after the erasure committed (in-memory state of a feature)."""
        self._after_erase_hooks.append(hook)

    def on_export(self, hook: ExportHook) -> None:
        self._export_hooks.append(hook)

    def retention(self, name: str, rule: RetentionRule, *, order: int = 50) -> None:
        """A daily retention rule; lower ``order`` runs first (the generic outbox purge runs at 90, so a rule
        that reduces outbox rows to counts runs before them)."""
        self._rules.append(_Rule(name, rule, order))

    def purge(
        self,
        table: str,
        *,
        older_than: str,
        days: Callable[[Settings], int],
        where: Mapping[str, tuple[object, ...]] | None = None,
        order: int = 50,
    ) -> None:
        """Declarative retention: delete rows whose ``older_than`` time (UTC ISO text) is more than ``days``
        ago and whose columns match ``where``; registered child tables (``parent=``) are deleted first."""
        condition = dict(where or {})
        for name in [table, older_than, *condition]:
            if not _IDENTIFIER.match(name):
                raise ValueError(f"privacy: {name!r} is not a plain SQL identifier")

        async def rule(run: RetentionRun) -> int:
            cutoff = run.now - timedelta(days=days(run.settings))
            children = [
                (t.table, t.parent.column, t.parent.key)
                for t in self._children_of(table)
                if t.parent is not None
            ]
            return await run.db.purge_older(table, older_than, cutoff, condition, children)

        self.retention(f"purge {table}", rule, order=order)

    # --- queries ------------------------------------------------------------------------------------------

    @property
    def tables(self) -> list[PersonalTable]:
        return list(self._tables.values())

    @property
    def erase_hooks(self) -> list[EraseHook]:
        return list(self._erase_hooks)

    @property
    def after_erase_hooks(self) -> list[AfterEraseHook]:
        return list(self._after_erase_hooks)

    @property
    def export_hooks(self) -> list[ExportHook]:
        return list(self._export_hooks)

    @property
    def rules(self) -> list[tuple[str, RetentionRule]]:
        return [(r.name, r.rule) for r in sorted(self._rules, key=lambda r: r.order)]

    def _children_of(self, table: str) -> list[PersonalTable]:
        return [t for t in self._tables.values() if t.parent is not None and t.parent.table == table]

    def subject_rows(self, spec: PersonalTable) -> UserRows:
        """The SQL-free description of the rows that are about the user (``bot.db`` turns it into SQL)."""
        parent = None
        if spec.parent is not None:
            parent = (spec.parent.column, self.subject_rows(self._tables[spec.parent.table]), spec.parent.key)
        return UserRows(
            spec.table,
            equals=tuple(c for c, link in spec.ids.items() if link is Link.SUBJECT),
            json_contains=tuple(c for c, link in spec.ids.items() if link is Link.SUBJECT_JSON),
            parent=parent,
        )

    def erase_order(self) -> list[PersonalTable]:
        """Children before their parents: a child's rows are found through the parent's rows."""

        def depth(spec: PersonalTable) -> int:
            return 0 if spec.parent is None else 1 + depth(self._tables[spec.parent.table])

        return sorted(self._tables.values(), key=depth, reverse=True)

    def covered_columns(self) -> set[tuple[str, str]]:
        """Id-shaped columns the registry accounts for: user ids, and those declared to hold none."""
        return {(t.table, c) for t in self._tables.values() for c in [*t.ids, *t.not_user_ids]}

    def problems(self, schema: Mapping[str, list[ColumnInfo]]) -> list[str]:
        """Every mismatch between registry and database: unknown tables or columns, and id columns (by the
        naming rule or ``ID_COLUMNS_BY_OTHER_NAME``) that no registration covers."""
        found: list[str] = []
        for spec in self._tables.values():
            present = {c.name for c in schema.get(spec.table, [])}
            if not present:
                found.append(f"{spec.table}: registered but not in the database")
                continue
            named = [
                *spec.ids,
                *spec.not_user_ids,
                *spec.export,
                *spec.scrub,
                *(c for cs in spec.clear_with.values() for c in cs),
            ]
            if spec.parent is not None:
                named.append(spec.parent.column)
                parent_columns = {c.name for c in schema.get(spec.parent.table, [])}
                if spec.parent.key not in parent_columns:
                    found.append(f"{spec.parent.table}.{spec.parent.key}: parent key not in the database")
            found += [
                f"{spec.table}.{c}: registered but not in the database" for c in named if c not in present
            ]
        covered = self.covered_columns()
        for table, table_columns in sorted(schema.items()):
            for column in table_columns:
                is_id = ID_COLUMN.match(column.name) or (table, column.name) in ID_COLUMNS_BY_OTHER_NAME
                if is_id and (table, column.name) not in covered:
                    found.append(
                        f"{table}.{column.name}: holds a Telegram user id but is not registered in the "
                        "privacy registry (bot/privacy.py: app.bot_data.privacy.table(...))"
                    )
        return found


def core_registry() -> PrivacyRegistry:
    """The registry with the tables every installation has (profile, roles, outbox, dialogue state)."""
    registry = PrivacyRegistry()
    registry.sections(
        ("users", {"id": Link.SUBJECT}, ("language", "first_seen", "bundesland")),
        ("roles", {"user_id": Link.SUBJECT, "granted_by": Link.ACTOR}, ("role", "granted_at")),
        (
            "role_changes",
            {"user_id": Link.SUBJECT, "changed_by": Link.ACTOR},
            ("role", "action", "changed_at", "via"),
        ),
        ("outbox", {"chat_id": Link.SUBJECT}, ("kind", "state", "payload", "created_at", "sent_at")),
        ("conversations", {"key": Link.SUBJECT_JSON}, ("name", "state")),
        ("user_data", {"user_id": Link.SUBJECT}, ("data",)),
    )
    registry.retention("delivered outbox rows", purge_delivered_outbox, order=90)
    return registry


async def purge_delivered_outbox(run: RetentionRun) -> int:
    """Sent and failed outbox rows (message texts, chat ids) go after ``BOT_RETENTION_OUTBOX_DAYS``."""
    cutoff = run.now - timedelta(days=run.settings.retention_outbox_days)
    return await run.db.purge_finished_outbox(cutoff)


# --- export, count, erase ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    label: str  # text key
    rows: int


async def count_user_data(services: BotData, user_id: int) -> list[Section]:
    """How many rows each registered table holds about the user (subject or actor), for the confirmation."""
    registry, db = services.privacy, services.db
    sections: dict[str, int] = {}
    for spec in registry.tables:
        subject = registry.subject_rows(spec)
        n = await db.count_user_rows(subject, user_id)
        for column in spec.actor_columns:
            n += await db.count_user_rows(UserRows(spec.table, equals=(column,)), user_id, exclude=subject)
        sections[spec.label] = sections.get(spec.label, 0) + n
    return [Section(label, n) for label, n in sections.items() if n]


async def collect_export(services: BotData, user_id: int, now: datetime) -> dict[str, Any]:
    """Everything stored about the user, as a JSON-ready structure a person can read."""
    registry, db, texts = services.privacy, services.db, services.texts
    data: dict[str, Any] = {}
    for spec in registry.tables:
        subject = registry.subject_rows(spec)
        section: dict[str, Any] = {
            "bezeichnung": texts(spec.label),
            "eintraege": [_readable(r) for r in await db.user_rows(subject, user_id, spec.export)],
        }
        acted: list[dict[str, Any]] = []
        for column in spec.actor_columns:
            rows = await db.user_rows(UserRows(spec.table, equals=(column,)), user_id, spec.export, subject)
            acted += [_readable(r) for r in rows]
        if acted:
            section["von_ihnen_vorgenommen"] = acted
        data[spec.table] = section
    for hook in registry.export_hooks:
        data.update(await hook(services, user_id))
    return {
        "hinweis": texts("privacy.export.note"),
        "telegram_nutzer_id": user_id,
        "erstellt_am": now.astimezone(services.settings.tz).isoformat(timespec="seconds"),
        "daten": data,
    }


def export_document(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


def _readable(row: Mapping[str, Any]) -> dict[str, Any]:
    """JSON stored as text (payloads, form answers) is shown as structure, not as an escaped string."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, str) and value[:1] in ("{", "["):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        out[key] = value
    return out


async def erase_user_data(services: BotData, user_id: int, now: datetime) -> list[Section]:
    """Erase everything about the user in one transaction: hooks first (they still see the rows), then every
    registered table, children before parents. Returns what was erased, per section."""
    registry, db = services.privacy, services.db
    schema = await db.schema()
    erased: dict[str, int] = {}
    async with db.transaction() as tx:
        for hook in registry.erase_hooks:
            await hook(Erasure(tx, user_id, now, services))
        for spec in registry.erase_order():
            columns = {c.name: c for c in schema[spec.table]}
            n = 0
            for column in spec.actor_columns:
                also = spec.clear_with.get(column, ())
                n += await db.clear_user_id(tx, spec.table, column, user_id, columns[column].notnull, also)
            subject = registry.subject_rows(spec)
            if spec.erase is Erase.DELETE:
                n += await db.delete_user_rows(tx, subject, user_id)
            else:
                id_columns = [columns[c] for c in subject.equals]
                n += await db.anonymise_user_rows(tx, subject, user_id, id_columns, spec.scrub)
            erased[spec.label] = erased.get(spec.label, 0) + n
    # The -wal file still holds the pages as they were before the erasure: copy it into the database file
    # (whose freed space secure_delete zeroes) and truncate it.
    await db.checkpoint()
    db.checkpoint_wanted = True
    db.forget_user(user_id)
    for after in registry.after_erase_hooks:
        await after(services, user_id)
    return [Section(label, n) for label, n in erased.items() if n]


def forget_runtime_state(app: Application[Any, Any, Any, Any, Any, Any], user_id: int) -> None:
    """Drop the user's ``user_data`` and end their conversations in PTB's memory too, so nothing written
    back by the next persistence flush brings them back."""
    app.drop_user_data(user_id)
    for group in app.handlers.values():
        for handler in _conversation_handlers(group):
            # Ending it also makes the next persistence flush delete its row.
            for key in ptb_internals.keys(handler):
                if user_id in key:
                    ptb_internals.end(handler, key)


def _conversation_handlers(
    handlers: Iterable[BaseHandler[Any, Any, Any]],
) -> Iterable[ConversationHandler[Any]]:
    for handler in handlers:
        if isinstance(handler, ConversationHandler):
            yield handler
            nested = [*handler.entry_points, *handler.fallbacks]
            for state_handlers in handler.states.values():
                nested += state_handlers
            yield from _conversation_handlers(nested)


# --- the notice --------------------------------------------------------------------------------------------


def privacy_notice(texts: Texts, settings: Settings) -> str:
    """The notice with the operator's details and the retention periods from the settings."""
    controller = settings.privacy_controller
    contact = settings.privacy_contact
    return texts(
        "privacy.notice",
        controller=controller if controller else Html(texts("privacy.controller_missing")),
        contact=contact if contact else Html(texts("privacy.contact_missing")),
        request_days=settings.retention_request_days,
        miss_days=settings.retention_miss_days,
        announcement_days=settings.retention_announcement_days,
        outbox_days=settings.retention_outbox_days,
        backup_days=settings.backup_keep,
    )
