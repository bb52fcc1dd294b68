"""Everything the bot writes to Slack, on top of the outbox in SQLite.

At most once: an alert's outbox row goes pending -> sending (compare-and-set) before
chat.postMessage and -> sent after. If the process dies in between, or the call's outcome is
unknown (a timeout), the row stays `sending`; `reconcile` then looks for the alert in the
channel's history by its message metadata before anything is posted again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks, ids, replies
from bot.config import Settings
from bot.escalation import sla_for
from bot.models import parse_time, utcnow
from storage import Store

log = logging.getLogger(__name__)

HISTORY_MARGIN = timedelta(minutes=5)
STUCK_AFTER = timedelta(minutes=2)  # a `sending` row this old is not in flight any more
QUICK_TIMEOUT = 1  # seconds, for a lookup that must leave a trigger_id time to open a modal


class SlackPoster:
    def __init__(
        self,
        client: WebClient,
        store: Store,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.client = client
        self.store = store
        self.settings = settings
        self.clock = clock
        self._locks: dict[int, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._flush_lock = threading.Lock()
        self._names: dict[str, str] = {}

    # --- alerts ------------------------------------------------------------------------------

    def flush(self) -> int:
        """Post every pending alert, oldest first; returns how many were posted."""
        posted = 0
        with self._flush_lock:
            pending = self.store.outbox("pending")
            storm = self._storm_thread() if pending else None
            for row in pending:
                # During a storm an alert is a reply under the storm message (bot/storm.py).
                if storm and storm["channel"] == row["channel"]:
                    sent = self.send(row["mention_id"], row["channel"], thread_ts=storm["ts"])
                else:
                    sent = self.send(row["mention_id"], row["channel"])
                posted += bool(sent)
        return posted

    def send(self, mention_id: int, channel: str, *, thread_ts: str | None = None) -> bool:
        if not self.store.begin_send(mention_id):
            return False  # someone else is sending it, or it was sent
        if thread_ts:
            self.store.set_outbox_thread(mention_id, thread_ts)  # where reconcile must look
        # Rendered as it will be once this post is saved: an open alert with its buttons.
        mention = {**self.store.mention(mention_id), "status": "posted"}
        message = blocks.alert_message(mention, self.clock(), sla_minutes=self.sla_minutes(mention))
        if thread_ts:
            message["thread_ts"] = thread_ts
        try:
            response = self.client.chat_postMessage(channel=channel, **message)
        except SlackApiError as exc:
            if exc.response.status_code >= 500:
                # Slack failed mid-request: it may have posted. Reconcile decides later.
                log.error(
                    "Slack answered HTTP %s for mention %s; will check its history",
                    exc.response.status_code,
                    mention_id,
                )
                return False
            error = exc.response.get("error", "unknown_error")
            log.error(
                "Slack refused alert for mention %s in %s: %s%s",
                mention_id,
                channel,
                error,
                _hint(error),
            )
            self.store.send_failed(mention_id, f"slack: {error}")
            return False
        except Exception:
            # The post may or may not have reached Slack: leave it `sending` for reconcile.
            log.exception(
                "Posting mention %s: outcome unknown, will check Slack's history", mention_id
            )
            return False
        self.store.mark_sent(mention_id, response["channel"], response["ts"])
        return True

    def reconcile(self, *, stuck_after: timedelta = timedelta(0)) -> dict[str, int]:
        """Settle alerts left `sending`: found in Slack -> sent; not found -> pending again.

        At start-up every `sending` row is settled; while running, only rows older than
        `stuck_after`, so a post still in flight is left alone.
        """
        found = requeued = 0
        cutoff = self.clock() - stuck_after
        for row in self.store.outbox("sending"):
            if parse_time(row["updated_at"]) > cutoff:
                continue
            ts = None
            if row.get("thread_ts"):
                # Threaded under a storm message: conversations.history does not list replies.
                ts = self._find_in_thread(row["channel"], row["thread_ts"], row["mention_id"])
            if not ts:
                ts = self._find_in_history(row["channel"], row["mention_id"], row["created_at"])
            if ts:
                self.store.mark_sent(row["mention_id"], row["channel"], ts)
                found += 1
            else:
                self.store.send_failed(row["mention_id"], "not in Slack after an interrupted post")
                requeued += 1
        if found or requeued:
            log.info(
                "Reconciled interrupted alerts: %s already in Slack, %s to post", found, requeued
            )
        self._reconcile_storms(cutoff)
        return {"found": found, "requeued": requeued}

    def _find_in_history(self, channel: str, mention_id: int, created_at: str) -> str | None:
        oldest = (parse_time(created_at) - HISTORY_MARGIN).timestamp()
        cursor = None
        while True:
            response = self.client.conversations_history(
                channel=channel,
                oldest=f"{oldest:.6f}",
                limit=200,
                include_all_metadata=True,
                cursor=cursor,
            )
            for message in response.get("messages", []):
                if is_alert_for(message, mention_id):
                    return message["ts"]
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                return None

    def _find_in_thread(self, channel: str, thread_ts: str, mention_id: int) -> str | None:
        cursor = None
        while True:
            try:
                response = self.client.conversations_replies(
                    channel=channel,
                    ts=thread_ts,
                    limit=200,
                    include_all_metadata=True,
                    cursor=cursor,
                )
            except SlackApiError as exc:
                error = exc.response.get("error")
                log.warning("Could not read storm thread %s: %s", thread_ts, error)
                return None
            for message in response.get("messages", []):
                if message.get("ts") != thread_ts and is_alert_for(message, mention_id):
                    return message["ts"]
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                return None

    # --- storm mode (bot/storm.py) -------------------------------------------------------------

    def _storm_thread(self) -> dict | None:
        """The open storm whose message alerts are threaded under, posting that message first
        if it is not in Slack yet; None when there is no storm (or its message could not be
        posted: the alerts then go to the channel, nothing waits on it)."""
        storm = self.store.open_storm()
        if storm is None:
            return None
        if storm["msg_state"] == "pending" and self.store.storm_begin_post(storm["id"]):
            self._post_storm(storm)
            storm = self.store.storm(storm["id"])
        return storm if storm and storm["msg_state"] == "sent" and storm["ts"] else None

    def _storm_message(self, storm: dict) -> dict:
        from bot.storm import WINDOW, WINDOW_MINUTES
        from bot.summary import top_terms

        brand = self.settings.brand
        terms = top_terms(
            self.store.storm_texts(storm, WINDOW),
            ignore=(brand.name, *brand.terms, *brand.handles),
            limit=3,
        )
        return blocks.storm_message(
            storm,
            now=self.clock(),
            tz=self.settings.tz,
            terms=[t for t, _ in terms],
            threaded=len(self.store.storm_alerts(storm)),
            window_minutes=WINDOW_MINUTES,
        )

    def _post_storm(self, storm: dict) -> None:
        message = self._storm_message(storm)
        try:
            response = self.client.chat_postMessage(channel=storm["channel"], **message)
        except SlackApiError as exc:
            if exc.response.status_code >= 500:
                log.error("Storm message: Slack answered HTTP %s", exc.response.status_code)
                return  # it may have posted: reconcile looks for it
            error = exc.response.get("error", "unknown_error")
            log.error("Slack refused the storm message: %s%s", error, _hint(error))
            self.store.storm_post_failed(storm["id"])
            return
        except Exception:
            log.exception("Posting the storm message: outcome unknown, will check Slack")
            return
        self.store.storm_posted(storm["id"], response["ts"])
        self.store.storm_shown(storm["id"], _shown(storm, message))

    def storm_sync(self) -> int:
        """Edit storm messages whose figures changed (the open one; a closed one once, to say
        it is over). The pipeline calls this once a poll, so a storm message is edited at most
        once a poll. Returns how many were edited."""
        edited = 0
        for storm in self.store.storms("sent"):
            if not storm["is_open"] and (storm["shown"] or "").startswith("closed:"):
                continue
            message = self._storm_message(storm)
            shown = _shown(storm, message)
            if shown == storm["shown"]:
                continue
            message.pop("unfurl_links")
            message.pop("unfurl_media")
            try:
                self.client.chat_update(channel=storm["channel"], ts=storm["ts"], **message)
            except SlackApiError as exc:
                log.warning("Could not update the storm message: %s", exc.response.get("error"))
                continue
            self.store.storm_shown(storm["id"], shown)
            edited += 1
        return edited

    def _reconcile_storms(self, cutoff: datetime) -> None:
        """A storm message left `sending` (a crash mid-post): find it by its metadata, or
        post it again."""
        for storm in self.store.storms("sending"):
            if parse_time(storm["updated_at"]) > cutoff:
                continue
            oldest = (parse_time(storm["started_at"]) - HISTORY_MARGIN).timestamp()
            ts = None
            cursor = None
            while ts is None:
                response = self.client.conversations_history(
                    channel=storm["channel"],
                    oldest=f"{oldest:.6f}",
                    limit=200,
                    include_all_metadata=True,
                    cursor=cursor,
                )
                for message in response.get("messages", []):
                    meta = message.get("metadata") or {}
                    payload = meta.get("event_payload") or {}
                    if meta.get("event_type") == ids.STORM_EVENT_TYPE and str(
                        payload.get("storm_id")
                    ) == str(storm["id"]):
                        ts = message["ts"]
                        break
                cursor = (response.get("response_metadata") or {}).get("next_cursor")
                if not response.get("has_more") or not cursor:
                    break
            if ts:
                self.store.storm_posted(storm["id"], ts)
            else:
                self.store.storm_post_failed(storm["id"])

    # --- updates after an action ---------------------------------------------------------------

    def _lock(self, mention_id: int) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(mention_id, threading.Lock())

    def refresh(self, mention_id: int) -> str | None:
        """Re-render the alert from the database (never from the click that caused it), so
        concurrent actions end on a card that matches the truth. Returns an error code when
        Slack could not update it (message deleted, channel archived), else None."""
        with self._lock(mention_id):
            mention = self.store.mention(mention_id)
            if not mention or not mention.get("ts"):
                return "not_posted"
            message = blocks.alert_message(
                mention,
                self.clock(),
                sla_minutes=self.sla_minutes(mention),
                reply_url=self.reply_url(mention),
            )
            message.pop("unfurl_links")
            message.pop("unfurl_media")
            try:
                self.client.chat_update(channel=mention["channel"], ts=mention["ts"], **message)
            except SlackApiError as exc:
                error = exc.response.get("error", "unknown_error")
                log.warning("Could not update the alert for mention %s: %s", mention_id, error)
                return error
        return None

    def thread(self, mention: dict, text: str) -> None:
        """One short line in the alert's thread: the history reads without the database."""
        if not mention.get("ts"):
            return
        try:
            self.client.chat_postMessage(
                channel=mention["channel"],
                thread_ts=mention["ts"],
                text=text,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            log.warning(
                "Thread note on mention %s failed: %s", mention["id"], exc.response.get("error")
            )

    def reply_url(self, mention: dict) -> str | None:
        """The composer link for the latest reply draft, if there is one."""
        drafts = self.store.drafts(mention["id"])
        return replies.composer_url(mention, drafts[-1]["text"]) if drafts else None

    def ephemeral(self, channel: str | None, user: str, text: str) -> None:
        """A note only `user` sees. Where the channel is gone (archived, deleted, or the click
        came from elsewhere), it goes to them as a direct message instead."""
        if channel:
            try:
                self.client.chat_postEphemeral(channel=channel, user=user, text=text)
                return
            except SlackApiError as exc:
                error = exc.response.get("error")
                log.warning("Ephemeral to %s failed: %s; sending a DM", user, error)
        try:
            self.client.chat_postMessage(
                channel=user, text=text, unfurl_links=False, unfurl_media=False
            )
        except SlackApiError as exc:
            log.warning("DM to %s failed too: %s", user, exc.response.get("error"))

    def first_name(self, user: str, *, quick: bool = False) -> str:
        """The agent's first name for signing drafts (users.info, cached); '' if unknown.

        `quick`: one try of at most QUICK_TIMEOUT seconds, no waiting out a 429, for work that
        races a trigger_id's 3 seconds; a name not found that way is asked again next time."""
        if user in self._names:
            return self._names[user]
        client = self.client
        if quick:
            client = WebClient(
                token=self.client.token,
                base_url=self.client.base_url,
                timeout=QUICK_TIMEOUT,
                retry_handlers=[],
            )
        try:
            info = client.users_info(user=user)["user"]
        except SlackApiError as exc:
            log.info("No name for %s: %s", user, exc.response.get("error"))
            info = {}
        except Exception as exc:  # noqa: BLE001 - a timeout: sign the draft without a name
            log.info("No name for %s in time: %s", user, exc)
            return ""
        profile = info.get("profile") or {}
        name = (
            profile.get("first_name")
            or (profile.get("real_name") or info.get("real_name") or "").split(" ")[0]
            or profile.get("display_name")
            or info.get("name")
            or ""
        )
        self._names[user] = name
        return name

    def open_view(self, trigger_id: str, view: dict) -> str | None:
        """Open a modal; returns Slack's error code if it could not (e.g. expired_trigger_id)."""
        try:
            self.client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error")
            log.warning("Could not open a modal: %s", error)
            return error
        return None

    def notice(self, text: str) -> str | None:
        """A notice in the alert channel (source health); returns its ts."""
        try:
            response = self.client.chat_postMessage(
                channel=self.settings.slack.alert_channel, **blocks.notice_message(text)
            )
        except SlackApiError as exc:
            log.error("Notice not posted: %s", exc.response.get("error"))
            return None
        return response["ts"]

    def sla_minutes(self, mention: dict) -> int:
        return card_sla(self.settings, mention)


def is_alert_for(message: dict, mention_id: int) -> bool:
    """Is this channel message the alert for `mention_id`? By its metadata, or, should the
    workspace withhold metadata, by the card's actions block id (which carries the id too)."""
    meta = message.get("metadata") or {}
    if meta.get("event_type") == ids.ALERT_EVENT_TYPE:
        return str((meta.get("event_payload") or {}).get("mention_id")) == str(mention_id)
    if not message.get("bot_id"):
        return False
    wanted = blocks.actions_block_id(mention_id)
    return any(b.get("block_id") == wanted for b in message.get("blocks") or [])


class TerminalPoster:
    """Prints alerts instead of posting them: `mentionops demo`, and runs without Slack."""

    channel = "terminal"

    def __init__(self, store: Store, settings: Settings, *, echo=print, clock=utcnow):
        self.store = store
        self.settings = settings
        self.echo = echo
        self.clock = clock
        self.sent = 0

    def flush(self) -> int:
        posted = 0
        for row in self.store.outbox("pending"):
            if not self.store.begin_send(row["mention_id"]):
                continue
            self.sent += 1
            ts = f"{self.clock().timestamp():.0f}.{self.sent:06d}"
            result = self.store.mark_sent(row["mention_id"], self.channel, ts)
            self.echo(self.render(result.mention))
            posted += 1
        return posted

    def render(self, mention: dict) -> str:
        message = blocks.alert_message(
            mention, self.clock(), sla_minutes=card_sla(self.settings, mention)
        )
        return blocks.render_text(message)

    def reconcile(self, **_) -> dict[str, int]:
        return {"found": 0, "requeued": 0}

    def notice(self, text: str) -> str | None:
        self.echo(f"[notice] {blocks.mrkdwn_to_terminal(text)}")
        return None


def _shown(storm: dict, message: dict) -> str:
    """What a storm message shows, in short: it is edited only when this changes."""
    state = "closed" if storm.get("ended_at") else "open"
    return f"{state}:{hashlib.sha1(message['text'].encode()).hexdigest()[:16]}"


def card_sla(settings: Settings, mention: dict) -> int:
    """This mention's SLA in minutes (per source and severity when configured), for the card."""
    return int(sla_for(settings, mention).total_seconds() // 60)


_HINTS = {
    "not_in_channel": ": invite the bot to the channel (/invite @mentionops)",
    "channel_not_found": ": check [slack] alert_channel is a channel ID the bot can see",
    "is_archived": ": the alert channel is archived; set a new [slack] alert_channel",
    "invalid_auth": ": check SLACK_BOT_TOKEN",
    "not_authed": ": set SLACK_BOT_TOKEN",
    "token_revoked": ": the app was uninstalled or its token revoked; reinstall it",
    "missing_scope": ": add the scope from manifest.yaml and reinstall the app",
}


def _hint(error: str) -> str:
    return _HINTS.get(error, "")
