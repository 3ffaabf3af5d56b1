"""A person's workspace around the inbox: saved filters, internal milestones, the colleagues
a call can be assigned to, and where one was mentioned.

The functions add and flush; the caller commits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.errors import NotFound, ValidationFailed
from tracker.i18n import msg
from tracker.models import (
    FundingCall,
    Mention,
    Milestone,
    SavedFilter,
    User,
)
from tracker.services.inbox.filters import PARAMETERS, parse_filters

log = logging.getLogger(__name__)

__all__ = [
    "MAX_TITLE_LENGTH",
    "add_milestone",
    "assignable_users",
    "delete_milestone",
    "delete_saved_filter",
    "list_saved_filters",
    "mentions_of",
    "milestones",
    "normalise_query",
    "save_filter",
]


MAX_TITLE_LENGTH = 300


def normalise_query(query: str) -> str:
    """The inbox parameters of a query string, validated, without the page number."""
    pairs = dict(parse_qsl(query.lstrip("?"), keep_blank_values=False))
    filters, errors = parse_filters({k: v for k, v in pairs.items() if k in PARAMETERS})
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)
    return urlencode(filters.to_query(page=1))


def list_saved_filters(session: Session, user: User) -> list[SavedFilter]:
    return list(
        session.scalars(
            select(SavedFilter).where(SavedFilter.user_id == user.id).order_by(SavedFilter.name)
        )
    )


def save_filter(
    session: Session, user: User, name: str, query: str, *, now: datetime
) -> SavedFilter:
    """Keep the inbox filter ``query`` under ``name``; a filter of the same name is replaced."""
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed(msg("name the filter"), {"name": msg("name the filter")})
    if len(name) > 200:
        raise ValidationFailed(
            msg("the name may have at most 200 characters"),
            {"name": msg("the name may have at most 200 characters")},
        )
    normalised = normalise_query(query)
    saved = session.scalar(
        select(SavedFilter).where(SavedFilter.user_id == user.id, SavedFilter.name == name)
    )
    if saved is None:
        saved = SavedFilter(user_id=user.id, name=name, query=normalised, created_at=now)
        session.add(saved)
    else:
        saved.query = normalised
    session.flush()
    return saved


def delete_saved_filter(session: Session, user: User, filter_id: int) -> None:
    """Remove one of the user's own saved filters (NotFound for anyone else's)."""
    saved = session.get(SavedFilter, filter_id)
    if saved is None or saved.user_id != user.id:
        raise NotFound(msg("no saved filter %(id)s", id=filter_id))
    session.delete(saved)
    session.flush()


def add_milestone(
    session: Session, call: FundingCall, title: str, due_on: date, *, actor: User, now: datetime
) -> Milestone:
    """An internal date for the call (a draft to the board, a partner meeting)."""
    title = " ".join(title.split())
    if not title:
        raise ValidationFailed(msg("name the milestone"), {"title": msg("name the milestone")})
    if len(title) > MAX_TITLE_LENGTH:
        message = msg("the title may have at most %(count)d characters", count=MAX_TITLE_LENGTH)
        raise ValidationFailed(message, {"title": message})
    milestone = Milestone(
        call_id=call.id, title=title, due_on=due_on, created_by_id=actor.id, created_at=now
    )
    session.add(milestone)
    session.flush()
    return milestone


def delete_milestone(session: Session, milestone_id: int, *, call: FundingCall) -> None:
    milestone = session.get(Milestone, milestone_id)
    if milestone is None or milestone.call_id != call.id:
        raise NotFound(msg("no milestone %(id)s", id=milestone_id))
    session.delete(milestone)
    session.flush()


def milestones(session: Session, call: FundingCall) -> list[Milestone]:
    return list(
        session.scalars(
            select(Milestone).where(Milestone.call_id == call.id).order_by(Milestone.due_on)
        )
    )


def assignable_users(session: Session) -> list[User]:
    """People a call can be given to: active editors and administrators."""
    return [
        u
        for u in session.scalars(select(User).where(User.is_active).order_by(User.display_name))
        if u.role.value in ("editor", "admin")
    ]


def mentions_of(session: Session, user: User, *, limit: int = 20) -> Sequence[Mention]:
    """The latest comments that mention ``user`` (for the digest and the overview)."""
    return list(
        session.scalars(
            select(Mention)
            .where(Mention.user_id == user.id)
            .options(selectinload(Mention.comment))
            .order_by(Mention.created_at.desc())
            .limit(limit)
        )
    )
