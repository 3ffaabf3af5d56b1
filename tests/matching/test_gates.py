"""Eligibility gates: geography, applicant type and closed calls, each with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tracker.matching.call import CallInput
from tracker.matching.engine import CompiledProfile, match_call
from tracker.matching.gates import check_gates

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _call(**kw: object) -> CallInput:
    base: dict[str, object] = {
        "id": "c1",
        "title": "Cooperation of municipalities on climate adaptation and energy efficiency",
        "programme": "",
        "description": "Local authorities and municipalities cooperate on climate adaptation.",
    }
    base.update(kw)
    return CallInput(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "programme",
    [
        "Interreg Czechia-Poland",
        "Interreg Hungary-Serbia",
        "Interreg South West Europe (SUDOE)",
        "Interreg South Baltic",
        "Interreg NEXT Hungary-Slovakia-Romania-Ukraine",
    ],
)
def test_interreg_programmes_outside_ostergotland_are_gated(
    compiled: CompiledProfile, programme: str
) -> None:
    result = match_call(compiled, _call(programme=programme), now=NOW)
    assert result.gate is not None
    assert result.gate.code == "geography.interreg"
    assert "Östergötland" in result.gate.reason
    assert result.matches == ()
    # The relevance is still computed, so staff can see what the gate hid, and why.
    energy = result.area("energy-environment")
    assert energy.score > 50 and not energy.is_match
    assert any(e.kind == "gate" and "Östergötland" in e.text for e in energy.evidence)


@pytest.mark.parametrize(
    "programme",
    ["Interreg Baltic Sea Region", "Interreg Central Baltic", "Interreg Europe", "URBACT IV"],
)
def test_interreg_programmes_covering_ostergotland_pass(
    compiled: CompiledProfile, programme: str
) -> None:
    result = match_call(compiled, _call(programme=programme), now=NOW)
    assert result.gate is None
    assert "energy-environment" in {a.slug for a in result.matches}


def test_interregional_innovation_investments_is_not_interreg(compiled: CompiledProfile) -> None:
    call = _call(programme="Interregional Innovation Investments (I3)")
    assert check_gates(compiled.gates, call, now=NOW) is None


def test_call_open_only_to_named_countries_is_gated(compiled: CompiledProfile) -> None:
    call = _call(
        description="Small grants for NGOs. Only activities carried out in Poland are eligible."
    )
    gate = check_gates(compiled.gates, call, now=NOW)
    assert gate is not None and gate.code == "geography.countries"
    assert "Poland" in gate.reason
    assert gate.snippet is not None and "Poland" in gate.snippet


def test_nationalities_in_the_title_gate_the_call(compiled: CompiledProfile) -> None:
    call = _call(
        title="Support to Slovenian and Croatian civil society organisations for voter turnout"
    )
    gate = check_gates(compiled.gates, call, now=NOW)
    assert gate is not None and gate.code == "geography.countries"
    assert "Croatia" in gate.reason and "Slovenia" in gate.reason


def test_a_restriction_that_includes_sweden_is_not_a_gate(compiled: CompiledProfile) -> None:
    call = _call(description="Only organisations established in Finland or Sweden can coordinate.")
    assert check_gates(compiled.gates, call, now=NOW) is None
    call = _call(
        description="Eligible are entities established in Member States. Not only in France."
    )
    assert check_gates(compiled.gates, call, now=NOW) is None


def test_structured_eligible_countries_without_sweden_gate(compiled: CompiledProfile) -> None:
    gated = _call(eligible_countries=("Spain", "Portugal", "France"))
    gate = check_gates(compiled.gates, gated, now=NOW)
    assert gate is not None and gate.code == "geography.countries"
    assert (
        check_gates(compiled.gates, _call(eligible_countries=("Sweden", "Finland")), now=NOW)
        is None
    )


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"title": "Excellence Scholarships for master students"}, "applicant.individuals"),
        ({"title": "Internship grants in photonics"}, "applicant.individuals"),
        ({"title": "Heritage innovation grants – Step 2"}, "applicant.earlier-stage"),
        (
            {"description": "The call is open only to national authorities for asylum."},
            "applicant.national-authorities",
        ),
        (
            {"description": "The grant goes to the identified beneficiary named in the programme."},
            "applicant.named-beneficiary",
        ),
        (
            {"description": "Only consortia selected in Stage 1 may submit a full proposal."},
            "applicant.earlier-stage-text",
        ),
        (
            {"description": "Projects must be located in the Cohesion countries."},
            "geography.cohesion-countries",
        ),
        (
            {"description": "For territories identified in the Territorial Just Transition Plans."},
            "geography.just-transition",
        ),
    ],
)
def test_applicant_and_region_rules(
    compiled: CompiledProfile, kw: dict[str, str], code: str
) -> None:
    gate = check_gates(compiled.gates, _call(**kw), now=NOW)
    assert gate is not None
    assert gate.code == code
    assert gate.reason


def test_closed_call_is_gated_only_when_every_deadline_passed(compiled: CompiledProfile) -> None:
    past = datetime(2026, 3, 1, tzinfo=UTC)
    future = datetime(2026, 9, 1, tzinfo=UTC)
    closed = _call(deadlines=(past,))
    gate = check_gates(compiled.gates, closed, now=NOW)
    assert gate is not None and gate.code == "closed" and "2026-03-01" in gate.reason
    assert check_gates(compiled.gates, _call(deadlines=(past, future)), now=NOW) is None
    # Without a clock the closed gate cannot apply.
    assert check_gates(compiled.gates, closed, now=None) is None


def test_a_continuous_call_whose_listed_cut_off_passed_is_not_gated(
    compiled: CompiledProfile,
) -> None:
    past = datetime(2026, 3, 1, tzinfo=UTC)
    continuous = _call(deadlines=(past,), deadline_model="continuous")
    assert check_gates(compiled.gates, continuous, now=NOW) is None
    single = _call(deadlines=(past,), deadline_model="single-stage")
    assert check_gates(compiled.gates, single, now=NOW) is not None


def test_deadlines_must_carry_a_time_zone() -> None:
    with pytest.raises(ValueError, match="time zone"):
        _call(deadlines=(datetime(2026, 1, 1),))


def test_external_action_programmes_are_gated(compiled: CompiledProfile) -> None:
    call = _call(programme="EU External Action - Prospect (RELEX-PROSPECT)")
    gate = check_gates(compiled.gates, call, now=NOW)
    assert gate is not None and gate.code == "geography.outside-eu"
