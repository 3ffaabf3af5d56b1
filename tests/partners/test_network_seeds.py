"""Networks as data: the seeded networks get their themes mapped to focus areas, and the
sister cities their areas, from tracker/data/networks.toml; staff edits are kept."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import make_settings
from tests.factories import NOW
from tracker.matching.profile import default_profile
from tracker.models import Organisation, SisterCity
from tracker.services.bootstrap import DEFAULT_LOADERS, load_defaults
from tracker.services.networks import DATA_FILE, network_areas, read_network_data


def test_every_theme_maps_to_areas_of_the_default_profile() -> None:
    data = read_network_data(DATA_FILE)
    slugs = {area.slug for area in default_profile().areas}
    names = [n["name"] for n in data["networks"]]
    assert {"SERN – Sweden Emilia-Romagna Network", "EUniverCities", "Nordic City Network"} <= set(
        names
    )
    for network in data["networks"]:
        for theme in network["themes"]:
            assert set(theme["areas"]) <= slugs, theme
    for relation in data["relations"]:
        assert set(relation["areas"]) <= slugs, relation


def test_the_seeded_networks_get_their_themes_once(session: Session, database_url: str) -> None:
    assert DEFAULT_LOADERS[-1] == "tracker.services.networks:load_network_defaults"
    settings = make_settings(database_url)
    load_defaults(session, settings, now=NOW)
    sern = session.scalars(
        select(Organisation).where(Organisation.name == "SERN – Sweden Emilia-Romagna Network")
    ).one()
    assert sern.membership is not None
    themes = {t["theme"]: t["areas"] for t in sern.membership.themes}
    assert themes["Services for the growing elderly population"] == ["health-welfare"]
    assert "participation-democracy" in network_areas(sern.membership)
    riga = session.scalars(
        select(SisterCity).join(Organisation).where(Organisation.name == "Riga")
    ).one()
    assert riga.focus_areas == ["participation-democracy"]
    # Staff change the themes; loading the defaults again leaves them.
    sern.membership.themes = [{"theme": "Our own", "areas": ["education"]}]
    session.flush()
    load_defaults(session, settings, now=NOW)
    assert sern.membership.themes == [{"theme": "Our own", "areas": ["education"]}]
