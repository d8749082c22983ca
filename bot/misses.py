"""Questions the search could not answer (``advice_misses``), stored so that erasure can reach them.

The editors need the question, not the person: before it is stored, e-mail addresses, phone numbers and links
are replaced by placeholders, and instead of the asker's id the row keeps a keyed hash of it (HMAC-SHA256 with a
secret generated per database, ``db_secrets``). Nobody reading the table can tell who asked or link two questions
to a person without the id; /loeschen, which knows the id, computes the same hash and deletes that user's rows.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

from bot.db import Database, Tx
from bot.logs import redact

SECRET_NAME = "miss_asker"
_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"']+|\b(?:t\.me|telegram\.me)/[^\s<>\"']+")
_PLACEHOLDERS = {"<e-mail>": "[E-Mail]", "<phone>": "[Telefon]", "<token>": "[entfernt]"}


def scrub(text: str) -> str:
    """The question without e-mail addresses, phone numbers and links (placeholders keep it readable)."""
    cleaned = redact(_URL.sub("[Link]", text))
    for mark, placeholder in _PLACEHOLDERS.items():
        cleaned = cleaned.replace(mark, placeholder)
    return cleaned


async def _secret(db: Database) -> bytes:
    row = await db.fetchone("SELECT value FROM db_secrets WHERE name = ?", (SECRET_NAME,))
    if row is None:
        raise RuntimeError("db_secrets has no miss_asker secret (migration 0013 missing)")
    return bytes(row["value"])


def asker_hash(secret: bytes, user_id: int) -> str:
    return hmac.new(secret, str(user_id).encode(), hashlib.sha256).hexdigest()


async def log_miss(
    db: Database,
    user_id: int | None,
    question: str,
    best_id: str | None,
    best_score: float | None,
    now: datetime,
) -> None:
    """Store an unanswered question, scrubbed, with the keyed hash of who asked."""
    asker = asker_hash(await _secret(db), user_id) if user_id is not None else None
    await db.log_miss(scrub(question), best_id, best_score, now, asker_hash=asker)


async def erase_misses(tx: Tx, db: Database, user_id: int) -> int:
    """Delete the misses ``user_id`` caused (inside the erase transaction)."""
    cur = await tx.execute(
        "DELETE FROM advice_misses WHERE asker_hash = ?", (asker_hash(await _secret(db), user_id),)
    )
    return max(cur.rowcount, 0)
