"""Standortbestimmung rules, the DOCX draft, and validation of the guided-tools content."""

from __future__ import annotations

import io
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from docx import Document

from bot.content import Content, ContentError, load_content
from bot.devplan import DevplanInput, build_devplan
from bot.standort import (
    NameProblem,
    assess,
    clean_kommune_name,
    devplan_filename,
    kommune_display,
    progress,
    render_result,
    same_kommune,
)
from bot.telegram_html import check_telegram_html

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ("allies", "network", "overview", "plan", "jha", "contact", "staff", "evaluation")


def answers(**given: str) -> dict[str, str]:
    return {q: given.get(q, "yes") for q in QUESTIONS}


def test_the_shipped_questions_follow_the_way(content: Content) -> None:
    assert tuple(q.id for q in content.tools.standort.questions) == QUESTIONS


def test_stage_one_when_nothing_is_there(content: Content) -> None:
    result = assess(content.tools.standort, {q: "no" for q in QUESTIONS})
    assert result.stage.number == 1 and result.score == 0 and result.max_score == 16
    assert [s.question_id for s in result.next_steps] == ["allies", "network", "overview"]


def test_stage_follows_the_first_gap_and_next_steps_put_no_before_partly(content: Content) -> None:
    config = content.tools.standort
    result = assess(config, answers(overview="partly", plan="no", staff="no"))
    assert result.stage.number == 2
    assert [s.question_id for s in result.next_steps] == ["plan", "overview", "staff"]
    # One "teilweise" in a stage is tolerated; two are not.
    assert assess(config, answers(allies="partly")).stage.number == 5
    assert assess(config, answers(allies="partly", network="partly")).stage.number == 1


def test_everything_in_place_gives_the_last_stage_and_extra_steps(content: Content) -> None:
    result = assess(content.tools.standort, answers())
    assert result.stage.number == 5 and result.score == 16
    assert [s.article for s in result.next_steps] == [
        "kgi-netzwerk",
        "zielgruppen-benachteiligte",
        "oeffentlichkeitsarbeit",
    ]


def test_unknown_or_missing_answers_count_as_no(content: Content) -> None:
    result = assess(content.tools.standort, {"allies": "vielleicht"})
    assert result.score == 0 and result.stage.number == 1


def test_progress_lists_improvements_and_setbacks(content: Content) -> None:
    config = content.tools.standort
    since = datetime(2026, 3, 1, tzinfo=UTC)
    change = progress(config, since, answers(network="no", plan="no"), answers(plan="partly", staff="partly"))
    assert [c.question.id for c in change.improved] == ["network", "plan"]
    assert [(c.question.id, c.before, c.after) for c in change.worsened] == [("staff", "yes", "partly")]
    assert (change.stage_before, change.stage_after) == (1, 5)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Musterstadt ", "Musterstadt"),
        ("Frankfurt (Oder)", "Frankfurt (Oder)"),
        ("Landkreis   Vorpommern-Greifswald", "Landkreis Vorpommern-Greifswald"),
        ("St. Ingbert", "St. Ingbert"),
        ("Mülheim an der Ruhr", "Mülheim an der Ruhr"),
        ("„Musterstadt“", "Musterstadt"),
        ('"Bad Neustadt"', "Bad Neustadt"),
        ('Verbandsgemeinde "Rhein-Selz"', 'Verbandsgemeinde "Rhein-Selz"'),
    ],
)
def test_kommune_names_accepted(raw: str, clean: str) -> None:
    assert clean_kommune_name(raw) == clean


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("X", "short"),
        ("a" * 81, "long"),
        ("https://evil.example", "link"),
        ("@someone", "link"),
        ("<b>Stadt</b>", "chars"),
        ("Wie finde ich Partner in Polen?", "chars"),
        ("12345", "letters"),
        ("a_b", "chars"),
    ],
)
def test_kommune_names_rejected(raw: str, code: str) -> None:
    with pytest.raises(NameProblem) as problem:
        clean_kommune_name(raw)
    assert problem.value.code == code


def test_devplan_filename_is_ascii() -> None:
    assert devplan_filename("Münster / Groß-Gerau") == "Entwicklungsplan_IJA_Muenster_Gross_Gerau.docx"
    assert devplan_filename("Ääää") == "Entwicklungsplan_IJA_Aeaeaeae.docx"


def test_result_renders_stage_steps_and_land_contacts(content: Content) -> None:
    config = content.tools.standort
    result = assess(config, answers(jha="no"))
    parts = render_result(
        content.texts,
        config,
        content.servicepoints,
        kommune="Köln & <Umland>",
        kommune_type="stadt",
        land="NW",
        assessment=result,
        link=lambda a: f"https://t.me/bot?start=thema_{a}",
    )
    for part in parts:
        check_telegram_html(part)
    text = "\n".join(parts)
    assert "Köln &amp; &lt;Umland&gt;" in text
    assert "Stufe: 3 von 5" in text
    assert "thema_jugendhilfeausschuss" in text
    assert "servicestelle-ija-nrw.de" in text


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    chunks = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            chunks.extend(cell.text for cell in row.cells)
    return "\n".join(chunks)


def test_devplan_docx_opens_and_has_every_section(content: Content) -> None:
    config = content.tools.standort
    given = answers(network="partly", plan="no", jha="no")
    data = build_devplan(
        config,
        content.servicepoints,
        DevplanInput(
            kommune="Musterstadt an der Ruhr",
            kommune_type="stadt",
            land="NW",
            answers=given,
            assessment=assess(config, given),
            created=date(2026, 11, 24),
            answer_labels={"yes": "ja", "partly": "teilweise", "no": "nein"},
        ),
    )
    doc = Document(io.BytesIO(data))
    headings = [p.text for p in doc.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
    for section in ("Bestandsaufnahme", "Bedarfsanalyse", "Ziele", "Maßnahmen", "Zeitplan", "Evaluation"):
        assert any(section in h for h in headings), (section, headings)
    text = _docx_text(data)
    assert "Musterstadt an der Ruhr" in text
    assert "Lokaler Entwicklungsplan Internationale Jugendarbeit" in text
    assert "Leitfragen" in text and "[Bitte ergänzen]" in text
    # Pre-filled from the answers: the plan's gaps become needs, goals and measures.
    plan_q = config.question("plan")
    assert plan_q is not None and plan_q.need in text and plan_q.goal in text and plan_q.measure in text
    assert "1. Quartal 2027" in text  # the schedule starts after the current quarter
    assert "servicestelle-ija-nrw.de" in text
    assert doc.core_properties.title.endswith("Musterstadt an der Ruhr")


def _broken_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    root = tmp_path / "content"
    shutil.copytree(ROOT / "content", root)
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("name", "old", "new", "problem"),
    [
        (
            "programmes.yaml",
            "article: foerderung-dpjw",
            "article: gibt-es-nicht",
            "article 'gibt-es-nicht' does not exist",
        ),
        ("programmes.yaml", "countries: [pl]", "countries: [xx]", "unknown country 'xx'"),
        (
            "programmes.yaml",
            "days: {min: 4, max: 28}",
            "days: {min: 28, max: 4}",
            "min 28 is greater than max 4",
        ),
        (
            "programmes.yaml",
            'url: "https://dpjw.org/antrag/termine/"}',
            'url: "http://dpjw.org/antrag/termine/"}',
            "must be an https link",
        ),
        ("programmes.yaml", "route: laenderstelle", "route: irgendwo", "route"),
        ("programmes.yaml", "  - id: dpjw\n", "  - id: dfjw\n", "programme id 'dfjw' used twice"),
        # A deadline note must say when it was checked (new provenance format: 'checked:' instead of 'year:').
        (
            "programmes.yaml",
            "      checked: 2026-12-04\n      certainty:",
            "      certainty:",
            "give 'checked:'",
        ),
        ("programmes.yaml", 'BW: "Länderstelle Baden', 'XX: "Länderstelle Baden', "unknown Bundesland codes"),
        ("standort.yaml", "article: qualifizierung", "article: nix", "article 'nix' does not exist"),
        ("standort.yaml", "stage: 4\n", "stage: 6\n", "question stages must be 1..n"),
        ("standort.yaml", "- id: zeitplan", "- id: ziele", "sections must be exactly"),
        ("standort.yaml", "decision_question: jha", "decision_question: jhx", "is not a question id"),
        ("standort.yaml", "widths: [5, 2.5, 8.5]", "widths: [5, 2.5]", "widths: 2 given for 3 columns"),
        ("standort.yaml", "widths: [5, 2.5, 8.5]", "widths: [5, 2.5, 18.5]", "more than the 16 cm"),
        (
            "standort.yaml",
            '"{quarter}. Quartal {year}"',
            '"{quarter}. Quartal {jahr}"',
            "unknown placeholders",
        ),
    ],
)
def test_check_content_names_problems_in_guided_content(
    tmp_path: Path, name: str, old: str, new: str, problem: str
) -> None:
    root = _broken_copy(tmp_path, name, old, new)
    with pytest.raises(ContentError) as error:
        load_content(root)
    assert any(problem in line and name in line for line in error.value.problems), error.value.problems


def test_devplan_schedule_adds_the_committee_decision_once(content: Content) -> None:
    config = content.tools.standort

    def schedule_text(given: dict[str, str]) -> str:
        data = build_devplan(
            config,
            content.servicepoints,
            DevplanInput(
                kommune="Musterdorf",
                kommune_type="gemeinde",
                land="HB",
                answers=given,
                assessment=assess(config, given),
                created=date(2026, 5, 2),
                answer_labels={"yes": "ja", "partly": "teilweise", "no": "nein"},
            ),
        )
        [schedule] = [t for t in Document(io.BytesIO(data)).tables if t.rows[0].cells[0].text == "Zeitraum"]
        return "\n".join(cell.text for row in schedule.rows for cell in row.cells)

    decision = config.devplan.decision_step
    # The decision is not among the three next steps: it is scheduled as a milestone of its own.
    text = schedule_text({q: "no" for q in QUESTIONS})
    assert text.count(decision) == 1 and "3. Quartal 2026" in text
    # It is one of the next steps already: not twice.
    assert decision not in schedule_text(answers(jha="no"))


@pytest.mark.parametrize(
    ("name", "kommune_type", "shown"),
    [
        ("Musterstadt", "stadt", "Stadt Musterstadt"),
        ("Landkreis Musterland", "landkreis", "Landkreis Musterland"),  # not "Landkreis Landkreis …"
        ("Hansestadt Lübeck", "stadt", "Hansestadt Lübeck"),
        ("Kreis Rendsburg-Eckernförde", "landkreis", "Kreis Rendsburg-Eckernförde"),
        ("Samtgemeinde Sottrum", "gemeinde", "Samtgemeinde Sottrum"),
        ("stadt Neuss", "stadt", "stadt Neuss"),
        ("Stadtallendorf", "stadt", "Stadt Stadtallendorf"),  # a name that merely begins like a type
    ],
)
def test_kommune_display_puts_the_type_in_front_only_once(
    content: Content, name: str, kommune_type: str, shown: str
) -> None:
    assert kommune_display(content.tools.standort, name, kommune_type) == shown


def test_same_kommune_ignores_spelling_and_type_words_but_not_the_land(content: Content) -> None:
    config = content.tools.standort
    assert same_kommune(config, ("Stadt Münster", "NW"), ("muenster", "NW"))
    assert same_kommune(config, ("Landkreis Musterland", "BY"), ("Musterland", "BY"))
    assert not same_kommune(config, ("Münster", "NW"), ("Münster", "HE"))
    assert not same_kommune(config, ("Musterstadt", "NW"), ("Nachbardorf", "NW"))


def test_result_and_draft_name_a_landkreis_once(content: Content) -> None:
    config = content.tools.standort
    result = assess(config, answers())
    parts = render_result(
        content.texts,
        config,
        content.servicepoints,
        kommune="Landkreis Musterland",
        kommune_type="landkreis",
        land="BY",
        assessment=result,
        link=lambda a: f"https://t.me/bot?start=thema_{a}",
    )
    assert "Landkreis Musterland (Bayern)" in parts[0] and "Landkreis Landkreis" not in parts[0]
    data = build_devplan(
        config,
        content.servicepoints,
        DevplanInput(
            kommune="Landkreis Musterland",
            kommune_type="landkreis",
            land="BY",
            answers=answers(),
            assessment=result,
            created=date(2026, 11, 24),
            answer_labels={"yes": "ja", "partly": "teilweise", "no": "nein"},
        ),
    )
    text = _docx_text(data)
    assert "Landkreis Musterland · Bayern" in text and "Landkreis Landkreis" not in text


def _devplan(content: Content, given: dict[str, str]) -> bytes:
    config = content.tools.standort
    return build_devplan(
        config,
        content.servicepoints,
        DevplanInput(
            kommune="Musterstadt",
            kommune_type="stadt",
            land="NW",
            answers=given,
            assessment=assess(config, given),
            created=date(2026, 11, 24),
            answer_labels={"yes": "ja", "partly": "teilweise", "no": "nein"},
        ),
    )


def test_devplan_is_a4_german_with_readable_table_columns(content: Content) -> None:
    """The draft opened on an US-Letter page with equal columns: the measures ('Gespräche mit
    Jugendhilfeplanung, …') broke mid-word in a quarter of the page ('Jugendhilfeplanu-ng')."""
    doc = Document(io.BytesIO(_devplan(content, {q: "no" for q in QUESTIONS})))
    section = doc.sections[0]
    page_width, page_height = section.page_width, section.page_height
    left, right = section.left_margin, section.right_margin
    assert page_width is not None and page_height is not None and left is not None and right is not None
    assert (round(page_width.cm, 1), round(page_height.cm, 1)) == (21.0, 29.7)
    text_width = page_width - left - right
    [measures] = [t for t in doc.tables if t.rows[0].cells[0].text == "Maßnahme"]
    widths = [cell.width for cell in measures.rows[1].cells]
    assert widths[0] > 1.5 * max(widths[1:]) and sum(widths) <= text_width
    for table in doc.tables:
        assert sum(cell.width for cell in table.rows[0].cells) <= text_width
    languages = doc.styles["Normal"].element.xpath("./w:rPr/w:lang/@w:val")
    assert languages == ["de-DE"]


def test_devplan_lists_no_congratulation_as_a_need(content: Content) -> None:
    config = content.tools.standort
    doc = Document(io.BytesIO(_devplan(content, answers())))
    paragraphs = [p.text for p in doc.paragraphs]
    start = paragraphs.index(config.devplan.section("bedarfsanalyse").title)
    end = paragraphs.index(config.devplan.section("ziele").title)
    needs = "\n".join(paragraphs[start:end])
    summary = config.stage(5).summary
    assert summary is not None and summary not in needs
    intro = config.devplan.section("bedarfsanalyse").complete_intro
    assert intro is not None and intro in needs
