"""The bot as a process answers fact questions across Länder, programmes and deadlines with the fact first.

Every expected value is read from content/ here (never written into the test), so the test keeps checking the
current facts when editors change them: the first message must state the fact and be at most about a third of
the article's length. A follow-up ("und in Bayern?") is read in the context of the answer before it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import deadlines
from bot.advice import article_pages
from bot.config import REPO_ROOT
from bot.content import Content, load_content
from bot.telegram_html import html_to_plain

from .botprocess import BotStarter
from .fakeapi import FakeBotApi, FakeUser

ASKER = FakeUser(3003, "Carla")
NOW = "2026-12-04T10:00:00+00:00"
TZ = ZoneInfo("Europe/Berlin")
# "About a third": the answer may carry its source line and the Land note on top.
SLACK = 250


def _laenderstelle(content: Content, land: str, programme: str) -> str:
    """Who takes KJP applications of Kommunen in the Land, as content/ says it."""
    entry = content.servicepoints.land(land).laenderstelle_for(programme)
    if entry is not None:
        return entry.who
    for rule in content.calendar.deadlines:
        for variant in rule.variants:
            if rule.programme == programme and land in variant.laender:
                return variant.intermediary.who
    return html_to_plain(content.texts("advice.answer.no_laenderstelle", land="X", programme="Y")).split(
        ". "
    )[-1]


def _land_funding(content: Content, land: str) -> str:
    info = content.servicepoints.land(land)
    if info.programmes:
        return info.programmes[0].name
    return info.no_programme or html_to_plain(content.texts("advice.answer.land_none_known", land=info.name))


def _next_deadline(content: Content, programme: str) -> str:
    now = datetime.fromisoformat(NOW)
    views = deadlines.views_for(content.calendar, None, TZ, now, {programme})
    return html_to_plain(deadlines.render_deadline(content.texts, views[0], now, TZ)).splitlines()[1]


def _kjp_rate(content: Content) -> str:
    assert content.guided is not None
    rates = [r for p in content.guided.programmes.programmes if p.id.startswith("kjp") for r in p.rates]
    if rates:
        return rates[0].amount
    return html_to_plain(content.texts("advice.nearby"))  # no rate in content: the honest "not exactly"


def _dpjw_ages(content: Content) -> str:
    assert content.guided is not None
    ages = next(p for p in content.guided.programmes.programmes if p.id == "dpjw").ages
    assert ages is not None
    return f"{ages.min} bis {ages.max} Jahre"


# (question, the fact it must state, the article whose length bounds the answer)
CASES: list[tuple[str, Callable[[Content], str], str]] = [
    (
        "Wer ist in Hessen für KJP-Anträge von Kommunen zuständig?",
        lambda c: _laenderstelle(c, "HE", "kjp"),
        "foerderung-kjp",
    ),
    ("und in Bayern?", lambda c: _laenderstelle(c, "BY", "kjp"), "foerderung-kjp"),
    (
        "Gibt es in Niedersachsen eine Landesförderung?",
        lambda c: _land_funding(c, "NI"),
        "foerderung-laender",
    ),
    (
        "Wann ist die nächste Erasmus+-Frist?",
        lambda c: _next_deadline(c, "erasmus"),
        "foerderung-erasmus-jugend",
    ),
    ("Bis wann müssen wir beim DPJW beantragen?", lambda c: _next_deadline(c, "dpjw"), "foerderung-dpjw"),
    ("Was zahlt der KJP pro Tag?", _kjp_rate, "foerderung-kjp"),
    ("Wie alt dürfen Teilnehmende beim DPJW sein?", _dpjw_ages, "foerderung-dpjw"),
]


def test_fact_questions_get_the_fact_first_and_short(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    content = load_content(REPO_ROOT / "content")
    clock = tmp_path / "clock.txt"
    clock.write_text(NOW, encoding="utf-8")
    fake_api.add_user(ASKER)
    bot = bot_process({"IJA_LOTSE_TEST_CLOCK_FILE": str(clock)})
    for question, fact, article_id in CASES:
        mark = fake_api.mark()
        fake_api.send_text(ASKER, question)
        reply = fake_api.wait_for_message(ASKER, since=mark)
        expected = html_to_plain(fact(content))
        assert expected in reply.content, f"{question!r}: {expected!r} not in\n{reply.content}"
        article = content.articles[article_id]
        whole = sum(len(html_to_plain(p)) for p in article_pages(article, content.texts))
        assert len(reply.content) <= whole / 3 + SLACK, f"{question!r}: {len(reply.content)} of {whole}"
    exit_code, _ = bot.terminate(timeout=5)
    assert exit_code == 0, bot.output()
