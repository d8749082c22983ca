"""Provenance: time-sensitive facts of the articles, each with a deep-link source and the day it was last
checked, and how old such a check may get (content/provenance.yaml). The checks live in bot/provenance.py."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator

from bot.content_models.base import ID_PATTERN, ContentModel, Source

# Kinds and their maximum age live in content/provenance.yaml (defaults below); check-content enforces them.

FACT_KINDS = ("deadline", "amount", "limit", "body", "contact", "existence")


class Fact(ContentModel):
    """One time-sensitive statement of an article body (front matter ``facts:``)."""

    id: str = Field(pattern=ID_PATTERN, max_length=60)
    kind: Literal["deadline", "amount", "limit", "body", "contact", "existence"]
    claim: str = Field(min_length=1, max_length=400)
    source: Source | None = None  # required: check-content names a fact without one
    checked: date | None = None  # required: check-content names a fact without one
    note: str | None = Field(default=None, max_length=600)


class ProvenanceConfig(ContentModel):
    """content/provenance.yaml: how old a checked fact may get, per kind, before check-content fails."""

    max_age_months: dict[str, int] = Field(
        default_factory=lambda: {
            "deadline": 6,
            "amount": 12,
            "limit": 12,
            "body": 12,
            "contact": 12,
            "existence": 12,
        }
    )
    due_within_days: int = Field(default=30, ge=0, le=365)  # the editor report lists facts this close to due
    # Homepages accepted as the source of a specific claim, each with the reason (silences the warning).
    homepage_ok: dict[str, str] = Field(default_factory=dict)

    @field_validator("max_age_months")
    @classmethod
    def _kinds(cls, value: dict[str, int]) -> dict[str, int]:
        missing = sorted(set(FACT_KINDS) - set(value))
        unknown = sorted(set(value) - set(FACT_KINDS))
        if missing or unknown:
            raise ValueError(f"give a maximum age for exactly the kinds {list(FACT_KINDS)}")
        if any(not 1 <= months <= 60 for months in value.values()):
            raise ValueError("maximum ages are 1 to 60 months")
        return value
