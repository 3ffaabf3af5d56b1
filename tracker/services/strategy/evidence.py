"""Match evidence as staff read it, the same on the call page and in the digest.

The engine gives each reason behind a score as an `Evidence` (``tracker.matching.engine``);
matching stores it as JSON on ``CallMatch``. `stored_evidence` reads it back typed, and
`evidence_line` says one item in the reader's language with the translator the caller has
(the web page's gettext, or the digest's for the subscriber's language).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tracker.i18n import Message, msg
from tracker.matching.engine import Evidence

__all__ = [
    "CODE_TEXTS",
    "WRITTEN_KINDS",
    "basis_evidence",
    "evidence_line",
    "stored_evidence",
    "strongest",
]

# Readings the engine gives a code, said in words here so that every output says them alike.
CODE_TEXTS: dict[str, Message] = {
    "national-only": msg("Only national authorities or national bodies may apply"),
    "one-country": msg("Re-granting to the organisations of one other country"),
    "local-actors": msg("Local authorities, cities, living labs or local pilots take part"),
    "short-record": msg("Short record: the match rests on the title and programme"),
}

# Evidence whose text the tracker or the profile wrote (not words found in the call): looked
# up in the catalogue (tracker.matching.profile_texts, the engine's msg() notes).
WRITTEN_KINDS = frozenset({"basis", "prior", "breadth", "gate", "feedback"})

NO_TEXT_BASIS = msg("No description: matched on title, themes and programme only.")


def basis_evidence(has_text: bool) -> list[Evidence]:
    """What a score rests on, stored first with every area's evidence: said only when the call
    has no description to read."""
    return [] if has_text else [Evidence(kind="basis", text=str(NO_TEXT_BASIS), weight=0.0)]


def stored_evidence(items: Iterable[Mapping[str, Any] | Evidence] | None) -> list[Evidence]:
    """``CallMatch.evidence`` as typed items (rows that are not mappings are skipped)."""
    out: list[Evidence] = []
    for item in items or ():
        if isinstance(item, Evidence):
            out.append(item)
        elif isinstance(item, Mapping):
            out.append(Evidence.from_dict(item))
    return out


def evidence_line(item: Evidence, gettext: Callable[[str], str]) -> str:
    """One item in the reader's language: a coded reading in words, a note the tracker wrote
    through the catalogue (both starting with a capital), and words found in the call as they
    are."""
    coded = CODE_TEXTS.get(item.code or "")
    if coded is not None:
        return _capital(gettext(coded.template))
    if item.kind in WRITTEN_KINDS and item.text:
        return _capital(gettext(item.text))
    return item.text


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def strongest(items: Iterable[Evidence], limit: int) -> list[Evidence]:
    """The items that added the most to the score, each text once."""
    chosen: list[Evidence] = []
    seen: set[str] = set()
    for item in sorted(items, key=lambda e: e.weight, reverse=True):
        key = " ".join(item.text.split())
        if not key or key in seen:
            continue
        seen.add(key)
        chosen.append(item)
        if len(chosen) == limit:
            break
    return chosen
