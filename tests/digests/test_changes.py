"""Ingestion, matching and the digest together, over two weeks: a call mailed as new in one
digest comes back in the next one only with what ingestion saw change (old and new values),
in the subscriber's language, delivered to a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.digests.conftest import SmtpServer
from tests.factories import NOW, make_source, make_user
from tracker.config import Settings
from tracker.feeds.records import Budget, CallRecord, Deadline, DeadlineModel
from tracker.feeds.records import SourceKind as FeedKind
from tracker.models import CallMatch, FundingCall, SourceKind, Watch
from tracker.services.digests import send_weekly_digests, subscribe
from tracker.services.ingest import upsert_calls
from tracker.services.mailer import SmtpMailer
from tracker.services.strategy import ensure_default_profile, match_calls

LAST_WEEK = NOW - timedelta(days=7)


def _record(n: int, **overrides: Any) -> CallRecord:
    identifier = f"CREA-CULT-2027-TEST-{n:02d}"
    values: dict[str, Any] = {
        "source_kind": FeedKind.FT_SEARCH,
        "external_id": identifier,
        "identifier": identifier,
        "title": f"European cooperation projects for music festivals {n}",
        "programme_code": "43251814",
        "programme_label": "Creative Europe (CREA)",
        "url": f"https://example.org/topic/{identifier}",
        "language": "en",
        "description_html": (
            "<p>Support for cultural and creative sectors: music festivals, orchestras, "
            "live music and audience development, cultural cooperation between cities and "
            "access to culture for artists and creators.</p>"
        ),
        "opens_at": datetime(2026, 10, 1, tzinfo=UTC),
        "deadlines": (Deadline(datetime(2027, 1, 14, tzinfo=UTC), "deadline", True),),
        "deadline_model": DeadlineModel.SINGLE_STAGE,
        "budget": Budget(total=Decimal(2_000_000)),
    }
    values.update(overrides)
    return CallRecord(**values)


def _send(
    session_factory: sessionmaker[Session], settings: Settings, now: datetime
) -> dict[str, str]:
    """Send the week's digests; the plain text of each mail, by address."""
    with SmtpMailer(settings.mail) as mailer:
        outcomes = send_weekly_digests(session_factory, settings, mailer, now=now)
    assert {o.status for o in outcomes} == {"sent"}, outcomes
    return {o.address: o.subject or "" for o in outcomes}


def _texts(smtp: SmtpServer, address: str) -> list[str]:
    texts = []
    for received in smtp.handler.to(address):
        body = received.message.get_body(("plain",))
        assert body is not None
        texts.append(body.get_content())
    return texts


def test_a_deadline_moved_by_ingestion_reaches_the_subscriber_with_old_and_new(
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    ensure_default_profile(session, now=LAST_WEEK - timedelta(days=2))
    source = make_source(session, SourceKind.FT_SEARCH)
    anna = make_user(session, language="en", email="anna@norrkoping.test")
    bo = make_user(session, language="sv", email="bo@norrkoping.test")
    for user in (anna, bo):
        subscribe(
            session,
            now=LAST_WEEK - timedelta(days=3),
            user=user,
            focus_area_slugs=["culture-music"],
        )
    fetched = LAST_WEEK - timedelta(days=1)
    outside = _record(
        3,
        title="Music festivals across the North Sea",
        programme_label="Interreg North Sea",
        programme_code=None,
    )
    upsert_calls(session, source, [_record(1), _record(2), outside], now=fetched, complete=True)
    calls = {c.identifier: c for c in session.scalars(select(FundingCall).order_by(FundingCall.id))}
    festival, watched = calls["CREA-CULT-2027-TEST-01"], calls["CREA-CULT-2027-TEST-02"]
    gated = calls["CREA-CULT-2027-TEST-03"]
    session.add(Watch(user_id=anna.id, call_id=watched.id, created_at=fetched))
    match_calls(session, None, now=fetched)
    session.flush()
    assert session.scalar(
        select(CallMatch.is_match)
        .where(CallMatch.call_id == festival.id)
        .order_by(CallMatch.score.desc())
        .limit(1)
    ), "the test call must match an area of the default profile"

    _send(session_factory, mail_settings, LAST_WEEK)
    (first,) = _texts(smtp, "anna@norrkoping.test")
    assert "European cooperation projects for music festivals 1" in first
    # The engine gated the Interreg call (Östergötland is outside its area): never "new".
    session.refresh(gated)
    assert gated.gate_code is not None
    assert "North Sea" not in first

    # During the week the source moves the deadline and raises the budget of one call and
    # stops listing the other; the calls are matched again, as after every fetch.
    refetched = NOW - timedelta(days=2)
    moved = _record(
        1,
        deadlines=(Deadline(datetime(2027, 2, 4, tzinfo=UTC), "deadline", True),),
        budget=Budget(total=Decimal(2_500_000)),
    )
    upsert_calls(session, source, [moved], now=refetched, complete=True)
    match_calls(session, None, now=refetched)
    session.flush()

    _send(session_factory, mail_settings, NOW)

    anna_text = _texts(smtp, "anna@norrkoping.test")[-1]
    new_part, changed_part = anna_text.split("Changed calls you follow", 1)
    # Matched again this week, but first found before the last digest: not new again.
    assert "music festivals 1" not in new_part
    assert "music festivals 1" in changed_part
    # The portal's deadline days close at 17:00 Brussels time.
    assert "Deadline moved from 14 Jan 2027 17:00 to 4 Feb 2027 17:00" in changed_part
    assert "Budget changed from 2,000,000 EUR to 2,500,000 EUR" in changed_part
    # The watched call the source no longer lists.
    assert "Status changed from open to withdrawn" in changed_part

    # Babel separates thousands in Swedish with a no-break space.
    bo_text = _texts(smtp, "bo@norrkoping.test")[-1].replace("\xa0", " ")
    assert "Sista dag flyttad från 14 jan. 2027 17:00 till 4 feb. 2027 17:00" in bo_text
    assert "Budgeten ändrad från 2 000 000 EUR till 2 500 000 EUR" in bo_text
    # Bo does not watch the withdrawn call but was sent it last week.
    assert "Status ändrad från öppen till återkallad" in bo_text
