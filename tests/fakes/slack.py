"""A fake Slack Web API that speaks real HTTP on 127.0.0.1 (port 0).

Point ``slack_sdk.WebClient(token="xoxb-test", base_url=fake.base_url)`` at it. It answers the
methods mentionops uses with Slack's own response shapes, keeps the messages it was sent, records
every call, checks every ``blocks`` payload against slack_sdk's Block Kit models (STYLE.md 13) and
can inject rate limits, server errors, API errors and slowness::

    with FakeSlack() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
        client.chat_postMessage(channel="C0ALERTS", text="hi")
        assert [m["text"] for m in slack.messages("C0ALERTS")] == ["hi"]
        assert slack.errors == []

Channel ids that are user ids (``U...``/``W...``) are DMs: they are stored under ``"D" + user``,
the id ``conversations.open`` returns for that user.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from tests.fakes._server import Answer, FakeServer, Recorded, dumps

TEAM_ID = "T0TEAM"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0APP"
WORKSPACE_URL = "https://acme.slack.com/"

MAX_TEXT_CHARS = 40_000
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100

# Form-encoded calls carry these as JSON strings; the fake decodes them.
JSON_FIELDS = ("blocks", "attachments", "metadata", "view")

_TRUE_STRINGS = {"1", "true", "yes", "on"}


def is_true(value: Any) -> bool:
    """How Slack reads a boolean argument: ``True``, ``"true"`` and ``"1"`` are true."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in _TRUE_STRINGS


@dataclass
class Call:
    """One request the fake received (recorded whether it succeeded or not)."""

    method: str  # "chat.postMessage", or "response_url" for POST /response_url/...
    args: dict[str, Any]  # query string and body merged; blocks/metadata/view/attachments decoded
    headers: dict[str, str]  # header names lower-cased
    path: str = ""  # the request path, e.g. "/api/chat.postMessage"
    http_method: str = "POST"
    status: int = 200  # HTTP status answered
    response: Any = None  # the JSON body answered (None for a non-JSON injected body)
    failed: bool = False  # True when the answer was an error (HTTP status != 200 or ok false)
    injected: bool = False  # True when the error came from fail_next()
    at: float = 0.0  # time.monotonic() when the answer was decided

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def error(self) -> str | None:
        """The ``error`` code answered, if any."""
        if isinstance(self.response, dict):
            return self.response.get("error")
        return None

    def flag(self, name: str, default: bool = False) -> bool:
        """Read a boolean argument the way Slack does ("1", "true", True)."""
        if name not in self.args:
            return default
        return is_true(self.args[name])


@dataclass
class _Fault:
    status: int
    error: str | None
    retry_after: int | None

    def answer(self) -> tuple[int, dict[str, str], dict[str, Any]]:
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.status == 429:
            body = {"ok": False, "error": self.error or "ratelimited"}
        elif self.status >= 500:
            body = {"ok": False, "error": self.error or "internal_error"}
        else:
            body = {"ok": False, "error": self.error or "fatal_error"}
        return self.status, headers, body


class _Rejected(Exception):
    """A payload the fake refuses: answered as ``{"ok": false, "error": code}``."""

    def __init__(self, code: str, detail: str | None = None, *, record: bool = True):
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.record = record


class FakeSlack(FakeServer):
    """A fake Slack Web API on ``127.0.0.1``; see the module docstring.

    Public state (read under no lock is fine for assertions once the client has its answer):
    ``calls`` (every :class:`Call`), ``errors`` (one line per payload refused as malformed, and
    any crash of the fake itself: assert it is ``[]``), ``archived`` (channel ids answered with
    ``is_archived``). Lifecycle, ``hang`` and the raw ``requests`` come from
    :class:`FakeServer`; faults and delays are per API method (``fail_next``, ``delay``).
    """

    def __init__(
        self,
        token: str = "xoxb-test",
        *,
        clock: Callable[[], float] = time.time,
        team_domain: str = "acme",
    ):
        super().__init__()
        self.token = token
        self.clock = clock
        # Socket Mode: apps.connections.open checks `app_token` and answers `socket_url` (a
        # FakeSocketMode's url) with a fresh ?ticket=; both are set by the test.
        self.app_token: str | None = None
        self.socket_url: str | None = None
        self.workspace_url = f"https://{team_domain}.slack.com/"
        self.calls: list[Call] = []
        self.archived: set[str] = set()
        self._method_faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, float] = {}
        self._channels: dict[str, dict[str, dict[str, Any]]] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._users: dict[str, dict[str, Any]] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._opened: set[str] = set()
        self._files: dict[str, dict[str, Any]] = {}  # files_upload_v2, by file id
        self._last_micros = 0
        self._view_seq = 0
        self._hashes = itertools.count(0x5A17)

    # ---------------------------------------------------------------------- URLs

    @property
    def root_url(self) -> str:
        return self.url + "/"

    @property
    def base_url(self) -> str:
        """For ``WebClient(base_url=...)``: ``http://127.0.0.1:PORT/api/``."""
        return self.root_url + "api/"

    def response_url(self, name: str = "x") -> str:
        """A ``response_url`` for payloads; POSTs to it are recorded as method "response_url"."""
        return f"{self.root_url}response_url/{name}"

    # ----------------------------------------------------------- configuration

    def fail_next(
        self,
        method: str,
        status: int | None = None,
        *,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls to ``method`` ("*": any method) fail, in order.

        - ``fail_next(m)`` or ``fail_next(m, status=429)``: HTTP 429, ``Retry-After: 1``
          (or ``retry_after``), body ``{"ok": false, "error": "ratelimited"}``.
        - ``fail_next(m, status=500)``: HTTP 500, ``{"ok": false, "error": "internal_error"}``.
        - ``fail_next(m, error="channel_not_found")``: HTTP 200, ``{"ok": false, "error": ...}``.
        """
        if status is None:
            status = 200 if error is not None else 429
        if status == 429 and retry_after is None:
            retry_after = 1
        fault = _Fault(status=status, error=error, retry_after=retry_after)
        with self._lock:
            self._method_faults.setdefault(method, deque()).extend([fault] * times)

    def delay(self, method: str, seconds: float) -> None:
        """Answer every call to ``method`` ("*": any) ``seconds`` late; 0 clears it."""
        with self._lock:
            if seconds > 0:
                self._delays[method] = seconds
            else:
                self._delays.pop(method, None)

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        display_name: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
        tz: str = "Europe/London",
        tz_offset: int = 0,
        **extra: Any,
    ) -> dict[str, Any]:
        """Register a user for ``users.info``; returns the user object it will answer."""
        name = name or f"user_{user_id.lower()}"
        real_name = real_name if real_name is not None else f"User {user_id}"
        display_name = display_name if display_name is not None else name
        first, _, last = real_name.partition(" ")
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "deleted": deleted,
            "real_name": real_name,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": tz_offset,
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": 1764140000,
            "profile": {
                "display_name": display_name,
                "display_name_normalized": display_name,
                "real_name": real_name,
                "real_name_normalized": real_name,
                "first_name": first,
                "last_name": last,
                "team": TEAM_ID,
            },
        }
        user.update(extra)
        with self._lock:
            self._users[user_id] = user
        return copy.deepcopy(user)

    def add_message(
        self,
        channel: str,
        text: str = "",
        *,
        user: str | None = "U0OTHER",
        bot: bool = False,
        ts: str | None = None,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
        **extra: Any,
    ) -> str:
        """Seed a message (not recorded as a call, not validated); returns its ts.

        ``bot=True`` makes it look like the bot's own message (``bot_id`` B0BOT).
        """
        with self._lock:
            if ts is None:
                ts = self._next_ts()
            else:
                self._last_micros = max(self._last_micros, _ts_micros(ts))
            message: dict[str, Any] = {"type": "message", "text": text, "ts": ts}
            if bot:
                message.update(user=BOT_USER_ID, bot_id=BOT_ID, app_id=APP_ID, team=TEAM_ID)
            elif user is not None:
                message.update(user=user, team=TEAM_ID)
            if blocks is not None:
                message["blocks"] = copy.deepcopy(blocks)
            if metadata is not None:
                message["metadata"] = copy.deepcopy(metadata)
            message.update(extra)
            self._store(channel, message, thread_ts)
            return ts

    def delete_message(self, channel: str, ts: str) -> bool:
        """Remove a stored message (as if deleted in Slack); False if there was none."""
        with self._lock:
            return self._remove(self._resolve_channel(channel), ts)

    # ---------------------------------------------------------------- inspection

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Calls to ``method``: all attempts (``ok=None``), successes only (True) or failures."""
        with self._lock:
            return [c for c in self.calls if c.method == method and (ok is None or c.ok is ok)]

    def wait_for(
        self, method: str, count: int = 1, timeout: float = 5.0, *, ok: bool | None = None
    ) -> list[Call]:
        """Block until ``count`` calls to ``method`` (filtered like :meth:`calls_to`) were answered.

        Returns all such calls; raises AssertionError naming the methods seen on timeout.
        """
        with self._cond:
            reached = self._cond.wait_for(
                lambda: len(self.calls_to(method, ok=ok)) >= count, timeout=timeout
            )
            matching = self.calls_to(method, ok=ok)
            if not reached:
                seen = [
                    c.method + ("" if c.ok else f" (failed: {c.error or c.status})")
                    for c in self.calls
                ]
                which = {None: "", True: "successful ", False: "failed "}[ok]
                raise AssertionError(
                    f"FakeSlack: expected {count} {which}call(s) to {method} within {timeout}s, "
                    f"got {len(matching)}; calls seen: {seen}"
                )
            return matching

    def reset_calls(self) -> None:
        """Forget recorded calls and errors (stored messages stay)."""
        with self._lock:
            self.calls.clear()
            self.errors.clear()

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages of ``channel`` (thread broadcasts included), oldest first."""
        with self._lock:
            store = self._channels.get(self._resolve_channel(channel), {})
            return [copy.deepcopy(m) for m in _sorted(store.values()) if _is_top_level(m)]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The stored message (top-level or reply), or None."""
        with self._lock:
            found = self._channels.get(self._resolve_channel(channel), {}).get(ts)
            return copy.deepcopy(found)

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """``[parent, *replies]`` oldest first, or ``[]`` if the parent is unknown."""
        with self._lock:
            channel = self._resolve_channel(channel)
            store = self._channels.get(channel, {})
            if ts not in store:
                return []
            return [copy.deepcopy(m) for m in self._thread_messages(channel, ts)]

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[dict]:
        """Ephemeral messages sent, oldest first: dicts with channel, user, text, blocks, ..."""
        with self._lock:
            return [
                copy.deepcopy(e)
                for e in self._ephemerals
                if (channel is None or e["channel"] == self._resolve_channel(channel))
                and (user is None or e["user"] == user)
            ]

    def views(self) -> list[dict[str, Any]]:
        """Views opened, pushed or updated, in the order first seen (their latest state)."""
        with self._lock:
            return [copy.deepcopy(v) for v in self._views.values()]

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self._views.get(view_id))

    # ------------------------------------------------------------ HTTP plumbing

    def serve(self, req: Recorded) -> Answer | None:
        """Slack's own rules in place of the base's fault/route step: Web API methods under
        /api/ (per-method ``delay`` and ``fail_next``, then auth and the method itself, each
        recorded in ``calls``), POSTs to response URLs and file upload URLs; else 404."""
        path = req.path
        if path.startswith("/api/") and len(path) > len("/api/"):
            method = path[len("/api/") :]
        elif path.startswith("/response_url/") and req.method == "POST":
            method = "response_url"
        elif path.startswith("/upload/") and req.method == "POST":
            return self._upload(req)  # files_upload_v2 step 2: the raw bytes
        else:
            return 404, {"Content-Type": "text/plain"}, b"Not Found"

        with self._cond:
            if self._hold():
                return None  # stopped during hang(): close without answering
            wait = self._delays.get(method, self._delays.get("*", 0.0))
        if wait and self._stopping.wait(wait):
            return None  # stopped while waiting: close without answering

        with self._cond:
            status, extra_headers, body, call = self._answer(req, method)
            self.calls.append(call)
            self._cond.notify_all()

        extra_headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return status, extra_headers, dumps(body)

    def _answer(self, req: Recorded, method: str):
        headers = req.headers
        call = Call(method=method, args={}, headers=headers, path=req.path, http_method=req.method)
        fault = self._take_method_fault(method)
        try:
            call.args = _decode_args(req.raw_query, req.body, headers.get("content-type", ""))
        except ValueError as exc:
            if fault is None:
                self.errors.append(f"{method}: undecodable body: {exc}")
                body = {"ok": False, "error": "invalid_form_data"}
                return self._finish(call, 200, {}, body)
        if fault is not None:
            status, extra, body = fault.answer()
            call.injected = True
            return self._finish(call, status, extra, body)
        if method != "response_url":
            app_level = method == "apps.connections.open"  # takes the xapp- token
            auth_error = self._check_auth(headers, call.args, app_level=app_level)
            if auth_error:
                return self._finish(call, 200, {}, {"ok": False, "error": auth_error})
        try:
            body = self._dispatch(method, call.args)
        except _Rejected as rejected:
            if rejected.record:
                self.errors.append(f"{method}: {rejected.code}: {rejected.detail or ''}".rstrip())
            body = {"ok": False, "error": rejected.code}
        except Exception:  # a bug in the fake must fail the test, not hang it
            self.errors.append(f"fake slack crashed on {method}:\n{traceback.format_exc()}")
            return self._finish(call, 500, {}, {"ok": False, "error": "fatal_error"})
        return self._finish(call, 200, {}, body)

    def _finish(self, call: Call, status: int, extra: dict[str, str], body: dict):
        call.status = status
        call.response = copy.deepcopy(body)
        call.failed = status != 200 or not body.get("ok", False)
        call.at = time.monotonic()
        return status, dict(extra), body, call

    def _take_method_fault(self, method: str) -> _Fault | None:
        for key in (method, "*"):
            queue = self._method_faults.get(key)
            if queue:
                return queue.popleft()
        return None

    def _check_auth(
        self, headers: dict[str, str], args: dict[str, Any], *, app_level: bool = False
    ) -> str | None:
        auth = headers.get("authorization", "")
        token = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else None
        if token is None:
            token = args.get("token")
        if not token:
            return "not_authed"
        if app_level and token.startswith(("xoxb-", "xoxp-")):
            return "not_allowed_token_type"
        if token != (self.app_token if app_level else self.token):
            return "invalid_auth"
        return None

    def _dispatch(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        handler = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.open": self._conversations_open,
            "users.info": self._users_info,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "response_url": self._response_url,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
        }.get(method)
        if handler is None:
            return {"ok": True}
        return handler(args)

    # ------------------------------------------------------------------ methods

    def _auth_test(self, args):
        return {
            "ok": True,
            "url": self.workspace_url,
            "team": "Acme",
            "user": "mentionops",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args):
        if not self.socket_url:
            raise _Rejected("internal_error", "set FakeSlack.socket_url to a FakeSocketMode's url")
        return {"ok": True, "url": f"{self.socket_url}?ticket={uuid.uuid4()}"}

    def _chat_post_message(self, args):
        channel = self._require_channel(args)
        if channel in self.archived:
            raise _Rejected("is_archived", record=False)
        self._check_content(args, required=True)
        message: dict[str, Any] = {
            "type": "message",
            "text": args.get("text") or "",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
        }
        for key in ("blocks", "attachments", "metadata"):
            if args.get(key) is not None:
                message[key] = copy.deepcopy(args[key])
        thread_ts = args.get("thread_ts") or None
        if thread_ts and is_true(args.get("reply_broadcast")):
            message["subtype"] = "thread_broadcast"
        message["ts"] = self._next_ts()
        stored = self._store(channel, message, thread_ts)
        return {
            "ok": True,
            "channel": channel,
            "ts": stored["ts"],
            "message": copy.deepcopy(stored),
        }

    def _chat_update(self, args):
        channel = self._require_channel(args)
        ts = args.get("ts")
        message = self._channels.get(channel, {}).get(ts) if ts else None
        if message is None:
            raise _Rejected("message_not_found", record=False)
        if channel in self.archived:
            raise _Rejected("is_archived", record=False)
        self._check_content(args, required=True)
        if "text" in args:
            message["text"] = args.get("text") or ""
        for key in ("blocks", "attachments", "metadata"):
            if key in args:  # absent: kept, as Slack does; empty list: removed
                if args[key]:
                    message[key] = copy.deepcopy(args[key])
                else:
                    message.pop(key, None)
        message["edited"] = {"user": BOT_USER_ID, "ts": _format_micros(int(self.clock() * 1e6))}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _chat_post_ephemeral(self, args):
        channel = self._require_channel(args)
        user = args.get("user")
        if not user:
            raise _Rejected("user_not_in_channel", "user is required")
        if channel in self.archived:
            raise _Rejected("is_archived", record=False)
        self._check_content(args, required=True)
        ts = self._next_ts()
        ephemeral = {
            "channel": channel,
            "user": user,
            "text": args.get("text") or "",
            "message_ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts"):
            if args.get(key) is not None:
                ephemeral[key] = copy.deepcopy(args[key])
        self._ephemerals.append(ephemeral)
        return {"ok": True, "message_ts": ts}

    def _chat_delete(self, args):
        channel = self._require_channel(args)
        ts = args.get("ts")
        if not ts or not self._remove(channel, ts):
            raise _Rejected("message_not_found", record=False)
        return {"ok": True, "channel": channel, "ts": ts}

    def _chat_get_permalink(self, args):
        channel = self._require_channel(args)
        ts = args.get("message_ts")
        message = self._channels.get(channel, {}).get(ts) if ts else None
        if message is None:
            raise _Rejected("message_not_found", record=False)
        permalink = f"{self.workspace_url}archives/{channel}/p{ts.replace('.', '')}"
        if message.get("thread_ts") not in (None, ts):  # a reply links into its thread
            permalink += f"?thread_ts={message['thread_ts']}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": permalink}

    def _conversations_history(self, args):
        channel = self._require_channel(args)
        oldest = _parse_ts(args.get("oldest") or "0", "invalid_ts_oldest")
        latest = _parse_ts(args["latest"], "invalid_ts_latest") if args.get("latest") else None
        inclusive = is_true(args.get("inclusive"))
        with_metadata = is_true(args.get("include_all_metadata"))
        candidates = []
        for m in _sorted(self._channels.get(channel, {}).values(), reverse=True):
            if not _is_top_level(m):
                continue
            ts = Decimal(m["ts"])
            if ts < oldest or (ts == oldest and not inclusive):
                continue
            if latest is not None and (ts > latest or (ts == latest and not inclusive)):
                continue
            candidates.append(m)
        page, has_more, next_cursor = _paginate(candidates, args, newest_first=True)
        return {
            "ok": True,
            "messages": [_public(m, with_metadata) for m in page],
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _conversations_replies(self, args):
        channel = self._require_channel(args)
        ts = args.get("ts")
        store = self._channels.get(channel, {})
        if not ts or ts not in store:
            raise _Rejected("thread_not_found", record=False)
        parent_ts = store[ts].get("thread_ts") or ts
        with_metadata = is_true(args.get("include_all_metadata"))
        messages = self._thread_messages(channel, parent_ts)
        page, has_more, next_cursor = _paginate(messages, args, newest_first=False)
        return {
            "ok": True,
            "messages": [_public(m, with_metadata) for m in page],
            "has_more": has_more,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _conversations_open(self, args):
        users = args.get("users")
        if isinstance(users, str):
            users = [u.strip() for u in users.split(",") if u.strip()]
        if args.get("channel"):
            channel_id = args["channel"]
        elif users:
            if len(users) == 1:
                channel_id = "D" + users[0]
            else:
                channel_id = "G" + "".join(sorted(u.lstrip("UW") for u in users))[:20]
        else:
            raise _Rejected("users_list_not_supplied", "users or channel is required")
        already = channel_id in self._opened
        self._opened.add(channel_id)
        return {
            "ok": True,
            "no_op": already,
            "already_open": already,
            "channel": {"id": channel_id},
        }

    def _users_info(self, args):
        user_id = args.get("user")
        if not user_id:
            raise _Rejected("user_not_found", "user is required")
        user = self._users.get(user_id)
        if user is None:
            if user_id[:1] not in ("U", "W"):
                raise _Rejected("user_not_found", record=False)
            return {"ok": True, "user": self.add_user(user_id)}  # as if it always existed
        return {"ok": True, "user": copy.deepcopy(user)}

    def _views_open(self, args):
        if not args.get("trigger_id"):
            raise _Rejected("invalid_arguments", "trigger_id is required")
        view = self._check_view(args.get("view"))
        self._view_seq += 1
        view_id = f"V{self._view_seq:09d}"
        return {"ok": True, "view": self._store_view(view_id, view, previous=None)}

    def _views_update(self, args):
        view = self._check_view(args.get("view"))
        view_id = args.get("view_id")
        external_id = args.get("external_id")
        if not view_id and not external_id:
            raise _Rejected("invalid_arguments", "view_id or external_id is required")
        if not view_id:
            view_id = next(
                (k for k, v in self._views.items() if v.get("external_id") == external_id), None
            )
            if view_id is None:
                raise _Rejected("not_found", record=False)
        previous = self._views.get(view_id)  # unknown view ids are accepted (test payloads)
        if previous is not None and args.get("hash") and args["hash"] != previous["hash"]:
            raise _Rejected("hash_conflict", record=False)
        return {"ok": True, "view": self._store_view(view_id, view, previous=previous)}

    def _response_url(self, args):
        self._check_content(args, required=False)
        return {"ok": True}

    # ------------------------------------------------------------ file uploads

    def uploaded_files(self) -> list[dict[str, Any]]:
        """Files uploaded with files_upload_v2, in order: id, filename, title, length, data
        (bytes, None until uploaded), completed, channel, thread_ts, initial_comment."""
        with self._lock:
            return [copy.deepcopy(f) for f in self._files.values()]

    def _files_get_upload_url_external(self, args):
        filename = args.get("filename")
        try:
            length = int(args.get("length"))
        except (TypeError, ValueError):
            raise _Rejected("invalid_arguments", f"length: {args.get('length')!r}") from None
        if not filename or length <= 0:
            raise _Rejected("invalid_arguments", "filename and a positive length are required")
        file_id = f"F{len(self._files) + 1:09d}"
        self._files[file_id] = {
            "id": file_id,
            "filename": filename,
            "title": None,
            "length": length,
            "data": None,
            "completed": False,
            "channel": None,
            "thread_ts": None,
            "initial_comment": None,
        }
        return {"ok": True, "upload_url": f"{self.root_url}upload/{file_id}", "file_id": file_id}

    def _upload(self, req: Recorded) -> Answer:
        """POST /upload/<file id>: no token (the URL is the secret), answers `OK - <bytes>`."""
        file_id = req.path[len("/upload/") :]
        raw = req.body
        call = Call(
            method="upload",
            args={"file_id": file_id, "bytes": len(raw)},
            headers=req.headers,
            path=req.path,
        )
        with self._cond:
            entry = self._files.get(file_id)
            if entry is None:
                status, body = 404, b"Not Found"
            else:
                if len(raw) != entry["length"]:
                    self.errors.append(
                        f"upload {file_id}: {len(raw)} bytes, announced {entry['length']}"
                    )
                entry["data"] = bytes(raw)
                status, body = 200, f"OK - {len(raw)}".encode()
            call.status = status
            call.failed = status != 200
            call.at = time.monotonic()
            self.calls.append(call)
            self._cond.notify_all()
        return status, {"Content-Type": "text/plain"}, body

    def _files_complete_upload_external(self, args):
        files = args.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except json.JSONDecodeError:
                raise _Rejected("invalid_arguments", f"files: {files!r:.200}") from None
        if not isinstance(files, list) or not files:
            raise _Rejected("invalid_arguments", "files must be a non-empty JSON array")
        channel = args.get("channel_id") or None
        if channel:
            channel = self._resolve_channel(channel)
            if channel in self.archived:
                raise _Rejected("is_archived", record=False)
        done = []
        for item in files:
            entry = self._files.get((item or {}).get("id", ""))
            if entry is None or entry["data"] is None:
                raise _Rejected("invalid_arguments", f"file not uploaded: {item!r}")
            entry.update(
                title=item.get("title") or entry["filename"],
                completed=True,
                channel=channel,
                thread_ts=args.get("thread_ts") or None,
                initial_comment=args.get("initial_comment") or None,
            )
            done.append(
                {
                    "id": entry["id"],
                    "name": entry["filename"],
                    "title": entry["title"],
                    "size": len(entry["data"]),
                    "permalink": f"{self.workspace_url}files/{BOT_USER_ID}/{entry['id']}",
                }
            )
        if channel:
            message = {
                "type": "message",
                "text": args.get("initial_comment") or "",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "files": copy.deepcopy(done),
                "upload": True,
                "ts": self._next_ts(),
            }
            self._store(channel, message, args.get("thread_ts") or None)
        return {"ok": True, "files": done}

    # ------------------------------------------------------------------ helpers

    def _require_channel(self, args: dict[str, Any]) -> str:
        channel = args.get("channel")
        if not channel:
            raise _Rejected("channel_not_found", "channel is required")
        return self._resolve_channel(channel)

    @staticmethod
    def _resolve_channel(channel: str) -> str:
        return "D" + channel if channel[:1] in ("U", "W") else channel

    def _check_content(self, args: dict[str, Any], *, required: bool) -> None:
        text = args.get("text")
        blocks = args.get("blocks")
        if required and not text and not blocks and not args.get("attachments"):
            raise _Rejected("no_text", "text, blocks or attachments is required")
        if text is not None and not isinstance(text, str):
            raise _Rejected("invalid_arguments", f"text must be a string, got {type(text)}")
        if text and len(text) > MAX_TEXT_CHARS:
            raise _Rejected("msg_too_long", f"text has {len(text)} chars, max {MAX_TEXT_CHARS}")
        if blocks is not None:
            self._check_blocks(blocks, MAX_MESSAGE_BLOCKS, "a message")
        metadata = args.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, dict)
            and isinstance(metadata.get("event_type"), str)
            and metadata["event_type"]
            and isinstance(metadata.get("event_payload"), dict)
        ):
            raise _Rejected(
                "invalid_metadata_format",
                f"metadata needs event_type (str) and event_payload (object): {metadata!r}",
            )

    def _check_blocks(self, blocks: Any, limit: int, where: str) -> None:
        if not isinstance(blocks, list):
            raise _Rejected("invalid_blocks", f"blocks must be a JSON array, got {blocks!r:.200}")
        if len(blocks) > limit:
            raise _Rejected("invalid_blocks", f"{len(blocks)} blocks, at most {limit} in {where}")
        block_ids: set[str] = set()
        for i, raw in enumerate(blocks):
            if not isinstance(raw, dict):
                raise _Rejected("invalid_blocks", f"block {i} is not an object: {raw!r:.200}")
            kind = raw.get("type")
            try:
                block = Block.parse(raw)
                if block is None:
                    raise ValueError(f"unknown block type {kind!r}")
                block.validate_json()
                block.to_dict()  # validates nested elements and text objects too
            except Exception as exc:
                raise _Rejected("invalid_blocks", f"block {i} ({kind}): {exc}") from exc
            block_id = raw.get("block_id")
            if block_id is not None:
                if block_id in block_ids:
                    raise _Rejected("invalid_blocks", f"block {i}: duplicate block_id {block_id!r}")
                block_ids.add(block_id)

    def _check_view(self, view: Any) -> dict[str, Any]:
        if not isinstance(view, dict):
            raise _Rejected("invalid_arguments", f"view must be an object, got {view!r:.200}")
        self._check_blocks(view.get("blocks", []), MAX_VIEW_BLOCKS, "a view")
        try:
            model = View(**view)
            model.validate_json()
            model.to_dict()
        except Exception as exc:
            raise _Rejected("invalid_arguments", f"view: {exc}") from exc
        return view

    def _store_view(self, view_id: str, view: dict, previous: dict | None) -> dict[str, Any]:
        stored = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view.get("type"),
            "blocks": copy.deepcopy(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self.clock())}.{next(self._hashes):08x}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": previous["root_view_id"] if previous else view_id,
            "previous_view_id": None,
            "app_id": APP_ID,
            "external_id": view.get("external_id", ""),
            "bot_id": BOT_ID,
        }
        for key in ("title", "submit", "close"):
            if view.get(key) is not None:
                stored[key] = copy.deepcopy(view[key])
        self._views[view_id] = stored
        return copy.deepcopy(stored)

    def _next_ts(self) -> str:
        micros = max(int(self.clock() * 1_000_000), self._last_micros + 1)
        self._last_micros = micros
        return _format_micros(micros)

    def _store(self, channel: str, message: dict[str, Any], thread_ts: str | None) -> dict:
        channel = self._resolve_channel(channel)
        store = self._channels.setdefault(channel, {})
        if thread_ts:
            parent = store.get(thread_ts)
            if parent is not None and parent.get("thread_ts") not in (None, thread_ts):
                thread_ts = parent["thread_ts"]  # a reply to a reply joins the parent's thread
                parent = store.get(thread_ts)
            message["thread_ts"] = thread_ts
            if parent is not None:
                message["parent_user_id"] = parent.get("user")
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                users = parent.setdefault("reply_users", [])
                if message.get("user") and message["user"] not in users:
                    users.append(message["user"])
                parent["reply_users_count"] = len(users)
                parent["latest_reply"] = message["ts"]
        store[message["ts"]] = message
        return message

    def _remove(self, channel: str, ts: str) -> bool:
        store = self._channels.get(channel, {})
        message = store.pop(ts, None)
        if message is None:
            return False
        parent = store.get(message.get("thread_ts") or "")
        if parent is not None and parent is not message:
            parent["reply_count"] = max(0, parent.get("reply_count", 1) - 1)
        return True

    def _thread_messages(self, channel: str, parent_ts: str) -> list[dict[str, Any]]:
        store = self._channels.get(channel, {})
        return [
            m
            for m in _sorted(store.values())
            if m["ts"] == parent_ts or m.get("thread_ts") == parent_ts
        ]


# ---------------------------------------------------------------------- functions


def _decode_args(query: str, raw: bytes, content_type: str) -> dict[str, Any]:
    args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    if raw:
        text = raw.decode("utf-8")
        if content_type.split(";")[0].strip().lower() == "application/json":
            body = json.loads(text)
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            args.update(body)
        else:
            args.update(parse_qsl(text, keep_blank_values=True, strict_parsing=False))
    for key in JSON_FIELDS:
        value = args.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                args[key] = json.loads(value)
            except json.JSONDecodeError:
                pass  # left as sent: the checks reject it
    return args


def _format_micros(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _ts_micros(ts: str) -> int:
    return int(Decimal(ts) * 1_000_000)


def _parse_ts(value: Any, error: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise _Rejected(error, f"not a timestamp: {value!r}") from None


def _sorted(messages, reverse: bool = False) -> list[dict[str, Any]]:
    return sorted(messages, key=lambda m: Decimal(m["ts"]), reverse=reverse)


def _is_top_level(message: dict[str, Any]) -> bool:
    thread_ts = message.get("thread_ts")
    return (
        thread_ts is None
        or thread_ts == message["ts"]
        or message.get("subtype") == "thread_broadcast"
    )


def _public(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
    out = copy.deepcopy(message)
    if not with_metadata:
        out.pop("metadata", None)
    return out


def _paginate(
    messages: list[dict[str, Any]], args: dict[str, Any], *, newest_first: bool
) -> tuple[list[dict[str, Any]], bool, str]:
    """Slack's cursor paging: the cursor is base64("next_ts:<ts of the next message>")."""
    try:
        limit = int(args.get("limit") or 100)
    except ValueError:
        raise _Rejected("invalid_limit", f"limit: {args.get('limit')!r}") from None
    limit = max(1, min(limit, 999))
    cursor = args.get("cursor")
    if cursor:
        try:
            decoded = base64.b64decode(cursor, validate=True).decode()
            if not decoded.startswith("next_ts:"):
                raise ValueError(decoded)
            start = Decimal(decoded[len("next_ts:") :])
        except (ValueError, InvalidOperation, UnicodeDecodeError):
            raise _Rejected("invalid_cursor", f"cursor: {cursor!r}") from None
        if newest_first:
            messages = [m for m in messages if Decimal(m["ts"]) <= start]
        else:
            messages = [m for m in messages if Decimal(m["ts"]) >= start]
    page, rest = messages[:limit], messages[limit:]
    next_cursor = base64.b64encode(f"next_ts:{rest[0]['ts']}".encode()).decode() if rest else ""
    return page, bool(rest), next_cursor
