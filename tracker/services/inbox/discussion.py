"""Comments with @mentions, and watching a call.

The functions add and flush; the caller commits.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.errors import ValidationFailed
from tracker.i18n import msg
from tracker.models import (
    Comment,
    FundingCall,
    Mention,
    User,
    Watch,
)

log = logging.getLogger(__name__)

__all__ = [
    "MAX_COMMENT_LENGTH",
    "MENTION_PATTERN",
    "add_comment",
    "is_watching",
    "mention_handles",
    "mention_suggestions",
    "resolve_mentions",
    "unwatch",
    "watch",
    "watchers",
]


MAX_COMMENT_LENGTH = 10000


# @anna or @anna.berg@norrkoping.se: the part before @ of a user's email, or all of it.
MENTION_PATTERN = re.compile(r"(?<![\w.@])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")


def mention_handles(person: User) -> list[str]:
    """What may follow @ to name ``person``: the part of the email before @, the first name,
    and first.last from the name ("Sara Holm": sara, sara.holm)."""
    handles = [person.email.split("@")[0].lower()]
    names = person.display_name.lower().split()
    if names:
        handles.append(names[0])
        if len(names) > 1:
            handles.append(".".join(names))
    return list(dict.fromkeys(handles))


def resolve_mentions(session: Session, body: str) -> list[User]:
    """The active users named in ``body`` as @full-email, @local-part, @first-name or
    @first.last, in order of first mention. A handle that names nobody, or several people
    (two Saras), is left as plain text."""
    handles = list(
        dict.fromkeys(m.group(1).rstrip(".").lower() for m in MENTION_PATTERN.finditer(body))
    )
    if not handles:
        return []
    users = list(session.scalars(select(User).where(User.is_active)))
    by_email = {u.email.lower(): u for u in users}
    by_handle: dict[str, set[int]] = {}
    by_id = {u.id: u for u in users}
    for person in users:
        for handle in mention_handles(person):
            by_handle.setdefault(handle, set()).add(person.id)
    found: list[User] = []
    for handle in handles:
        user = by_email.get(handle)
        if user is None and len(by_handle.get(handle, ())) == 1:
            user = by_id[next(iter(by_handle[handle]))]
        if user is not None and user not in found:
            found.append(user)
    return found


def mention_suggestions(session: Session) -> list[tuple[str, str]]:
    """(handle, name) for the comment box's suggestions: each active person's shortest
    handle that names only them."""
    users = list(session.scalars(select(User).where(User.is_active).order_by(User.display_name)))
    counts: dict[str, int] = {}
    for person in users:
        for handle in mention_handles(person):
            counts[handle] = counts.get(handle, 0) + 1
    suggestions = []
    for person in users:
        unique = [h for h in mention_handles(person) if counts[h] == 1] or [person.email.lower()]
        suggestions.append((min(unique, key=len), person.display_name or person.email))
    return suggestions


def add_comment(
    session: Session, call: FundingCall, body: str, *, author: User, now: datetime
) -> Comment:
    """Add a comment; every @mention of a user is recorded so that they are told."""
    body = body.strip()
    if not body:
        raise ValidationFailed(msg("write a comment"), {"body": msg("write a comment")})
    if len(body) > MAX_COMMENT_LENGTH:
        message = msg("a comment may have at most %(count)d characters", count=MAX_COMMENT_LENGTH)
        raise ValidationFailed(message, {"body": message})
    comment = Comment(call_id=call.id, author_id=author.id, body=body, created_at=now)
    for user in resolve_mentions(session, body):
        comment.mentions.append(Mention(user_id=user.id, created_at=now))
    session.add(comment)
    session.flush()
    return comment


def is_watching(session: Session, call: FundingCall, user: User) -> bool:
    return (
        session.scalar(select(Watch.id).where(Watch.call_id == call.id, Watch.user_id == user.id))
        is not None
    )


def watch(session: Session, call: FundingCall, user: User, *, now: datetime) -> Watch:
    """Follow the call (its deadlines join the user's calendar); watching twice is harmless."""
    existing = session.scalar(
        select(Watch).where(Watch.call_id == call.id, Watch.user_id == user.id)
    )
    if existing is not None:
        return existing
    watch_ = Watch(call_id=call.id, user_id=user.id, created_at=now)
    session.add(watch_)
    session.flush()
    return watch_


def unwatch(session: Session, call: FundingCall, user: User) -> bool:
    """Stop following the call; False when the user was not following it."""
    existing = session.scalar(
        select(Watch).where(Watch.call_id == call.id, Watch.user_id == user.id)
    )
    if existing is None:
        return False
    session.delete(existing)
    session.flush()
    return True


def watchers(session: Session, call: FundingCall) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(Watch, Watch.user_id == User.id)
            .where(Watch.call_id == call.id)
            .order_by(User.display_name)
        )
    )
