"""The one codec for callback data: ``prefix:action:arg`` within Telegram's 64-byte limit.

Buttons and handler patterns are built from ``bot/keyboards.py``'s families, which encode with ``encode``;
handlers parse with ``parse``: anything that does not parse is a stale or forged button and gets a polite
answer, never an exception. Numbers in an argument (ids,
pages) are read with ``number``, which checks type and range: callback data comes from the client, and a forged
id above SQLite's 2^63−1 would otherwise raise OverflowError deep in a query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
MAX_NUMBER = 2**63 - 1  # SQLite's INTEGER range
_NUMBER = re.compile(r"^(0|[1-9][0-9]{0,18})$")
_PART = re.compile(r"^[A-Za-z0-9_.\-]*$")


@dataclass(frozen=True, slots=True)
class Callback:
    prefix: str
    action: str
    arg: str = ""

    @property
    def arg_number(self) -> int | None:
        """The argument as an id (see ``number``), or None."""
        return number(self.arg)


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


def number(text: str, *, maximum: int = MAX_NUMBER) -> int | None:
    """A non-negative id or page from callback data: ASCII digits without leading zeros, at most ``maximum``
    (default: what SQLite can store); None for anything else."""
    if not _NUMBER.match(text):
        return None
    value = int(text)
    return value if value <= maximum else None
