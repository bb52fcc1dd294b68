"""The alert's whole life in Slack (issue 5): Draft reply, Escalate, Reassign, Not urgent,
Resolve with an outcome, concurrent actions, archived channels. Signed requests dispatched
to the Bolt app; its WebClient talks to the fake Slack over real HTTP."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from types import SimpleNamespace

import pytest

from bot import blocks, ids
from bot.models import Mention, Score
from tests.support import (
    ALERT_CHANNEL,
    BoltApp,
    block_action,
    bolt_app,
    form_body,
    wait_until,
)


class RecordingEscalator:
    """Stands in for bot.escalation.Escalator: records what the modal asked for."""

    def __init__(self):
        self.calls = []

    def check(self, mention_id, level, *, severity="SEV2"):
        return SimpleNamespace(ok=True, reason=None, mention={"channel": ALERT_CHANNEL}, text="")

    def escalate(self, mention_id, *, by, level=1, severity="SEV2", note=None):
        self.calls.append(
            {"mention_id": mention_id, "by": by, "level": level, "severity": severity, "note": note}
        )
        return SimpleNamespace(ok=True, text=f"Escalated (L{level}, {severity}).")


class World(BoltApp):
    escalator: RecordingEscalator

    def alert(
        self, text="Acme charged me twice!", *, source="x", author="dana", category="billing"
    ):
        mention = Mention(
            source=source,
            external_id=f"18610{time.monotonic_ns() % 10**12}",
            text=text,
            author=author,
            author_name="Dana",
            followers=12,
            url=f"https://x.com/{author}/status/1861",
            created_at=datetime.now(UTC) - timedelta(minutes=3),
        )
        score = Score(80, True, category, -0.6, ["money: 'charged twice'"])
        saved = self.store.save_batch(source, [(mention, score)], alert_channel=ALERT_CHANNEL)
        assert self.poster.flush() == 1
        return self.store.mention(saved.new_ids[0])

    def dispatch(self, body: str, content_type: str | None = None):
        return self.request(body, content_type)

    def click(self, action_id, m, user, **extra):
        payload = block_action(action_id, str(m["id"]), user=user, message_ts=m["ts"])
        payload["actions"][0].update(extra)
        return self.dispatch(form_body(payload))

    def pick_user(self, m, user, target):
        payload = block_action(ids.REASSIGN, str(m["id"]), user=user, message_ts=m["ts"])
        action = payload["actions"][0]
        del action["value"]
        action.update(type="users_select", selected_user=target, action_id=ids.REASSIGN)
        return self.dispatch(form_body(payload))

    def menu(self, m, user, value):
        payload = block_action(ids.MORE, str(m["id"]), user=user, message_ts=m["ts"])
        action = payload["actions"][0]
        del action["value"]
        action.update(
            type="overflow",
            selected_option={"text": {"type": "plain_text", "text": "x"}, "value": value},
        )
        return self.dispatch(form_body(payload))

    def submit(self, view: dict, user: str, values: dict):
        payload = {
            "type": "view_submission",
            "team": {"id": "T0TEAM", "domain": "acme"},
            "user": {
                "id": user,
                "username": user.lower(),
                "name": user.lower(),
                "team_id": "T0TEAM",
            },
            "api_app_id": "A0MENTIONOPS",
            "token": "legacy",
            "trigger_id": "1.2.3",
            "view": {
                **view,
                "id": "V0MODAL",
                "team_id": "T0TEAM",
                "state": {"values": values},
                "hash": "1.abc",
                "app_id": "A0MENTIONOPS",
                "bot_id": "B0BOT",
            },
            "response_urls": [],
            "is_enterprise_install": False,
        }
        return self.dispatch(form_body(payload))

    def card(self, m) -> str:
        return json.dumps(self.slack.message(ALERT_CHANNEL, m["ts"])["blocks"], ensure_ascii=False)

    def ephemerals(self, user, count=1):
        calls = self.slack.wait_for("chat.postEphemeral", count=count)
        return [c.args["text"] for c in calls if c.args["user"] == user]


@pytest.fixture
def world(tmp_path, monkeypatch):
    escalator = RecordingEscalator()
    with bolt_app(tmp_path, monkeypatch, harness=World, escalator=escalator) as world:
        world.slack.add_user("U0ALICE", name="alice", real_name="Alice Smith")
        world.escalator = escalator
        yield world


def draft_values(text: str) -> dict:
    return {"draft": {"text": {"type": "plain_text_input", "value": text}}}


def test_draft_reply_prefilled_saved_versioned_and_linked(world):
    m = world.alert()
    assert world.click(ids.DRAFT, m, "U0ALICE").status == 200
    opened = world.slack.wait_for("views.open")[0]
    view = opened.args["view"]
    assert (view["callback_id"], view["private_metadata"]) == (ids.DRAFT_VIEW, str(m["id"]))
    draft = view["blocks"][1]["element"]["initial_value"]
    assert draft == (
        "Hi @dana, I'm sorry about the charge, that shouldn't happen. Please DM us your order "
        "number and the email on the account and we'll sort out the refund today. – Alice"
    )
    assert "X allows 280 characters" in view["blocks"][1]["hint"]["text"]

    response = world.submit(view, "U0ALICE", draft_values(draft))
    assert (response.status, response.body) == (200, "")
    wait_until(lambda: "Open reply" in world.card(m))
    reply = world.slack.thread(ALERT_CHANNEL, m["ts"])[1]["text"]
    assert reply.startswith("✍️ <@U0ALICE> saved reply draft v1:\n>Hi @dana, I'm sorry")
    card = world.slack.message(ALERT_CHANNEL, m["ts"])["blocks"]
    link = next(e["url"] for e in card[-1]["elements"] if e["action_id"] == ids.OPEN_REPLY)
    assert link.startswith(
        f"https://x.com/intent/post?in_reply_to={m['external_id']}&text=Hi%20%40dana"
    )

    # Editing keeps the history: the modal opens on the last version, saving makes v2.
    world.slack.reset_calls()
    world.click(ids.DRAFT, m, "U0ALICE")
    view = world.slack.wait_for("views.open")[0].args["view"]
    assert view["blocks"][1]["element"]["initial_value"] == draft
    world.submit(view, "U0ALICE", draft_values("Hi @dana, DM us your order number? – Alice"))
    wait_until(lambda: len(world.store.drafts(m["id"])) == 2)
    assert [(d["version"], d["author"]) for d in world.store.drafts(m["id"])] == [
        (1, "U0ALICE"),
        (2, "U0ALICE"),
    ]


def test_draft_over_the_platform_limit_is_refused_inline(world):
    m = world.alert()
    view = blocks.draft_modal(m, "", limit=280, platform="X", version=0)
    response = world.submit(view, "U0ALICE", draft_values("x" * 300))
    assert response.status == 200
    assert json.loads(response.body) == {
        "response_action": "errors",
        "errors": {"draft": "X allows 280 characters; this draft has 300. Trim 20 more."},
    }
    empty = world.submit(view, "U0ALICE", draft_values("   "))
    assert json.loads(empty.body)["errors"] == {"draft": "Write a reply first, or press Cancel."}
    time.sleep(0.2)
    assert world.store.drafts(m["id"]) == []


def test_untrusted_text_stays_escaped_in_modal_and_thread(world):
    m = world.alert("<!channel> acme <@U0CEO> refund", author="evil<!here>")
    world.click(ids.DRAFT, m, "U0ALICE")
    view = world.slack.wait_for("views.open")[0].args["view"]
    assert "<!channel>" not in json.dumps(view["blocks"][0])
    world.submit(view, "U0ALICE", draft_values("<!channel> hi <@U0CEO>"))
    wait_until(lambda: len(world.slack.thread(ALERT_CHANNEL, m["ts"])) == 2)
    line = world.slack.thread(ALERT_CHANNEL, m["ts"])[1]["text"]
    assert "<!channel>" not in line and "<@U0CEO>" not in line
    assert "&lt;!channel&gt; hi &lt;@U0CEO&gt;" in line


def test_escalate_modal_hands_severity_level_and_note_to_the_escalator(world):
    m = world.alert()
    world.click(ids.ESCALATE, m, "U0BOB")
    view = world.slack.wait_for("views.open")[0].args["view"]
    assert (view["callback_id"], view["private_metadata"]) == (ids.ESCALATE_VIEW, str(m["id"]))
    values = {
        "severity": {"value": {"type": "static_select", "selected_option": {"value": "SEV1"}}},
        "level": {"value": {"type": "static_select", "selected_option": {"value": "2"}}},
        "note": {"value": {"type": "plain_text_input", "value": "Press is asking"}},
    }
    assert world.submit(view, "U0BOB", values).status == 200
    assert world.ephemerals("U0BOB") == ["Escalated (L2, SEV1)."]
    assert world.escalator.calls == [
        {
            "mention_id": m["id"],
            "by": "U0BOB",
            "level": 2,
            "severity": "SEV1",
            "note": "Press is asking",
        }
    ]


@pytest.mark.parametrize(
    ("actor", "ok"), [("U0ALICE", True), ("U0BOB", False), ("U0MANAGER", True)]
)
def test_reassign_permissions(world, actor, ok):
    m = world.alert()
    assert world.store.claim(m["id"], "U0ALICE").ok
    world.pick_user(m, actor, "U0CAROL")
    if ok:
        wait_until(lambda: world.store.mention(m["id"])["claimed_by"] == "U0CAROL")
        wait_until(lambda: len(world.slack.thread(ALERT_CHANNEL, m["ts"])) == 2)
        assert world.slack.thread(ALERT_CHANNEL, m["ts"])[1]["text"] == (
            f"🔁 <@{actor}> handed this to <@U0CAROL>"
        )
        wait_until(lambda: "Claimed by <@U0CAROL>" in world.card(m))
    else:
        assert world.ephemerals(actor) == [
            "Only <@U0ALICE>, who claimed it, or a manager can do that."
        ]
        assert world.store.mention(m["id"])["claimed_by"] == "U0ALICE"
        assert world.store.events(m["id"])[-1]["action"] == "reassign_refused"


def test_not_urgent_collapses_the_card_and_keeps_the_reason(world):
    m = world.alert()
    world.menu(m, "U0BOB", f"ignore:{m['id']}:spam")
    wait_until(lambda: world.store.mention(m["id"])["status"] == "ignored")
    wait_until(lambda: len(world.slack.message(ALERT_CHANNEL, m["ts"])["blocks"]) == 1)
    card = world.slack.message(ALERT_CHANNEL, m["ts"])["blocks"]
    assert card[0]["type"] == "context"
    assert card[0]["elements"][0]["text"].startswith(
        "💤 Not urgent: spam or a bot · marked by <@U0BOB> · ✖️ X · @dana: Acme charged me twice!"
    )
    event = world.store.events(m["id"])[-1]
    assert (event["actor"], event["action"], event["detail"]) == (
        "U0BOB",
        "ignore",
        {"reason": "spam"},
    )


def test_resolve_with_an_outcome(world):
    m = world.alert()
    world.store.claim(m["id"], "U0ALICE")
    world.menu(m, "U0ALICE", f"resolve:{m['id']}:moved_to_dm")
    wait_until(lambda: world.store.mention(m["id"])["status"] == "resolved")
    assert world.store.mention(m["id"])["outcome"] == "moved_to_dm"
    wait_until(lambda: "moved to DM" in world.card(m))
    assert "✅ Resolved by <@U0ALICE> in 3 min · moved to DM" in world.card(m)
    wait_until(lambda: len(world.slack.thread(ALERT_CHANNEL, m["ts"])) == 2)
    assert world.slack.thread(ALERT_CHANNEL, m["ts"])[1]["text"] == (
        "✅ <@U0ALICE> resolved this (moved to DM)"
    )


def test_a_forged_menu_value_changes_nothing(world):
    m = world.alert()
    world.menu(m, "U0BOB", f"delete:{m['id']}:all")
    assert world.ephemerals("U0BOB") == [
        "I can't find that mention any more. It may have been removed."
    ]
    assert world.store.mention(m["id"])["status"] == "posted"


def race(*actions) -> None:
    """Run the actions at the same instant, one thread each."""
    barrier = threading.Barrier(len(actions))

    def go(action):
        barrier.wait()
        action()

    with ThreadPoolExecutor(len(actions)) as pool:
        list(pool.map(go, actions))


def test_concurrent_claim_resolve_and_ignore_leave_a_truthful_card(world):
    for _ in range(5):
        m = world.alert()
        race(
            partial(world.click, ids.CLAIM, m, "U0ALICE"),
            partial(world.click, ids.RESOLVE, m, "U0MANAGER"),
            partial(world.menu, m, "U0BOB", f"ignore:{m['id']}:not_a_complaint"),
        )
        time.sleep(0.5)  # let every lazy listener finish
        row = world.store.mention(m["id"])
        expected = blocks.alert_blocks(row, datetime.now(UTC), sla_minutes=20)
        shown = world.slack.message(ALERT_CHANNEL, m["ts"])["blocks"]
        state = [b for b in shown if b.get("block_id") == "alert_state"]
        want = [b for b in expected if b.get("block_id") == "alert_state"]
        assert [s["elements"][0]["text"].split(" · ")[0] for s in state] == [
            w["elements"][0]["text"].split(" · ")[0] for w in want
        ], row["status"]


def test_archived_channel_action_saved_and_user_told_by_dm(world):
    m = world.alert()
    world.slack.archived.add(ALERT_CHANNEL)
    world.click(ids.CLAIM, m, "U0ALICE")
    wait_until(lambda: world.slack.messages("U0ALICE"))
    assert world.store.mention(m["id"])["claimed_by"] == "U0ALICE"
    assert world.slack.messages("U0ALICE")[0]["text"] == (
        "Done: the change is saved, but I couldn't update the alert message "
        "(Slack said `is_archived`; it may have been deleted)."
    )


def test_deleted_source_post_disables_draft_reply(world):
    m = world.alert()
    assert world.store.mark_source_deleted(m["id"])
    assert world.poster.refresh(m["id"]) is None
    card = world.slack.message(ALERT_CHANNEL, m["ts"])["blocks"]
    assert "🗑️ The original post was deleted" in json.dumps(card, ensure_ascii=False)
    actions = [e["action_id"] for e in card[-1]["elements"]]
    assert ids.DRAFT not in actions and ids.OPEN_POST not in actions
    world.click(ids.DRAFT, m, "U0ALICE")
    assert world.ephemerals("U0ALICE") == [
        "The customer's post was deleted, so there is nothing to reply to."
    ]
    assert world.slack.calls_to("views.open") == []


def test_escalate_from_the_card_pages_on_call_for_real(world):
    """The modal wired to the real Escalator: a DM to whoever is on call, a post in the
    escalation channel naming them, a thread line, and the card says so."""
    from bot.escalation import Escalator

    escalator = Escalator(
        world.poster.settings, world.store, world.poster.client, poster=world.poster
    )
    world.escalator.escalate = escalator.escalate
    world.escalator.check = escalator.check
    m = world.alert()
    world.click(ids.ESCALATE, m, "U0BOB")
    view = world.slack.wait_for("views.open")[0].args["view"]
    values = {
        "severity": {"value": {"type": "static_select", "selected_option": {"value": "SEV2"}}},
        "level": {"value": {"type": "static_select", "selected_option": {"value": "1"}}},
        "note": {"value": {"type": "plain_text_input", "value": None}},
    }
    world.submit(view, "U0BOB", values)
    wait_until(lambda: world.store.mention(m["id"])["escalation_level"] == 1)
    row = world.store.mention(m["id"])
    assert row["escalated_to"] == "U0ALICE"  # rotation[0] in the test config
    wait_until(lambda: world.slack.messages("U0ALICE"))
    assert "Acme charged me twice!" in json.dumps(
        world.slack.messages("U0ALICE"), ensure_ascii=False
    )
    wait_until(lambda: world.slack.messages("C0ONCALL"))
    assert "<@U0ALICE>" in world.slack.messages("C0ONCALL")[0]["text"]
    wait_until(lambda: "Escalated to <@U0ALICE> (L1)" in world.card(m))


def test_concurrent_claim_escalate_and_resolve_leave_a_card_that_matches_the_database(world):
    """Issue 5: Claim, Escalate (through the modal, to the real Escalator) and Resolve on one
    alert, in every order and overlapping (each fired 20 ms after the previous, long before it
    finishes); whatever lands, the card ends as the database says."""
    from bot.escalation import Escalator

    escalator = Escalator(
        world.poster.settings, world.store, world.poster.client, poster=world.poster
    )
    world.escalator.escalate = escalator.escalate
    world.escalator.check = escalator.check
    values = {
        "severity": {"value": {"type": "static_select", "selected_option": {"value": "SEV2"}}},
        "level": {"value": {"type": "static_select", "selected_option": {"value": "1"}}},
        "note": {"value": {"type": "plain_text_input", "value": None}},
    }

    def state(card):
        [block] = [b for b in card if b.get("block_id") == "alert_state"]
        return re.sub(r"\d+", "#", block["elements"][0]["text"])

    outcomes = set()
    for order in itertools.permutations(["claim", "escalate", "resolve"]):
        m = world.alert()
        actions = {
            "claim": partial(world.click, ids.CLAIM, m, "U0ALICE"),
            "escalate": partial(world.submit, blocks.escalate_modal(m), "U0BOB", values),
            # The owner's Resolve only counts if their Claim landed first.
            "resolve": partial(world.click, ids.RESOLVE, m, "U0ALICE"),
        }
        for name in order:
            actions[name]()  # acks at once; the work runs on Bolt's pool, overlapping
            time.sleep(0.02)
        time.sleep(0.6)  # let every lazy listener finish
        row = world.store.mention(m["id"])
        outcomes.add((row["status"], row["escalation_level"]))
        expected = blocks.alert_blocks(row, datetime.now(UTC), sla_minutes=20)
        shown = world.slack.message(ALERT_CHANNEL, m["ts"])["blocks"]
        assert state(shown) == state(expected), (order, row["status"])
        assert [b["type"] for b in shown] == [b["type"] for b in expected]
    # The orders reach different ends, and the card showed each truthfully.
    assert {("claimed", 1), ("resolved", 1), ("posted", 1)} & outcomes
    assert len(outcomes) >= 2, outcomes


# --- the Escalate form refuses inline, in the ack --------------------------------------------


def escalate_values(level: str = "1", severity: str = "SEV2") -> dict:
    return {
        "severity": {"value": {"type": "static_select", "selected_option": {"value": severity}}},
        "level": {"value": {"type": "static_select", "selected_option": {"value": level}}},
        "note": {"value": {"type": "plain_text_input", "value": None}},
    }


def real_escalator(world, settings=None):
    from bot.escalation import Escalator

    escalator = Escalator(
        settings or world.poster.settings, world.store, world.poster.client, poster=world.poster
    )
    world.escalator.escalate = escalator.escalate
    world.escalator.check = escalator.check
    return escalator


def escalate_traffic(world) -> list[str]:
    """Every Slack call an escalation (or a refusal sent after the form closed) would make."""
    return [
        c.method
        for c in world.slack.calls
        if c.method in ("chat.postMessage", "chat.postEphemeral", "chat.update")
    ]


def test_escalate_form_refuses_inline_and_the_lazy_follow_up_does_nothing(world):
    real_escalator(world)
    m = world.alert()
    view = blocks.escalate_modal(m)
    world.submit(view, "U0BOB", escalate_values("1"))
    wait_until(lambda: world.store.mention(m["id"])["escalation_level"] == 1)
    wait_until(lambda: world.ephemerals("U0BOB") == ["Escalated to <@U0ALICE> (L1, SEV2)."])
    time.sleep(0.3)
    events, traffic = len(world.store.events(m["id"])), escalate_traffic(world)

    again = world.submit(view, "U0CAROL", escalate_values("1"))
    assert json.loads(again.body) == {
        "response_action": "errors",
        "errors": {
            "level": "Already escalated to on-call (L1) just now. To go further, choose "
            "L2 · the managers."
        },
    }
    world.store.resolve(m["id"], "U0MANAGER", manager=True)
    events += 1
    resolved = world.submit(view, "U0CAROL", escalate_values("2"))
    assert json.loads(resolved.body) == {
        "response_action": "errors",
        "errors": {
            "level": "This one is resolved already, so there's nothing to escalate. Press Cancel."
        },
    }
    time.sleep(0.5)  # the lazy follow-ups ran (Bolt runs them after a refused ack too)
    assert escalate_traffic(world) == traffic  # no ping, no ephemeral, no card edit
    assert len(world.store.events(m["id"])) == events
    assert world.store.mention(m["id"])["escalation_level"] == 1


def test_escalate_form_names_the_block_to_change(world):
    real_escalator(world)
    m = world.alert()
    view = blocks.escalate_modal(m)
    bad_severity = world.submit(view, "U0BOB", escalate_values("1", severity="SEV9"))
    assert json.loads(bad_severity.body) == {
        "response_action": "errors",
        "errors": {"severity": "Choose a severity: SEV1, SEV2 or SEV3."},
    }
    bad_level = world.submit(view, "U0BOB", escalate_values("7"))
    assert json.loads(bad_level.body)["errors"] == {
        "level": "Choose who to alert: L1 (on-call) or L2 (the managers)."
    }
    world.menu(m, "U0BOB", f"ignore:{m['id']}:spam")
    wait_until(lambda: world.store.mention(m["id"])["status"] == "ignored")
    ignored = world.submit(view, "U0BOB", escalate_values("1"))
    assert json.loads(ignored.body)["errors"] == {
        "level": "This one was marked not urgent, so it can't be escalated. If it is urgent "
        "after all, tell on-call directly."
    }
    gone = world.submit({**view, "private_metadata": "424242"}, "U0BOB", escalate_values())
    assert json.loads(gone.body)["errors"] == {
        "level": "I can't find this mention any more. Press Cancel."
    }
    time.sleep(0.4)
    assert world.store.mention(m["id"])["escalation_level"] == 0
    assert world.slack.calls_to("chat.postEphemeral") == []


def test_escalate_form_with_nobody_to_alert_says_what_to_do(world):
    from dataclasses import replace

    settings = world.poster.settings
    nobody = replace(
        settings,
        oncall=replace(settings.oncall, rotation=()),
        slack=replace(settings.slack, managers=()),
    )
    escalator = real_escalator(world, nobody)
    m = world.alert()
    events = world.store.events(m["id"])
    response = world.submit(blocks.escalate_modal(m), "U0BOB", escalate_values("2"))
    assert json.loads(response.body)["errors"] == {
        "level": "Nobody is on call and no managers are set, so there's no one to alert. "
        "Please tell your lead directly, and ask an admin to fill in [oncall] rotation."
    }
    # The escalator is the one rule book: escalate() refuses the same way, and writes nothing.
    refused = escalator.escalate(m["id"], by="U0BOB", level=1)
    assert (refused.ok, refused.reason) == (False, "no_target")
    time.sleep(0.3)
    assert world.store.mention(m["id"])["escalation_level"] == 0
    assert world.store.events(m["id"]) == events
    assert world.slack.calls_to("chat.postEphemeral") == []


def test_escalate_follow_up_tells_the_person_when_it_changed_after_the_form_closed(world):
    """The ack said yes and the form closed; someone resolved it before the follow-up ran:
    the follow-up's own check refuses, and says so (the form can't any more)."""
    from bot.app import Services
    from handlers import views

    real_escalator(world)
    m = world.alert()
    world.store.resolve(m["id"], "U0MANAGER", manager=True)
    body = {
        "user": {"id": "U0BOB"},
        "view": {"private_metadata": str(m["id"]), "state": {"values": escalate_values()}},
    }
    services = Services(
        settings=world.poster.settings,
        store=world.store,
        poster=world.poster,
        escalator=world.escalator,
    )
    views.submit_escalation(body, {"services": services, views.CHECKED: "resolved"})
    assert world.slack.calls_to("chat.postEphemeral") == []  # refused inline: nothing more
    views.submit_escalation(body, {"services": services, views.CHECKED: "ok"})
    assert world.ephemerals("U0BOB") == ["Already resolved by <@U0MANAGER>: nothing to escalate."]
    assert world.store.mention(m["id"])["escalation_level"] == 0
