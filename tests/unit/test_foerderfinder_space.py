"""The Förder-Finder over its whole answer space, checked against the facts (shared/domain/FACTS.md, B.2).

``FACTS`` below is written from FACTS.md, independently of content/programmes.yaml: a programme listed as
fitting must respect the limits the sources give, whatever an editor writes into the data. Every country ×
format × age range × duration (the buttons plus typed edge values) is matched and rendered.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from bot.content import Content
from bot.content_models.guided import FundingProgrammes
from bot.foerderfinder import Finding, MissKind, Plan, find_programmes, render_result
from bot.telegram_html import check_telegram_html, split_message

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 24)
ALL = {"fr", "pl", "cz", "il", "gr", "ua", "tr", "uk", "ru", "eu", "other"}


@dataclass(frozen=True)
class Facts:
    countries: set[str]
    formats: set[str]
    ages: tuple[int, int] | None = None  # None: no limit for the young participants is known
    days: tuple[int, int] | None = None
    caution: bool = False
    also_limited: set[str] = field(default_factory=set)  # countries only "almost" (with a reason)


FACTS: dict[str, Facts] = {
    # DFJW: France; ages 3–30, 4–21 programme days; Ukraine only trinational with a French partner
    # (dfjw.org, trilateral programmes with the Eastern Partnership, checked 2026-12-04).
    "dfjw": Facts({"fr"}, {"begegnung", "fachkraefte"}, (3, 30), (4, 21), also_limited={"ua"}),
    # DPJW: Poland; ages 12–26, 4–28 days; Ukraine only trilateral with a Polish partner (TRIYOU, dpjw.org).
    "dpjw": Facts({"pl"}, {"begegnung", "fachkraefte"}, (12, 26), (4, 28), also_limited={"ua"}),
    # Tandem: Czechia; ages 8–26, 5–30 days (dsj).
    "tandem": Facts({"cz"}, {"begegnung", "fachkraefte"}, (8, 26), (5, 30)),
    # ConAct: Israel; youth encounters 7–12 days; age limits not in the sources.
    "conact": Facts({"il"}, {"begegnung"}, None, (7, 12)),
    "conact-fachkraefte": Facts({"il"}, {"fachkraefte"}),
    # DGJW: Greece; ages 12–29, 5–30 programme days.
    "dgjw": Facts({"gr"}, {"begegnung", "fachkraefte"}, (12, 29), (5, 30)),
    # DRJA: the Stiftung, BMFSFJ and Auswärtiges Amt advise against exchange measures.
    "drja": Facts({"ru"}, {"begegnung", "fachkraefte", "freiwillig"}, caution=True),
    # Deutsch-Türkische Jugendbrücke: Türkei, youth and Fachkräfte projects (jugendbruecke.de, 2026-12-04).
    "jugendbruecke": Facts({"tr"}, {"begegnung", "fachkraefte"}),
    # UK-German Connection: United Kingdom, joint projects of schools and youth groups.
    "ukgc": Facts({"uk"}, {"begegnung"}),
    # Erasmus+ Jugend: EU and associated countries, Türkei associated (erasmusplus-jugend.de, förderfähige
    # Länder); Ukraine (Eastern Partnership, capped share for non-associated countries) and the UK (associated
    # only from 2027, ZDH Dec 2025) only with a reason; ages 13–30; exchanges 5–21 days (older pages).
    "erasmus-begegnung": Facts(
        {"fr", "pl", "cz", "gr", "tr", "eu"},
        {"begegnung"},
        (13, 30),
        (5, 21),
        also_limited={"il", "ua", "uk", "other"},
    ),
    "erasmus-fachkraefte": Facts(
        {"fr", "pl", "cz", "gr", "tr", "eu"}, {"fachkraefte"}, also_limited={"il", "ua", "uk", "other"}
    ),
    # KJP: not for France/Poland (DFJW/DPJW), Czechia/Israel (special funds via Tandem/ConAct), nor Russia;
    # all other countries incl. Ukraine, Türkei, UK (Deutsche Bläserjugend, KJP mit anderen Ländern);
    # ages 8–26 at the most generous reading (sources differ), 5–30 days.
    "kjp-begegnung": Facts({"gr", "ua", "tr", "uk", "eu", "other"}, {"begegnung"}, (8, 26), (5, 30)),
    "kjp-fachkraefte": Facts({"gr", "ua", "tr", "uk", "eu", "other"}, {"fachkraefte"}, None, (5, 30)),
    # ESK Solidaritätsprojekte: local, ≥5 young people 18–30, 2–12 months.
    "esk-solidaritaet": Facts(ALL - {"ru"}, {"freiwillig"}, (18, 30), (60, 365)),
    # ESK volunteering: 18–30; 2 weeks to 12 months; Israel only with a reason (eligible neighbouring
    # country, 25 % cap on non-associated third countries since 2026: solidaritaetskorps.de FAQ, JfE news 11530).
    "esk-freiwillig": Facts(
        {"fr", "pl", "cz", "gr", "eu"}, {"freiwillig"}, (18, 30), (14, 365), also_limited={"il"}
    ),
}

# Typed answers at the edges of the programmes' limits, besides the buttons.
TYPED_AGES = [(3, 3), (8, 11), (12, 12), (13, 17), (16, 16), (25, 26), (27, 29), (30, 30), (31, 40)]
TYPED_DAYS = [
    (1, 1),
    (4, 4),
    (5, 5),
    (6, 6),
    (7, 7),
    (12, 12),
    (13, 13),
    (21, 21),
    (22, 22),
    (28, 28),
    (30, 30),
]
TYPED_DAYS_LONG = [(13, 13), (14, 14), (59, 59), (60, 60), (90, 180), (365, 365), (400, 400)]


@pytest.fixture(scope="module")
def data(content: Content) -> FundingProgrammes:
    return content.tools.programmes


def all_plans(data: FundingProgrammes) -> list[Plan]:
    plans = []
    for country, fmt in itertools.product(data.countries, data.formats):
        ages: list[tuple[int, int] | None] = (
            [*[(a.min, a.max) for a in data.ages], *TYPED_AGES] if fmt.ask_ages else [None]
        )
        typed_days = TYPED_DAYS_LONG if fmt.id == "freiwillig" else TYPED_DAYS
        days = [(d.min, d.max) for d in fmt.days] + typed_days
        for age, day in itertools.product(ages, days):
            plans.append(Plan(country.id, fmt.id, age, day))
    return plans


def within(span: tuple[int, int] | None, limits: tuple[int, int] | None) -> bool:
    return span is None or limits is None or (limits[0] <= span[0] and span[1] <= limits[1])


def render(content: Content, data: FundingProgrammes, plan: Plan, finding: Finding) -> str:
    parts = render_result(
        content.texts,
        data,
        content.servicepoints,
        plan,
        finding,
        TODAY,
        lambda a: f"https://t.me/bot?start=thema_{a}",
    )
    messages = split_message(parts)
    for message in messages:
        check_telegram_html(message)
    return "\n\n".join(messages)


def test_every_programme_in_the_data_is_checked_against_the_facts(data: FundingProgrammes) -> None:
    assert {p.id for p in data.programmes} == set(FACTS)


def test_the_data_states_the_limits_the_facts_give(data: FundingProgrammes) -> None:
    for programme in data.programmes:
        facts = FACTS[programme.id]
        assert set(programme.countries) == facts.countries, programme.id
        assert set(programme.limited_countries) == facts.also_limited, programme.id
        assert set(programme.formats) == facts.formats, programme.id
        assert bool(programme.caution) == facts.caution, programme.id
        ages = (programme.ages.min, programme.ages.max) if programme.ages else None
        days = (programme.days.min, programme.days.max) if programme.days else None
        assert (ages, days) == (facts.ages, facts.days), programme.id


def test_whole_space_never_empty_russia_warned_first_nothing_listed_that_excludes_the_input(
    content: Content, data: FundingProgrammes
) -> None:
    fallback = content.texts("foerderfinder.result.fallback_title")
    plans = all_plans(data)
    assert len(plans) > 1000
    for plan in plans:
        finding = find_programmes(data, plan)
        for programme in finding.fits:
            facts = FACTS[programme.id]
            assert not facts.caution, (plan, programme.id)
            assert plan.country in facts.countries, (plan, programme.id)
            assert plan.format in facts.formats, (plan, programme.id)
            assert within(plan.ages, facts.ages), (plan, programme.id)
            assert within(plan.days, facts.days), (plan, programme.id)
        for near in finding.almost:
            assert near.misses, (plan, near.programme.id)
            assert near.programme.id not in {p.id for p in finding.fits}
        text = render(content, data, plan, finding)
        # Never an empty answer: either programmes that fit or the nationwide fallback.
        assert finding.fits or fallback in text, plan
        if plan.country == "ru":
            assert finding.fits == [] and [p.id for p in finding.cautions] == ["drja"], plan
            warning = text.index("⚠️")
            assert "abgeraten" in text[warning:]
            # The warning comes right after the title, before anything else.
            assert warning < text.index(fallback), plan
            assert text[:warning].count("<b>") == 1, plan
        else:
            assert finding.cautions == [] and "⚠️" not in text, plan


def test_no_button_range_straddles_a_programme_limit(data: FundingProgrammes) -> None:
    """A duration button either lies within a programme's days or outside them, never across a limit:
    otherwise a user planning, say, 6 days who presses "4–7" is told the programme needs at least 5."""
    for fmt in data.formats:
        for button in fmt.days:
            for programme in data.programmes:
                if fmt.id not in programme.formats or programme.days is None:
                    continue
                low, high = programme.days.min, programme.days.max
                inside = low <= button.min and button.max <= high
                outside = button.max < low or button.min > high
                assert inside or outside, (fmt.id, (button.min, button.max), programme.id, (low, high))


def ids(finding: Finding) -> list[str]:
    return [p.id for p in finding.fits]


def misses(finding: Finding, programme_id: str) -> set[MissKind]:
    return next({m.kind for m in n.misses} for n in finding.almost if n.programme.id == programme_id)


# Ten (and a few) combinations checked by hand against FACTS.md B.2.
SPOT_CHECKS = [
    # Poland, youth encounter, 14–17, 10 days: DPJW (12–26, 4–28) first, Erasmus+ (13–30, 5–21) also.
    (Plan("pl", "begegnung", (14, 17), (10, 10)), ["dpjw", "erasmus-begegnung"], {}),
    # France, 25 days: DFJW allows 4–21 programme days, Erasmus+ 5–21 → both almost; nothing fits.
    (
        Plan("fr", "begegnung", (14, 17), (25, 25)),
        [],
        {"dfjw": {MissKind.DAYS_HIGH}, "erasmus-begegnung": {MissKind.DAYS_HIGH}},
    ),
    # Israel, 10 days: ConAct (7–12 days); Erasmus+ only in a limited way outside programme countries.
    (Plan("il", "begegnung", (16, 20), (10, 10)), ["conact"], {"erasmus-begegnung": {MissKind.COUNTRY}}),
    # Czechia, 12–13, 6 days: Tandem (8–26, 5–30) fits; Erasmus+ starts at 13.
    (Plan("cz", "begegnung", (12, 13), (6, 6)), ["tandem"], {"erasmus-begegnung": {MissKind.AGES_LOW}}),
    # Greece, 18–26, 10 days: DGJW (12–29, 5–30) first, then Erasmus+ and KJP (8–26, 5–30).
    (Plan("gr", "begegnung", (18, 26), (10, 10)), ["dgjw", "erasmus-begegnung", "kjp-begegnung"], {}),
    # Another EU country, specialists, 10 days: Erasmus+ youth-worker mobility before the KJP.
    (Plan("eu", "fachkraefte", None, (10, 10)), ["erasmus-fachkraefte", "kjp-fachkraefte"], {}),
    # Another country, 3 days: KJP needs 5 days at least; Erasmus+ limited outside programme countries.
    (
        Plan("other", "begegnung", (14, 17), (3, 3)),
        [],
        {"kjp-begegnung": {MissKind.DAYS_LOW}, "erasmus-begegnung": {MissKind.COUNTRY, MissKind.DAYS_LOW}},
    ),
    # Poland, 18–30: DPJW only to 26; Erasmus+ to 30.
    (Plan("pl", "begegnung", (18, 30), (10, 10)), ["erasmus-begegnung"], {"dpjw": {MissKind.AGES_HIGH}}),
    # Volunteering at 16–20 for six months: the ESK starts at 18.
    (
        Plan("eu", "freiwillig", (16, 20), (180, 180)),
        [],
        {"esk-freiwillig": {MissKind.AGES_LOW}, "esk-solidaritaet": {MissKind.AGES_LOW}},
    ),
    # France with 6–11-year-olds: DFJW from 3; Erasmus+ from 13.
    (Plan("fr", "begegnung", (6, 11), (10, 10)), ["dfjw"], {"erasmus-begegnung": {MissKind.AGES_LOW}}),
    # Israel, solidarity project of 18–26-year-olds for six months: local, no partner abroad needed.
    (Plan("il", "freiwillig", (18, 26), (180, 180)), ["esk-solidaritaet"], {}),
    # Poland, 4 days: DPJW (from 4 days) fits; Erasmus+ from 5.
    (Plan("pl", "begegnung", (14, 17), (4, 4)), ["dpjw"], {"erasmus-begegnung": {MissKind.DAYS_LOW}}),
]


@pytest.mark.parametrize(("plan", "fits", "almost"), SPOT_CHECKS)
def test_spot_checks_by_hand(
    data: FundingProgrammes, plan: Plan, fits: list[str], almost: dict[str, set[MissKind]]
) -> None:
    finding = find_programmes(data, plan)
    assert ids(finding) == fits
    for programme_id, kinds in almost.items():
        assert misses(finding, programme_id) == kinds
