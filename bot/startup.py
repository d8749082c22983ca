"""What ``python -m bot`` does before any of the bot's modules load (memory at rest)."""

from __future__ import annotations

import importlib
import sys


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
