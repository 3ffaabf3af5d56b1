"""Choosing the adapter for a configured source."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from tests.feeds.conftest import LocalServer, Reply, fixture_bytes
from tracker.feeds.adapter import FetchContext, SourceAdapter
from tracker.feeds.http import TrackerSession
from tracker.feeds.records import CallRecord, FetchResult, SourceKind
from tracker.feeds.registry import (
    ADAPTERS,
    SECRET_MASK,
    SourceSpec,
    fetch_source,
    masked_settings,
    settings_errors,
)
from tracker.i18n import msg

NOW = datetime(2026, 9, 20, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "fixture", "calls"),
    [
        (SourceKind.FT_SEARCH, "sedia_search.json", 6),
        (SourceKind.FT_BULK, "grants_tenders.json", 3),
        (SourceKind.RSS, "feed_rss.xml", 5),
        (SourceKind.VINNOVA, "vinnova_rounds.json", 5),
        (SourceKind.MANUAL, "manual_calls.csv", 3),
    ],
)
def test_every_kind_reads_a_local_file(
    tmp_path: Path, http: TrackerSession, kind: SourceKind, fixture: str, calls: int
) -> None:
    path = tmp_path / fixture
    path.write_bytes(fixture_bytes(fixture))

    with fetch_source(http, SourceSpec(kind=kind, url=path.as_uri()), now=NOW) as result:
        records = result.records()

    assert len(records) == calls
    assert all(r.source_kind is kind for r in records)
    # what ingest stores of each record reads back as that record
    assert [CallRecord.from_dict(r.to_dict()) for r in records] == records


def test_vinnova_asks_for_changes_since_the_last_success(
    server: LocalServer, http: TrackerSession
) -> None:
    server.routes["/api/ansokningsomgangar/2026-09-08"] = Reply(body=b"[]")
    spec = SourceSpec(
        kind=SourceKind.VINNOVA,
        url=server.url("/api/ansokningsomgangar/"),
        last_success_at=datetime(2026, 9, 15, 3, 0, tzinfo=UTC),
    )

    result = fetch_source(http, spec, now=NOW)

    assert result.records() == [] and not result.complete
    assert server.requests[0].path.endswith("/2026-09-08")


def test_rss_settings_reach_the_adapter(tmp_path: Path, http: TrackerSession) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(fixture_bytes("feed_rss.xml"))
    spec = SourceSpec(
        kind=SourceKind.RSS,
        url=path.as_uri(),
        settings={"programme": "Interreg Central Baltic", "complete": True},
    )

    result = fetch_source(http, spec, now=NOW)

    assert result.complete
    assert {r.programme_label for r in result.records()} == {"Interreg Central Baltic"}


def test_settings_are_checked() -> None:
    assert settings_errors(SourceKind.RSS, {"programme": "X"}) == []
    assert settings_errors(SourceKind.RSS, {"colour": "red"}) == [
        "unknown setting 'colour' for a rss source"
    ]
    assert settings_errors(SourceKind.FT_SEARCH, {"page_size": True}) == [
        "setting 'page_size' has the wrong type"
    ]
    assert settings_errors(SourceKind.VINNOVA, {"since": "last week"}) == [
        "setting 'since' must be a date (YYYY-MM-DD)"
    ]
    with pytest.raises(ValueError, match="unknown setting"):
        fetch_source(
            TrackerSession(),
            SourceSpec(kind=SourceKind.MANUAL, url="file:///x.csv", settings={"x": 1}),
            now=NOW,
        )


def test_every_source_kind_has_one_adapter_in_the_table() -> None:
    assert set(ADAPTERS) == set(SourceKind)
    assert all(kind is adapter.kind for kind, adapter in ADAPTERS.items())
    # whose word counts when sources disagree is a strict order
    assert len({adapter.priority for adapter in ADAPTERS.values()}) == len(ADAPTERS)


def test_the_table_alone_decides_how_a_kind_is_read_checked_and_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[SourceSpec, FetchContext]] = []

    def fetch(session: requests.Session, spec: SourceSpec, context: FetchContext) -> FetchResult:
        seen.append((spec, context))
        record = CallRecord(source_kind=spec.kind, external_id="x-1", title="From the new row")
        return FetchResult(items=[record])

    replacement = SourceAdapter(
        kind=SourceKind.RSS,
        label=msg("A feed of another shape"),
        fetcher=fetch,
        settings={"token": str},
        required=("token",),
        secrets=frozenset({"token"}),
    )
    monkeypatch.setitem(ADAPTERS, SourceKind.RSS, replacement)

    assert settings_errors(SourceKind.RSS, {}) == ["setting 'token' is required for a rss source"]
    assert settings_errors(SourceKind.RSS, {"programme": "X", "token": "t"}) == [
        "unknown setting 'programme' for a rss source"
    ]
    assert masked_settings({"token": "t"}, SourceKind.RSS) == {"token": SECRET_MASK}
    spec = SourceSpec(kind=SourceKind.RSS, url="https://feed.example/x", settings={"token": "t"})
    result = fetch_source(TrackerSession(), spec, now=NOW)
    assert [r.title for r in result.records()] == ["From the new row"]
    assert seen[0][0] is spec and seen[0][1].now == NOW
