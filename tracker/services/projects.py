"""The participation log: creating, changing and listing projects and their partners.

Every change is recorded with ``record_event`` under entity type ``project`` so a project's
page can show its whole history, financing lines and partners included.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from tracker.errors import NotFound, ValidationFailed
from tracker.i18n import Message, msg
from tracker.models import (
    AuditEvent,
    CoFinancingLine,
    Currency,
    FocusArea,
    FundingCall,
    Office,
    Organisation,
    Project,
    ProjectPartner,
    ProjectRole,
    ProjectStatus,
    StrategyProfile,
    User,
)
from tracker.models.projects import NOT_YET_SUBMITTED
from tracker.services.audit import record_event
from tracker.services.fields import (
    FieldError,
    clean,
    is_web_url,
    parse_amount,
    parse_choice,
    parse_date,
    parse_rate,
)

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass(frozen=True)
class Document:
    label: str
    url: str


@dataclass(frozen=True)
class ProjectData:
    """Every field of a project that people edit, already typed."""

    title: str
    lead_office_id: int
    status: ProjectStatus = ProjectStatus.IDEA
    role: ProjectRole = ProjectRole.PARTNER
    acronym: str | None = None
    programme: str | None = None
    call_id: int | None = None
    contact_id: int | None = None
    focus_areas: tuple[str, ...] = ()
    submitted_on: date | None = None
    decision_on: date | None = None
    start_on: date | None = None
    end_on: date | None = None
    registry_number: str | None = None
    currency: Currency = Currency.EUR
    total_budget: Decimal | None = None
    municipality_budget: Decimal | None = None
    eu_grant: Decimal | None = None
    eu_grant_rate: Decimal | None = None
    own_contribution_cash: Decimal | None = None
    own_contribution_in_kind: Decimal | None = None
    covers_ordinary_municipal_tasks: bool = False
    outcome: str = ""
    results: str = ""
    documents: tuple[Document, ...] = field(default=())

    @classmethod
    def from_project(cls, project: Project) -> ProjectData:
        values = {f.name: getattr(project, f.name) for f in dataclasses.fields(cls)}
        values["focus_areas"] = tuple(project.focus_areas)
        values["documents"] = tuple(
            Document(label=str(d.get("label", "")), url=str(d.get("url", "")))
            for d in project.documents
            if isinstance(d, dict)
        )
        return cls(**values)

    def column_values(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values["focus_areas"] = list(self.focus_areas)
        values["documents"] = [dataclasses.asdict(d) for d in self.documents]
        return values


# --- reading forms --------------------------------------------------------------------------

AMOUNT_FIELDS = (
    "total_budget",
    "municipality_budget",
    "eu_grant",
    "own_contribution_cash",
    "own_contribution_in_kind",
)
DATE_FIELDS = ("submitted_on", "decision_on", "start_on", "end_on")


def read_project_form(
    session: Session, raw: Mapping[str, str], focus_areas: Sequence[str] = ()
) -> ProjectData:
    """A ``ProjectData`` from the strings of the project form (amounts may be written the
    Swedish way); ValidationFailed maps each unreadable field to its message."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "title": clean(raw.get("title")),
        "acronym": clean(raw.get("acronym")) or None,
        "programme": clean(raw.get("programme")) or None,
        "registry_number": clean(raw.get("registry_number")) or None,
        "focus_areas": tuple(dict.fromkeys(s.strip() for s in focus_areas if s.strip())),
        "covers_ordinary_municipal_tasks": clean(raw.get("covers_ordinary_municipal_tasks"))
        in ("1", "on", "true", "yes"),
        "outcome": clean(raw.get("outcome")),
        "results": clean(raw.get("results")),
    }
    choices: tuple[tuple[str, type[enum.StrEnum]], ...] = (
        ("status", ProjectStatus),
        ("role", ProjectRole),
        ("currency", Currency),
    )
    for key, choice_type in choices:
        try:
            values[key] = parse_choice(raw.get(key, ""), choice_type)
        except FieldError as exc:
            errors[key] = exc.message
    for key in DATE_FIELDS:
        try:
            values[key] = parse_date(raw.get(key))
        except FieldError as exc:
            errors[key] = exc.message
    for key in AMOUNT_FIELDS:
        try:
            values[key] = parse_amount(raw.get(key), lenient=True)
        except FieldError as exc:
            errors[key] = exc.message
    try:
        values["eu_grant_rate"] = parse_rate(raw.get("eu_grant_rate"))
    except FieldError as exc:
        errors["eu_grant_rate"] = exc.message
    office_key = clean(raw.get("lead_office"))
    office = find_office(session, office_key) if office_key else None
    if office is None:
        errors["lead_office"] = msg("choose the office that leads the project")
    values["lead_office_id"] = office.id if office else 0
    values["contact_id"] = _read_id(raw.get("contact_id"), "contact_id", errors)
    call_key = clean(raw.get("call"))
    values["call_id"] = None
    if call_key:
        call = find_call(session, call_key)
        if call is None:
            errors["call"] = msg("no funding call with identifier %(key)s", key=call_key)
        else:
            values["call_id"] = call.id
    try:
        values["documents"] = parse_documents(raw.get("documents", ""))
    except FieldError as exc:
        errors["documents"] = exc.message
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)
    return ProjectData(**values)


def _read_id(value: object, key: str, errors: dict[str, str]) -> int | None:
    text = clean(value)
    if not text:
        return None
    if not text.isdecimal():
        errors[key] = msg("choose from the list")
        return None
    return int(text)


def parse_documents(text: str) -> tuple[Document, ...]:
    """One link per line, ``Label | https://...`` or just the address."""
    documents = []
    for line in clean(text).splitlines():
        line = line.strip()
        if not line:
            continue
        label, _, url = line.rpartition("|") if "|" in line else ("", "", line)
        url = url.strip()
        if not is_web_url(url):
            raise FieldError(msg("%(link)r is not a web address starting with https://", link=url))
        documents.append(Document(label=label.strip() or url, url=url))
    return tuple(documents)


def format_documents(documents: Sequence[Document]) -> str:
    return "\n".join(d.url if d.label == d.url else f"{d.label} | {d.url}" for d in documents)


def find_office(session: Session, key: str) -> Office | None:
    """An office by slug, or by its Swedish or English name (any case)."""
    wanted = key.strip().casefold()
    offices = list(session.scalars(select(Office).order_by(Office.id)))
    return next((o for o in offices if o.slug == wanted), None) or next(
        (o for o in offices if wanted in (o.name_sv.casefold(), o.name_en.casefold())), None
    )


def find_call(session: Session, key: str) -> FundingCall | None:
    """A funding call by its identifier (any case) or, for a number, its id."""
    key = key.strip()
    call = session.scalars(
        select(FundingCall).where(func.lower(FundingCall.identifier) == key.lower())
    ).first()
    if call is None and key.isdecimal():
        call = session.get(FundingCall, int(key))
    return call


def active_focus_areas(session: Session) -> list[FocusArea]:
    """The focus areas of the active strategy profile that are not retired."""
    return list(
        session.scalars(
            select(FocusArea)
            .join(StrategyProfile)
            .where(StrategyProfile.is_active, FocusArea.is_retired.is_(False))
            .order_by(FocusArea.position, FocusArea.slug)
        )
    )


# --- business rules -------------------------------------------------------------------------


def check_project(session: Session, data: ProjectData) -> dict[str, Message]:
    """Field name -> message for every rule ``data`` breaks (empty when it is fine)."""
    errors: dict[str, Message] = {}
    if not data.title:
        errors["title"] = msg("a title is required")
    limits = (("title", 500), ("acronym", 64), ("programme", 200), ("registry_number", 64))
    for key, limit in limits:
        value = getattr(data, key)
        if value and len(value) > limit:
            errors[key] = msg("at most %(count)d characters", count=limit)
    if session.get(Office, data.lead_office_id) is None:
        errors["lead_office"] = msg("choose the office that leads the project")
    if data.contact_id is not None and session.get(User, data.contact_id) is None:
        errors["contact_id"] = msg("choose from the list")
    if data.call_id is not None and session.get(FundingCall, data.call_id) is None:
        errors["call"] = msg("no such funding call")
    sent = data.status not in NOT_YET_SUBMITTED and data.status is not ProjectStatus.WITHDRAWN
    if sent and data.submitted_on is None:
        errors["submitted_on"] = msg("a project that has been submitted needs its submission date")
    if sent and not data.programme:
        errors["programme"] = msg("a project that has been submitted needs its programme")
    if data.submitted_on and data.decision_on and data.decision_on < data.submitted_on:
        errors["decision_on"] = msg("the decision cannot come before the submission")
    if data.start_on and data.end_on and data.end_on < data.start_on:
        errors["end_on"] = msg("the project cannot end before it starts")
    total, municipal = data.total_budget, data.municipality_budget
    if total is not None and municipal is not None and municipal > total:
        errors["municipality_budget"] = msg(
            "the municipality's budget cannot exceed the total budget"
        )
    if municipal is not None and data.eu_grant is not None and data.eu_grant > municipal:
        errors["eu_grant"] = msg(
            "the municipality's EU grant cannot exceed the municipality's budget"
        )
    own = (data.own_contribution_cash or Decimal(0)) + (data.own_contribution_in_kind or 0)
    if municipal is not None and own > municipal:
        errors["own_contribution_cash"] = msg(
            "the own contribution cannot exceed the municipality's budget"
        )
    # Without an active strategy profile any well-formed slug is kept.
    known = {a.slug for a in active_focus_areas(session)}
    if known:
        unknown = [s for s in data.focus_areas if s not in known]
    else:
        unknown = [s for s in data.focus_areas if not SLUG.match(s)]
    if unknown:
        errors["focus_areas"] = msg(
            "unknown focus area: %(slugs)s", slugs=", ".join(sorted(unknown))
        )
    for document in data.documents:
        if not is_web_url(document.url):
            errors["documents"] = msg(
                "%(link)r is not a web address starting with https://", link=document.url
            )
    return errors


def _require_valid(session: Session, data: ProjectData) -> None:
    errors = check_project(session, data)
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)


# --- changes --------------------------------------------------------------------------------


def create_project(
    session: Session,
    data: ProjectData,
    *,
    actor: User | None,
    now: datetime,
    source: str = "form",
) -> Project:
    """Add a project to the log (audited)."""
    _require_valid(session, data)
    project = Project(**data.column_values(), created_at=now, updated_at=now)
    session.add(project)
    session.flush()
    record_event(
        session,
        "project.created",
        "project",
        project.id,
        actor=actor,
        now=now,
        details={"title": project.title, "status": project.status.value, "source": source},
    )
    return project


def update_project(
    session: Session,
    project: Project,
    data: ProjectData,
    *,
    actor: User | None,
    now: datetime,
    source: str = "form",
) -> dict[str, list[Any]]:
    """Apply ``data`` to ``project``; returns (and audits) the changes as field -> [old, new]."""
    _require_valid(session, data)
    before = ProjectData.from_project(project).column_values()
    after = data.column_values()
    changes = {
        key: [to_json(before[key]), to_json(value)]
        for key, value in after.items()
        if before[key] != value
    }
    if not changes:
        return {}
    for key in changes:
        setattr(project, key, after[key])
    project.updated_at = now
    session.flush()
    record_event(
        session,
        "project.updated",
        "project",
        project.id,
        actor=actor,
        now=now,
        details={"changes": changes, "source": source},
    )
    return changes


def delete_project(
    session: Session, project: Project, *, actor: User | None, now: datetime
) -> None:
    """Remove a project registered by mistake; the audit log keeps its title."""
    record_event(
        session,
        "project.deleted",
        "project",
        project.id,
        actor=actor,
        now=now,
        details={"title": project.title, "status": project.status.value},
    )
    session.delete(project)
    session.flush()


def add_partner(
    session: Session,
    project: Project,
    organisation: Organisation,
    role: ProjectRole,
    *,
    actor: User | None,
    now: datetime,
) -> ProjectPartner:
    """Add ``organisation`` to the project's partners, or change its role if it is there."""
    link = next((p for p in project.partners if p.organisation_id == organisation.id), None)
    if link is not None and link.role is role:
        return link
    if link is None:
        link = ProjectPartner(role=role)
        project.partners.append(link)
        link.organisation = organisation
        action = "project.partner_added"
    else:
        link.role = role
        action = "project.partner_changed"
    project.updated_at = now
    session.flush()
    record_event(
        session,
        action,
        "project",
        project.id,
        actor=actor,
        now=now,
        details={"partner": organisation.label, "role": role.value},
    )
    return link


def remove_partner(
    session: Session, project: Project, partner_id: int, *, actor: User | None, now: datetime
) -> None:
    link = next((p for p in project.partners if p.id == partner_id), None)
    if link is None:
        raise NotFound(msg("that organisation is not a partner of this project"))
    if any(line.applicant_id == link.organisation_id for line in project.lines):
        raise ValidationFailed(
            msg(
                "%(partner)s applies for a co-financing line; change the line first",
                partner=link.organisation.name,
            ),
            {},
        )
    project.partners.remove(link)
    project.updated_at = now
    session.flush()
    record_event(
        session,
        "project.partner_removed",
        "project",
        project.id,
        actor=actor,
        now=now,
        details={"partner": link.organisation.label},
    )


# --- reading --------------------------------------------------------------------------------


def get_project(session: Session, project_id: int) -> Project:
    project = session.scalars(
        select(Project)
        .where(Project.id == project_id)
        .options(
            selectinload(Project.partners).selectinload(ProjectPartner.organisation),
            selectinload(Project.lines).selectinload(CoFinancingLine.funder),
            selectinload(Project.lines).selectinload(CoFinancingLine.applicant),
        )
    ).first()
    if project is None:
        raise NotFound(msg("no project with id %(id)s", id=project_id))
    return project


def list_projects(
    session: Session,
    *,
    status: ProjectStatus | None = None,
    office_id: int | None = None,
    year: int | None = None,
    text: str = "",
) -> list[Project]:
    """Projects, newest submission first (ideas without a date last), with their partners."""
    query = select(Project).options(
        selectinload(Project.partners).selectinload(ProjectPartner.organisation),
        selectinload(Project.lead_office),
    )
    if status is not None:
        query = query.where(Project.status == status)
    if office_id is not None:
        query = query.where(Project.lead_office_id == office_id)
    if year is not None:
        query = query.where(
            Project.submitted_on >= date(year, 1, 1), Project.submitted_on <= date(year, 12, 31)
        )
    if text.strip():
        pattern = f"%{text.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(Project.title).like(pattern),
                func.lower(Project.acronym).like(pattern),
                func.lower(Project.programme).like(pattern),
                func.lower(Project.registry_number).like(pattern),
            )
        )
    projects = list(session.scalars(query.order_by(Project.id)))
    projects.sort(key=lambda p: (p.submitted_on is None, -(p.submitted_on or date.min).toordinal()))
    return projects


def project_history(session: Session, project: Project) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "project", AuditEvent.entity_id == str(project.id))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        )
    )


def apply_changes(row: object, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Set on ``row`` each of ``values`` that differs from what it holds; returns those
    changes as field -> [old, new] in the audit log's form (``to_json``)."""
    changes: dict[str, list[Any]] = {}
    for key, value in values.items():
        old = getattr(row, key)
        if old != value:
            changes[key] = [to_json(old), to_json(value)]
            setattr(row, key, value)
    return changes


def to_json(value: object) -> object:
    """A value as it is kept in the audit log and printed by ``projects list --json``."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def project_as_dict(project: Project) -> dict[str, Any]:
    """Everything about a project, as plain JSON values."""
    data = ProjectData.from_project(project).column_values()
    result: dict[str, Any] = {"id": project.id}
    result.update({key: to_json(value) for key, value in data.items()})
    result["lead_office"] = project.lead_office.slug
    del result["lead_office_id"]
    result["call"] = project.call.identifier if project.call else None
    result["contact"] = project.contact.email if project.contact else None
    result["partners"] = [
        {"name": p.organisation.name, "country": p.organisation.country_code, "role": p.role.value}
        for p in project.partners
    ]
    result["cofinancing"] = [
        {
            "funder": line.funder.name,
            "amount": str(line.amount),
            "currency": line.currency.value,
            "contribution": line.contribution.value,
            "status": line.status.value,
            "decision_body": line.decision_body,
            "meeting_on": to_json(line.meeting_on),
        }
        for line in project.lines
    ]
    result["updated_at"] = project.updated_at.isoformat()
    return result
