"""Vinnova's open data API adapter."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.feeds.conftest import LocalServer, Reply, fixture_bytes, sample
from tracker.feeds.errors import BadPayload
from tracker.feeds.http import TrackerSession
from tracker.feeds.records import CallRecord, CallStatus, DeadlineModel, Quarantined, SourceKind
from tracker.feeds.vinnova import DOCUMENTED_FIELDS, fetch_vinnova, parse_vinnova, vinnova_url

NOW = datetime(2026, 9, 20, 8, 0, tzinfo=UTC)


def _records() -> tuple[dict[str, CallRecord], list[Quarantined]]:
    items = list(parse_vinnova(fixture_bytes("vinnova_rounds.json")))
    return (
        {r.external_id: r for r in items if isinstance(r, CallRecord)},
        [q for q in items if isinstance(q, Quarantined)],
    )


def test_round_fields() -> None:
    records, _ = _records()
    call = records["2026-01234"]

    assert call.source_kind is SourceKind.VINNOVA
    assert call.identifier == "2026-01234"
    assert call.call_identifier == "2026-01230"
    assert call.title == "Hållbara städer – innovation i kommunal verksamhet"
    assert call.language == "sv" and call.title_sv == call.title
    assert call.other_titles == ()  # "x" means no English title
    assert call.programme_label == "Vinnova"
    assert call.summary_text == "Innovationsprojekt i kommunal verksamhet."
    assert call.eligible_applicants == "Kommuner och regioner tillsammans med företag."
    assert call.description_text.startswith("Stöd till innovationsprojekt")
    assert call.url == "https://www.vinnova.se/e/hallbara-stader/innovation-i-kommuner-2026/"
    assert len(call.links) == 3
    assert call.budget is not None
    assert (call.budget.total, call.budget.currency) == (Decimal(40_000_000), "SEK")


def test_swedish_local_times_become_utc() -> None:
    records, _ = _records()

    winter = records["2026-01234"]
    assert winter.opens_at == datetime(2026, 9, 15, tzinfo=UTC)  # a day
    assert [(d.at, d.date_only) for d in winter.deadlines] == [
        (datetime(2026, 11, 12, 13, 0, tzinfo=UTC), False)  # 14:00 CET
    ]
    summer = records["2026-02000"]
    assert summer.deadlines[-1].at == datetime(2027, 4, 20, 12, 0, tzinfo=UTC)  # 14:00 CEST


def test_read_out_dates_are_cut_offs() -> None:
    records, _ = _records()
    call = records["2026-02000"]

    assert call.deadline_model is DeadlineModel.MULTIPLE_CUT_OFF
    assert [d.at.date() for d in call.deadlines] == [
        date(2026, 10, 21),
        date(2027, 1, 20),
        date(2027, 4, 20),
    ]
    assert [d.stage for d in call.deadlines] == ["cut-off 1", "cut-off 2", "cut-off 3"]
    assert call.other_titles == (("en", "International collaboration for a circular economy"),)
    assert call.title_in("en") == "International collaboration for a circular economy"
    assert call.budget is None  # "högst 2 miljoner" is a grant ceiling, not the call budget


def test_daily_read_out_is_continuous() -> None:
    records, _ = _records()
    call = records["2026-03000"]

    assert call.deadline_model is DeadlineModel.CONTINUOUS
    assert call.status(NOW) is CallStatus.OPEN


def test_announced_round_is_forthcoming() -> None:
    records, _ = _records()
    call = records["2026-04000"]

    assert call.opens_at is None and call.deadlines == ()
    assert call.opening_note == "Våren 2027"
    assert call.status(NOW) is CallStatus.FORTHCOMING


def test_invitation_only_external_round_and_bad_date() -> None:
    records, _ = _records()
    call = records["2026-05000"]

    assert call.tags == ("invitation only", "applications go to another organisation")
    assert call.deadlines == ()
    assert any("Stangningsdatum" in w for w in call.warnings)


def test_malformed_rounds_are_quarantined() -> None:
    _, quarantined = _records()

    assert len(quarantined) == 2
    assert {q.reason for q in quarantined} == {
        "round without Diarienummer",
        "round is not a JSON object",
    }


def test_results_are_incremental() -> None:
    assert not parse_vinnova(b"[]").complete


@pytest.mark.parametrize("payload", ["<html>Vinnovas öppna data</html>".encode(), b'{"a": 1}'])
def test_not_a_list_of_rounds(payload: bytes) -> None:
    with pytest.raises(BadPayload):
        parse_vinnova(payload)


def test_request_url_carries_the_since_date() -> None:
    base = "https://data.vinnova.se/api/ansokningsomgangar/"
    assert vinnova_url(base, date(2026, 9, 1)) == base + "2026-09-01"
    assert vinnova_url(base + "2025-01-01", date(2026, 9, 1)) == base + "2025-01-01"


def test_fetch_asks_for_changes_since(server: LocalServer, http: TrackerSession) -> None:
    server.routes["/api/ansokningsomgangar/2026-09-13"] = Reply(
        body=fixture_bytes("vinnova_rounds.json"), headers={"Content-Type": "application/json"}
    )

    result = fetch_vinnova(
        http, server.url("/api/ansokningsomgangar/"), now=NOW, since=date(2026, 9, 13)
    )

    assert len(result.records()) == 5
    assert server.requests[0].headers["accept"] == "application/json"
    assert not result.complete


def test_fetch_defaults_to_a_two_year_window(server: LocalServer, http: TrackerSession) -> None:
    server.routes["/api/ansokningsomgangar/2024-09-20"] = Reply(body=b"[]")

    fetch_vinnova(http, server.url("/api/ansokningsomgangar"), now=NOW)

    assert server.requests[0].path == "/api/ansokningsomgangar/2024-09-20"


# --- the API's own help page -------------------------------------------------------


def _example_from_docpage(page: str) -> tuple[str, int]:
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    start = text.index("[", text.index("Json"))
    return text[start : text.rindex("]") + 1], start


def _top_level_names(example: str) -> set[str]:
    names: set[str] = set()
    depth = 0
    for match in re.finditer(r'[\[\]{}]|"(\w+)"\s*:', example):
        token = match.group(0)
        if token in "[{":
            depth += 1
        elif token in "]}":
            depth -= 1
        elif depth == 2:
            names.add(match.group(1))
    return names


def _example_record(example: str) -> list[dict[str, Any]]:
    """The annotated example made into JSON: notes removed, bare URLs quoted."""
    cleaned = re.sub(r"\((?:[^()]|\([^()]*\))*\)", "", example.replace("\xa0", " "))
    cleaned = re.sub(r'("fileURL"|"URL")\s*:\s*(https?://[^\s,]+)', r'\1: "\2"', cleaned)
    cleaned = re.sub(r",\s*([}\]])", r"\1", cleaned)
    data: list[dict[str, Any]] = json.loads(cleaned)
    return data


def test_field_list_matches_the_api_help_page(samples: Path) -> None:
    page = sample(samples, "vinnova_api_ansokningsomgangar_docpage.html").read_text("utf-8")
    example, _ = _example_from_docpage(page)

    assert _top_level_names(example) == DOCUMENTED_FIELDS


def test_help_page_example_record_parses(samples: Path) -> None:
    page = sample(samples, "vinnova_api_ansokningsomgangar_docpage.html").read_text("utf-8")
    example, _ = _example_from_docpage(page)
    data = _example_record(example)
    records = parse_vinnova(json.dumps(data).encode()).records()

    assert len(records) == len(data) == 1
    call, raw = records[0], data[0]
    assert call.external_id == raw["Diarienummer"]
    assert call.title == " ".join(raw["Titel"].split())
    assert call.other_titles == ()  # the example's English title is "x"
    closing = datetime.fromisoformat(raw["Stangningsdatum"]).replace(
        tzinfo=ZoneInfo("Europe/Stockholm")
    )
    assert call.deadlines[-1].at == closing.astimezone(UTC)
    assert call.budget is not None and call.budget.currency == "SEK"
    assert call.eligible_applicants
    assert call.url and call.url.startswith("https://")
