"""Cross-validation folds, shared by evaluation and by learning's inner validation.

Grouped folds keep each programme family whole, so that a model is always scored on
programmes it never saw; random folds are stratified by relevance and kept for comparison.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence


def fold_of(
    call_ids: Sequence[str], gold: Mapping[str, frozenset[str]], k: int, seed: int
) -> dict[str, int]:
    """Deterministic folds, stratified by 'relevant to some area' so each fold has both."""
    rng = random.Random(seed)
    relevant = sorted(i for i in call_ids if gold[i])
    other = sorted(i for i in call_ids if not gold[i])
    rng.shuffle(relevant)
    rng.shuffle(other)
    return {cid: n % k for n, cid in enumerate(relevant + other)}


def group_folds(groups: Mapping[str, str], k: int) -> dict[str, int]:
    """Deterministic folds that keep each group (programme family) whole.

    Largest groups first, each into the fold that holds the fewest calls so far, so the
    folds come out about equally large even when one family is big.
    """
    members: dict[str, list[str]] = {}
    for call_id in sorted(groups):
        members.setdefault(groups[call_id], []).append(call_id)
    sizes = [0] * k
    out: dict[str, int] = {}
    for group in sorted(members, key=lambda g: (-len(members[g]), g)):
        fold = min(range(k), key=lambda f: (sizes[f], f))
        sizes[fold] += len(members[group])
        for call_id in members[group]:
            out[call_id] = fold
    return out
