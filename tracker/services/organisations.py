"""Partner organisations, the municipality's network memberships and its sister cities."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from tracker.errors import NotFound, ValidationFailed
from tracker.i18n import msg
from tracker.models import (
    NetworkMembership,
    Office,
    Organisation,
    OrganisationKind,
    ProjectPartner,
    SisterCity,
    SisterCityRelation,
    User,
)
from tracker.services.audit import record_event
from tracker.services.fields import (
    FieldError,
    clean,
    is_web_url,
    parse_choice,
    parse_country,
    parse_year,
)
from tracker.services.projects import apply_changes

_PARTNER = re.compile(r"^(?P<name>.*\S)\s*\((?P<country>[A-Za-z]{2})\)$")


@dataclass(frozen=True)
class OrganisationData:
    name: str
    kind: OrganisationKind
    country_code: str | None = None
    city: str | None = None
    url: str | None = None
    notes: str = ""


def read_organisation_form(raw: Mapping[str, str]) -> OrganisationData:
    """Typed organisation fields from a form; ValidationFailed names each bad field."""
    errors: dict[str, str] = {}
    kind = OrganisationKind.OTHER
    country: str | None = None
    try:
        kind = parse_choice(raw.get("kind", ""), OrganisationKind)
    except FieldError as exc:
        errors["kind"] = exc.message
    if clean(raw.get("country_code")):
        try:
            country = parse_country(raw.get("country_code"))
        except FieldError as exc:
            errors["country_code"] = exc.message
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)
    return OrganisationData(
        name=clean(raw.get("name")),
        kind=kind,
        country_code=country,
        city=clean(raw.get("city")) or None,
        url=clean(raw.get("url")) or None,
        notes=clean(raw.get("notes")),
    )


def _check(session: Session, data: OrganisationData, existing: Organisation | None) -> None:
    errors: dict[str, str] = {}
    if not data.name:
        errors["name"] = msg("a name is required")
    elif len(data.name) > 300:
        errors["name"] = msg("the name is too long")
    if data.country_code is None and data.kind is not OrganisationKind.NETWORK:
        errors["country_code"] = msg("a country is required (only networks may have none)")
    if data.url and not is_web_url(data.url):
        errors["url"] = msg("a link must start with http:// or https://")
    if "name" not in errors:
        twin = find_organisation(session, data.name, data.country_code)
        if twin is not None and twin is not existing:
            errors["name"] = msg("%(name)s is already registered for that country", name=data.name)
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)


def find_organisation(session: Session, name: str, country_code: str | None) -> Organisation | None:
    """The organisation of that name (any case) in that country."""
    query = select(Organisation)
    if country_code is None:
        query = query.where(Organisation.country_code.is_(None))
    else:
        query = query.where(Organisation.country_code == country_code)
    # Compared in Python: SQLite's lower() leaves Å, Ä and Ö alone.
    wanted = name.strip().casefold()
    candidates = session.scalars(query.order_by(Organisation.id))
    return next((o for o in candidates if o.name.casefold() == wanted), None)


def get_organisation(session: Session, organisation_id: int) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(msg("no organisation with id %(id)s", id=organisation_id))
    return organisation


def create_organisation(
    session: Session, data: OrganisationData, *, actor: User | None, now: datetime
) -> Organisation:
    """Register a partner organisation; the name is unique per country."""
    _check(session, data, None)
    organisation = Organisation(**asdict(data), created_at=now, updated_at=now)
    session.add(organisation)
    session.flush()
    record_event(
        session,
        "organisation.created",
        "organisation",
        organisation.id,
        actor=actor,
        now=now,
        details={"name": data.name, "country": data.country_code, "kind": data.kind.value},
    )
    return organisation


def update_organisation(
    session: Session,
    organisation: Organisation,
    data: OrganisationData,
    *,
    actor: User | None,
    now: datetime,
) -> Organisation:
    _check(session, data, organisation)
    changes = apply_changes(organisation, asdict(data))
    if changes:
        organisation.updated_at = now
        session.flush()
        record_event(
            session,
            "organisation.updated",
            "organisation",
            organisation.id,
            actor=actor,
            now=now,
            details={"changes": changes},
        )
    return organisation


def list_organisations(
    session: Session, kind: OrganisationKind | None = None
) -> list[Organisation]:
    query = select(Organisation).options(
        selectinload(Organisation.membership), selectinload(Organisation.sister_city)
    )
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    return list(session.scalars(query.order_by(func.lower(Organisation.name))))


def parse_partner_list(text: str) -> list[tuple[str, str | None]]:
    """``Name (CC); Name (CC)`` as (name, country code) pairs, duplicates dropped. An entry
    without a country (``Name``) is kept with None: only a network may be written so."""
    pairs: list[tuple[str, str | None]] = []
    for item in clean(text).split(";"):
        item = item.strip()
        if not item:
            continue
        match = _PARTNER.match(item)
        pair = (
            (match.group("name").strip(), parse_country(match.group("country")))
            if match
            else (item, None)
        )
        if all(pair[0].lower() != p[0].lower() or pair[1] != p[1] for p in pairs):
            pairs.append(pair)
    return pairs


def format_partner_list(organisations: Iterable[Organisation]) -> str:
    return "; ".join(o.label for o in organisations)


def ensure_partner(
    session: Session, name: str, country_code: str, *, actor: User | None, now: datetime
) -> tuple[Organisation, bool]:
    """The registered organisation of that name and country, created (kind "other") when
    new; the flag says whether it was created."""
    existing = find_organisation(session, name, country_code)
    if existing is not None:
        return existing, False
    data = OrganisationData(name=name, kind=OrganisationKind.OTHER, country_code=country_code)
    return create_organisation(session, data, actor=actor, now=now), True


def set_membership(
    session: Session,
    network: Organisation,
    *,
    since_year: int | None,
    ended_year: int | None = None,
    office: Office | None = None,
    contact: User | None = None,
    focus_areas: list[str] | None = None,
    description: str = "",
    actor: User | None,
    now: datetime,
) -> NetworkMembership:
    """Record (or update) the municipality's membership of ``network``."""
    if network.kind is not OrganisationKind.NETWORK:
        raise ValidationFailed(
            msg("%(name)s is not a network", name=network.name),
            {"network": msg("%(name)s is not a network", name=network.name)},
        )
    if since_year is not None and ended_year is not None and ended_year < since_year:
        raise ValidationFailed(
            msg("the membership cannot end before it began"),
            {"ended_year": msg("the membership cannot end before it began")},
        )
    membership = network.membership
    action = "network_membership.updated"
    if membership is None:
        membership = NetworkMembership(network=network)
        session.add(membership)
        action = "network_membership.created"
    membership.since_year = since_year
    membership.ended_year = ended_year
    membership.office = office
    membership.contact = contact
    membership.focus_areas = list(focus_areas or [])
    membership.description = description
    session.flush()
    record_event(
        session,
        action,
        "organisation",
        network.id,
        actor=actor,
        now=now,
        details={"since": since_year, "ended": ended_year, "focus_areas": membership.focus_areas},
    )
    return membership


def set_sister_city(
    session: Session,
    organisation: Organisation,
    *,
    relation: SisterCityRelation,
    since_year: int | None = None,
    topics: str = "",
    actor: User | None,
    now: datetime,
) -> SisterCity:
    """Record (or update) a sister-city relation with a municipality."""
    if organisation.kind is not OrganisationKind.MUNICIPALITY:
        raise ValidationFailed(
            msg("a sister city must be a municipality"),
            {"kind": msg("a sister city must be a municipality")},
        )
    link = organisation.sister_city
    if link is None:
        link = SisterCity(organisation=organisation, relation=relation)
        session.add(link)
    link.relation = relation
    link.since_year = since_year
    link.topics = topics
    session.flush()
    record_event(
        session,
        "sister_city.set",
        "organisation",
        organisation.id,
        actor=actor,
        now=now,
        details={"relation": relation.value, "since": since_year},
    )
    return link


def read_year(raw: Mapping[str, str], key: str, errors: dict[str, str]) -> int | None:
    """A year from a form field, recording a message in ``errors`` when it is not one."""
    try:
        return parse_year(raw.get(key))
    except FieldError as exc:
        errors[key] = exc.message
        return None


def remove_membership(
    session: Session, network: Organisation, *, actor: User | None, now: datetime
) -> None:
    """Forget the municipality's membership of ``network`` (to keep it as past, set its
    ``ended_year`` instead)."""
    if network.membership is None:
        return
    session.delete(network.membership)
    network.membership = None
    session.flush()
    record_event(
        session, "network_membership.removed", "organisation", network.id, actor=actor, now=now
    )


def remove_sister_city(
    session: Session, organisation: Organisation, *, actor: User | None, now: datetime
) -> None:
    if organisation.sister_city is None:
        return
    session.delete(organisation.sister_city)
    organisation.sister_city = None
    session.flush()
    record_event(
        session, "sister_city.removed", "organisation", organisation.id, actor=actor, now=now
    )


def partner_projects(session: Session, organisation: Organisation) -> list[ProjectPartner]:
    """The organisation's places in projects, with the projects loaded."""
    return list(
        session.scalars(
            select(ProjectPartner)
            .where(ProjectPartner.organisation_id == organisation.id)
            .options(selectinload(ProjectPartner.project))
            .order_by(ProjectPartner.id.desc())
        )
    )
