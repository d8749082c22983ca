"""Advice: answer ratings, unanswered questions (misses) and the editors' monthly report built from them."""

from __future__ import annotations

import enum
from datetime import datetime

from bot.db.core import DatabaseCore, Tx, from_db_time, to_db_time


class Rating(enum.Enum):
    """What storing a rating did: a first rating, a changed one, or the same as before (nothing stored)."""

    NEW = "new"
    CHANGED = "changed"
    KEPT = "kept"


class AdviceMixin(DatabaseCore):
    """Advice: answer ratings, unanswered questions (misses) and the editors' monthly report built from them."""

    async def rate_article(self, user_id: int, article_id: str, helpful: bool, now: datetime) -> Rating:
        """Store the user's rating of an answer (one per user and article): new, changed or as before."""
        async with self.transaction() as tx:
            existing = await tx.fetchone(
                "SELECT helpful FROM advice_ratings WHERE user_id = ? AND article_id = ?",
                (user_id, article_id),
            )
            if existing is not None and bool(existing[0]) == helpful:
                return Rating.KEPT
            await tx.execute(
                "INSERT INTO advice_ratings (user_id, article_id, helpful, rated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(user_id, article_id) DO UPDATE SET helpful = excluded.helpful, "
                "rated_at = excluded.rated_at",
                (user_id, article_id, int(helpful), to_db_time(now)),
            )
            return Rating.NEW if existing is None else Rating.CHANGED

    async def article_ratings(self, article_id: str) -> tuple[int, int]:
        """(helpful, not helpful) counts."""
        row = await self.fetchone(
            "SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0) FROM advice_ratings "
            "WHERE article_id = ?",
            (article_id,),
        )
        return (int(row[0]), int(row[1])) if row is not None else (0, 0)

    async def log_miss(
        self,
        question: str,
        best_id: str | None,
        best_score: float | None,
        now: datetime,
        *,
        asker_hash: str | None = None,
    ) -> None:
        """Store a miss as given; features call ``bot.misses.log_miss``, which scrubs it and hashes the asker."""
        await self.write(
            "INSERT INTO advice_misses (question, best_id, best_score, created_at, asker_hash) "
            "VALUES (?, ?, ?, ?, ?)",
            (question[:500], best_id, best_score, to_db_time(now), asker_hash),
        )

    async def recent_misses(self, limit: int = 50) -> list[tuple[str, str | None, datetime]]:
        rows = await self.fetchall(
            "SELECT question, best_id, created_at FROM advice_misses ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [(str(r["question"]), r["best_id"], from_db_time(str(r["created_at"]))) for r in rows]

    async def frequent_misses(self, limit: int) -> list[tuple[str, int, datetime]]:
        """Unanswered questions, the same wording (case and outer spaces aside) counted together: most frequent
        first, then the latest; each with how often and when it was last asked."""
        rows = await self.fetchall(
            "SELECT MIN(question) AS question, COUNT(*) AS n, MAX(created_at) AS last FROM advice_misses "
            "GROUP BY lower(trim(question)) ORDER BY n DESC, last DESC LIMIT ?",
            (limit,),
        )
        return [(str(r["question"]), int(r["n"]), from_db_time(str(r["last"]))) for r in rows]

    async def unhelpful_articles(self) -> list[tuple[str, int, int]]:
        """(article id, not helpful, helpful) for every article rated unhelpful at least once, most often first."""
        rows = await self.fetchall(
            "SELECT article_id, SUM(1 - helpful) AS bad, SUM(helpful) AS good FROM advice_ratings "
            "GROUP BY article_id HAVING bad > 0 ORDER BY bad DESC, good ASC, article_id"
        )
        return [(str(r["article_id"]), int(r["bad"]), int(r["good"])) for r in rows]

    async def editor_report_subscribed(self, user_id: int) -> bool:
        row = await self.fetchone("SELECT 1 FROM editor_report_subscriptions WHERE user_id = ?", (user_id,))
        return row is not None

    async def subscribe_editor_report(self, user_id: int, now: datetime, month: str) -> bool:
        """Subscribe (the first report comes the month after ``month``); False if already subscribed."""
        added = await self.write(
            "INSERT OR IGNORE INTO editor_report_subscriptions (user_id, subscribed_at, last_sent_month) "
            "VALUES (?, ?, ?)",
            (user_id, to_db_time(now), month),
        )
        return added > 0

    async def unsubscribe_editor_report(self, user_id: int) -> bool:
        return await self.write("DELETE FROM editor_report_subscriptions WHERE user_id = ?", (user_id,)) > 0

    async def editor_reports_due(self, month: str) -> list[int]:
        """Subscribers who have not had the report of ``month`` (YYYY-MM)."""
        rows = await self.fetchall(
            "SELECT user_id FROM editor_report_subscriptions WHERE last_sent_month < ? ORDER BY user_id",
            (month,),
        )
        return [int(r["user_id"]) for r in rows]

    @staticmethod
    async def mark_editor_report_sent(tx: Tx, user_id: int, month: str) -> None:
        await tx.execute(
            "UPDATE editor_report_subscriptions SET last_sent_month = ? WHERE user_id = ?", (month, user_id)
        )

    @staticmethod
    async def end_editor_report(tx: Tx, user_id: int) -> None:
        """Inside the outbox's failure transaction: the coordinator blocked the bot."""
        await tx.execute("DELETE FROM editor_report_subscriptions WHERE user_id = ?", (user_id,))
