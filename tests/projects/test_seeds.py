"""The defaults: networks and sister cities from the strategy, funders with their rules."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import make_settings
from tests.factories import NOW, login, make_user
from tracker.models import (
    Funder,
    NetworkMembership,
    Organisation,
    OrganisationKind,
    Role,
    SisterCity,
    SisterCityRelation,
    Source,
    SourceKind,
)
from tracker.services.bootstrap import DEFAULT_LOADERS, load_defaults


def counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Organisation, NetworkMembership, SisterCity, Funder)
    )


def test_the_defaults_are_loaded_once_and_leave_edits_alone(
    session: Session, database_url: str
) -> None:
    assert "tracker.services.project_seeds:load_project_defaults" in DEFAULT_LOADERS
    session.add(Source(name="vinnova", kind=SourceKind.VINNOVA, url="https://x", created_at=NOW))
    settings = make_settings(database_url)
    load_defaults(session, settings, now=NOW)
    first = counts(session)
    arvsfonden = session.scalars(select(Funder).where(Funder.name == "Allmänna arvsfonden")).one()
    arvsfonden.rules_text = "Edited by staff"
    session.flush()
    load_defaults(session, settings, now=NOW)
    assert counts(session) == first
    assert arvsfonden.rules_text == "Edited by staff"


def test_networks_and_sister_cities_of_the_strategy_are_there(
    session: Session, database_url: str
) -> None:
    load_defaults(session, make_settings(database_url), now=NOW)
    memberships = {m.network.name: m for m in session.scalars(select(NetworkMembership))}
    assert set(memberships) == {
        "UNESCO Creative Cities Network",
        "EUniverCities",
        "SERN – Sweden Emilia-Romagna Network",
        "Nordic City Network",
    }
    assert memberships["UNESCO Creative Cities Network"].since_year == 2017
    assert memberships["EUniverCities"].since_year == 2012
    assert "inclusion-migration" in memberships["SERN – Sweden Emilia-Romagna Network"].focus_areas
    assert all(m.network.kind is OrganisationKind.NETWORK for m in memberships.values())
    cities = {
        (s.organisation.name, s.organisation.country_code): s.relation
        for s in session.scalars(select(SisterCity))
    }
    for city in (("Riga", "LV"), ("Esslingen am Neckar", "DE"), ("Linz", "AT")):
        assert cities[city] is SisterCityRelation.TWIN_TOWN
    assert cities[("Xuzhou", "CN")] is SisterCityRelation.PLANNED
    assert {c for c, _ in cities} >= {"Tampere", "Odense", "Trondheim", "Kópavogur"}


def test_funders_carry_the_rules_the_plans_are_checked_against(
    session: Session, database_url: str
) -> None:
    session.add(Source(name="vinnova", kind=SourceKind.VINNOVA, url="https://x", created_at=NOW))
    session.flush()
    load_defaults(session, make_settings(database_url), now=NOW)
    funders = {f.name: f for f in session.scalars(select(Funder))}
    arvsfonden = funders["Allmänna arvsfonden"]
    assert arvsfonden.requires_civil_society_partner and not arvsfonden.municipalities_may_apply
    assert funders["Sparbanksstiftelser"].excludes_ordinary_municipal_tasks
    eruf = funders["Tillväxtverket – Europeiska regionala utvecklingsfonden (ERUF)"]
    assert eruf.is_eu and eruf.forbids_double_eu_funding
    assert not funders["Region Östergötland – regionala utvecklingsmedel"].is_eu
    assert funders["Norrköpings kommun – egen budget"].kind.value == "own_budget"
    assert {
        "Kulturrådet",
        "Nordplus",
        "Svenska institutet",
        "ESF-rådet – Europeiska socialfonden+ (ESF+)",
    } <= set(funders)
    assert funders["Vinnova"].source is not None and funders["Vinnova"].source.name == "vinnova"


@pytest.mark.parametrize("language", ["sv", "en"])
def test_seeded_texts_are_shown_in_the_readers_language(
    session: Session, client: FlaskClient, database_url: str, language: str
) -> None:
    """Funders' rules, networks' descriptions, sister cities' topics and partners' notes that
    the defaults seeded read in the interface's language; a text staff edited stays as
    written in both."""
    load_defaults(session, make_settings(database_url), now=NOW)
    edited = session.scalars(select(Funder).where(Funder.name == "Sparbanksstiftelser")).one()
    edited.rules_text = "Vår egen anteckning om stiftelserna."
    login(client, make_user(session, role=Role.VIEWER, language=language))
    university = session.scalars(
        select(Organisation).where(Organisation.name == "Linköpings universitet")
    ).one()
    unesco = session.scalars(
        select(Organisation).where(Organisation.name == "UNESCO Creative Cities Network")
    ).one()
    pages = {
        path: client.get(path).get_data(as_text=True)
        for path in (
            "/funders/",
            "/organisations/",
            f"/organisations/{university.id}",
            f"/organisations/{unesco.id}",
        )
    }
    swedish_english = {
        "/funders/": (
            "Söks främst av kulturaktörer",
            "Mainly for cultural organisations and institutions",
        ),
        "/organisations/": (
            "Nordisk vänort",
            "Nordic twin town",
        ),
        f"/organisations/{university.id}": (
            "Campus Norrköping; partner i EUniverCities.",
            "Campus Norrköping; partner in EUniverCities.",
        ),
        f"/organisations/{unesco.id}": (
            "Norrköping är UNESCO City of Music sedan 2017",
            "Norrköping has been a UNESCO City of Music since 2017",
        ),
    }
    for path, (swedish, english) in swedish_english.items():
        shown, hidden = (english, swedish) if language == "en" else (swedish, english)
        assert shown in pages[path], path
        assert hidden not in pages[path], path
    assert "Vår egen anteckning om stiftelserna." in pages["/funders/"]
