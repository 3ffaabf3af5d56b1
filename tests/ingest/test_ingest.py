"""Ingest: dedup across sources, change history, the no-op re-run, withdrawal, quarantine."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from tests.factories import make_source
from tracker.feeds.errors import BadPayload
from tracker.feeds.records import (
    Budget,
    CallRecord,
    Deadline,
    DeadlineModel,
    FeedItem,
    FetchResult,
    Quarantined,
)
from tracker.feeds.records import SourceKind as FeedKind
from tracker.models import (
    CallChange,
    CallSourceLink,
    FetchStatus,
    FundingCall,
    QuarantinedItem,
    SourceKind,
)
from tracker.services.ingest import ingest_fetch_result, upsert_calls

NOW = datetime(2026, 9, 20, 6, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=6)
TOPIC_URL = (
    "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/"
    "topic-details/"
)


def _record(n: int = 1, kind: FeedKind = FeedKind.FT_SEARCH, **overrides: Any) -> CallRecord:
    identifier = f"HORIZON-CL6-2027-01-TEST-{n:02d}"
    values: dict[str, Any] = {
        "source_kind": kind,
        "external_id": identifier,
        "identifier": identifier,
        "title": f"Smart rural towns, topic {n}",
        "programme_code": "43108390",
        "programme_label": "Horizon Europe (HORIZON)",
        "url": TOPIC_URL + identifier,
        "language": "en",
        "description_html": f"<p>Pilots for <b>towns</b> number {n}.</p>",
        "opens_at": datetime(2026, 10, 6, tzinfo=UTC),
        "deadlines": (Deadline(datetime(2027, 2, 17, tzinfo=UTC), "deadline", True),),
        "deadline_model": DeadlineModel.SINGLE_STAGE,
        "budget": Budget(total=Decimal(12_000_000), max_grant=Decimal(4_000_000)),
        "keywords": ("Rural development",),
        "raw": {"metadata": {"identifier": [identifier]}},
    }
    values.update(overrides)
    return CallRecord(**values)


def _call(session: Session, identifier: str) -> FundingCall:
    call = session.scalars(select(FundingCall).where(FundingCall.identifier == identifier)).one()
    session.refresh(call)
    return call


def _changes(session: Session, call: FundingCall) -> list[tuple[str, Any, Any]]:
    rows = session.scalars(
        select(CallChange).where(CallChange.call_id == call.id).order_by(CallChange.id)
    )
    return [(c.field, c.old_value, c.new_value) for c in rows]


@pytest.fixture
def search(session: Session) -> Any:
    return make_source(session, SourceKind.FT_SEARCH, name="eu-search")


def test_first_ingest_creates_calls_with_their_fields(session: Session, search: Any) -> None:
    stats = upsert_calls(session, search, [_record(1), _record(2)], now=NOW, complete=True)

    assert (stats.new, stats.updated, stats.unchanged) == (2, 0, 0)
    call = _call(session, "HORIZON-CL6-2027-01-TEST-01")
    assert call.title == "Smart rural towns, topic 1"
    assert call.programme_label == "Horizon Europe (HORIZON)"
    assert call.description_text == "Pilots for towns number 1."
    assert call.budget_total == Decimal(12_000_000) and call.budget_total_eur == Decimal(12_000_000)
    assert call.currency == "EUR"
    assert call.keywords == ["Rural development"]
    assert call.first_seen_at == NOW and call.updated_at == NOW
    # The portal closes a deadline day at 17:00 Brussels time: a moment with a time.
    assert [(d.deadline_at, d.is_date_only) for d in call.deadlines] == [
        (datetime(2027, 2, 17, 16, 0, tzinfo=UTC), False)
    ]
    assert call.status(datetime(2027, 2, 17, 15, 59, tzinfo=UTC)) == "open"
    assert call.status(datetime(2027, 2, 17, 16, 1, tzinfo=UTC)) == "closed"
    assert call.raw == {"metadata": {"identifier": ["HORIZON-CL6-2027-01-TEST-01"]}}
    links = session.scalars(select(CallSourceLink).where(CallSourceLink.call_id == call.id)).all()
    assert [(link.source_id, link.external_id) for link in links] == [
        (search.id, "HORIZON-CL6-2027-01-TEST-01")
    ]


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    connection = session.connection()

    def capture(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.lstrip().split(None, 1)[0].upper())

    event.listen(connection, "before_cursor_execute", capture)
    yield seen
    event.remove(connection, "before_cursor_execute", capture)


def test_refetching_unchanged_data_writes_nothing(
    session: Session, search: Any, statements: list[str]
) -> None:
    records = [_record(n) for n in range(1, 6)]
    upsert_calls(session, search, records, now=NOW, complete=True)
    session.flush()
    statements.clear()

    stats = upsert_calls(
        session, search, [_record(n) for n in range(1, 6)], now=LATER, complete=True
    )

    assert (stats.new, stats.updated, stats.unchanged) == (0, 0, 5)
    writes = [s for s in statements if s in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []
    call = _call(session, "HORIZON-CL6-2027-01-TEST-03")
    assert call.updated_at == NOW
    assert _changes(session, call) == []
    # ... while a real change is written (the capture sees writes)
    upsert_calls(session, search, [_record(3, title="Changed")], now=LATER)
    assert "UPDATE" in statements


def test_changes_are_recorded_field_by_field(session: Session, search: Any) -> None:
    upsert_calls(session, search, [_record(1)], now=NOW)
    postponed = _record(
        1,
        title="Smart rural towns and villages, topic 1",
        deadlines=(Deadline(datetime(2027, 3, 3, 16, 0, tzinfo=UTC)),),
        budget=Budget(total=Decimal(15_000_000), max_grant=Decimal(4_000_000)),
    )

    stats = upsert_calls(session, search, [postponed], now=LATER)

    assert stats.updated == 1
    call = _call(session, "HORIZON-CL6-2027-01-TEST-01")
    assert call.updated_at == LATER
    assert call.title == "Smart rural towns and villages, topic 1"
    assert [d.deadline_at for d in call.deadlines] == [datetime(2027, 3, 3, 16, 0, tzinfo=UTC)]
    changes = {name: (old, new) for name, old, new in _changes(session, call)}
    assert changes["title"] == (
        "Smart rural towns, topic 1",
        "Smart rural towns and villages, topic 1",
    )
    assert changes["deadlines"] == (
        ["2027-02-17T16:00:00+00:00"],
        ["2027-03-03T16:00:00+00:00"],
    )
    assert changes["budget"][0]["total"] == "12000000"
    assert changes["budget"][1]["total"] == "15000000"
    assert "status" not in changes  # still forthcoming
    recorded = session.scalars(select(CallChange).where(CallChange.call_id == call.id)).all()
    assert {c.changed_at for c in recorded} == {LATER}
    assert {c.source_id for c in recorded} == {search.id}


def test_an_earlier_opening_changes_the_status(session: Session, search: Any) -> None:
    upsert_calls(session, search, [_record(1)], now=NOW)

    upsert_calls(session, search, [_record(1, opens_at=NOW - timedelta(days=1))], now=LATER)

    call = _call(session, "HORIZON-CL6-2027-01-TEST-01")
    changes = {name: (old, new) for name, old, new in _changes(session, call)}
    assert changes["status"] == ("forthcoming", "open")
    assert changes["opens_at"][1] == (NOW - timedelta(days=1)).isoformat()


def test_same_call_from_three_sources_is_one_call(session: Session, search: Any) -> None:
    bulk = make_source(session, SourceKind.FT_BULK, name="eu-bulk")
    feed = make_source(session, SourceKind.RSS, name="a-feed")
    upsert_calls(
        session,
        bulk,
        [
            _record(
                1,
                kind=FeedKind.FT_BULK,
                description_html=None,
                title="Smart rural towns, topic 1 (bulk)",
            )
        ],
        now=NOW,
    )
    # The search API writes the identifier in another case; an RSS item only links the page.
    lower = "horizon-cl6-2027-01-test-01"
    stats = upsert_calls(
        session,
        search,
        [_record(1, identifier=lower.upper(), external_id=lower.upper())],
        now=LATER,
    )
    rss_item = CallRecord(
        source_kind=FeedKind.RSS,
        external_id="https://feed.example/items/77",
        title="Smart rural towns!",
        url="http://ec.europa.eu/info/funding-tenders/opportunities/data/topicDetails/"
        + lower
        + ".json",
        summary_html="<p>From the feed</p>",
    )
    upsert_calls(session, feed, [rss_item], now=LATER)

    assert stats.new == 0 and stats.updated == 1
    assert session.scalar(select(func.count()).select_from(FundingCall)) == 1
    call = _call(session, "HORIZON-CL6-2027-01-TEST-01")
    sources = sorted(
        link.source_id
        for link in session.scalars(select(CallSourceLink).where(CallSourceLink.call_id == call.id))
    )
    assert sources == sorted([bulk.id, search.id, feed.id])
    # The search API's word wins over the bulk file and the feed; gaps are filled from others.
    assert call.title == "Smart rural towns, topic 1"
    assert call.description_text == "Pilots for towns number 1."
    assert call.summary == "From the feed"


def test_fuzzy_title_and_deadline_match_is_logged(
    session: Session, search: Any, caplog: pytest.LogCaptureFixture
) -> None:
    manual = make_source(session, SourceKind.MANUAL, name="typed-in")
    upsert_calls(session, search, [_record(1)], now=NOW)
    typed = CallRecord(
        source_kind=FeedKind.MANUAL,
        external_id="row-7",
        title="Smart rural towns - topic 1",
        deadlines=(Deadline(datetime(2027, 2, 17, tzinfo=UTC), "deadline", True),),
        region="Östergötland",
    )

    with caplog.at_level(logging.INFO, logger="tracker.services.ingest"):
        stats = upsert_calls(session, manual, [typed], now=LATER)

    assert stats.new == 0
    assert session.scalar(select(func.count()).select_from(FundingCall)) == 1
    assert "by title and deadline day 2027-02-17" in caplog.text
    assert _call(session, "HORIZON-CL6-2027-01-TEST-01").region == "Östergötland"


def test_alike_titles_with_different_identifiers_stay_apart(session: Session, search: Any) -> None:
    bulk = make_source(session, SourceKind.FT_BULK)
    upsert_calls(session, search, [_record(1)], now=NOW)
    other = _record(
        9,
        kind=FeedKind.FT_BULK,
        title="Smart rural towns, topic 1",
        url=None,
    )

    stats = upsert_calls(session, bulk, [other], now=NOW)

    assert stats.new == 1
    assert session.scalar(select(func.count()).select_from(FundingCall)) == 2


def test_disappeared_calls_are_withdrawn_never_deleted(session: Session, search: Any) -> None:
    upsert_calls(session, search, [_record(1), _record(2)], now=NOW, complete=True)

    stats = upsert_calls(session, search, [_record(1)], now=LATER, complete=True)

    assert stats.withdrawn == 1
    gone = _call(session, "HORIZON-CL6-2027-01-TEST-02")
    assert gone.is_withdrawn and gone.withdrawn_at == LATER
    assert gone.status(LATER) == "withdrawn"
    assert ("status", "forthcoming", "withdrawn") in _changes(session, gone)

    back = upsert_calls(session, search, [_record(1), _record(2)], now=LATER + timedelta(hours=6))
    assert back.updated == 1
    again = _call(session, "HORIZON-CL6-2027-01-TEST-02")
    assert not again.is_withdrawn
    assert ("status", "withdrawn", "forthcoming") in _changes(session, again)


def test_incomplete_listings_never_withdraw(session: Session) -> None:
    feed = make_source(session, SourceKind.RSS)
    item = CallRecord(source_kind=FeedKind.RSS, external_id="a", title="Feed call")
    upsert_calls(session, feed, [item], now=NOW)

    stats = upsert_calls(session, feed, [], now=LATER, complete=False)

    assert stats.withdrawn == 0
    assert not session.scalars(select(FundingCall)).one().is_withdrawn


def test_an_empty_complete_listing_withdraws_nothing(session: Session, search: Any) -> None:
    upsert_calls(session, search, [_record(1)], now=NOW, complete=True)

    stats = upsert_calls(session, search, [], now=LATER, complete=True)

    assert stats.withdrawn == 0 and stats.warnings
    assert not _call(session, "HORIZON-CL6-2027-01-TEST-01").is_withdrawn


def test_a_call_stays_while_another_source_lists_it(session: Session, search: Any) -> None:
    bulk = make_source(session, SourceKind.FT_BULK)
    upsert_calls(session, search, [_record(1), _record(2)], now=NOW, complete=True)
    upsert_calls(
        session,
        bulk,
        [_record(1, kind=FeedKind.FT_BULK, title="Bulk title")],
        now=NOW,
        complete=True,
    )

    upsert_calls(session, search, [_record(2)], now=LATER, complete=True)

    call = _call(session, "HORIZON-CL6-2027-01-TEST-01")
    assert not call.is_withdrawn
    assert call.title == "Bulk title"  # the remaining source now speaks for the call
    assert ("title", "Smart rural towns, topic 1", "Bulk title") in _changes(session, call)


def test_swedish_budgets_get_a_euro_value(session: Session) -> None:
    manual = make_source(session, SourceKind.MANUAL)
    record = CallRecord(
        source_kind=FeedKind.MANUAL,
        external_id="erufe-1",
        title="Regionalfonden: hållbar omställning",
        budget=Budget(currency="SEK", total=Decimal(115_000_000)),
        funding_rate_pct=Decimal(60),
    )

    upsert_calls(session, manual, [record], now=NOW, sek_per_eur=Decimal("11.5"))

    call = session.scalars(select(FundingCall)).one()
    assert call.budget_total == Decimal(115_000_000) and call.currency == "SEK"
    assert call.budget_total_eur == Decimal(10_000_000)
    assert call.cofinancing_rate == Decimal(60)


def test_quarantine_keeps_the_latest_malformed_items(
    session: Session, search: Any, statements: list[str]
) -> None:
    bad = [Quarantined(raw={"metadata": {}}, reason="call without an identifier")]
    stats = upsert_calls(session, search, [_record(1), *bad], now=NOW)
    assert stats.quarantined == 1 and stats.new == 1
    item = session.scalars(select(QuarantinedItem)).one()
    assert (item.reason, item.raw, item.source_id) == (
        "call without an identifier",
        {"metadata": {}},
        search.id,
    )

    session.flush()
    statements.clear()
    upsert_calls(session, search, [_record(1), *bad], now=LATER)
    assert [s for s in statements if s in {"INSERT", "UPDATE", "DELETE"}] == []

    upsert_calls(session, search, [_record(1)], now=LATER)
    assert session.scalar(select(func.count()).select_from(QuarantinedItem)) == 0


def test_a_payload_broken_midway_fails_the_run_and_changes_nothing(
    session: Session, search: Any
) -> None:
    def items() -> Iterator[FeedItem]:
        yield _record(1)
        raise BadPayload("bulk file is not valid JSON: premature EOF")

    result = FetchResult(items=items(), complete=True)

    run = ingest_fetch_result(session, search, result, started_at=NOW, clock=lambda: LATER)

    assert run.status is FetchStatus.FAILED
    assert run.error is not None and "premature EOF" in run.error
    assert session.scalar(select(func.count()).select_from(FundingCall)) == 0


def test_a_successful_run_is_recorded_with_counts(session: Session, search: Any) -> None:
    upsert_calls(session, search, [_record(1)], now=NOW)
    result = FetchResult(
        items=[replace(_record(1), title="New title"), _record(2), Quarantined({}, "broken")],
        complete=True,
        etag='"v2"',
        warnings=["programme labels unavailable: HTTP 500"],
    )

    run = ingest_fetch_result(session, search, result, started_at=LATER, clock=lambda: LATER)

    assert run.status is FetchStatus.SUCCEEDED
    assert (run.new_count, run.updated_count, run.unchanged_count, run.quarantined_count) == (
        1,
        1,
        0,
        1,
    )
    assert run.warnings == ["programme labels unavailable: HTTP 500"]
    assert search.etag == '"v2"'


def test_not_modified_runs_touch_no_calls(session: Session, search: Any) -> None:
    run = ingest_fetch_result(
        session, search, FetchResult(not_modified=True), started_at=NOW, clock=lambda: NOW
    )
    assert run.status is FetchStatus.NOT_MODIFIED


def test_codes_fetched_without_labels_are_labelled_by_a_later_fetch(
    session: Session, search: Any
) -> None:
    unlabelled = _record(1, programme_label=None)
    upsert_calls(session, search, [unlabelled], now=NOW)
    assert _call(session, "HORIZON-CL6-2027-01-TEST-01").programme_label is None

    stats = upsert_calls(session, search, [_record(1)], now=LATER)

    assert stats.updated == 1
    call = _call(session, "HORIZON-CL6-2027-01-TEST-01")
    assert call.programme_label == "Horizon Europe (HORIZON)"
    assert _changes(session, call) == []  # a label is not a change people act on


def test_a_call_dropped_after_its_deadline_is_closed_not_withdrawn(
    session: Session, search: Any
) -> None:
    past = (Deadline(datetime(2026, 9, 1, 15, 0, tzinfo=UTC)),)
    opened = datetime(2026, 6, 1, tzinfo=UTC)
    dropped = _record(2, opens_at=opened, deadlines=past)
    upsert_calls(session, search, [_record(1), dropped], now=NOW, complete=True)

    stats = upsert_calls(session, search, [_record(1)], now=LATER, complete=True)

    assert stats.withdrawn == 0
    closed = _call(session, "HORIZON-CL6-2027-01-TEST-02")
    assert not closed.is_withdrawn and closed.status(LATER) == "closed"
    link = session.scalars(select(CallSourceLink).where(CallSourceLink.call_id == closed.id)).one()
    assert link.withdrawn_at == LATER  # the source no longer lists it


def test_a_changed_budget_is_versioned_and_a_stored_one_read_back_unchanged(
    session: Session, search: Any
) -> None:
    feed = make_source(session, SourceKind.RSS, name="b-feed")
    upsert_calls(session, search, [_record(1)], now=NOW)
    rss_item = CallRecord(
        source_kind=FeedKind.RSS,
        external_id="https://feed.example/items/1",
        title="Smart rural towns, topic 1",
        url=TOPIC_URL + "HORIZON-CL6-2027-01-TEST-01",
        summary_html="<p>From the feed</p>",
    )
    # The feed's record changes the call; the search API's budget is read back from its
    # stored record, and no budget change may be seen in that.
    upsert_calls(session, feed, [rss_item], now=LATER)
    call = _call(session, "HORIZON-CL6-2027-01-TEST-01")
    assert call.summary == "From the feed"
    assert [name for name, _, _ in _changes(session, call) if name == "budget"] == []

    grown = Budget(
        currency="EUR",
        total=Decimal("12500000.50"),
        max_grant=Decimal(4_000_000),
        expected_grants=3,
    )
    later = LATER + timedelta(hours=6)
    upsert_calls(session, search, [_record(1, budget=grown)], now=later)
    call = _call(session, "HORIZON-CL6-2027-01-TEST-01")
    assert call.budget_total == Decimal("12500000.50")
    assert call.budget_total_eur == Decimal("12500000.50") and call.expected_grants == 3
    [(old, new)] = [(o, n) for name, o, n in _changes(session, call) if name == "budget"]
    assert old == {
        "currency": "EUR",
        "total": "12000000",
        "min": None,
        "max": "4000000",
        "expected_grants": None,
    }
    assert new == {
        "currency": "EUR",
        "total": "12500000.5",
        "min": None,
        "max": "4000000",
        "expected_grants": 3,
    }
    # the feed again, unchanged: the budget stays and nothing new is versioned
    upsert_calls(session, feed, [replace(rss_item, summary_html="<p>Again</p>")], now=later)
    call = _call(session, "HORIZON-CL6-2027-01-TEST-01")
    assert call.summary == "Again" and call.budget_total == Decimal("12500000.50")
    assert [name for name, _, _ in _changes(session, call)].count("budget") == 1
