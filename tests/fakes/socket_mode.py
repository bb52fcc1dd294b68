"""A fake Slack Socket Mode endpoint: real WebSocket (RFC 6455) on 127.0.0.1 (port 0).

Slack's Socket Mode is two steps: the app calls ``apps.connections.open`` with its app-level
token (``xapp-...``) and gets a one-off ``wss://`` URL, then opens a WebSocket to it. Slack
says ``hello``, sends *envelopes* (events, button clicks, slash commands) as text frames and
expects each to be acknowledged with ``{"envelope_id": ...}`` (plus a ``payload`` where the
envelope accepts one) within 3 seconds. Wire it to a :class:`~tests.fakes.slack.FakeSlack`::

    with FakeSlack() as slack, FakeSocketMode() as socket:
        slack.app_token = "xapp-1-test"
        slack.socket_url = socket.url  # apps.connections.open answers it with a fresh ticket
        ... start the app ...
        link = socket.wait_for_connection()
        envelope_id = socket.send_envelope("interactive", payload)
        ack = socket.wait_for_ack(envelope_id)
        assert ack.latency < 3

What the fake checks, as Slack would: the HTTP Upgrade (GET, ``Upgrade: websocket``,
``Sec-WebSocket-Version: 13``, a key; answered with ``Sec-WebSocket-Accept``), a ``ticket``
in the URL that was not used before (a reused or missing ticket gets 401), and that every
client frame is masked (else close 1002). It answers pings with pongs and a close with a
close. Anything that breaks the protocol is in ``errors``: assert it is ``[]``.

slack_sdk's built-in client connects without TLS to any port but 443, whatever the scheme,
so the ``ws://`` URL works with it unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
LINK_PATH = "/link/"

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA

MAX_HANDSHAKE_BYTES = 16_384
MAX_FRAME_BYTES = 4 * 1024 * 1024


def accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 section 4.2.2)."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")


def encode_frame(opcode: int, payload: bytes = b"", *, mask: bytes | None = None) -> bytes:
    """One final frame. Servers send unmasked frames; pass a 4-byte `mask` to build a client's."""
    length = len(payload)
    head = bytes([0x80 | opcode])
    mask_bit = 0x80 if mask is not None else 0
    if length <= 125:
        head += bytes([mask_bit | length])
    elif length <= 0xFFFF:
        head += struct.pack("!BH", mask_bit | 126, length)
    else:
        head += struct.pack("!BQ", mask_bit | 127, length)
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class ProtocolError(Exception):
    """The client broke RFC 6455: the connection is closed with `code`."""

    def __init__(self, message: str, code: int = 1002):
        super().__init__(message)
        self.code = code


@dataclass
class Ack:
    """The client's answer to an envelope. Times are time.monotonic()."""

    envelope_id: str
    payload: Any  # the "payload" the client sent back, or None
    message: dict[str, Any]  # the whole JSON the client sent
    sent_at: float  # when the fake sent the envelope
    acked_at: float  # when the ack arrived

    @property
    def latency(self) -> float:
        return self.acked_at - self.sent_at


@dataclass
class Link:
    """One WebSocket connection, as the fake saw it."""

    path: str
    ticket: str
    headers: dict[str, str]  # lower-case names
    opened_at: float
    sock: socket.socket = field(repr=False)
    closed_at: float | None = None
    close_code: int | None = None  # from the client's close frame, if it sent one
    close_reason: str = ""
    pings: list[bytes] = field(default_factory=list)  # payloads of the client's pings
    pongs: list[bytes] = field(default_factory=list)  # payloads of the client's pongs
    _send_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _close_sent: bool = field(default=False, repr=False)

    @property
    def open(self) -> bool:
        return self.closed_at is None

    def send_frame(self, opcode: int, payload: bytes = b"") -> bool:
        """False when the connection is gone."""
        with self._send_lock:
            if self._close_sent:
                return False
            if opcode == OP_CLOSE:
                self._close_sent = True
            try:
                self.sock.sendall(encode_frame(opcode, payload))
                return True
            except OSError:
                return False

    def send_json(self, value: Any) -> bool:
        return self.send_frame(OP_TEXT, json.dumps(value).encode("utf-8"))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame; the reader closes the socket when the client answers or leaves."""
        self.send_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode("utf-8"))


class FakeSocketMode:
    """A fake Socket Mode endpoint; see the module docstring.

    Public state: ``links`` (every connection, oldest first), ``acks`` (in arrival order),
    ``received`` (every JSON text message from the client), ``envelopes`` (what was sent, by
    envelope id) and ``errors``.
    """

    def __init__(self, *, app_id: str = "A0MENTIONOPS", hello: bool = True):
        self.app_id = app_id
        self.hello = hello
        self.links: list[Link] = []
        self.acks: list[Ack] = []
        self.received: list[dict[str, Any]] = []
        self.envelopes: dict[str, dict[str, Any]] = {}
        self.errors: list[str] = []
        self._sent_at: dict[str, float] = {}
        self._tickets: set[str] = set()
        self._cond = threading.Condition()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._conns: set[socket.socket] = set()  # every accepted socket not yet closed
        self._stopping = threading.Event()
        self.port: int | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        if self._listener is not None:
            return self
        self._stopping.clear()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._spawn(self._accept_loop, f"FakeSocketMode:{self.port}")
        return self

    def stop(self) -> None:
        """Say goodbye (close 1001) on open connections, then close everything."""
        if self._listener is None:
            return
        self._stopping.set()
        if self._threads:
            self._threads[0].join(timeout=5)  # the accept loop: no new connections after this
        for link in self.open_links():
            link.close(1001, "going away")
        deadline = time.monotonic() + 1.0  # a polite client answers the close at once
        for link in list(self.links):
            while link.open and time.monotonic() < deadline:
                time.sleep(0.01)
        with self._cond:
            conns = list(self._conns)
        for conn in conns:
            _shutdown(conn)  # wakes readers blocked in recv(); they close their socket
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._listener.close()
        self._listener = None
        self._threads.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:PORT/link/``: FakeSlack adds ``?ticket=...`` per connection."""
        if self.port is None:
            raise RuntimeError("FakeSocketMode is not started")
        return f"ws://127.0.0.1:{self.port}{LINK_PATH}"

    # ----------------------------------------------------------- test surface

    def open_links(self) -> list[Link]:
        with self._cond:
            return [link for link in self.links if link.open]

    def wait_for_connection(self, count: int = 1, timeout: float = 5.0) -> Link:
        """Block until `count` connections have been made in all; returns the newest open one."""

        def ready() -> bool:
            return len(self.links) >= count and any(link.open for link in self.links)

        with self._cond:
            if not self._cond.wait_for(ready, timeout=timeout):
                raise AssertionError(
                    f"FakeSocketMode: expected {count} connection(s) within {timeout}s, "
                    f"got {len(self.links)}; errors: {self.errors}"
                )
            return [link for link in self.links if link.open][-1]

    def send_envelope(
        self,
        type: str,  # noqa: A002 - Slack's field name
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        envelope_id: str | None = None,
        timeout: float = 5.0,
    ) -> str:
        """Send an envelope on the newest open connection (waiting up to `timeout` for one);
        returns its envelope id. `accepts_response_payload` defaults as Slack sets it: true for
        slash commands and interactive payloads, false for events."""
        link = self.wait_for_connection(timeout=timeout)
        envelope_id = envelope_id or str(uuid.uuid4())
        if accepts_response_payload is None:
            accepts_response_payload = type in ("slash_commands", "interactive")
        envelope = {
            "envelope_id": envelope_id,
            "type": type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        with self._cond:
            self.envelopes[envelope_id] = envelope
            self._sent_at[envelope_id] = time.monotonic()
        if not link.send_json(envelope):
            raise AssertionError("FakeSocketMode: the connection closed while sending")
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:
        with self._cond:
            found = self._cond.wait_for(lambda: self.ack(envelope_id), timeout=timeout)
            if not found:
                raise AssertionError(
                    f"FakeSocketMode: no ack for {envelope_id} within {timeout}s; acks: "
                    f"{[a.envelope_id for a in self.acks]}; errors: {self.errors}"
                )
            return found

    def ack(self, envelope_id: str) -> Ack | None:
        with self._cond:
            return next((a for a in self.acks if a.envelope_id == envelope_id), None)

    def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """What Slack sends before it closes a connection (every few hours, or when it moves
        the app): the client should open a new one through apps.connections.open."""
        link = self.wait_for_connection()
        link.send_json(
            {
                "type": "disconnect",
                "reason": reason,
                "debug_info": {"host": "applink-fake"},
            }
        )

    # ----------------------------------------------------------- WebSocket plumbing

    def _spawn(self, target, name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5.0)  # for the handshake; frames are read without a timeout
            with self._cond:
                self._conns.add(conn)
            self._spawn(self._serve, f"FakeSocketMode-link:{self.port}", conn)

    def _serve(self, conn: socket.socket) -> None:
        link = None
        try:
            link = self._handshake(conn)
            if link is None:
                return
            if self.hello:
                link.send_json(
                    {
                        "type": "hello",
                        "num_connections": len(self.open_links()),
                        "debug_info": {
                            "host": "applink-fake",
                            "build_number": 1,
                            "approximate_connection_time": 18060,
                        },
                        "connection_info": {"app_id": self.app_id},
                    }
                )
            self._read_frames(link)
        except ProtocolError as exc:
            self.errors.append(f"FakeSocketMode: {exc}")
            if link is not None:
                link.close(exc.code, str(exc)[:100])
        except OSError:
            pass  # the client went away, or stop() shut the socket
        except Exception:
            self.errors.append("FakeSocketMode crashed:\n" + traceback.format_exc())
        finally:
            conn.close()
            with self._cond:
                self._conns.discard(conn)
            if link is not None:
                with self._cond:
                    link.closed_at = time.monotonic()
                    self._cond.notify_all()

    def _handshake(self, conn: socket.socket) -> Link | None:
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = conn.recv(1024)
            if not chunk:
                return None
            raw += chunk
            if len(raw) > MAX_HANDSHAKE_BYTES:
                return self._refuse(conn, 431, "handshake too large")
        head, _, rest = raw.partition(b"\r\n\r\n")
        if rest:
            return self._refuse(conn, 400, "data sent before the handshake was answered")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if len(parts) != 3 or parts[0] != "GET" or parts[2] != "HTTP/1.1":
            return self._refuse(conn, 400, f"bad request line {lines[0]!r}")
        split = urlsplit(parts[1])
        ticket = (parse_qs(split.query).get("ticket") or [""])[0]
        key = headers.get("sec-websocket-key", "")
        problem = None
        if split.path != LINK_PATH:
            problem = 404, f"unknown path {split.path!r}"
        elif headers.get("upgrade", "").lower() != "websocket":
            problem = 400, "no Upgrade: websocket"
        elif "upgrade" not in headers.get("connection", "").lower():
            problem = 400, "no Connection: Upgrade"
        elif headers.get("sec-websocket-version") != "13":
            problem = 426, f"Sec-WebSocket-Version {headers.get('sec-websocket-version')!r}"
        elif not _valid_key(key):
            problem = 400, f"bad Sec-WebSocket-Key {key!r}"
        elif not ticket:
            problem = 401, "no ticket"
        if problem is not None:
            return self._refuse(conn, *problem)
        with self._cond:
            if ticket in self._tickets:
                reused = True
            else:
                reused = False
                self._tickets.add(ticket)
        if reused:
            return self._refuse(conn, 401, f"ticket {ticket} was used already")
        conn.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\n"
                "Upgrade: websocket\r\n"
                "Connection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept_key(key)}\r\n"
                "\r\n"
            ).encode("ascii")
        )
        conn.settimeout(None)
        link = Link(
            path=parts[1], ticket=ticket, headers=headers, opened_at=time.monotonic(), sock=conn
        )
        with self._cond:
            self.links.append(link)
            self._cond.notify_all()
        return link

    def _refuse(self, conn: socket.socket, status: int, why: str) -> None:
        self.errors.append(f"FakeSocketMode: refused a connection ({status}): {why}")
        body = why.encode("utf-8")
        try:
            conn.sendall(
                f"HTTP/1.1 {status} Refused\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("ascii")
                + body
            )
        except OSError:
            pass
        return None

    def _read_frames(self, link: Link) -> None:
        message = bytearray()
        message_opcode: int | None = None
        while True:
            head = _recv_exact(link.sock, 2)
            if head is None:
                return  # the client closed the TCP connection (slack_sdk sends no close frame)
            fin, opcode = head[0] & 0x80, head[0] & 0x0F
            if head[0] & 0x70:
                raise ProtocolError("reserved bits set without an extension")
            if not head[1] & 0x80:
                raise ProtocolError("an unmasked frame from the client")
            length = head[1] & 0x7F
            if length == 126:
                length = struct.unpack("!H", _need(link.sock, 2))[0]
            elif length == 127:
                length = struct.unpack("!Q", _need(link.sock, 8))[0]
            if length > MAX_FRAME_BYTES:
                raise ProtocolError(f"a {length}-byte frame", code=1009)
            mask = _need(link.sock, 4)
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(_need(link.sock, length)))
            if opcode >= OP_CLOSE:
                if not fin or length > 125:
                    raise ProtocolError("a fragmented or long control frame")
                if opcode == OP_PING:
                    link.pings.append(data)
                    link.send_frame(OP_PONG, data)
                elif opcode == OP_PONG:
                    link.pongs.append(data)
                elif opcode == OP_CLOSE:
                    if len(data) >= 2:
                        link.close_code = struct.unpack("!H", data[:2])[0]
                        link.close_reason = data[2:].decode("utf-8", "replace")
                    link.send_frame(OP_CLOSE, data[:2])  # echo, unless we started it
                    return
                else:
                    raise ProtocolError(f"unknown control opcode {opcode:#x}")
                continue
            if opcode == OP_CONTINUATION:
                if message_opcode is None:
                    raise ProtocolError("a continuation frame with nothing to continue")
            elif opcode in (OP_TEXT, OP_BINARY):
                if message_opcode is not None:
                    raise ProtocolError("a new message inside a fragmented one")
                message_opcode = opcode
            else:
                raise ProtocolError(f"unknown opcode {opcode:#x}")
            message += data
            if not fin:
                continue
            whole, kind = bytes(message), message_opcode
            message.clear()
            message_opcode = None
            if kind == OP_BINARY:
                raise ProtocolError("a binary message (Socket Mode is JSON text)", code=1003)
            self._on_text(whole)

    def _on_text(self, data: bytes) -> None:
        try:
            value = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProtocolError(f"a text message that is not JSON: {exc}", code=1007) from None
        now = time.monotonic()
        with self._cond:
            self.received.append(value)
            envelope_id = value.get("envelope_id") if isinstance(value, dict) else None
            if envelope_id is None:
                self.errors.append(f"FakeSocketMode: a message without envelope_id: {value!r}")
            elif envelope_id not in self.envelopes:
                self.errors.append(f"FakeSocketMode: an ack for an unknown envelope: {value!r}")
            elif self.ack(envelope_id) is not None:
                self.errors.append(f"FakeSocketMode: a second ack for {envelope_id}")
            else:
                self.acks.append(
                    Ack(
                        envelope_id=envelope_id,
                        payload=value.get("payload"),
                        message=value,
                        sent_at=self._sent_at[envelope_id],
                        acked_at=now,
                    )
                )
            self._cond.notify_all()


def _valid_key(key: str) -> bool:
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except ValueError:
        return False


def _recv_exact(sock: socket.socket, count: int) -> bytes | None:
    """`count` bytes, or None on a clean end of stream before the first byte."""
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            if data:
                raise ProtocolError("the stream ended inside a frame")
            return None
        data += chunk
    return data


def _need(sock: socket.socket, count: int) -> bytes:
    if count == 0:
        return b""
    data = _recv_exact(sock, count)
    if data is None:
        raise ProtocolError("the stream ended inside a frame")
    return data


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
