"""Who may apply: read from text and applicant lists, and shown as typed evidence."""

from __future__ import annotations

from dataclasses import replace

from tracker.matching.applicants import applicant_types
from tracker.matching.call import CallInput
from tracker.matching.engine import AreaScore, CompiledProfile, match_call

BODY = (
    "The action improves energy efficiency of public buildings and district heating, "
    "with renovation plans, heat pumps and renewable energy communities. "
)


def _energy(
    compiled: CompiledProfile,
    *,
    description: str,
    title: str = "Energy efficiency of buildings",
    eligible_applicants: str = "",
) -> tuple[float, dict[str, str]]:
    call = CallInput(
        id="x", title=title, description=description, eligible_applicants=eligible_applicants
    )
    area = match_call(compiled, call, snippets="all").area("energy-environment")
    codes = {e.code: e.kind for e in area.evidence if e.code}
    return area.features["rule"], codes


def test_interreg_target_audiences_are_read_as_applicant_types() -> None:
    assert applicant_types("Local public authority; National public authority; NGO") == {
        "local",
        "national",
        "public",
        "ngo",
    }
    assert "local" not in applicant_types("National public authority; Sectoral agency")


def test_national_authorities_alone_count_against_and_local_ones_for(
    compiled: CompiledProfile,
) -> None:
    national, national_codes = _energy(
        compiled, description=BODY, eligible_applicants="National public authority"
    )
    local, local_codes = _energy(
        compiled,
        description=BODY,
        eligible_applicants="Local public authority; National public authority; NGO",
    )
    assert national_codes.get("national-only") == "eligibility"
    assert local_codes.get("local-actors") == "eligibility"
    assert national < local - 2


def test_a_call_for_national_bodies_is_penalised_with_the_title_as_evidence(
    compiled: CompiledProfile,
) -> None:
    plain, _ = _energy(compiled, title="Energy efficiency platforms", description=BODY)
    national, codes = _energy(
        compiled, title="National platforms for energy efficiency", description=BODY
    )
    assert "national-only" in codes
    assert national < plain - 2


def test_re_granting_to_one_other_country_is_penalised(compiled: CompiledProfile) -> None:
    call = CallInput(
        id="x",
        title="Financial support to third parties for Slovak energy communities",
        description=BODY,
    )
    area = match_call(compiled, call, snippets="all").area("energy-environment")
    against = [e for e in area.evidence if e.code == "one-country"]
    assert against and against[0].weight < 0 and against[0].snippet
    # However well the topic fits, the municipality cannot apply: not a match.
    assert not area.is_match
    home = replace(call, title="Financial support to third parties for energy communities")
    assert match_call(compiled, home).area("energy-environment").is_match


def test_living_labs_with_local_authorities_raise_a_research_topic(
    compiled: CompiledProfile,
) -> None:
    research = BODY + "Research partners develop models and indicators for the sector. " * 3
    without, _ = _energy(compiled, description=research)
    with_labs, codes = _energy(
        compiled, description=research + "Solutions are tested in living labs in three cities."
    )
    assert codes.get("local-actors") == "eligibility"
    assert with_labs > without
    call = CallInput(
        id="x",
        title="Energy efficiency of buildings",
        description=research + "Solutions are tested in living labs in three cities.",
    )
    area = match_call(compiled, call, snippets="all").area("energy-environment")
    boost = next(e for e in area.evidence if e.code == "local-actors")
    # Work in living labs or with local authorities is a municipality's way into a
    # research call: the boost is worth more than any one applicant word.
    assert boost.weight >= 1.5
    assert all(boost.weight > e.weight for e in area.evidence if e.kind == "applicant")


def test_a_short_record_rests_on_its_title_and_says_so(compiled: CompiledProfile) -> None:
    short = CallInput(
        id="x",
        title="Strategic projects for nature and biodiversity in urban areas",
        programme="Programme for the Environment and Climate Action (LIFE)",
    )
    area = match_call(compiled, short).area("energy-environment")
    assert area.is_match
    assert any(e.code == "short-record" and e.kind == "short-record" for e in area.evidence)


def test_a_short_record_with_a_general_title_leans_on_its_programme(
    compiled: CompiledProfile,
) -> None:
    """A title and a programme are all there is: the programme's pull decides, unless the
    record itself says the call is for researchers."""
    title = "Large integrated projects for the environment"
    life = "Programme for the Environment and Climate Action (LIFE)"

    def energy(title: str, programme: str) -> AreaScore:
        call = CallInput(id="x", title=title, programme=programme)
        return match_call(compiled, call).area("energy-environment")

    area = energy(title, life)
    assert area.is_match
    assert any(e.kind == "short-record" for e in area.evidence)
    assert any(e.kind == "prior" for e in area.evidence)
    assert not energy(title, "Single Market Programme (SMP)").is_match
    assert not energy("Doctoral network for researchers on the environment", life).is_match


def test_a_national_body_that_only_recognises_applicants_is_no_restriction(
    compiled: CompiledProfile,
) -> None:
    _, recognised = _energy(
        compiled,
        description=BODY + "The applicant must be recognised by the national authority of "
        "its country.",
    )
    _, restricted = _energy(
        compiled,
        description=BODY + "Eligible applicants must be national public authorities.",
    )
    assert "national-only" not in recognised
    assert restricted.get("national-only") == "eligibility"
