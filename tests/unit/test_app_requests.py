"""The bot's HTTP clients: PTB's defaults, with one TLS context between them (memory at rest)."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from telegram.request import HTTPXRequest

from bot.app import build_application
from tests.harness import make_settings


def _pool(request: object) -> Any:
    """The connection pool behind a PTB request (httpx and httpcore internals)."""
    assert isinstance(request, HTTPXRequest)
    transport: Any = request._client._transport
    return transport._pool


def _tls(request: object) -> ssl.SSLContext:
    context = _pool(request)._ssl_context
    assert isinstance(context, ssl.SSLContext)
    return context


def test_both_clients_verify_certificates_with_one_shared_context(tmp_path: Path) -> None:
    app = build_application(make_settings(tmp_path, token="123456:TEST"))
    requests = app.bot._request  # (getUpdates, everything else)
    context = _tls(requests[0])
    assert _tls(requests[1]) is context  # one copy of the CA certificates, not one per client
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0
    # what PTB's builder gives by default: one connection for the long poll, 256 for everything else
    assert _pool(requests[0])._max_connections == 1
    assert _pool(requests[1])._max_connections == 256
    assert requests[1].read_timeout == requests[0].read_timeout == 5.0
