"""Command line: ``python -m bot [run|demo|ask|misses|check-content|migrate|backup|inbox|privacy]``.

A verb is one ``add_parser`` block in ``_parser``, one function taking the settings and the parsed arguments
(returning the exit code) and one line in ``VERBS``. Verbs import what they need when they run: start-up time —
``check-content`` or ``ask`` should not load python-telegram-bot and the database layer.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bot.clock import SystemClock
from bot.config import Settings, SettingsError, load_settings
from bot.logs import setup_logging

Verb = Callable[[Settings, argparse.Namespace], int]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="IJA-Lotse Telegram bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (default)")
    demo = sub.add_parser("demo", help="offline playground in the terminal")
    demo.add_argument("--database", type=Path, help="SQLite file to keep (default: a fresh temporary one)")
    ask = sub.add_parser("ask", help="ranked answers to a free-text question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="machine-readable output")
    ask.add_argument("--limit", type=int, default=5)
    misses = sub.add_parser("misses", help="unanswered questions and answer ratings, for editors")
    misses.add_argument("--limit", type=int, default=30)
    report = sub.add_parser(
        "editor-report",
        help="for editors: facts due for a check, deadlines to confirm, misses, unhelpful answers",
    )
    report.add_argument("--json", action="store_true", help="machine-readable output")
    sub.add_parser("check-content", help="validate content/")
    sub.add_parser("migrate", help="apply database migrations")
    backup = sub.add_parser("backup", help="write an online backup of the database")
    backup.add_argument("path", type=Path)
    sub.add_parser("inbox", help="updates the intake set aside (id, kind, reason, time; never content)")
    privacy = sub.add_parser("privacy", help="export or erase one user's data (requests outside Telegram)")
    privacy.add_argument("action", choices=["export", "erase"])
    privacy.add_argument("user_id", type=int, help="the person's Telegram user id")
    privacy.add_argument("--output", type=Path, help="export: write the JSON here (default: stdout)")
    privacy.add_argument("--yes", action="store_true", help="erase: confirm")
    return parser


def main(argv: list[str] | None = None) -> int:
    # Opt in to PTB's timedelta durations now rather than on its deprecation schedule.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    args = _parser().parse_args(argv)
    command = args.command or "run"
    try:
        settings = load_settings()
        # The playground prints the conversation; routine log lines would drown it unless asked for.
        quiet = command == "demo" and "BOT_LOG_LEVEL" not in os.environ
        setup_logging("WARNING" if quiet else settings.log_level, settings.log_format)
        verb = VERBS.get(command)
        return 2 if verb is None else verb(settings, args)
    except SettingsError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2


def _run(settings: Settings, args: argparse.Namespace) -> int:
    settings.require_token()
    from bot.app import run  # lazy: start-up time, only this verb loads python-telegram-bot

    run(settings)
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.demo import run_demo  # lazy: start-up time, only this verb loads it

    return asyncio.run(run_demo(settings, args.database))


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from bot.answers import ask_command  # lazy: start-up time, `ask` needs no Telegram or database layer

    return ask_command(settings, args.question, as_json=args.json, limit=args.limit)


def _misses(settings: Settings, args: argparse.Namespace) -> int:
    from bot.advice import misses_command  # lazy: start-up time, only this verb loads it

    return asyncio.run(misses_command(settings, limit=args.limit))


def _editor_report(settings: Settings, args: argparse.Namespace) -> int:
    from bot.editor_report import editor_report_command  # lazy: start-up time, only this verb loads it

    return asyncio.run(editor_report_command(settings, as_json_output=args.json))


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_migrate_database(settings))


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_backup_database(settings, args.path))


def _inbox(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_inbox_report(settings))


def _privacy(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_privacy_request(settings, args.action, args.user_id, args.output, args.yes))


def _check_content(settings: Settings, args: argparse.Namespace) -> int:
    from bot.content_check import check_content  # lazy: start-up time, no Telegram or database layer

    errors, warnings = check_content(settings.content_dir, date.today())
    for line in warnings:
        print(f"warning: {line}")
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    if errors:
        print(f"{len(errors)} error(s) in {settings.content_dir}", file=sys.stderr)
        return 1
    print(f"content OK ({settings.content_dir})")
    return 0


async def _migrate_database(settings: Settings) -> int:
    # Lazy, for start-up time: only the database verbs load the database layer (and bot.app, for the path).
    from bot.app import MIGRATIONS_DIR  # lazy: start-up time
    from bot.db import Database  # lazy: start-up time

    db = await Database.open(settings.database)
    try:
        applied = await db.migrate(MIGRATIONS_DIR)
    finally:
        await db.close()
    print("applied: " + (", ".join(applied) if applied else "nothing, database is up to date"))
    return 0


async def _backup_database(settings: Settings, target: Path) -> int:
    from bot.db import Database  # lazy: start-up time, only the database verbs load the database layer

    if not settings.database.exists():
        print(f"no database at {settings.database}", file=sys.stderr)
        return 1
    db = await Database.open(settings.database)
    try:
        await db.backup(target)
    finally:
        await db.close()
    print(f"backup written to {target}")
    return 0


async def _inbox_report(settings: Settings) -> int:
    """``python -m bot inbox``: the intake's counts and every update it set aside (unparseable or crashing the
    bot at every start), by id, kind, reason and time received: never the content, which may be personal."""
    from bot.db import Database  # lazy: start-up time, only the database verbs load the database layer

    if not settings.database.exists():
        print(f"no database at {settings.database}", file=sys.stderr)
        return 1
    db = await Database.open(settings.database)
    try:
        counts = await db.inbox_counts()
        rows = await db.inbox_set_aside_rows()
    finally:
        await db.close()
    states = ("pending", "done", "set_aside")
    print("inbox: " + ", ".join(f"{state} {counts.get(state, 0)}" for state in states))
    if not rows:
        print("no updates set aside")
        return 0
    print(f"set aside ({len(rows)}):")
    for update_id, kind, reason, received_at in rows:
        stamp = received_at.astimezone(settings.tz).isoformat(timespec="seconds")
        print(f"  {update_id}  {kind:<16} {stamp}  {reason or ''}")
    return 0


async def _privacy_request(
    settings: Settings, action: str, user_id: int, output: Path | None, confirmed: bool
) -> int:
    """The same export and erasure as /meine_daten and /loeschen, for requests that reach the operator by
    e-mail or letter. Safe while the bot runs; a form the person has open in the running bot ends at its
    next restart at the latest."""
    # Lazy, for start-up time: only this verb builds the application (python-telegram-bot, content, database).
    from bot.app import build_application  # lazy: start-up time
    from bot.content import load_content  # lazy: start-up time
    from bot.offline import OfflineBotApi  # lazy: start-up time
    from bot.privacy import collect_export, erase_user_data, export_document  # lazy: start-up time

    if action == "erase" and not confirmed:
        print(f"this erases everything stored about user {user_id}; repeat with --yes", file=sys.stderr)
        return 1
    if not settings.database.exists():
        print(f"no database at {settings.database}", file=sys.stderr)
        return 1
    # The application is only built (for its registry), never started: nothing is sent from here, erase
    # hooks' notices are outbox rows the running bot delivers.
    app = build_application(settings, request=OfflineBotApi())
    services = app.bot_data
    db = await services.open_database()
    try:
        services.content = load_content(settings.content_dir)
        now = SystemClock().now()
        if action == "export":
            document = export_document(await collect_export(services, user_id, now))
            if output is None:
                sys.stdout.write(document.decode("utf-8") + "\n")
            else:
                output.write_bytes(document)
                print(f"export written to {output}", file=sys.stderr)
            return 0
        erased = await erase_user_data(services, user_id, now)
        for section in erased:
            print(f"{services.texts(section.label)}: {section.rows}")
        print("erased" if erased else "nothing stored about this user")
        return 0
    finally:
        await db.close()


VERBS: dict[str, Verb] = {
    "run": _run,
    "demo": _demo,
    "ask": _ask,
    "misses": _misses,
    "editor-report": _editor_report,
    "check-content": _check_content,
    "migrate": _migrate,
    "backup": _backup,
    "inbox": _inbox,
    "privacy": _privacy,
}
