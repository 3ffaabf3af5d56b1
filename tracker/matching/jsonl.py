"""JSON Lines in and out: calls, labels and predictions.

Calls: one object per line with ``id``, ``title``, ``programme`` and ``text`` (the format
of ``../shared/samples/real_calls.jsonl``); optional ``call_title``, ``keywords``,
``tags``, ``programme_code``, ``deadlines`` (ISO 8601 with offset),
``eligible_countries``, ``eligible_regions`` and ``eligible_applicants`` (a list of
applicant types as text). Unknown keys (``source``) are ignored.

Labels: ``{"id", "areas": [slug, ...], ...}``; ``areas`` may be empty.

Predictions: ``{"id", "areas": [{"slug", "score", "evidence": [...]}], "gated": null | reason}``
where ``areas`` lists only the areas decided as matches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from tracker.matching.call import CallInput
from tracker.matching.engine import MatchResult


@dataclass(frozen=True)
class Label:
    """A labelled call: the areas it is relevant to (possibly none)."""

    id: str
    areas: frozenset[str]
    confidence: str = ""
    why: str = ""


def _lines(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    p = Path(path)
    try:
        handle = p.open(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read {p}: {exc.strerror}") from exc
    with handle:
        for n, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{p}:{n}: not valid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise ValueError(f"{p}:{n}: expected a JSON object")
            yield n, obj


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"{where} must be a string or a list of strings")


def call_from_json(obj: dict[str, Any], where: str = "call") -> CallInput:
    """Build a CallInput from one decoded line."""
    call_id = obj.get("id")
    if not isinstance(call_id, str) or not call_id:
        raise ValueError(f"{where}: 'id' must be a non-empty string")
    for key in (
        "title",
        "programme",
        "text",
        "call_title",
        "programme_code",
        "eligible_applicants",
    ):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise ValueError(f"{where}: '{key}' must be a string")
    deadlines: list[datetime] = []
    for raw in _strings(obj.get("deadlines"), f"{where}: 'deadlines'"):
        try:
            d = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise ValueError(f"{where}: deadline {raw!r} is not an ISO 8601 date-time") from exc
        if d.tzinfo is None:
            raise ValueError(f"{where}: deadline {raw!r} needs a UTC offset")
        deadlines.append(d)
    return CallInput(
        id=call_id,
        title=obj.get("title") or "",
        programme=obj.get("programme") or "",
        programme_code=obj.get("programme_code") or "",
        call_title=obj.get("call_title") or "",
        keywords=_strings(obj.get("keywords"), f"{where}: 'keywords'"),
        tags=_strings(obj.get("tags"), f"{where}: 'tags'"),
        description=obj.get("text") or obj.get("description") or "",
        deadlines=tuple(deadlines),
        eligible_countries=_strings(
            obj.get("eligible_countries"), f"{where}: 'eligible_countries'"
        ),
        eligible_regions=_strings(obj.get("eligible_regions"), f"{where}: 'eligible_regions'"),
        eligible_applicants=obj.get("eligible_applicants") or "",
    )


def read_calls(path: str | Path) -> list[CallInput]:
    """All calls of a JSONL file, in file order; a repeated id keeps its last line."""
    calls: dict[str, CallInput] = {}
    for n, obj in _lines(path):
        call = call_from_json(obj, f"{path}:{n}")
        calls.pop(call.id, None)
        calls[call.id] = call
    return list(calls.values())


def read_labels(path: str | Path, known_slugs: Iterable[str] | None = None) -> dict[str, Label]:
    """Labels by call id; unknown area slugs are an error when `known_slugs` is given."""
    known = set(known_slugs) if known_slugs is not None else None
    labels: dict[str, Label] = {}
    for n, obj in _lines(path):
        call_id = obj.get("id")
        areas = obj.get("areas")
        if not isinstance(call_id, str) or not call_id:
            raise ValueError(f"{path}:{n}: 'id' must be a non-empty string")
        if not isinstance(areas, list) or not all(isinstance(a, str) for a in areas):
            raise ValueError(f"{path}:{n}: 'areas' must be a list of area slugs")
        if known is not None:
            unknown = sorted(set(areas) - known)
            if unknown:
                raise ValueError(f"{path}:{n}: unknown area {unknown[0]!r}")
        labels[call_id] = Label(
            id=call_id,
            areas=frozenset(areas),
            confidence=str(obj.get("confidence") or ""),
            why=str(obj.get("why") or ""),
        )
    return labels


def prediction_to_json(result: MatchResult) -> dict[str, Any]:
    """One output line: the matching areas with score and evidence, or the gate."""
    return {
        "id": result.call_id,
        "areas": [
            {
                "slug": a.slug,
                "score": a.score,
                "evidence": [e.to_dict() for e in a.evidence],
            }
            for a in sorted(result.matches, key=lambda a: -a.score)
        ],
        "gated": None if result.gate is None else result.gate.reason,
    }


def write_predictions(out: IO[str], results: Iterable[MatchResult]) -> int:
    """Write one JSON line per result; returns the number written."""
    n = 0
    for r in results:
        out.write(json.dumps(prediction_to_json(r), ensure_ascii=False))
        out.write("\n")
        n += 1
    return n
