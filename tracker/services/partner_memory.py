"""Partner memory: what we considered and did with an organisation, and what our networks
and sister cities have yielded (applications and awards with their members)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.models import (
    ConsortiumDraft,
    ConsortiumMember,
    FundingCall,
    NetworkMember,
    NetworkMembership,
    Organisation,
    Project,
    ProjectPartner,
    ProjectRole,
    SisterCity,
)


@dataclass(frozen=True)
class ConsideredCall:
    call: FundingCall
    role: ProjectRole
    project: Project | None


def considered_calls(session: Session, organisation: Organisation) -> list[ConsideredCall]:
    """Every call whose consortium draft has the organisation, latest draft first."""
    rows = session.execute(
        select(ConsortiumMember.role, ConsortiumDraft)
        .join(ConsortiumDraft, ConsortiumDraft.id == ConsortiumMember.draft_id)
        .where(ConsortiumMember.organisation_id == organisation.id)
        .options(selectinload(ConsortiumDraft.call), selectinload(ConsortiumDraft.project))
        .order_by(ConsortiumDraft.updated_at.desc())
    )
    return [ConsideredCall(draft.call, role, draft.project) for role, draft in rows]


@dataclass(frozen=True)
class Yield:
    """What one network or sister city brought: projects we applied for with them."""

    organisation: Organisation
    relation: str  # network or sister_city
    partners: int  # members (or 1 for a city) we know
    applications: int
    awards: int

    @property
    def award_rate(self) -> float | None:
        return self.awards / self.applications if self.applications else None


def _counts(projects: dict[int, Project]) -> tuple[int, int]:
    applications = [p for p in projects.values() if p.is_application]
    return len(applications), sum(1 for p in applications if p.is_awarded)


def network_yield(session: Session) -> list[Yield]:
    """Applications and awards per network (projects with any of its members as partner)
    and per sister city, most applications first."""
    by_org: dict[int, dict[int, Project]] = {}
    for link in session.scalars(
        select(ProjectPartner).options(selectinload(ProjectPartner.project))
    ):
        by_org.setdefault(link.organisation_id, {})[link.project_id] = link.project
    out: list[Yield] = []
    networks = session.scalars(
        select(Organisation).join(
            NetworkMembership, NetworkMembership.network_id == Organisation.id
        )
    )
    members: dict[int, list[int]] = {}
    for network_id, org_id in session.execute(
        select(NetworkMember.network_id, NetworkMember.organisation_id)
    ):
        members.setdefault(network_id, []).append(org_id)
    for network in networks:
        projects: dict[int, Project] = {}
        for org_id in [network.id, *members.get(network.id, [])]:
            projects.update(by_org.get(org_id, {}))
        applications, awards = _counts(projects)
        out.append(
            Yield(network, "network", len(members.get(network.id, [])), applications, awards)
        )
    for city in session.scalars(
        select(Organisation).join(SisterCity, SisterCity.organisation_id == Organisation.id)
    ):
        applications, awards = _counts(by_org.get(city.id, {}))
        out.append(Yield(city, "sister_city", 1, applications, awards))
    out.sort(key=lambda y: (-y.applications, -y.awards, y.organisation.name.casefold()))
    return out
