"""Follow-up context: the topic of a chat's last answer, kept in memory for a few minutes.

Short questions such as "and in Bavaria?", "and for Poland?" or "how far ahead?" only make sense after an answer. The context is what
that answer was about (article, programme, Land, intent), per chat, in memory only: bounded (the oldest chats
go first), expiring after ``FOLLOWUP_TTL``, and removed by /loeschen (handlers/advice.py registers the hook).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

# How long after an answer a short message is read as its follow-up.
FOLLOWUP_TTL = timedelta(minutes=5)
# How many chats' contexts are kept at most (the least recently answered go first).
MAX_CHATS = 5_000
# How many words of its own (beyond Land, programme, country and question cues) a follow-up may have.
MAX_TOPIC_WORDS = 2
_OPENERS = re.compile(
    r"^\s*(und|u\.|was ist mit|wie ist es|wie sieht es|wie steht es|gilt das auch|auch für|auch in|und wenn|"
    r"dasselbe|das gleiche|genauso)\b",
    re.IGNORECASE,
)
_MAX_FOLLOWUP_CHARS = 80


@dataclass(frozen=True, slots=True)
class Topic:
    """What an answer was about."""

    article_id: str | None
    programme: str | None
    land: str | None
    intent: str | None


class _SlotsLike(Protocol):
    @property
    def land(self) -> str | None: ...
    @property
    def programme(self) -> str | None: ...
    @property
    def country_programme(self) -> str | None: ...
    @property
    def intent(self) -> str | None: ...
    @property
    def topic_words(self) -> int: ...


def is_followup(question: str, slots: _SlotsLike) -> bool:
    """Whether a message reads as a follow-up: short, naming only a Land, programme, country or question cue
    ("and in Bavaria?", "and for Poland?", "how far ahead?"), or opening with "and …" (see _OPENERS) and naming
    one of them."""
    if len(question) > _MAX_FOLLOWUP_CHARS:
        return False
    names = slots.land or slots.programme or slots.country_programme or slots.intent
    if not names:
        return False
    opener = _OPENERS.match(question) is not None
    if not opener and slots.intent and (slots.programme or slots.country_programme):
        return False  # "Wann ist die DPJW-Frist?" says all it needs: a question of its own
    return slots.topic_words <= MAX_TOPIC_WORDS and (opener or slots.topic_words == 0)


class FollowupStore:
    """Per chat: the last answer's topic and when it was given. Bounded and expiring; no database."""

    def __init__(self, ttl: timedelta = FOLLOWUP_TTL, max_chats: int = MAX_CHATS) -> None:
        self.ttl = ttl
        self.max_chats = max_chats
        self._topics: OrderedDict[int, tuple[Topic, datetime]] = OrderedDict()

    def remember(self, chat_id: int, topic: Topic, now: datetime) -> None:
        self._topics[chat_id] = (topic, now)
        self._topics.move_to_end(chat_id)
        if len(self._topics) > self.max_chats:
            self.purge(now)  # expired contexts go first
        while len(self._topics) > self.max_chats:
            self._topics.popitem(last=False)

    def recall(self, chat_id: int, now: datetime) -> Topic | None:
        """The chat's last topic if it is recent enough; an expired one is dropped."""
        entry = self._topics.get(chat_id)
        if entry is None:
            return None
        topic, at = entry
        if now - at > self.ttl or now < at:
            del self._topics[chat_id]
            return None
        return topic

    def forget(self, chat_id: int) -> None:
        self._topics.pop(chat_id, None)

    def purge(self, now: datetime) -> int:
        """Drop every expired context; returns how many."""
        old = [chat for chat, (_, at) in self._topics.items() if now - at > self.ttl]
        for chat in old:
            del self._topics[chat]
        return len(old)

    def __len__(self) -> int:
        return len(self._topics)

    def __contains__(self, chat_id: object) -> bool:
        return chat_id in self._topics
