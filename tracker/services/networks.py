"""Networks as data: each network's themes mapped to our focus areas, the members we may go
with (city, country, the person we know, when we last spoke), and the sister cities and other
relations outside networks. Seeded from ``tracker/data/networks.toml``; members come from the
network page or from a CSV/xlsx file read like the project log."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.config import Settings
from tracker.errors import NotFound, ValidationFailed
from tracker.i18n import Message, msg
from tracker.models import (
    NetworkMember,
    NetworkMembership,
    Organisation,
    OrganisationKind,
    SisterCity,
    User,
)
from tracker.paths import DATA_DIR
from tracker.services.audit import record_event
from tracker.services.fields import FieldError, clean, parse_choice, parse_country, parse_date
from tracker.services.organisations import OrganisationData, create_organisation, find_organisation
from tracker.services.project_import import ImportFileError, RowError, Table

log = logging.getLogger(__name__)

DATA_FILE = DATA_DIR / "networks.toml"
MEMBER_COLUMNS = (
    "network",
    "name",
    "country",
    "city",
    "kind",
    "contact_name",
    "contact_email",
    "last_contact_on",
    "notes",
)
REQUIRED_MEMBER_COLUMNS = ("network", "name", "country")


def read_network_data(path: Path = DATA_FILE) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def load_network_defaults(session: Session, settings: Settings, now: datetime) -> None:
    """Give the seeded networks their themes and the relations their focus areas, where
    staff have not set them yet (runs after the project defaults created them)."""
    del settings, now  # part of the loader signature; nothing here depends on them
    data = read_network_data()
    changed = 0
    for item in data.get("networks", []):
        network = find_organisation(session, item["name"], None)
        if network is None or network.membership is None:
            continue
        membership = network.membership
        if not membership.themes:
            membership.themes = [
                {"theme": t["theme"], "areas": list(t.get("areas", []))} for t in item["themes"]
            ]
            changed += 1
    for item in data.get("relations", []):
        city = find_organisation(session, item["name"], item["country"])
        if city is not None and city.sister_city is not None and not city.sister_city.focus_areas:
            city.sister_city.focus_areas = list(item.get("areas", []))
            changed += 1
    session.flush()
    if changed:
        log.info("gave %d networks and relations their themes", changed)


def network_areas(membership: NetworkMembership) -> set[str]:
    """Every focus area the network works on: its own and those of its themes."""
    areas = set(membership.focus_areas or [])
    for theme in membership.themes or []:
        if isinstance(theme, Mapping):
            areas.update(str(a) for a in theme.get("areas", []))
    return areas


def themes_for(membership: NetworkMembership, areas: Iterable[str]) -> list[str]:
    """The network's themes that serve any of ``areas``."""
    wanted = set(areas)
    return [
        str(t.get("theme"))
        for t in membership.themes or []
        if isinstance(t, Mapping) and wanted & set(t.get("areas", []))
    ]


def list_networks(session: Session) -> list[Organisation]:
    """The networks we are members of, with their members loaded."""
    return list(
        session.scalars(
            select(Organisation)
            .join(NetworkMembership, NetworkMembership.network_id == Organisation.id)
            .options(selectinload(Organisation.membership))
            .order_by(Organisation.name)
        )
    )


def list_members(session: Session, network: Organisation) -> list[NetworkMember]:
    return list(
        session.scalars(
            select(NetworkMember)
            .where(NetworkMember.network_id == network.id)
            .options(selectinload(NetworkMember.organisation))
            .join(Organisation, Organisation.id == NetworkMember.organisation_id)
            .order_by(Organisation.country_code, Organisation.name)
        )
    )


def get_network(session: Session, network_id: int) -> Organisation:
    network = session.get(Organisation, network_id)
    if network is None or network.kind is not OrganisationKind.NETWORK:
        raise NotFound(msg("no network with id %(id)s", id=network_id))
    return network


@dataclass(frozen=True)
class MemberData:
    contact_name: str = ""
    contact_email: str = ""
    last_contact_on: date | None = None
    notes: str = ""


def set_network_member(
    session: Session,
    network: Organisation,
    organisation: Organisation,
    data: MemberData,
    *,
    actor: User | None,
    now: datetime,
) -> NetworkMember:
    """Record ``organisation`` as a member of ``network`` (or update what we know of it)."""
    if network.kind is not OrganisationKind.NETWORK:
        message = msg("%(name)s is not a network", name=network.name)
        raise ValidationFailed(message, {"network": message})
    if organisation.id == network.id:
        message = msg("a network cannot be its own member")
        raise ValidationFailed(message, {"organisation": message})
    member = session.scalar(
        select(NetworkMember).where(
            NetworkMember.network_id == network.id,
            NetworkMember.organisation_id == organisation.id,
        )
    )
    if member is None:
        member = NetworkMember(network=network, organisation=organisation)
        session.add(member)
    member.contact_name = data.contact_name
    member.contact_email = data.contact_email
    member.last_contact_on = data.last_contact_on
    member.notes = data.notes
    session.flush()
    record_event(
        session,
        "network_member.set",
        "organisation",
        network.id,
        actor=actor,
        now=now,
        details={"member": organisation.id},
    )
    return member


def remove_network_member(
    session: Session, member: NetworkMember, *, actor: User | None, now: datetime
) -> None:
    network_id, organisation_id = member.network_id, member.organisation_id
    session.delete(member)
    session.flush()
    record_event(
        session,
        "network_member.removed",
        "organisation",
        network_id,
        actor=actor,
        now=now,
        details={"member": organisation_id},
    )


def set_relation_contact(
    session: Session,
    relation: SisterCity,
    *,
    contact_name: str,
    last_contact_on: date | None,
    focus_areas: list[str],
    actor: User | None,
    now: datetime,
) -> SisterCity:
    """What we know of the person at a sister city, when we last spoke, and our areas."""
    relation.contact_name = contact_name.strip()
    relation.last_contact_on = last_contact_on
    relation.focus_areas = list(focus_areas)
    session.flush()
    record_event(
        session,
        "sister_city.contact",
        "organisation",
        relation.organisation_id,
        actor=actor,
        now=now,
    )
    return relation


def parse_themes(text: str, known_areas: Iterable[str]) -> list[dict[str, Any]]:
    """Themes from a text box, one a line: ``Theme | area-slug, area-slug``."""
    known = set(known_areas)
    themes: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        theme, _, areas_text = line.partition("|")
        areas = [a.strip() for a in areas_text.split(",") if a.strip()]
        unknown = [a for a in areas if a not in known]
        if not theme.strip() or unknown:
            message = msg(
                "line %(line)d: write a theme, then | and focus areas among %(areas)s",
                line=number,
                areas=", ".join(sorted(known)),
            )
            raise ValidationFailed(str(message), {"themes": str(message)})
        themes.append({"theme": theme.strip(), "areas": areas})
    return themes


def set_network_themes(
    session: Session,
    network: Organisation,
    themes: list[dict[str, Any]],
    *,
    actor: User | None,
    now: datetime,
) -> None:
    """Replace the network's themes (each with the focus areas it serves)."""
    if network.membership is None:
        message = msg("%(name)s is not a network we are a member of", name=network.name)
        raise ValidationFailed(str(message), {"themes": str(message)})
    network.membership.themes = themes
    session.flush()
    record_event(
        session,
        "network.themes",
        "organisation",
        network.id,
        actor=actor,
        now=now,
        details={"themes": len(themes)},
    )


# --- import ----------------------------------------------------------------------------------


class MemberImportError(ValidationFailed):
    """Rows of a member file that cannot be read; nothing was written."""

    def __init__(self, rows: list[RowError]) -> None:
        text = "; ".join(str(e) for e in rows[:20])
        super().__init__(text, {"file": text})
        self.rows = rows


@dataclass
class MemberImportResult:
    rows: int = 0
    added: list[str] = field(default_factory=list)
    new_organisations: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _MemberRow:
    number: int
    network: Organisation
    organisation: OrganisationData
    member: MemberData


def _member_row(
    session: Session, number: int, cells: Mapping[str, object], networks: dict[str, Organisation]
) -> tuple[_MemberRow | None, list[RowError]]:
    errors: list[RowError] = []

    def fail(column: str, message: Message) -> None:
        errors.append(RowError(number, column, message))

    network = networks.get(clean(cells.get("network")).casefold())
    if network is None:
        fail(
            "network",
            msg("no network of ours is called %(name)s", name=clean(cells.get("network"))),
        )
    name = clean(cells.get("name"))
    if not name:
        fail("name", msg("a name is required"))
    country = ""
    try:
        country = parse_country(cells.get("country"))
    except FieldError as exc:
        fail("country", exc.message)
    kind = OrganisationKind.MUNICIPALITY
    if clean(cells.get("kind")):
        try:
            kind = parse_choice(clean(cells.get("kind")), OrganisationKind)
        except FieldError as exc:
            fail("kind", exc.message)
    last_contact: date | None = None
    try:
        last_contact = parse_date(cells.get("last_contact_on"))
    except FieldError as exc:
        fail("last_contact_on", exc.message)
    if errors or network is None:
        return None, errors
    return (
        _MemberRow(
            number,
            network,
            OrganisationData(name, kind, country, clean(cells.get("city")) or None),
            MemberData(
                clean(cells.get("contact_name")),
                clean(cells.get("contact_email")),
                last_contact,
                clean(cells.get("notes")),
            ),
        ),
        [],
    )


def import_network_members(
    session: Session, table: Table, *, actor: User | None, now: datetime
) -> MemberImportResult:
    """Members from a sheet (columns ``MEMBER_COLUMNS``, one member a row). Organisations
    are matched by name and country and created when new. Nothing is written unless every
    row is valid; ValidationFailed lists the errors by row."""
    missing = [c for c in REQUIRED_MEMBER_COLUMNS if c not in table.header]
    if missing:
        raise ImportFileError(msg("the file has no column %(columns)s", columns=", ".join(missing)))
    networks = {n.name.casefold(): n for n in list_networks(session)}
    rows: list[_MemberRow] = []
    errors: list[RowError] = []
    for number, cells in table.rows:
        row, row_errors = _member_row(session, number, cells, networks)
        errors += row_errors
        if row is not None:
            rows.append(row)
    if errors:
        raise MemberImportError(errors)
    result = MemberImportResult(
        rows=len(rows), extra_columns=[c for c in table.header if c not in MEMBER_COLUMNS]
    )
    for row in rows:
        data = row.organisation
        assert data.country_code is not None
        organisation = find_organisation(session, data.name, data.country_code)
        if organisation is None:
            organisation = create_organisation(session, data, actor=actor, now=now)
            result.new_organisations.append(organisation.label)
        set_network_member(session, row.network, organisation, row.member, actor=actor, now=now)
        result.added.append(f"{organisation.label} – {row.network.name}")
    return result
