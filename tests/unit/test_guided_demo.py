"""``python -m bot demo`` walks through the Förder-Finder and the Standortbestimmung from piped input."""

from __future__ import annotations

import re
from pathlib import Path

from docx import Document

from tests.demo_run import run_demo

# Förder-Finder: Polen, Jugendbegegnung, 14–17, the number 10 typed as text ('10), Bayern.
FOERDERFINDER = ["/foerderfinder", "2", "1", "3", "'10", "2"]
# Standortbestimmung: name, Stadt, Nordrhein-Westfalen, eight answers (1 ja, 2 teilweise, 3 nein).
STANDORT = ["/standort", "Musterstadt", "1", "10", "1", "2", "3", "3", "3", "1", "3", "3"]


def test_demo_walks_through_both_guided_tools() -> None:
    out = run_demo([*FOERDERFINDER, *STANDORT, "/quit"])
    assert "1. Deutsch-Polnisches Jugendwerk (DPJW)" in out
    assert "Bayerische Jugendring (BJR)" in out
    assert "Ihre Stufe: 2 von 5" in out
    saved = re.search(r"Datei gespeichert: (\S+\.docx)", out)
    assert saved is not None, out[-2000:]
    path = Path(saved.group(1))
    try:
        assert "Musterstadt" in "\n".join(p.text for p in Document(str(path)).paragraphs)
    finally:
        path.unlink(missing_ok=True)
