"""PagerDuty Events API v2: `trigger` on escalation, `resolve` when the mention is closed
(resolved by any path, or marked not urgent).

Events are queued in SQLite (`pagerduty_outbox`, written in the escalation's own transaction)
and sent by the scheduler's escalation job, never on the Slack path. 429 and 5xx answers and
network errors are retried with backoff; 400 (a malformed event or a bad routing key) is not.
Unlike Slack posts, events are sent at least once: a crash between the request and saving its
answer leaves the row `sending`, and it is sent again after `PAGERDUTY_STUCK`. That is safe
because every event of a mention carries the same `dedup_key`, so PagerDuty folds a repeat into
the incident it already has, and a missed page is the worse failure. A trigger not yet tried
when its mention is closed is cancelled (storage.escalation.queue_pagerduty_resolves).
The routing key comes from `PAGERDUTY_ROUTING_KEY` only: it is added when sending, never stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import httpx

log = logging.getLogger(__name__)

SEVERITY = {"SEV1": "critical", "SEV2": "error", "SEV3": "warning"}
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=30)


def dedup_key(mention_id: int) -> str:
    return f"mentionops-{mention_id}"


def at_least(severity: str, minimum: str) -> bool:
    """SEV1 is the most severe: 'SEV1' is at least 'SEV2'."""
    return severity.upper() <= minimum.upper()


def trigger_payload(
    mention: dict,
    *,
    brand: str,
    severity: str,
    level: int,
    targets: list[str],
    link: str | None,
    note: str | None = None,
) -> dict:
    """The event's `payload` (stored in the outbox; routing key and dedup key added later)."""
    who = mention.get("author") or mention.get("author_name") or "someone"
    text = " ".join((mention.get("text") or "").split())
    summary = (
        f"[{brand}] {severity} L{level}: urgent {mention['source']} mention from @{who}: {text}"
    )
    details = {
        "mention_id": mention["id"],
        "urgency": mention.get("urgency"),
        "reasons": mention.get("reasons") or [],
        "post": mention.get("url") or None,
        "alert": link,
        "level": level,
        "escalated_to": targets,
    }
    if note:
        details["note"] = note
    return {
        "summary": summary[:1024],
        "source": f"mentionops:{mention['source']}",
        "severity": SEVERITY.get(severity.upper(), "error"),
        "custom_details": details,
    }


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retry: bool = False  # worth trying again later (429, 5xx, network)
    error: str | None = None
    retry_after: float | None = None


class PagerDuty:
    def __init__(
        self,
        routing_key: str,
        base_url: str = "https://events.pagerduty.com",
        *,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
    ):
        self.routing_key = routing_key
        self.url = base_url.rstrip("/") + "/v2/enqueue"
        self.http = http or httpx.Client(timeout=timeout)

    def __repr__(self) -> str:
        return f"PagerDuty(url={self.url!r}, routing_key=***)"

    def body(self, action: str, mention_id: int, payload: dict) -> dict:
        body = {
            "routing_key": self.routing_key,
            "event_action": action,
            "dedup_key": dedup_key(mention_id),
        }
        if action == "trigger":
            body["payload"] = payload
        return body

    def send(self, action: str, mention_id: int, payload: dict) -> Outcome:
        try:
            response = self.http.post(self.url, json=self.body(action, mention_id, payload))
        except httpx.HTTPError as exc:
            return Outcome(False, retry=True, error=f"network: {type(exc).__name__}")
        if response.status_code in (200, 201, 202):
            return Outcome(True)
        error = f"HTTP {response.status_code}: {_message(response)}"
        if response.status_code == 429 or response.status_code >= 500:
            return Outcome(False, retry=True, error=error, retry_after=_retry_after(response))
        return Outcome(False, retry=False, error=error)

    def close(self) -> None:
        self.http.close()


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """30 s, 1 min, 2 min, ... up to 30 min; at least what Retry-After asks."""
    wait = min(BACKOFF_FIRST * (2 ** max(0, attempts - 1)), BACKOFF_MAX)
    if retry_after:
        wait = max(wait, timedelta(seconds=retry_after))
    return wait


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict):
        errors = data.get("errors")
        return str(data.get("message") or "") + (f" {errors}" if errors else "")
    return str(data)[:200]


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
