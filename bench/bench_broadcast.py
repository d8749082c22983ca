"""Announcement delivery to 1,000 subscribers: achieved rate and total time, under Telegram's flood control; at
80 ms per Bot API call also while 10 users keep asking (each reads an answer for 3 s before the next question).

How: the real bot runs as a process (``python -m bot``) against the loopback fake Bot API server of the
end-to-end tests, with flood control on (30 messages/s overall, 429 with retry_after when exceeded). The
database is seeded with 1,000 Infobrief subscribers and one announcement due now, so the bot's periodic tick
starts it exactly as after a coordinator's "send now" (the dialogue itself is covered by the tests). Timings
are the fake server's receive times, so HTTP, PTB, the outbox and SQLite are all inside the measurement.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

from bot.config import Settings
from tests.e2e.announce_seed import seed
from tests.e2e.botprocess import BotProcess
from tests.e2e.fakeapi import FakeBotApi, FakeUser

RECIPIENTS = 1000
COORDINATOR = FakeUser(5001, "Kora")
BODY = "<b>Infobrief</b> – Benchmark"
QUESTION = "Wie finden wir eine Partnerorganisation in Polen?"
THINK_SECONDS = 3.0


def broadcast(latency: float, askers: int) -> list[dict[str, str]]:
    """One announcement to RECIPIENTS at ``latency`` per Bot API call while ``askers`` users keep asking."""
    rate = float(Settings.model_fields["broadcast_rate"].default)
    users = [FakeUser(800_000 + i, f"B{i}") for i in range(RECIPIENTS)]
    asking = [FakeUser(900_000 + i, f"A{i}") for i in range(askers)]
    ids = {u.id for u in users}
    latencies: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-broadcast-") as tmp, FakeBotApi(latency=latency) as api:
        db_path = Path(tmp) / "bot.sqlite3"
        seed(db_path, COORDINATOR.id, sorted(ids), scheduled_body=BODY)
        for user in [COORDINATOR, *users, *asking]:
            api.add_user(user)
        api.set_flood_limits(global_per_second=30)
        env = {"BOT_BROADCAST_RATE": str(rate), "BOT_LOG_LEVEL": "WARNING"}
        with BotProcess(api.url, db_path, env, log_path=Path(tmp) / "bot.log") as bot:
            bot.wait_started(api, timeout=60)
            done = threading.Event()

            def keep_asking(user: FakeUser) -> None:
                while not done.is_set():
                    mark = api.mark()
                    api.send_text(user, QUESTION)
                    answer = api.wait_for_message(user, since=mark, timeout=60)
                    latencies.append(answer.last_change - mark)
                    done.wait(THINK_SECONDS)  # a person reads the answer before asking the next question

            threads = [threading.Thread(target=keep_asking, args=(u,)) for u in asking]
            for thread in threads:
                thread.start()
            report = api.wait_for_message(
                COORDINATOR, "Bericht zu Ankündigung", timeout=RECIPIENTS / rate * 3 + 60
            )
            done.set()
            for thread in threads:
                thread.join()
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
    label = f"{latency * 1000:.0f} ms per call" + (f", {askers} users asking" if askers else "")
    rows = [
        {
            "benchmark": "broadcast",
            "metric": f"achieved rate (messages/s), {label}",
            "value": f"{achieved:.2f}",
            "target": f"≥ 95 % of BOT_BROADCAST_RATE = {rate:g} ({0.95 * rate:.2f})",
        },
        {
            "benchmark": "broadcast",
            "metric": f"time for {RECIPIENTS:,} recipients (first to last, s), {label}",
            "value": f"{span:.1f}",
            "target": f"≈ {ideal:.1f} ({RECIPIENTS:,} / {rate:g})",
        },
        {
            "benchmark": "broadcast",
            "metric": f"first message to coordinator's report (s), {label}",
            "value": f"{until_report:.1f}",
            "target": f"≈ {ideal:.1f}",
        },
        {
            "benchmark": "broadcast",
            "metric": f"recipients reached exactly once, {label}",
            "value": f"{exactly_once:,}",
            "target": f"{RECIPIENTS:,}",
        },
        {
            "benchmark": "broadcast",
            "metric": f"429 answers served, {label}",
            "value": str(too_many),
            "target": "0",
        },
    ]
    if latencies:
        ordered = sorted(latencies)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        rows.append(
            {
                "benchmark": "broadcast",
                "metric": f"answers to the users asking meanwhile: p99 (s), {label}",
                "value": f"{p99:.2f} ({len(latencies)} answers)",
                "target": "< 1",
            }
        )
    return rows


def run() -> list[dict[str, str]]:
    if os.environ.get("BENCH_QUICK") == "1":
        return broadcast(0.08, 10)
    return broadcast(0.0, 0) + broadcast(0.08, 10)


if __name__ == "__main__":
    started = time.monotonic()
    for row in run():
        print(f"{row['metric']:<50} {row['value']:>10}   target {row['target']}")
    print(f"(ran {time.monotonic() - started:.0f} s)")
