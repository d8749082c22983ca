"""What the content models of every area share: the strict frozen base model, ids, Bundesland codes, https
links and sources."""

from __future__ import annotations

import re
from datetime import date
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
LAND_CODES = ("BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH")


class ContentModel(BaseModel):
    """A model of content/: unknown fields are errors, and a loaded model never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


ModelT = TypeVar("ModelT", bound=ContentModel)


def https_url(value: str) -> str:
    """Field validator: an https link."""
    if not re.match(r"^https://[^\s/]+\.[^\s]+$", value):
        raise ValueError(f"must be an https link, got {value!r}")
    return value


def land_code(value: str) -> str:
    """Field validator: a Bundesland code."""
    if value not in LAND_CODES:
        raise ValueError(f"unknown Bundesland code {value!r}")
    return value


def optional_land_code(value: str | None) -> str | None:
    """Field validator: a Bundesland code or nothing."""
    return None if value is None else land_code(value)


def land_keys(value: dict[str, str]) -> dict[str, str]:
    """Field validator: a mapping keyed by Bundesland codes."""
    unknown = sorted(set(value) - set(LAND_CODES))
    if unknown:
        raise ValueError(f"unknown Bundesland codes {unknown}")
    return value


def oldest(dates: list[date | None]) -> date | None:
    """The oldest of the given check dates (``None`` entries ignored), or ``None``."""
    known = [d for d in dates if d is not None]
    return min(known) if known else None


class Source(ContentModel):
    title: str = Field(min_length=1)
    url: str
    checked: date | None = None  # the day an editor last confirmed the page still states the claim

    _https = field_validator("url")(https_url)
