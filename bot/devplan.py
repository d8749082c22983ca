"""The editable DOCX draft "Lokaler Entwicklungsplan Internationale Jugendarbeit", pre-filled from a self-check.

Six sections (Bestandsaufnahme, Bedarfsanalyse, Ziele, Maßnahmen, Zeitplan, Evaluation), each with what the
answers already say, guiding questions, and highlighted gaps the Kommune fills in itself. All wording comes
from content/standort.yaml (``devplan``) so editors can change it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from docx import Document
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from bot.content_models.guided import Devplan, StandortContent
from bot.content_models.servicepoints import ServicePoints
from bot.standort import Assessment, answer_of, kommune_display

QUARTERS = 6


@dataclass(frozen=True, slots=True)
class DevplanInput:
    kommune: str
    kommune_type: str
    land: str
    answers: Mapping[str, str]
    assessment: Assessment
    created: date
    answer_labels: Mapping[str, str]  # yes/partly/no → "ja"/"teilweise"/"nein"


class _Writer:
    """Thin helpers over a python-docx Document."""

    def __init__(self, plan: Devplan) -> None:
        self.doc = Document()
        self.plan = plan
        # A4 with 2.5 cm margins (python-docx's template is US Letter): 16 cm of text width.
        section = self.doc.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.5)
        section.top_margin = section.bottom_margin = Cm(2.5)
        style = self.doc.styles["Normal"]
        style.font.name = "Calibri"
        style.font.size = Pt(11)
        # German text: Word and LibreOffice check spelling in German, not English.
        language = OxmlElement("w:lang")
        language.set(qn("w:val"), "de-DE")
        style.element.get_or_add_rPr().append(language)

    def para(self, text: str = "", *, italic: bool = False, bold: bool = False) -> None:
        paragraph = self.doc.add_paragraph()
        run = paragraph.add_run(text)
        run.italic = italic
        run.bold = bold

    def gap(self, hint: str | None = None) -> None:
        """A highlighted place the Kommune fills in itself."""
        paragraph = self.doc.add_paragraph()
        run = paragraph.add_run(f"{self.plan.placeholder} {hint}" if hint else self.plan.placeholder)
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW

    def bullets(self, items: list[str]) -> None:
        for item in items:
            self.doc.add_paragraph(item, style="List Bullet")

    def guiding(self, questions: list[str]) -> None:
        label = self.doc.add_paragraph()
        label.paragraph_format.space_before = Pt(8)  # apart from a table just above
        label.add_run(f"{self.plan.guiding_label}:").bold = True
        for question in questions:
            paragraph = self.doc.add_paragraph(style="List Bullet")
            paragraph.add_run(question).italic = True

    def table(self, header: list[str], rows: list[list[str | None]], widths: list[float]) -> None:
        """Rows may hold None where the Kommune writes: those cells show the highlighted placeholder."""
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = True
        for row in rows:
            cells = table.add_row().cells
            for cell, value in zip(cells, row, strict=True):
                if value is None:
                    run = cell.paragraphs[0].add_run(self.plan.placeholder)
                    run.font.highlight_color = WD_COLOR_INDEX.YELLOW
                else:
                    cell.text = value
        if widths:  # Word reads the cells' widths, LibreOffice the grid's: set both
            table.autofit = False
            for index, width in enumerate(widths):
                table.columns[index].width = Cm(width)
                for cell in table.columns[index].cells:
                    cell.width = Cm(width)


def _quarters(start: date, count: int, label: str) -> list[str]:
    """The next ``count`` quarters after the one containing ``start``."""
    quarter = (start.month - 1) // 3 + 1
    year = start.year
    labels = []
    for _ in range(count):
        quarter += 1
        if quarter > 4:
            quarter, year = 1, year + 1
        labels.append(label.format(quarter=quarter, year=year))
    return labels


def build_devplan(config: StandortContent, servicepoints: ServicePoints, data: DevplanInput) -> bytes:
    """The DOCX draft as bytes."""
    plan = config.devplan
    questions = config.questions
    land = servicepoints.land(data.land)
    type_choice = config.kommune_type(data.kommune_type)
    type_label = type_choice.label if type_choice else data.kommune_type
    assessment = data.assessment
    open_questions = assessment.open_questions

    w = _Writer(plan)
    w.doc.core_properties.title = f"{plan.title} – {data.kommune}"
    w.doc.core_properties.author = "IJA-Lotse"
    w.doc.add_heading(plan.title, level=0)
    kommune = kommune_display(config, data.kommune, data.kommune_type)
    w.para(
        plan.subtitle.format(kommune=kommune, type=type_label, name=data.kommune, land=land.name), bold=True
    )
    w.para(
        plan.status_line.format(
            date=data.created.strftime("%d.%m.%Y"),
            number=assessment.stage.number,
            count=assessment.stage_count,
            stage=assessment.stage.title,
            score=assessment.score,
            max=assessment.max_score,
        )
    )
    w.para(assessment.stage.summary, italic=True)
    w.para(plan.intro)
    w.para(plan.how_to, italic=True)

    section = plan.section("bestandsaufnahme")
    w.doc.add_heading(section.title, level=1)
    w.para(section.intro)
    w.table(
        section.columns,
        [[q.title, data.answer_labels[answer_of(data.answers, q.id)], None] for q in questions],
        section.widths,
    )
    w.guiding(section.guiding)
    w.gap()

    section = plan.section("bedarfsanalyse")
    w.doc.add_heading(section.title, level=1)
    if open_questions or section.complete_intro is None:
        w.para(section.intro)
    else:  # nothing open: no congratulation listed as a "need"
        w.para(section.complete_intro)
    w.bullets(
        [f"{q.title} ({data.answer_labels[answer_of(data.answers, q.id)]}): {q.need}" for q in open_questions]
    )
    w.guiding(section.guiding)
    w.gap()

    section = plan.section("ziele")
    w.doc.add_heading(section.title, level=1)
    w.para(section.intro)
    w.bullets([q.goal for q in open_questions] or [s.text for s in assessment.next_steps])
    w.guiding(section.guiding)
    w.gap()

    section = plan.section("massnahmen")
    w.doc.add_heading(section.title, level=1)
    w.para(section.intro)
    measures: list[list[str | None]] = [[q.measure, None, None, None] for q in open_questions]
    measures.extend([[s.text, None, None, None] for s in assessment.next_steps if s.question_id is None])
    measures.append([None, None, None, None])
    w.table(section.columns, measures, section.widths)
    w.guiding(section.guiding)

    section = plan.section("zeitplan")
    w.doc.add_heading(section.title, level=1)
    w.para(section.intro)
    schedule: list[str | None] = [step.text for step in assessment.next_steps]
    # The political decision is a milestone of its own unless it is already one of the next steps.
    decision = plan.decision_question
    decision_open = answer_of(data.answers, decision) != "yes"
    if decision_open and decision not in [step.question_id for step in assessment.next_steps]:
        schedule.append(plan.decision_step)
    schedule.append(plan.review_step)
    quarters = _quarters(data.created, max(QUARTERS, len(schedule)), plan.quarter_label)
    rows: list[list[str | None]] = [
        [quarter, schedule[i] if i < len(schedule) else None] for i, quarter in enumerate(quarters)
    ]
    w.table(section.columns, rows, section.widths)
    w.guiding(section.guiding)

    section = plan.section("evaluation")
    w.doc.add_heading(section.title, level=1)
    w.para(section.intro)
    w.bullets([f"{q.title}: {q.indicator}" for q in open_questions] or [q.indicator for q in questions])
    w.guiding(section.guiding)
    w.gap()

    w.doc.add_heading(plan.contacts_title, level=1)
    w.bullets(
        [
            *(
                f"{e.who} ({', '.join(p.upper() for p in e.programmes)}) – {e.what} ({e.url})"
                for e in land.laenderstelle
            ),
            *(
                f"{p.name} – {p.what} ({p.url})"
                for p in [*land.programmes, *land.points, *servicepoints.fallback]
            ),
        ]
    )
    if not land.programmes and land.no_programme:
        w.para(land.no_programme, italic=True)
    if land.note:
        w.para(land.note, italic=True)
    w.para(plan.basis, italic=True)
    w.bullets([f"{s.title}: {s.url}" for s in config.sources])

    out = io.BytesIO()
    w.doc.save(out)
    return out.getvalue()
