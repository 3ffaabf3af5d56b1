"""Manual import of calls from CSV and xlsx."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.feeds.conftest import fixture_bytes, sample
from tracker.feeds.errors import BadPayload
from tracker.feeds.http import TrackerSession
from tracker.feeds.manual import fetch_manual, parse_manual, parse_manual_csv
from tracker.feeds.records import DeadlineModel, Quarantined, SourceKind


def test_csv_rows_become_calls() -> None:
    result = parse_manual_csv(fixture_bytes("manual_calls.csv"))
    calls = {r.external_id: r for r in result.records}

    assert sorted(calls) == ["erufe-2026-1", "esf-2026-2", "stiftelsens-resebidrag@2026-12-01"]
    erufe = calls["erufe-2026-1"]
    assert erufe.source_kind is SourceKind.MANUAL
    assert erufe.title == "Hållbar omställning i Östra Mellansverige"
    assert erufe.identifier == "20261234"
    assert erufe.programme_label == "Regionalfonden Östra Mellansverige"
    assert erufe.region == "Östra Mellansverige"
    assert erufe.eligible_applicants == "Kommuner, regioner och företag"
    assert erufe.funding_rate_pct == Decimal(60)
    assert erufe.required_cofinancing_pct == Decimal(40)
    assert erufe.budget is not None
    assert erufe.budget.total == Decimal(120_000_000)
    assert erufe.budget.max_grant == Decimal(10_000_000)
    assert erufe.budget.currency == "SEK"
    assert erufe.keywords == ("omställning", "klimat")
    assert erufe.language == "sv"


def test_dates_are_swedish_time() -> None:
    calls = {r.external_id: r for r in parse_manual_csv(fixture_bytes("manual_calls.csv")).records}

    erufe = calls["erufe-2026-1"]
    assert erufe.opens_at == datetime(2026, 9, 1, tzinfo=UTC)
    assert [(d.at, d.date_only) for d in erufe.deadlines] == [
        (datetime(2026, 11, 15, 22, 59, tzinfo=UTC), False)  # 23:59 CET
    ]
    travel = calls["stiftelsens-resebidrag@2026-12-01"]
    assert [d.day() for d in travel.deadlines] == [date(2026, 12, 1), date(2027, 3, 1)]
    assert travel.deadline_model is DeadlineModel.MULTIPLE_CUT_OFF
    assert all(d.date_only for d in travel.deadlines)


def test_row_errors_are_reported_and_other_rows_imported() -> None:
    result = parse_manual_csv(fixture_bytes("manual_calls.csv"))
    errors = {(e.row, e.column) for e in result.errors}

    assert result.rows == 6  # the empty line is not a row
    assert (5, "title") in errors
    assert {
        (6, "url"),
        (6, "opens"),
        (6, "deadlines"),
        (6, "max_eu_rate_pct"),
        (6, "budget_total"),
    } <= errors
    assert (7, "id") in errors
    assert str(next(e for e in result.errors if e.row == 7)) == "row 7, column id: same id as row 2"
    assert result.warnings == ["columns not recognised and ignored: anteckning"]
    assert not result.ok


def test_errors_become_quarantined_items_when_fetched_as_a_source() -> None:
    result = parse_manual_csv(fixture_bytes("manual_calls.csv")).to_fetch_result()
    quarantined = [i for i in result if isinstance(i, Quarantined)]

    assert len(result.records()) == 3
    assert len(quarantined) == 3
    assert quarantined[1].raw["title"] == "Fel datum"
    assert "row 6" in quarantined[1].reason


def test_rates_must_agree() -> None:
    content = b"title;max_eu_rate_pct;cofinancing_pct\nA;60;30\nB;;25\n"
    result = parse_manual_csv(content)

    assert [(e.row, e.column) for e in result.errors] == [(2, "cofinancing_pct")]
    assert result.records[0].funding_rate_pct == Decimal(75)


def test_comma_separated_windows_1252_export() -> None:
    content = "Title,Deadline,Region\nStöd till föreningar,2026-10-01,Norrköping\n".encode("cp1252")
    records = parse_manual_csv(content).records

    assert records[0].title == "Stöd till föreningar"
    assert records[0].region == "Norrköping"


def test_a_sheet_without_title_column_is_refused() -> None:
    with pytest.raises(BadPayload, match="title"):
        parse_manual_csv(b"name2;deadline\nx;2026-01-01\n")
    with pytest.raises(BadPayload):
        parse_manual_csv(b"")


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_real_date_and_percent_cells() -> None:
    content = _xlsx(
        [
            [
                "Title",
                "Deadlines",
                "Opens",
                "Cofinancing %",
                "Budget total",
                "Expected grants",
                "Tags",
            ],
            [
                "Smart städer",
                datetime(2027, 2, 1, 14, 0),
                date(2026, 11, 1),
                0.5,
                2_500_000,
                5,
                "a;b",
            ],
            ["Utan datum", None, None, None, None, "många", None],
        ]
    )

    result = parse_manual(content, filename="calls.xlsx")

    call = result.records[0]
    assert call.deadlines[0].at == datetime(2027, 2, 1, 13, 0, tzinfo=UTC)
    assert call.opens_at == datetime(2026, 11, 1, tzinfo=UTC)
    assert call.funding_rate_pct == Decimal(50)
    assert call.budget is not None and call.budget.total == Decimal(2_500_000)
    assert call.budget.expected_grants == 5
    assert call.tags == ("a", "b")
    assert [(e.row, e.column) for e in result.errors] == [(3, "expected_grants")]


def test_xlsx_is_recognised_without_a_file_name() -> None:
    content = _xlsx([["title"], ["Från kalkylblad"]])
    assert parse_manual(content).records[0].title == "Från kalkylblad"


def test_broken_xlsx() -> None:
    with pytest.raises(BadPayload):
        parse_manual(b"PK\x03\x04 not really a zip", filename="x.xlsx")


def test_a_published_sheet_as_a_source(tmp_path: Path, http: TrackerSession) -> None:
    path = tmp_path / "calls.csv"
    path.write_bytes(fixture_bytes("manual_calls.csv"))

    result = fetch_manual(http, path.as_uri())
    again = fetch_manual(http, path.as_uri(), last_modified=result.last_modified)

    assert len(result.records()) == 3 and result.complete
    assert again.not_modified


def test_real_tillvaxtverket_calls_typed_into_a_sheet(samples: Path, tmp_path: Path) -> None:
    """Staff copy a funder's listing into the documented columns: every call survives."""
    path = sample(samples, "swedish_scrapes/tillvaxtverket_utlysningar_scrape_2026-05-04.json")
    listing = json.loads(path.read_text("utf-8"))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["title", "url", "opens", "deadlines", "programme", "tags"])
    for call in listing:
        writer.writerow(
            [
                call["title"],
                call["url"],
                call["opens"],
                call["closes"],
                "Tillväxtverket",
                call["category"],
            ]
        )

    result = parse_manual_csv(buffer.getvalue().encode("utf-8"))

    assert result.ok, result.errors
    assert len(result.records) == len(listing)
    for record, call in zip(result.records, listing, strict=True):
        assert record.title == " ".join(call["title"].split())
        assert record.url == call["url"]
        if call["closes"]:
            assert record.deadlines[0].day() == date.fromisoformat(call["closes"])
