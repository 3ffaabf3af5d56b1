"""Upgrading the shipped default profile: an installation nobody customised gets the better
default of a newer tracker, and its calls are matched with it; an edited profile stays."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from tests.conftest import TrackerCli
from tests.factories import HEATING, NOW, login, make_call, make_user
from tracker.db import make_engine
from tracker.matching.profile import Profile, default_profile
from tracker.migrate import upgrade
from tracker.models import AuditEvent, FundingCall, Role, StrategyProfile
from tracker.services.strategy import (
    DefaultUpgradeOutcome,
    call_matches,
    ensure_default_profile,
    get_active_profile,
    match_calls,
    profile_of,
    save_area,
    upgrade_default_profile,
)
from tracker.services.strategy import profiles as profiles_module

LATER = NOW + timedelta(days=30)


def older_default() -> Profile:
    """What an earlier tracker shipped: energy and environment without its terms for
    heating and energy, and a tourism area that today's default no longer has."""
    shipped = default_profile()
    tourism = replace(shipped.area("education"), slug="tourism", name_en="Tourism")
    energy = shipped.area("energy-environment")
    older_terms = tuple(
        t for t in energy.terms if not any(w in t.text.lower() for w in ("energ", "heat", "värm"))
    )
    areas = [replace(a, terms=older_terms) if a is energy else a for a in shipped.areas]
    return replace(shipped, areas=(*areas, tourism))


@pytest.fixture()
def older_default_stored(session: Session) -> None:
    """The database as an earlier tracker left it: its default stored on first run, calls
    matched with it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(profiles_module, "default_profile", older_default)
        ensure_default_profile(session, now=NOW)
        match_calls(session, None, now=NOW)


def _is_energy_match(session: Session, call: FundingCall) -> bool:
    return any(
        a.slug == "energy-environment" and m.is_match for a, m in call_matches(session, call.id)
    )


def _versions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(StrategyProfile)) or 0


def test_a_fresh_default_is_up_to_date(session: Session) -> None:
    done = upgrade_default_profile(session, now=NOW)
    assert done.outcome is DefaultUpgradeOutcome.UP_TO_DATE
    assert done.row.version == 1 and _versions(session) == 1


def test_the_next_matching_run_upgrades_an_unedited_default_and_rematches(
    session: Session,
) -> None:
    call = make_call(session, **HEATING)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(profiles_module, "default_profile", older_default)
        ensure_default_profile(session, now=NOW)
        match_calls(session, None, now=NOW)
    assert not _is_energy_match(session, call)

    run = match_calls(session, None, now=LATER)

    assert run.calls == 1  # the upgraded profile is newer than the call's match
    assert _is_energy_match(session, call)
    active = get_active_profile(session)
    assert (active.version, active.origin, active.created_by_id) == (2, "default", None)
    assert profile_of(active) == replace(default_profile(), version=2)
    # The area the new default dropped stays readable, retired, as after an admin retires it.
    assert [a.slug for a in active.areas if a.is_retired] == ["tourism"]
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "strategy.default_upgraded")
    ).one()
    assert event.entity_id == str(active.id) and event.actor_id is None
    assert event.details["from_version"] == 1 and event.details["version"] == 2
    assert event.details["changed"] == ["energy-environment"]
    assert event.details["retired"] == ["tourism"]


@pytest.mark.usefixtures("older_default_stored")
def test_upgrading_twice_does_nothing_the_second_time(session: Session) -> None:
    first = upgrade_default_profile(session, now=LATER)
    assert first.outcome is DefaultUpgradeOutcome.UPGRADED
    assert (first.previous_version, first.row.version) == (1, 2)
    assert first.changed == ("energy-environment",) and first.retired == ("tourism",)

    again = upgrade_default_profile(session, now=LATER + timedelta(days=1))

    assert again.outcome is DefaultUpgradeOutcome.UP_TO_DATE
    assert again.row.id == first.row.id and _versions(session) == 2
    upgrades = select(func.count()).where(AuditEvent.action == "strategy.default_upgraded")
    assert session.scalar(upgrades) == 1


@pytest.mark.usefixtures("older_default_stored")
def test_a_profile_an_admin_edited_is_never_replaced(session: Session) -> None:
    call = make_call(session, **HEATING)
    admin = make_user(session, role=Role.ADMIN)
    culture = profile_of(get_active_profile(session)).area("culture-music")
    save_area(
        session,
        {
            "slug": "culture-music",
            "name_sv": culture.name_sv,
            "name_en": "Culture",
            "threshold": 70,
        },
        actor=admin,
        now=NOW + timedelta(days=1),
        original_slug="culture-music",
    )
    edited = get_active_profile(session)

    done = upgrade_default_profile(session, now=LATER)
    match_calls(session, None, now=LATER)

    assert done.outcome is DefaultUpgradeOutcome.EDITED and done.row.id == edited.id
    active = get_active_profile(session)
    assert active.id == edited.id and _versions(session) == 2
    profile = profile_of(active)
    assert profile.area("culture-music").name_en == "Culture"
    assert (
        profile.area("energy-environment").terms
        != default_profile().area("energy-environment").terms
    )
    assert "tourism" in profile.slugs
    assert not _is_energy_match(session, call)


@pytest.mark.usefixtures("older_default_stored")
def test_a_run_over_named_calls_leaves_the_profile_alone(session: Session) -> None:
    call = make_call(session, **HEATING)
    match_calls(session, [call.id], now=LATER)
    assert get_active_profile(session).version == 1
    assert not _is_energy_match(session, call)


@pytest.mark.usefixtures("older_default_stored")
def test_the_strategy_page_says_the_profile_is_the_shipped_default_and_when_upgraded(
    client: FlaskClient, session: Session
) -> None:
    login(client, make_user(session, role=Role.ADMIN, language="en"))
    before = client.get("/strategy/").get_data(as_text=True)
    assert "This is the default profile that comes with the Funding tracker, unedited." in before
    assert "It was upgraded" not in before
    assert "an edited profile is never replaced" in before

    upgrade_default_profile(session, now=LATER)
    english = client.get("/strategy/").get_data(as_text=True)
    assert "It was upgraded on 21 Dec 2026, 10:00:00" in english
    assert "shipped default" in english

    login(client, make_user(session, role=Role.ADMIN, language="sv"))
    swedish = client.get("/strategy/").get_data(as_text=True)
    assert (
        "Den uppgraderades 21 dec. 2026" in swedish and "standardprofilen som följer med" in swedish
    )


def test_the_strategy_page_says_nothing_of_the_default_once_an_admin_edited_it(
    client: FlaskClient, session: Session
) -> None:
    admin = make_user(session, role=Role.ADMIN, language="en")
    ensure_default_profile(session, now=NOW)
    save_area(
        session,
        {"slug": "tourism", "name_sv": "Turism", "name_en": "Tourism", "threshold": 60},
        actor=admin,
        now=NOW,
    )
    login(client, admin)
    html = client.get("/strategy/").get_data(as_text=True)
    assert "Tourism" in html
    assert "default profile that comes with the Funding tracker" not in html


def test_the_cli_upgrades_an_unedited_default_once(runner: TrackerCli, engine: Engine) -> None:
    with Session(engine) as session:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(profiles_module, "default_profile", older_default)
            ensure_default_profile(session, now=NOW)
        session.commit()

    first = runner("match", "upgrade-default")
    assert first.exit_code == 0, first.output
    assert "from version 1 to 2" in first.output
    assert "areas changed: energy-environment" in first.output
    assert "areas retired: tourism" in first.output
    again = runner("match", "upgrade-default")
    assert "is the shipped default already" in again.output
    with Session(engine) as session:
        assert _versions(session) == 2


def test_the_migration_marks_only_the_first_run_default_as_shipped(tmp_path: Path) -> None:
    """An existing database: version 1 stored on first run (no actor, no "profile saved"
    event) becomes the shipped default; versions someone saved stay edited, even when the
    admin's account is gone; and the next upgrade replaces the shipped one."""
    url = f"sqlite:///{tmp_path / 'before.db'}"
    upgrade(url, "upgrade_01-1")  # the revision before this one, whichever it is
    engine = make_engine(url)
    with engine.begin() as connection:
        for id_, name, version, active in [
            (1, "Norrköping", 1, True),  # first run, then nobody edited it
            (2, "Imported", 1, False),  # saved through save_profile_version, no actor
            (3, "Imported", 2, False),  # saved by an admin whose account was deleted
        ]:
            connection.execute(
                text(
                    "INSERT INTO strategy_profiles (id, name, version, is_active, gates,"
                    " context, created_at) VALUES (:id, :name, :version, :active, '{}', '{}',"
                    " '2026-01-01 00:00:00.000000')"
                ),
                {"id": id_, "name": name, "version": version, "active": active},
            )
            connection.execute(
                text(
                    "INSERT INTO focus_areas (profile_id, slug, name_sv, name_en, description_sv,"
                    " description_en, vocabulary, negative_terms, programme_priors, threshold,"
                    " position, is_retired) VALUES (:id, 'education', 'Utbildning',"
                    " 'Education', '', '', '[]', '[]', '[]', 50, 0, :retired)"
                ),
                {"id": id_, "retired": False},
            )
        for id_ in (2, 3):
            connection.execute(
                text(
                    "INSERT INTO audit_events (at, action, entity_type, entity_id, details)"
                    " VALUES ('2026-01-02 00:00:00.000000', 'strategy.profile_saved',"
                    " 'strategy_profile', :id, '{}')"
                ),
                {"id": str(id_)},
            )

    upgrade(url, "upgrade_01")

    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, origin FROM strategy_profiles")).all()
    origins: dict[int, str | None] = {id_: origin for id_, origin in rows}
    assert origins == {1: "default", 2: None, 3: None}
    with Session(engine) as session:
        done = upgrade_default_profile(session, now=LATER)
        assert done.outcome is DefaultUpgradeOutcome.UPGRADED
        assert done.row.name == "Norrköping" and done.row.version == 2
        assert profile_of(done.row).slugs == default_profile().slugs
    engine.dispose()
