"""Answers about a programme from structured data: its deadlines (deadlines.yaml through bot.deadlines, exactly
as /fristen shows them), lead time, rates and limits (programmes.yaml, the Förder-Finder's data); questions about
a Land go to ``LandAnswers``. Answer and tools never disagree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot import deadlines as deadline_rules
from bot.answers.land import LandAnswers, programme_name
from bot.answers.model import (
    BODY,
    DEADLINE,
    LAND_FUNDING,
    LAND_FUNDING_ARTICLE,
    LEAD,
    LIMIT,
    OVERVIEW_ARTICLE,
    RATE,
    SERVICE,
    Answer,
    Slots,
    fact_passage,
    fp_sources,
    fp_stand,
)
from bot.answers.reading import AGE_WORDS, DAY_WORDS
from bot.answers.sections import SectionChooser
from bot.content import Content
from bot.content_models.guided import FundingProgramme
from bot.german_text import stem, words
from bot.passages import Passage, SourceRef
from bot.telegram_html import Html


class ProgrammeAnswers:
    """Structured answers: what deadlines.yaml, programmes.yaml and servicepoints.yaml hold about the question."""

    def __init__(
        self,
        content: Content,
        fp_by_key: dict[str, list[FundingProgramme]],
        sections: SectionChooser,
        land: LandAnswers,
    ) -> None:
        self.content = content
        self.sections = sections
        self.land = land
        self._texts = content.texts
        self._laender = {land.code: land for land in content.servicepoints.laender}
        self._fp_by_key = fp_by_key

    def answer(self, base: Answer, slots: Slots, now: datetime, tz: ZoneInfo) -> Answer | None:
        intent, programme, land = base.intent, base.programme, base.land
        if intent in (LAND_FUNDING, SERVICE) and land is not None:
            return self.land.land_answer(base, intent)
        if intent is None or programme is None:
            if intent == BODY and land is not None:
                return self.land.land_answer(base, BODY)
            if intent == DEADLINE:
                return self._upcoming_answer(base, slots, now, tz)
            return None
        if intent == DEADLINE:
            return self._deadline_answer(base, now, tz)
        if intent == LEAD:
            return self._lead_answer(base, now, tz)
        if intent == RATE:
            return self._rate_answer(base)
        if intent == LIMIT:
            return self._limit_answer(base, slots)
        if intent == BODY:
            return self.land.body_answer(base)
        return None

    def _section(self, base: Answer, intent: str) -> str | None:
        return self.sections.section_for(base.article_id, intent, base.question)

    def _deadline_items(
        self, views: Sequence[deadline_rules.DeadlineView], now: datetime, tz: ZoneInfo
    ) -> str:
        """The first three deadlines as /fristen shows them, and how many more there are."""
        items = [deadline_rules.render_deadline(self._texts, v, now, tz) for v in views[:3]]
        if len(views) > 3:
            items.append(self._texts("advice.answer.more_deadlines", n=len(views) - 3))
        return "\n\n".join(items)

    def _deadline_answer(self, base: Answer, now: datetime, tz: ZoneInfo) -> Answer | None:
        texts, programme = self._texts, base.programme
        assert programme is not None
        views = deadline_rules.views_for(self.content.calendar, base.land, tz, now, {programme})
        if not views:
            return None
        notes = self.land.laenderstelle_lines(base.land, programme)
        title = texts("advice.answer.deadline_title", programme=programme_name(self.content, programme))
        land = base.land if notes or any(v.intermediary is not None for v in views) else None
        passage_id, text = f"deadline:{programme}:{base.land or '-'}", self._deadline_items(views, now, tz)
        passage = fact_passage(
            base, passage_id, "deadline", self._section(base, DEADLINE), text, title, land=land
        )
        return replace(base, passage=passage, exact=True, notes=notes)

    def _upcoming_answer(self, base: Answer, slots: Slots, now: datetime, tz: ZoneInfo) -> Answer | None:
        """A deadline question without a programme: the Land's own programme deadlines when it names a Land,
        else – when the question names nothing but the deadline – the next deadlines as /fristen lists them."""
        texts, calendar = self._texts, self.content.calendar
        if slots.land is not None:
            views = [
                v
                for v in deadline_rules.views_for(calendar, slots.land, tz, now)
                if slots.land in v.rule.laender
            ]
            land_name = self._laender[slots.land].name
            title = texts("advice.answer.land_deadlines_title", land=land_name)
            article_id = LAND_FUNDING_ARTICLE if LAND_FUNDING_ARTICLE in self.content.articles else None
            section = self.sections.land_section(article_id, land_name, DEADLINE)
        elif slots.topic_words == 0:
            views = deadline_rules.views_for(calendar, base.land, tz, now)
            title = texts("advice.answer.upcoming_title")
            article_id = OVERVIEW_ARTICLE if OVERVIEW_ARTICLE in self.content.articles else None
            section = self.sections.section_for(article_id, DEADLINE)
        else:
            return None
        if not views:
            return None
        text = self._deadline_items(views, now, tz)
        passage = Passage(
            f"deadlines:{base.land or '-'}", "deadline", article_id, section, text, title, land=base.land
        )
        return replace(base, passage=passage, exact=True, article_id=article_id)

    def _lead_answer(self, base: Answer, now: datetime, tz: ZoneInfo) -> Answer | None:
        texts, programme = self._texts, base.programme
        assert programme is not None
        fps = self._fp_by_key.get(programme, [])
        leads = list(dict.fromkeys(str(fp.lead_time) for fp in fps))
        if not leads:
            return self._deadline_answer(base, now, tz)
        lines = [texts("advice.answer.bullet", text=lead) for lead in leads]
        extra = [
            texts("advice.answer.bullet", text=str(fp.deadline.by_land[base.land]))
            for fp in fps
            if base.land is not None and base.land in fp.deadline.by_land
        ]
        notes = self.land.laenderstelle_lines(base.land, programme)
        title = texts("advice.answer.lead_title", programme=programme_name(self.content, programme))
        land = base.land if notes or extra else None
        passage_id, text = f"lead:{programme}:{base.land or '-'}", "\n".join([*lines, *extra])
        passage = fact_passage(
            base,
            passage_id,
            "lead",
            self._section(base, LEAD),
            text,
            title,
            fp_sources(fps),
            fp_stand(fps),
            land,
        )
        return replace(base, passage=passage, exact=True, notes=notes)

    def _rate_answer(self, base: Answer) -> Answer | None:
        texts, programme = self._texts, base.programme
        assert programme is not None
        fps = self._fp_by_key.get(programme, [])
        lines: list[str] = []
        sources: list[SourceRef] = []
        checked: list[date] = []
        seen: set[tuple[str, str]] = set()
        for fp in fps:
            for rate in fp.rates:
                if (rate.what, rate.amount) in seen:
                    continue
                seen.add((rate.what, rate.amount))
                lines.append(texts("advice.answer.rate", what=rate.what, amount=rate.amount))
                ref = SourceRef(rate.source.title, rate.source.url)
                if ref not in sources:
                    sources.append(ref)
                checked.append(rate.checked)
        if not lines:
            return None  # the article's sections may still say it (see _passage_answer)
        title = texts("advice.answer.rate_title", programme=programme_name(self.content, programme))
        shown, stand = tuple(sources[:3]) or fp_sources(fps), min(checked) if checked else fp_stand(fps)
        text = "\n".join(lines)
        passage = fact_passage(
            base, f"rates:{programme}", "rates", self._section(base, RATE), text, title, shown, stand
        )
        return replace(base, passage=passage, exact=True)

    def _limit_answer(self, base: Answer, slots: Slots) -> Answer | None:
        texts, programme = self._texts, base.programme
        assert programme is not None
        fps = self._fp_by_key.get(programme, [])
        if slots.size and not slots.age and not slots.days:
            return None  # group sizes: the article's section says it
        if not slots.age and not slots.days:  # a follow-up naming only a country asks for both
            slots = replace(slots, age=True, days=True)
        lines: list[str] = []
        for fp in fps:
            parts = []
            if slots.age and fp.ages is not None:
                parts.append(texts("advice.answer.ages", min=fp.ages.min, max=fp.ages.max))
            if slots.days and fp.days is not None:
                parts.append(texts("advice.answer.days", min=fp.days.min, max=fp.days.max))
            if not parts:
                continue
            wanted = (AGE_WORDS if slots.age else frozenset()) | (DAY_WORDS if slots.days else frozenset())
            details = [c for c in fp.conditions if {stem(w) for w in words(c)} & wanted]
            line = texts("advice.answer.limit_line", programme=fp.name, limits=Html(" · ".join(parts)))
            lines.append("\n".join([line, *(texts("advice.answer.bullet", text=c) for c in details)]))
        if not lines:
            return None
        lines = list(dict.fromkeys(lines))
        title = texts("advice.answer.limit_title", programme=programme_name(self.content, programme))
        section = self.sections.section_stating(base.article_id, _limit_phrases(fps, slots)) or self._section(
            base, LIMIT
        )
        text = "\n\n".join(lines)
        passage = fact_passage(
            base, f"limits:{programme}", "limits", section, text, title, fp_sources(fps), fp_stand(fps)
        )
        return replace(base, passage=passage, exact=True)


def _limit_phrases(fps: Sequence[FundingProgramme], slots: Slots) -> list[str]:
    spans = [fp.ages for fp in fps if slots.age] + [fp.days for fp in fps if slots.days]
    return [f"{span.min} bis {span.max}" for span in spans if span is not None]
