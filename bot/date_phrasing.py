"""German date phrasing in messages: ``18.04.2026``, ``Sa.``/``Samstag``, ``Sa., 18.04.2026, 10:00–16:00 Uhr``,
and the friendly answer to unusable date input. The texts come from content (``events.format.*``,
``events.date_error.*``); reading dates as people type them is bot/german_time.py.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.german_time import DateInputError
from bot.telegram_html import Html
from bot.texts import Texts


def fmt_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def weekday(texts: Texts, day: date) -> str:
    return texts("events.format.weekdays").split(",")[day.weekday()].strip()


def weekday_name(texts: Texts, day: date) -> str:
    return texts("events.format.weekday_names").split(",")[day.weekday()].strip()


def date_error_text(texts: Texts, error: DateInputError, now: datetime, tz: ZoneInfo) -> str:
    """The friendly answer to unusable date input (examples use next year; a wrong weekday names the right one)."""
    details = {"date": fmt_date(error.day), "weekday": weekday_name(texts, error.day)} if error.day else {}
    return texts(f"events.date_error.{error.code}", year=now.astimezone(tz).year + 1, **details)


def when_text(texts: Texts, start: datetime, end: datetime | None, tz: ZoneInfo) -> Html:
    """``Sa., 18.04.2026, 10:00–16:00 Uhr`` (or across days) in local time."""
    local_start = start.astimezone(tz)
    begins = {
        "weekday": weekday(texts, local_start.date()),
        "date": fmt_date(local_start.date()),
    }
    if end is None:
        return Html(texts("events.format.at", **begins, time=local_start.strftime("%H:%M")))
    local_end = end.astimezone(tz)
    times = {"start": local_start.strftime("%H:%M"), "end": local_end.strftime("%H:%M")}
    if local_end.date() == local_start.date():
        return Html(texts("events.format.same_day", **begins, **times))
    return Html(
        texts(
            "events.format.multi_day",
            **begins,
            **times,
            end_weekday=weekday(texts, local_end.date()),
            end_date=fmt_date(local_end.date()),
        )
    )
