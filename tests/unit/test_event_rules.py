"""Event input rules, the form's JSON round trip, rendering, .ics output and content validation of seeds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot import events, ics
from bot.content import Content, ContentError, load_content
from bot.db import EventRow
from bot.deadlines import views_for
from bot.events import Draft, EventInputError
from bot.german_time import DateInputError
from bot.telegram_html import check_telegram_html
from tests.events_support import content_copy

ROOT = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def code_of(call: Callable[..., object], *args: Any) -> str:
    with pytest.raises((EventInputError, DateInputError)) as caught:
        call(*args)
    error = caught.value
    assert isinstance(error, EventInputError | DateInputError)
    return error.code


def test_title_rules() -> None:
    assert events.check_title("  Netzwerk-\ntreffen   Süd ") == "Netzwerk- treffen Süd"
    assert events.check_title("a < b & c") == "a < b & c"  # not HTML: allowed, escaped on output
    assert code_of(events.check_title, "ab") == "title_short"
    assert code_of(events.check_title, "x" * 121) == "title_long"
    assert events.check_title("x" * 120) == "x" * 120
    for html in ("<b>Fett</b>", "Treffen <script>", "<a href='x'>hier</a>", "<!-- x -->", "</i>"):
        assert code_of(events.check_title, html) == "html", html


def test_place_and_link() -> None:
    assert events.check_place("Köln, Rathaus") == ("Köln, Rathaus", None)
    assert events.check_place("https://example.org/x") == (None, "https://example.org/x")
    assert events.check_place("Köln https://example.org/x.") == ("Köln", "https://example.org/x")
    assert events.check_place("Online: https://zoom.example/j/1?pwd=a") == (
        "Online:",
        "https://zoom.example/j/1?pwd=a",
    )
    assert code_of(events.check_place, " , ") == "place_missing"
    assert code_of(events.check_place, "x" * 201) == "place_long"
    assert code_of(events.check_place, "https://example.org/" + "x" * 300) == "url_long"
    assert code_of(events.check_place, "<b>Köln</b>") == "html"


def test_description() -> None:
    assert events.check_description("-") == ""
    assert events.check_description("Zeile 1\n\n\n\nZeile  2") == "Zeile 1\n\nZeile 2"
    assert code_of(events.check_description, "x" * 1501) == "description_long"
    assert code_of(events.check_description, "mit <i>HTML</i>") == "html"


def test_start_and_end_rules() -> None:
    start, end = events.parse_start("18.4.2027 10-16 Uhr", BERLIN, NOW)
    assert start == datetime(2027, 4, 18, 8, 0, tzinfo=UTC) and end == datetime(
        2027, 4, 18, 14, 0, tzinfo=UTC
    )
    assert code_of(events.parse_start, "1.1.2026 10:00", BERLIN, NOW) == "past"
    assert code_of(events.parse_start, "24.11.2026 11:00", BERLIN, NOW) == "past"  # now, exactly
    assert events.parse_start("24.11.2026 11:01", BERLIN, NOW)[0] > NOW
    assert code_of(events.parse_start, "1.1.2030 10:00", BERLIN, NOW) == "too_far"
    assert code_of(events.parse_start, "31.02.2027 10:00", BERLIN, NOW) == "bad_date"
    assert code_of(events.parse_start, "28.3.2027 2:30", BERLIN, NOW) == "dst_gap"
    assert code_of(events.parse_start, "1.12.2026 10:00 - 3.1.2027 10:00", BERLIN, NOW) == "too_long"
    assert code_of(events.parse_end_input, "9:00", start, BERLIN, NOW) == "end_before_start"
    assert code_of(events.parse_end_input, "10:00", start, BERLIN, NOW) == "end_before_start"
    assert events.parse_end_input("19.4.2027 9 Uhr", start, BERLIN, NOW) == datetime(
        2027, 4, 19, 7, 0, tzinfo=UTC
    )


def test_draft_round_trip_and_missing_fields() -> None:
    draft = Draft(title="T")
    assert draft.missing() == "start"
    start = datetime(2027, 4, 18, 8, 0, tzinfo=UTC)
    draft = Draft("Titel", start, start + timedelta(hours=2), None, "https://x.example/", "", "", "netzwerk")
    assert draft.missing() is None
    again = Draft.from_json(draft.to_json())
    assert again == draft
    fields = draft.fields()
    assert fields.bundesland is None  # "" = nationwide, chosen
    moved = draft.with_start(start + timedelta(days=1), None)
    assert moved.ends_at == start + timedelta(days=1, hours=2)  # the length is kept
    assert events.changed_fields(fields, moved.fields()) == ["start", "end"]
    assert Draft.from_json({"title": 5, "starts_at": None}).title is None  # garbage in user_data: no crash


def test_rendering_is_valid_telegram_html(content: Content) -> None:
    start = datetime(2027, 4, 18, 8, 0, tzinfo=UTC)
    draft = Draft(
        'A & B <"x">',
        start,
        start + timedelta(days=1, hours=2),
        "Ort <1>",
        'https://e.example/?a=1&b="2"',
        "x < y",
        "BY",
        "netzwerk",
    )
    body = events.render_fields(content, BERLIN, draft)
    check_telegram_html(body)
    assert "A &amp; B &lt;&quot;x&quot;&gt;" in body
    assert "So., 18.04.2027, 10:00 Uhr – Mo., 19.04.2027, 12:00 Uhr" in body
    assert events.lead_phrase(content.texts, [56, 14, 3]) == "8 Wochen, 2 Wochen und 3 Tage"
    assert events.lead_phrase(content.texts, [7, 1]) == "7 Tage und 1 Tag"
    assert events.lead_phrase(content.texts, [0]) == "am selben Tag"


def _event(**changes: object) -> EventRow:
    start = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, after the autumn change
    values: dict[str, object] = {
        "id": 7,
        "seed_id": None,
        "seed_hash": None,
        "title": "Treffen & Austausch",
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
        "place": "Bonn",
        "online_url": None,
        "description": "Zeile 1\nZeile 2, mit Komma; und Semikolon",
        "bundesland": None,
        "topic": "netzwerk",
        "state": "active",
        "version": 3,
        "created_by": 1,
        "updated_by": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(changes)
    return EventRow(**values)  # type: ignore[arg-type]


def test_event_ics_parses_with_local_times(content: Content) -> None:
    body = ics.event_ics(content, BERLIN, _event(), NOW, "https://t.me/bot?start=termin_7")
    assert body.startswith(b"BEGIN:VCALENDAR\r\n") and b"\r\n" in body
    cal = Calendar.from_ical(body)
    assert str(cal.get("version")) == "2.0" and cal.get("prodid")
    [tz] = cal.timezones
    assert tz.tz_name == "Europe/Berlin"
    [vevent] = list(cal.walk("VEVENT"))
    # 01:30 UTC on the DST day is the second 02:30 of that night: written in UTC, since a calendar would read
    # a local 02:30 as the first one; the end (04:30 CET) is unambiguous and written locally.
    start = vevent.decoded("dtstart")
    assert start == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert "TZID" not in vevent.get("dtstart").params
    assert vevent.decoded("dtend") == datetime(2026, 10, 25, 4, 30, tzinfo=BERLIN)
    assert str(vevent.get("dtend").params["TZID"]) == "Europe/Berlin"
    assert str(vevent.get("summary")) == "Treffen & Austausch"
    assert int(vevent.get("sequence")) == 2
    assert str(vevent.get("uid")) == "event-7@ija-lotse"
    assert "termin_7" in str(vevent.get("description"))
    assert str(vevent.get("status")) == "CONFIRMED"
    cancelled = Calendar.from_ical(ics.event_ics(content, BERLIN, _event(state="cancelled"), NOW, None))
    assert str(next(iter(cancelled.walk("VEVENT"))).get("status")) == "CANCELLED"


def test_personal_ics_has_all_day_and_timed_deadlines(content: Content) -> None:
    early = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    deadlines = views_for(content.calendar, "BW", BERLIN, early, {"esk", "dpjw"})
    body = ics.personal_ics(content, BERLIN, [(_event(), None)], deadlines, early)
    cal = Calendar.from_ical(body)
    entries = {str(e.get("summary")): e for e in cal.walk("VEVENT")}
    esk = next(e for name, e in entries.items() if "Solidaritätsprojekte" in name)
    assert esk.decoded("dtstart") == datetime(2026, 2, 18, 12, 0, tzinfo=BERLIN)
    dpjw = next(e for name, e in entries.items() if name.startswith("Frist DPJW (Zentral-/Länderstelle)"))
    assert dpjw.decoded("dtstart") == datetime(2026, 4, 1).date()
    assert dpjw.decoded("dtend") == datetime(2026, 4, 2).date()
    seal = next(e for name, e in entries.items() if "Qualitätssiegel" in name)
    assert seal.decoded("dtstart") == datetime(2026, 10, 31).date()
    assert "Treffen & Austausch" in entries
    assert len({str(e.get("uid")) for e in cal.walk("VEVENT")}) == len(list(cal.walk("VEVENT")))


def test_seed_events_are_validated(tmp_path: Path) -> None:
    good: dict[str, Any] = {
        "id": "treffen",
        "title": "Treffen",
        "start": "2027-05-20 10:00",
        "end": "2027-05-20 12:00",
        "place": "Bonn",
        "topic": "netzwerk",
    }
    load_content(content_copy(tmp_path / "ok", seeds=[good]))
    cases = [
        ({**good, "end": "2027-05-20 09:00"}, "end must be after start"),
        ({**good, "topic": "party"}, "unknown topic"),
        ({**good, "title": "<b>Treffen</b>"}, "must not contain HTML"),
        ({**good, "place": None}, "needs a place or an online_url"),
        ({**good, "online_url": "http://insecure.example"}, "https link"),
        ({**good, "bundesland": "XY"}, "unknown Bundesland"),
        ({**good, "id": "Großes Treffen"}, "pattern"),
        ({**good, "start": "2027-05-20T10:00:00+02:00"}, "without offset"),
    ]
    for index, (seed, message) in enumerate(cases):
        with pytest.raises(ContentError) as caught:
            load_content(content_copy(tmp_path / str(index), seeds=[seed]))
        assert any(message in line and "events.yaml" in line for line in caught.value.problems), (
            message,
            caught.value.problems,
        )
    with pytest.raises(ContentError) as caught:
        load_content(content_copy(tmp_path / "dup", seeds=[good, good]))
    assert any("duplicate event id" in line for line in caught.value.problems)


def test_reminder_settings_are_validated(tmp_path: Path, content: Content) -> None:
    assert content.calendar.reminders.send_time == time(9, 0)
    assert content.calendar.reminders.event_leads_days == [7, 1]
    assert content.calendar.reminders.deadline_leads_days == [56, 14, 3]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"send_time": 540}, "write times in quotes"),
        ({"send_time": "25:00"}, "send_time"),
        ({"event_leads_days": [7, 7]}, "listed twice"),
        ({"deadline_leads_days": [-1]}, "between 0 and 366"),
        ({"lead": [1]}, "Extra inputs"),
    ]
    for index, (settings, message) in enumerate(cases):
        with pytest.raises(ContentError) as caught:
            load_content(content_copy(tmp_path / str(index), reminders=settings))
        assert any(message in line and "reminders.yaml" in line for line in caught.value.problems), (
            caught.value.problems
        )


def _content_lines(body: bytes) -> list[str]:
    """RFC 5545 3.1: CRLF-terminated lines of at most 75 octets; unfolded into content lines."""
    assert body.endswith(b"\r\n")
    raw = body.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in raw), [line for line in raw if len(line) > 75]
    assert all(b"\n" not in line and b"\r" not in line for line in raw)
    lines: list[str] = []
    for line in raw:
        if line[:1] in (b" ", b"\t"):
            lines[-1] += line[1:].decode()
        else:
            lines.append(line.decode())
    return lines


def _unescaped(value: str) -> list[str]:
    """Characters RFC 5545 3.3.11 requires escaped in TEXT that appear bare (commas, semicolons, newlines)."""
    bare, i = [], 0
    while i < len(value):
        if value[i] == "\\":
            i += 2
            continue
        if value[i] in ",;\n":
            bare.append(value[i])
        i += 1
    return bare


def test_ics_files_hold_to_rfc5545_line_by_line(content: Content) -> None:
    event = _event(
        title="Treffen; Köln, Bonn \\ Düsseldorf " + "lang " * 20,
        place="Rathaus, Raum 3; EG",
        online_url="https://example.org/a?b=c,d;e",
        description="Zeile 1, mit Komma; Semikolon\nZeile 2 " + "ä" * 90,
    )
    early = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    deadlines = views_for(content.calendar, "BW", BERLIN, early, {"esk", "dpjw"})
    for body in (
        ics.event_ics(content, BERLIN, event, NOW, "https://t.me/bot?start=termin_7"),
        ics.personal_ics(content, BERLIN, [(event, None)], deadlines, early),
    ):
        lines = _content_lines(body)
        assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
        for line in lines:
            name, _, value = line.partition(":")
            if name.split(";")[0] in ("SUMMARY", "LOCATION", "DESCRIPTION", "X-WR-CALNAME", "COMMENT"):
                assert _unescaped(value) == [], line
        tzids = {
            p.split("=", 1)[1]
            for line in lines
            for p in line.split(":")[0].split(";")
            if p.startswith("TZID=")
        }
        assert tzids == {"Europe/Berlin"} and "TZID:Europe/Berlin" in lines
        stamps = [line for line in lines if line.startswith("DTSTAMP")]
        vevents = lines.count("BEGIN:VEVENT")
        assert len(stamps) == vevents and all(s.endswith("Z") for s in stamps)
        assert sum(line.startswith("UID:") for line in lines) == vevents
    [name] = [
        line
        for line in _content_lines(ics.event_ics(content, BERLIN, event, NOW, None))
        if line.startswith("X-WR-CALNAME")
    ]
    assert name.startswith("X-WR-CALNAME:Treffen\\; Köln\\, Bonn \\\\ Düsseldorf")


def test_calendar_files_hold_no_day_counts_that_go_stale(content: Content) -> None:
    early = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    deadlines = views_for(content.calendar, "BW", BERLIN, early, {"esk", "dpjw"})
    cal = Calendar.from_ical(ics.personal_ics(content, BERLIN, [], deadlines, early))
    descriptions = [str(e.get("description")) for e in cal.walk("VEVENT")]
    assert len(descriptions) == 3
    assert all("Tagen" not in d and "morgen" not in d and "heute" not in d for d in descriptions), (
        descriptions
    )
    assert any("⏳ 18.02.2026, 12:00 Uhr" in d for d in descriptions)
    assert any("⏳ 31.10.2026 (jährlich)" in d for d in descriptions)
    assert any("bis 01.04.2026." in d for d in descriptions)
