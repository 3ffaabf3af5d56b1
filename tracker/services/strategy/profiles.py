"""The strategy profile in the database (versions, focus areas, gates and settings) and what
the engine matches with: the compiled profile and the current learned model.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db import take_turns
from tracker.errors import NotFound, ValidationFailed
from tracker.i18n import msg
from tracker.matching.engine import CompiledProfile, compile_profile
from tracker.matching.learning import LearnedModel
from tracker.matching.profile import (
    Context,
    Gates,
    Profile,
    area_from_dict,
    area_to_dict,
    default_profile,
    profile_from_dict,
    profile_to_dict,
)
from tracker.matching.profile import (
    FocusArea as AreaSpec,
)
from tracker.matching.regions import is_nuts_code
from tracker.models import (
    SHIPPED_DEFAULT,
    FocusArea,
    MatchModel,
    StrategyProfile,
    User,
)
from tracker.services.audit import record_event

log = logging.getLogger(__name__)

__all__ = [
    "DefaultUpgrade",
    "DefaultUpgradeOutcome",
    "active_profile",
    "compiled_profile",
    "current_model_row",
    "ensure_default_profile",
    "get_active_profile",
    "load_matching_defaults",
    "load_model",
    "profile_context",
    "profile_gates",
    "profile_of",
    "retire_area",
    "retired_areas",
    "save_area",
    "save_profile_settings",
    "save_profile_version",
    "set_home_region",
    "upgrade_default_profile",
]


def _area_data(a: FocusArea) -> dict[str, Any]:
    """A focus area row in the engine's dict form (``area_from_dict``)."""
    return {
        "slug": a.slug,
        "name_sv": a.name_sv,
        "name_en": a.name_en,
        "description_sv": a.description_sv,
        "description_en": a.description_en,
        "threshold": a.threshold,
        "terms": a.vocabulary,
        "negative_terms": a.negative_terms,
        "programme_priors": a.programme_priors,
    }


def profile_of(row: StrategyProfile) -> Profile:
    """The engine's profile from its database rows (retired areas left out)."""
    data = {
        "name": row.name,
        "version": row.version,
        "gates": row.gates or {},
        "context": row.context or {},
        "areas": [
            _area_data(a) for a in sorted(row.areas, key=lambda a: a.position) if not a.is_retired
        ],
    }
    try:
        return profile_from_dict(data)
    except ValueError as exc:  # rows written by these services are valid
        raise ValidationFailed(
            f"stored profile {row.name} v{row.version} is invalid: {exc}"
        ) from exc


def active_profile(session: Session) -> StrategyProfile | None:
    return session.scalar(
        select(StrategyProfile)
        .where(StrategyProfile.is_active.is_(True))
        .order_by(StrategyProfile.version.desc())
        .limit(1)
    )


def get_active_profile(session: Session) -> StrategyProfile:
    row = active_profile(session)
    if row is None:
        raise NotFound(msg("there is no active strategy profile"))
    return row


def ensure_default_profile(session: Session, *, now: datetime) -> StrategyProfile:
    """The active profile; on first run, the default profile of tracker/data is loaded."""
    row = active_profile(session)
    if row is not None:
        return row
    latest = session.scalar(
        select(StrategyProfile).order_by(StrategyProfile.created_at.desc()).limit(1)
    )
    if latest is not None:
        latest.is_active = True
        session.flush()
        return latest
    return _store_profile(
        session,
        default_profile(),
        version=1,
        retired=(),
        actor=None,
        now=now,
        origin=SHIPPED_DEFAULT,
    )


def save_profile_version(
    session: Session,
    profile: Profile,
    *,
    actor: User | None,
    now: datetime,
    retired: Sequence[AreaSpec] = (),
) -> StrategyProfile:
    """Store `profile` as the next version and make it the active one.

    Earlier versions stay for the record. Every call is re-matched by the next matching
    run, since the profile is newer than every match. `retired` areas are kept in the
    new version, marked retired (they are not matched but their history stays readable).
    The version counts as edited: a newer shipped default never replaces it.
    """
    row = _store_next_version(session, profile, retired, actor, now, origin=None)
    record_event(
        session,
        "strategy.profile_saved",
        "strategy_profile",
        row.id,
        actor=actor,
        now=now,
        details={"version": row.version, "areas": [a.slug for a in profile.areas]},
    )
    return row


class DefaultUpgradeOutcome(enum.StrEnum):
    """Whether ``upgrade_default_profile`` replaced the active profile, and why not."""

    UPGRADED = "upgraded"
    # The active profile is the shipped default already.
    UP_TO_DATE = "up to date"
    # Someone saved the active profile (or one before it): it is theirs, not ours to replace.
    EDITED = "edited"


@dataclass(frozen=True)
class DefaultUpgrade:
    """What ``upgrade_default_profile`` did. `row` is the active profile afterwards; the
    slugs say how the new default differs from the one it replaced (empty unless upgraded)."""

    outcome: DefaultUpgradeOutcome
    row: StrategyProfile
    previous_version: int | None = None
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    retired: tuple[str, ...] = ()
    settings_changed: bool = False


def upgrade_default_profile(session: Session, *, now: datetime) -> DefaultUpgrade:
    """Replace an unedited shipped default by the profile this tracker ships, when they differ.

    The new default becomes the next version (origin "default", no actor) and the next
    matching run re-matches every call, as after an edit. Areas the new default drops are
    kept retired, as ``retire_area`` keeps them, so their decisions and matches stay
    readable. A profile anyone saved is never touched (outcome EDITED).
    """
    take_turns(session, "matching")  # the matching job and the CLI may upgrade at once
    row = ensure_default_profile(session, now=now)
    if row.origin != SHIPPED_DEFAULT:
        return DefaultUpgrade(DefaultUpgradeOutcome.EDITED, row)
    current = profile_of(row)
    shipped = replace(default_profile(), name=current.name, version=current.version)
    if profile_to_dict(shipped) == profile_to_dict(current):
        return DefaultUpgrade(DefaultUpgradeOutcome.UP_TO_DATE, row)

    old_areas = {a.slug: area_to_dict(a) for a in current.areas}
    new_areas = {a.slug: area_to_dict(a) for a in shipped.areas}
    # The areas the new default drops join those retired before (unless it brings one back).
    keep_retired = [a for a in (*current.areas, *retired_areas(row)) if a.slug not in new_areas]
    upgrade = DefaultUpgrade(
        DefaultUpgradeOutcome.UPGRADED,
        _store_next_version(session, shipped, keep_retired, None, now, origin=SHIPPED_DEFAULT),
        previous_version=row.version,
        added=tuple(slug for slug in new_areas if slug not in old_areas),
        changed=tuple(
            slug for slug, data in new_areas.items() if old_areas.get(slug, data) != data
        ),
        retired=tuple(slug for slug in old_areas if slug not in new_areas),
        settings_changed=(shipped.gates, shipped.context) != (current.gates, current.context),
    )
    record_event(
        session,
        "strategy.default_upgraded",
        "strategy_profile",
        upgrade.row.id,
        actor=None,
        now=now,
        details={
            "from_version": upgrade.previous_version,
            "version": upgrade.row.version,
            "added": list(upgrade.added),
            "changed": list(upgrade.changed),
            "retired": list(upgrade.retired),
            "settings_changed": upgrade.settings_changed,
        },
    )
    log.info(
        "upgraded the shipped default strategy profile from version %d to %d",
        row.version,
        upgrade.row.version,
    )
    return upgrade


def _store_next_version(
    session: Session,
    profile: Profile,
    retired: Sequence[AreaSpec],
    actor: User | None,
    now: datetime,
    *,
    origin: str | None,
) -> StrategyProfile:
    """Store `profile` as the next version of the active profile's name, and activate it."""
    current = active_profile(session)
    name = current.name if current is not None else profile.name
    latest = session.scalar(
        select(func.max(StrategyProfile.version)).where(StrategyProfile.name == name)
    )
    version = (latest or 0) + 1
    if current is not None:
        current.is_active = False
    return _store_profile(
        session,
        replace(profile, name=name, version=version),
        version,
        retired,
        actor,
        now,
        origin=origin,
    )


def _store_profile(
    session: Session,
    profile: Profile,
    version: int,
    retired: Sequence[AreaSpec],
    actor: User | None,
    now: datetime,
    *,
    origin: str | None,
) -> StrategyProfile:
    data = profile_to_dict(profile)
    row = StrategyProfile(
        name=profile.name,
        version=version,
        is_active=True,
        gates=data["gates"],
        context=data["context"],
        created_at=now,
        created_by_id=actor.id if actor is not None else None,
        origin=origin,
    )
    for position, (area, is_retired) in enumerate(
        [(a, False) for a in profile.areas] + [(a, True) for a in retired]
    ):
        d = area_to_dict(area)
        row.areas.append(
            FocusArea(
                slug=area.slug,
                name_sv=area.name_sv,
                name_en=area.name_en,
                description_sv=area.description_sv,
                description_en=area.description_en,
                vocabulary=d["terms"],
                negative_terms=d["negative_terms"],
                programme_priors=d["programme_priors"],
                threshold=area.threshold,
                position=position,
                is_retired=is_retired,
            )
        )
    session.add(row)
    session.flush()
    return row


def retired_areas(row: StrategyProfile) -> list[AreaSpec]:
    return [area_from_dict(_area_data(a)) for a in row.areas if a.is_retired]


def save_area(
    session: Session,
    area: Mapping[str, Any],
    *,
    actor: User | None,
    now: datetime,
    original_slug: str | None = None,
) -> StrategyProfile:
    """Add an area or replace the one called `original_slug`; a new profile version."""
    row = ensure_default_profile(session, now=now)
    profile = profile_of(row)
    try:
        spec = area_from_dict(area, "area")
    except ValueError as exc:
        raise ValidationFailed(str(exc), _field_error(str(exc))) from exc
    areas = list(profile.areas)
    slugs = [a.slug for a in areas]
    if original_slug is not None and original_slug not in slugs:
        raise NotFound(msg("no focus area %(slug)s", slug=original_slug))
    taken = set(slugs) - {original_slug} | {a.slug for a in retired_areas(row)}
    if spec.slug in taken:
        taken_msg = msg("the short name %(slug)s is already used", slug=spec.slug)
        raise ValidationFailed(taken_msg, {"slug": taken_msg})
    if original_slug is None:
        areas.append(spec)
    else:
        areas[slugs.index(original_slug)] = spec
    return save_profile_version(
        session,
        replace(profile, areas=tuple(areas)),
        actor=actor,
        now=now,
        retired=retired_areas(row),
    )


def retire_area(
    session: Session, slug: str, *, actor: User | None, now: datetime
) -> StrategyProfile:
    """Stop matching an area; its past decisions and matches stay."""
    row = ensure_default_profile(session, now=now)
    profile = profile_of(row)
    keep = [a for a in profile.areas if a.slug != slug]
    if len(keep) == len(profile.areas):
        raise NotFound(msg("no focus area %(slug)s", slug=slug))
    if not keep:
        raise ValidationFailed(msg("a profile needs at least one focus area"))
    gone = next(a for a in profile.areas if a.slug == slug)
    return save_profile_version(
        session,
        replace(profile, areas=tuple(keep)),
        actor=actor,
        now=now,
        retired=[*retired_areas(row), gone],
    )


def save_profile_settings(
    session: Session, data: Mapping[str, Any], *, actor: User | None, now: datetime
) -> StrategyProfile:
    """Replace the profile-wide gates and context (from their JSON form)."""
    row = ensure_default_profile(session, now=now)
    profile = profile_of(row)
    current = profile_to_dict(profile)
    candidate = {
        **current,
        "gates": data.get("gates", current["gates"]),
        "context": data.get("context", current["context"]),
    }
    try:
        checked = profile_from_dict(candidate)
    except ValueError as exc:
        raise ValidationFailed(str(exc), {"settings": str(exc)}) from exc
    return save_profile_version(
        session,
        replace(profile, gates=checked.gates, context=checked.context),
        actor=actor,
        now=now,
        retired=retired_areas(row),
    )


def set_home_region(
    session: Session, code: str, *, actor: User | None, now: datetime
) -> StrategyProfile:
    """Change the municipality's region (a NUTS code) the region gate checks against."""
    region = code.strip().upper()
    if not is_nuts_code(region):
        raise ValidationFailed(
            msg("%(code)s is not a NUTS code (e.g. SE123 for Östergötland).", code=code.strip()),
            {"home_region": msg("give a NUTS code, e.g. SE123")},
        )
    row = ensure_default_profile(session, now=now)
    profile = profile_of(row)
    return save_profile_version(
        session,
        replace(profile, gates=replace(profile.gates, home_region=region)),
        actor=actor,
        now=now,
        retired=retired_areas(row),
    )


_FIELD_MESSAGES = {
    "slug": msg("use lower-case words joined by hyphens, e.g. energy-environment"),
    "name_sv": msg("required"),
    "name_en": msg("required"),
    "threshold": msg("give a number from 0 to 100"),
}


def _field_error(message: str) -> dict[str, str]:
    """Map "area.threshold must be ..." to the form field it is about."""
    key = message.split(" ", 1)[0]
    if key.startswith("area."):
        field = key[len("area.") :].split("[", 1)[0].split(".", 1)[0]
        return {field: _FIELD_MESSAGES.get(field, message)}
    return {}


_COMPILED: dict[str, CompiledProfile] = {}


def compiled_profile(session: Session, row: StrategyProfile | None = None) -> CompiledProfile:
    """The active profile (or `row`), compiled; cached by content, as compiling takes time."""
    row = row or get_active_profile(session)
    profile = profile_of(row)
    key = hashlib.sha256(
        json.dumps(profile_to_dict(profile), sort_keys=True).encode("utf-8")
    ).hexdigest()
    compiled = _COMPILED.get(key)
    if compiled is None:
        if len(_COMPILED) > 8:
            _COMPILED.clear()
        compiled = _COMPILED[key] = compile_profile(profile)
    return compiled


def profile_gates(row: StrategyProfile) -> Gates:
    return profile_of(row).gates


def profile_context(row: StrategyProfile) -> Context:
    return profile_of(row).context


def current_model_row(session: Session) -> MatchModel | None:
    return session.scalar(
        select(MatchModel).order_by(MatchModel.trained_at.desc(), MatchModel.id.desc()).limit(1)
    )


_MODELS: dict[tuple[int, datetime, int], LearnedModel] = {}


def load_model(row: MatchModel) -> LearnedModel:
    """The learned model of a stored row (cached: decoding a large model takes time)."""
    key = (row.id, row.trained_at, row.decision_count)
    model = _MODELS.get(key)
    if model is None:
        if len(_MODELS) > 4:
            _MODELS.clear()
        model = _MODELS[key] = LearnedModel.from_dict(row.model)
    return model


def load_matching_defaults(session: Session, _settings: object, now: datetime) -> None:
    """First-run default (bootstrap loader): the default strategy profile."""
    ensure_default_profile(session, now=now)
