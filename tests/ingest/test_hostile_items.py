"""One odd item (nested 100,000 levels deep, NUL bytes) is quarantined; the run and its
good rows go through, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_source
from tests.feeds.conftest import FakeClock, LocalServer, Reply, local_policy
from tracker.feeds.http import build_session
from tracker.models import FetchStatus, FundingCall, QuarantinedItem, SourceKind
from tracker.services.ingest import run_fetches

T0 = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)


def _row(identifier: str, title: str, **extra: list[str]) -> str:
    metadata = {"type": ["1"], "identifier": [identifier], "title": [title], **extra}
    return json.dumps({"metadata": metadata})


def test_a_deep_or_nul_item_is_quarantined_and_the_good_rows_are_stored(
    session: Session, session_factory: sessionmaker[Session], server: LocalServer
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    rows = [
        _row("GOOD-1", "A good call on culture"),
        '{"metadata": {"type": ["1"], "identifier": ["DEEP-1"], "nest": ' + deep + "}}",
        _row("NUL-1", "A call\x00 with NUL", description=["text\x00more"]),
        _row("DEEP-STRING-1", "Embedded JSON nested deep", actions=[deep]),
        _row("GOOD-2", "Another good call"),
    ]
    body = ('{"totalResults": 5, "results": [' + ",".join(rows) + "]}").encode()
    server.routes["/search"] = Reply(body=body)
    server.routes["/facet"] = Reply(body=b'{"facets": []}')
    source = make_source(session, SourceKind.FT_SEARCH, url=server.url("/search"))
    session.commit()
    http = build_session(local_policy(), sleep=FakeClock().sleep)

    [outcome] = run_fetches(session_factory, [source.id], http=http, clock=lambda: T0)

    assert outcome.status is FetchStatus.SUCCEEDED, outcome.error
    titles = set(session.scalars(select(FundingCall.title)))
    assert {"A good call on culture", "Another good call"} <= titles
    assert "A call with NUL" in titles  # the NUL removed, the call kept
    assert "Embedded JSON nested deep" in titles  # that field left empty, with a warning
    reasons = list(session.scalars(select(QuarantinedItem.reason)))
    assert any("nested deeper" in r for r in reasons)
    assert outcome.quarantined == 1
