"""Every column that holds a Telegram user id is in the privacy registry, so /meine_daten and /loeschen cover it.

The rule (DESIGN/BRIEF): such columns are named ``user_id``, ``*_user_id``, ``*_by`` or ``chat_id`` (a private
chat's id is the user's id); the few others are listed in ``bot.privacy.ID_COLUMNS_BY_OTHER_NAME``, and a
registration may declare a column of that name to hold none (``not_user_ids``, with the reason). A feature that adds such a column without registering its table
(``app.bot_data.privacy.table(PersonalTable(...))`` in its handlers module) fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import MIGRATIONS_DIR
from bot.db import Database
from bot.privacy import ID_COLUMNS_BY_OTHER_NAME, Link, Parent, PersonalTable, PrivacyRegistry, core_registry
from bot.privacy_features import register_feature_tables
from handlers.editor import register_privacy as register_editor_privacy
from tests.harness import Harness


async def test_every_user_id_column_of_the_migrated_schema_is_registered(bot: Harness) -> None:
    schema = await bot.db.schema()
    assert {"users", "roles", "role_changes", "outbox", "conversations", "user_data"} <= set(schema)
    problems = bot.app.bot_data.privacy.problems(schema)
    assert problems == [], "\n".join(problems)
    # The explicit list is not stale: each of those columns still exists.
    for table, column in ID_COLUMNS_BY_OTHER_NAME:
        assert column in {c.name for c in schema.get(table, [])}, f"{table}.{column} is gone"


async def test_an_unregistered_id_column_is_reported(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "x.sqlite3")
    try:
        await db.migrate(MIGRATIONS_DIR)
        async with db.transaction() as tx:
            await tx.execute(
                "CREATE TABLE follows (id INTEGER PRIMARY KEY, follower_user_id INTEGER, added_by INTEGER)"
            )
            await tx.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER, text TEXT)")
            await tx.execute("CREATE TABLE pings (id INTEGER PRIMARY KEY, chat_id INTEGER, note_id INTEGER)")
        registry = core_registry()
        register_feature_tables(registry)
        register_editor_privacy(registry)  # features since the registry register their own tables
        problems = registry.problems(await db.schema())
        assert any(p.startswith("follows.follower_user_id:") for p in problems)
        assert any(p.startswith("follows.added_by:") for p in problems)
        assert any(p.startswith("notes.user_id:") for p in problems)
        assert any(p.startswith("pings.chat_id:") for p in problems)
        registry.table(
            PersonalTable(
                "follows",
                label="x",
                ids={"follower_user_id": Link.SUBJECT, "added_by": Link.ACTOR},
                export=("id",),
            )
        )
        registry.table(PersonalTable("notes", label="y", ids={"user_id": Link.SUBJECT}, export=("text",)))
        # A chat_id that is always a group's: registered through its parent, declared to hold no user id.
        registry.table(
            PersonalTable(
                "pings",
                label="y",
                parent=Parent("note_id", "notes"),
                not_user_ids={"chat_id": "the staff group"},
            )
        )
        assert registry.problems(await db.schema()) == []
        # A registration naming something the database does not have is reported too.
        registry.table(PersonalTable("ghosts", label="z", ids={"user_id": Link.SUBJECT}))
        registry.table(
            PersonalTable("notes_typo", label="z", parent=Parent("note_id", "notes"), export=("nope",))
        )
        problems = registry.problems(await db.schema())
        assert "ghosts: registered but not in the database" in problems
        assert "notes_typo: registered but not in the database" in problems
    finally:
        await db.close()


def test_registrations_are_checked_when_made() -> None:
    registry = PrivacyRegistry()
    with pytest.raises(ValueError, match="an id column or a parent"):
        registry.table(PersonalTable("t", label="x", export=("text",)))
    with pytest.raises(ValueError, match="clear_with"):
        registry.table(
            PersonalTable("t", label="x", ids={"user_id": Link.SUBJECT}, clear_with={"user_id": ("name",)})
        )
    with pytest.raises(ValueError, match="identifier"):
        registry.table(PersonalTable("t; DROP TABLE users", label="x", ids={"user_id": Link.SUBJECT}))
    with pytest.raises(ValueError, match="parent"):
        registry.table(PersonalTable("child", label="x", parent=Parent("p_id", "not_registered")))
    with pytest.raises(ValueError, match="either a user id or not"):
        registry.table(
            PersonalTable("t", label="x", ids={"chat_id": Link.SUBJECT}, not_user_ids={"chat_id": "group"})
        )
    registry.table(PersonalTable("t", label="x", ids={"user_id": Link.SUBJECT}))
    with pytest.raises(ValueError, match="twice"):
        registry.table(PersonalTable("t", label="x", ids={"user_id": Link.SUBJECT}))
