"""Free-text search: German normalisation, compounds, typos, synonyms, robustness, confidence and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.content import Content
from bot.content_models.articles import Article
from bot.content_models.base import Source
from bot.content_models.servicepoints import Land, Link, ServicePoints
from bot.german_text import fold, stem
from bot.search import CONFIDENCE_THRESHOLD, Hit, SearchIndex
from bot.synonyms import validate_synonyms
from bot.texts import Texts

ROOT = Path(__file__).resolve().parents[2]


def top(index: SearchIndex, query: str) -> str:
    hits = index.search(query)
    assert hits, f"no hit for {query!r}"
    return hits[0].article_id


def article(article_id: str, title: str, body: str, keywords: list[str] | None = None) -> Article:
    return Article(
        id=article_id,
        title=title,
        topic="t",
        summary=title,
        keywords=keywords or [],
        sources=[Source(title="Quelle", url="https://example.org/")],
        stand=date(2026, 1, 1),
        review=date(2027, 1, 1),
        body=body,
    )


def small_index(
    articles: list[Article], groups: list[list[str]] | None = None, laender: list[Land] | None = None
) -> SearchIndex:
    """An index over a few hand-written articles, to pin one mechanism down at a time."""
    content = Content(
        root=Path("."),
        texts=Texts({}),
        menu={},
        articles={a.id: a for a in articles},
        synonyms={"groups": groups or []},
        servicepoints=ServicePoints(
            stand=date(2026, 1, 1),
            laender=laender or [],
            fallback=[Link(name="x", what="y", url="https://example.org/")],
        ),
    )
    return SearchIndex.build(content)


# --- normalisation ---------------------------------------------------------------------------------------------


def test_umlauts_their_spellings_and_case_fold_alike() -> None:
    assert fold("Förderung") == fold("Foerderung") == fold("FÖRDERUNG") == fold("forderung")
    assert fold("Zuschüsse") == fold("Zuschuesse")
    assert fold("Länderstelle") == fold("Laenderstelle")
    assert fold("Straße") == fold("STRASSE") == fold("Strasse")
    assert fold("Plzeň") == "plzen"
    # "ue" after q, a and e is no umlaut
    assert fold("Quelle") == "quelle"
    assert fold("neue Steuer") == "neue steuer"


def test_stemming_conflates_plural_and_inflection() -> None:
    def same(*words: str) -> set[str]:
        return {stem(fold(w)) for w in words}

    assert len(same("Begegnung", "Begegnungen")) == 1
    assert len(same("Fördermöglichkeit", "Fördermöglichkeiten")) == 1
    assert len(same("Partnerstadt", "Partnerstädte")) == 1
    assert len(same("Jugendliche", "Jugendlichen")) == 1
    assert len(same("Zuschuss", "Zuschüsse")) == 1


@pytest.mark.parametrize(
    "variants",
    [
        [
            "Welche Fördermöglichkeiten gibt es?",
            "welche foerdermoeglichkeiten gibt es",
            "FOERDERMOEGLICHKEITEN",
        ],
        [
            "Zuschuss für Austausch mit Polen",
            "zuschuss fuer austausch mit polen",
            "ZUSCHUß FÜR AUSTAUSCH MIT POLEN",
        ],
        [
            "Jugendhilfeausschuss Beschluss",
            "jugendhilfeausschuß beschluss",
            "Jugendhilfeausschüsse Beschlüsse",
        ],
    ],
)
def test_spelling_variants_give_the_same_answer(index: SearchIndex, variants: list[str]) -> None:
    answers = {top(index, variant) for variant in variants}
    assert len(answers) == 1, answers


def test_inflected_question_finds_the_article(index: SearchIndex) -> None:
    assert top(index, "Begegnungen auswerten") == "evaluation-nachweise"
    # The dedicated twin-town article (new in December 2026) names only the singular "Partnerstadt".
    assert top(index, "Partnerstädte") == "staedtepartnerschaften"
    assert top(index, "Fördermöglichkeiten") == "foerderung-ueberblick"


def test_stop_words_are_ignored() -> None:
    a = small_index([article("a", "Die Versicherung", "Wie und wo und was mit der Versicherung.")])
    assert a.search("und der die das wie wo was mit") == []
    assert [h.article_id for h in a.search("Wie ist das mit der Versicherung?")] == ["a"]


# --- compounds -------------------------------------------------------------------------------------------------


def test_part_of_a_compound_finds_the_compound() -> None:
    idx = small_index(
        [
            article("encounter", "Jugendbegegnungen planen", "Eine Jugendbegegnung dauert eine Woche."),
            article("other", "Haushalt", "Der Haushalt der Kommune wird jährlich beschlossen."),
        ]
    )
    assert [h.article_id for h in idx.search("Begegnung")] == ["encounter"]


def test_compound_question_finds_its_parts() -> None:
    idx = small_index(
        [
            article("staff", "Fachkräfte unterwegs", "Der Austausch von Fachkräften fördert das Lernen."),
            article("other", "Haushalt", "Der Haushalt der Kommune wird jährlich beschlossen."),
        ]
    )
    assert [h.article_id for h in idx.search("Fachkräfteaustausch")] == ["staff"]


def test_a_word_found_only_inside_a_compound() -> None:
    idx = small_index(
        [
            article("safety", "Sicherheit", "Schließen Sie eine Auslandskrankenversicherung ab."),
            article("other", "Haushalt", "Der Haushalt der Kommune wird jährlich beschlossen."),
        ]
    )
    assert [h.article_id for h in idx.search("Krankenversicherung")] == ["safety"]


def test_a_word_inside_compounds_of_several_articles_finds_each_but_no_shorter_ending() -> None:
    idx = small_index(
        [
            article("health", "Gesundheit", "Eine Auslandskrankenversicherung ist Pflicht."),
            article("liability", "Haftung", "Die Gruppenhaftpflichtversicherung deckt Schäden."),
            article("budget", "Haushalt", "Der Haushalt der Kommune wird jährlich beschlossen."),
        ]
    )
    assert {h.article_id for h in idx.search("Versicherung")} == {"health", "liability"}
    assert [h.article_id for h in idx.search("Krankenversicherung")] == ["health"]
    assert not idx.search("Rung")  # too short to be a compound's head


def test_no_compound_part_cut_from_a_verb_prefix() -> None:
    """ "fahren" is no part of "Direktverfahren" (ver|fahren), "erfahren" none of it either (…v|erfahren)."""
    idx = small_index(
        [
            article(
                "route", "Antragswege", "Zwei Verfahren: das Direktverfahren und das Länderstellenverfahren."
            ),
            article("trip", "Die Reise", "Mit dem Bus zur Auslandsfahrt nach Polen."),
        ]
    )
    assert [h.article_id for h in idx.search("fahren")] != ["route"]
    assert not idx.search("erfahren")
    assert [h.article_id for h in idx.search("Verfahren")] == ["route"]
    assert [h.article_id for h in idx.search("Fahrt")] == ["trip"]


def test_a_trip_is_no_application_procedure(index: SearchIndex) -> None:
    assert top(index, "Wir wollen mit 20 Jugendlichen nach Polen fahren, über wen läuft der Antrag?") == (
        "foerderung-dpjw"
    )


def test_compounds_in_the_real_content(index: SearchIndex) -> None:
    assert top(index, "Fachkräfteaustausch") == "qualifizierung"
    assert top(index, "Begegnung Israel") == "foerderung-conact"


def test_keyword_phrase_with_stop_words() -> None:
    idx = small_index(
        [
            article("start", "Der Anfang", "So beginnen Sie.", keywords=["noch nichts gemacht"]),
            article("other", "Gemacht", "Was schon gemacht wurde, zählt.", keywords=["Bilanz"]),
        ]
    )
    assert [h.article_id for h in idx.search("Wir haben noch gar nichts gemacht")][:1] == ["start"]


def test_a_keyword_phrase_adds_only_what_its_words_lose() -> None:
    """ "lohnt sich das" may not outweigh the two topic words of the question, and "lohnt sich" inside it counts
    once (the longest phrase wins)."""
    idx = small_index(
        [
            article("why", "Nutzen", "Warum es sich lohnt.", keywords=["lohnt sich das", "lohnt sich"]),
            article(
                "acc", "Akkreditierung", "Die Akkreditierung für Erasmus gilt Jahre.", keywords=["Erasmus"]
            ),
            article("other", "Haushalt", "Der Haushalt der Kommune wird jährlich beschlossen."),
        ]
    )
    assert [h.article_id for h in idx.search("Erasmus Akkreditierung, lohnt sich das?")][:1] == ["acc"]
    assert [h.article_id for h in idx.search("lohnt sich das?")] == ["why"]


def test_who_and_where_the_asker_is_counts_less_than_the_topic() -> None:
    idx = small_index(
        [
            article("office", "Servicestelle", "Eine Stelle für den Landkreis.", keywords=["Landkreis"]),
            article("czech", "Tschechien", "Begegnungen mit Tschechien fördern.", keywords=["Tschechien"]),
            article("state", "Bayern", "Landesmittel in Bayern.", keywords=["Bayern"]),
        ],
        groups=[["BY", "Bayern", "bayerisch"]],
        laender=[Land(code="BY", name="Bayern")],
    )
    hits = idx.search("Wir sind ein Landkreis in Bayern und wollen mit Tschechien was machen")
    assert hits[0].article_id == "czech"
    # with nothing else to go on, the context still answers
    assert idx.search("Landkreis")[0].article_id == "office"
    assert idx.search("bayerisch")[0].article_id == "state"


def test_a_self_introduction_does_not_decide_the_answer(index: SearchIndex) -> None:
    assert top(index, "Wir sind ein kleiner Landkreis in Bayern. Wer fördert Austausch mit Tschechien?") == (
        "foerderung-tandem"
    )
    assert top(
        index, "Ich arbeite im Jugendamt eines Landkreises in Hessen, Begegnung mit Griechenland?"
    ) == ("foerderung-dgjw")
    assert top(index, "Wir sind ein Landkreis in Thüringen, wer hilft uns?") == "servicestellen-laender"


# --- typos -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Fördermittl", "foerderung-ueberblick"),
        ("Eurodeks", "eurodesk"),
        ("Tschechein", "foerderung-tandem"),
        ("Jugendhilfeauschuss Beschluss", "jugendhilfeausschuss"),
        ("Solidaritaetskorbs", "foerderung-esk"),
        ("Fachkräfteinitative", "fachkraefteinitiative"),
    ],
)
def test_typos_are_tolerated(index: SearchIndex, query: str, expected: str) -> None:
    assert top(index, query) == expected


def test_short_words_are_not_corrected() -> None:
    idx = small_index([article("a", "Polen", "Austausch mit Polen.")])
    assert idx.search("Polne") == []  # five letters: too short to guess at
    assert idx.search("Pollen") == []  # nor is a six-letter word taken for a five-letter one
    assert [h.article_id for h in idx.search("Austausch Pollen")] == ["a"]


# --- synonyms and abbreviations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("OFAJ", "foerderung-dfjw"),
        ("DFJW Antrag", "foerderung-dfjw"),
        ("PNWM", "foerderung-dpjw"),
        ("KJP", "foerderung-kjp"),
        ("Kinder- und Jugendplan", "foerderung-kjp"),
        ("JfE Antragsrunde", "foerderung-erasmus-jugend"),
        ("ESK", "foerderung-esk"),
        ("Solidaritätsprojekt", "foerderung-esk"),
        ("JHA Beschluss", "jugendhilfeausschuss"),
        ("KGI", "kgi-netzwerk"),
        ("FKI", "fachkraefteinitiative"),
        ("NRW", "servicestellen-laender"),
        ("Tschechische Republik", "foerderung-tandem"),
        ("Geld für Projekte mit Griechenland", "foerderung-dgjw"),
        ("E+", "foerderung-erasmus-jugend"),
        ("e+ KA2 kleine Partnerschaft", "foerderung-erasmus-jugend"),
        ("wer zahlt, wenn sich einer im Ausland das Bein bricht", "recht-sicherheit"),
        ("wie viel müssen wir selbst bezahlen", "eigenanteil-abrechnung"),
    ],
)
def test_abbreviations_and_synonyms(index: SearchIndex, query: str, expected: str) -> None:
    assert top(index, query) == expected


def test_synonym_group_links_words_the_article_does_not_use() -> None:
    articles = [
        article("travel", "Reisen mit Jugendlichen", "Mit Jugendlichen ins Ausland reisen."),
        article("other", "Haushalt", "Der Haushalt der Kommune wird jährlich beschlossen."),
    ]
    assert small_index(articles).search("Kids") == []
    with_synonyms = small_index(articles, [["Jugendliche", "Kids", "Teenager"]])
    assert [h.article_id for h in with_synonyms.search("Kids")] == ["travel"]


def test_synonym_phrase_of_several_words() -> None:
    articles = [
        article("kjp", "KJP", "Der KJP fördert Begegnungen."),
        article("other", "Kinder und Eltern", "Kinder brauchen einen Plan, Eltern auch."),
    ]
    idx = small_index(articles, [["KJP", "Kinder- und Jugendplan des Bundes"]])
    assert [h.article_id for h in idx.search("Kinder- und Jugendplan des Bundes")][:1] == ["kjp"]


def test_exact_wording_ranks_above_a_synonym() -> None:
    idx = small_index(
        [
            article("literal", "Zuschuss", "Ein Zuschuss hilft."),
            article("synonym", "Förderung", "Eine Förderung hilft."),
        ],
        [["Zuschuss", "Förderung"]],
    )
    hits = idx.search("Zuschuss")
    assert [h.article_id for h in hits] == ["literal", "synonym"]
    assert hits[0].score > hits[1].score


# --- robustness ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "   ", "\n\t", "😀🎉👍", "!!! ??? …", "\x00\x01", "🇩🇪🇫🇷"])
def test_empty_and_emoji_only_questions_give_nothing(index: SearchIndex, query: str) -> None:
    assert index.search(query) == []


def test_ten_thousand_characters_are_fast_and_do_not_crash(index: SearchIndex) -> None:
    sentence = "Wir suchen Fördermittel für eine Jugendbegegnung mit unserer Partnerstadt in Polen. "
    long_text = (sentence * 200)[:10_000]
    for query in [long_text, "x" * 10_000, " ".join(f"wort{i}" for i in range(2_000)), "ä" * 10_000]:
        started = time.perf_counter()
        hits = index.search(query)
        assert time.perf_counter() - started < 0.05
        assert all(0.0 <= hit.score <= 1.0 for hit in hits)
    assert top(index, long_text) == top(index, sentence)


def test_html_and_markdown_in_a_question(index: SearchIndex) -> None:
    html_question = '<b>Zuschuss</b> für <i>Austausch</i> mit <a href="https://example.org">Polen</a>&nbsp;?'
    assert top(index, html_question) == "foerderung-dpjw"
    markdown_question = "**Förderung** für eine Begegnung mit [Frankreich](https://example.org) – _wie_?"
    assert top(index, markdown_question) == "foerderung-dfjw"
    assert not any(hit.confident for hit in index.search("<script>alert(1)</script>"))


def test_english_question_does_not_crash(index: SearchIndex) -> None:
    hits = index.search("How can we get funding for a youth exchange with France?")
    assert hits and hits[0].article_id == "foerderung-dfjw"


def test_limit(index: SearchIndex) -> None:
    assert index.search("Förderung", limit=0) == []
    assert len(index.search("Förderung", limit=1)) == 1
    assert len(index.search("Förderung", limit=50)) <= index.size


# --- scores and confidence -------------------------------------------------------------------------------------


def test_hits_are_ranked_scored_and_flagged(index: SearchIndex) -> None:
    hits = index.search("Wie beantragt man ein Solidaritätsprojekt?", limit=10)
    assert all(isinstance(hit, Hit) for hit in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(0.0 < h.score <= 1.0 for h in hits)
    assert all(h.confident == (h.score >= CONFIDENCE_THRESHOLD) for h in hits)
    assert len({h.article_id for h in hits}) == len(hits)
    assert hits[0].title


@pytest.mark.parametrize(
    "query",
    [
        "Wie wird das Wetter morgen?",
        "asdf qwer",
        "Pizza bestellen",
        "What's the weather like tomorrow?",
        "Wer hat die Fußball-WM gewonnen?",
        "Rezept für Apfelkuchen",
        "Mein Drucker druckt nicht",
        "Wie spät ist es?",
        "Hundesteuer anmelden",
        "Passwort vergessen",
        "1",
        "2",
        "-1",
        "2026",
    ],
)
def test_nonsense_is_not_confident(index: SearchIndex, query: str) -> None:
    assert not any(hit.confident for hit in index.search(query))


@pytest.mark.parametrize("query", ["1", "42", "-1", "2026 2027", "14 - 17"])
def test_numbers_alone_name_no_topic(index: SearchIndex, query: str) -> None:
    assert index.search(query) == []


def test_a_clear_question_is_confident(index: SearchIndex) -> None:
    hits = index.search("Zuschuss für Austausch mit Polen")
    assert hits[0].article_id == "foerderung-dpjw"
    assert hits[0].confident


# --- synonyms.yaml ---------------------------------------------------------------------------------------------


def test_the_synonyms_file_is_valid(content: Content) -> None:
    assert validate_synonyms(content.synonyms) == []
    raw = yaml.safe_load((ROOT / "content" / "synonyms.yaml").read_text(encoding="utf-8"))
    terms = {fold(t) for group in raw["groups"] for t in group}
    for required in ["dfjw", "ofaj", "dpjw", "pnwm", "kjp", "esk", "jfe", "jha", "kgi", "ija", "fki", "nrw"]:
        assert required in terms


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (["dfjw", "ofaj"], "synonyms.yaml: must be a mapping with the key 'groups', got list"),
        ({"groups": "dfjw"}, "synonyms.yaml: groups: must be a list of groups, got str"),
        (
            {"groups": [["a1", "b1"]], "extra": 1},
            "synonyms.yaml: unknown key 'extra' (only 'groups' is allowed)",
        ),
        ({"groups": ["dfjw"]}, "synonyms.yaml: groups[0]: must be a list of terms, got str"),
        ({"groups": [["dfjw", 3]]}, "synonyms.yaml: groups[0][1]: must be a non-empty string, got 3"),
        ({"groups": [["dfjw", " "]]}, "synonyms.yaml: groups[0][1]: must be a non-empty string, got ' '"),
        (
            {"groups": [["dfjw", "der die das"]]},
            "synonyms.yaml: groups[0][1]: 'der die das' has no searchable word (only stop words or punctuation)",
        ),
        (
            {"groups": [["Bestandsaufnahme", "Ist-Stand"]]},
            "synonyms.yaml: groups[0][1]: 'Ist-Stand' would match every question with the word 'stand' (its other"
            " words are stop words); write 'stand' if that is meant, or drop the term",
        ),
        (
            {"groups": [["DFJW", "OFAJ", "dfjw"]]},
            "synonyms.yaml: groups[0][2]: 'dfjw' repeats term 0 ('DFJW')",
        ),
        (
            {"groups": [["dfjw"]]},
            "synonyms.yaml: groups[0]: needs at least two different searchable terms, has 1",
        ),
        (
            {"groups": [["dfjw", "ofaj"], ["OFAJ", "DFJW"]]},
            "synonyms.yaml: groups[1]: lists the same terms as groups[0]",
        ),
    ],
)
def test_synonym_problems_are_named_precisely(raw: object, problem: str) -> None:
    assert problem in validate_synonyms(raw)


def test_a_term_that_collapses_to_one_word_is_not_used() -> None:
    """ "ins Ausland gehen" without its stop words is "Ausland": it would send every question about something
    abroad to the article on going abroad."""
    idx = small_index(
        [
            article("abroad", "Auslandsaufenthalt", "Beratung zum Auslandsaufenthalt für junge Menschen."),
            article("insurance", "Versicherung", "Die Versicherung im Ausland klären."),
        ],
        groups=[["Auslandsaufenthalt", "ins Ausland gehen"]],
    )
    assert [h.article_id for h in idx.search("Versicherung im Ausland")] == ["insurance"]
    assert [h.article_id for h in idx.search("Ausland")] == ["insurance"]


def test_a_broken_synonym_group_is_skipped_not_fatal() -> None:
    articles = [article("a", "Jugendliche", "Jugendliche reisen.")]
    idx = small_index(articles, [["Kids"], 3, ["Jugendliche", "Kids"]])  # type: ignore[list-item]
    assert [h.article_id for h in idx.search("Kids")] == ["a"]


# --- command line ----------------------------------------------------------------------------------------------


def _ask(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "ask", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "BOT_CONTENT_DIR": str(ROOT / "content"), "PYTHONUTF8": "1"},
    )


def test_ask_json_shows_the_passage_and_the_ranked_answers() -> None:
    result = _ask("Zuschuss für Austausch mit Polen", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    rows = answer["ranking"]
    assert rows[0]["id"] == "foerderung-dpjw"
    assert set(rows[0]) == {"id", "title", "score", "confident"}
    assert rows[0]["confident"] is True
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    passage = answer["passage"]
    assert passage["article"] == "foerderung-dpjw" and passage["text"]
    assert {"section", "sources", "stand"} <= set(passage)


def test_ask_json_for_nonsense_has_no_passage_and_no_ranking() -> None:
    result = _ask("asdf qwer", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["passage"] is None and answer["ranking"] == []


def test_ask_prints_the_passage_then_a_table() -> None:
    result = _ask("Was macht Eurodesk?", "--limit", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("passage: ") and "eurodesk" in lines[0]
    header = next(
        i for i, line in enumerate(lines) if line.split() == ["#", "score", "confident", "id", "title"]
    )
    assert "eurodesk" in lines[header + 2]
    assert len(lines) == header + 4
