"""A fake PagerDuty Events API v2 that speaks real HTTP on 127.0.0.1 (port 0).

Serves ``POST /v2/enqueue`` the way PagerDuty does: 202 ``{"status": "success", "message":
"Event processed", "dedup_key": ...}`` for a valid event, 400 ``{"status": "invalid event",
"message": "Event object is invalid", "errors": [...]}`` otherwise. Incidents are kept by
dedup key (a trigger opens one, a resolve closes it)::

    with FakePagerDuty() as pd:
        PagerDuty("R" * 32, pd.base_url).send("trigger", 7, {...})
        assert pd.incidents == {"mentionops-7": "triggered"}

``fail_next(status, times=, retry_after=)`` answers the next requests with that status (429
or a 5xx) instead; ``events`` holds every accepted event body, ``requests`` every body
received (accepted or not), ``errors`` crashes of the fake itself: assert it is ``[]``.
"""

from __future__ import annotations

import json
import threading
import traceback
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")


class FakePagerDuty:
    def __init__(self, routing_key: str | None = None):
        self.routing_key = routing_key  # when set, other keys are refused (400)
        self.requests: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.incidents: dict[str, str] = {}
        self.errors: list[str] = []
        self._faults: deque[tuple[int, int | None]] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakePagerDuty:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, format, *args):  # noqa: A002 - base class signature
                pass

            def do_POST(self):
                try:
                    status, headers, body = fake._handle(self)
                except Exception:
                    fake.errors.append(traceback.format_exc())
                    status, headers, body = 500, {}, {"status": "error"}
                payload = json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FakePagerDuty:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- configuration -----------------------------------------------------------------------

    def fail_next(self, status: int = 429, *, times: int = 1, retry_after: int | None = None):
        with self._lock:
            self._faults.extend([(status, retry_after)] * times)

    # --- the API -----------------------------------------------------------------------------

    def _handle(self, req: BaseHTTPRequestHandler) -> tuple[int, dict, dict]:
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length)
        try:
            body = json.loads(raw or b"null")
        except json.JSONDecodeError:
            body = None
        with self._lock:
            self.requests.append(body)
            if req.path != "/v2/enqueue":
                return 404, {}, {"status": "not found"}
            if self._faults:
                status, retry_after = self._faults.popleft()
                headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                if status == 429:
                    return status, headers, {"status": "throttle event", "message": "Slow down"}
                return status, headers, {"status": "error", "message": "Internal error"}
            problems = self._check(body)
            if problems:
                return (
                    400,
                    {},
                    {
                        "status": "invalid event",
                        "message": "Event object is invalid",
                        "errors": problems,
                    },
                )
            self.events.append(body)
            key = body["dedup_key"]
            state = {"trigger": "triggered", "acknowledge": "acknowledged"}.get(
                body["event_action"], "resolved"
            )
            if body["event_action"] == "trigger" or key in self.incidents:
                self.incidents[key] = state
            return 202, {}, {"status": "success", "message": "Event processed", "dedup_key": key}

    def _check(self, body: Any) -> list[str]:
        if not isinstance(body, dict):
            return ["body must be a JSON object"]
        problems = []
        if not body.get("routing_key"):
            problems.append("'routing_key' is missing or blank")
        elif self.routing_key and body["routing_key"] != self.routing_key:
            problems.append("'routing_key' is invalid")
        if body.get("event_action") not in ACTIONS:
            problems.append("'event_action' is invalid")
        if body.get("event_action") != "trigger" and not body.get("dedup_key"):
            problems.append("'dedup_key' is required for acknowledge and resolve")
        if body.get("event_action") == "trigger":
            payload = body.get("payload")
            if not isinstance(payload, dict):
                problems.append("'payload' is missing")
            else:
                for field in ("summary", "source", "severity"):
                    if not payload.get(field):
                        problems.append(f"'payload.{field}' is missing or blank")
                if payload.get("severity") not in SEVERITIES:
                    problems.append("'payload.severity' is invalid")
                if len(payload.get("summary") or "") > 1024:
                    problems.append("'payload.summary' is longer than 1024 characters")
        return problems
