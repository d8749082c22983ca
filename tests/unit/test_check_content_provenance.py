"""check-content on provenance: each error an editor can make with facts, checks and Länderstellen, and the
homepage warning. Each test builds a small content folder in tmp_path (the real content with a generated
servicepoints.yaml, one test article with facts and a converted deadlines.yaml), then breaks one thing."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content import load_content
from bot.content_check import check_content
from bot.content_models.base import LAND_CODES

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 6)
CHECKED = date(2026, 12, 1)
ARTICLE = "articles/zz-fakten.md"


def _fact(fact_id: str, kind: str = "limit", **changes: Any) -> dict[str, Any]:
    fact: dict[str, Any] = {
        "id": fact_id,
        "kind": kind,
        "claim": "Teilnehmende 12 bis 26 Jahre",
        "source": {"title": "Förderkriterien", "url": "https://example.org/foerderkriterien"},
        "checked": CHECKED,
    }
    fact.update(changes)
    return {k: v for k, v in fact.items() if v is not None}


def _land(code: str, **changes: Any) -> dict[str, Any]:
    land: dict[str, Any] = {
        "code": code,
        "name": f"Land {code}",
        "places": [f"Stadt {code}"],
        "laenderstelle": [
            {
                "programmes": ["kjp"],
                "who": f"Landesjugendamt {code}",
                "what": "Länderstelle für kommunale Träger",
                "url": f"https://example.org/{code.lower()}/laenderstelle",
                "checked": CHECKED,
            }
        ],
        "points": [],
        "programmes": [],
        "no_programme": "Kein eigenes Landesprogramm bekannt (geprüft 01.12.2026) – fragen Sie das Landesjugendamt.",
    }
    land.update(changes)
    return land


class Folder:
    """The copy under test: its article facts, Länder and deadline rules, written on ``write()``."""

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "content"
        shutil.copytree(ROOT / "content", self.root)
        self.facts = [_fact("test-alter"), _fact("test-frist", kind="deadline")]
        self.sources: list[dict[str, Any]] = [
            {"title": "Förderkriterien", "url": "https://example.org/foerderkriterien", "checked": CHECKED}
        ]
        self.laender = {code: _land(code) for code in LAND_CODES}
        servicepoints = self._yaml("servicepoints.yaml")
        self.fallback = servicepoints["fallback"]
        self.deadlines = self._yaml("deadlines.yaml")
        for rule in self.deadlines["deadlines"]:
            rule.pop("stand", None)
            rule["checked"] = CHECKED
            rule["source"]["url"] = rule["source"]["url"].rstrip("/") + "/fristen"
            if rule.get("dates") and "expected" not in rule and "none" not in rule:
                rule["expected"] = {"months": sorted({d.month for d in rule["dates"]})}
        self.programmes = self._yaml("programmes.yaml")
        self.programmes.pop("laenderstellen", None)
        self.programmes.pop("stand", None)
        for programme in self.programmes["programmes"]:
            programme.pop("stand", None)
            for source in programme["sources"]:
                source["checked"] = CHECKED
            programme["checked"] = CHECKED
            programme["deadline"].pop("year", None)
            programme["deadline"]["checked"] = CHECKED
            programme["deadline"]["source"]["url"] = "https://example.org/fristen"
        self.programmes["programmes"][0]["rates"] = [
            {
                "what": "Programmtag in Deutschland",
                "amount": "bis zu 24 €",
                "source": {"title": "Richtlinien", "url": "https://example.org/richtlinien"},
                "checked": date(2026, 11, 30),
            }
        ]
        first = next((self.root / "articles").glob("*.md")).read_text(encoding="utf-8")
        self.topic = next(line[7:] for line in first.splitlines() if line.startswith("topic: "))

    def _yaml(self, name: str) -> Any:
        return yaml.safe_load((self.root / name).read_text(encoding="utf-8"))

    def write(self) -> Path:
        meta = {
            "id": "zz-fakten",
            "title": "Testartikel mit Fakten",
            "topic": self.topic,
            "summary": "Ein Artikel, der Fakten mit Quelle und Prüfdatum trägt.",
            "sources": self.sources,
            "facts": self.facts,
        }
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
        (self.root / ARTICLE).write_text(
            f"---\n{front}---\nTeilnehmende sind 12 bis 26 Jahre alt.\n", encoding="utf-8"
        )
        servicepoints = {"laender": list(self.laender.values()), "fallback": self.fallback}
        (self.root / "servicepoints.yaml").write_text(
            yaml.safe_dump(servicepoints, allow_unicode=True), encoding="utf-8"
        )
        (self.root / "programmes.yaml").write_text(
            yaml.safe_dump(self.programmes, allow_unicode=True), encoding="utf-8"
        )
        (self.root / "deadlines.yaml").write_text(
            yaml.safe_dump(self.deadlines, allow_unicode=True), encoding="utf-8"
        )
        return self.root


def _mine(lines: list[str]) -> list[str]:
    """The lines about what this test wrote (the rest of the copy is the real content, still converting)."""
    mine = (ARTICLE, "servicepoints.yaml", "deadlines.yaml", "programmes.yaml")
    return [line for line in lines if line.startswith(mine)]


def test_a_small_folder_in_the_new_format_is_clean(tmp_path: Path) -> None:
    root = Folder(tmp_path).write()
    errors, warnings = check_content(root, TODAY)
    assert errors == []
    assert _mine(warnings) == []
    content = load_content(root)
    assert content.articles["zz-fakten"].shown_stand == CHECKED  # derived from the facts' checks
    hessen = content.servicepoints.land("HE")
    stelle = hessen.laenderstelle_for("kjp")
    assert stelle is not None and stelle.who == "Landesjugendamt HE"
    assert hessen.laenderstelle_for("esk") is None
    first = content.tools.programmes.programmes[0]
    assert first.rates[0].amount == "bis zu 24 €"
    assert first.checked_on == date(2026, 11, 30)  # the oldest of programme, deadline note and rates


def _set(path: list[str], value: Any) -> Callable[[Folder], object]:
    def mutate(folder: Folder) -> None:
        target: Any = folder
        for step in path[:-1]:
            target = (
                getattr(target, step)
                if isinstance(target, Folder)
                else target[int(step) if step.isdigit() else step]
            )
        target[int(path[-1]) if path[-1].isdigit() else path[-1]] = value

    return mutate


ERRORS: list[tuple[str, Callable[[Folder], object], str]] = [
    (
        "a deadline checked more than 6 months ago",
        _set(["facts", "1", "checked"], date(2026, 6, 5)),
        f"{ARTICLE}: fact test-frist: last checked 2026-06-05, more than 6 months ago (kind deadline)",
    ),
    (
        "a limit checked more than 12 months ago",
        _set(["facts", "0", "checked"], date(2025, 12, 5)),
        f"{ARTICLE}: fact test-alter: last checked 2025-12-05, more than 12 months ago (kind limit)",
    ),
    (
        "a deadline rule checked more than 6 months ago",
        _set(["deadlines", "deadlines", "0", "checked"], date(2026, 5, 1)),
        "more than 6 months ago (kind deadline)",
    ),
    (
        "a Länderstelle checked more than 12 months ago",
        _set(["laender", "HE", "laenderstelle", "0", "checked"], date(2025, 11, 30)),
        "servicepoints.yaml: Land HE: Länderstelle 1: last checked 2025-11-30, more than 12 months ago (kind body)",
    ),
    (
        "a rate checked more than 12 months ago",
        _set(["programmes", "programmes", "0", "rates", "0", "checked"], date(2025, 11, 1)),
        "rate 1: last checked 2025-11-01, more than 12 months ago (kind amount)",
    ),
    (
        "a fact without source",
        _set(["facts", "0", "source"], None),
        f"{ARTICLE}: fact test-alter: no source",
    ),
    (
        "a fact without checked",
        _set(["facts", "0", "checked"], None),
        f"{ARTICLE}: fact test-alter: no 'checked:' date",
    ),
    (
        "a Länderstelle without checked",
        _set(["laender", "HE", "laenderstelle", "0", "checked"], None),
        "servicepoints.yaml: Land HE: Länderstelle 1: no 'checked:' date",
    ),
    (
        "an article source without checked",
        lambda folder: folder.sources[0].pop("checked"),
        f"{ARTICLE}: source https://example.org/foerderkriterien: no 'checked:' date",
    ),
    (
        "a programme source without checked",
        lambda folder: [s.pop("checked", None) for s in folder.programmes["programmes"][0]["sources"]],
        "source https://",
    ),
    (
        "a checked date in the future",
        _set(["facts", "0", "checked"], date(2026, 12, 24)),
        f"{ARTICLE}: fact test-alter: checked 2026-12-24 lies in the future",
    ),
    (
        "a duplicate fact id",
        _set(["facts", "1", "id"], "test-alter"),
        f"{ARTICLE}: fact id 'test-alter' is already used in {ARTICLE}",
    ),
    (
        "a Land with neither programmes nor no_programme",
        _set(["laender", "NI", "no_programme"], None),
        "servicepoints.yaml: Land NI: neither programmes nor no_programme",
    ),
    (
        "a Land with programmes and no_programme",
        _set(
            ["laender", "NI", "programmes"],
            [
                {
                    "name": "Landesprogramm",
                    "what": "fördert",
                    "url": "https://example.org/lp",
                    "checked": CHECKED,
                }
            ],
        ),
        "servicepoints.yaml: Land NI: has programmes and no_programme – keep one of them",
    ),
    (
        "a Länderstelle naming an unknown programme",
        _set(["laender", "HE", "laenderstelle", "0", "programmes"], ["kjp", "gibtsnicht"]),
        "servicepoints.yaml: Land HE: Länderstelle 'Landesjugendamt HE' names unknown programme(s) ['gibtsnicht']",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [(m, e) for _, m, e in ERRORS], ids=[n for n, _, _ in ERRORS]
)
def test_each_provenance_mistake_is_an_error(
    tmp_path: Path, mutate: Callable[[Folder], object], expected: str
) -> None:
    folder = Folder(tmp_path)
    mutate(folder)
    # A None value means: the field is left out.
    folder.facts = [{k: v for k, v in f.items() if v is not None} for f in folder.facts]
    for land in folder.laender.values():
        for key in [k for k, v in land.items() if v is None]:
            del land[key]
        for stelle in land["laenderstelle"]:
            for key in [k for k, v in stelle.items() if v is None]:
                del stelle[key]
    errors, _ = check_content(folder.write(), TODAY)
    assert any(expected in line for line in errors), errors


def test_a_fact_just_within_its_maximum_age_passes(tmp_path: Path) -> None:
    folder = Folder(tmp_path)
    folder.facts[1]["checked"] = date(2026, 6, 6)  # exactly six months before TODAY
    errors, _ = check_content(folder.write(), TODAY)
    assert _mine(errors) == []


def test_the_maximum_ages_are_configurable(tmp_path: Path) -> None:
    folder = Folder(tmp_path)
    folder.facts[0]["checked"] = date(2026, 8, 1)
    root = folder.write()
    text = (root / "provenance.yaml").read_text(encoding="utf-8").replace("limit: 12", "limit: 3")
    (root / "provenance.yaml").write_text(text, encoding="utf-8")
    errors, _ = check_content(root, TODAY)
    assert any("fact test-alter: last checked 2026-08-01, more than 3 months ago" in e for e in errors), (
        errors
    )


def test_a_bare_homepage_as_source_of_a_claim_is_a_warning(tmp_path: Path) -> None:
    folder = Folder(tmp_path)
    folder.facts[0]["source"] = {"title": "DPJW", "url": "https://dpjw.org/"}
    folder.laender["HE"]["laenderstelle"][0]["url"] = "https://rp-kassel.hessen.de"
    errors, warnings = check_content(folder.write(), TODAY)
    assert _mine(errors) == []
    assert any(
        w.startswith(f"{ARTICLE}: fact test-alter: source https://dpjw.org/ is a bare homepage")
        for w in warnings
    )
    assert any(
        w.startswith("servicepoints.yaml: Land HE: Länderstelle 1: source https://rp-kassel.hessen.de is a")
        for w in warnings
    )
    assert not any("fact test-frist" in w for w in warnings)  # its deep link is fine


def test_a_homepage_listed_with_a_reason_is_not_warned_about(tmp_path: Path) -> None:
    folder = Folder(tmp_path)
    folder.facts[0]["source"] = {"title": "DPJW", "url": "https://dpjw.org/"}
    root = folder.write()
    text = (root / "provenance.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "homepage_ok: {}", 'homepage_ok:\n  "https://dpjw.org/": "Die Startseite nennt die Frist selbst."'
    )
    (root / "provenance.yaml").write_text(text, encoding="utf-8")
    _, warnings = check_content(root, TODAY)
    assert not any("fact test-alter" in w for w in warnings), warnings
