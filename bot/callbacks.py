"""The one codec for callback data: ``prefix:action:arg`` within Telegram's 64-byte limit.

Handlers register a pattern per prefix (``pattern(prefix)``) and parse with ``parse``; anything that does not
parse is a stale or forged button and gets a polite answer, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
_PART = re.compile(r"^[A-Za-z0-9_.\-]*$")


@dataclass(frozen=True, slots=True)
class Callback:
    prefix: str
    action: str
    arg: str = ""


def encode(prefix: str, action: str, arg: str | int = "") -> str:
    arg = str(arg)
    for part in (prefix, action, arg):
        if not _PART.match(part):
            raise ValueError(f"callback part {part!r} has characters outside [A-Za-z0-9_.-]")
    data = f"{prefix}:{action}:{arg}" if arg else f"{prefix}:{action}"
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data {data!r} exceeds {MAX_BYTES} bytes")
    return data


def parse(data: str | None) -> Callback | None:
    """The parsed callback, or None when the data is malformed."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":", 2)
    if len(parts) < 2 or not all(_PART.match(p) for p in parts):
        return None
    return Callback(parts[0], parts[1], parts[2] if len(parts) == 3 else "")


def pattern(prefix: str) -> str:
    return rf"^{re.escape(prefix)}:"
