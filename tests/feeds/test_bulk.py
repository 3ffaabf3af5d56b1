"""The bulk file adapter: streaming parse and conditional download."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.feeds.conftest import LocalServer, Reply, Seen, fixture_bytes, sample
from tracker.feeds.bulk import fetch_bulk, parse_bulk
from tracker.feeds.errors import BadPayload, TooLarge
from tracker.feeds.http import TrackerSession
from tracker.feeds.records import CallRecord, DeadlineModel, FetchResult, Quarantined, SourceKind


def _parse(content: bytes) -> tuple[list[CallRecord], list[Quarantined], int]:
    result = FetchResult()
    items = list(parse_bulk(io.BytesIO(content), result))
    return (
        [i for i in items if isinstance(i, CallRecord)],
        [i for i in items if isinstance(i, Quarantined)],
        result.skipped,
    )


def test_calls_are_read_and_tenders_skipped() -> None:
    records, quarantined, skipped = _parse(fixture_bytes("grants_tenders.json"))

    assert [r.external_id for r in records] == [
        "CERV-2027-CITIZENS-TOWN-TT",
        "ERASMUS-YOUTH-2027-CB",
        "EuropeAid/999002/DD/ACT/Multi",
    ]
    assert all(r.source_kind is SourceKind.FT_BULK for r in records)
    # a tender, a type 6 object and a repeated topic
    assert skipped == 3
    assert len(quarantined) == 1 and "identifier" in quarantined[0].reason


def test_epoch_milliseconds_as_numbers_and_strings() -> None:
    records, _, _ = _parse(fixture_bytes("grants_tenders.json"))
    town, youth, _ = records

    assert town.opens_at == datetime(2026, 9, 15, tzinfo=UTC)
    assert town.published_at == datetime(2026, 9, 14, tzinfo=UTC)
    assert [(d.at, d.date_only) for d in town.deadlines] == [
        (datetime(2027, 2, 19, tzinfo=UTC), True)
    ]
    # string epochs inside actions, unsorted, with an empty deadline model
    assert youth.opens_at == datetime(2026, 9, 29, tzinfo=UTC)
    assert [d.at.date().isoformat() for d in youth.deadlines] == ["2026-11-19", "2027-02-26"]
    assert youth.deadline_model is DeadlineModel.MULTIPLE_CUT_OFF


def test_programme_labels_come_with_the_file() -> None:
    records, _, _ = _parse(fixture_bytes("grants_tenders.json"))
    town = records[0]

    assert town.programme_code == "43251589"
    assert town.programme_label == "Citizens, Equality, Rights and Values Programme (CERV)"
    assert town.programme_divisions[0].label == "Citizens engagement and participation"
    assert town.type_of_action == "CERV Lump Sum Grants"
    assert town.keywords == ("Civic participation",)
    assert town.url is not None and town.url.endswith("/topic-details/CERV-2027-CITIZENS-TOWN-TT")
    assert town.updates[0].html == "<p>Info day on 5 October.</p>"


def test_unreadable_dates_are_warned_about_not_fatal() -> None:
    records, _, _ = _parse(fixture_bytes("grants_tenders.json"))
    prospect = records[2]

    assert len(prospect.deadlines) == 1
    assert not prospect.deadlines[0].date_only  # 13:20 UTC is a real time
    assert any("not a date" in w for w in prospect.warnings)
    assert prospect.url is not None and "prospect" in prospect.url


def test_parsing_is_lazy() -> None:
    content = fixture_bytes("grants_tenders.json")
    broken = content[: content.index(b'"type": "0"')]  # cut off mid-file

    stream = parse_bulk(io.BytesIO(broken))
    first = next(stream)
    assert isinstance(first, CallRecord)
    with pytest.raises(BadPayload):
        list(stream)


def test_not_json() -> None:
    with pytest.raises(BadPayload):
        list(parse_bulk(io.BytesIO(b"<html>maintenance</html>")))


def test_real_bulk_excerpt(samples: Path) -> None:
    path = sample(samples, "grantsTenders_excerpt_grantfin.json")
    objects = json.loads(path.read_bytes())["fundingData"]["GrantTenderObj"]
    with path.open("rb") as stream:
        records, quarantined, skipped = _parse(stream.read())

    calls = [o for o in objects if str(o["type"]) != "0"]
    assert len(records) == len(calls)
    assert skipped == len(objects) - len(calls)
    assert not quarantined
    for record, obj in zip(records, calls, strict=True):
        assert record.identifier == obj["identifier"]
        assert len(record.deadlines) == len(set(obj["deadlineDatesLong"]))
        assert record.programme_label == obj["frameworkProgramme"]["description"]
        assert record.opens_at is not None and record.opens_at.year >= 2020
        if len(record.deadlines) > 1:
            assert record.deadline_model is DeadlineModel.MULTIPLE_CUT_OFF


def test_download_streams_to_disk_and_is_conditional(
    server: LocalServer, http: TrackerSession
) -> None:
    body = fixture_bytes("grants_tenders.json")

    def bulk(seen: Seen) -> Reply:
        if seen.headers.get("if-none-match") == '"b1"':
            return Reply(status=304)
        return Reply(body=body, headers={"ETag": '"b1"'})

    server.routes["/grantsTenders.json"] = bulk

    with fetch_bulk(http, server.url("/grantsTenders.json")) as result:
        assert result.etag == '"b1"' and result.complete
        records = result.records()
    assert len(records) == 3
    assert result.skipped == 3

    with fetch_bulk(http, server.url("/grantsTenders.json"), etag='"b1"') as again:
        assert again.not_modified
        assert again.records() == []


def test_download_size_cap(server: LocalServer, http: TrackerSession) -> None:
    server.routes["/grantsTenders.json"] = Reply(body=fixture_bytes("grants_tenders.json"))

    with pytest.raises(TooLarge):
        fetch_bulk(http, server.url("/grantsTenders.json"), max_bytes=1000)
