""" "Not relevant" answered from a digest: the signed link's decision recorded as triage and
as a learning example.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.i18n import msg
from tracker.models import (
    CallMatch,
    DecisionSource,
    DigestDismissal,
    DigestSubscription,
    FundingCall,
    MatchDecision,
)
from tracker.services.digests.links import (
    InvalidLink,
    read_not_relevant_token,
)
from tracker.services.digests.subscriptions import subscribed_areas
from tracker.services.strategy.decisions import call_key, record_decision

log = logging.getLogger(__name__)

__all__ = [
    "record_not_relevant",
]


# A "not relevant to me" click, as a decision for the matching engine to learn from: the
# subscriber follows the area the call matched and says the call does not belong there.
NOT_RELEVANT_REASON = "wrong-area"


def record_not_relevant(
    session: Session,
    subscription: DigestSubscription,
    call: FundingCall,
    *,
    focus_area_id: int | None,
    now: datetime,
) -> DigestDismissal:
    """The subscriber says ``call`` is not relevant to them: it leaves their digests, and the
    decision is recorded for the matching engine to learn from. Idempotent."""
    existing = session.scalar(
        select(DigestDismissal).where(
            DigestDismissal.subscription_id == subscription.id,
            DigestDismissal.call_id == call.id,
        )
    )
    if existing is not None:
        return existing
    dismissal = DigestDismissal(
        subscription=subscription,
        call=call,
        user_id=subscription.user_id,
        focus_area_id=focus_area_id,
        created_at=now,
    )
    session.add(dismissal)
    session.flush()
    _record_learning_decisions(session, dismissal, now=now)
    return dismissal


def _record_learning_decisions(
    session: Session, dismissal: DigestDismissal, *, now: datetime
) -> list[MatchDecision]:
    """A "not relevant" decision (source ``digest``) for each area of the subscriber's that
    the call matched, plus the area the link was for. A decision staff made in the review
    workspace or imported from labels is never replaced by a click in a mail."""
    call = dismissal.call
    subscription = dismissal.subscription
    matched = set(
        session.scalars(
            select(CallMatch.focus_area_id).where(
                CallMatch.call_id == call.id, CallMatch.is_match.is_(True)
            )
        )
    )
    slugs = sorted(
        area.slug
        for area in subscribed_areas(session, subscription)
        if area.id in matched or area.id == dismissal.focus_area_id
    )
    existing = {
        decision.area_slug: decision
        for decision in session.scalars(
            select(MatchDecision).where(MatchDecision.call_key == call_key(call))
        )
    }
    decisions = []
    for slug in slugs:
        earlier = existing.get(slug)
        if earlier is not None and earlier.source is not DecisionSource.DIGEST:
            continue
        decisions.append(
            record_decision(
                session,
                call.id,
                slug,
                relevant=False,
                reason=NOT_RELEVANT_REASON,
                actor=subscription.user,
                now=now,
                source=DecisionSource.DIGEST,
            )
        )
    return decisions


def dismissal_target(
    session: Session, settings: Settings, token: str
) -> tuple[DigestSubscription, FundingCall, int | None]:
    """The subscription, call and focus area a "not relevant" link stands for."""
    subscription_id, call_id, focus_area_id = read_not_relevant_token(settings, token)
    subscription = session.get(DigestSubscription, subscription_id)
    call = session.get(FundingCall, call_id)
    if subscription is None or call is None:
        raise InvalidLink(msg("this link is not valid"))
    return subscription, call, focus_area_id
