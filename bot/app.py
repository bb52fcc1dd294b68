"""Builds the Bolt App: one middleware puts the bot's services into `context`, then each
surface's listeners are registered (handlers/)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime

from slack_bolt import App
from slack_sdk import WebClient

import handlers
from bot.config import Settings
from bot.models import utcnow
from storage import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """What listeners need, reached through `context["services"]` (never a module global).

    The store opens a connection per call, so it is safe on Bolt's worker threads."""

    settings: Settings
    store: Store
    poster: object  # bot.poster.SlackPoster
    clock: Callable[[], datetime] = utcnow
    health: Callable[[], dict] | None = None
    escalator: object | None = None  # bot.escalation.Escalator: escalate(), on_call()

    def __deepcopy__(self, memo: dict) -> Services:
        # Bolt deep-copies `context` for lazy listeners; the services are shared by design
        # (thread-safe, and the store opens a connection per call), so the copy is this object.
        return self

    def is_manager(self, user_id: str) -> bool:
        return user_id in self.settings.slack.managers


def build_app(
    services: Services,
    client: WebClient,
    *,
    verify_token: bool = True,
    executor: Executor | None = None,
) -> App:
    """`executor` runs listeners after their ack (Bolt's default: a thread pool)."""
    app = App(
        client=client,
        signing_secret=services.settings.secrets.get("SLACK_SIGNING_SECRET") or "",
        token_verification_enabled=verify_token,
        # Listeners ack on the request thread and do their work as lazy functions.
        process_before_response=True,
        logger=logging.getLogger("mentionops.bolt"),
        listener_executor=executor,
    )

    def inject(context, next):  # noqa: A002 - Bolt's own parameter name
        context["services"] = services
        next()

    app.use(inject)
    handlers.register(app)

    @app.error
    def on_error(error, body, logger):
        logger.exception("Unhandled error in a Slack listener: %s", error)

    return app
