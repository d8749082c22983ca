"""Expected failures: what Telegram answers when a user blocked the bot, a message did not change, a press is too
old to answer, or the network failed after every try. They are part of running a bot, not defects: the error
handler logs them at INFO or WARNING in one line without a traceback and counts them here; only what no rule
names is logged as ERROR with its traceback (a defect to fix).
"""

from __future__ import annotations

from collections import Counter

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

# Conditions after which the user has already seen the effect or cannot be reached: nothing to tell them.
SILENT = frozenset({"blocked", "deactivated", "kicked", "not_modified"})

counts: Counter[str] = Counter()


def expected_condition(error: BaseException | None) -> str | None:
    """A short name for an expected failure, or None for a defect."""
    if error is None:
        return None
    text = str(error).lower()
    if isinstance(error, Forbidden):
        if "deactivated" in text:
            return "deactivated"
        if "kicked" in text or "not a member" in text:
            return "kicked"
        return "blocked"
    if isinstance(error, BadRequest):
        if "message is not modified" in text:
            return "not_modified"
        if "query is too old" in text or "query id is invalid" in text:
            return "query_too_old"
        if "message to edit not found" in text or "message to delete not found" in text:
            return "message_gone"
        return None  # a request the bot built wrongly: a defect
    if isinstance(error, RetryAfter):
        return "flood"
    if isinstance(error, TimedOut):
        return "timeout"
    if isinstance(error, NetworkError):
        return "network"
    return None


def note(condition: str) -> int:
    """Count one occurrence; returns the count so far."""
    counts[condition] += 1
    return counts[condition]


def summary() -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "none"
