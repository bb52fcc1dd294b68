"""Every action and callback id, shared by the Block Kit builder and the listeners."""

CLAIM = "mention_claim"
UNCLAIM = "mention_unclaim"
RESOLVE = "mention_resolve"
DRAFT = "mention_draft"
ESCALATE = "mention_escalate"
OPEN_POST = "mention_open_post"  # a link button: Slack still sends an action, which we ack

ALERT_EVENT_TYPE = "mentionops_alert"  # message metadata on every alert (outbox reconcile)
NOTICE_EVENT_TYPE = "mentionops_notice"
