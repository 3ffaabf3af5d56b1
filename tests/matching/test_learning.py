"""Learning from staff decisions moves scores, says so, and is deterministic."""

from __future__ import annotations

import json
import math

from tracker.matching.call import CallInput
from tracker.matching.engine import AreaScore, CompiledProfile, MatchResult, match_call
from tracker.matching.learning import Decision, LearnedModel, TrainingParams, train

# Calls about local heating that staff keep marking not relevant (say, because the
# municipality has no heating company); and calls they mark relevant. They come from
# several programmes, so that learning can be tested on programmes it was not fitted to.
PROGRAMMES = ("LIFE", "Connecting Europe Facility (CEF)", "Single Market Programme (SMP)")
FILLER = (
    " Projects share what they learn with partners across Europe, publish guidance and "
    "organise visits, so that results are taken up after the end of the action."
)
HEATING = [
    CallInput(
        id=f"heat-{i}",
        title=f"District heating networks for municipalities, round {i}",
        description="Municipalities and local authorities plan district heating and heat pumps "
        "to improve energy efficiency in buildings." + FILLER,
        programme=PROGRAMMES[i % 3],
    )
    for i in range(9)
]
MOBILITY = [
    CallInput(
        id=f"mob-{i}",
        title=f"Sustainable urban mobility plans, round {i}",
        description="Cities and local authorities develop sustainable urban mobility plans, "
        "public transport and cycling." + FILLER,
        programme=PROGRAMMES[i % 3],
    )
    for i in range(9)
]


def _decisions() -> list[Decision]:
    out = [Decision(c.id, "energy-environment", False, "no-heating-company") for c in HEATING]
    out += [Decision(c.id, "energy-environment", True, "fits") for c in MOBILITY]
    return out


def _model(compiled: CompiledProfile) -> LearnedModel:
    calls = {c.id: c for c in (*HEATING, *MOBILITY)}
    return train(compiled, calls, _decisions(), params=TrainingParams(epochs=30))


def test_decisions_lower_scores_of_similar_calls_and_evidence_says_so(
    compiled: CompiledProfile,
) -> None:
    model = _model(compiled)
    new_call = CallInput(
        id="heat-new",
        title="District heating networks for municipalities",
        description="Local authorities plan district heating and heat pumps in buildings." + FILLER,
        programme="LIFE",
    )
    before = match_call(compiled, new_call).area("energy-environment")
    after = match_call(compiled, new_call, model=model).area("energy-environment")
    assert after.score < before.score - 5
    assert after.rule_score == before.score
    feedback = [e for e in after.evidence if e.kind == "feedback"]
    assert len(feedback) == 1
    assert "lowered" in feedback[0].text and "18 decisions" in feedback[0].text


def test_areas_without_decisions_are_untouched(compiled: CompiledProfile) -> None:
    model = _model(compiled)
    call = MOBILITY[0]
    with_model = match_call(compiled, call, model=model).area("culture-music")
    assert with_model.score == match_call(compiled, call).area("culture-music").score
    assert not [e for e in with_model.evidence if e.kind == "feedback"]


def test_training_is_deterministic_and_the_model_round_trips_through_json(
    compiled: CompiledProfile,
) -> None:
    a = _model(compiled)
    b = _model(compiled)
    assert a.to_dict() == b.to_dict()
    restored = LearnedModel.from_dict(json.loads(json.dumps(a.to_dict())))
    call = HEATING[0]
    assert (
        match_call(compiled, call, model=restored).area("energy-environment").score
        == match_call(compiled, call, model=a).area("energy-environment").score
    )


def test_decisions_on_gated_calls_are_not_learned(compiled: CompiledProfile) -> None:
    gated = CallInput(
        id="g",
        title="Call Interreg CZ-PL",
        programme="Interreg Czechia-Poland",
        description="Municipalities and district heating.",
    )
    model = train(compiled, {"g": gated}, [Decision("g", "energy-environment", True)])
    assert model.decision_count("energy-environment") == 0


def test_malformed_model_is_rejected() -> None:
    import pytest

    with pytest.raises(ValueError):
        LearnedModel.from_dict({"format": 99})


def test_learning_is_off_for_an_area_with_too_few_decisions_of_one_kind(
    compiled: CompiledProfile,
) -> None:
    calls = {c.id: c for c in (*HEATING, *MOBILITY)}
    only_relevant = [Decision(c.id, "energy-environment", True) for c in MOBILITY]
    model = train(compiled, calls, only_relevant)
    assert not model.is_learned("energy-environment")
    assert model.area_status["energy-environment"] == "too few decisions"
    call = HEATING[0]
    assert (
        match_call(compiled, call, model=model).area("energy-environment").score
        == match_call(compiled, call).area("energy-environment").score
    )


def test_learning_that_helps_in_cross_validation_is_used_and_reports_its_effect(
    compiled: CompiledProfile,
) -> None:
    model = _model(compiled)
    assert model.is_learned("energy-environment")
    assert model.area_status["energy-environment"] == "learned"
    assert 0 < model.area_blend["energy-environment"] <= 1
    fixed, broken = model.area_effect["energy-environment"]
    assert fixed > broken


def test_a_learned_threshold_shift_decides_matches_and_is_explained(
    compiled: CompiledProfile,
) -> None:
    call = CallInput(
        id="x",
        title="Open call 2026 on energy",
        description="Energy efficiency of public buildings and district heating." + FILLER,
    )
    rules = match_call(compiled, call).area("energy-environment")
    assert rules.is_match and rules.score < 90
    shift = rules.score - rules.threshold + 1  # just high enough to keep the call out
    model = LearnedModel(
        shared={},
        per_area={},
        counts={"energy-environment": 40},
        area_blend={"energy-environment": 0.0},
        threshold_shift={"energy-environment": shift},
    )
    learned = match_call(compiled, call, model=model).area("energy-environment")
    assert not learned.is_match and learned.score == rules.score
    assert learned.threshold == rules.threshold + shift
    notes = [e.text for e in learned.evidence if e.kind == "feedback"]
    assert any("raised the area's threshold" in n for n in notes)
    restored = LearnedModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert restored.threshold_shift == model.threshold_shift


def _scored_decisions(
    fp_programmes: tuple[str, ...],
) -> tuple[dict[str, CallInput], dict[str, MatchResult], list[Decision]]:
    """Four programmes; in each, calls staff found relevant score 85 and the rest 20,
    except that in `fp_programmes` two more calls score 55 (above the threshold of 50)
    and staff found them not relevant."""
    calls: dict[str, CallInput] = {}
    results: dict[str, MatchResult] = {}
    decisions: list[Decision] = []
    slug = "energy-environment"
    for programme in ("LIFE", "Connecting Europe Facility (CEF)", "Creative Europe", "SMP"):
        scores = [(85.0, True)] * 3 + [(20.0, False)] * 2
        if programme in fp_programmes:
            scores += [(55.0, False)] * 2
        for n, (score, relevant) in enumerate(scores):
            call = CallInput(id=f"{programme[:4]}-{n}", title=f"Call {n}", programme=programme)
            z = math.log(score / (100 - score))
            area = AreaScore(slug, score, score >= 50, score, 50.0, (), {"rule": z})
            calls[call.id] = call
            results[call.id] = MatchResult(call.id, None, (area,), "en")
            decisions.append(Decision(call.id, slug, relevant))
    return calls, results, decisions


def test_a_threshold_shift_that_holds_across_programmes_is_learned(
    compiled: CompiledProfile,
) -> None:
    calls, results, decisions = _scored_decisions(
        ("LIFE", "Connecting Europe Facility (CEF)", "Creative Europe", "SMP")
    )
    model = train(compiled, calls, decisions, results=results)
    assert model.threshold_shift == {"energy-environment": 10.0}


def test_a_threshold_shift_that_only_fits_one_programme_is_not_kept(
    compiled: CompiledProfile,
) -> None:
    """Raising the threshold fits every decision, but only because of one programme:
    on programmes it was not fitted to, it changes nothing, so the rules stand."""
    calls, results, decisions = _scored_decisions(("LIFE",))
    model = train(compiled, calls, decisions, results=results)
    assert model.threshold_shift == {}
