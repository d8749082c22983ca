"""Deadline rules: the next date with its year, Land variants, rules without a current date, and validation."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.content import ContentError, load_content
from bot.deadlines import (
    days_until,
    deadlines_to_confirm,
    next_yearly,
    passes_at,
    render_deadline,
    rules_needing_a_state,
    views_for,
)
from bot.telegram_html import check_telegram_html
from bot.texts import Texts
from tests.events_support import content_copy

ROOT = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_yearly_rule_shows_next_date_with_year(content) -> None:  # type: ignore[no-untyped-def]
    views = {v.rule.id: v for v in views_for(content.calendar, None, BERLIN, NOW)}
    kjp = views["kjp-zentralstellen"]
    assert kjp.next is not None and kjp.next.day == date(2026, 12, 31)
    direkt = views["kjp-direkt"]
    assert direkt.next is not None and direkt.next.day == date(2026, 11, 30)
    # The ESK seal deadline (31 Oct) has passed this year: next year's.
    seal = views["esk-qualitaetssiegel"]
    assert seal.next is not None and seal.next.day == date(2027, 10, 31)


def test_a_whole_day_deadline_lasts_until_local_midnight(content) -> None:  # type: ignore[no-untyped-def]
    # A verified yearly whole-day rule (the NRW one, its certainty set for the test: the content marks it
    # 'secondary' since only a secondary source states the date).
    rule = content.calendar.rule("nrw-kjfp-antrag").model_copy(update={"certainty": "verified"})
    calendar = dataclasses.replace(content.calendar, deadlines=[rule])
    on_the_day = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    [nrw] = views_for(calendar, "NW", BERLIN, on_the_day)
    assert nrw.next is not None and nrw.next.day == date(2026, 12, 1)
    after = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)  # midnight in Berlin
    [nrw] = views_for(calendar, "NW", BERLIN, after)
    assert nrw.next is not None and nrw.next.day == date(2027, 12, 1)


def test_an_unconfirmed_yearly_date_does_not_roll_into_next_year(content) -> None:  # type: ignore[no-untyped-def]
    # kjp-direkt (30 Nov) is 'uncertain': current while this year's date is ahead …
    before = {v.rule.id: v for v in views_for(content.calendar, None, BERLIN, NOW)}
    assert before["kjp-direkt"].next is not None and before["kjp-direkt"].next.day == date(2026, 11, 30)
    # … but once it has passed, 30 Nov 2027 is not presented as the deadline, nor reminded of.
    after = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    views = {v.rule.id: v for v in views_for(content.calendar, None, BERLIN, after)}
    direkt = views["kjp-direkt"]
    assert direkt.next is None and direkt.effective is None
    assert direkt.unconfirmed is not None and direkt.unconfirmed.day == date(2027, 11, 30)
    text = render_deadline(content.texts, direkt, after, BERLIN)
    assert (
        "Nächste Frist voraussichtlich November 2027 (bisher jährlich am 30.11.) – Termin für 2027 noch nicht"
        " bestätigt" in text
    )
    assert "⏳" not in text
    check_telegram_html(text)
    # Sorted by its expected month, after the confirmed date of 31 Dec 2026.
    assert list(views).index("kjp-direkt") > list(views).index("kjp-zentralstellen")
    # The same for an unconfirmed yearly intermediary date (the DPJW Länderstelle BW, 'secondary').
    bw = {v.rule.id: v for v in views_for(content.calendar, "BW", BERLIN, NOW)}
    dpjw = bw["dpjw-antrag"]
    assert dpjw.intermediary_next is None and dpjw.effective is None
    assert dpjw.intermediary_unconfirmed is not None and dpjw.intermediary_unconfirmed.day == date(2027, 4, 1)
    text = render_deadline(content.texts, dpjw, NOW, BERLIN)
    assert "für 2027 noch kein Termin bestätigt (bisher jährlich bis 01.04.)" in text
    check_telegram_html(text)


def test_dated_rule_without_current_date_says_when_it_was_last(content) -> None:  # type: ignore[no-untyped-def]
    views = {v.rule.id: v for v in views_for(content.calendar, None, BERLIN, NOW)}
    ka1 = views["erasmus-ka1"]
    assert ka1.next is None and ka1.effective is None
    # The only confirmed date is the first 2026 round (EU call EAC/A12/2025, content/deadlines.yaml erasmus-ka1).
    assert ka1.last is not None and ka1.last.day == date(2026, 2, 12) and ka1.last.at == time(12, 0)
    text = render_deadline(content.texts, ka1, NOW, BERLIN)
    lines = text.split("\n")
    # The past date is history, after the current state — never the state itself.
    assert "⏳" not in lines[1] and "12.02.2026" not in lines[1]
    assert "voraussichtlich Februar 2027" in lines[1]
    assert "Zuletzt: 12.02.2026, 12:00 Uhr" in text
    check_telegram_html(text)


def test_dated_rule_before_its_date_is_current(content) -> None:  # type: ignore[no-untyped-def]
    early = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    views = {v.rule.id: v for v in views_for(content.calendar, None, BERLIN, early)}
    esk = views["esk-solidaritaetsprojekte"]
    assert esk.next is not None and esk.next.day == date(2026, 2, 18)
    assert esk.next.passes_at == datetime(2026, 2, 18, 11, 0, tzinfo=UTC)  # 12:00 CET


def test_land_variant_brings_the_earlier_intermediary_deadline(content) -> None:  # type: ignore[no-untyped-def]
    early = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    bw = {v.rule.id: v for v in views_for(content.calendar, "BW", BERLIN, early)}
    dpjw = bw["dpjw-antrag"]
    assert dpjw.next is None
    assert dpjw.intermediary_next is not None and dpjw.intermediary_next.day == date(2026, 4, 1)
    assert dpjw.effective == dpjw.intermediary_next
    text = render_deadline(content.texts, dpjw, early, BERLIN)
    assert "01.04.2026" in text and "Länderstelle Baden-Württemberg" in text
    # Elsewhere: no fixed date, the general advice about intermediaries.
    he = {v.rule.id: v for v in views_for(content.calendar, "HE", BERLIN, NOW)}
    assert he["dpjw-antrag"].effective is None
    assert he["dpjw-antrag"].intermediary is not None and he["dpjw-antrag"].intermediary.yearly is None


def test_land_only_rules_appear_only_there(content) -> None:  # type: ignore[no-untyped-def]
    assert "nrw-kjfp-antrag" in {v.rule.id for v in views_for(content.calendar, "NW", BERLIN, NOW)}
    assert "nrw-kjfp-antrag" not in {v.rule.id for v in views_for(content.calendar, "BY", BERLIN, NOW)}
    assert "nrw-kjfp-antrag" not in {v.rule.id for v in views_for(content.calendar, None, BERLIN, NOW)}


def test_order_is_soonest_first_then_undated(content) -> None:  # type: ignore[no-untyped-def]
    views = views_for(content.calendar, "NW", BERLIN, NOW)
    dated = [v.order_at for v in views if v.order_at is not None]
    assert dated == sorted(dated)
    first_undated = next(i for i, v in enumerate(views) if v.order_at is None)
    assert all(v.order_at is None for v in views[first_undated:])
    assert views[0].rule.id == "kjp-direkt"  # 30 Nov 2026
    assert views[1].rule.id == "nrw-kjfp-antrag"  # 1 Dec 2026


def test_every_rendered_deadline_is_valid_html(content) -> None:  # type: ignore[no-untyped-def]
    for land in (None, "BW", "BY", "NW"):
        for v in views_for(content.calendar, land, BERLIN, NOW):
            check_telegram_html(render_deadline(content.texts, v, NOW, BERLIN))


def test_dated_facts_carry_their_year_and_uncertain_ones_say_so(content) -> None:  # type: ignore[no-untyped-def]
    views = {v.rule.id: v for v in views_for(content.calendar, None, BERLIN, NOW)}
    text = render_deadline(content.texts, views["kjp-zentralstellen"], NOW, BERLIN)
    assert "31.12.2026" in text and "bitte beim Programm prüfen" in text and "Stand 04.12.2026" in text
    # The source is the deep link to the ministry's letter (IJAB), no longer the jugend.rlp.de homepage.
    assert (
        '<a href="https://ijab.de/themen/jugendpolitik/aktuelle-beitraege-zur-jugendpolitik/'
        'bmfsfj-nennt-fristen-fuer-antragsverfahren">' in text
    )


def test_helpers() -> None:
    assert next_yearly("12-31", None, BERLIN, NOW).day == date(2026, 12, 31)
    assert next_yearly("01-15", None, BERLIN, NOW).day == date(2027, 1, 15)
    assert passes_at(date(2026, 3, 29), None, BERLIN) == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert days_until(date(2026, 11, 25), NOW, BERLIN) == 1
    assert Texts({"a.b": "x"})("a.b") == "x"


def _broken_copy(tmp_path: Path, change: dict[str, object]) -> Path:
    root = tmp_path / "content"
    shutil.copytree(ROOT / "content", root)
    data = yaml.safe_load((root / "deadlines.yaml").read_text(encoding="utf-8"))
    data["deadlines"][0].update(change)
    (root / "deadlines.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"yearly": "02-30"}, "not a day that exists every year"),
        ({"yearly": "31.12."}, "MM-DD"),
        ({"programme": "nope"}, "unknown programme 'nope'"),
        ({"time": 720}, "write times in quotes"),
        ({"certainty": "sure"}, "certainty must be one of"),
        ({"source": {"title": "x", "url": "http://example.org"}}, "https link"),
        ({"what": "<b>fett</b>"}, "must not contain HTML"),
        ({"laender": ["XX"]}, "unknown Bundesland"),
        ({"dates": [date(2026, 1, 1)]}, "either yearly or dates"),
        ({"yearly": None, "note": None, "rhythm": None}, "needs expected, none, a rhythm or a note"),
        ({"expected": {"months": [2, 13]}}, "from 1 (January) to 12"),
        ({"yearly": None, "expected": {"months": [2, 2]}}, "expected month is listed twice"),
        ({"expected": {"months": [2]}}, "give yearly or expected, not both"),
        ({"yearly": None, "expected": {"months": [2]}, "none": "Programm beendet"}, "cannot go with"),
        ({"id": "kjp-direkt"}, "duplicate deadline id"),
    ],
)
def test_check_content_names_broken_deadlines(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    with pytest.raises(ContentError) as caught:
        load_content(_broken_copy(tmp_path, change))
    assert any(message in line and "deadlines.yaml" in line for line in caught.value.problems), (
        caught.value.problems
    )


# --- confirmed dates, expected rounds and rules without a round (fixtures, not the live content) --------------

DEC = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)  # the day of the content audit

FIXTURE_PROGRAMMES = [
    {"id": "testprog", "name": "Testprogramm", "short": "Test", "url": "https://example.org/"}
]


def _rule(rule_id: str, **fields: object) -> dict[str, object]:
    return {
        "id": rule_id,
        "programme": "testprog",
        "what": f"Antrag {rule_id}",
        "certainty": "verified",
        "source": {"title": "Testquelle", "url": "https://example.org/frist"},
        "checked": "2026-12-04",
        **fields,
    }


FIXTURE_RULES = [
    # Erasmus-like: two rounds a year, 2026's both passed, 2027's not yet published.
    _rule(
        "zwei-runden",
        dates=["2026-02-19", "2026-10-01"],
        time="12:00",
        expected={"months": [2, 10], "note": "Termine erscheinen mit dem Aufruf, meist im November."},
    ),
    # A confirmed date for the coming round.
    _rule("bestaetigt", dates=["2026-03-05", "2027-03-04"], expected={"months": [3]}),
    # An ended programme.
    _rule("beendet", dates=["2023-07-01"], none="Die Förderung ist seit 2024 ausgesetzt."),
    # Yearly: verified rolls over, uncertain becomes an expected month.
    _rule("jaehrlich-sicher", yearly="12-01"),
    _rule("jaehrlich-unsicher", yearly="11-30", certainty="uncertain"),
    # The Zentralstellen' date towards the programme (audit F-63).
    _rule(
        "zentralstellen",
        yearly="12-31",
        certainty="uncertain",
        for_intermediaries=True,
        intermediary={"who": "Ihre Länderstelle", "note": "Eigene, frühere Frist – bitte dort erfragen."},
    ),
    # Only a rhythm is known; old files still say `stand`.
    {**_rule("nur-rhythmus", rhythm="Kein fester Stichtag."), "checked": "2026-11-24"},
]


@pytest.fixture(scope="module")
def fixture_content(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]

    rules = [{k: v for k, v in r.items() if v is not None} for r in FIXTURE_RULES]
    root = content_copy(tmp_path_factory.mktemp("fixture"), deadlines=rules, programmes=FIXTURE_PROGRAMMES)
    return load_content(root)


def _views(content, now: datetime, land: str | None = None):  # type: ignore[no-untyped-def]
    return {v.rule.id: v for v in views_for(content.calendar, land, BERLIN, now)}


def _lines(content, view, now: datetime) -> list[str]:  # type: ignore[no-untyped-def]
    text = render_deadline(content.texts, view, now, BERLIN)
    check_telegram_html(text)
    return text.split("\n")


def test_december_2026_every_rule_states_what_comes_next(fixture_content) -> None:  # type: ignore[no-untyped-def]
    views = _views(fixture_content, DEC)
    assert {rule_id: v.state for rule_id, v in views.items()} == {
        "zwei-runden": "expected",
        "bestaetigt": "confirmed",
        "beendet": "none",
        "jaehrlich-sicher": "confirmed",
        "jaehrlich-unsicher": "expected",
        "zentralstellen": "confirmed",
        "nur-rhythmus": "unknown",
    }
    # Expected: the month of the next round, and the past round only as history after it.
    lines = _lines(fixture_content, views["zwei-runden"], DEC)
    assert lines[1] == "🗓 Nächste Runde voraussichtlich Februar 2027 – Termin noch nicht veröffentlicht."
    assert "meist im November" in lines[2]
    assert "🕘 Zuletzt: 01.10.2026, 12:00 Uhr" in lines
    assert not any("⏳" in line for line in lines)
    # Confirmed: the date with its year.
    assert _lines(fixture_content, views["bestaetigt"], DEC)[1] == "⏳ 04.03.2027 (in 90 Tagen)"
    # None: says so and why; the last date is history.
    lines = _lines(fixture_content, views["beendet"], DEC)
    assert lines[1] == "⛔ Zurzeit keine kommende Runde: Die Förderung ist seit 2024 ausgesetzt."
    assert lines[2] == "🕘 Zuletzt: 01.07.2023"
    # Yearly: a verified day rolls into next year, an uncertain one becomes an expected month.
    assert (
        _lines(fixture_content, views["jaehrlich-sicher"], DEC)[1] == "⏳ 01.12.2027 (jährlich, in 362 Tagen)"
    )
    assert _lines(fixture_content, views["jaehrlich-unsicher"], DEC)[1] == (
        "🗓 Nächste Frist voraussichtlich November 2027 (bisher jährlich am 30.11.) – Termin für 2027 noch"
        " nicht bestätigt."
    )
    # The old `stand` still reads as the check date.
    assert "Stand 24.11.2026" in _lines(fixture_content, views["nur-rhythmus"], DEC)[-1]
    assert (
        _lines(fixture_content, views["nur-rhythmus"], DEC)[1]
        == "❔ Kein fester Termin. Kein fester Stichtag."
    )


def test_the_zentralstellen_date_is_not_the_kommunes(fixture_content) -> None:  # type: ignore[no-untyped-def]
    view = _views(fixture_content, DEC)["zentralstellen"]
    lines = _lines(fixture_content, view, DEC)
    assert lines[1] == "⏳ 31.12.2026 (jährlich, in 27 Tagen)"
    assert "nicht die Frist Ihrer Kommune" in lines[2]
    assert "Ihre Länderstelle" in lines[3]
    # Not a date a Kommune is reminded of, nor one in its calendar file.
    assert view.effective is None and view.reminded_expected is None and view.calendar_dates == []


def test_the_current_month_counts_while_it_lasts(fixture_content) -> None:  # type: ignore[no-untyped-def]
    late_feb = datetime(2027, 2, 28, 22, 30, tzinfo=UTC)  # 23:30 in Berlin, still February
    view = _views(fixture_content, late_feb)["zwei-runden"]
    assert view.expected is not None and view.expected.month == date(2027, 2, 1)
    march = datetime(2027, 2, 28, 23, 0, tzinfo=UTC)  # midnight in Berlin
    view = _views(fixture_content, march)["zwei-runden"]
    assert view.expected is not None and view.expected.month == date(2027, 10, 1)
    assert _lines(fixture_content, view, march)[1].startswith("🗓 Nächste Runde voraussichtlich Oktober 2027")
    # The expected month starts at local midnight (CEST in October).
    assert view.expected.starts_at == datetime(2027, 9, 30, 22, 0, tzinfo=UTC)


def test_a_confirmed_date_replaces_its_expected_round(tmp_path: Path) -> None:

    # An editor enters 18 Feb 2027 (and a date in early November stands for the October round).
    rule = _rule(
        "zwei-runden", dates=["2026-10-01", "2027-02-18", "2027-11-02"], expected={"months": [2, 10]}
    )
    content = load_content(content_copy(tmp_path, deadlines=[rule], programmes=FIXTURE_PROGRAMMES))
    view = _views(content, DEC)["zwei-runden"]
    assert view.state == "confirmed" and view.next is not None and view.next.day == date(2027, 2, 18)
    # February and October 2027 both have their dates: the next round without one is February 2028.
    assert view.expected is not None and view.expected.month == date(2028, 2, 1)
    assert _lines(content, view, DEC)[1] == "⏳ 18.02.2027 (in 76 Tagen)"
    # After the February round, in February: the next confirmed round, not February again.
    after = datetime(2027, 2, 20, 10, 0, tzinfo=UTC)
    view = _views(content, after)["zwei-runden"]
    assert view.next is not None and view.next.day == date(2027, 11, 2)
    assert view.expected is not None and view.expected.month == date(2028, 2, 1)


def test_an_unpublished_round_before_a_confirmed_one_is_shown(tmp_path: Path) -> None:

    rule = _rule("drei-runden", dates=["2027-10-01"], expected={"months": [2, 5, 10]})
    content = load_content(content_copy(tmp_path, deadlines=[rule], programmes=FIXTURE_PROGRAMMES))
    view = _views(content, DEC)["drei-runden"]
    lines = _lines(content, view, DEC)
    assert lines[1].startswith("⏳ 01.10.2027")
    assert (
        lines[2] == "🗓 Davor voraussichtlich eine Runde im Februar 2027 – Termin noch nicht veröffentlicht."
    )
    assert view.expected is not None and view.expected.month == date(2027, 2, 1)


def test_deadlines_to_confirm_lists_the_next_three_months(fixture_content) -> None:  # type: ignore[no-untyped-def]
    due = deadlines_to_confirm(fixture_content.calendar, DEC, BERLIN)
    assert [(d.rule.id, d.round.month) for d in due] == [
        ("zentralstellen", date(2026, 12, 1)),  # uncertain yearly day this month
        ("zwei-runden", date(2027, 2, 1)),
    ]
    assert [d.rule.id for d in deadlines_to_confirm(fixture_content.calendar, DEC, BERLIN, months=12)] == [
        "zentralstellen",
        "zwei-runden",
        "zwei-runden",  # October 2027
        "jaehrlich-unsicher",  # November 2027
    ]


def test_rules_with_only_past_dates_and_no_state_are_named(tmp_path: Path) -> None:
    rules = [
        _rule("nur-vergangen", dates=["2025-10-01"]),
        _rule("erwartet", dates=["2025-10-01"], expected={"months": [10]}),
        _rule("beendet", dates=["2025-10-01"], none="Programm beendet."),
        _rule("kommend", dates=["2027-01-15"]),
    ]
    content = load_content(content_copy(tmp_path, deadlines=rules, programmes=FIXTURE_PROGRAMMES))
    assert [r.id for r in rules_needing_a_state(content.calendar, DEC, BERLIN)] == ["nur-vergangen"]
    view = _views(content, DEC)["nur-vergangen"]
    assert _lines(content, view, DEC)[1:3] == [
        "❔ Kein kommender Termin veröffentlicht.",
        "🕘 Zuletzt: 01.10.2025",
    ]


def test_the_calendar_file_holds_confirmed_dates_only(fixture_content) -> None:  # type: ignore[no-untyped-def]
    from icalendar import Calendar

    from bot.ics import personal_ics

    views = list(_views(fixture_content, DEC).values())
    cal = Calendar.from_ical(personal_ics(fixture_content, BERLIN, [], views, DEC))
    starts = sorted(str(e.decoded("dtstart")) for e in cal.walk("VEVENT"))
    # bestaetigt (4 Mar 2027) and jaehrlich-sicher (1 Dec 2027); not the expected rounds, not the
    # Zentralstellen' 31 Dec, not an unconfirmed yearly day.
    assert starts == ["2027-03-04", "2027-12-01"]
