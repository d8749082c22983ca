"""The demo walks a consultation request from the form to the staff group and back (piped input, offline)."""

from __future__ import annotations

from tests.demo_run import run_demo

WALK = [
    "/beratung",
    "Stadt <b>Demo</b>",
    "1",  # Baden-Württemberg
    "1",  # Jugendamt
    "1",  # first topic
    "Wie finden wir eine Partnerorganisation in Polen?",
    "1",  # Telegram
    "1",  # privacy notice read
    "1",  # Absenden
    "/gruppe",
    "1",  # Übernehmen
    "Hallo, wir helfen gern! Wie viele Jugendliche fahren mit?",
    "/privat",
    "20 Jugendliche, 14 bis 17 Jahre.",
    "/gruppe",
    "/offen",
    "2",  # Erledigt (the staff post's buttons, though the requester got buttons since)
    "/privat",
    "5",  # the rating
    "/quit",
]


def test_a_request_can_be_walked_through_in_the_demo() -> None:
    out = run_demo(WALK)
    staff_post = out.index("── Staff-Gruppe\n📨 Anfrage #1 · neu")
    assert "Kommune: Stadt <b>Demo</b>" in out[staff_post:]  # shown as typed
    assert "(als Antwort auf Anfrage #1)" in out
    assert "Antwort des Beratungsteams zu Ihrer Anfrage #1:\n\nHallo, wir helfen gern!" in out
    assert "Nachricht von Demo zu Anfrage #1:\n\n20 Jugendliche" in out
    assert "Offene Anfragen (1)" in out
    assert "Ihre Anfrage #1 ist erledigt." in out
    assert "Vielen Dank für Ihre Bewertung der Anfrage #1: 5 von 5." in out
    assert "Keine Schaltfläche" not in out
