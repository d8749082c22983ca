"""Answers about a Land from servicepoints.yaml: its funding programmes, service points and Länderstellen, and
who takes a programme's applications there."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.answers.model import (
    BODY,
    LAND_ARTICLE,
    LAND_FUNDING,
    LAND_FUNDING_ARTICLE,
    SERVICE,
    Answer,
    fact_passage,
    fp_sources,
    fp_stand,
)
from bot.answers.sections import SectionChooser
from bot.content import Content
from bot.content_models.base import Source, oldest
from bot.content_models.guided import FundingProgramme
from bot.content_models.servicepoints import Laenderstelle, Link
from bot.passages import Passage, SourceRef
from bot.texts import Texts


class LandAnswers:
    """The federal states of servicepoints.yaml and the state variants of deadlines.yaml, as answers."""

    def __init__(
        self, content: Content, fp_by_key: dict[str, list[FundingProgramme]], sections: SectionChooser
    ) -> None:
        self.content = content
        self.sections = sections
        self._texts = content.texts
        self._laender = {land.code: land for land in content.servicepoints.laender}
        self._fp_by_key = fp_by_key

    def land_answer(self, base: Answer, intent: str) -> Answer:
        texts, land = self._texts, base.land
        assert land is not None
        info = self._laender[land]
        lines: list[str] = []
        # what each kind of question gets: Land funding its programmes, service its service points (or, if
        # there are none, who takes applications), responsibility its Länderstellen
        show_funding = intent not in (SERVICE, BODY)
        show_points = intent == SERVICE
        show_stellen = intent == BODY or (intent == SERVICE and not info.points)
        if show_funding:
            if info.programmes:
                lines.append(texts("advice.answer.land_programmes", land=info.name))
                lines += [_link_html(texts, item) for item in info.programmes]
            else:
                lines.append(
                    texts("advice.answer.land_no_programme", note=info.no_programme)
                    if info.no_programme
                    else texts("advice.answer.land_none_known", land=info.name)
                )
        if show_points and info.points:
            lines.append(texts("advice.answer.land_points", land=info.name))
            lines += [_link_html(texts, item) for item in info.points]
        if show_stellen and info.laenderstelle:
            lines.append(texts("advice.answer.land_laenderstellen", land=info.name))
            lines += [
                _entry_html(texts, e, with_programmes=self._programme_shorts(e)) for e in info.laenderstelle
            ]
        if info.note and (not lines or intent in (BODY, SERVICE)):
            lines.append(texts("advice.answer.land_note", note=info.note))
        if not lines:
            lines.append(texts("advice.answer.land_none_known", land=info.name))
        article = LAND_FUNDING_ARTICLE if intent == LAND_FUNDING else LAND_ARTICLE
        article_id = article if article in self.content.articles else base.article_id
        title = texts(
            f"advice.answer.land_title.{intent if intent in (LAND_FUNDING, SERVICE, BODY) else LAND_FUNDING}",
            land=info.name,
        )
        shown = [*info.laenderstelle] if show_stellen else []
        shown_links = [*(info.programmes if show_funding else []), *(info.points if show_points else [])]
        sources = [proof(e.who, e.url, e.source) for e in shown] + [
            proof(item.name, item.url, item.source) for item in shown_links
        ]
        passage = Passage(
            f"land:{land}:{intent}",
            "land",
            article_id,
            self.sections.land_section(article_id, info.name, intent),
            "\n".join(lines),
            title,
            tuple(dict.fromkeys(sources))[:3],
            self.land_stand(land),
            land=land,
            programme=base.programme,
        )
        return replace(base, passage=passage, exact=True, article_id=article_id, intent=intent)

    def body_answer(self, base: Answer) -> Answer | None:
        texts, programme, land = self._texts, base.programme, base.land
        assert programme is not None
        fps = self._fp_by_key.get(programme, [])
        routes = {fp.route for fp in fps}
        name = programme_name(self.content, programme)
        lines: list[str] = []
        sources: list[SourceRef] = []
        checked: list[date] = []
        passage_land = None
        if land is not None and routes != {"direkt"}:
            entries = self.laenderstellen(land, programme)
            land_name = self._laender[land].name
            for entry in entries:
                lines.append(_entry_html(texts, entry))
                sources.append(proof(entry.who, entry.url, entry.source))
                if entry.checked is not None:
                    checked.append(entry.checked)
            if not lines:
                for who, rule_source, rule_checked in self.variant_intermediaries(land, programme):
                    lines.append(
                        texts(
                            "advice.answer.laenderstelle", who=who, what=texts("advice.answer.variant_what")
                        )
                    )
                    sources.append(SourceRef(rule_source.title, rule_source.url))
                    if rule_checked is not None:
                        checked.append(rule_checked)
            if not lines:
                note = self._laender[land].note
                lines.append(texts("advice.answer.no_laenderstelle", land=land_name, programme=name))
                if note:
                    lines.append(texts("advice.answer.land_note", note=note))
            passage_land = land
            title = texts("advice.answer.body_title_land", programme=name, land=land_name)
        else:
            for route in dict.fromkeys(fp.route for fp in fps):
                notes = " ".join(dict.fromkeys(fp.route_note for fp in fps if fp.route == route))
                lines.append(texts(f"advice.answer.route.{route}", programme=name, note=notes))
            if land is None and routes != {"direkt"}:
                lines.append(texts("advice.answer.name_your_land"))
            title = texts("advice.answer.body_title", programme=name)
        if not lines:
            return None
        section = self.sections.section_for(base.article_id, BODY, base.question)
        stand = (
            min(checked) if checked else (self.land_stand(passage_land) if passage_land else fp_stand(fps))
        )
        sources_shown = tuple(sources[:3]) or fp_sources(fps)
        passage_id = f"body:{programme}:{passage_land or '-'}"
        text = "\n".join(lines)
        passage = fact_passage(
            base, passage_id, "laenderstelle", section, text, title, sources_shown, stand, passage_land
        )
        return replace(base, passage=passage, exact=True)

    def laenderstelle_lines(self, land: str | None, programme: str) -> list[str]:
        if land is None:
            return []
        return [
            self._texts("advice.answer.laenderstelle_note", land=self._laender[land].name, who=e.who)
            for e in self.laenderstellen(land, programme)
        ]

    def laenderstellen(self, land: str, programme: str) -> list[Laenderstelle]:
        info = self._laender.get(land)
        if info is None:
            return []
        return [e for e in info.laenderstelle if programme in e.programmes]

    def variant_intermediaries(self, land: str, programme: str) -> list[tuple[str, Source, date | None]]:
        """Who takes applications in this Land according to deadlines.yaml's Land variants (when
        servicepoints.yaml names no Länderstelle), with the rule's source and check day."""
        found: dict[str, tuple[str, Source, date | None]] = {}
        for rule in self.content.calendar.deadlines:
            if rule.programme != programme:
                continue
            for variant in rule.variants:
                if land in variant.laender and variant.intermediary.who not in found:
                    found[variant.intermediary.who] = (variant.intermediary.who, rule.source, rule.stand)
        return list(found.values())

    def land_stand(self, land: str) -> date | None:
        """The oldest check of the Land's entries (servicepoints.yaml), or the file's old top-level Stand."""
        info = self._laender[land]
        checks = [e.checked for e in info.laenderstelle] + [
            e.checked for e in [*info.points, *info.programmes]
        ]
        return oldest(checks) or self.content.servicepoints.stand

    def _programme_shorts(self, entry: Laenderstelle) -> str:
        known = self.content.calendar.programmes
        return ", ".join(known[p].short if p in known else p for p in entry.programmes)


def programme_name(content: Content, programme: str) -> str:
    known = content.calendar.programmes.get(programme)
    return known.name if known else programme


def proof(name: str, url: str, source: Source | None) -> SourceRef:
    """The page proving an entry: its deep-link source where it has one, else the link shown."""
    return SourceRef(source.title, source.url) if source is not None else SourceRef(name, url)


def _link_html(texts: Texts, item: Link) -> str:
    return texts("advice.answer.link", name=item.name, what=item.what, url=item.url)


def _entry_html(texts: Texts, entry: Laenderstelle, with_programmes: str = "") -> str:
    key = "advice.answer.laenderstelle_link" if entry.url else "advice.answer.laenderstelle"
    line = texts(key, who=entry.who, what=entry.what, url=entry.url)
    if with_programmes:
        line += texts("advice.answer.for_programmes", programmes=with_programmes)
    return line
