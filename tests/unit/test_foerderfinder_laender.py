"""The Land part of the Förder-Finder and the Standortbestimmung: the route names the Länderstelle from
servicepoints.yaml for the programme, and the Land contacts show Länderstellen, programmes or why there is none,
service points and the Stand of these entries."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.content import Content, load_content
from bot.content_models.guided import FundingProgrammes
from bot.content_models.servicepoints import Laenderstelle, Land, Link, ServicePoints
from bot.foerderfinder import Plan, find_programmes, render_land, render_result
from bot.standort import render_contacts
from bot.telegram_html import check_telegram_html, html_to_plain

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 6)
RP_KASSEL = "https://rp-kassel.hessen.de/soziales/internationale-jugendarbeit"


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(ROOT / "content")


def _servicepoints(content: Content, hessen: Land) -> ServicePoints:
    laender = [hessen if land.code == "HE" else land for land in content.servicepoints.laender]
    return content.servicepoints.model_copy(update={"laender": laender})


def _hessen(**changes: object) -> Land:
    land = Land(
        code="HE",
        name="Hessen",
        places=["Kassel"],
        laenderstelle=[
            Laenderstelle(
                programmes=["kjp", "dpjw"],
                who="Regierungspräsidium Kassel",
                what="Länderstelle für kommunale Träger",
                url=RP_KASSEL,
                checked=date(2026, 12, 2),
            )
        ],
        points=[
            Link(
                name="Jugendbildungswerk",
                what="berät Kommunen",
                url="https://example.org/",
                checked=date(2026, 11, 20),
            )
        ],
        no_programme="Kein eigenes Landesprogramm bekannt (geprüft 04.12.2026) – fragen Sie das Landesjugendamt.",
    )
    return land.model_copy(update=changes)


def _data(content: Content) -> FundingProgrammes:
    """The shipped programmes, DPJW going through the Länderstelle and no old ``laenderstellen`` map."""
    data = content.tools.programmes
    programmes = [
        p.model_copy(update={"route": "laenderstelle"}) if p.id in ("dpjw", "erasmus-begegnung") else p
        for p in data.programmes
    ]
    return data.model_copy(update={"programmes": programmes, "laenderstellen": {}})


def _result(content: Content, hessen: Land) -> str:
    data = _data(content)
    plan = Plan("pl", "begegnung", (14, 17), (10, 10), "HE")
    parts = render_result(
        content.texts,
        data,
        _servicepoints(content, hessen),
        plan,
        find_programmes(data, plan),
        TODAY,
        lambda a: f"https://t.me/bot?start=thema_{a}",
        programme_names={"kjp": "KJP", "dpjw": "DPJW"},
    )
    for part in parts:
        check_telegram_html(part)
    return "\n".join(parts)


def _programme_block(text: str, name: str) -> str:
    start = text.index(name)
    return text[start : text.index("📖", start)]


def test_the_route_names_the_laenderstelle_of_the_land_for_that_programme(content: Content) -> None:
    text = _result(content, _hessen())
    dpjw = _programme_block(text, "Deutsch-Polnisches Jugendwerk")
    assert f'in Hessen: <a href="{RP_KASSEL}">Regierungspräsidium Kassel</a>' in dpjw
    assert "Oberste Landesjugendbehörde" not in dpjw
    # Erasmus+ has no Hessian entry: the general advice, not the Regierungspräsidium.
    erasmus = _programme_block(text, "Erasmus+")
    assert "Regierungspräsidium Kassel" not in erasmus
    assert "Oberste Landesjugendbehörde" in erasmus


def test_without_an_entry_the_route_falls_back_to_the_oberste_landesjugendbehoerde(content: Content) -> None:
    text = _result(content, _hessen(laenderstelle=[]))
    dpjw = _programme_block(text, "Deutsch-Polnisches Jugendwerk")
    assert "Regierungspräsidium Kassel" not in text
    assert "Oberste Landesjugendbehörde" in dpjw


def test_the_land_contacts_show_laenderstelle_no_programme_points_and_stand(content: Content) -> None:
    text = html_to_plain(
        render_land(
            content.texts, _servicepoints(content, _hessen()), "HE", None, {"kjp": "KJP", "dpjw": "DPJW"}
        )
    )
    assert "Länderstelle für kommunale Träger:" in text
    assert "Regierungspräsidium Kassel (KJP, DPJW) – Länderstelle für kommunale Träger" in text
    assert "Kein eigenes Landesprogramm bekannt (geprüft 04.12.2026)" in text
    assert "Jugendbildungswerk – berät Kommunen" in text
    assert "Stand der Angaben zu diesem Land: 20.11.2026" in text  # the oldest check of the Land's entries


def test_a_land_programme_is_shown_instead_of_the_no_programme_sentence(content: Content) -> None:
    programme = Link(
        name="Landesjugendplan",
        what="fördert Begegnungen",
        url="https://example.org/ljp",
        checked=date(2026, 12, 1),
    )
    hessen = _hessen(programmes=[programme], no_programme=None)
    text = html_to_plain(render_land(content.texts, _servicepoints(content, hessen), "HE"))
    assert "Landesprogramme:" in text and "Landesjugendplan – fördert Begegnungen" in text
    assert "Kein eigenes Landesprogramm" not in text


def test_the_standortbestimmung_shows_the_same_land_contacts(content: Content) -> None:
    text = html_to_plain(render_contacts(content.texts, _servicepoints(content, _hessen()), "HE"))
    assert "Regierungspräsidium Kassel" in text
    assert "Kein eigenes Landesprogramm bekannt" in text
    assert "Bundesweit:" in text


def test_the_result_stand_is_the_oldest_check_of_what_it_shows(content: Content) -> None:
    text = html_to_plain(_result(content, _hessen()))
    shown = _data(content)
    plan = Plan("pl", "begegnung", (14, 17), (10, 10), "HE")
    finding = find_programmes(shown, plan)
    shown_programmes = [*finding.fits, *finding.cautions, *(n.programme for n in finding.almost)]
    oldest = min([*(p.checked_on for p in shown_programmes), date(2026, 11, 20)])
    assert f"Alle Angaben ohne Gewähr, Stand {oldest:%d.%m.%Y}" in text
