"""Deadline rules: the next date with its year, Land variants, rules without a current date, and validation."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.content import ContentError, Texts, check_telegram_html, load_content
from bot.deadlines import days_until, next_yearly, passes_at, render_deadline, views_for

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
    on_the_day = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    views = {v.rule.id: v for v in views_for(content.calendar, "NW", BERLIN, on_the_day)}
    nrw = views["nrw-kjfp-antrag"]  # yearly, verified
    assert nrw.next is not None and nrw.next.day == date(2026, 12, 1)
    after = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)  # midnight in Berlin
    views = {v.rule.id: v for v in views_for(content.calendar, "NW", BERLIN, after)}
    nrw = views["nrw-kjfp-antrag"]
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
    assert "Für 2027 ist noch kein Termin bestätigt – bisher jährlich am 30.11." in text
    assert "⏳" not in text
    check_telegram_html(text)
    assert list(views).index("kjp-direkt") > list(views).index("kjp-zentralstellen")  # undated ones last
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
    assert ka1.last is not None and ka1.last.day == date(2025, 10, 1) and ka1.last.at == time(12, 0)
    text = render_deadline(content.texts, ka1, NOW, BERLIN)
    assert "Kein aktueller Termin" in text and "01.10.2025, 12:00 Uhr" in text
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
    dated = [v.effective.passes_at for v in views if v.effective is not None]
    assert dated == sorted(dated)
    first_undated = next(i for i, v in enumerate(views) if v.effective is None)
    assert all(v.effective is None for v in views[first_undated:])
    assert views[0].rule.id == "kjp-direkt"  # 30 Nov 2026
    assert views[1].rule.id == "nrw-kjfp-antrag"  # 1 Dec 2026


def test_every_rendered_deadline_is_valid_html(content) -> None:  # type: ignore[no-untyped-def]
    for land in (None, "BW", "BY", "NW"):
        for v in views_for(content.calendar, land, BERLIN, NOW):
            check_telegram_html(render_deadline(content.texts, v, NOW, BERLIN))


def test_dated_facts_carry_their_year_and_uncertain_ones_say_so(content) -> None:  # type: ignore[no-untyped-def]
    views = {v.rule.id: v for v in views_for(content.calendar, None, BERLIN, NOW)}
    text = render_deadline(content.texts, views["kjp-zentralstellen"], NOW, BERLIN)
    assert "31.12.2026" in text and "bitte beim Programm prüfen" in text and "Stand 24.11.2026" in text
    assert '<a href="https://jugend.rlp.de/">' in text


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
        ({"yearly": None, "note": None, "rhythm": None}, "needs a rhythm or a note"),
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
