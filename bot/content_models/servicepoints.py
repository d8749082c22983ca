"""Service points, Länderstellen and Land programmes per Bundesland (content/servicepoints.yaml)."""

from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator

from bot.content_models.base import ContentModel, Source, https_url, land_code, oldest


class Link(ContentModel):
    """A service point or Land programme: ``url`` is shown to users; ``source`` (a deep link) proves the claim
    where ``url`` is a homepage; ``checked`` is the day an editor last confirmed it."""

    name: str = Field(min_length=1)
    what: str = Field(min_length=1)
    url: str
    source: Source | None = None
    checked: date | None = None

    _https = field_validator("url")(https_url)


class Laenderstelle(ContentModel):
    """Who takes applications of kommunale Träger in a Land, for the listed programmes (deadlines.yaml ids)."""

    programmes: list[str] = Field(min_length=1)
    who: str = Field(min_length=1, max_length=200)
    what: str = Field(default="", max_length=600)
    url: str
    source: Source | None = None  # a deeper page proving the claim, when ``url`` is an entry page
    checked: date | None = None

    _https = field_validator("url")(https_url)


class Land(ContentModel):
    code: str
    name: str
    places: list[str] = Field(default_factory=list)  # cities and districts users might name
    laenderstelle: list[Laenderstelle] = Field(default_factory=list)
    points: list[Link] = Field(default_factory=list)
    programmes: list[Link] = Field(default_factory=list)
    no_programme: str | None = None  # what to say when the Land has no own programme (required iff none)
    note: str | None = None

    def laenderstelle_for(self, programme: str) -> Laenderstelle | None:
        """The Länderstelle for kommunale Träger of ``programme`` (a deadlines.yaml programme id), if known."""
        return next((entry for entry in self.laenderstelle if programme in entry.programmes), None)

    @property
    def checked_on(self) -> date | None:
        """The Stand of the Land's contacts: the oldest check among its Länderstellen, points and programmes."""
        return oldest(
            [
                *(entry.checked for entry in self.laenderstelle),
                *(link.checked for link in [*self.points, *self.programmes]),
            ]
        )

    _code = field_validator("code")(land_code)


class ServicePoints(ContentModel):
    stand: date | None = None  # old format; the new one dates each entry with ``checked``
    laender: list[Land]
    fallback: list[Link] = Field(min_length=1)

    def land(self, code: str) -> Land:
        return next(land for land in self.laender if land.code == code)
