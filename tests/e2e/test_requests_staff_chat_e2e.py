"""Consultation requests with the bot as a real process, where the staff group is not set up as it should be:
a forum in which the bot may not create topics, and a wrong BOT_STAFF_CHAT_ID corrected later."""

from __future__ import annotations

import time
from pathlib import Path

from .botprocess import BotStarter, set_clock
from .fakeapi import FakeBotApi, FakeChat, FakeUser
from .test_requests_e2e import ANNA, SABINE, STAFF_CHAT_ID, failed_calls, file_request, press, start_bot

ADMIN = FakeUser(3009, "Adele")


def test_a_forum_where_the_bot_may_not_create_topics_still_gets_every_request(
    fake_api: FakeBotApi, bot_process: BotStarter
) -> None:
    chat = fake_api.add_chat(
        FakeChat.supergroup(STAFF_CHAT_ID, "Beratungsteam", is_forum=True),
        members={SABINE: "member"},
        bot_status="member",  # not an admin: no right to manage topics
    )
    start_bot(fake_api, bot_process)
    number = file_request(fake_api, ANNA)
    post = fake_api.wait_for_message(chat, f"Anfrage #{number}")
    assert post.message_thread_id is None and fake_api.topics(chat) == []
    assert "Antworten Sie auf diese Nachricht" in post.content
    post = press(fake_api, SABINE, post, "🙋 Übernehmen", "in Bearbeitung · bei Sabine")
    mark = fake_api.mark()
    fake_api.send_text(SABINE, "Guten Tag! Wir melden uns morgen telefonisch.", chat=chat, reply_to=post)
    answer = fake_api.wait_for_message(ANNA, "Antwort des Beratungsteams", since=mark)
    assert "Wir melden uns morgen telefonisch." in answer.content
    refused = [c.method for c in failed_calls(fake_api)]
    assert set(refused) <= {"createForumTopic"}, fake_api.describe()


def test_a_wrong_staff_chat_id_is_reported_and_the_corrected_one_gets_the_request(
    fake_api: FakeBotApi, bot_process: BotStarter, tmp_path: Path
) -> None:
    clock = tmp_path / "clock.txt"
    set_clock(clock, "2026-11-24T10:00:00+00:00")
    chat = fake_api.add_chat(
        FakeChat.supergroup(STAFF_CHAT_ID, "Beratungsteam", is_forum=False), members={SABINE: "member"}
    )
    fake_api.add_user(ADMIN)
    env = {
        "IJA_LOTSE_TEST_CLOCK_FILE": str(clock),
        "BOT_ADMIN_IDS": str(ADMIN.id),
        "BOT_TICK_SECONDS": "0.3",
    }
    bot = start_bot(fake_api, bot_process, **env, BOT_STAFF_CHAT_ID="-1009876543210")  # a typo
    number = file_request(fake_api, ANNA)
    notice = fake_api.wait_for_message(ADMIN, f"Anfrage #{number} ist nicht in der Teamgruppe angekommen")
    assert "chat not found" in notice.content.lower() and "Musterstadt" not in notice.content
    exit_code, _ = bot.terminate(timeout=5)
    assert exit_code == 0, bot.output()

    start_bot(fake_api, bot_process, **env)  # the id corrected
    time.sleep(1.0)
    assert fake_api.messages(chat) == []  # not before the reminder is due
    set_clock(clock, "2026-11-25T10:01:00+00:00")
    post = fake_api.wait_for_message(chat, f"📨 Anfrage #{number}")
    assert "Stadt Musterstadt" in post.content
    reminder = fake_api.wait_for_message(chat, "⏰")
    assert reminder.reply_to == post.message_id
    time.sleep(1.0)  # several ticks later: one copy
    assert len([m for m in fake_api.messages(chat) if m.content.startswith("📨")]) == 1
