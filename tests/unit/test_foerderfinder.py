"""The Förder-Finder rules over the shipped content/programmes.yaml: what fits, what almost fits, and why."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.content import Content, load_content
from bot.content_models.guided import FundingProgrammes
from bot.foerderfinder import (
    Finding,
    MissKind,
    Plan,
    find_programmes,
    next_pattern_deadline,
    parse_ages,
    parse_days,
    parse_span_arg,
    render_miss,
    render_result,
)
from bot.telegram_html import check_telegram_html, escape, split_message

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(ROOT / "content")


@pytest.fixture(scope="module")
def data(content: Content) -> FundingProgrammes:
    return content.tools.programmes


def ids(finding: Finding) -> list[str]:
    return [p.id for p in finding.fits]


def almost(finding: Finding) -> dict[str, set[MissKind]]:
    return {n.programme.id: {m.kind for m in n.misses} for n in finding.almost}


def test_poland_youth_encounter_dpjw_first_and_erasmus_also(data: FundingProgrammes) -> None:
    finding = find_programmes(data, Plan("pl", "begegnung", (14, 17), (10, 10)))
    assert ids(finding)[0] == "dpjw"
    assert "erasmus-begegnung" in ids(finding)
    # France's, Czechia's and the general federal programme do not fit Poland.
    assert not {"dfjw", "tandem", "kjp-begegnung"} & set(ids(finding))
    assert finding.cautions == [] and finding.almost == []


def test_france_25_days_dfjw_almost_because_of_the_days(data: FundingProgrammes) -> None:
    finding = find_programmes(data, Plan("fr", "begegnung", (14, 17), (25, 25)))
    assert "dfjw" not in ids(finding)
    assert almost(finding)["dfjw"] == {MissKind.DAYS_HIGH}
    [miss] = next(n for n in finding.almost if n.programme.id == "dfjw").misses
    assert (miss.limit, miss.value) == (21, 25)


def test_france_within_21_days_dfjw_fits(data: FundingProgrammes) -> None:
    assert ids(find_programmes(data, Plan("fr", "begegnung", (14, 17), (8, 12))))[0] == "dfjw"


def test_israel_conact(data: FundingProgrammes) -> None:
    finding = find_programmes(data, Plan("il", "begegnung", (16, 20), (10, 10)))
    assert ids(finding) == ["conact"]
    # Erasmus+ only in a limited way outside the programme countries: listed with its reason.
    assert almost(finding)["erasmus-begegnung"] == {MissKind.COUNTRY}
    assert ids(find_programmes(data, Plan("il", "fachkraefte", None, (7, 7))))[0] == "conact-fachkraefte"


def test_israel_too_long_conact_almost(data: FundingProgrammes) -> None:
    finding = find_programmes(data, Plan("il", "begegnung", (16, 20), (14, 14)))
    assert almost(finding)["conact"] == {MissKind.DAYS_HIGH}


def test_russia_gives_the_advice_against_exchanges_not_a_fit(data: FundingProgrammes) -> None:
    for fmt in ("begegnung", "fachkraefte", "freiwillig"):
        finding = find_programmes(data, Plan("ru", fmt, (14, 17), (10, 10)))
        assert ids(finding) == []
        assert [p.id for p in finding.cautions] == ["drja"]
        assert "abgeraten" in (finding.cautions[0].caution or "")


def test_participants_too_old_and_too_young(data: FundingProgrammes) -> None:
    finding = find_programmes(data, Plan("pl", "begegnung", (18, 30), (10, 10)))
    assert almost(finding)["dpjw"] == {MissKind.AGES_HIGH}
    assert "erasmus-begegnung" in ids(finding)
    finding = find_programmes(data, Plan("pl", "begegnung", (6, 11), (10, 10)))
    assert almost(finding)["dpjw"] == {MissKind.AGES_LOW}
    assert almost(finding)["erasmus-begegnung"] == {MissKind.AGES_LOW}


def test_other_country_goes_to_kjp(data: FundingProgrammes) -> None:
    finding = find_programmes(data, Plan("other", "begegnung", (14, 17), (10, 10)))
    assert ids(finding) == ["kjp-begegnung"]
    assert almost(finding)["erasmus-begegnung"] == {MissKind.COUNTRY}


def test_eu_country_erasmus_before_kjp(data: FundingProgrammes) -> None:
    assert ids(find_programmes(data, Plan("eu", "begegnung", (14, 17), (10, 10)))) == [
        "erasmus-begegnung",
        "kjp-begegnung",
    ]


def test_greece_dgjw_first(data: FundingProgrammes) -> None:
    assert ids(find_programmes(data, Plan("gr", "begegnung", (14, 17), (10, 10))))[0] == "dgjw"


def test_specialist_exchange_ignores_ages(data: FundingProgrammes) -> None:
    finding = find_programmes(data, Plan("pl", "fachkraefte", None, (5, 5)))
    assert ids(finding) == ["dpjw", "erasmus-fachkraefte"]


def test_volunteering_solidarity_project_locally(data: FundingProgrammes) -> None:
    finding = find_programmes(data, Plan("other", "freiwillig", (18, 26), (90, 180)))
    assert ids(finding) == ["esk-solidaritaet"]
    finding = find_programmes(data, Plan("eu", "freiwillig", (18, 26), (14, 60)))
    assert ids(finding) == ["esk-freiwillig"]
    assert almost(finding)["esk-solidaritaet"] == {MissKind.DAYS_LOW}


def test_nothing_fits_for_a_long_encounter_abroad(data: FundingProgrammes) -> None:
    finding = find_programmes(data, Plan("cz", "begegnung", (14, 17), (31, 60)))
    assert ids(finding) == []
    assert "tandem" in almost(finding)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14-17", (14, 17)),
        ("14 – 17 Jahre", (14, 17)),
        ("14 bis 17", (14, 17)),
        ("16", (16, 16)),
        ("17-14", (14, 17)),
    ],
)
def test_parse_ages(text: str, expected: tuple[int, int]) -> None:
    assert parse_ages(text) == expected


@pytest.mark.parametrize("text", ["", "jung", "0", "14-170", "14 Tage", "Wie alt?", "-3"])
def test_parse_ages_rejects(text: str) -> None:
    assert parse_ages(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10", (10, 10)),
        ("10 Tage", (10, 10)),
        ("8-12", (8, 12)),
        ("3 Wochen", (21, 21)),
        ("6 Monate", (180, 180)),
        ("ca. 12 Tage", (12, 12)),
    ],
)
def test_parse_days(text: str, expected: tuple[int, int]) -> None:
    assert parse_days(text) == expected


@pytest.mark.parametrize("text", ["", "lang", "0", "3 Jahre", "10 Stunden", "900"])
def test_parse_days_rejects(text: str) -> None:
    assert parse_days(text) is None


def test_span_arg() -> None:
    assert parse_span_arg("14-17") == (14, 17)
    assert parse_span_arg("17-14") is None
    assert parse_span_arg("x") is None


def test_next_pattern_deadline() -> None:
    # 1 October of the previous year: on 24 Nov 2026 the next one serves activities in 2028.
    assert next_pattern_deadline(10, 1, 1, date(2026, 11, 24)) == (date(2027, 10, 1), 2028)
    assert next_pattern_deadline(10, 1, 1, date(2026, 10, 1)) == (date(2026, 10, 1), 2027)
    assert next_pattern_deadline(12, 1, 0, date(2026, 11, 24)) == (date(2026, 12, 1), 2026)


def test_rendered_results_are_valid_telegram_html_for_every_answer(
    content: Content, data: FundingProgrammes
) -> None:
    """Every country × format × Land renders, parses as Telegram HTML and fits in messages."""
    link = lambda a: f"https://t.me/bot?start=thema_{a}"  # noqa: E731
    for country in data.countries:
        for fmt in data.formats:
            for land in (None, "BW", "BY", "NW", "HB"):
                plan = Plan(
                    country.id,
                    fmt.id,
                    (14, 17) if fmt.ask_ages else None,
                    (fmt.days[1].min, fmt.days[1].max),
                    land,
                )
                parts = render_result(
                    content.texts,
                    data,
                    content.servicepoints,
                    plan,
                    find_programmes(data, plan),
                    date(2026, 11, 24),
                    link,
                )
                for message in split_message(parts):
                    check_telegram_html(message)


def test_result_shows_route_deadline_year_source_and_article(
    content: Content, data: FundingProgrammes
) -> None:
    plan = Plan("pl", "begegnung", (14, 17), (10, 10), "BY")
    parts = render_result(
        content.texts,
        data,
        content.servicepoints,
        plan,
        find_programmes(data, plan),
        date(2026, 11, 24),
        lambda a: f"https://t.me/bot?start=thema_{a}",
    )
    text = "\n".join(parts)
    assert text.index("Deutsch-Polnisches Jugendwerk") < text.index("Erasmus+ Jugend")
    assert "Bayerische Jugendring (BJR)" in text  # the Länderstelle for Bavarian Kommunen
    dpjw = next(p for p in data.programmes if p.id == "dpjw")
    deadline = dpjw.deadline
    assert f"Stand {deadline.stand_label()}" in text and f'href="{escape(deadline.source.url)}"' in text
    assert "https://t.me/bot?start=thema_foerderung-dpjw" in text
    bavaria = content.servicepoints.land("BY")
    for entry in [*bavaria.programmes, *bavaria.points]:  # Land programmes and service points
        assert escape(entry.name) in text


def test_russia_result_leads_with_the_advice_and_the_fallback(
    content: Content, data: FundingProgrammes
) -> None:
    plan = Plan("ru", "begegnung", (14, 17), (10, 10))
    parts = render_result(
        content.texts,
        data,
        content.servicepoints,
        plan,
        find_programmes(data, plan),
        date(2026, 11, 24),
        lambda a: f"https://t.me/bot?start=thema_{a}",
    )
    assert "abgeraten" in parts[1] and "⚠️" in parts[1]
    text = "\n".join(parts)
    assert "kein Förderprogramm empfehlen" in text and "trotzdem" not in text
    assert "ijab.de" in text  # the nationwide fallback


def test_a_range_of_days_reaching_into_the_limits_says_when_it_fits(
    content: Content, data: FundingProgrammes
) -> None:
    """Typed "3-10" for Czechia: Tandem needs 5 days – it fits if the plan settles there, not "Sie planen 3"."""
    finding = find_programmes(data, Plan("cz", "begegnung", (14, 17), (3, 10)))
    [miss] = next(n for n in finding.almost if n.programme.id == "tandem").misses
    assert miss.kind is MissKind.DAYS_LOW and miss.partly
    assert render_miss(content.texts, miss) == "mindestens 5 Tage – passt, wenn Ihr Vorhaben so lange dauert"
    # Entirely outside: the plain reason with the user's value.
    finding = find_programmes(data, Plan("cz", "begegnung", (14, 17), (1, 3)))
    [miss] = next(n for n in finding.almost if n.programme.id == "tandem").misses
    assert render_miss(content.texts, miss) == "mindestens 5 Tage, Sie planen 1"
    # Ages are a real group, not an uncertainty: 18–30 for the DPJW is "too old", never "fits if".
    finding = find_programmes(data, Plan("pl", "begegnung", (18, 30), (10, 10)))
    [miss] = next(n for n in finding.almost if n.programme.id == "dpjw").misses
    assert not miss.partly and render_miss(content.texts, miss) == "nur bis 26 Jahre, Ihre Ältesten sind 30"


def test_lead_times_and_conditions_say_what_the_sources_say(data: FundingProgrammes) -> None:
    """FACTS.md B.2: Erasmus+ rounds (February / October), KJP's 31 December; no invented rule of thumb, and
    a duration used as a hard limit is not called "meist" (typical) in the conditions."""
    programmes = {p.id: p for p in data.programmes}
    for programme_id in ("erasmus-begegnung", "erasmus-fachkraefte"):
        lead = programmes[programme_id].lead_time
        assert "Februar" in lead and "Oktober" in lead and "halbes Jahr" not in lead
    for programme_id in ("kjp-begegnung", "kjp-fachkraefte"):
        assert "31. Dezember des Vorjahres" in programmes[programme_id].lead_time
    assert "1. oder 15. November" in programmes["dfjw"].lead_time
    for programme in data.programmes:
        if programme.days is not None:
            assert not any("meist" in c for c in programme.conditions), programme.id
