"""The region gate: a call's eligible NUTS codes against the municipality's region."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.feeds.conftest import fixture_bytes
from tracker.feeds.interreg import parse_interreg
from tracker.feeds.records import CallRecord
from tracker.i18n import Message
from tracker.matching.call import CallInput
from tracker.matching.engine import CompiledProfile, compile_profile, match_call
from tracker.matching.profile import Profile, profile_from_dict, profile_to_dict
from tracker.matching.regions import REGION_GATE, covers, region_reason

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TEXT = "Local authorities and municipalities cooperate on climate adaptation and energy efficiency."


def _fixture_call(title_start: str) -> CallInput:
    """A call of the own interreg fixture, as the matching service hands it over."""
    pages = [fixture_bytes("interreg_page0.json"), fixture_bytes("interreg_page1.json")]
    record: CallRecord = next(
        r for r in parse_interreg(pages).records() if r.title.startswith(title_start)
    )
    area = record.eligible_area
    assert area is not None
    return CallInput(
        id=record.external_id,
        title=record.title,
        programme=record.programme_label or "",
        keywords=record.keywords,
        description=TEXT,
        eligible_countries=area.country_names,
        eligible_nuts=area.nuts or area.countries,
    )


@pytest.mark.parametrize(
    ("codes", "covered"),
    [
        (["SE123"], True),  # the county itself
        (["SE12"], True),  # Östra Mellansverige
        (["SE1"], True),
        (["SE"], True),  # the whole country
        (["SE231", "SE232", "SE224"], False),  # the west coast only
        (["SE1234"], False),  # not a prefix of SE123
        (["FI1B1", "EE001"], False),
    ],
)
def test_a_listed_code_covers_the_region_when_it_is_a_prefix(
    codes: list[str], covered: bool
) -> None:
    assert covers(codes, "SE123") is covered


def test_the_reason_names_the_programme_and_the_countries_and_keeps_its_parameters() -> None:
    reason = region_reason(
        ["DK011", "NO081", "SE231"],
        "SE123",
        programme="Interreg Öresund-Kattegat-Skagerrak (ÖKS)",
        countries=["Denmark", "Norway", "Sweden"],
    )

    assert isinstance(reason, Message)
    assert str(reason) == (
        "Interreg Öresund-Kattegat-Skagerrak (ÖKS): the eligible area (Denmark, Norway, "
        "Sweden) does not include the municipality's region SE123."
    )
    assert reason.params["region"] == "SE123"
    # No NUTS codes (only names) is no data: no verdict.
    assert region_reason(["Sweden"], "SE123", programme="X", countries=[]) is None


@pytest.mark.parametrize(
    "title_start", ["Central Baltic 4th call: small", "Baltic Sea Region", "URBACT"]
)
def test_programmes_covering_ostergotland_are_not_gated(
    compiled: CompiledProfile, title_start: str
) -> None:
    result = match_call(compiled, _fixture_call(title_start), now=NOW)

    assert result.gate is None


@pytest.mark.parametrize(
    ("title_start", "countries"),
    [
        ("Öresund-Kattegat-Skagerrak", "Denmark, Norway, Sweden"),
        ("Italia-Österreich", "Austria, Italy"),
    ],
)
def test_programmes_outside_ostergotland_are_gated_from_their_data(
    compiled: CompiledProfile, title_start: str, countries: str
) -> None:
    call = _fixture_call(title_start)

    result = match_call(compiled, call, now=NOW)

    assert result.gate is not None and result.gate.code == REGION_GATE
    assert result.gate.reason.startswith(f"{call.programme}: the eligible area ({countries})")
    assert result.matches == ()


def test_region_data_replaces_reading_programme_names(compiled: CompiledProfile) -> None:
    # The name says a programme far from Östergötland, but the data lists the region.
    named_far = CallInput(
        id="x",
        title="Cooperation of municipalities on climate adaptation",
        programme="Interreg South West Europe (SUDOE)",
        description=TEXT,
        eligible_nuts=("ES11", "SE123"),
    )
    assert match_call(compiled, named_far, now=NOW).gate is None
    # Without data the name is still read.
    gate = match_call(compiled, replace(named_far, eligible_nuts=()), now=NOW).gate
    assert gate is not None and gate.code == "geography.interreg"


def test_the_region_is_part_of_the_profile(profile: Profile) -> None:
    assert profile.gates.home_region == "SE123"
    data = profile_to_dict(profile)
    data["gates"]["home_region"] = "SE232"
    west = profile_from_dict(data)
    assert west.gates.home_region == "SE232"
    assert profile_from_dict(profile_to_dict(west)) == west

    # Moved to Västra Götaland, the ÖKS call is open and the Central Baltic one is not.
    compiled_west = compile_profile(west)
    assert match_call(compiled_west, _fixture_call("Öresund"), now=NOW).gate is None
    gate = match_call(compiled_west, _fixture_call("Central Baltic 4th call: small"), now=NOW).gate
    assert gate is not None and "SE232" in gate.reason

    data["gates"]["home_region"] = "Östergötland"
    with pytest.raises(ValueError, match=r"gates\.home_region must be a NUTS code"):
        profile_from_dict(data)
