"""The triage workflow: its states, the moves it allows, and the states whose deadlines go
into everyone's calendar.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import (
    CallReview,
    FundingCall,
    TriageState,
)

log = logging.getLogger(__name__)

__all__ = [
    "CALENDAR_STATES",
    "TRANSITIONS",
    "S",
    "allowed_states",
    "current_state",
    "get_review",
]


S = TriageState


# Where a call may go from each state. Going back is allowed where people correct a decision
# (a dismissed call can be taken up again); a submitted application can only end.
TRANSITIONS: dict[TriageState, frozenset[TriageState]] = {
    S.NEW: frozenset({S.INTERESTED, S.PREPARING, S.DISMISSED}),
    S.INTERESTED: frozenset({S.NEW, S.PREPARING, S.DISMISSED}),
    S.PREPARING: frozenset({S.INTERESTED, S.SUBMITTED, S.WITHDRAWN, S.DISMISSED}),
    S.SUBMITTED: frozenset({S.AWARDED, S.NOT_FUNDED, S.WITHDRAWN}),
    S.AWARDED: frozenset({S.WITHDRAWN}),
    S.NOT_FUNDED: frozenset({S.INTERESTED}),
    S.WITHDRAWN: frozenset({S.INTERESTED, S.PREPARING}),
    S.DISMISSED: frozenset({S.NEW, S.INTERESTED}),
}


# States whose deadlines go into the calendar of everyone, watched or not.
CALENDAR_STATES = frozenset({S.INTERESTED, S.PREPARING})


def get_review(session: Session, call: FundingCall) -> CallReview | None:
    return session.scalar(select(CallReview).where(CallReview.call_id == call.id))


def current_state(session: Session, call: FundingCall) -> TriageState:
    review = get_review(session, call)
    return review.state if review is not None else TriageState.NEW


def allowed_states(state: TriageState) -> list[TriageState]:
    """The states a call in ``state`` may move to, in the order of the workflow."""
    return [s for s in TriageState if s in TRANSITIONS[state]]
