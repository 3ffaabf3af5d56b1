"""Swedish and English queries on the shared real calls: what each must find is computed from
the calls' own texts (every call that says it in so many words), never from known ids."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from tests.conftest import requires_samples, samples_dir
from tests.factories import NOW
from tracker.matching.text import detect_language
from tracker.models import FundingCall
from tracker.services.catalogue import CatalogueFilters, catalogue_page

pytestmark = requires_samples


@pytest.fixture
def real_calls(session: Session) -> dict[int, FundingCall]:
    calls = []
    with (samples_dir() / "real_calls.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            calls.append(
                FundingCall(
                    identifier=record["id"],
                    title=record["title"],
                    programme_label=record.get("programme"),
                    description_text=record.get("text"),
                    first_seen_at=NOW,
                    updated_at=NOW,
                )
            )
    session.add_all(calls)
    session.flush()
    return {call.id: call for call in calls}


def search(session: Session, q: str) -> list[int]:
    page = catalogue_page(session, CatalogueFilters(q=q), now=NOW, page_size=1000)
    return [row.call_id for row in page.rows]


def says(pattern: str) -> Callable[[FundingCall], bool]:
    compiled = re.compile(pattern, re.IGNORECASE)
    return lambda call: bool(compiled.search(f"{call.title} {call.description_text or ''}"))


def in_title(pattern: str) -> Callable[[FundingCall], bool]:
    compiled = re.compile(pattern, re.IGNORECASE)
    return lambda call: bool(compiled.search(call.title))


def swedish(call: FundingCall) -> bool:
    return detect_language(f"{call.title} {call.description_text or ''}") == "sv"


# (query, the calls it must find, what the first result's title must say)
CASES = [
    # Swedish queries, English calls
    ("klimatanpassning", r"climate adaptation|adaptation to climate change", r"adapt|resilien"),
    ("kommun", r"municipalit|local authorit|local government", None),
    ("kommuner", r"municipalit|local authorit|local government", None),
    ("städer", r"\bcit(y|ies)\b", r"\bcit(y|ies)\b|städer"),
    ("musik", r"\bmusic\b", r"\bmusic\b"),
    ("kulturarv", r"cultural heritage", r"heritage"),
    ("vätgas", r"\bhydrogen\b", r"hydrogen"),
    ("biologisk mångfald", r"\bbiodiversity\b", r"biodiversity"),
    ("översvämningar", r"\bflood(s|ing)?\b", None),
    ("demokrati", r"\bdemocracy\b|\bdemocratic\b", r"democra"),
    ("skolor", r"\bschools?\b", r"school"),
    ("ungdomar", r"\byouth\b|\byoung people\b", r"youth|young"),
    ("hälsa", r"\bhealth\b", r"health"),
    ("vatten", r"\bwater\b", r"water"),
    ("vänort", r"town twinning|twin towns|sister cit", None),
    # English queries
    ("climate adaptation", r"climate adaptation|adaptation to climate change", r"adapt|resilien"),
    ("cities", r"\bcit(y|ies)\b", r"\bcit(y|ies)\b|städer"),
    ("music", r"\bmusic\b", r"\bmusic\b"),
]


ENGLISH_FINDS_SWEDISH = [
    ("research", r"forskning"),
    ("innovation", r"innovation"),
    ("energy", r"energi"),
    ("cities", r"städer"),
]


def test_queries_find_every_call_that_says_it(
    session: Session, real_calls: dict[int, FundingCall]
) -> None:
    # One load of the calls for every case: the failures are reported together.
    failures = []
    for query, must_find, first_says in CASES:
        expected = {i for i, call in real_calls.items() if says(must_find)(call)}
        if not expected:
            failures.append(f"no real call says {must_find!r}: the case tests nothing")
            continue
        found = search(session, query)
        missing = sorted(real_calls[i].title for i in expected - set(found))
        if missing:
            failures.append(f"{query!r} missed calls that say {must_find!r}: {missing[:3]}")
        if first_says is not None and not in_title(first_says)(real_calls[found[0]]):
            failures.append(f"{query!r} ranked {real_calls[found[0]].title!r} first")
    for query, swedish_title_says in ENGLISH_FINDS_SWEDISH:
        expected = {
            i
            for i, call in real_calls.items()
            if swedish(call) and in_title(swedish_title_says)(call)
        }
        if not expected:
            failures.append(f"no Swedish real call has {swedish_title_says!r} in its title")
        elif not expected <= set(search(session, query)):
            failures.append(f"{query!r} missed Swedish calls with {swedish_title_says!r}")
    assert failures == []


def test_results_identifiers_and_programmes(
    session: Session, real_calls: dict[int, FundingCall]
) -> None:
    # Precision: every call "musik" finds speaks of music, in either language.
    found = search(session, "musik")
    assert found
    assert all(says(r"music|musik")(real_calls[i]) for i in found)
    # An identifier finds its call first.
    with_dashes = [c for c in real_calls.values() if c.identifier and c.identifier.count("-") >= 3]
    assert with_dashes
    for call in with_dashes[:: max(1, len(with_dashes) // 10)]:
        assert search(session, call.identifier or "")[0] == call.id
    # A programme's name finds its calls.
    labels = sorted({c.programme_label for c in real_calls.values() if c.programme_label})
    name = next(label for label in labels if label.startswith("Creative Europe"))
    expected = {i for i, c in real_calls.items() if c.programme_label == name}
    assert expected <= set(search(session, name.split(" (")[0]))
