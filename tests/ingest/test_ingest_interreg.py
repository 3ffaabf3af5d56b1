"""Ingesting interreg.eu calls: the eligible area stored, one call per programme page
across sources, and two calls sharing one page kept apart."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_source
from tests.feeds.conftest import fixture_bytes
from tracker.feeds.interreg import parse_interreg
from tracker.feeds.records import CallRecord, Deadline, DeadlineModel, FetchResult
from tracker.feeds.records import SourceKind as FeedKind
from tracker.models import CallSourceLink, FundingCall, SourceKind
from tracker.services.ingest import source_spec, upsert_calls

NOW = datetime(2026, 9, 20, 6, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=6)
CB_PAGE = "https://centralbaltic.eu/calls/fourth-call/"


def _interreg_records() -> list[CallRecord]:
    pages = [fixture_bytes("interreg_page0.json"), fixture_bytes("interreg_page1.json")]
    return parse_interreg(pages).records()


def _by_title(session: Session, start: str) -> list[FundingCall]:
    return list(session.scalars(select(FundingCall).where(FundingCall.title.startswith(start))))


def test_interreg_calls_keep_their_area_and_who_may_apply(session: Session) -> None:
    source = make_source(session, SourceKind.INTERREG)

    stats = upsert_calls(session, source, _interreg_records(), now=NOW, complete=True)

    assert stats.new == 6
    [oks] = _by_title(session, "Öresund-Kattegat-Skagerrak")
    assert oks.programme_label == "Interreg Öresund-Kattegat-Skagerrak (ÖKS)"
    assert oks.eligible_area["countries"] == ["DK", "NO", "SE"]
    assert "SE232" in oks.eligible_area["nuts"]
    assert oks.eligible_applicants and oks.eligible_applicants.startswith("Local public authority")
    assert oks.keywords == ["Smarter Europe", "Greener Europe"]
    assert oks.url == "https://interreg-oks.eu/utlysning/hallbar-turism/"


def test_two_calls_on_one_programme_page_stay_two_calls_on_every_run(session: Session) -> None:
    source = make_source(session, SourceKind.INTERREG)
    records = _interreg_records()
    first, second = (r for r in records if r.url == CB_PAGE)

    upsert_calls(session, source, [first], now=NOW)
    # The second call appears on a later run: the shared page must not merge it.
    stats = upsert_calls(session, source, [first, second], now=LATER)

    assert stats.new == 1
    assert len(_by_title(session, "Central Baltic 4th call")) == 2


def test_the_programme_page_arriving_through_a_feed_is_the_same_call(session: Session) -> None:
    interreg = make_source(session, SourceKind.INTERREG)
    feed = make_source(session, SourceKind.RSS)
    [oks] = [r for r in _interreg_records() if r.title.startswith("Öresund")]
    upsert_calls(session, interreg, [oks], now=NOW)
    from_feed = CallRecord(
        source_kind=FeedKind.RSS,
        external_id="https://interreg-oks.eu/utlysning/hallbar-turism",
        title="Utlysning: hållbar turism i ÖKS-regionen",
        url="https://www.interreg-oks.eu/utlysning/hallbar-turism?utm_source=rss",
        description_html="<p>Projekt som utvecklar hållbar turism längs kusten.</p>",
        deadlines=(Deadline(datetime(2030, 12, 10, tzinfo=UTC), "deadline", True),),
        deadline_model=DeadlineModel.SINGLE_STAGE,
    )

    stats = upsert_calls(session, feed, [from_feed], now=LATER)

    assert (stats.new, stats.updated) == (0, 1)
    [call] = session.scalars(select(FundingCall)).all()
    assert sorted(link.source_id for link in call.source_links) == sorted([interreg.id, feed.id])
    # interreg.eu's title wins; the feed brings the text interreg.eu does not have.
    assert call.title == oks.title
    assert call.description_text == "Projekt som utvecklar hållbar turism längs kusten."
    assert call.eligible_area["nuts"][-1] == "SE232"


def test_the_next_fetch_knows_the_stored_page_text(session: Session) -> None:
    source = make_source(session, SourceKind.INTERREG, settings={"app_id": "A"})
    [central] = [r for r in _interreg_records() if r.external_id.endswith("9101")]
    with_text = replace(central, description_html="<p>Fourth call.</p>")
    upsert_calls(session, source, FetchResult(items=[with_text]).items, now=NOW)

    spec = source_spec(session, source)

    known = spec.known["callForProjectsPage_9101"]
    assert known.url == CB_PAGE
    assert known.source_version == central.source_version
    assert known.description_html == "<p>Fourth call.</p>"
    assert session.scalar(select(CallSourceLink.external_id)) == "callForProjectsPage_9101"
