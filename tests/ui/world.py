"""A populated tracker for tests that look at whole pages: the default strategy profile and
seeds, three people in two offices, calls matched by the real engine (one gated), a project
with partners and co-financing, a delegation. Every main page has something to show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import make_settings
from tests.factories import NOW, make_call, make_office, make_user
from tests.factories.projects import (
    add_partner,
    make_delegation,
    make_funder,
    make_line,
    make_organisation,
    make_project,
)
from tracker.models import CallDeadline, Funder, ProjectRole, ProjectStatus, Role
from tracker.services.bootstrap import load_defaults
from tracker.services.strategy import match_calls

CALL_TEXTS = (
    (
        "Town twinning for citizens' dialogue on climate adaptation in European cities",
        "Municipalities and local authorities twin with towns in other member states to "
        "exchange how cities adapt to climate change, involve citizens and young people, "
        "and strengthen democratic participation at local level.",
    ),
    (
        "Music festivals and cultural heritage in small and medium-sized cities",
        "Support for music festivals, orchestras and cultural heritage sites run by cities "
        "and cultural organisations; audience development and creative industries.",
    ),
    (
        "Energy renovation of public buildings and district heating",
        "Local authorities renovate schools and public buildings, cut energy use and "
        "connect buildings to renewable district heating networks.",
    ),
    (
        "Adult education, vocational training and skills for the green transition",
        "Schools, universities and municipalities design vocational education and training "
        "and lifelong learning for adults; mobility of teachers and learners.",
    ),
    (
        "Sustainable urban mobility: cycling, public transport and clean buses",
        "Cities plan sustainable urban mobility, cycling networks, public transport and "
        "zero-emission buses, with local authorities and transport operators.",
    ),
)


@dataclass(frozen=True)
class World:
    admin_id: int
    editor_id: int
    colleague_id: int
    call_ids: list[int]
    gated_call_id: int
    project_id: int
    office_slug: str


def populate(session: Session, *, now: datetime = NOW) -> World:
    """Fill an empty database; the caller commits."""
    load_defaults(session, make_settings("sqlite://"), now=now)
    office = make_office(
        session, slug="kultur", name_sv="Kultur- och fritidskontoret", name_en="Culture office"
    )
    other_office = make_office(
        session, slug="miljo", name_sv="Miljökontoret", name_en="Environment office"
    )
    admin = make_user(
        session, role=Role.ADMIN, email="ada@norrkoping.test", display_name="Ada Admin"
    )
    editor = make_user(
        session, role=Role.EDITOR, email="eva@norrkoping.test", display_name="Eva Ek"
    )
    colleague = make_user(
        session,
        role=Role.EDITOR,
        email="kim@norrkoping.test",
        display_name="Kim Lund",
        office=office,
    )
    calls = []
    for n, (title, description) in enumerate(CALL_TEXTS):
        deadline = (now + timedelta(days=12 + 9 * n)).replace(hour=15, minute=0)
        calls.append(
            make_call(
                session,
                title=title,
                description_text=description,
                deadlines=[deadline],
                programme_code="CERV" if n == 0 else "43251814",
                programme_label="Citizens, Equality, Rights and Values (CERV)"
                if n == 0
                else "Creative Europe (CREA)",
                eligible_applicants="Public bodies, local and regional authorities",
                budget_total_eur=Decimal("4000000"),
                budget_max_eur=Decimal("60000"),
                cofinancing_rate=Decimal("90"),
            )
        )
    gated = make_call(
        session,
        title="Closed call on city climate adaptation and cultural heritage",
        description_text="Cities adapt cultural heritage sites to climate change.",
        deadlines=[datetime(2025, 3, 4, 16, 0, tzinfo=UTC)],
    )
    gated.deadlines.append(
        CallDeadline(deadline_at=datetime(2025, 1, 14, 16, 0, tzinfo=UTC), stage="first stage")
    )
    session.flush()
    match_calls(session, None, now=now)

    funder = session.scalars(select(Funder).order_by(Funder.name)).first() or make_funder(session)
    project = make_project(
        session,
        office,
        title="Music in the twin towns",
        acronym="MUSTWIN",
        status=ProjectStatus.RUNNING,
        role=ProjectRole.LEAD,
        start_on=date(2026, 1, 1),
        end_on=date(2027, 12, 31),
        total_budget=Decimal("500000"),
        municipality_budget=Decimal("120000"),
        eu_grant=Decimal("300000"),
        own_contribution_cash=Decimal("50000"),
    )
    for name in ("Rīgas pilsētas pašvaldība", "Stadt Linz", "Comune di Bologna"):
        add_partner(session, project, make_organisation(session, name=name))
    make_line(session, project, funder, 200000)
    make_project(session, other_office, title="Clean buses for Norrköping", acronym="CLEANBUS")
    make_delegation(session, date(2026, 10, 2))
    session.flush()
    return World(
        admin_id=admin.id,
        editor_id=editor.id,
        colleague_id=colleague.id,
        call_ids=[c.id for c in calls],
        gated_call_id=gated.id,
        project_id=project.id,
        office_slug=office.slug,
    )


MAIN_PAGES = (
    "/",
    "/calls",
    "/calls?status=all&state=all",
    "/calendar",
    "/projects/",
    "/organisations/",
    "/funders/",
    "/delegations/",
    "/strategy/",
    "/strategy/matches",
    "/reports/",
    "/settings/digest",
    "/admin/users",
    "/admin/offices",
    "/admin/sources",
    "/admin/manual-calls",
    "/admin/digests",
)


def main_pages(world: World) -> list[str]:
    """Every main page, with one call page, one gated call page and one project page."""
    return [
        *MAIN_PAGES,
        f"/calls/{world.call_ids[0]}",
        f"/calls/{world.gated_call_id}",
        f"/strategy/calls/{world.call_ids[0]}",
        f"/projects/{world.project_id}",
    ]
