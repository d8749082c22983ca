"""The bot as a process: Themen → Förderung → an article and back; a free-text question, rated."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from .botprocess import BotStarter
from .fakeapi import FakeBotApi, FakeUser

BEN = FakeUser(2002, "Ben")


def test_topics_article_question_and_rating(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    fake_api.add_user(BEN)
    bot = bot_process()

    fake_api.send_text(BEN, "/themen")
    root = fake_api.wait_for_message(BEN, "Themen")
    fake_api.press_button(BEN, root, text="Förderung")
    node = fake_api.wait_for(
        lambda: _edited_to(fake_api, root.message_id, "Förderung"), message="Förderung node"
    )
    fake_api.press_button(BEN, node, text="Kinder- und Jugendplan des Bundes (KJP)")
    article = fake_api.wait_for(
        lambda: _edited_to(fake_api, root.message_id, "Kinder- und Jugendplan des Bundes (KJP)"),
        message="KJP article",
    )
    for _ in range(5):  # a long article comes in pages; its sources and Stand close the last one
        if "Quellen" in article.content:
            break
        shown = article.content
        fake_api.press_button(BEN, article, text="Weiter ▶")
        article = fake_api.wait_for(
            lambda shown=shown: _changed_from(fake_api, root.message_id, shown), message="next page"
        )
    assert "Quellen" in article.content and "Stand:" in article.content
    fake_api.press_button(BEN, article, text="◀️ Zurück")
    fake_api.wait_for(lambda: _edited_to(fake_api, root.message_id, "Wählen Sie ein Thema"), message="back")

    mark = fake_api.mark()
    fake_api.send_text(BEN, "Wie beantragt man ein Solidaritätsprojekt?")
    answer = fake_api.wait_for_message(BEN, "Solidaritätskorps", since=mark)
    rated = next(data for data in answer.callback_data() if data.startswith("adv:up:"))
    query_id = fake_api.press_button(BEN, answer, rated)
    fake_api.wait_for(lambda: fake_api.callback_answer(query_id), message="rating acknowledged")

    exit_code, _ = bot.terminate(timeout=5)
    assert exit_code == 0, bot.output()
    with closing(sqlite3.connect(tmp_path / "bot.sqlite3")) as conn:
        rows = conn.execute("SELECT user_id, article_id, helpful FROM advice_ratings").fetchall()
    assert rows == [(BEN.id, rated.removeprefix("adv:up:"), 1)]
    assert not [c for c in fake_api.calls() if c.status != 200 and c.method != "getUpdates"], (
        fake_api.describe()
    )


def _changed_from(api: FakeBotApi, message_id: int, content: str) -> object:
    message = api.message(BEN, message_id)
    return message if message is not None and message.content != content else None


def _edited_to(api: FakeBotApi, message_id: int, needle: str) -> object:
    message = api.message(BEN, message_id)
    return message if message is not None and needle in message.content else None
