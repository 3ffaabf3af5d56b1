"""Matching in the database: the default profile, incremental matching, decisions, learning."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import HEATING, NOW, make_call, make_user
from tracker.errors import NotFound, ValidationFailed
from tracker.matching.call import CallInput
from tracker.models import (
    CallMatch,
    DecisionSource,
    FundingCall,
    InboxEntry,
    MatchDecision,
    MatchModel,
    Role,
    StrategyProfile,
)
from tracker.services.strategy import (
    call_matches,
    compiled_profile,
    ensure_default_profile,
    import_decisions,
    learning_by_area,
    match_calls,
    profile_of,
    record_decision,
    retire_area,
    retrain,
    save_area,
    save_profile_settings,
)

DEFENCE: dict[str, Any] = dict(
    title="Armoured vehicle platform",
    programme_label="European Defence Fund (EDF)",
    description_text="Defence industry consortia develop military vehicles and weapons.",
)


def test_default_profile_is_loaded_once(session: Session) -> None:
    first = ensure_default_profile(session, now=NOW)
    again = ensure_default_profile(session, now=NOW + timedelta(days=1))
    assert first.id == again.id and first.is_active
    assert len(first.areas) == 9
    assert profile_of(first).slugs[0] == "education"
    assert session.scalar(select(func.count()).select_from(StrategyProfile)) == 1


def test_matching_stores_scores_evidence_and_gates(session: Session) -> None:
    heating = make_call(session, **HEATING)
    defence = make_call(session, **DEFENCE)
    interreg = make_call(session, **{**HEATING, "programme_label": "Interreg Czechia-Poland"})
    run = match_calls(session, None, now=NOW)
    assert run.calls == 3 and run.gated == 1 and run.matched == 1

    rows = call_matches(session, heating.id)
    assert len(rows) == 9
    area, best = rows[0]
    assert area.slug == "energy-environment" and best.is_match and best.score >= 50
    terms = [e for e in best.evidence if e["kind"] == "term"]
    assert terms and all(e["snippet"] for e in terms)
    assert {e["field"] for e in terms} <= {"title", "description", "keywords and tags"}

    assert not any(m.is_match for _, m in call_matches(session, defence.id))
    session.refresh(interreg)
    assert interreg.gate_code == "geography.interreg"
    assert interreg.gate_reason and "Östergötland" in interreg.gate_reason
    assert not any(m.is_match for _, m in call_matches(session, interreg.id))
    session.refresh(heating)
    assert heating.matched_at == NOW and heating.gate_code is None


def test_closed_calls_are_gated_with_the_clock_passed_in(session: Session) -> None:
    call = make_call(session, deadlines=[NOW - timedelta(days=2)], **HEATING)
    match_calls(session, [call.id], now=NOW)
    session.refresh(call)
    assert call.gate_code == "closed"


def test_a_continuous_call_past_its_listed_cut_off_stays_open_and_in_the_inbox(
    session: Session,
) -> None:
    call = make_call(
        session, deadlines=[NOW - timedelta(days=2)], deadline_model="continuous", **HEATING
    )
    match_calls(session, [call.id], now=NOW)
    session.refresh(call)
    assert call.gate_code is None
    assert call.status(NOW) == "open"
    assert session.scalar(select(InboxEntry.call_id).where(InboxEntry.call_id == call.id))


def test_only_new_and_changed_calls_are_rematched(session: Session) -> None:
    first = make_call(session, **HEATING)
    second = make_call(session, **DEFENCE)
    assert match_calls(session, None, now=NOW).calls == 2
    assert match_calls(session, None, now=NOW + timedelta(minutes=5)).calls == 0

    # The source changed the defence call: it becomes a local one.
    later = NOW + timedelta(hours=1)
    second.title = "District heating for municipalities"
    second.programme_label = "LIFE"
    second.description_text = HEATING["description_text"]
    second.updated_at = later
    session.flush()
    run = match_calls(session, None, now=later + timedelta(minutes=1))
    assert run.calls == 1
    assert any(m.is_match for _, m in call_matches(session, second.id))
    # A forced re-match keeps the time a match was first found (digests list it once).
    match_calls(session, None, now=later + timedelta(hours=1), everything=True)
    first_match = next(m for _, m in call_matches(session, first.id) if m.is_match)
    assert first_match.matched_at == NOW
    # One row per call and area, whatever the number of runs.
    assert (
        session.scalar(
            select(func.count()).select_from(CallMatch).where(CallMatch.call_id == first.id)
        )
        == 9
    )


def test_a_profile_change_rematches_everything(session: Session) -> None:
    call = make_call(session, **HEATING)
    match_calls(session, None, now=NOW)
    row = ensure_default_profile(session, now=NOW)
    area = next(a for a in profile_of(row).areas if a.slug == "energy-environment")
    data = {
        "slug": area.slug,
        "name_sv": area.name_sv,
        "name_en": area.name_en,
        "threshold": 99.9,
        "terms": [{"text": "district heating", "weight": 1}],
    }
    admin = make_user(session, role=Role.ADMIN)
    later = NOW + timedelta(hours=1)
    new_row = save_area(session, data, actor=admin, now=later, original_slug="energy-environment")
    assert new_row.version == 2 and new_row.is_active
    session.refresh(row)
    assert not row.is_active
    run = match_calls(session, None, now=later + timedelta(minutes=1))
    assert run.calls == 1
    energy = next(m for a, m in call_matches(session, call.id) if a.slug == "energy-environment")
    assert not energy.is_match
    # Matches now point at the new version's areas only.
    assert {a.profile_id for a, _ in call_matches(session, call.id)} == {new_row.id}


def test_area_edits_are_validated(session: Session) -> None:
    ensure_default_profile(session, now=NOW)
    with pytest.raises(ValidationFailed) as exc:
        save_area(
            session,
            {"slug": "x", "name_sv": "X", "name_en": "X", "threshold": 150},
            actor=None,
            now=NOW,
        )
    assert "threshold" in exc.value.errors
    with pytest.raises(ValidationFailed):
        save_area(
            session, {"slug": "education", "name_sv": "X", "name_en": "X"}, actor=None, now=NOW
        )
    with pytest.raises(NotFound):
        save_area(
            session,
            {"slug": "x", "name_sv": "X", "name_en": "X"},
            actor=None,
            now=NOW,
            original_slug="no-such-area",
        )


def test_retired_areas_are_not_matched_but_kept(session: Session) -> None:
    call = make_call(session, **HEATING)
    row = retire_area(session, "energy-environment", actor=None, now=NOW)
    assert "energy-environment" not in profile_of(row).slugs
    assert any(a.slug == "energy-environment" and a.is_retired for a in row.areas)
    match_calls(session, [call.id], now=NOW)
    assert "energy-environment" not in {a.slug for a, _ in call_matches(session, call.id)}


def test_profile_settings_are_validated_and_versioned(session: Session) -> None:
    row = ensure_default_profile(session, now=NOW)
    with pytest.raises(ValidationFailed) as exc:
        save_profile_settings(session, {"gates": {"rules": [{"code": "x"}]}}, actor=None, now=NOW)
    assert "settings" in exc.value.errors
    settings = {"gates": {**row.gates, "closed_calls": False}}
    new = save_profile_settings(session, settings, actor=None, now=NOW + timedelta(minutes=1))
    assert new.version == row.version + 1
    assert profile_of(new).gates.closed_calls is False
    assert compiled_profile(session).profile.version == new.version


def test_decisions_are_recorded_and_replace_earlier_ones(session: Session) -> None:
    call = make_call(session, **HEATING)
    user = make_user(session)
    ensure_default_profile(session, now=NOW)
    record_decision(
        session,
        call.id,
        "energy-environment",
        relevant=False,
        reason="not-our-goals",
        actor=user,
        now=NOW,
    )
    record_decision(
        session,
        call.id,
        "energy-environment",
        relevant=True,
        reason="fits-strategy",
        actor=user,
        now=NOW + timedelta(minutes=1),
    )
    rows = list(session.scalars(select(MatchDecision)))
    assert len(rows) == 1
    assert rows[0].relevant and rows[0].reason == "fits-strategy"
    assert rows[0].source is DecisionSource.REVIEW and rows[0].actor_id == user.id
    with pytest.raises(ValidationFailed):
        record_decision(
            session,
            call.id,
            "energy-environment",
            relevant=True,
            reason="not-our-goals",
            actor=user,
            now=NOW,
        )
    with pytest.raises(NotFound):
        record_decision(
            session, 999_999, "education", relevant=True, reason="other", actor=user, now=NOW
        )


def test_imported_decisions_train_a_model_that_moves_scores(session: Session) -> None:
    """Staff keep rejecting district-heating calls; the model learns it and says so."""
    ensure_default_profile(session, now=NOW)
    # Several programmes: learning is used only where it helps on programmes held out.
    programmes = ("LIFE", "Connecting Europe Facility (CEF)", "Single Market Programme (SMP)")
    labelled = {
        f"LBL-{i}": CallInput(
            id=f"LBL-{i}",
            title=f"District heating networks for municipalities {i}",
            programme=programmes[i % 3],
            description="Municipalities plan district heating and heat pumps in buildings.",
        )
        for i in range(12)
    }
    labelled.update(
        {
            f"MOB-{i}": CallInput(
                id=f"MOB-{i}",
                title=f"Sustainable urban mobility plans for cities {i}",
                programme=programmes[i % 3],
                description="Cities develop sustainable urban mobility plans and cycling.",
            )
            for i in range(12)
        }
    )
    labels = {k: (() if k.startswith("LBL") else ("energy-environment",)) for k in labelled}
    stored_call = make_call(
        session, identifier="LBL-0", **{**HEATING, "title": labelled["LBL-0"].title}
    )
    count = import_decisions(session, labels, labelled, actor=None, now=NOW)
    assert count == 24 * 9
    linked = session.scalars(select(MatchDecision).where(MatchDecision.call_key == "LBL-0")).all()
    assert all(d.call_id == stored_call.id and d.call_snapshot is None for d in linked)
    other = session.scalars(select(MatchDecision).where(MatchDecision.call_key == "LBL-1")).first()
    assert other is not None and other.call_snapshot and other.call_id is None

    later = NOW + timedelta(hours=1)
    model_row = retrain(session, now=later)
    assert model_row is not None and model_row.decision_count == 24 * 9
    assert retrain(session, now=later + timedelta(minutes=1)) is None  # nothing new

    fresh = make_call(
        session, **{**HEATING, "title": "District heating networks for municipalities"}
    )
    match_calls(session, None, now=later + timedelta(minutes=2))
    energy = next(m for a, m in call_matches(session, fresh.id) if a.slug == "energy-environment")
    feedback = [e for e in energy.evidence if e["kind"] == "feedback"]
    assert feedback and "lowered" in feedback[0]["text"]
    assert "most similar decided call" in feedback[0]["text"]
    learning = {a.slug: a for a in learning_by_area(model_row, ["energy-environment", "education"])}
    assert learning["energy-environment"].in_use and learning["energy-environment"].fixed > 0
    assert not learning["education"].in_use


def test_only_the_last_models_are_kept(session: Session) -> None:
    call = make_call(session, **HEATING)
    ensure_default_profile(session, now=NOW)
    for i in range(5):
        now = NOW + timedelta(hours=i)
        record_decision(
            session, call.id, "education", relevant=bool(i % 2), reason="other", actor=None, now=now
        )
        assert retrain(session, now=now + timedelta(minutes=1)) is not None
    assert session.scalar(select(func.count()).select_from(MatchModel)) == 3


def test_match_calls_on_given_ids_only(session: Session) -> None:
    a = make_call(session, **HEATING)
    b = make_call(session, **DEFENCE)
    run = match_calls(session, [a.id], now=NOW)
    assert run.calls == 1
    assert session.get(FundingCall, b.id) is not None
    assert call_matches(session, b.id) == []


def test_replace_keeps_frozen_inputs(session: Session) -> None:
    # call inputs are immutable: re-matching never changes the stored call's text.
    call = make_call(session, **HEATING)
    match_calls(session, [call.id], now=NOW)
    session.refresh(call)
    assert call.description_text == HEATING["description_text"]
    assert replace(CallInput(id="x", title="t"), title="u").title == "u"


def test_withdrawn_calls_are_gated_and_cascade_calls_use_their_topic(session: Session) -> None:
    withdrawn = make_call(session, is_withdrawn=True, **HEATING)
    cascade = make_call(
        session,
        identifier="12345COMPETITIVE_CALLen",
        parent_identifier="HORIZON-MISS-2026-01-CIT-02",
        eligible_applicants="Municipalities and local authorities of Mission cities",
        **{**HEATING, "programme_label": "Horizon Europe (HORIZON)"},
    )
    match_calls(session, None, now=NOW)
    session.refresh(withdrawn)
    assert withdrawn.gate_code == "withdrawn"
    energy = next(m for a, m in call_matches(session, cascade.id) if a.slug == "energy-environment")
    priors = [e["text"] for e in energy.evidence if e["kind"] == "prior"]
    assert any("Cities Mission" in p for p in priors)
