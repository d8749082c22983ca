"""No second forum topic after a crash between creating a request's topic and storing its id: the intent is stored
first; a retry that finds it posts into the group itself instead of creating a duplicate, and the first topic
becomes the request's topic as soon as staff write in it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.offline import BOT_USER, Call, OfflineBotApi
from bot.requests import topic_name
from tests.handlers.requests_support import STAFF, STAFF_CHAT, deliver, file_request, staff_posts
from tests.harness import STAFF_CHAT_ID, harness

USER = 7301
ORPHAN = 4242  # the thread id Telegram gave the topic the bot never learned of


def lost_first_topic() -> Any:
    seen = [0]

    def fail(call: Call) -> tuple[int, dict[str, Any]] | None:
        if call.method == "createForumTopic":
            seen[0] += 1
            if seen[0] == 1:  # Telegram created it; the answer (or the bot) was lost
                return 502, {"error_code": 502, "description": "Bad Gateway"}
        return None

    return fail


async def test_a_lost_topic_is_not_created_twice_and_is_adopted_when_staff_write_in_it(
    tmp_path: Path,
) -> None:
    api = OfflineBotApi(strict=True, forum_chats=frozenset({STAFF_CHAT_ID}))
    api.fail = lost_first_topic()
    async with harness(tmp_path, api=api, broadcast_rate=30) as h:
        await file_request(h, h.user(USER, "Anna"))
        for _ in range(3):  # the outbox tries the post again (after its backoff)
            h.clock.advance(timedelta(seconds=30))
            await deliver(h)
        assert len([c for c in h.api.calls if c.method == "createForumTopic"]) == 1
        [post] = staff_posts(h)
        assert post.thread_id is None  # in the group itself, not in a duplicate topic
        req = await h.db.get_request(1)
        assert req is not None
        # Staff write in the orphan topic: its creation message names the request.
        created = {
            "message_id": ORPHAN,
            "date": int(h.clock.now().timestamp()),
            "chat": STAFF_CHAT,
            "from": BOT_USER,
            "forum_topic_created": {"name": topic_name(h.texts, req), "icon_color": 7322096},
        }
        update = h.factory.message(
            h.user(STAFF, "Sabine"),
            "Guten Tag, wir kümmern uns.",
            chat=STAFF_CHAT,
            thread_id=ORPHAN,
            extra={"reply_to_message": created},
        )
        await h.app.process_update(update)
        await deliver(h)
        assert "Guten Tag, wir kümmern uns." in h.api.sent_to(USER)[-1].text
        req = await h.db.get_request(1)
        assert req is not None and req.staff_thread_id == ORPHAN
