"""Fetch runs: one transaction per source, failures recorded, the others still fetched."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import login, make_source, make_user
from tests.feeds.conftest import FakeClock, LocalServer, Reply, fixture_bytes, local_policy
from tracker.feeds.http import TrackerSession, build_session
from tracker.models import FetchRun, FetchStatus, FundingCall, Role, SourceKind
from tracker.services.health import ProblemKind, system_problems
from tracker.services.ingest import SourceOutcome, run_fetches
from tracker.services.sources import due_sources, request_fetch, source_health

T0 = datetime(2026, 9, 20, 6, 0, tzinfo=UTC)


@pytest.fixture
def http() -> Iterator[TrackerSession]:
    clock = FakeClock()
    with build_session(local_policy(read_timeout=1, max_retries=1), sleep=clock.sleep) as session:
        yield session


def _file(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(fixture_bytes(name))
    return path.as_uri()


def test_a_failing_source_never_stops_the_others(
    session: Session,
    session_factory: sessionmaker[Session],
    server: LocalServer,
    http: TrackerSession,
    tmp_path: Path,
) -> None:
    server.routes["/down"] = Reply(status=503, body=b"maintenance")
    server.routes["/broken"] = Reply(body=b'{"totalResults": 3, "results": [{"meta')
    failing = make_source(session, SourceKind.RSS, name="a-down", url=server.url("/down"))
    broken = make_source(session, SourceKind.FT_SEARCH, name="b-broken", url=server.url("/broken"))
    good = make_source(
        session, SourceKind.FT_SEARCH, name="c-good", url=_file(tmp_path, "sedia_search.json")
    )
    feed = make_source(session, SourceKind.RSS, name="d-feed", url=_file(tmp_path, "feed_rss.xml"))
    session.commit()
    seen: list[SourceOutcome] = []
    ticks = iter(T0 + timedelta(seconds=n) for n in range(1000))

    outcomes = run_fetches(
        session_factory,
        [failing.id, broken.id, good.id, feed.id],
        http=http,
        clock=lambda: next(ticks),
        on_done=seen.append,
    )

    assert seen == outcomes
    by_name = {o.source: o for o in outcomes}
    assert by_name["a-down"].failed and "HTTP 503" in (by_name["a-down"].error or "")
    assert by_name["b-broken"].failed and "not valid JSON" in (by_name["b-broken"].error or "")
    assert by_name["c-good"].status is FetchStatus.SUCCEEDED and by_name["c-good"].new == 6
    assert by_name["c-good"].quarantined == 1
    assert by_name["d-feed"].status is FetchStatus.SUCCEEDED
    runs = {r.source_id: r for r in session.scalars(select(FetchRun))}
    assert runs[failing.id].status is FetchStatus.FAILED and runs[failing.id].error
    assert runs[good.id].new_count == 6 and runs[good.id].finished_at is not None
    # the feed links the circular-pilots topic page: same call as the search API's
    assert session.scalar(select(func.count()).select_from(FundingCall)) == 6 + 4


def test_a_second_fetch_of_an_unchanged_file_is_not_modified(
    session: Session, session_factory: sessionmaker[Session], http: TrackerSession, tmp_path: Path
) -> None:
    source = make_source(
        session, SourceKind.FT_BULK, name="bulk", url=_file(tmp_path, "grants_tenders.json")
    )
    session.commit()

    first = run_fetches(session_factory, [source.id], http=http, clock=lambda: T0)
    again = run_fetches(session_factory, [source.id], http=http, clock=lambda: T0)

    assert first[0].new == 3
    assert again[0].status is FetchStatus.NOT_MODIFIED


def test_health_shows_last_success_last_error_and_next_run(
    session: Session,
    session_factory: sessionmaker[Session],
    server: LocalServer,
    http: TrackerSession,
    tmp_path: Path,
) -> None:
    url = _file(tmp_path, "vinnova_rounds.json")
    source = make_source(session, SourceKind.VINNOVA, name="vinnova", url=url, every="6h")
    session.commit()
    run_fetches(session_factory, [source.id], http=http, clock=lambda: T0)
    source.url = server.url("/nothing-here")
    session.commit()
    later = T0 + timedelta(hours=6)
    run_fetches(session_factory, [source.id], http=http, clock=lambda: later)

    health = next(h for h in source_health(session, now=later) if h.source.id == source.id)

    assert health.last_success_at == T0
    assert health.last_error is not None and "404" in health.last_error
    assert health.last_error_at == later
    assert health.next_run_at == later + timedelta(hours=6)
    assert health.is_failing
    assert health.call_count == 5


def test_due_sources_follow_their_schedule_and_requests(
    session: Session, session_factory: sessionmaker[Session], http: TrackerSession, tmp_path: Path
) -> None:
    source = make_source(
        session,
        SourceKind.RSS,
        name="feed",
        url=_file(tmp_path, "feed_atom.xml"),
        every="1d",
        created_at=T0 - timedelta(hours=1),
    )
    off = make_source(session, SourceKind.RSS, name="off", is_enabled=False)
    session.commit()
    assert source in due_sources(session, now=T0)  # never fetched
    assert off not in due_sources(session, now=T0)

    run_fetches(session_factory, [source.id], http=http, clock=lambda: T0)
    assert source not in due_sources(session, now=T0 + timedelta(hours=1))
    assert source in due_sources(session, now=T0 + timedelta(days=1))

    request_fetch(session, source, actor=None, now=T0 + timedelta(hours=2))
    assert source in due_sources(session, now=T0 + timedelta(hours=2))
    run_fetches(session_factory, [source.id], http=http, clock=lambda: T0 + timedelta(hours=2))
    session.refresh(source)
    assert source.fetch_requested_at is None


def test_a_slow_source_does_not_hold_up_the_others(
    session: Session, session_factory: sessionmaker[Session], server: LocalServer
) -> None:
    # The slow source answers after 3 s; the fast ones are stored long before that.
    server.routes["/slow"] = Reply(body=fixture_bytes("feed_rss.xml"), delay=3.0)
    server.routes["/fast"] = Reply(body=fixture_bytes("feed_rss.xml"))
    slow = make_source(session, SourceKind.RSS, name="a-slow", url=server.url("/slow"))
    fast = make_source(session, SourceKind.RSS, name="b-fast", url=server.url("/fast"))
    session.commit()
    http = build_session(local_policy(read_timeout=10), sleep=FakeClock().sleep)
    started = time.monotonic()
    finished: dict[str, float] = {}

    def done(outcome: SourceOutcome) -> None:
        finished[outcome.source] = time.monotonic() - started

    outcomes = run_fetches(
        session_factory,
        [slow.id, fast.id],
        http=http,
        clock=lambda: T0,
        on_done=done,
        parallel=2,
    )

    assert [o.source for o in outcomes] == ["b-fast", "a-slow"]
    assert all(o.status is FetchStatus.SUCCEEDED for o in outcomes)
    assert finished["b-fast"] < 2.0 <= finished["a-slow"]


def _rss(count: int) -> bytes:
    items = "".join(
        f"<item><title>Capped call {n}</title><link>https://example.org/c/{n}</link>"
        f"<guid>capped-{n}</guid></item>"
        for n in range(count)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()


def test_a_capped_run_stores_the_first_items_warns_and_withdraws_nothing(
    session: Session,
    session_factory: sessionmaker[Session],
    server: LocalServer,
    client: FlaskClient,
) -> None:
    server.routes["/feed"] = Reply(body=_rss(30))
    # a complete listing: a call missing from it would be withdrawn
    feed = make_source(
        session,
        SourceKind.RSS,
        name="big-feed",
        url=server.url("/feed"),
        settings={"complete": True},
    )
    session.commit()
    ticks = iter(T0 + timedelta(seconds=n) for n in range(1000))
    with build_session(local_policy()) as http:
        run_fetches(session_factory, [feed.id], http=http, clock=lambda: next(ticks))
    assert _live_titles(session) == {f"Capped call {n}" for n in range(30)}

    # the feed now lists its calls in another order, more than the cap allows
    server.routes["/feed"] = Reply(body=_reordered(_rss(30)))
    with build_session(local_policy(max_items_per_run=20)) as http:
        [outcome] = run_fetches(session_factory, [feed.id], http=http, clock=lambda: next(ticks))

    assert outcome.status is FetchStatus.SUCCEEDED
    assert outcome.withdrawn == 0
    assert any("the first 20 were kept" in w for w in outcome.warnings)
    session.expire_all()
    # the 10 calls beyond the cap are still live: a capped list says nothing about them
    assert _live_titles(session) == {f"Capped call {n}" for n in range(30)}
    [health] = [h for h in source_health(session, now=T0) if h.source.id == feed.id]
    assert health.last_warnings == outcome.warnings
    problems = system_problems(session, now=T0 + timedelta(minutes=5))
    assert [(p.kind, p.name) for p in problems] == [(ProblemKind.SOURCE_CAPPED, "big-feed")]

    login(client, make_user(session, role=Role.ADMIN, language="en"))
    session.commit()
    page = client.get("/admin/sources").get_data(as_text=True)
    assert "The last run warned:" in page and "the first 20 were kept" in page
    health_check = client.get("/healthz").get_json()
    assert health_check["status"] == "degraded"
    assert "cut at the item cap" in health_check["problems"][0]["reason"]


def _reordered(feed: bytes) -> bytes:
    """The same items, last first: the cap now cuts off the ones listed first before."""
    head, _, rest = feed.partition(b"<item>")
    body, _, tail = rest.rpartition(b"</item>")
    items = (b"<item>" + body + b"</item>").split(b"</item><item>")
    items = [i.removeprefix(b"<item>").removesuffix(b"</item>") for i in items]
    return head + b"".join(b"<item>" + i + b"</item>" for i in reversed(items)) + tail


def _live_titles(session: Session) -> set[str]:
    return set(
        session.scalars(select(FundingCall.title).where(FundingCall.is_withdrawn.is_(False)))
    )
