"""``build_application``: pure wiring of settings, services and handlers; nothing connects at build time."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import secrets
import signal
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, cast

import httpx
from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, Defaults
from telegram.request import BaseRequest, HTTPXRequest

import handlers
from bot import faults, prebuilt
from bot.answers import Answerer
from bot.clock import Clock, SystemClock, clock_from_environment
from bot.commands import register_command_menu
from bot.config import Settings
from bot.content import Content
from bot.context import CONTEXT_TYPES, App, Context
from bot.db import MIGRATIONS_DIR as MIGRATIONS_DIR
from bot.intake import Intake
from bot.outbox import CountingRateLimiter, Outbox, PassReport, Spawn
from bot.persistence import SqlitePersistence
from bot.privacy import core_registry
from bot.retention import schedule_maintenance
from bot.roles import Role
from bot.search import SearchIndex
from bot.update_processor import ChatOrderedUpdateProcessor

log = logging.getLogger(__name__)

# Updates handled at once (different chats; one chat's updates keep their order). Each waits mostly on Telegram,
# so this is about in-flight round trips, not CPU; the intake holds the rest in the database.
CONCURRENT_UPDATES = 64
# chat_member: who joins or leaves the staff group (delivered only when asked for, and only to an admin bot).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member", "chat_member"]

# Reads content/ and builds the search index over it (tests pass one that parses each folder once); without
# one, the start reads the pre-built content from the data folder (bot.prebuilt).
ContentLoader = Callable[[Path], tuple[Content, SearchIndex]]


def build_application(
    settings: Settings,
    request: BaseRequest | None = None,
    clock: Clock | None = None,
    *,
    load: ContentLoader | None = None,
    outbox: Outbox | None = None,
) -> App:
    """The Application with every handler registered; ``request`` replaces the network (demo, tests), ``load``
    reads the content, ``outbox`` replaces the one pacing on real time (tests)."""
    persistence = SqlitePersistence()
    clock = clock or SystemClock()
    outbox = outbox or Outbox(clock, settings.broadcast_rate)
    if request is not None and settings.token is None:
        from bot.offline import OFFLINE_TOKEN  # demo and tests only: memory at rest of a real start

        token = OFFLINE_TOKEN
    else:
        token = settings.require_token()
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{settings.api_url}/bot")
        .base_file_url(f"{settings.api_url}/file/bot")
        .context_types(CONTEXT_TYPES)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=settings.tz,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        # Overall 30 msg/s and 20/min per group as Telegram asks; a 429 is retried after retry_after. Every
        # message sent is noted, so the outbox leaves room for replies.
        .rate_limiter(CountingRateLimiter(outbox.sends, max_retries=2))
        .persistence(persistence)
        # The intake (bot.intake) fetches and stores updates itself; PTB's updater would confirm them to Telegram
        # before they are handled.
        .updater(None)
        .concurrent_updates(ChatOrderedUpdateProcessor(CONCURRENT_UPDATES))
        .post_init(partial(_post_init, load=load))
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    builder = _with_requests(builder, request)
    app = cast(App, builder.build())
    app.bot_data.settings = settings
    app.bot_data.clock = clock
    persistence.attach(app.bot_data)
    app.bot_data.outbox = outbox
    app.bot_data.privacy = core_registry()  # features add their tables in handlers.register
    handlers.register(app)
    assert app.job_queue is not None
    app.job_queue.run_repeating(outbox_tick, interval=settings.tick_seconds, first=0.2, name="outbox_tick")
    schedule_maintenance(app)
    return app


def _with_requests(
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any], request: BaseRequest | None
) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
    """PTB's two HTTP clients (one for getUpdates, one for everything else) as PTB builds them by default, but
    sharing one TLS context: each default client loads its own copy of the CA certificates (about 0.8 MB
    resident at rest). ``request`` replaces the one for everything else (demo, tests)."""
    # what each client would create for itself: certifi's certificates, or those of SSL_CERT_FILE / SSL_CERT_DIR
    tls = httpx.create_ssl_context()
    if request is None:
        request = HTTPXRequest(connection_pool_size=256, httpx_kwargs={"verify": tls})
    return builder.request(request).get_updates_request(
        HTTPXRequest(connection_pool_size=1, httpx_kwargs={"verify": tls})
    )


async def _post_init(app: App, *, load: ContentLoader | None) -> None:
    """Open the database, migrate, load content, register the command menu."""
    settings = app.bot_data.settings
    db = await app.bot_data.open_database()
    app.bot_data.outbox.attach(db)
    app.bot_data.outbox.start(app.bot, _spawner(app))
    if load is None:
        loaded = prebuilt.load(settings.content_dir, settings.database.parent)
        app.bot_data.content, app.bot_data.search = loaded.content, loaded.search
        app.bot_data.answers = loaded.answers
    else:
        app.bot_data.content, app.bot_data.search = load(settings.content_dir)
        app.bot_data.answers = Answerer.shared(app.bot_data.content, app.bot_data.search)
    await _check_privacy_registry(app)
    await db.release_memory()
    release_memory()
    await register_command_menu(
        app.bot,
        app.bot_data.texts,
        coordinators=await db.users_with_role(Role.COORDINATOR),
        admins=set(settings.admin_ids),
        staff_chat_id=settings.staff_chat_id,
    )


def release_memory() -> None:
    """Give the memory that loading content and building the index used only for a moment back to the system:
    glibc keeps freed heap pages in the process (about 5 MB after start-up) unless asked to trim them."""
    gc.collect()
    with contextlib.suppress(
        OSError, AttributeError
    ):  # not glibc (musl, macOS): nothing to trim, nothing lost
        ctypes.CDLL("libc.so.6").malloc_trim(0)


async def _check_privacy_registry(app: App) -> None:
    """A registered table or column missing from the database would break /loeschen: refuse to start. An id
    column nobody registered is a gap in /meine_daten and /loeschen: say so loudly (a test fails on it)."""
    settings = app.bot_data.settings
    problems = app.bot_data.privacy.problems(await app.bot_data.db.schema())
    broken = [p for p in problems if "registered but not in the database" in p or "parent key" in p]
    if broken:
        raise RuntimeError("privacy registry does not match the database: " + "; ".join(broken))
    for problem in problems:
        log.warning("privacy: %s", problem)
    if not settings.privacy_controller or not settings.privacy_contact:
        log.warning(
            "BOT_PRIVACY_CONTROLLER / BOT_PRIVACY_CONTACT not set: the privacy notice shows a placeholder"
        )


async def outbox_tick(context: Context) -> None:
    """Periodic tick: start the outbox worker if rows are due and no worker runs (the worker paces itself)."""
    context.bot_data.outbox.kick()


def _spawner(app: App) -> Spawn:
    """The outbox's workers run as the application's tasks (``stop`` waits for them), only while it runs."""

    def spawn(work: Coroutine[Any, Any, PassReport]) -> asyncio.Task[PassReport] | None:
        if not app.running:
            work.close()
            return None
        return app.create_task(work, name="outbox_worker")

    return spawn


async def _post_stop(app: App) -> None:
    app.bot_data.outbox.stop()
    limiter = app.bot.rate_limiter
    retries = limiter.retry_stats if isinstance(limiter, CountingRateLimiter) else None
    log.info(
        "expected conditions: %s; direct requests tried again: %s (recovered %s, gave up %s)",
        faults.summary(),
        retries.retried if retries else 0,
        retries.recovered if retries else 0,
        retries.gave_up if retries else 0,
    )


async def _post_shutdown(app: App) -> None:
    db = app.bot_data._db
    if db is not None:
        await db.close()
        app.bot_data.db = None


@asynccontextmanager
async def running(app: App) -> AsyncIterator[App]:
    """Initialise and start an application without an updater (demo and in-process tests feed updates)."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


def run(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT: webhook mode when ``BOT_WEBHOOK_URL`` is set, else long polling.

    Updates reach the handlers only through the intake, which stores each before Telegram is told it arrived.
    On a stop signal no more updates are fetched or taken, the outbox worker finishes the message it is sending,
    updates being handled finish, jobs end, conversation state is flushed and the database closed; what was
    stored but not handled, and pending outbox rows, are handled after the next start.
    """
    app = build_application(settings, clock=clock_from_environment())
    asyncio.run(serve(app))
    log.info("stopped")


async def serve(app: App) -> None:
    settings = app.bot_data.settings
    stop = asyncio.Event()
    async with running(app):
        _install_stop_signals(app, stop)
        processor = app.update_processor
        assert isinstance(processor, ChatOrderedUpdateProcessor)
        intake = Intake(
            app.bot_data.db,
            app.bot_data.clock,
            app.update_queue,
            app.bot,
            CONCURRENT_UPDATES,
            persist=app.update_persistence,
        )
        processor.finished = intake.finished
        await intake.resume()
        if settings.webhook_url:
            await _serve_webhook(app, intake, stop)
        else:
            log.info("polling mode")
            await app.bot.delete_webhook(drop_pending_updates=False)
            poller = asyncio.create_task(intake.poll(ALLOWED_UPDATES, stop), name="intake_poll")
            _done, _ = await asyncio.wait(
                {poller, asyncio.create_task(stop.wait())}, return_when="FIRST_COMPLETED"
            )
            stop.set()
            await poller  # a wrong token or a second instance ends the bot here with its error
        intake.stop()


async def _serve_webhook(app: App, intake: Intake, stop: asyncio.Event) -> None:
    settings = app.bot_data.settings
    assert settings.webhook_url is not None
    # Telegram sends this token in a header with every update and the server answers 403 to a request without
    # it; without a configured one a fresh random token is set with setWebhook each start.
    secret = (
        settings.webhook_secret.get_secret_value() if settings.webhook_secret else secrets.token_urlsafe(32)
    )
    url_path = settings.webhook_url.split("://", 1)[1].partition("/")[2]
    from bot.webhook import WebhookServer  # tornado loads only in webhook mode

    server = WebhookServer(intake, url_path, secret)
    server.listen(settings.webhook_listen, settings.webhook_port)
    log.info(
        "webhook mode: listening on %s:%s, path /%s", settings.webhook_listen, settings.webhook_port, url_path
    )
    try:
        await app.bot.set_webhook(
            settings.webhook_url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )
        await stop.wait()
    finally:
        await server.close()


def _install_stop_signals(app: App, stop: asyncio.Event) -> None:
    """SIGTERM and SIGINT stop the outbox worker at once (before PTB waits for background tasks) and then the
    intake and the application."""
    loop = asyncio.get_running_loop()

    def request_stop(signum: int) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        app.bot_data.outbox.stop()
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, request_stop, signum)
