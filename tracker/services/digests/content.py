"""What goes into a digest.

Content (``build_digest``): new matches since the subscriber's last digest; changes (deadline
moved, opening date, status, budget; ``changes``) since then, for calls the subscriber
watches, was sent before or follows through an office; calls closing within the subscriber's
horizon among those watched or in the municipality's pipeline (interested, preparing);
mentions and assignments; a one-line pipeline summary.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, load_only, selectinload

from tracker.errors import ValidationFailed
from tracker.feeds.text import safe_url
from tracker.i18n import msg
from tracker.matching.engine import Evidence
from tracker.models import (
    CallMatch,
    CallReview,
    Comment,
    Digest,
    DigestDismissal,
    DigestItem,
    DigestSection,
    DigestSubscription,
    FundingCall,
    Mention,
    Office,
    TriageEvent,
    TriageState,
    Watch,
)
from tracker.services.digests.changes import QUERY_CHUNK, FieldChange, call_snapshot, changed_calls
from tracker.services.digests.subscriptions import subscribed_areas
from tracker.services.strategy.evidence import stored_evidence, strongest

# Reasons shown per call: the digest is a pointer to the call page, which shows them all.
EVIDENCE_LINES = 2

log = logging.getLogger(__name__)

__all__ = [
    "DigestContent",
    "DigestEntry",
    "build_digest",
    "iso_week",
    "parse_iso_week",
]


FIRST_DIGEST_LOOKBACK = timedelta(days=7)


# How far back "calls sent before" reaches when looking for changes.
CHANGE_LOOKBACK = timedelta(weeks=26)


PIPELINE_STATES = (TriageState.INTERESTED, TriageState.PREPARING, TriageState.SUBMITTED)


CLOSING_SOON_STATES = (TriageState.INTERESTED, TriageState.PREPARING)


EXCERPT_LENGTH = 200


@dataclass(frozen=True)
class DigestEntry:
    """A call as one item of a digest, with what the subscriber needs to judge it."""

    call_id: int
    title: str
    programme: str
    deadline_at: datetime | None
    official_url: str | None
    # The deadline was given as a day and is shown as a date.
    deadline_date_only: bool = False
    score: float | None = None
    focus_area_id: int | None = None
    focus_area_name: str | None = None
    # The strongest reasons behind the score, as the engine gave them.
    evidence: tuple[Evidence, ...] = ()
    changes: tuple[FieldChange, ...] = ()
    # Mentions: who wrote what; assignments: who assigned it and to whom.
    actor_name: str | None = None
    excerpt: str | None = None
    assignee_name: str | None = None


@dataclass(frozen=True)
class DigestContent:
    subscription_id: int
    recipient_name: str
    language: str
    since: datetime
    until: datetime
    new: tuple[DigestEntry, ...] = ()
    changed: tuple[DigestEntry, ...] = ()
    closing: tuple[DigestEntry, ...] = ()
    mentions: tuple[DigestEntry, ...] = ()
    assignments: tuple[DigestEntry, ...] = ()
    pipeline: dict[str, int] = field(default_factory=dict)
    # What the digest told about each call it shows, stored with its items as a record.
    snapshots: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.new),
            "changed": len(self.changed),
            "closing": len(self.closing),
            "mentions": len(self.mentions),
            "assignments": len(self.assignments),
        }

    @property
    def is_empty(self) -> bool:
        return not any(self.counts.values())

    def sections(self) -> list[tuple[DigestSection, tuple[DigestEntry, ...]]]:
        return [
            (DigestSection.NEW, self.new),
            (DigestSection.CHANGED, self.changed),
            (DigestSection.CLOSING, self.closing),
            (DigestSection.MENTION, self.mentions),
            (DigestSection.ASSIGNMENT, self.assignments),
        ]


def _period_start(session: Session, subscription: DigestSubscription, now: datetime) -> datetime:
    previous = session.scalar(
        select(func.max(Digest.period_end)).where(
            Digest.subscription_id == subscription.id, Digest.period_end <= now
        )
    )
    return previous if previous is not None else now - FIRST_DIGEST_LOOKBACK


def _sent_before(session: Session, subscription: DigestSubscription, now: datetime) -> set[int]:
    """The calls this subscriber's recent digests showed."""
    return set(
        session.scalars(
            select(DigestItem.call_id)
            .join(Digest, Digest.id == DigestItem.digest_id)
            .where(
                Digest.subscription_id == subscription.id,
                Digest.period_end >= now - CHANGE_LOOKBACK,
                Digest.period_end <= now,
                # Items of older digests that were kept only to compare snapshots.
                DigestItem.section != DigestSection.BASELINE,
            )
        )
    )


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 3] + "..."


_DIGEST_CALL_COLUMNS = (
    FundingCall.title,
    FundingCall.title_sv,
    FundingCall.programme_code,
    FundingCall.programme_label,
    FundingCall.url,
    FundingCall.opens_at,
    FundingCall.deadline_model,
    FundingCall.is_withdrawn,
    FundingCall.budget_total_eur,
)


@dataclass(frozen=True)
class _Match:
    call_id: int
    focus_area_id: int
    score: float
    is_match: bool
    evidence: list[Any]


class _Builder:
    """Gathers one subscriber's digest. Each section is one or two queries."""

    def __init__(self, session: Session, subscription: DigestSubscription, now: datetime):
        self.session = session
        self.subscription = subscription
        self.now = now
        self.language = subscription.language
        self.since = _period_start(session, subscription, now)
        self.areas = subscribed_areas(session, subscription)
        self.area_by_id = {area.id: area for area in self.areas}
        self.office_ids: set[int] = set()
        if subscription.office_slugs:
            self.office_ids = set(
                session.scalars(select(Office.id).where(Office.slug.in_(subscription.office_slugs)))
            )
        self.dismissed = set(
            session.scalars(
                select(DigestDismissal.call_id).where(
                    DigestDismissal.subscription_id == subscription.id
                )
            )
        )
        self.watched: set[int] = set()
        if subscription.user_id is not None:
            self.watched = set(
                session.scalars(select(Watch.call_id).where(Watch.user_id == subscription.user_id))
            )
        self.sent_before = _sent_before(session, subscription, now)
        self.calls: dict[int, FundingCall] = {}
        self.best_match: dict[int, _Match] = {}

    # helpers

    def load_calls(self, ids: Iterable[int]) -> None:
        missing = set(ids) - set(self.calls)
        if not missing:
            return
        for call in self.session.scalars(
            select(FundingCall)
            .where(FundingCall.id.in_(missing))
            # Only what a digest shows: descriptions and raw payloads can be large.
            .options(load_only(*_DIGEST_CALL_COLUMNS), selectinload(FundingCall.deadlines))
        ):
            self.calls[call.id] = call

    def load_matches(self, ids: Iterable[int]) -> None:
        missing = set(ids) - set(self.best_match)
        if not missing or not self.areas:
            return
        for match in self.matches(
            CallMatch.call_id.in_(missing), CallMatch.focus_area_id.in_(self.area_by_id)
        ):
            best = self.best_match.get(match.call_id)
            if best is None or (match.is_match, match.score) > (best.is_match, best.score):
                self.best_match[match.call_id] = match

    def matches(self, *conditions: Any) -> list[_Match]:
        # Plain rows rather than ORM objects: a subscriber's areas can match hundreds of calls.
        rows = self.session.execute(
            select(
                CallMatch.call_id,
                CallMatch.focus_area_id,
                CallMatch.score,
                CallMatch.is_match,
                CallMatch.evidence,
            ).where(*conditions)
        )
        return [_Match(*row) for row in rows]

    def entry(self, call_id: int, **extra: Any) -> DigestEntry:
        call = self.calls[call_id]
        match = self.best_match.get(call_id)
        area = self.area_by_id.get(match.focus_area_id) if match is not None else None
        title = (call.title_sv or call.title) if self.language == "sv" else call.title
        deadline = call.next_deadline_row(self.now)
        return DigestEntry(
            call_id=call.id,
            title=title,
            programme=call.programme_label or call.programme_code or "",
            deadline_at=deadline.deadline_at if deadline is not None else None,
            deadline_date_only=deadline is not None and deadline.is_date_only,
            official_url=safe_url(call.url),
            score=match.score if match is not None else None,
            focus_area_id=area.id if area is not None else None,
            focus_area_name=area.name(self.language) if area is not None else None,
            evidence=tuple(strongest(stored_evidence(match.evidence), EVIDENCE_LINES))
            if match is not None
            else (),
            **extra,
        )

    def is_live(self, call_id: int) -> bool:
        call = self.calls.get(call_id)
        return call is not None and not call.is_withdrawn and call.status(self.now) != "closed"

    def triage_dismissed(self, ids: Iterable[int]) -> set[int]:
        ids = set(ids)
        if not ids:
            return set()
        return set(
            self.session.scalars(
                select(CallReview.call_id).where(
                    CallReview.call_id.in_(ids), CallReview.state == TriageState.DISMISSED
                )
            )
        )

    # sections

    def new_matches(self) -> list[DigestEntry]:
        if not self.areas:
            return []
        # ``matched_at`` is when the engine first found the match, kept through re-matching:
        # a call is new once, not every week it is scored again.
        for match in self.matches(
            CallMatch.is_match,
            CallMatch.score >= self.subscription.min_score,
            CallMatch.matched_at > self.since,
            CallMatch.matched_at <= self.now,
            CallMatch.focus_area_id.in_(self.area_by_id),
            # A gated call (not eligible, withdrawn) is no match whatever its scores.
            CallMatch.call_id.in_(select(FundingCall.id).where(FundingCall.gate_code.is_(None))),
        ):
            best = self.best_match.get(match.call_id)
            if best is None or match.score > best.score:
                self.best_match[match.call_id] = match
        candidates = set(self.best_match) - self.dismissed - self.sent_before
        self.load_calls(candidates)
        candidates -= self.triage_dismissed(candidates)
        entries = [self.entry(i) for i in candidates if self.is_live(i)]
        entries.sort(key=lambda e: (-(e.score or 0), e.deadline_at or self.now, e.title))
        return entries

    def changed(self, exclude: set[int]) -> list[DigestEntry]:
        followed = self.watched | self.sent_before
        if self.office_ids:
            followed |= set(
                self.session.scalars(
                    select(CallReview.call_id).where(
                        CallReview.office_id.in_(self.office_ids),
                        CallReview.state != TriageState.DISMISSED,
                    )
                )
            )
        followed -= self.dismissed | exclude
        changes = changed_calls(self.session, since=self.since, until=self.now, call_ids=followed)
        # Opening on the announced date is recorded nowhere (nothing changed in the call) but
        # is news all the same.
        opened = self.opened_since(followed)
        self.load_calls(set(changes) | opened)
        for call_id in opened:
            found = changes.setdefault(call_id, [])
            call = self.calls.get(call_id)
            opens_now = call is not None and call.status(self.now) == "open"
            if opens_now and not any(c.field == "status" for c in found):
                found.append(FieldChange("status", "forthcoming", "open"))
        changes = {i: c for i, c in changes.items() if c and i in self.calls}
        self.load_matches(changes)
        entries = [self.entry(i, changes=tuple(c)) for i, c in changes.items()]
        entries.sort(key=lambda e: (e.deadline_at or self.now + timedelta(days=3650), e.title))
        return entries

    def opened_since(self, ids: set[int]) -> set[int]:
        found: set[int] = set()
        ordered = sorted(ids)
        for start in range(0, len(ordered), QUERY_CHUNK):
            found.update(
                self.session.scalars(
                    select(FundingCall.id).where(
                        FundingCall.id.in_(ordered[start : start + QUERY_CHUNK]),
                        FundingCall.opens_at > self.since,
                        FundingCall.opens_at <= self.now,
                        FundingCall.is_withdrawn.is_(False),
                    )
                )
            )
        return found

    def closing_soon(self, exclude: set[int]) -> list[DigestEntry]:
        horizon = self.now + timedelta(days=self.subscription.closing_soon_days)
        pipeline = select(CallReview.call_id).where(CallReview.state.in_(CLOSING_SOON_STATES))
        if self.office_ids:
            pipeline = pipeline.where(CallReview.office_id.in_(self.office_ids))
        candidates = (self.watched | set(self.session.scalars(pipeline))) - self.dismissed - exclude
        self.load_calls(candidates)
        closing = []
        for call_id in candidates:
            call = self.calls.get(call_id)
            if call is None or call.is_withdrawn:
                continue
            deadline = call.next_deadline(self.now)
            if deadline is not None and deadline <= horizon:
                closing.append(call_id)
        self.load_matches(closing)
        entries = [self.entry(i) for i in closing]
        entries.sort(key=lambda e: (e.deadline_at or horizon, e.title))
        return entries

    def mentions(self) -> list[DigestEntry]:
        if self.subscription.user_id is None:
            return []
        rows = self.session.execute(
            select(Mention, Comment)
            .join(Comment, Comment.id == Mention.comment_id)
            .where(
                Mention.user_id == self.subscription.user_id,
                Mention.created_at > self.since,
                Mention.created_at <= self.now,
            )
            .options(selectinload(Comment.author))
            .order_by(Mention.created_at)
        ).all()
        self.load_calls(comment.call_id for _, comment in rows)
        return [
            self.entry(
                comment.call_id,
                actor_name=comment.author.display_name if comment.author else None,
                excerpt=_excerpt(comment.body),
            )
            for _, comment in rows
        ]

    def assignments(self) -> list[DigestEntry]:
        sub = self.subscription
        query = select(TriageEvent).where(
            TriageEvent.kind == "assignment",
            TriageEvent.at > self.since,
            TriageEvent.at <= self.now,
        )
        if sub.user_id is not None:
            # Nobody needs a mail about what they did themselves.
            query = query.where(
                TriageEvent.assignee_id == sub.user_id,
                or_(TriageEvent.actor_id.is_(None), TriageEvent.actor_id != sub.user_id),
            )
        else:
            query = query.where(TriageEvent.office_id == sub.office_id)
        events = list(
            self.session.scalars(
                query.options(
                    selectinload(TriageEvent.actor),
                    selectinload(TriageEvent.assignee),
                    selectinload(TriageEvent.office),
                ).order_by(TriageEvent.at)
            )
        )
        self.load_calls(event.call_id for event in events)
        latest: dict[int, TriageEvent] = {}
        for event in events:
            latest[event.call_id] = event
        entries = []
        for event in latest.values():
            assignee = (
                event.assignee.display_name
                if event.assignee is not None
                else event.office.name(self.language)
                if event.office is not None
                else None
            )
            entries.append(
                self.entry(
                    event.call_id,
                    actor_name=event.actor.display_name if event.actor else None,
                    assignee_name=assignee,
                )
            )
        return entries

    def pipeline(self) -> dict[str, int]:
        query = (
            select(CallReview.state, func.count())
            .where(CallReview.state.in_(PIPELINE_STATES))
            .group_by(CallReview.state)
        )
        if self.office_ids:
            query = query.where(CallReview.office_id.in_(self.office_ids))
        counts = {state.value: 0 for state in PIPELINE_STATES}
        for state, count in self.session.execute(query):
            counts[TriageState(state).value] = int(count)
        return counts


def build_digest(
    session: Session, subscription: DigestSubscription, *, now: datetime
) -> DigestContent:
    """What ``subscription``'s digest contains if it is built at ``now``: everything since the
    end of its previous digest (the last seven days for a first digest)."""
    builder = _Builder(session, subscription, now)
    new = builder.new_matches()
    shown = {e.call_id for e in new}
    changed = builder.changed(exclude=shown)
    shown |= {e.call_id for e in changed}
    closing = builder.closing_soon(exclude=shown)
    shown |= {e.call_id for e in closing}
    mentions = builder.mentions()
    assignments = builder.assignments()
    shown |= {e.call_id for e in mentions} | {e.call_id for e in assignments}
    builder.load_calls(shown)
    snapshots = {
        call_id: call_snapshot(builder.calls[call_id], now)
        for call_id in sorted(shown)
        if call_id in builder.calls
    }
    if subscription.user is not None:
        name = subscription.user.display_name
    else:
        name = subscription.office.name(subscription.language) if subscription.office else ""
    return DigestContent(
        subscription_id=subscription.id,
        recipient_name=name,
        language=subscription.language,
        since=builder.since,
        until=now,
        new=tuple(new),
        changed=tuple(changed),
        closing=tuple(closing),
        mentions=tuple(mentions),
        assignments=tuple(assignments),
        pipeline=builder.pipeline(),
        snapshots=snapshots,
    )


def iso_week(now: datetime, tz: ZoneInfo) -> str:
    """The ISO week (``2026-W48``) that ``now`` falls in, in local time."""
    year, week, _ = now.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def parse_iso_week(text: str) -> str:
    """Check and normalise an ISO week such as ``2026-W48``; ValidationFailed otherwise."""
    cleaned = text.strip().upper()
    try:
        year, week = cleaned.split("-W")
        date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise ValidationFailed(
            msg("%(week)r is not an ISO week like 2026-W48", week=text), {"week": "invalid"}
        ) from None
    return f"{int(year)}-W{int(week):02d}"
