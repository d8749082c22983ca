"""The webhook server: an update is answered 200 only after the intake stored it, so Telegram retries what the
bot could not store (PTB's own server answers first and queues in memory). Requests without the secret token
Telegram sends with every update get 403."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

import tornado.httpserver
import tornado.web

from bot.intake import Intake

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1 << 20  # an update is a few kilobytes; anything this large is not from Telegram


class _UpdateHandler(tornado.web.RequestHandler):
    def initialize(self, intake: Intake, secret: str) -> None:
        self.intake = intake
        self.secret = secret

    async def post(self) -> None:
        token = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(token.encode(), self.secret.encode()):
            log.info("webhook: request without the right secret token refused")
            self.set_status(403)
            return
        try:
            raw: Any = json.loads(self.request.body)
        except ValueError:
            self.set_status(400)
            return
        if not isinstance(raw, dict):
            self.set_status(400)
            return
        try:
            await self.intake.accept([raw])
        except Exception:
            # Not stored: a 500 makes Telegram deliver it again later.
            log.exception("webhook: could not store an update")
            self.set_status(500)
            return
        self.set_status(200)

    def get(self) -> None:
        self.set_status(405)


class WebhookServer:
    def __init__(self, intake: Intake, url_path: str, secret: str) -> None:
        path = "/" + url_path.strip("/")
        app = tornado.web.Application([(rf"{path}/?", _UpdateHandler, {"intake": intake, "secret": secret})])
        self._server = tornado.httpserver.HTTPServer(app, max_body_size=MAX_BODY_BYTES)

    def listen(self, address: str, port: int) -> None:
        self._server.listen(port, address=address)

    async def close(self) -> None:
        self._server.stop()
        await self._server.close_all_connections()
