"""Factories for the projects area: ``make_x(session, **overrides)`` adds and flushes a row."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from tests.factories import NOW, make_office
from tracker.models import (
    CoFinancingLine,
    Contribution,
    Currency,
    Delegation,
    DelegationKind,
    Funder,
    FunderKind,
    LineStatus,
    Office,
    Organisation,
    OrganisationKind,
    Project,
    ProjectPartner,
    ProjectRole,
    ProjectStatus,
)

_counter = itertools.count(1)


def make_organisation(session: Session, **overrides: Any) -> Organisation:
    n = next(_counter)
    values: dict[str, Any] = {
        "name": f"Partner {n}",
        "kind": OrganisationKind.MUNICIPALITY,
        "country_code": "LV",
        "city": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    organisation = Organisation(**values)
    session.add(organisation)
    session.flush()
    return organisation


def make_funder(session: Session, **overrides: Any) -> Funder:
    n = next(_counter)
    values: dict[str, Any] = {
        "name": f"Funder {n}",
        "kind": FunderKind.FOUNDATION,
        "programmes": [],
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    funder = Funder(**values)
    session.add(funder)
    session.flush()
    return funder


def make_project(session: Session, office: Office | None = None, **overrides: Any) -> Project:
    n = next(_counter)
    values: dict[str, Any] = {
        "title": f"Project {n}",
        "programme": "Creative Europe",
        "role": ProjectRole.PARTNER,
        "status": ProjectStatus.SUBMITTED,
        "lead_office": office or make_office(session),
        "currency": Currency.EUR,
        "submitted_on": date(2025, 3, 1),
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    project = Project(**values)
    session.add(project)
    session.flush()
    return project


def add_partner(
    session: Session,
    project: Project,
    organisation: Organisation,
    role: ProjectRole = ProjectRole.PARTNER,
) -> ProjectPartner:
    link = ProjectPartner(role=role)
    project.partners.append(link)
    link.organisation = organisation
    session.flush()
    return link


def make_line(
    session: Session, project: Project, funder: Funder, amount: str | int, **overrides: Any
) -> CoFinancingLine:
    values: dict[str, Any] = {
        "amount": Decimal(str(amount)),
        "currency": Currency.EUR,
        "contribution": Contribution.CASH,
        "status": LineStatus.DECIDED,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    line = CoFinancingLine(**values)
    project.lines.append(line)
    line.funder = funder
    session.flush()
    return line


def make_delegation(session: Session, visited_on: date, **overrides: Any) -> Delegation:
    values: dict[str, Any] = {
        "visited_on": visited_on,
        "kind": DelegationKind.DELEGATION,
        "origin": "Riga City Council",
        "topic": "Smart city",
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    delegation = Delegation(**values)
    session.add(delegation)
    session.flush()
    return delegation
