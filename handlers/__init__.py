"""Registers every handler in one ordered place. Order matters:

1. Negative groups hold cross-cutting guards that see every update (user bookkeeping in -1, one dialogue at a
   time in -10; one group each, as only the first matching handler of a group runs); they never stop processing.
2. In group 0 the first matching handler wins, so specific handlers come before general ones: deep-link
   ``/start <payload>`` handlers of the features before the plain ``/start``; conversations (which own free text
   while they are active) before the free-text search; every feature's buttons before the fallbacks.
3. ``privacy`` comes first in group 0: /datenschutz, /meine_daten and /loeschen must work even in the middle of
   another feature's form, so no conversation may swallow them.
4. ``fallback`` is last: unknown commands, unsupported messages, stale or forged buttons, and the error handler.
"""

from __future__ import annotations

from bot.context import App
from handlers import (
    advice,
    announcements,
    deadlines,
    dialogues,
    editor,
    event_form,
    events,
    fallback,
    foerderfinder,
    guided,
    privacy,
    requests,
    roles,
    standort,
    start,
    statistics,
    subscriptions,
    users,
)


def register(app: App) -> None:
    users.register(app)
    fallback.register_edits(app)  # an edited message gets a hint and reaches no feature
    privacy.register(app)  # before every conversation: /loeschen & co. work in the middle of a form
    # Features: deep-link /start handlers first (before start.register), then commands, buttons, conversations.
    advice.register(app)
    # The request form (a conversation with the deep link /start beratung), /anfragen, /offen, the request
    # buttons and the staff group's relay; it loads its relay index once, in its own group -100.
    requests.register(app)
    events.register_deep_link(app)  # /start termin_<id>
    roles.register(app)  # the deep link /start rolle_<code> before the plain /start
    subscriptions.register(app)  # menu:abo before the menu fallback; the offer after /start runs in group 1
    announcements.register(app)  # its dialogue owns free text while active: before the free-text search
    statistics.register(app)
    editor.register(app)  # /redaktion and the monthly editor report
    # Guided tools (Förder-Finder, Standortbestimmung): their conversation holds the deep link
    # "/start foerderfinder" and the menu entry, so it comes before the plain /start and the menu fallback.
    guided.register(app, (foerderfinder, standort))
    start.register(app)
    event_form.register(app)  # the coordinators' event form (a conversation)
    events.register(app)
    deadlines.register(app)  # /fristen and its buttons
    # A requester's plain text while in a dialogue with the staff: after every conversation (they own free text
    # while active), before the free-text search.
    requests.register_relay(app)
    # Free text goes to the search only when no conversation claimed it.
    advice.register_free_text(app)
    start.register_menu_fallback(app)
    fallback.register(app)
    dialogues.register(app)  # one dialogue at a time: needs every conversation registered above
