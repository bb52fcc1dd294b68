"""Listeners in one process: a Bolt app built by `build_app`, signed requests dispatched to it,
its WebClient pointed at the fake Slack over real HTTP."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from slack_bolt.request import BoltRequest

from bot import ids
from bot.models import Mention, Score
from tests.support import (
    ALERT_CHANNEL,
    BoltApp,
    block_action,
    bolt_app,
    form_body,
    signed_headers,
    slash_command,
    wait_until,
)


@pytest.fixture
def bolt(tmp_path, monkeypatch):
    with bolt_app(tmp_path, monkeypatch, harness=Harness) as harness:
        yield harness


class Harness(BoltApp):
    def alert(
        self, text: str = "Acme charged me twice!", *, url: str = "https://x.com/a/1"
    ) -> dict:
        """A mention stored and posted to the fake Slack, as the pipeline would."""
        mention = Mention(
            source="x",
            external_id=str(time.monotonic_ns()),
            text=text,
            author="dana",
            author_name="Dana",
            followers=12,
            url=url,
            created_at=datetime.now(UTC) - timedelta(minutes=3),
        )
        score = Score(80, True, "billing", -0.6, ["money: 'charged twice'"])
        saved = self.store.save_batch("x", [(mention, score)], alert_channel=ALERT_CHANNEL)
        assert self.poster.flush() == 1
        return self.store.mention(saved.new_ids[0])

    def dispatch(self, body: str) -> int:
        return self.request(body).status

    def click(self, action_id: str, mention: dict | str, user: str) -> int:
        value = mention if isinstance(mention, str) else str(mention["id"])
        ts = "1.0" if isinstance(mention, str) else mention["ts"]
        return self.dispatch(form_body(block_action(action_id, value, user=user, message_ts=ts)))

    def ephemeral_to(self, user: str, count: int = 1) -> list[str]:
        calls = self.slack.wait_for("chat.postEphemeral", count=count)
        return [c.args["text"] for c in calls if c.args["user"] == user]

    def settle(self) -> None:
        """Listeners run after the ack on Bolt's worker threads: give them a moment."""
        time.sleep(0.3)


def test_claim_updates_card_and_thread(bolt):
    m = bolt.alert()
    assert bolt.click(ids.CLAIM, m, "U0ALICE") == 200
    update = bolt.slack.wait_for("chat.update")[0]
    assert update.args["ts"] == m["ts"]
    assert "Claimed by <@U0ALICE>" in json.dumps(update.args["blocks"])
    thread = bolt.slack.wait_for("chat.postMessage", count=2)[1]
    assert (thread.args["thread_ts"], thread.args["text"]) == (
        m["ts"],
        "🙋 <@U0ALICE> claimed this",
    )
    assert bolt.store.mention(m["id"])["claimed_by"] == "U0ALICE"
    assert bolt.slack.errors == []


@pytest.mark.parametrize(
    ("action", "actor", "ok", "message"),
    [
        (ids.UNCLAIM, "U0ALICE", True, None),
        (ids.UNCLAIM, "U0BOB", False, "Only <@U0ALICE>, who claimed it, or a manager can do that."),
        (ids.UNCLAIM, "U0MANAGER", True, None),
        (ids.RESOLVE, "U0ALICE", True, None),
        (ids.RESOLVE, "U0BOB", False, "Only <@U0ALICE>, who claimed it, or a manager can do that."),
        (ids.RESOLVE, "U0MANAGER", True, None),
    ],
)
def test_permissions_on_a_claimed_alert(bolt, action, actor, ok, message):
    m = bolt.alert()
    assert bolt.store.claim(m["id"], "U0ALICE").ok
    assert bolt.click(action, m, actor) == 200
    if ok:
        bolt.slack.wait_for("chat.update")
        expected = "resolved" if action == ids.RESOLVE else "posted"
        assert bolt.store.mention(m["id"])["status"] == expected
    else:
        assert bolt.ephemeral_to(actor) == [message]
        bolt.settle()
        assert bolt.store.mention(m["id"])["status"] == "claimed"
        assert bolt.slack.calls_to("chat.update") == []
        assert bolt.store.events(m["id"])[-1]["action"].endswith("_refused")


def test_resolving_an_unclaimed_alert_needs_a_claim_or_a_manager(bolt):
    m = bolt.alert()
    bolt.click(ids.RESOLVE, m, "U0BOB")
    assert bolt.ephemeral_to("U0BOB") == [
        "Nobody has claimed this yet: claim it first, then resolve it."
    ]
    bolt.click(ids.RESOLVE, m, "U0MANAGER")
    bolt.slack.wait_for("chat.update")
    assert bolt.store.mention(m["id"])["resolved_by"] == "U0MANAGER"


def test_link_button_is_acked_and_nothing_else(bolt):
    m = bolt.alert()
    before = len(bolt.slack.calls)
    assert bolt.click(ids.OPEN_POST, m, "U0ALICE") == 200
    bolt.settle()
    assert len(bolt.slack.calls) == before


def test_a_forged_button_value_gets_a_kind_answer(bolt):
    assert bolt.click(ids.CLAIM, "'; DROP TABLE mentions; --", "U0ALICE") == 200
    assert bolt.ephemeral_to("U0ALICE") == [
        "I can't find that mention any more. It may have been removed."
    ]
    assert bolt.click(ids.CLAIM, "424242", "U0ALICE") == 200
    assert bolt.ephemeral_to("U0ALICE", count=2)[-1].startswith("I can't find that mention")


def test_deleted_alert_message_claim_still_counts(bolt):
    m = bolt.alert()
    bolt.slack.delete_message(ALERT_CHANNEL, m["ts"])
    bolt.click(ids.CLAIM, m, "U0ALICE")
    notes = bolt.ephemeral_to("U0ALICE")
    assert notes == [
        "Done: the change is saved, but I couldn't update the alert message "
        "(Slack said `message_not_found`; it may have been deleted)."
    ]
    assert bolt.store.mention(m["id"])["claimed_by"] == "U0ALICE"


def test_untrusted_text_never_pings_in_alerts(bolt):
    m = bolt.alert("<!channel> Acme <@U0CEO> <http://evil.example|refund here> @here")
    post = bolt.slack.calls_to("chat.postMessage")[0]
    everything = post.args["text"] + json.dumps(post.args["blocks"], ensure_ascii=False)
    for token in ("<!channel>", "<@U0CEO>", "<http://evil", "@here"):
        assert token not in everything
    assert "&lt;!channel&gt;" in everything
    assert m["status"] == "posted"


def test_mentions_command_help_queue_and_unknown(bolt):
    m = bolt.alert()
    url = bolt.slack.response_url("cmd")
    assert bolt.dispatch(slash_command("queue", user="U0ALICE", response_url=url)) == 200
    assert bolt.dispatch(slash_command("frobnicate", user="U0ALICE", response_url=url)) == 200
    calls = bolt.slack.wait_for("response_url", count=2)
    texts = sorted(c.args["text"] for c in calls)
    assert texts[0].startswith(
        "*Unclaimed urgent mentions (1)*\n• *80* · waiting 3 min · <https://acme"
    )
    assert f"p{m['ts'].replace('.', '')}" in texts[0]
    assert texts[1].startswith("I don't know `frobnicate`. */mentions* shows what needs a human")


def test_app_home_lists_queue_and_claims(bolt):
    first, second = bolt.alert(), bolt.alert("Acme app down, can't log in")
    bolt.store.claim(first["id"], "U0ALICE")
    event = {
        "token": "legacy",
        "team_id": "T0TEAM",
        "api_app_id": "A0MENTIONOPS",
        "type": "event_callback",
        "event_id": "Ev1",
        "event_time": int(time.time()),
        "event": {
            "type": "app_home_opened",
            "user": "U0ALICE",
            "channel": "D0ALICE",
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        },
    }
    body = json.dumps(event)
    response = bolt.app.dispatch(
        BoltRequest(body=body, headers={**signed_headers(body), "Content-Type": "application/json"})
    )
    assert response.status == 200
    view = bolt.slack.wait_for("views.publish")[0].args["view"]
    text = json.dumps(view, ensure_ascii=False)
    assert "Your open claims" in text and "Acme charged me twice!" in text
    assert "Acme app down" in text
    assert "*On call*\\n<@U0ALICE> until " in text  # rotation[0] of the test config
    assert "*Last 24 hours*\\n2 mentions · 2 urgent · 1 claimed · 0 resolved" in text
    assert second["status"] == "posted"


# --- review: refusals, slow lookups, expired response URLs, /mentions oncall ------------------


def test_a_click_on_a_missing_mention_is_refused_and_audited(bolt):
    for action in (ids.CLAIM, ids.DRAFT, ids.ESCALATE):
        bolt.click(action, "424242", "U0ALICE")
    assert (
        bolt.ephemeral_to("U0ALICE", count=3)
        == ["I can't find that mention any more. It may have been removed."] * 3
    )
    wait_until(lambda: len(bolt.store.events()) == 3)
    assert sorted(
        (e["mention_id"], e["actor"], e["action"], e["detail"]) for e in bolt.store.events()
    ) == [
        (None, "U0ALICE", "claim_refused", {"reason": "not_found"}),
        (None, "U0ALICE", "draft_refused", {"reason": "not_found"}),
        (None, "U0ALICE", "escalate_refused", {"reason": "not_found"}),
    ]
    assert bolt.slack.calls_to("views.open") == []


def test_draft_reply_opens_the_form_in_time_when_users_info_is_slow(bolt):
    m = bolt.alert()
    bolt.slack.delay("users.info", 4)
    started = time.monotonic()
    bolt.click(ids.DRAFT, m, "U0ALICE")
    opened = bolt.slack.wait_for("views.open")[0]
    assert opened.at - started < 2.5  # the trigger_id lives 3 s
    draft = opened.args["view"]["blocks"][1]["element"]["initial_value"]
    assert draft.startswith("Hi @dana, ") and not draft.endswith("– ")
    bolt.slack.delay("users.info", 0)


def test_a_form_slack_refuses_gets_an_accurate_note(bolt):
    m = bolt.alert()
    bolt.slack.fail_next("views.open", error="invalid_arguments")
    bolt.click(ids.ESCALATE, m, "U0ALICE")
    assert bolt.ephemeral_to("U0ALICE") == [
        "Sorry, I couldn't open the form (Slack said `invalid_arguments`). Please try again."
    ]
    bolt.slack.fail_next("views.open", error="expired_trigger_id")
    bolt.click(ids.ESCALATE, m, "U0ALICE")
    assert bolt.ephemeral_to("U0ALICE", count=2)[-1] == (
        "Slack took too long to open the form. Please click Escalate again."
    )


def test_sharing_a_summary_after_its_response_url_expired_says_so(bolt):
    url = bolt.slack.response_url("old-summary")
    bolt.dispatch(slash_command("summary today", user="U0BOB", response_url=url))
    answer = bolt.slack.wait_for("response_url")[0].args
    share = next(b for b in answer["blocks"] if b["type"] == "actions")["elements"][0]
    bolt.slack.fail_next("response_url", status=404, error="expired_url")
    action = block_action(ids.SHARE_SUMMARY, share["value"], user="U0BOB", response_url=url)
    assert bolt.dispatch(form_body(action)) == 200
    assert bolt.ephemeral_to("U0BOB") == [
        "That summary is too old to share: Slack allows it for 30 minutes. Run /mentions "
        "summary again and share the new one."
    ]


def test_oncall_override_refusals_are_audited_and_typed_text_is_escaped(bolt):
    from bot.app import Services
    from handlers.commands import oncall_answer

    services = Services(settings=bolt.poster.settings, store=bolt.store, poster=bolt.poster)
    now = datetime.now(UTC)
    refused = oncall_answer(services, ["<@U0DAVE|dave>", "for", "8h"], "U0ALICE", now)
    assert refused["text"].startswith("Only a manager can change who is on call.")
    assert [(e["actor"], e["action"], e["detail"]) for e in bolt.store.events()] == [
        (
            "U0ALICE",
            "oncall_override_refused",
            {"reason": "not_manager", "args": ["<@U0DAVE|dave>", "for", "8h"]},
        )
    ]
    bad = oncall_answer(services, ["<!subteam^S1|@support>", "for", "8h"], "U0MANAGER", now)
    assert bad == {
        "response_type": "ephemeral",
        "text": "I can't tell who '&lt;!subteam^S1|@support&gt;' is: pick them from the @ menu "
        "so Slack sends their user ID.",
    }


# --- App Home: every item linked, resilient to failures ------------------------------------


def open_home(bolt, user: str = "U0ALICE") -> int:
    event = {
        "token": "legacy",
        "team_id": "T0TEAM",
        "api_app_id": "A0MENTIONOPS",
        "type": "event_callback",
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": int(time.time()),
        "event": {
            "type": "app_home_opened",
            "user": user,
            "channel": "D0ALICE",
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        },
    }
    body = json.dumps(event)
    headers = {**signed_headers(body), "Content-Type": "application/json"}
    return bolt.app.dispatch(BoltRequest(body=body, headers=headers)).status


def home_text(bolt, count: int = 1) -> str:
    view = bolt.slack.wait_for("views.publish", count=count)[count - 1].args["view"]
    return json.dumps(view, ensure_ascii=False)


def test_app_home_links_every_item_shown_without_a_call_per_item(bolt):
    alerts = [bolt.alert(f"Acme problem number {i}") for i in range(20)]
    for m in alerts[:3]:
        bolt.store.claim(m["id"], "U0ALICE")
    bolt.slack.reset_calls()
    assert open_home(bolt) == 200
    text = home_text(bolt)
    shown = alerts[:3] + alerts[3:18]  # 3 claims, then the queue's first 15 of 17
    for m in shown:
        assert (
            f"<{bolt.slack.workspace_url}archives/{ALERT_CHANNEL}/p{m['ts'].replace('.', '')}|"
            in text
        )
    for m in alerts[18:]:
        assert f"number {alerts.index(m)}" not in text
    assert "…and 2 more." in text
    assert [c.method for c in bolt.slack.calls] == ["auth.test", "views.publish"]
    # The workspace URL is asked once per client, not once per page.
    open_home(bolt)
    home_text(bolt, count=2)
    assert [c.method for c in bolt.slack.calls].count("auth.test") == 1


def test_app_home_shows_what_it_can_when_a_read_fails(bolt, monkeypatch, caplog):
    m = bolt.alert()
    bolt.store.claim(m["id"], "U0ALICE")

    def broken():
        raise RuntimeError("database is locked")

    monkeypatch.setattr(bolt.store, "open_urgent", broken)
    open_home(bolt)
    text = home_text(bolt)
    assert "*Your open claims*\\n• claimed just now · <https://acme.slack.com/archives/" in text
    assert (
        "*Waiting for someone, oldest first*\\nCouldn't load this just now. Open the tab again "
        "to retry." in text
    )
    assert "*On call*" in text
    assert "App Home: the queue failed" in caplog.text


def test_app_home_when_nothing_can_be_read_says_so(bolt, monkeypatch, caplog):
    from bot import blocks

    def broken(*args, **kwargs):
        raise RuntimeError("disk I/O error")

    for name in ("claimed_by", "open_urgent", "connect", "meta"):
        monkeypatch.setattr(bolt.store, name, broken)
    open_home(bolt)
    view = bolt.slack.wait_for("views.publish")[0].args["view"]
    assert view == blocks.home_error_view()
    assert "Couldn't load your page" in json.dumps(view)
    assert "App Home: your claims failed" in caplog.text


def test_app_home_page_slack_refuses_is_logged_and_replaced(bolt, caplog):
    from bot import blocks

    bolt.alert()
    bolt.slack.fail_next("views.publish", error="invalid_blocks")
    open_home(bolt)
    published = bolt.slack.wait_for("views.publish", count=2)
    assert published[1].args["view"] == blocks.home_error_view()
    assert "App Home for U0ALICE: Slack refused the page (invalid_blocks)" in caplog.text


def test_permalinks_fall_back_to_chat_get_permalink_when_auth_test_fails(bolt):
    from bot.slack import permalinks

    m = bolt.alert()
    bolt.slack.fail_next("auth.test", error="invalid_auth")
    links = permalinks(bolt.poster.client, [m, {**m, "id": 99, "ts": None}])
    assert links == {
        m["id"]: f"https://acme.slack.com/archives/C0ALERTS/p{m['ts'].replace('.', '')}"
    }
    assert [c.method for c in bolt.slack.calls[-2:]] == ["auth.test", "chat.getPermalink"]


# --- /mentions: every subcommand answers, kindly, whatever fails -----------------------------


def command(bolt, text: str, user: str = "U0ALICE") -> str:
    url = bolt.slack.response_url(f"cmd-{time.monotonic_ns()}")
    assert bolt.dispatch(slash_command(text, user=user, response_url=url)) == 200
    return url


def test_a_refused_answer_goes_again_as_plain_text(bolt):
    bolt.alert()
    bolt.slack.fail_next("response_url", error="invalid_blocks")
    command(bolt, "queue")
    calls = bolt.slack.wait_for("response_url", count=2)
    assert calls[0].args["blocks"] and "blocks" not in calls[1].args
    assert calls[1].args["text"] == calls[0].args["text"]
    assert calls[1].args["text"].startswith("*Unclaimed urgent mentions (1)*\n• *80*")


def test_an_answer_whose_response_url_is_gone_comes_as_an_ephemeral(bolt):
    bolt.slack.fail_next("response_url", status=404, error="expired_url")
    command(bolt, "help")
    [note] = bolt.ephemeral_to("U0ALICE")
    assert note.startswith("*/mentions* shows what needs a human")
    assert len(bolt.slack.calls_to("response_url")) == 1  # a gone URL is not tried again


def test_status_still_answers_when_a_source_detail_fails(bolt, monkeypatch):
    import handlers.commands

    def broken(settings, store):
        raise RuntimeError("boom")

    monkeypatch.setattr(handlers.commands, "status_extras", broken)
    command(bolt, "status")
    answer = bolt.slack.wait_for("response_url")[0].args
    assert answer["text"].startswith("*Sources*")


def test_a_failing_subcommand_answers_kindly(bolt, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(bolt.store, "claimed_by", broken)
    command(bolt, "mine")
    assert bolt.slack.wait_for("response_url")[0].args == {
        "response_type": "ephemeral",
        "text": "Sorry, that didn't work on our side. Please try again in a moment.",
    }


def test_an_oncall_change_that_saved_says_so_even_if_the_rota_fails_to_show(bolt, monkeypatch):
    from bot import oncall

    def broken(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(oncall, "load", broken)
    command(bolt, "oncall <@U0DAVE|dave> for 8h", user="U0MANAGER")
    text = bolt.slack.wait_for("response_url")[0].args["text"]
    assert text.startswith("Done: <@U0DAVE> is on call until ")
    assert text.endswith("I couldn't show the rota just now: `/mentions oncall` shows it.")
    assert [e["action"] for e in bolt.store.events()] == ["oncall_override"]
