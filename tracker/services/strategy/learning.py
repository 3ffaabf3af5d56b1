"""Learning from staff decisions: what the learned model changes per area, and retraining."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from tracker.matching.call import CallInput
from tracker.matching.learning import Decision, train
from tracker.models import (
    FundingCall,
    MatchDecision,
    MatchModel,
)
from tracker.services.strategy.decisions import call_key
from tracker.services.strategy.profiles import (
    compiled_profile,
    current_model_row,
    ensure_default_profile,
    load_model,
)
from tracker.services.strategy.runs import BATCH_SIZE, call_input

log = logging.getLogger(__name__)

__all__ = [
    "MODELS_KEPT",
    "AreaLearning",
    "learning_by_area",
    "retrain",
]


MODELS_KEPT = 3


@dataclass(frozen=True)
class AreaLearning:
    """Whether staff decisions change an area's scores, and by how much they did in the
    model's own cross-validation."""

    slug: str
    decisions: int
    in_use: bool
    status: str  # "learned", "too few decisions", "no gain in cross-validation", ...
    blend: float  # share of the learned change kept
    fixed: int  # held-out decisions learning turned right
    broken: int  # held-out decisions learning turned wrong
    threshold_shift: float = 0.0  # points added to the area's threshold


def learning_by_area(row: MatchModel | None, slugs: Sequence[str]) -> list[AreaLearning]:
    """Per area of the profile: is the learned model in use, and what it changed."""
    model = load_model(row) if row is not None else None
    out: list[AreaLearning] = []
    for slug in slugs:
        if model is None or model.decision_count(slug) == 0:
            out.append(AreaLearning(slug, 0, False, "no decisions", 0.0, 0, 0))
            continue
        fixed, broken = model.area_effect.get(slug, (0, 0))
        out.append(
            AreaLearning(
                slug=slug,
                decisions=model.decision_count(slug),
                in_use=model.is_learned(slug),
                status=model.area_status.get(slug, "learned"),
                blend=model.area_blend.get(slug, 1.0),
                fixed=fixed,
                broken=broken,
                threshold_shift=model.threshold_shift.get(slug, 0.0),
            )
        )
    return out


def retrain(session: Session, *, now: datetime, force: bool = False) -> MatchModel | None:
    """Train a model on every stored decision and make it the current one.

    Returns None when there is nothing new to learn from (no decision since the current
    model), unless `force`. Only the last few models are kept.
    """
    latest_decision = session.scalar(select(func.max(MatchDecision.decided_at)))
    if latest_decision is None:
        return None
    current = current_model_row(session)
    if current is not None and not force and latest_decision <= current.trained_at:
        return None
    row = ensure_default_profile(session, now=now)
    compiled = compiled_profile(session, row)
    decisions = list(session.scalars(select(MatchDecision).order_by(MatchDecision.id)))
    linked_ids = {d.call_id for d in decisions if d.call_id is not None}
    inputs: dict[str, CallInput] = {}
    for start in range(0, len(linked_ids), BATCH_SIZE):
        chunk = sorted(linked_ids)[start : start + BATCH_SIZE]
        for call in session.scalars(
            select(FundingCall)
            .where(FundingCall.id.in_(chunk))
            .options(selectinload(FundingCall.deadlines))
        ):
            inputs[call_key(call)] = replace(call_input(call), deadlines=())
    for d in decisions:
        if d.call_key not in inputs and d.call_snapshot:
            snap = d.call_snapshot
            inputs[d.call_key] = CallInput(
                id=d.call_key,
                identifier=str(snap.get("identifier") or d.call_key),
                title=str(snap.get("title") or ""),
                call_title=str(snap.get("call_title") or ""),
                programme=str(snap.get("programme") or ""),
                programme_code=str(snap.get("programme_code") or ""),
                keywords=tuple(snap.get("keywords") or ()),
                tags=tuple(snap.get("tags") or ()),
                description=str(snap.get("text") or ""),
            )
    usable = [
        Decision(d.call_key, d.area_slug, d.relevant, d.reason)
        for d in decisions
        if d.call_key in inputs
    ]
    model = train(compiled, inputs, usable)
    stored = MatchModel(
        profile_id=row.id,
        trained_at=now,
        decision_count=sum(model.counts.values()),
        model=model.to_dict(),
    )
    session.add(stored)
    session.flush()
    old = list(
        session.scalars(
            select(MatchModel.id)
            .order_by(MatchModel.trained_at.desc(), MatchModel.id.desc())
            .offset(MODELS_KEPT)
        )
    )
    if old:
        session.execute(delete(MatchModel).where(MatchModel.id.in_(old)))
    log.info("retrained the matching model on %d decisions", len(usable))
    return stored
