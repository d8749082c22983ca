"""Erasure leaves nothing behind, byte for byte: canary strings typed into every feature (an unanswerable question
included) are gone from the database file, its -wal file and a backup taken afterwards; questions without an
answer are stored without e-mail addresses, phone numbers and links, and without who asked."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from tests.handlers.test_privacy import (
    FORM_ANSWER,
    KOMMUNE,
    NAME,
    OTHER,
    REQUEST_QUESTION,
    REQUEST_REPLY,
    STANDORT_KOMMUNE,
    USER,
    add_probe,
    fill_everything,
)
from tests.harness import harness
from tests.privacy_scan import byte_traces

CANARY_WORD = "Quxplimbofrage"
EMAIL = "quxplimbo@example.org"
PHONE = "0171 2345678"
URL = "https://quxplimbo.example.org/seite"
MISS = f"Gibt es {CANARY_WORD} für Zirkusflöhe? Schreiben Sie an {EMAIL}, {PHONE} oder {URL}"
OTHER_MISS = "Gibt es Zebrafinkenzuschüsse für Trompetenkäfer?"


def misses(database: Path) -> list[tuple[str, str | None]]:
    with closing(sqlite3.connect(database)) as conn:
        return [(str(r[0]), r[1]) for r in conn.execute("SELECT question, asker_hash FROM advice_misses")]


async def test_after_erasure_no_canary_is_left_in_the_file_the_wal_or_a_later_backup(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    async with harness(tmp_path, setup=add_probe) as h:
        user = h.user(USER, NAME)
        await h.send(h.user(OTHER, "Max"), OTHER_MISS)
        [reply] = await h.send(user, MISS)
        assert "keine sichere Antwort" in reply.text  # a miss
        stored = misses(database)

        await fill_everything(h, user)  # last: it leaves a form open that takes the next text
        [(question, asker)] = [m for m in stored if CANARY_WORD in m[0]]
        for secret in (EMAIL, PHONE, URL):
            assert secret not in question
        assert "[E-Mail]" in question and "[Telefon]" in question and "[Link]" in question
        assert asker is not None and str(USER) not in asker  # a keyed hash, not the id
        canaries = (
            NAME,
            FORM_ANSWER,
            KOMMUNE,
            REQUEST_QUESTION,
            REQUEST_REPLY,
            STANDORT_KOMMUNE,
            CANARY_WORD,
        )
        files = [database, database.with_name(database.name + "-wal")]
        assert byte_traces(files, *canaries)  # the scan sees them before

        [confirm] = await h.send(user, "/loeschen")
        await h.press_label(user, confirm, h.texts("privacy.buttons.confirm"))
        backup = tmp_path / "after.sqlite3"
        await h.db.backup(backup)
        assert byte_traces([*files, backup], *canaries, EMAIL, PHONE) == []
        assert [q for q, _ in misses(database)] == [OTHER_MISS]  # another user's question stays


def test_scrub_removes_addresses_numbers_and_links_but_keeps_the_question() -> None:
    from bot.misses import scrub

    text = "Förderung für 25 Jugendliche 2027? Mail max.muster@kommune.de, Tel. +49 30 1234567, www.kommune.de/ija"
    assert scrub(text) == "Förderung für 25 Jugendliche 2027? Mail [E-Mail], Tel. [Telefon], [Link]"
