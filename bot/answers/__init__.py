"""Precise answers: the passage that answers a question, for the asker's Land, from structured data where it
holds the fact, read in the context of the last answer for follow-ups.

How a question is answered (``Answerer.answer``):

1. **Slots** — the question is read for a Land (name, abbreviation, adjective, a city or district of
   servicepoints.yaml ``places``), a programme (its name, short name or synonyms; a partner country stands for
   its programme: "Polen" → DPJW) and an *intent*: deadline, lead time, rate, limit (age/duration), who is
   responsible, Land funding, service point. Cue words are listed below (not user-facing).
2. **Follow-up** — a short message that only names a Land, a country or a question cue ("and in Bavaria?",
   "and for Poland?", "how far ahead?"; examples in tests/unit/test_answers.py) within
   ``bot.followup.FOLLOWUP_TTL`` of the last answer keeps that answer's topic, Land, programme and intent and
   changes only what it names. Any other message starts fresh.
3. **Land** — the question's Land, else the follow-up's, else (for Land-dependent intents only) the user's
   stored Bundesland; the answer then says which Land it assumed.
4. **Structured answers** — deadline, lead time, rate, limit and responsibility questions about a programme are
   answered from deadlines.yaml (through bot.deadlines, exactly as /fristen shows them), programmes.yaml (the
   Förder-Finder's data) and servicepoints.yaml, so answer and tools never disagree.
5. **Passages** — everything else: the article ranking of bot.search picks the article, the passage index
   (bot.passages) the section inside it. A section is chosen only when it clearly beats the article's overview
   on words that are not just the article's name; a broad question ("Was ist der KJP?") gets the overview.
6. **Honest edges** — a specific question (a rate, a deadline …) that no passage answers is marked inexact:
   the handler says so, shows what is known nearby and offers the consultation request.

The package: ``reading`` (slots), ``sections`` (which section answers), ``structured`` and ``land`` (answers from
structured data), ``answerer`` (the steps), ``ask`` (the command line).
"""

from __future__ import annotations

from bot.answers.answerer import Answerer
from bot.answers.ask import answer_json, ask_command
from bot.answers.model import Answer, Slots

__all__ = ["Answer", "Answerer", "Slots", "answer_json", "ask_command"]
