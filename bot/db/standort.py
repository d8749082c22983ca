"""The guided self-check (Standortbestimmung): a few results kept per user."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.db.core import DatabaseCore, to_db_time


@dataclass(frozen=True, slots=True)
class StandortRow:
    """A completed self-check: the Kommune described, the answers given, the stage and score reached."""

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
            row_id = await tx.insert(
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
            return row_id

    async def standort_results(self, user_id: int, limit: int = 1) -> list[StandortRow]:
        """The user's latest self-checks, newest first."""
        return await self.fetch_rows(
            StandortRow,
            "SELECT * FROM standort_results WHERE user_id = ? ORDER BY id DESC LIMIT ?",
            (user_id, limit),
        )
