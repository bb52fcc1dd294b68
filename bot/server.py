"""HTTP serving: Bolt's WSGI adapter at POST /slack/events and GET /healthz, under waitress
(a production WSGI server; never http.server)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def wsgi_app(app: App | None, health: Callable[[], tuple[bool, dict]]):
    """The WSGI callable. With `app=None` (Socket Mode) only /healthz is served."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH) if app is not None else None

    def application(environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            ok, body = health()
            payload = json.dumps(body).encode()
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
            )
            return [payload if method == "GET" else b""]
        if slack is not None and path == EVENTS_PATH:
            return slack(environ, start_response)
        body = b"Not found. Slack sends requests to POST /slack/events; health is GET /healthz.\n"
        start_response(
            "404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return application


def make_server(application, host: str, port: int, *, threads: int = 8):
    """A waitress server bound now (port 0 picks a free port: see `.effective_port`)."""
    return create_server(application, host=host, port=port, threads=threads, ident="mentionops")
