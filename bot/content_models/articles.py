"""The advisory articles (content/articles/*.md front matter and body) and the menu (content/menu.yaml)."""

from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator, model_validator

from bot.content_models.base import ID_PATTERN, ContentModel, Source, oldest, optional_land_code
from bot.content_models.facts import Fact
from bot.telegram_html import render_markdown_sections


class MenuNode(ContentModel):
    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1, max_length=60)
    parent: str | None = None
    order: int = 0


class Article(ContentModel):
    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1, max_length=120)
    topic: str
    order: int = 0
    summary: str = Field(min_length=1, max_length=300)
    keywords: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    facts: list[Fact] = Field(default_factory=list)
    # Old format (before provenance): a typed Stand and review date. Parsed only so that the loader can name
    # them as errors; the shown Stand is ``checked_on``.
    stand: date | None = None
    review: date | None = None
    related: list[str] = Field(default_factory=list)
    bundesland: str | None = None
    body: str = Field(min_length=1)

    _land = field_validator("bundesland")(optional_land_code)

    @model_validator(mode="after")
    def _dated(self) -> Article:
        if self.checked_on is None:
            raise ValueError("no check date: give every source (and every fact) a 'checked:' date")
        return self

    @property
    def checked_on(self) -> date | None:
        """The shown Stand: the oldest ``checked`` among the facts, else among the sources (old: ``stand``)."""
        return (
            oldest([f.checked for f in self.facts]) or oldest([s.checked for s in self.sources]) or self.stand
        )

    @property
    def shown_stand(self) -> date:
        stand = self.checked_on
        assert stand is not None  # the validator above guarantees it
        return stand

    def html_sections(self) -> list[str]:
        """The body rendered to Telegram HTML, one string per ``## `` section (the lead first)."""
        return render_markdown_sections(self.body)
