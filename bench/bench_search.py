"""Search benchmark: index build time, query latency and index memory over the real content; and the same for
precise answers (bot/answers/: slots, article ranking, passage choice or structured answer), with the passage
eval's section accuracy.

Runs every eval question (tests/data/eval_questions*.yaml) and a set of robustness inputs (empty, emoji, HTML,
Markdown, English, nonsense, a 10,000-character message). The first pass runs on fresh caches (as after a
restart), the following passes on warm ones; both are held to the target p99 < 5 ms. The warm passes also
report the search's own CPU time, which a busy machine does not inflate.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.answers import Answerer
from bot.config import REPO_ROOT
from bot.content import load_content
from bot.followup import Topic
from bot.german_text import stem
from bot.search import SearchIndex

CONTENT_DIR = REPO_ROOT / "content"
EVAL_FILES = sorted((REPO_ROOT / "tests" / "data").glob("eval_questions*.yaml"))
PASSAGE_FILES = sorted((REPO_ROOT / "tests" / "data").glob("eval_passages*.yaml"))
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")
FOLLOW_UPS = ["und in Bayern?", "und für Polen?", "wie lange vorher?", "und in NRW?"]
ROUNDS = 30
P99_TARGET_MS = 5.0

ROBUSTNESS = [
    "",
    "   ",
    "😀🎉👍",
    "<b>Zuschuss</b> für <i>Austausch</i> mit <a href='https://dpjw.org'>Polen</a>",
    "**Förderung** für [Frankreich](https://www.dfjw.org) – _wie_ beantragen?",
    "How can we get funding for a youth exchange with France?",
    "Wie wird das Wetter morgen?",
    "asdf qwer",
    "Pizza bestellen",
    "Fördermittl Eurodeks Tschechein Jugendbegegnunk Solidaritaetskorps",
    (
        "Wir möchten eine Jugendbegegnung mit unserer Partnerstadt organisieren und suchen Fördermittel. "
        * 110
    )[:10_000],
    "x" * 10_000,
    " ".join(f"wort{i}" for i in range(2_000)),
]


def _eval_sets() -> dict[str, list[dict[str, Any]]]:
    return {path.stem: yaml.safe_load(path.read_text(encoding="utf-8")) for path in EVAL_FILES}


def _questions() -> list[str]:
    return [str(item["q"]) for items in _eval_sets().values() for item in items]


def _quality(index: SearchIndex) -> list[dict[str, str]]:
    rows = []
    for name, items in _eval_sets().items():
        first = three = confident = 0
        for item in items:
            hits = index.search(str(item["q"]), limit=3)
            wanted = set(item["ids"])
            first += bool(hits) and hits[0].article_id in wanted
            three += any(hit.article_id in wanted for hit in hits)
            confident += bool(hits) and hits[0].confident
        n = len(items)
        rows.append(_row(f"{name} top-1", f"{first / n:.1%}", ">= 95 %", f"{first}/{n}"))
        rows.append(_row(f"{name} top-3", f"{three / n:.1%}", "100 %", f"{three}/{n}"))
        rows.append(_row(f"{name} confident", f"{confident / n:.1%}", "", f"{confident}/{n}"))
    return rows


def _passage_sets() -> dict[str, list[dict[str, Any]]]:
    return {path.stem: yaml.safe_load(path.read_text(encoding="utf-8")) for path in PASSAGE_FILES}


def _passage_quality(answerer: Answerer) -> list[dict[str, str]]:
    rows = []
    articles = answerer.content.articles
    for name, items in _passage_sets().items():
        missing = sorted({str(item["article"]) for item in items} - set(articles))
        if missing:  # written for content not merged yet
            rows.append(
                _row(f"{name} section first", "n/a", ">= 90 %", f"articles not merged: {', '.join(missing)}")
            )
            continue
        right = 0
        for item in items:
            passage = answerer.answer(str(item["q"]), now=NOW, tz=TZ).passage
            got = (passage.article_id, passage.section, passage.kind) if passage else (None, None, None)
            sections = item["section"] if isinstance(item["section"], list) else [item["section"]]
            right += got[0] == item["article"] and got[1] in sections and item.get("kind") in (None, got[2])
        n = len(items)
        rows.append(_row(f"{name} section first", f"{right / n:.1%}", ">= 90 %", f"{right}/{n}"))
    return rows


def _answer_latency(answerer: Answerer, queries: list[str]) -> list[dict[str, str]]:
    """The whole answer per question (as the handler calls it), fresh and warm; follow-ups with a context."""
    topic = Topic("foerderung-kjp", "kjp", "HE", "body")
    calls = [(q, None) for q in queries] + [(q, topic) for q in FOLLOW_UPS]
    cold: list[float] = []
    for question, previous in calls:
        started = time.perf_counter()
        answerer.answer(question, now=NOW, tz=TZ, previous=previous, profile_land="BY")
        cold.append((time.perf_counter() - started) * 1000)
    warm: list[float] = []
    cpu: list[float] = []
    for _ in range(ROUNDS // 3):
        for question, previous in calls:
            started, started_cpu = time.perf_counter(), time.thread_time()
            answerer.answer(question, now=NOW, tz=TZ, previous=previous, profile_land="BY")
            cpu.append((time.thread_time() - started_cpu) * 1000)
            warm.append((time.perf_counter() - started) * 1000)
    target = f"< {P99_TARGET_MS:g} ms"
    warm_p99, cold_p99 = _percentile(warm, 99), _percentile(cold, 99)
    return [
        _row("answer: questions per pass", str(len(calls)), "", f"incl. {len(FOLLOW_UPS)} follow-ups"),
        _row("answer: latency p50 (warm)", f"{statistics.median(warm):.3f} ms"),
        _row(
            "answer: latency p99 (warm)",
            f"{warm_p99:.3f} ms",
            target,
            "ok" if warm_p99 < P99_TARGET_MS else "TOO SLOW",
        ),
        _row(
            "answer: latency p99 (cold)",
            f"{cold_p99:.3f} ms",
            target,
            "ok" if cold_p99 < P99_TARGET_MS else "TOO SLOW",
        ),
        _row("answer: latency max (warm)", f"{max(warm):.3f} ms"),
        _row(
            "answer: cpu time p99 (warm)",
            f"{_percentile(cpu, 99):.3f} ms",
            target,
            "thread CPU time: a wall-clock tail far above it is the machine's load, not the answer",
        ),
    ]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def _row(metric: str, value: str, target: str = "", note: str = "") -> dict[str, str]:
    return {"benchmark": "search", "metric": metric, "value": value, "target": target, "note": note}


def run() -> list[dict[str, str]]:
    """Measure the search over the real content; rows for ``python -m bench``."""
    content = load_content(CONTENT_DIR)
    queries = _questions() + ROBUSTNESS

    started = time.perf_counter()
    index = SearchIndex.build(content)
    build_ms = (time.perf_counter() - started) * 1000

    # memory: build again on a fresh stemming cache under tracemalloc (which slows the build down)
    stem.cache_clear()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    index = SearchIndex.build(content)
    after = tracemalloc.take_snapshot()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    index_bytes = sum(stat.size_diff for stat in after.compare_to(before, "filename"))

    cold: list[float] = []
    for query in queries:
        started = time.perf_counter()
        index.search(query)
        cold.append((time.perf_counter() - started) * 1000)
    warm: list[float] = []
    cpu: list[float] = []
    for _ in range(ROUNDS):
        for query in queries:
            started, started_cpu = time.perf_counter(), time.thread_time()
            index.search(query)
            cpu.append((time.thread_time() - started_cpu) * 1000)
            warm.append((time.perf_counter() - started) * 1000)

    target = f"< {P99_TARGET_MS:g} ms"
    cold_p99, warm_p99 = _percentile(cold, 99), _percentile(warm, 99)
    started = time.perf_counter()
    answerer = Answerer.build(content, index)
    answers_build_ms = (time.perf_counter() - started) * 1000
    passage_questions = [str(item["q"]) for items in _passage_sets().values() for item in items]
    return [
        _row("articles indexed", str(index.size)),
        _row("index build", f"{build_ms:.1f} ms", "", "once at start, fresh caches"),
        _row(
            "index memory",
            f"{index_bytes / 1_048_576:.2f} MiB",
            "",
            f"tracemalloc; build peak {peak / 1_048_576:.2f} MiB",
        ),
        _row(
            "queries per pass",
            str(len(queries)),
            "",
            f"{len(queries) - len(ROBUSTNESS)} eval + {len(ROBUSTNESS)} robustness",
        ),
        _row("latency p50 (warm)", f"{statistics.median(warm):.3f} ms", "", f"{ROUNDS} passes"),
        _row("latency p95 (warm)", f"{_percentile(warm, 95):.3f} ms"),
        _row(
            "latency p99 (warm)",
            f"{warm_p99:.3f} ms",
            target,
            "ok" if warm_p99 < P99_TARGET_MS else "TOO SLOW",
        ),
        _row("latency max (warm)", f"{max(warm):.3f} ms"),
        _row(
            "cpu time p99 (warm)",
            f"{_percentile(cpu, 99):.3f} ms",
            "",
            "thread CPU time: a wall-clock tail far above it is the machine's load, not the search",
        ),
        _row(
            "latency p99 (cold)",
            f"{cold_p99:.3f} ms",
            target,
            "ok" if cold_p99 < P99_TARGET_MS else "TOO SLOW",
        ),
        _row("latency max (cold)", f"{max(cold):.3f} ms", "", "first pass, fresh caches"),
        *_quality(index),
        _row("passages indexed", str(answerer.passages.size), "", "article overviews and sections"),
        _row("answers build", f"{answers_build_ms:.1f} ms", "", "passage index and slot vocabularies"),
        *_answer_latency(answerer, queries + passage_questions),
        *_passage_quality(answerer),
    ]
