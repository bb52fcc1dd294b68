"""The plumbing every fake platform shares: a threaded HTTP server on 127.0.0.1 (port 0).

A fake subclasses `FakeServer` and implements `route(req) -> (status, headers, body)`::

    class FakeThing(FakeServer):
        def route(self, req):
            if req.path == "/hello":
                return json_response({"hello": req.params.get("name")})
            return json_response({"error": "NotFound"}, status=404)

    with FakeThing() as fake:
        httpx.get(fake.url + "/hello", params={"name": "x"})
        assert fake.requests[0].params == {"name": "x"}

Fault injection: `fail_next(status, retry_after=, body=, headers=, times=, path=)` answers the
next matching requests with a fault instead of `route`; `hang(seconds)` holds every request
until the time passes, `hang(0)` or `stop()` (which closes hanging requests unanswered).
`requests` records each request on arrival (before any hang or fault); `errors` holds crashes
of the fake itself: assert it is `[]`.

Hooks for fakes that need more: `record(req)` picks what `requests` keeps of a request (the
`Recorded` itself by default), `error_body(status, message)` shapes the JSON of the default
faults, and `serve(req)` replaces the whole hang/fault/route step (return `None` to close the
connection without answering), for a fake with its own fault and delay rules.
"""

from __future__ import annotations

import copy
import json
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Recorded:
    """One request as the fake saw it. `params` keeps the last value of each query parameter,
    `query` every (name, value) pair; header names are lower-case."""

    method: str
    path: str
    params: dict[str, str]
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes = b""
    raw_query: str = ""  # the query string as sent, undecoded

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]


@dataclass
class Fault:
    status: int
    retry_after: int | None = None
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    path: str | None = None  # only requests whose path starts with this

    def answer(self, error_body: Callable[[int, str], Any] | None = None) -> Answer:
        """The faulty answer; without `body`, `error_body(status, message)` gives the JSON."""
        headers = {"Content-Type": "application/json; charset=utf-8", **self.headers}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.body is not None:
            return self.status, headers, self.body.encode("utf-8")
        message = "Too Many Requests" if self.status == 429 else "Internal Server Error"
        value = (error_body or _error_body)(self.status, message)
        return self.status, headers, dumps(value)


def _error_body(status: int, message: str) -> Any:
    return {"error": message, "message": message}


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    return (
        status,
        {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        dumps(value),
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeServer):
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request, client_address):
        self.fake._request_started()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.fake._request_finished()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.fake._request_finished()

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        self.fake.errors.append(f"{type(self.fake).__name__} crashed:\n" + traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers after stop()

    def log_message(self, format, *args):  # noqa: A002 - signature from the base class
        pass

    def do_GET(self):
        self.server.fake._handle(self)

    def do_POST(self):
        self.server.fake._handle(self)


class FakeServer:
    """Base of the fakes: lifecycle, recording, faults and hangs; subclasses give `route`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.errors: list[str] = []
        self._faults: deque[Fault] = deque()
        self._hang = 0.0
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._in_flight = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes hanging requests, which then close without answering
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        with self._cond:
            self._cond.wait_for(lambda: self._in_flight == 0, timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        if self.port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self.port}"

    # ----------------------------------------------------------- fault injection

    def fail_next(
        self,
        status: int | None = None,
        *,
        retry_after: int | None = None,
        body: str | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        path: str | None = None,
    ) -> None:
        """Answer the next `times` requests (whose path starts with `path`, if given) with a
        fault: 429 with `Retry-After: 1` by default; `status=500`; or `body=` with status 200."""
        if status is None:
            status = 200 if body is not None else 429
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            for _ in range(times):
                self._faults.append(Fault(status, retry_after, body, dict(headers or {}), path))

    def hang(self, seconds: float) -> None:
        """Hold every request `seconds` before answering, until `hang(0)`."""
        with self._cond:
            self._hang = max(0.0, seconds)
            self._cond.notify_all()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[Any]:
        """Block until `count` requests arrived; returns (copies of) them all.

        Raises AssertionError, listing the requests seen, on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.requests) >= count, timeout=timeout):
                raise AssertionError(
                    f"{type(self).__name__}: expected {count} request(s) within {timeout}s, "
                    f"got {len(self.requests)}: {self.requests}"
                )
            return copy.deepcopy(self.requests)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    # ------------------------------------------------------------------ routing

    def route(self, req: Recorded) -> Answer:
        raise NotImplementedError

    def record(self, req: Recorded) -> Any:
        """What `requests` keeps of a request: the `Recorded` itself unless overridden."""
        return req

    def error_body(self, status: int, message: str) -> Any:
        """The JSON of a fault without a `body` (and of other errors a fake builds)."""
        return _error_body(status, message)

    def serve(self, req: Recorded) -> Answer | None:
        """Answer a recorded request: hang, then a pending fault or `route`. `None` closes the
        connection without answering (the fake is stopping)."""
        with self._cond:
            if self._hold():
                return None
            fault = self._take_fault(req.path)
            if fault is not None:
                return fault.answer(self.error_body)
            try:
                return self.route(req)
            except Exception:
                self.errors.append(f"{type(self).__name__} crashed:\n" + traceback.format_exc())
                return json_response({"error": "FakeCrashed"}, status=500)

    # ------------------------------------------------------------ HTTP plumbing

    def _request_started(self) -> None:
        with self._cond:
            self._in_flight += 1

    def _request_finished(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    def _hold(self) -> bool:
        """Wait out `hang` (call with `_cond` held): until its time passes, `hang(0)` or
        `stop()`. True when the fake is stopping (the request must close unanswered)."""
        deadline = time.monotonic() + self._hang
        while self._hang and not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._cond.wait(min(remaining, 0.05))
        return self._stopping.is_set()

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.path is None or path.startswith(fault.path):
                self._faults.remove(fault)
                return fault
        return None

    def _handle(self, handler: _Handler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        query = parse_qsl(split.query, keep_blank_values=True)
        req = Recorded(
            method=handler.command,
            path=split.path,
            params=dict(query),
            query=query,
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
            raw_query=split.query,
        )
        with self._cond:
            self.requests.append(self.record(req))
            self._cond.notify_all()
        answer = self.serve(req)
        if answer is not None:
            send(handler, *answer)


def send(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes):
    try:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD" and status != 304:
            handler.wfile.write(body)
    except (ConnectionError, TimeoutError):
        pass  # the client gave up (e.g. its timeout in a test)
