"""Programme families and folds that keep them whole (grouped cross-validation)."""

from __future__ import annotations

from tracker.matching.call import CallInput, programme_family
from tracker.matching.folds import group_folds


def _call(call_id: str, programme: str = "") -> CallInput:
    return CallInput(id=call_id, title="t", programme=programme)


def test_horizon_calls_are_grouped_by_cluster_from_either_source() -> None:
    by_code = _call("HORIZON-CL5-2026-02-D3-07", "Horizon Europe (HORIZON)")
    by_name = _call("euro-access:1", "Horizon Europe: Cluster 5 - Climate, Energy and Mobility")
    mission = _call("HORIZON-MISS-2026-01-CLIMA-05", "Horizon Europe (HORIZON)")
    assert programme_family(by_code) == programme_family(by_name) == "HORIZON-CL5"
    assert programme_family(mission) == "HORIZON-MISS"


def test_programme_names_and_codes_give_one_family() -> None:
    assert programme_family(_call("LIFE-2026-SAP-ENV", "")) == "LIFE"
    assert (
        programme_family(_call("x:1", "Programme for the Environment and Climate Action (LIFE)"))
        == "LIFE"
    )
    assert programme_family(_call("x:2", "Citizens, Equality, Rights and Values programme")) == (
        programme_family(
            _call("CERV-2026-CITIZENS", "Citizens, Equality, Rights and Values (CERV)")
        )
    )
    assert programme_family(_call("x:3", "Interreg Czechia-Poland")) == "INTERREG"
    assert programme_family(_call("x:4", "Interreg South Baltic")) == "INTERREG"
    assert programme_family(_call("x:5", "Formas (Swedish Research Council)")) == "FORMAS"
    assert programme_family(
        _call("12447COMPETITIVE_CALLen", "Digital Europe Programme (DIGITAL)")
    ) == ("DIGITAL")


def test_group_folds_keep_families_whole_and_balance_sizes() -> None:
    groups = {f"a{i}": "A" for i in range(6)}
    groups |= {f"b{i}": "B" for i in range(3)}
    groups |= {f"c{i}": "C" for i in range(3)}
    groups |= {f"d{i}": "D" for i in range(2)}
    folds = group_folds(groups, 2)
    for family in "ABCD":
        assert len({folds[c] for c, g in groups.items() if g == family}) == 1
    sizes = [sum(1 for f in folds.values() if f == k) for k in range(2)]
    assert sorted(sizes) == [6, 8]  # 6 + 8 is the most even split
    assert group_folds(groups, 2) == folds
