"""What ``python -m bot`` does before any of the bot's modules load (memory at rest)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence


def import_telegram_without_tornado() -> None:
    """Import python-telegram-bot without the tornado web framework (3.3 MB resident at rest).

    ``telegram.ext`` imports tornado whenever it is installed, for PTB's own webhook server
    (``Updater.start_webhook``), which the bot never uses: updates come through ``bot.intake``, and in webhook
    mode ``bot.webhook`` imports tornado itself when the server starts. With the import blocked for this one
    moment PTB records that its webhook server is unavailable; the block is lifted at once afterwards.
    """
    if "telegram.ext" in sys.modules or "tornado" in sys.modules:
        return  # too late, or tornado is in use already: nothing to save
    sys.modules["tornado"] = None  # type: ignore[assignment]  # None makes "import tornado…" fail at once
    try:
        importlib.import_module("telegram.ext")
    finally:
        del sys.modules["tornado"]


def build_content_early(argv: Sequence[str]) -> None:
    """For ``run``: start building the pre-built content (``bot.prebuilt``) in a child process before
    python-telegram-bot and the handlers load, if the content or code changed since the file was built.

    A start after a content change took 2.1 s to the first answer, 0.7 s of it before the build began; now the
    build runs beside that part of the start. Settings that do not load are left to the command line to report.
    """
    if list(argv[:1]) not in ([], ["run"]):
        return
    # Imported here, not at the top: ``import_telegram_without_tornado`` runs before this module's users load
    # anything else, and the demo and the other verbs never need these.
    from bot import prebuilt
    from bot.config import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError:
        return
    prebuilt.start_early(settings.content_dir, settings.database.parent)
