"""Helpers for the events, deadlines and reminders tests: run the reminder tick, drain the outbox, build content."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, cast

import yaml
from telegram.ext import CallbackContext

from bot.context import Context
from bot.offline import SentMessage
from bot.reminder_tick import TickState
from handlers.events import reminder_tick
from tests.harness import Harness

ROOT = Path(__file__).resolve().parents[1]


async def tick(h: Harness) -> None:
    """One run of the real reminder job (with its own state), then deliver everything due."""
    job = h.job("reminder_tick")
    assert isinstance(job.data, TickState)
    context = cast(Context, CallbackContext.from_job(job, h.app))
    await reminder_tick(context)
    await drain(h)


async def drain(h: Harness) -> None:
    """Deliver every due outbox row (waiting for a worker that is already running)."""
    await h.deliver()


def _keep_laenderstellen_of(root: Path, programme_ids: set[str]) -> None:
    """servicepoints.yaml names the programmes each Länderstelle takes; with the programmes replaced, only the
    Länderstellen of those that remain stay (the check refuses a Länderstelle of an unknown programme)."""
    path = root / "servicepoints.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for land in data["laender"]:
        kept = []
        for stelle in land.get("laenderstelle") or []:
            stelle["programmes"] = [p for p in stelle["programmes"] if p in programme_ids]
            if stelle["programmes"]:
                kept.append(stelle)
        land["laenderstelle"] = kept
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def content_copy(
    tmp_path: Path,
    *,
    seeds: list[dict[str, Any]] | None = None,
    deadlines: list[dict[str, Any]] | None = None,
    programmes: list[dict[str, Any]] | None = None,
    reminders: dict[str, Any] | None = None,
) -> Path:
    """A copy of content/ with seed events, replaced deadline rules or reminder settings."""
    root = tmp_path / "content"
    if not root.exists():
        shutil.copytree(ROOT / "content", root)
    if seeds is not None:
        data = yaml.safe_load((root / "events.yaml").read_text(encoding="utf-8"))
        data["events"] = seeds
        (root / "events.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    if deadlines is not None:
        data = yaml.safe_load((root / "deadlines.yaml").read_text(encoding="utf-8"))
        data["deadlines"] = deadlines
        if programmes is not None:
            data["programmes"] = programmes
            _keep_laenderstellen_of(root, {str(p["id"]) for p in programmes})
        (root / "deadlines.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    if reminders is not None:
        (root / "reminders.yaml").write_text(yaml.safe_dump(reminders), encoding="utf-8")
    return root


def reminders_sent(h: Harness, user_id: int) -> list[SentMessage]:
    return [m for m in h.api.sent_to(user_id) if m.text.startswith("⏰")]


def button_data(message: SentMessage, label_part: str) -> str:
    for button in message.buttons():
        if label_part in button["text"] and "callback_data" in button:
            return str(button["callback_data"])
    raise AssertionError(f"no button {label_part!r} in {[b['text'] for b in message.buttons()]}")
