"""The generic machinery as a feature would use it: child tables through a parent, actor columns, anonymised
statistics, export hooks and declarative retention — on tables shaped like the coming features' tables."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import MIGRATIONS_DIR
from bot.context import App, BotData
from bot.db import Database, to_db_time
from bot.privacy import Erase, Link, Parent, PersonalTable, collect_export, count_user_data, erase_user_data
from bot.retention import run_retention
from tests.harness import Harness, harness
from tests.privacy_scan import traces

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
USER = 4_711_000_123
OTHER = 4_711_000_456
STAFF = 4_711_000_789

# Test-only tables standing in for a feature's migration (the generic code must work on any such shape).
FEATURE_TABLES = (
    "CREATE TABLE sample_requests (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, claimed_by INTEGER, "
    "claimed_by_name TEXT, question TEXT NOT NULL, status TEXT NOT NULL, closed_at TEXT)",
    "CREATE TABLE sample_messages (id INTEGER PRIMARY KEY, request_id INTEGER NOT NULL REFERENCES sample_requests(id), "
    "sent_by INTEGER, text TEXT NOT NULL)",
    "CREATE TABLE sample_ratings (id INTEGER PRIMARY KEY, user_id INTEGER, topic TEXT NOT NULL, helpful INTEGER, "
    "comment TEXT)",
)


def register_feature(app: App) -> None:
    privacy = app.bot_data.privacy
    privacy.table(
        PersonalTable(
            "sample_requests",
            label="privacy.sections.users",
            ids={"user_id": Link.SUBJECT, "claimed_by": Link.ACTOR},
            export=("id", "question", "status"),
            clear_with={"claimed_by": ("claimed_by_name",)},
        )
    )
    privacy.table(
        PersonalTable(
            "sample_messages",
            label="privacy.sections.roles",
            ids={"sent_by": Link.ACTOR},
            parent=Parent("request_id", "sample_requests"),
            export=("request_id", "text"),
        )
    )
    privacy.table(
        PersonalTable(
            "sample_ratings",
            label="privacy.sections.outbox",
            ids={"user_id": Link.SUBJECT},
            export=("topic", "helpful", "comment"),
            erase=Erase.ANONYMISE,
            scrub=("comment",),
        )
    )
    privacy.purge(
        "sample_requests",
        older_than="closed_at",
        days=lambda s: s.retention_request_days,
        where={"status": ("closed",)},
    )


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    db = await Database.open(tmp_path / "bot.sqlite3")
    await db.migrate(MIGRATIONS_DIR)
    async with db.transaction() as tx:
        for statement in FEATURE_TABLES:
            await tx.execute(statement)
        rows: list[tuple[str, tuple[Any, ...]]] = [
            (
                "INSERT INTO sample_requests VALUES (1, ?, ?, 'Sven Staff', 'Wie beantrage ich KJP-Mittel?', 'open', NULL)",
                (USER, STAFF),
            ),
            (
                "INSERT INTO sample_requests VALUES (2, ?, ?, 'Erika Mustermann', 'Partner in Polen?', 'open', NULL)",
                (OTHER, USER),
            ),
            ("INSERT INTO sample_messages VALUES (1, 1, NULL, 'Unsere Kommune ist klein.')", ()),
            ("INSERT INTO sample_messages VALUES (2, 1, ?, 'Gern, ich rufe an.')", (STAFF,)),
            ("INSERT INTO sample_messages VALUES (3, 2, ?, 'Antwort der Beraterin')", (USER,)),
            ("INSERT INTO sample_ratings VALUES (1, ?, 'kjp', 1, 'sehr hilfreich, Erika')", (USER,)),
            ("INSERT INTO sample_ratings VALUES (2, ?, 'kjp', 0, NULL)", (OTHER,)),
        ]
        for sql, params in rows:
            await tx.execute(sql, params)
    await db.close()
    async with harness(tmp_path, now=NOW, setup=register_feature) as started:
        yield started


def services(h: Harness) -> BotData:
    return h.app.bot_data


async def test_export_follows_parents_and_marks_what_the_user_did(h: Harness) -> None:
    data = (await collect_export(services(h), USER, NOW))["daten"]
    assert data["sample_requests"]["eintraege"] == [
        {"id": 1, "question": "Wie beantrage ich KJP-Mittel?", "status": "open"}
    ]
    assert data["sample_requests"]["von_ihnen_vorgenommen"] == [
        {"id": 2, "question": "Partner in Polen?", "status": "open"}
    ]
    messages = data["sample_messages"]
    assert [m["text"] for m in messages["eintraege"]] == ["Unsere Kommune ist klein.", "Gern, ich rufe an."]
    assert [m["text"] for m in messages["von_ihnen_vorgenommen"]] == ["Antwort der Beraterin"]
    assert data["sample_ratings"]["eintraege"] == [
        {"topic": "kjp", "helpful": 1, "comment": "sehr hilfreich, Erika"}
    ]
    counts = {s.label: s.rows for s in await count_user_data(services(h), USER)}
    assert counts["privacy.sections.users"] == 2  # own request + claimed one
    assert counts["privacy.sections.roles"] == 3  # two messages of the own request, one written


async def test_export_hooks_add_sections(h: Harness) -> None:
    async def extra(services: BotData, user_id: int) -> Mapping[str, Any]:
        return {"anfragen_zusammenfassung": {"offen": 1, "nutzer": user_id}}

    services(h).privacy.on_export(extra)
    data = await collect_export(services(h), USER, NOW)
    assert data["daten"]["anfragen_zusammenfassung"] == {"offen": 1, "nutzer": USER}
    assert json.dumps(data)  # stays JSON-serialisable


async def test_erase_deletes_children_first_anonymises_statistics_and_clears_actor_ids(h: Harness) -> None:
    erased = {s.label: s.rows for s in await erase_user_data(services(h), USER, NOW)}
    assert erased["privacy.sections.users"] == 2 and erased["privacy.sections.roles"] == 3
    database = h.app.bot_data.settings.database
    assert traces(database, USER, "Erika") == []
    db = h.db
    assert [tuple(r) for r in await db.fetchall("SELECT id, user_id, claimed_by FROM sample_requests")] == [
        (2, OTHER, None)
    ]
    messages = await db.fetchall("SELECT id, request_id, sent_by FROM sample_messages")
    assert [tuple(r) for r in messages] == [(3, 2, None)]
    sample_ratings = await db.fetchall(
        "SELECT user_id, topic, helpful, comment FROM sample_ratings ORDER BY id"
    )
    assert [tuple(r) for r in sample_ratings] == [(None, "kjp", 1, None), (OTHER, "kjp", 0, None)]
    # Erasing again finds nothing.
    assert await erase_user_data(services(h), USER, NOW) == []


async def test_declarative_purge_removes_old_closed_requests_with_their_messages(h: Harness) -> None:
    old = to_db_time(NOW - timedelta(days=400))
    recent = to_db_time(NOW - timedelta(days=10))
    async with h.db.transaction() as tx:
        await tx.execute("UPDATE sample_requests SET status = 'closed', closed_at = ? WHERE id = 1", (old,))
        await tx.execute(
            "UPDATE sample_requests SET status = 'closed', closed_at = ? WHERE id = 2", (recent,)
        )
    results = await run_retention(services(h), NOW)
    assert results["purge sample_requests"] == 3  # request 1 and its two messages
    assert [r[0] for r in await h.db.fetchall("SELECT id FROM sample_requests")] == [2]
    assert [r[0] for r in await h.db.fetchall("SELECT id FROM sample_messages")] == [3]
    # Running it twice is harmless.
    assert (await run_retention(services(h), NOW))["purge sample_requests"] == 0
    # An open request is never purged, however old.
    async with h.db.transaction() as tx:
        await tx.execute("UPDATE sample_requests SET status = 'open', closed_at = ? WHERE id = 2", (old,))
    assert (await run_retention(services(h), NOW))["purge sample_requests"] == 0
