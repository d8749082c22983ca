"""Runs the bot as a real process (``python -m bot``) against the fake Bot API server."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Protocol, Self

from .fakeapi import DEFAULT_TOKEN, FakeBotApi

__all__ = ["FAKE_TOKEN", "ROOT", "BotExit", "BotProcess", "BotStarter", "free_port", "set_clock"]

ROOT = Path(__file__).resolve().parents[2]
FAKE_TOKEN = DEFAULT_TOKEN


_PORTS = random.SystemRandom()  # not the seeded module generator: workers must not pick the same ports


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for the bot's webhook server).

    Chosen below the range the kernel hands out for ``bind(0)`` and outgoing connections, so another worker's
    fake server or a client socket cannot take it between this check and the bot's listen."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(200 if low > 11_000 else 0):  # a range that starts low leaves no room below it
        port = _PORTS.randrange(10_000, low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def set_clock(path: Path, iso: str) -> None:
    """Set the bot's file clock (``BOT_FAKE_CLOCK_FILE``) at once: the bot never reads an empty or half-written
    file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(iso, encoding="utf-8")
    tmp.replace(path)


class BotExit(NamedTuple):
    """How the process ended: exit code (negative: killed by that signal) and seconds it took."""

    code: int
    elapsed: float


class BotProcess:
    """The bot in a subprocess, its output captured in ``log_path``.

    The environment is the test's own minus every ``BOT_*`` variable, plus BOT_TOKEN, BOT_API_URL,
    BOT_DATABASE and ``extra_env``. Note that a ``.env`` file in ``cwd`` is still read by the bot's
    settings for variables not set here.
    """

    def __init__(
        self,
        api_url: str,
        db_path: Path,
        extra_env: Mapping[str, str] | None = None,
        *,
        log_path: Path | None = None,
        args: Sequence[str] = (),
        token: str = FAKE_TOKEN,
        cwd: Path = ROOT,
        module: str = "bot",
    ) -> None:
        self.api_url = api_url
        self.db_path = db_path
        self.extra_env = dict(extra_env or {})
        self.log_path = log_path or db_path.with_suffix(".log")
        self.args = list(args)
        self.token = token
        self.cwd = cwd
        self.module = module  # what ``python -m`` runs (the benchmarks run a bare echo bot the same way)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        """The environment the bot runs with."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "BOT_TOKEN": self.token,
                "BOT_API_URL": self.api_url,
                "BOT_DATABASE": str(self.db_path),
            }
        )
        env.update(self.extra_env)
        return env

    @property
    def webhook_mode(self) -> bool:
        """Whether the bot was started with a webhook URL."""
        return bool(self.extra_env.get("BOT_WEBHOOK_URL"))

    @property
    def process(self) -> subprocess.Popen[bytes]:
        """The running (or finished) process."""
        if self._process is None:
            raise RuntimeError("the bot process has not been started")
        return self._process

    @property
    def running(self) -> bool:
        """Whether the process is still alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Starts ``python -m bot [args]``; returns at once (see :meth:`wait_started`)."""
        if self._process is not None:
            raise RuntimeError("already started")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            # The child keeps its own descriptor of the log; ours is closed right away.
            self._process = subprocess.Popen(
                [sys.executable, "-m", self.module, *self.args],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def output(self) -> str:
        """Everything the bot wrote to stdout and stderr so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def wait_started(self, api: FakeBotApi, timeout: float = 20.0, calls_before: int = 0) -> None:
        """Waits until the bot asks for updates: its first getUpdates (or setWebhook in webhook mode), i.e. more
        such calls than ``calls_before`` (what earlier processes made, counted before this one started).

        A getUpdates counts while it is still waiting (a long poll only ends with an update); a setWebhook counts
        once it is answered, so a test can read its parameters and outcome right after this returns.
        Fails early with the bot's output if the process exits before that.
        """
        method = self.ready_method

        def count() -> int:
            return len(api.calls(method)) if self.webhook_mode else api.received_count(method)

        deadline = time.monotonic() + timeout
        while count() <= calls_before:
            code = self.process.poll()
            if code is not None:
                raise RuntimeError(f"the bot exited with {code} before calling {method}:\n{self.output()}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"the bot did not call {method} within {timeout} s\n{api.describe()}\n"
                    f"---- bot output ----\n{self.output()}"
                )
            # Wakes on the call itself; the short slice only serves to notice an early exit.
            with contextlib.suppress(TimeoutError):
                api.wait_for(lambda: count() > calls_before or None, timeout=min(0.25, remaining))

    @property
    def ready_method(self) -> str:
        """The call that shows the bot is up and asking for updates."""
        return "setWebhook" if self.webhook_mode else "getUpdates"

    def wait(self, timeout: float) -> int:
        """Waits for the process to exit on its own and returns the exit code."""
        return self.process.wait(timeout)

    def terminate(self, timeout: float = 5.0, sig: signal.Signals = signal.SIGTERM) -> BotExit:
        """Sends ``sig`` (SIGTERM; SIGINT is Ctrl-C) and waits up to ``timeout`` seconds; kills the process if
        it does not exit."""
        process = self.process
        started = time.monotonic()
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return BotExit(process.returncode, time.monotonic() - started)

    def kill(self) -> int:
        """Sends SIGKILL (a crash: no shutdown code runs) and returns the exit code."""
        process = self.process
        if process.poll() is None:
            process.kill()
        return process.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.running:
            self.terminate()


class BotStarter(Protocol):
    """The ``bot_process`` fixture: starts a bot against the test's fake server."""

    def __call__(
        self,
        extra_env: Mapping[str, str] | None = None,
        *,
        db_path: Path | None = None,
        args: Sequence[str] = (),
        wait: bool = True,
    ) -> BotProcess: ...
