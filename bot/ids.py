"""Every action and callback id, shared by the Block Kit builder and the listeners."""

CLAIM = "mention_claim"
UNCLAIM = "mention_unclaim"
RESOLVE = "mention_resolve"
DRAFT = "mention_draft"
ESCALATE = "mention_escalate"
OPEN_POST = "mention_open_post"  # a link button: Slack still sends an action, which we ack
OPEN_REPLY = "mention_open_reply"  # link button to the platform's composer with the draft
REASSIGN = "mention_reassign"  # users_select on a claimed card
MORE = "mention_more"  # overflow menu: resolve with an outcome, not urgent with a reason

DRAFT_VIEW = "draft_reply_view"  # modal callback ids
ESCALATE_VIEW = "escalate_view"

ALERT_EVENT_TYPE = "mentionops_alert"  # message metadata on every alert (outbox reconcile)
NOTICE_EVENT_TYPE = "mentionops_notice"

SHARE_SUMMARY = "summary_share"  # "Share to channel" on an ephemeral /mentions summary
DIGEST_EVENT_TYPE = "mentionops_digest"  # message metadata on each digest (exactly once)
STORM_EVENT_TYPE = "mentionops_storm"  # message metadata on a storm alert (storm id)
