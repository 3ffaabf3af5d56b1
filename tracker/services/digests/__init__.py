"""Weekly email digests, one module per part of the job:

- ``subscriptions``: who gets a digest, for which focus areas, and unsubscribing;
- ``feedback``: the "not relevant" answers given from a mail;
- ``changes``: what changed about a call (deadline, opening, status, budget), old and new;
- ``content``: what goes into one subscriber's digest (``build_digest``);
- ``delivery``: claiming, sending and recording each digest exactly once, and the preview
  of what a send would produce (``preview_digest``);
- ``follow_up``: unconfirmed deliveries, resending and the recent digests, for admins;
- ``mail``: the digest as a MIME message in the subscriber's language; it reads what
  ``content`` built, and ``content`` knows nothing of mail;
- ``links``: the signed one-click links in it.

The names other layers use are re-exported here.
"""

from tracker.services.digests.changes import FieldChange, changed_calls, changed_fields
from tracker.services.digests.content import (
    DigestContent,
    DigestEntry,
    build_digest,
    iso_week,
    parse_iso_week,
)
from tracker.services.digests.delivery import (
    DigestOutcome,
    delivery_problem,
    preview_digest,
    retry_due_digests,
    send_digest_now,
    send_weekly_digests,
)
from tracker.services.digests.feedback import dismissal_target, record_not_relevant
from tracker.services.digests.follow_up import (
    confirm_delivered,
    recent_digests,
    resend_digest,
    unconfirmed_digests,
)
from tracker.services.digests.links import InvalidLink, read_unsubscribe_token
from tracker.services.digests.subscriptions import (
    active_focus_areas,
    clear_bounce,
    digest_for_week,
    get_digest,
    get_subscription,
    list_subscriptions,
    subscribe,
    subscribe_address,
    subscribe_office,
    subscribed_areas,
    subscription_for_address,
    unsubscribe,
    unsubscribe_by_token,
)

__all__ = [
    "DigestContent",
    "DigestEntry",
    "DigestOutcome",
    "FieldChange",
    "InvalidLink",
    "active_focus_areas",
    "build_digest",
    "changed_calls",
    "changed_fields",
    "clear_bounce",
    "confirm_delivered",
    "delivery_problem",
    "digest_for_week",
    "dismissal_target",
    "get_digest",
    "get_subscription",
    "iso_week",
    "list_subscriptions",
    "parse_iso_week",
    "preview_digest",
    "read_unsubscribe_token",
    "recent_digests",
    "record_not_relevant",
    "resend_digest",
    "retry_due_digests",
    "send_digest_now",
    "send_weekly_digests",
    "subscribe",
    "subscribe_address",
    "subscribe_office",
    "subscribed_areas",
    "subscription_for_address",
    "unconfirmed_digests",
    "unsubscribe",
    "unsubscribe_by_token",
]
