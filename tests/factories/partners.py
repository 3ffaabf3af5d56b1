"""A small world of partners for the suggestion and consortium tests: sister cities, SERN
members in Italy, a past Creative Europe partner, and calls with country rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import NOW, make_call, make_profile
from tests.factories.projects import add_partner, make_organisation, make_project
from tracker.models import (
    CallMatch,
    FocusArea,
    FundingCall,
    NetworkMember,
    NetworkMembership,
    Organisation,
    OrganisationKind,
    ProjectStatus,
    SisterCity,
    SisterCityRelation,
)

TODAY = NOW.date()


@dataclass
class World:
    sern: Organisation
    bologna: Organisation
    parma: Organisation
    riga: Organisation
    esslingen: Organisation
    xuzhou: Organisation
    aarhus: Organisation
    oslo_music: Organisation


def build_world(session: Session) -> World:
    _ensure_profile(session)
    sern = make_organisation(session, name="SERN", kind=OrganisationKind.NETWORK, country_code=None)
    session.add(
        NetworkMembership(
            network=sern,
            focus_areas=[],
            themes=[
                {
                    "theme": "Services for the growing elderly population",
                    "areas": ["health-welfare"],
                },
                {"theme": "More citizen influence", "areas": ["participation-democracy"]},
            ],
        )
    )
    bologna = make_organisation(
        session, name="Comune di Bologna", country_code="IT", city="Bologna"
    )
    parma = make_organisation(session, name="Comune di Parma", country_code="IT", city="Parma")
    session.add_all(
        [
            NetworkMember(
                network=sern,
                organisation=bologna,
                contact_name="Giulia",
                last_contact_on=date(2026, 9, 1),
            ),
            NetworkMember(network=sern, organisation=parma, last_contact_on=date(2022, 1, 10)),
        ]
    )
    riga = make_organisation(session, name="Riga", country_code="LV", city="Riga")
    esslingen = make_organisation(session, name="Esslingen am Neckar", country_code="DE")
    xuzhou = make_organisation(session, name="Xuzhou", country_code="CN")
    session.add_all(
        [
            SisterCity(
                organisation=riga,
                relation=SisterCityRelation.TWIN_TOWN,
                focus_areas=["participation-democracy"],
                last_contact_on=date(2026, 6, 1),
            ),
            SisterCity(
                organisation=esslingen,
                relation=SisterCityRelation.TWIN_TOWN,
                focus_areas=["participation-democracy"],
            ),
            SisterCity(
                organisation=xuzhou,
                relation=SisterCityRelation.PLANNED,
                focus_areas=["culture-music", "participation-democracy"],
            ),
        ]
    )
    aarhus = make_organisation(
        session, name="Aarhus Musikhus", kind=OrganisationKind.NGO, country_code="DK"
    )
    past = make_project(
        session,
        title="Sounds of Cities",
        programme="Creative Europe (CREA)",
        status=ProjectStatus.AWARDED,
        focus_areas=["culture-music"],
        submitted_on=date(2024, 3, 1),
    )
    add_partner(session, past, aarhus)
    oslo_music = make_organisation(
        session, name="Oslo Musikkråd", kind=OrganisationKind.NGO, country_code="NO"
    )
    rejected = make_project(
        session,
        title="Music for All",
        programme="Creative Europe (CREA)",
        status=ProjectStatus.REJECTED,
        focus_areas=["culture-music"],
        submitted_on=date(2025, 3, 1),
    )
    add_partner(session, rejected, oslo_music)
    session.flush()
    return World(sern, bologna, parma, riga, esslingen, xuzhou, aarhus, oslo_music)


AREAS = ("culture-music", "health-welfare", "participation-democracy")


def _ensure_profile(session: Session) -> None:
    if session.scalars(select(FocusArea).where(FocusArea.slug == AREAS[0])).first() is None:
        make_profile(session, AREAS)


def match(session: Session, call: FundingCall, *slugs: str) -> None:
    """Record the call as matching the focus areas ``slugs``."""
    _ensure_profile(session)
    for slug in slugs:
        area = session.scalars(select(FocusArea).where(FocusArea.slug == slug)).first()
        assert area is not None
        session.add(
            CallMatch(
                call_id=call.id, focus_area_id=area.id, score=80.0, is_match=True, matched_at=NOW
            )
        )
    session.flush()


def culture_call(session: Session) -> FundingCall:
    """A Creative Europe cooperation call open to EU member states only."""
    call = make_call(
        session,
        programme_code="CREA",
        programme_label="Creative Europe (CREA)",
        description_text=(
            "European cooperation projects. The consortium must be composed of minimum 3 "
            "independent entities from 3 different eligible countries. To be eligible, "
            "applicants must be established in one of the eligible countries, i.e. EU Member "
            "States (including OCTs)."
        ),
    )
    match(session, call, "culture-music")
    return call


def twinning_call(session: Session) -> FundingCall:
    """A cross-border call that takes partners from Latvia and Lithuania only."""
    call = make_call(
        session,
        programme_code="INTERREG-LV-LT",
        programme_label="Interreg Latvia-Lithuania",
        description_text=(
            "Citizens' participation across the border. Each project must have at least one "
            "partner from Latvia and one partner from Lithuania."
        ),
    )
    match(session, call, "participation-democracy")
    return call
