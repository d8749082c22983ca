"""The guided self-check (Standortbestimmung): a few results kept per user."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.db.core import DatabaseCore, from_db_time, to_db_time


@dataclass(frozen=True, slots=True)
class StandortRow:
    id: int
    user_id: int
    created_at: datetime
    kommune: str
    kommune_type: str
    bundesland: str
    answers: dict[str, str]
    stage: int
    score: int


class StandortMixin(DatabaseCore):
    """The guided self-check (Standortbestimmung): a few results kept per user."""

    # Self-checks kept per user: enough to show progress, no long history (data minimisation).
    STANDORT_KEEP = 5

    async def save_standort_result(
        self,
        user_id: int,
        now: datetime,
        *,
        kommune: str,
        kommune_type: str,
        bundesland: str,
        answers: dict[str, str],
        stage: int,
        score: int,
    ) -> int:
        """Store a completed self-check and drop the user's oldest beyond ``STANDORT_KEEP``."""
        async with self.transaction() as tx:
            cur = await tx.execute(
                "INSERT INTO standort_results "
                "(user_id, created_at, kommune, kommune_type, bundesland, answers, stage, score) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    user_id,
                    to_db_time(now),
                    kommune,
                    kommune_type,
                    bundesland,
                    json.dumps(answers, ensure_ascii=False, sort_keys=True),
                    stage,
                    score,
                ),
            )
            await tx.execute(
                "DELETE FROM standort_results WHERE user_id = ? AND id NOT IN "
                "(SELECT id FROM standort_results WHERE user_id = ? ORDER BY id DESC LIMIT ?)",
                (user_id, user_id, self.STANDORT_KEEP),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    async def standort_results(self, user_id: int, limit: int = 1) -> list[StandortRow]:
        """The user's latest self-checks, newest first."""
        rows = await self.fetchall(
            "SELECT * FROM standort_results WHERE user_id = ? ORDER BY id DESC LIMIT ?", (user_id, limit)
        )
        return [
            StandortRow(
                id=int(r["id"]),
                user_id=int(r["user_id"]),
                created_at=from_db_time(str(r["created_at"])),
                kommune=str(r["kommune"]),
                kommune_type=str(r["kommune_type"]),
                bundesland=str(r["bundesland"]),
                answers={str(k): str(v) for k, v in json.loads(r["answers"]).items()},
                stage=int(r["stage"]),
                score=int(r["score"]),
            )
            for r in rows
        ]
