"""German date and time input as people type it (``18.4.2026 10:00``, ``18.04.26 10 Uhr``, ``morgen 9.30``).

Plain functions, no Telegram: ``parse_when`` turns one input into a local start (and an end where the input
is a range such as ``18.4.2026 10–16 Uhr``); ``parse_end`` also accepts a bare time on the start's day;
``to_aware`` attaches the time zone and rejects wall-clock times that do not exist on a DST change day.
Every failure is a ``DateInputError`` whose ``code`` selects a friendly text (``events.date_error.<code>``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class DateInputError(ValueError):
    """Input that is not a usable date/time; ``code`` names the reason, ``day`` the date it is about
    (for "weekday": the typed date, whose real weekday the answer names)."""

    def __init__(self, code: str, day: date | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.day = day


ERROR_CODES = ("empty", "format", "no_time", "bad_date", "bad_time", "dst_gap", "range_order", "weekday")

MONTHS = {
    "januar": 1,
    "jan": 1,
    "jänner": 1,
    "februar": 2,
    "feb": 2,
    "märz": 3,
    "maerz": 3,
    "mär": 3,
    "mrz": 3,
    "april": 4,
    "apr": 4,
    "mai": 5,
    "juni": 6,
    "jun": 6,
    "juli": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "oktober": 10,
    "okt": 10,
    "november": 11,
    "nov": 11,
    "dezember": 12,
    "dez": 12,
}
RELATIVE_DAYS = {"heute": 0, "morgen": 1, "übermorgen": 2, "uebermorgen": 2}
WEEKDAY_NUMBERS = {
    "montag": 0,
    "mo": 0,
    "dienstag": 1,
    "di": 1,
    "mittwoch": 2,
    "mi": 2,
    "donnerstag": 3,
    "do": 3,
    "freitag": 4,
    "fr": 4,
    "samstag": 5,
    "sonnabend": 5,
    "sa": 5,
    "sonntag": 6,
    "so": 6,
}
WEEKDAYS = "|".join(sorted(WEEKDAY_NUMBERS, key=len, reverse=True))

_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY_PREFIX = re.compile(rf"^({WEEKDAYS})\b\.?,?\s*")
_FILLER = re.compile(r"\b(?:am|den|um|ab|von|vom)\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})(?:\b|(?=t\d))t?")
# 18.4.2026 · 18.04.26 · 18.4. 2026 · 18.4. (a two-digit year must touch the dot, so "18.4. 10 Uhr" is no year)
_NUMERIC_DATE = re.compile(r"^(\d{1,2})\.\s?(\d{1,2})(?:\.(?:\s?(\d{4})|(\d{2}))?)?(?!\d)(?![.:]\d)")
_SLASH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?(?!\d)")
_NAMED_DATE = re.compile(rf"^(\d{{1,2}})\.?\s*({_MONTH_NAMES})\.?(?:\s*(\d{{4}}))?(?![a-zäöüß])")
_RELATIVE = re.compile(r"^(heute|morgen|übermorgen|uebermorgen)\b")
# 10:00 · 10.30 · 10 Uhr · 10h · 10:00 Uhr · 9 (a bare hour only where the caller allows it)
_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(uhr|h)?$")
# 10h30 · 10 Uhr 30: the minutes after the unit
_TIME_UNIT_FIRST = re.compile(r"^(\d{1,2})\s*(?:uhr|h)\s*(\d{2})$")
_RANGE_SPLIT = re.compile(r"\s*(?:-|\bbis\b)\s*")


END_WITHOUT_YEAR_WITHIN = timedelta(days=62)


@dataclass(frozen=True, slots=True)
class When:
    """A parsed input: local wall-clock times (naive), the end only where the input was a range."""

    start: datetime
    end: datetime | None = None


def _normalise(text: str) -> str:
    text = text.strip().lower()
    text = text.replace("\u2013", "-").replace("\u2014", "-").replace("\u2212", "-").replace("\u00a0", " ")
    # ISO dates first, so their dashes are not taken for a range ("2027-04-18T10:00" too).
    text = _ISO_DATE.sub(lambda m: f"{m.group(3)}.{m.group(2)}.{m.group(1)} ", text)
    text = _FILLER.sub(" ", text)
    text = text.replace(",", " ")
    text = re.sub(r"(uhr|h)\.$", r"\1", text.strip())  # "… 10 Uhr." at the end of a sentence
    return re.sub(r"\s+", " ", text).strip()


def _take_weekday(text: str) -> tuple[int | None, str]:
    """A leading weekday ("Sa.", "Samstag,") as 0–6 and the rest; it must match the date that follows."""
    match = _WEEKDAY_PREFIX.match(text)
    if match is None:
        return None, text
    return WEEKDAY_NUMBERS[match.group(1)], text[match.end() :]


def _check_weekday(weekday: int | None, day: date) -> None:
    if weekday is not None and day.weekday() != weekday:
        raise DateInputError("weekday", day)


def _year(raw4: str | None, raw2: str | None) -> int | None:
    if raw4:
        return int(raw4)
    if raw2:
        return 2000 + int(raw2)
    return None


def _make_date(day: int, month: int, year: int | None, today: date) -> date:
    if not 1 <= month <= 12:
        raise DateInputError("bad_date")
    if year is not None and not 2000 <= year <= 2100:
        raise DateInputError("bad_date")
    try:
        if year is not None:
            return date(year, month, day)
        # No year: the next such day from today on (29.2. waits for a leap year).
        for candidate_year in range(today.year, today.year + 9):
            try:
                candidate = date(candidate_year, month, day)
            except ValueError:
                continue
            if candidate >= today:
                return candidate
    except ValueError:
        raise DateInputError("bad_date") from None
    raise DateInputError("bad_date")


def _take_date(text: str, today: date) -> tuple[date, str] | None:
    """The date at the start of ``text`` and the rest, or None when it does not start with a date."""
    if match := _RELATIVE.match(text):
        return today + timedelta(days=RELATIVE_DAYS[match.group(1)]), text[match.end() :]
    if match := _NUMERIC_DATE.match(text):
        year = _year(match.group(3), match.group(4))
        return _make_date(int(match.group(1)), int(match.group(2)), year, today), text[match.end() :]
    if match := _SLASH_DATE.match(text):
        raw = match.group(3)
        year = _year(raw if raw and len(raw) == 4 else None, raw if raw and len(raw) == 2 else None)
        return _make_date(int(match.group(1)), int(match.group(2)), year, today), text[match.end() :]
    if match := _NAMED_DATE.match(text):
        year = int(match.group(3)) if match.group(3) else None
        month = MONTHS[match.group(2)]
        return _make_date(int(match.group(1)), month, year, today), text[match.end() :]
    return None


def parse_time(text: str, *, bare_hour: bool = True) -> time:
    """``10:00``, ``10.30``, ``10 Uhr``, ``10h``; a bare ``10`` only with ``bare_hour``."""
    text = re.sub(r"\s+", " ", _FILLER.sub(" ", text.strip().lower())).strip()
    if unit_first := _TIME_UNIT_FIRST.match(text):
        text = f"{unit_first.group(1)}:{unit_first.group(2)}"
    match = _TIME.match(text)
    if match is None or (not bare_hour and match.group(2) is None and match.group(3) is None):
        raise DateInputError("format")
    hour = int(match.group(1))
    minute = int(match.group(2) or 0)
    if hour == 24 and minute == 0:
        raise DateInputError("bad_time")  # "24:00" is ambiguous: ask for 0:00 of the next day or 23:59
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise DateInputError("bad_time")
    return time(hour, minute)


def _parse_point(text: str, today: date, *, bare_hour: bool) -> datetime:
    weekday, text = _take_weekday(text)
    taken = _take_date(text, today)
    if taken is None:
        raise DateInputError("format")
    day, rest = taken
    _check_weekday(weekday, day)
    rest = rest.strip()
    if not rest:
        raise DateInputError("no_time")
    return datetime.combine(day, parse_time(rest, bare_hour=bare_hour))


def parse_when(text: str, today: date) -> When:
    """A start with date and time, optionally a range: ``18.4.2026 10-16 Uhr``, ``… 10:00 bis 19.4. 14:00``."""
    normal = _normalise(text)
    if not normal:
        raise DateInputError("empty")
    parts = _RANGE_SPLIT.split(normal)
    if len(parts) == 1:
        return When(_parse_point(normal, today, bare_hour=True))
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise DateInputError("format")
    left, right = parts
    # "10-16 Uhr": the unit written once at the end belongs to both.
    start = _parse_point(left, today, bare_hour=True)
    end = _parse_end_part(right, start, today)
    if end <= start:
        raise DateInputError("range_order")
    return When(start, end)


def _parse_end_part(text: str, start: datetime, today: date) -> datetime:
    weekday, text = _take_weekday(text)
    # "16.30" is a time, not the 16th of month 30: a whole input that reads as a time wins.
    looks_like_time = _TIME.match(_FILLER.sub(" ", text).strip()) is not None
    # A date without a year is the next such day from the start on ("31.12. 20 Uhr – 1.1. 2 Uhr") …
    taken = _take_date(text, start.date()) if _starts_like_date(text) and not looks_like_time else None
    if taken is None:
        if weekday is not None:
            raise DateInputError("format")
        return datetime.combine(start.date(), parse_time(text, bare_hour=True))
    day, rest = taken
    if _year_missing(text) and day - start.date() > END_WITHOUT_YEAR_WITHIN:
        # … unless that is most of a year away: then it is a day before the start, typed by mistake.
        day = _make_date(day.day, day.month, day.year - 1, today)
    _check_weekday(weekday, day)
    rest = rest.strip()
    if not rest:
        raise DateInputError("no_time")
    return datetime.combine(day, parse_time(rest, bare_hour=True))


def _starts_like_date(text: str) -> bool:
    return bool(
        _RELATIVE.match(text)
        or _NUMERIC_DATE.match(text)
        or _SLASH_DATE.match(text)
        or _NAMED_DATE.match(text)
    )


def _year_missing(text: str) -> bool:
    match = _NUMERIC_DATE.match(text)
    if match:
        return match.group(3) is None and match.group(4) is None
    match = _NAMED_DATE.match(text)
    return bool(match and match.group(3) is None)


def parse_end(text: str, start: datetime, today: date) -> datetime:
    """The end of an event: a full date and time, or only a time (``16:00``, ``16 Uhr``) on the start's day."""
    normal = re.sub(r"^bis\s*", "", _normalise(text))
    if not normal:
        raise DateInputError("empty")
    return _parse_end_part(normal, start, today)


def to_aware(local: datetime, tz: ZoneInfo) -> datetime:
    """Attach ``tz`` to a wall-clock time; a time skipped by the spring DST change is an error, an hour that
    occurs twice in autumn means its first occurrence (summer time)."""
    aware = local.replace(tzinfo=tz, fold=0)
    back = aware.astimezone(UTC).astimezone(tz)
    if back.replace(tzinfo=None) != local:
        raise DateInputError("dst_gap")
    return aware


def local_at(day: date, at: time, tz: ZoneInfo) -> datetime:
    """``day`` at wall-clock ``at`` in ``tz`` as an aware UTC datetime; a skipped time moves forward by the gap."""
    aware = datetime.combine(day, at).replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC)
