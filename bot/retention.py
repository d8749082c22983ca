"""The daily maintenance job: retention rules from the privacy registry, then the automatic backup.

Scheduled with the job queue at ``BOT_MAINTENANCE_TIME`` (local time). Each rule finds its work from the
database (rows past their time), so a second run on the same day, or a run after a missed day, is harmless.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.backups import BackupError, backup_now
from bot.context import App, BotData, Context
from bot.intake import purge_inbox
from bot.privacy import RetentionRun

log = logging.getLogger(__name__)

JOB_NAME = "daily_maintenance"


async def run_retention(services: BotData, now: datetime) -> dict[str, int]:
    """Run every registered retention rule in order; a failing rule is logged and the others still run."""
    run = RetentionRun(services.db, now, services.settings)
    results: dict[str, int] = {}
    for name, rule in services.privacy.rules:
        try:
            results[name] = await rule(run)
        except Exception:
            log.exception("retention rule %r failed", name)
    changed = {name: n for name, n in results.items() if n}
    log.info("retention: %s", ", ".join(f"{k}: {v}" for k, v in changed.items()) or "nothing to purge")
    return results


async def daily_maintenance(context: Context) -> None:
    """Job: retention first (so the backup holds no expired data), then the backup when a folder is set."""
    services = context.bot_data
    now = services.clock.now()
    await run_retention(services, now)
    settings = services.settings
    if settings.backup_dir is not None:
        try:
            await backup_now(services.db, settings.backup_dir, settings.backup_keep, now, settings.tz)
        except (BackupError, OSError) as exc:
            log.error("automatic backup failed: %s", exc)


async def reduce_announcement_ledgers(run: RetentionRun) -> int:
    """A finished announcement's recipients (outbox rows with chat ids) become counts after
    ``BOT_RETENTION_ANNOUNCEMENT_DAYS`` — or earlier when the generic outbox purge would otherwise delete them
    first; the start time is before every row's send time, so no row goes uncounted."""
    settings = run.settings
    days = min(settings.retention_announcement_days, settings.retention_outbox_days)
    reduced = 0
    for ref in await run.db.finished_announcement_refs(run.now - timedelta(days=days)):
        reduced += await run.db.reduce_ledger(ref, run.now)
    return reduced


async def purge_inbox_rows(run: RetentionRun) -> int:
    """The intake's inbox: handled update ids after a day, set-aside updates after 30 days."""
    return await purge_inbox(run.db, run.now)


def schedule_maintenance(app: App) -> None:
    """Once a day at ``BOT_MAINTENANCE_TIME`` in ``BOT_TIMEZONE`` (replacing an earlier schedule)."""
    settings = app.bot_data.settings
    job_queue = app.job_queue
    assert job_queue is not None
    for job in job_queue.get_jobs_by_name(JOB_NAME):
        job.schedule_removal()
    at = settings.maintenance_time.replace(tzinfo=settings.tz)
    job_queue.run_daily(daily_maintenance, time=at, name=JOB_NAME)
