"""Announcement delivery to 1,000 subscribers: achieved rate and total time, under Telegram's flood control.

How: the real bot runs as a process (``python -m bot``) against the loopback fake Bot API server of the
end-to-end tests, with flood control on (30 messages/s overall, 429 with retry_after when exceeded). The
database is seeded with 1,000 Infobrief subscribers and one announcement due now, so the bot's periodic tick
starts it exactly as after a coordinator's "send now" (the dialogue itself is covered by the tests). Timings
are the fake server's receive times, so HTTP, PTB, the outbox and SQLite are all inside the measurement.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bot.config import Settings
from tests.e2e.announce_seed import seed
from tests.e2e.botprocess import BotProcess
from tests.e2e.fakeapi import FakeBotApi, FakeUser

RECIPIENTS = 1000
COORDINATOR = FakeUser(5001, "Kora")
BODY = "<b>Infobrief</b> – Benchmark"


def run() -> list[dict[str, str]]:
    rate = float(Settings.model_fields["broadcast_rate"].default)
    users = [FakeUser(800_000 + i, f"B{i}") for i in range(RECIPIENTS)]
    ids = {u.id for u in users}
    with tempfile.TemporaryDirectory(prefix="bench-broadcast-") as tmp, FakeBotApi() as api:
        db_path = Path(tmp) / "bot.sqlite3"
        seed(db_path, COORDINATOR.id, sorted(ids), scheduled_body=BODY)
        for user in [COORDINATOR, *users]:
            api.add_user(user)
        api.set_flood_limits(global_per_second=30)
        env = {"BOT_BROADCAST_RATE": str(rate), "BOT_LOG_LEVEL": "WARNING"}
        with BotProcess(api.url, db_path, env, log_path=Path(tmp) / "bot.log") as bot:
            bot.wait_started(api)
            report = api.wait_for_message(
                COORDINATOR, "Bericht zu Ankündigung", timeout=RECIPIENTS / rate * 3 + 30
            )
            bot.terminate()
        calls = [c for c in api.calls("sendMessage") if c.ok and int(c.params.get("chat_id", 0)) in ids]
        stamps = sorted(c.timestamp for c in calls)
        per_user: dict[int, int] = {}
        for c in calls:
            per_user[int(c.params["chat_id"])] = per_user.get(int(c.params["chat_id"]), 0) + 1
        span = stamps[-1] - stamps[0]
        achieved = (len(stamps) - 1) / span if span > 0 else float("inf")
        until_report = report.timestamp - stamps[0]
        exactly_once = sum(1 for uid in ids if per_user.get(uid) == 1)
        too_many = api.too_many_requests_count
    ideal = (RECIPIENTS - 1) / rate
    return [
        {
            "benchmark": "broadcast",
            "metric": "achieved rate (messages/s)",
            "value": f"{achieved:.2f}",
            "target": f"≈ BOT_BROADCAST_RATE = {rate:g}, below Telegram's 30",
        },
        {
            "benchmark": "broadcast",
            "metric": f"time for {RECIPIENTS:,} recipients (first to last, s)",
            "value": f"{span:.1f}",
            "target": f"≈ {ideal:.1f} ({RECIPIENTS:,} / {rate:g})",
        },
        {
            "benchmark": "broadcast",
            "metric": "first message to coordinator's report (s)",
            "value": f"{until_report:.1f}",
            "target": f"≈ {ideal:.1f}",
        },
        {
            "benchmark": "broadcast",
            "metric": "recipients reached exactly once",
            "value": f"{exactly_once:,}",
            "target": f"{RECIPIENTS:,}",
        },
        {
            "benchmark": "broadcast",
            "metric": "429 answers served",
            "value": str(too_many),
            "target": "0",
        },
    ]


if __name__ == "__main__":
    started = time.monotonic()
    for row in run():
        print(f"{row['metric']:<50} {row['value']:>10}   target {row['target']}")
    print(f"(ran {time.monotonic() - started:.0f} s)")
