"""The HTTP fakes in tests/fakes answer real clients over loopback like the real services do."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from tests.fakes.hn import FakeHN
from tests.fakes.slack import FakeSlack

FIXTURE = Path(__file__).parent / "fixtures" / "hn_search_by_date.json"

CARD = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Urgent* mention"}},
    {
        "type": "actions",
        "block_id": "triage",
        "elements": [
            {
                "type": "button",
                "action_id": "claim",
                "text": {"type": "plain_text", "text": "Claim"},
                "value": "42",
            }
        ],
    },
]
METADATA = {"event_type": "mentionops_alert", "event_payload": {"mention_id": 42}}


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack):
    return WebClient(token="xoxb-test", base_url=slack.base_url)


@pytest.fixture
def hn():
    with FakeHN() as fake:
        yield fake


# ------------------------------------------------------------------------- Slack


def test_post_update_and_history_with_metadata(slack, client):
    posted = client.chat_postMessage(
        channel="C0ALERTS", text="Urgent mention", blocks=CARD, metadata=METADATA
    )
    ts = posted["ts"]
    assert posted["channel"] == "C0ALERTS"
    assert posted["message"] == {
        "type": "message",
        "text": "Urgent mention",
        "user": "U0BOT",
        "bot_id": "B0BOT",
        "app_id": "A0APP",
        "team": "T0TEAM",
        "blocks": CARD,
        "metadata": METADATA,
        "ts": ts,
    }

    claimed = [{"type": "section", "text": {"type": "mrkdwn", "text": "Claimed by <@U0ALICE>"}}]
    updated = client.chat_update(channel="C0ALERTS", ts=ts, text="Claimed", blocks=claimed)
    assert (updated["ok"], updated["channel"], updated["ts"], updated["text"]) == (
        True,
        "C0ALERTS",
        ts,
        "Claimed",
    )
    second = client.chat_postMessage(channel="C0ALERTS", text="second")["ts"]
    assert second > ts

    history = client.conversations_history(channel="C0ALERTS", include_all_metadata=True)
    assert [(m["ts"], m["text"], m.get("metadata")) for m in history["messages"]] == [
        (second, "second", None),
        (ts, "Claimed", METADATA),
    ]
    assert history["messages"][1]["blocks"] == claimed
    plain = client.conversations_history(channel="C0ALERTS")
    assert ["metadata" in m for m in plain["messages"]] == [False, False]

    assert [c.method for c in slack.calls] == [
        "chat.postMessage",
        "chat.update",
        "chat.postMessage",
        "conversations.history",
        "conversations.history",
    ]
    assert slack.calls_to("conversations.history")[0].flag("include_all_metadata") is True
    assert slack.errors == []


def test_history_paging_threads_and_permalinks(slack, client):
    tss = [client.chat_postMessage(channel="C1", text=f"m{i}")["ts"] for i in range(3)]
    reply = client.chat_postMessage(channel="C1", text="note", thread_ts=tss[0])["ts"]

    first = client.conversations_history(channel="C1", limit=2)
    assert ([m["text"] for m in first["messages"]], first["has_more"]) == (["m2", "m1"], True)
    rest = client.conversations_history(
        channel="C1", limit=2, cursor=first["response_metadata"]["next_cursor"]
    )
    assert ([m["text"] for m in rest["messages"]], rest["has_more"]) == (["m0"], False)
    assert [
        m["text"] for m in client.conversations_history(channel="C1", oldest=tss[0])["messages"]
    ] == [
        "m2",
        "m1",
    ]

    assert [m["text"] for m in slack.thread("C1", tss[0])] == ["m0", "note"]
    assert [
        m["text"] for m in client.conversations_replies(channel="C1", ts=tss[0])["messages"]
    ] == [
        "m0",
        "note",
    ]
    assert [m["text"] for m in slack.messages("C1")] == ["m0", "m1", "m2"]
    link = client.chat_getPermalink(channel="C1", message_ts=reply)["permalink"]
    assert link == (
        f"https://acme.slack.com/archives/C1/p{reply.replace('.', '')}?thread_ts={tss[0]}&cid=C1"
    )


def test_form_encoded_blocks_are_decoded_and_validated(slack, client):
    client.api_call(
        "chat.postMessage",
        params={"channel": "C1", "text": "hi", "blocks": json.dumps(CARD), "unfurl_links": "0"},
    )
    (call,) = slack.calls_to("chat.postMessage")
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert (call.args["blocks"], call.flag("unfurl_links")) == (CARD, False)
    assert slack.messages("C1")[0]["blocks"] == CARD


def test_rate_limit_then_success_is_retried(slack):
    client = WebClient(
        token="xoxb-test",
        base_url=slack.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack.fail_next("chat.postMessage", status=429, retry_after=0)

    assert client.chat_postMessage(channel="C1", text="hi")["ok"] is True
    assert [(c.status, c.failed, c.injected) for c in slack.calls_to("chat.postMessage")] == [
        (429, True, True),
        (200, False, False),
    ]
    assert slack.calls[0].response == {"ok": False, "error": "ratelimited"}
    assert [m["text"] for m in slack.messages("C1")] == ["hi"]


def test_injected_server_error_and_api_error(slack, client):
    slack.fail_next("chat.postMessage", status=500)
    slack.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError) as server_error:
        client.chat_postMessage(channel="C1", text="hi")
    with pytest.raises(SlackApiError) as api_error:
        client.chat_postMessage(channel="C1", text="hi")
    assert server_error.value.response.status_code == 500
    assert api_error.value.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C1", text="hi")["ok"] is True
    assert len(slack.calls_to("chat.postMessage", ok=True)) == 1
    assert slack.messages("C1")[0]["text"] == "hi"


def test_section_over_3000_chars_is_invalid_blocks(slack, client):
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="C1", text="hi", blocks=too_long)
    assert error.value.response["error"] == "invalid_blocks"
    assert len(slack.errors) == 1
    assert "3000" in slack.errors[0]
    assert slack.messages("C1") == []


def test_more_than_50_blocks_is_invalid_blocks(slack, client):
    divider = {"type": "divider"}
    assert client.chat_postMessage(channel="C1", text="ok", blocks=[divider] * 50)["ok"]
    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="C1", text="too many", blocks=[divider] * 51)
    assert error.value.response["error"] == "invalid_blocks"
    assert slack.errors == ["chat.postMessage: invalid_blocks: 51 blocks, at most 50 in a message"]


def test_wrong_token_is_invalid_auth(slack):
    with pytest.raises(SlackApiError) as error:
        WebClient(token="xoxb-wrong", base_url=slack.base_url).auth_test()
    assert error.value.response.data == {"ok": False, "error": "invalid_auth"}
    assert WebClient(token="xoxb-test", base_url=slack.base_url).auth_test()["user_id"] == "U0BOT"


def test_users_views_ephemerals_and_response_url(slack, client):
    slack.add_user("U0ALICE", name="alice", real_name="Alice Smith")
    user = client.users_info(user="U0ALICE")["user"]
    assert (user["name"], user["real_name"], user["profile"]["first_name"]) == (
        "alice",
        "Alice Smith",
        "Alice",
    )
    assert client.conversations_open(users="U0ALICE")["channel"] == {"id": "DU0ALICE"}

    view = {
        "type": "modal",
        "callback_id": "draft",
        "title": {"type": "plain_text", "text": "Draft reply"},
        "blocks": CARD[:1],
    }
    opened = client.views_open(trigger_id="123.456", view=view)["view"]
    assert (opened["id"], opened["callback_id"], opened["blocks"]) == (
        slack.views()[0]["id"],
        "draft",
        CARD[:1],
    )

    assert client.chat_postEphemeral(channel="C1", user="U0ALICE", text="Already claimed")["ok"]
    assert [(e["user"], e["text"]) for e in slack.ephemerals("C1")] == [
        ("U0ALICE", "Already claimed")
    ]

    response = WebhookClient(slack.response_url("abc")).send(text="done", replace_original=True)
    assert response.status_code == 200
    (call,) = slack.wait_for("response_url")
    assert (call.path, call.args) == (
        "/response_url/abc",
        {"text": "done", "replace_original": True},
    )
    assert slack.errors == []


def test_wait_for_names_the_calls_seen(slack, client):
    client.auth_test()
    with pytest.raises(AssertionError, match=r"chat.postMessage.*\['auth.test'\]"):
        slack.wait_for("chat.postMessage", timeout=0.05)


def test_delay_and_hang_hold_answers(slack, client):
    url = slack.base_url + "auth.test"
    auth = {"Authorization": "Bearer xoxb-test"}
    slack.delay("auth.test", 5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url, headers=auth, timeout=0.1)
    slack.delay("auth.test", 0)
    slack.hang(5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url, headers=auth, timeout=0.1)
    slack.hang(0)
    assert client.auth_test()["user_id"] == "U0BOT"
    assert slack.paths() == ["/api/auth.test"] * 3
    assert slack.errors == []


# ---------------------------------------------------------------------------- HN


def test_hn_query_numeric_filters_and_paging(hn):
    for i in range(5):
        hn.add_hit(
            object_id=100 + i,
            author="carol",
            created_at_i=1_764_140_000 + i,
            comment_text=f"My <i>Acme</i> laptop #{i} broke",
            story_id=99,
            story_title="Ask HN",
            parent_id=99,
        )
    hn.add_hit(object_id=200, title="Unrelated", created_at_i=1_764_140_010)

    params = {
        "query": "acme",
        "tags": "(story,comment)",
        "numericFilters": "created_at_i>1764140000,created_at_i<1764140004",
        "hitsPerPage": "2",
    }
    url = hn.base_url + "/search_by_date"
    first = httpx.get(url, params=params).json()
    second = httpx.get(url, params={**params, "page": "1"}).json()

    assert [h["objectID"] for h in first["hits"]] == ["103", "102"]
    assert [h["objectID"] for h in second["hits"]] == ["101"]
    assert {k: first[k] for k in ("nbHits", "page", "nbPages", "hitsPerPage", "query")} == {
        "nbHits": 3,
        "page": 0,
        "nbPages": 2,
        "hitsPerPage": 2,
        "query": "acme",
    }
    assert first["hits"][0] == {
        "created_at": "2025-11-26T06:53:23.000Z",
        "title": None,
        "url": None,
        "author": "carol",
        "points": None,
        "story_text": None,
        "comment_text": "My <i>Acme</i> laptop #3 broke",
        "num_comments": None,
        "story_id": 99,
        "story_title": "Ask HN",
        "story_url": None,
        "parent_id": 99,
        "created_at_i": 1_764_140_003,
        "_tags": ["comment", "author_carol", "story_99"],
        "objectID": "103",
        "_highlightResult": {
            "author": {"value": "carol", "matchLevel": "none", "matchedWords": []},
            "comment_text": {
                "value": "My <i><em>Acme</em></i> laptop #3 broke",
                "matchLevel": "full",
                "fullyHighlighted": False,
                "matchedWords": ["acme"],
            },
            "story_title": {"value": "Ask HN", "matchLevel": "none", "matchedWords": []},
        },
    }
    assert hn.requests == [params, {**params, "page": "1"}]


def test_hn_injected_failures(hn):
    hn.add_hit(title="Acme", created_at_i=1_764_140_000)
    url = hn.base_url + "/search_by_date"
    hn.fail_next(status=500)
    hn.fail_next(status=429)
    hn.fail_next(body="not json{")

    assert httpx.get(url).status_code == 500
    limited = httpx.get(url)
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "1")
    malformed = httpx.get(url)
    assert (malformed.status_code, malformed.text) == (200, "not json{")
    assert httpx.get(url).json()["nbHits"] == 1

    hn.hang(5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, timeout=0.1)
    hn.hang(0)
    assert httpx.get(url).status_code == 200
    assert len(hn.requests) == 6
    assert hn.errors == []


def test_hn_fixture_round_trips(hn):
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    hn.load_fixture(FIXTURE)

    served = httpx.get(hn.base_url + "/search_by_date", params={"tags": "story"}).json()
    assert [h["objectID"] for h in served["hits"]] == ["15353234", "15353081"]
    everything = httpx.get(hn.base_url + "/search_by_date").json()["hits"]
    assert [list(h) for h in everything] == [list(h) for h in fixture["hits"]]
    strip = [{k: v for k, v in h.items() if k != "_highlightResult"} for h in everything]
    assert strip == [
        {k: v for k, v in h.items() if k != "_highlightResult"} for h in fixture["hits"]
    ]
    assert set(served) >= set(fixture)
