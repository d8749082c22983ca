"""German date/time input as coordinators type it, and what the parser must refuse."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.german_time import DateInputError, When, local_at, parse_end, parse_time, parse_when, to_aware

TODAY = date(2026, 3, 10)
BERLIN = ZoneInfo("Europe/Berlin")


def dt(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18.4.2026 10:00", dt(2026, 4, 18, 10)),
        ("18.04.26 10 Uhr", dt(2026, 4, 18, 10)),
        ("18.04.2026 10:30", dt(2026, 4, 18, 10, 30)),
        ("18.4.2026, 10.30 Uhr", dt(2026, 4, 18, 10, 30)),
        ("18.4.2026 um 9 Uhr", dt(2026, 4, 18, 9)),
        ("am 18.4.2026 um 9:05", dt(2026, 4, 18, 9, 5)),
        ("18.4.2026 10h", dt(2026, 4, 18, 10)),
        ("18.4.2026 10 h", dt(2026, 4, 18, 10)),
        ("18.4.2026 10", dt(2026, 4, 18, 10)),
        ("18.4. 10:00", dt(2026, 4, 18, 10)),
        ("18.4. 10 Uhr", dt(2026, 4, 18, 10)),  # no year: "10" is the hour, not 2010
        ("18.4 10:00", dt(2026, 4, 18, 10)),
        ("18.4. 2026 10:00", dt(2026, 4, 18, 10)),
        ("  18.4.2026    10:00  ", dt(2026, 4, 18, 10)),
        ("Sa, 18.4.2026 10:00", dt(2026, 4, 18, 10)),
        ("Samstag, 18.04.2026, 10:00 Uhr", dt(2026, 4, 18, 10)),
        ("Sa. 18.4.2026 10:00", dt(2026, 4, 18, 10)),
        ("18. April 2026 10:00", dt(2026, 4, 18, 10)),
        ("18. Apr. 2026 10 Uhr", dt(2026, 4, 18, 10)),
        ("18 april 2026 10:00", dt(2026, 4, 18, 10)),
        ("3. März 2026 14:00", dt(2026, 3, 3, 14)),
        ("3. Maerz 2027 14:00", dt(2027, 3, 3, 14)),
        ("1. Dezember 14:00", dt(2026, 12, 1, 14)),
        ("2026-04-18 10:00", dt(2026, 4, 18, 10)),
        ("2026-04-18 10:00 Uhr", dt(2026, 4, 18, 10)),
        ("18/04/2026 10:00", dt(2026, 4, 18, 10)),
        ("heute 18:00", dt(2026, 3, 10, 18)),
        ("morgen 9.30", dt(2026, 3, 11, 9, 30)),
        ("übermorgen 10 Uhr", dt(2026, 3, 12, 10)),
        ("1.1. 0:00", dt(2027, 1, 1, 0)),  # without a year: the next such day
        ("10.3. 8:00", dt(2026, 3, 10, 8)),  # today counts as "next"
        ("9.3. 8:00", dt(2027, 3, 9, 8)),  # yesterday → next year
        ("29.2. 10:00", dt(2028, 2, 29, 10)),  # waits for a leap year
        ("29.2.2028 10:00", dt(2028, 2, 29, 10)),
        ("31.12.2026 23:59", dt(2026, 12, 31, 23, 59)),
        ("18.4.2026 0:00", dt(2026, 4, 18, 0)),
        ("18.4.2026 10h30", dt(2026, 4, 18, 10, 30)),
        ("18.4.2026 10 Uhr 30", dt(2026, 4, 18, 10, 30)),
        ("18.4.2026 10 Uhr.", dt(2026, 4, 18, 10)),  # the end of a sentence
        ("2026-04-18T10:00", dt(2026, 4, 18, 10)),
        ("Sonnabend, 18.4.2026 10:00", dt(2026, 4, 18, 10)),
    ],
)
def test_single_points(text: str, expected: datetime) -> None:
    assert parse_when(text, TODAY) == When(expected)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("18.4.2026 10-16 Uhr", dt(2026, 4, 18, 10), dt(2026, 4, 18, 16)),
        ("18.4.2026 10–16 Uhr", dt(2026, 4, 18, 10), dt(2026, 4, 18, 16)),
        ("18.4.2026 10:00 - 16:30", dt(2026, 4, 18, 10), dt(2026, 4, 18, 16, 30)),
        ("18.4.2026 10.00–16.30 Uhr", dt(2026, 4, 18, 10), dt(2026, 4, 18, 16, 30)),
        ("18.4.2026 10:00 bis 16:00 Uhr", dt(2026, 4, 18, 10), dt(2026, 4, 18, 16)),
        ("18.4.2026 10:00 bis 19.4.2026 14:00", dt(2026, 4, 18, 10), dt(2026, 4, 19, 14)),
        ("18.4. 10 Uhr - 19.4. 14 Uhr", dt(2026, 4, 18, 10), dt(2026, 4, 19, 14)),
        ("30.12.2026 10:00 - 2.1. 12:00", dt(2026, 12, 30, 10), dt(2027, 1, 2, 12)),  # over New Year
        ("2026-04-18 10:00 - 2026-04-18 12:00", dt(2026, 4, 18, 10), dt(2026, 4, 18, 12)),
        ("Sa 18.4.2026 10:00 bis So 19.4.2026 14:00", dt(2026, 4, 18, 10), dt(2026, 4, 19, 14)),
    ],
)
def test_ranges(text: str, start: datetime, end: datetime) -> None:
    assert parse_when(text, TODAY) == When(start, end)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("irgendwann", "format"),
        ("nächste Woche", "format"),
        ("10:00", "format"),  # a time without a date
        ("18.4.2026", "no_time"),
        ("18.04.26", "no_time"),
        ("morgen", "no_time"),
        ("31.02.2026 10:00", "bad_date"),
        ("31.02. 10:00", "bad_date"),
        ("30.2.2026 10:00", "bad_date"),
        ("29.2.2027 10:00", "bad_date"),
        ("31.4.2026 10:00", "bad_date"),
        ("0.4.2026 10:00", "bad_date"),
        ("18.13.2026 10:00", "bad_date"),
        ("18.0.2026 10:00", "bad_date"),
        ("18.4.1999 10:00", "bad_date"),
        ("18.4.2026 25:00", "bad_time"),
        ("18.4.2026 24:00", "bad_time"),
        ("18.4.2026 10:60", "bad_time"),
        ("18.4.2026 10:00 Uhr abends", "format"),
        ("18.4.2026 10:0", "format"),
        ("18.4.2026 16-10 Uhr", "range_order"),
        ("18.4.2026 10:00 bis 17.4.2026 12:00", "range_order"),
        ("18.4.2026 10-", "format"),
        ("- 18.4.2026 10:00", "format"),
        ("18.4.2026 10-12-14", "format"),
        ("<b>18.4.2026</b> 10:00", "format"),
        ("18. Foo 2026 10:00", "format"),
        ("18.4.2026 10:00 bis 17.4. 12:00", "range_order"),  # a day before, not a year later
    ],
)
def test_refused(text: str, code: str) -> None:
    with pytest.raises(DateInputError) as caught:
        parse_when(text, TODAY)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("16:00", dt(2026, 4, 18, 16)),
        ("16 Uhr", dt(2026, 4, 18, 16)),
        ("16.30", dt(2026, 4, 18, 16, 30)),  # a time, not the 16th of month 30
        ("16.30 Uhr", dt(2026, 4, 18, 16, 30)),
        ("bis 17 Uhr", dt(2026, 4, 18, 17)),
        ("19.4.2026 14:00", dt(2026, 4, 19, 14)),
        ("19.4. 14 Uhr", dt(2026, 4, 19, 14)),
        ("19.04.26 14:00", dt(2026, 4, 19, 14)),
    ],
)
def test_end_accepts_a_bare_time_on_the_start_day(text: str, expected: datetime) -> None:
    assert parse_end(text, dt(2026, 4, 18, 10), TODAY) == expected


@pytest.mark.parametrize(("text", "code"), [("", "empty"), ("später", "format"), ("19.4.2026", "no_time")])
def test_end_refused(text: str, code: str) -> None:
    with pytest.raises(DateInputError) as caught:
        parse_end(text, dt(2026, 4, 18, 10), TODAY)
    assert caught.value.code == code


def test_parse_time_without_bare_hour() -> None:
    with pytest.raises(DateInputError):
        parse_time("10", bare_hour=False)
    assert parse_time("10 Uhr", bare_hour=False).hour == 10


def test_spring_gap_does_not_exist() -> None:
    with pytest.raises(DateInputError) as caught:
        to_aware(dt(2026, 3, 29, 2, 30), BERLIN)
    assert caught.value.code == "dst_gap"
    assert to_aware(dt(2026, 3, 29, 3, 0), BERLIN).utcoffset() is not None
    assert to_aware(dt(2026, 3, 29, 3, 0), BERLIN).astimezone(UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_autumn_hour_twice_means_summer_time() -> None:
    aware = to_aware(dt(2026, 10, 25, 2, 30), BERLIN)
    assert aware.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_local_at_keeps_wall_clock_across_dst() -> None:
    nine = parse_time("9:00")
    assert local_at(date(2026, 3, 28), nine, BERLIN) == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    assert local_at(date(2026, 3, 29), nine, BERLIN) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert local_at(date(2026, 10, 25), nine, BERLIN) == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "typed_day"),
    [
        ("Fr, 18.4.2026 10:00", date(2026, 4, 18)),  # 18 April 2026 is a Saturday
        ("Sonntag, den 18. April 2026 um 10 Uhr", date(2026, 4, 18)),
        ("Mo. 18.4. 10 Uhr", date(2026, 4, 18)),
        ("18.4.2026 10:00 bis Mo 19.4.2026 14:00", date(2026, 4, 19)),  # the 19th is a Sunday
    ],
)
def test_a_weekday_that_contradicts_the_date_is_refused(text: str, typed_day: date) -> None:
    with pytest.raises(DateInputError) as caught:
        parse_when(text, TODAY)
    assert caught.value.code == "weekday" and caught.value.day == typed_day


def test_an_end_date_without_year_before_the_start_is_not_taken_for_next_year() -> None:
    # Start 18 April: "17.4." is a slip (the day before), not 17 April of the following year.
    assert parse_end("17.4. 10:00", dt(2026, 4, 18, 10), TODAY) == dt(2026, 4, 17, 10)
    assert parse_end("4.1. 10:00", dt(2027, 4, 18, 10), TODAY) == dt(2027, 1, 4, 10)
    # Over New Year it is the next year, as meant; without a year the day follows the start, not today.
    assert parse_end("2.1. 12:00", dt(2026, 12, 30, 10), TODAY) == dt(2027, 1, 2, 12)
    assert parse_end("19.4. 14:00", dt(2028, 4, 18, 10), TODAY) == dt(2028, 4, 19, 14)
    with pytest.raises(DateInputError) as caught:
        parse_end("Mo 19.4.2026 14:00", dt(2026, 4, 18, 10), TODAY)
    assert caught.value.code == "weekday"
