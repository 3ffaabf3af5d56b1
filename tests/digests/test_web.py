"""The digest pages: each user's settings, the admins' overview, preview and send now, and the
one-click links of the mails (which carry a signed token instead of a session)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.digests.conftest import BASE_URL, SmtpServer
from tests.factories import NOW, login, make_call, make_office, make_user
from tests.factories.digests import make_areas, make_match, make_previous_digest, make_subscription
from tracker.config import Settings
from tracker.models import (
    AuditEvent,
    DecisionSource,
    Digest,
    DigestDismissal,
    DigestStatus,
    DigestSubscription,
    FocusArea,
    FundingCall,
    MatchDecision,
    Role,
)
from tracker.services.digests import build_digest, send_weekly_digests
from tracker.services.mailer import SmtpMailer
from tracker.services.strategy import record_decision

CSRF = "digest-test-csrf"


def _csrf(client: FlaskClient) -> str:
    with client.session_transaction() as flask_session:
        flask_session["csrf_token"] = CSRF
    return CSRF


def _subscriber(session: Session, language: str = "en") -> tuple[DigestSubscription, FundingCall]:
    areas = make_areas(session)
    user = make_user(session, language=language)
    call = make_call(
        session, title="Music cities", title_sv="Musikstäder", deadlines=[NOW + timedelta(days=12)]
    )
    make_match(session, call, areas["culture-music"], 82)
    return make_subscription(session, user, language=language), call


def _mailed_links(
    session_factory: sessionmaker[Session], settings: Settings, smtp: SmtpServer
) -> dict[str, str]:
    """Send this week's digests and return the links of the mail, by kind, as paths."""
    with SmtpMailer(settings.mail) as mailer:
        send_weekly_digests(session_factory, settings, mailer, now=NOW)
    message = smtp.handler.received[-1].message
    text = message.get_body(("plain",))
    assert text is not None
    urls = re.findall(rf"{re.escape(BASE_URL)}(/\S+)", text.get_content())
    return {
        "not_relevant": next(u for u in urls if u.startswith("/digest/not-relevant/")),
        "unsubscribe": next(u for u in urls if u.startswith("/digest/unsubscribe/")),
        "header_unsubscribe": re.findall(r"<([^>]+)>", message["List-Unsubscribe"])[0][
            len(BASE_URL) :
        ],
    }


def _tamper(path: str) -> str:
    head, token = path.rsplit("/", 1)
    middle = len(token) // 2
    flipped = "A" if token[middle] != "A" else "B"
    return f"{head}/{token[:middle]}{flipped}{token[middle + 1 :]}"


def test_a_user_chooses_their_digest_settings(mail_client: FlaskClient, session: Session) -> None:
    make_areas(session)
    office = make_office(session)
    user = make_user(session, role=Role.VIEWER, language="en")
    login(mail_client, user)

    page = mail_client.get("/settings/digest")
    assert page.status_code == 200
    assert b"Send me a weekly digest" in page.data
    assert b"Culture, creativity and music" in page.data

    response = mail_client.post(
        "/settings/digest",
        data={
            "csrf_token": _csrf(mail_client),
            "active": "1",
            "areas": ["culture-music"],
            "offices": [office.slug],
            "min_score": "70",
            "closing_soon_days": "14",
            "language": "sv",
            "send_when_empty": "1",
        },
    )
    assert response.status_code == 302
    sub = session.scalars(
        select(DigestSubscription).where(DigestSubscription.user_id == user.id)
    ).one()
    assert (sub.focus_area_slugs, sub.office_slugs) == (["culture-music"], [office.slug])
    assert (sub.min_score, sub.closing_soon_days, sub.language) == (70, 14, "sv")
    assert sub.is_active and sub.send_when_empty
    assert 'value="culture-music" checked' in mail_client.get("/settings/digest").text

    # Unticking "send me a digest" unsubscribes, keeping the settings.
    mail_client.post(
        "/settings/digest",
        data={"csrf_token": CSRF, "min_score": "70", "closing_soon_days": "14", "language": "sv"},
    )
    session.refresh(sub)
    assert not sub.is_active and sub.min_score == 70


def test_bad_settings_are_refused_with_the_field_marked(
    mail_client: FlaskClient, session: Session
) -> None:
    make_areas(session)
    user = make_user(session, language="en")
    login(mail_client, user)
    data = {"csrf_token": _csrf(mail_client), "active": "1", "language": "en"}

    not_a_number = mail_client.post(
        "/settings/digest", data={**data, "min_score": "lots", "closing_soon_days": "30"}
    )
    assert not_a_number.status_code == 422
    assert "Enter a whole number." in not_a_number.text
    assert 'value="lots"' in not_a_number.text

    out_of_range = mail_client.post(
        "/settings/digest", data={**data, "min_score": "150", "closing_soon_days": "30"}
    )
    assert out_of_range.status_code == 422
    assert "The minimum score must be between 0 and 100" in out_of_range.text
    assert session.scalars(select(DigestSubscription)).first() is None


def test_admin_pages_are_for_admins(mail_client: FlaskClient, session: Session) -> None:
    sub, _call = _subscriber(session)
    login(mail_client, make_user(session, role=Role.EDITOR))
    for path in ("/admin/digests", f"/admin/digests/{sub.id}", f"/admin/digests/{sub.id}/preview"):
        assert mail_client.get(path).status_code == 403


def test_admin_subscribes_an_office_mailbox_and_manages_it(
    mail_client: FlaskClient, session: Session
) -> None:
    make_areas(session)
    office = make_office(session)
    login(mail_client, make_user(session, role=Role.ADMIN, language="en"))

    response = mail_client.post(
        "/admin/digests/subscribe",
        data={
            "csrf_token": _csrf(mail_client),
            "office": office.slug,
            "mailbox": "Kultur@Norrkoping.test",
        },
    )

    session.expire_all()
    sub = session.scalars(
        select(DigestSubscription).where(DigestSubscription.office_id == office.id)
    ).one()
    assert response.headers["Location"].endswith(f"/admin/digests/{sub.id}")
    assert sub.address == "kultur@norrkoping.test" and sub.office_slugs == [office.slug]
    overview = mail_client.get("/admin/digests").text
    assert "kultur@norrkoping.test" in overview and "shared mailbox" in overview
    edited = mail_client.post(
        f"/admin/digests/{sub.id}",
        data={
            "csrf_token": CSRF,
            "active": "1",
            "min_score": "40",
            "closing_soon_days": "60",
            "language": "en",
        },
    )
    assert edited.status_code == 302
    session.refresh(sub)
    assert (sub.min_score, sub.closing_soon_days, sub.language) == (40, 60, "en")


def test_admin_previews_any_digest_without_storing_it(
    mail_client: FlaskClient, session: Session, smtp: SmtpServer
) -> None:
    sub, call = _subscriber(session)
    login(mail_client, make_user(session, role=Role.ADMIN, language="en"))

    page = mail_client.get(f"/admin/digests/{sub.id}/preview")

    assert page.status_code == 200
    assert "1 new match" in page.text
    assert "srcdoc=" in page.text and call.title in page.text
    assert session.scalars(select(Digest)).first() is None
    assert smtp.handler.received == []


def test_admin_sends_now_and_resends(
    mail_client: FlaskClient, session: Session, smtp: SmtpServer
) -> None:
    sub, _call = _subscriber(session)
    login(mail_client, make_user(session, role=Role.ADMIN, language="en"))
    csrf = _csrf(mail_client)

    sent = mail_client.post(f"/admin/digests/{sub.id}/send", data={"csrf_token": csrf})
    assert sent.status_code == 302
    assert len(smtp.handler.received) == 1
    page = mail_client.get(f"/admin/digests/{sub.id}").text
    assert "The digest was sent to" in page

    again = mail_client.post(
        f"/admin/digests/{sub.id}/send", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert "already exists" in again.text
    assert len(smtp.handler.received) == 1

    digest = session.scalars(select(Digest).where(Digest.subscription_id == sub.id)).one()
    stored = mail_client.get(f"/admin/digests/sent/{digest.id}")
    assert html.escape(digest.message_id) in stored.text
    mail_client.post(f"/admin/digests/sent/{digest.id}/resend", data={"csrf_token": csrf})
    assert len(smtp.handler.received) == 2
    session.refresh(digest)
    assert digest.attempts == 2 and digest.status == DigestStatus.SENT


def test_admin_clears_a_bounce(mail_client: FlaskClient, session: Session) -> None:
    sub, _call = _subscriber(session)
    sub.bounced_address, sub.bounced_at, sub.bounce_error = sub.address, NOW, "550 no such user"
    session.flush()
    login(mail_client, make_user(session, role=Role.ADMIN, language="en"))
    assert "550 no such user" in mail_client.get("/admin/digests").text

    mail_client.post(
        f"/admin/digests/{sub.id}/clear-bounce", data={"csrf_token": _csrf(mail_client)}
    )

    session.refresh(sub)
    assert not sub.is_bouncing and sub.bounced_address is None


def test_not_relevant_link_dismisses_for_that_subscriber_and_counts_for_learning(
    mail_client: FlaskClient,
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    sub, call = _subscriber(session)
    # The call also matched education, where staff already judged it relevant.
    areas = {a.slug: a for a in session.scalars(select(FocusArea))}
    make_match(session, call, areas["education"], 60)
    staff = make_user(session, role=Role.EDITOR)
    record_decision(
        session,
        call.id,
        "education",
        relevant=True,
        reason="fits-strategy",
        actor=staff,
        now=NOW - timedelta(days=1),
    )
    links = _mailed_links(session_factory, mail_settings, smtp)

    # Opening the link (as a mail scanner would) changes nothing.
    page = mail_client.get(links["not_relevant"])
    assert page.status_code == 200 and "Music cities" in page.text
    assert session.scalars(select(DigestDismissal)).first() is None
    assert session.scalars(select(MatchDecision.area_slug)).all() == ["education"]

    # No session and no CSRF token: the signed token is the authentication.
    done = mail_client.post(links["not_relevant"])
    assert done.status_code == 200 and "will not be in your digests again" in done.text
    dismissal = session.scalars(select(DigestDismissal)).one()
    assert (dismissal.subscription_id, dismissal.call_id) == (sub.id, call.id)
    assert dismissal.user_id == sub.user_id and dismissal.focus_area_id is not None
    # A decision the nightly retraining learns from, for the area the call matched; the
    # staff's decision on education stands.
    session.expire_all()
    decisions = {d.area_slug: d for d in session.scalars(select(MatchDecision))}
    assert set(decisions) == {"culture-music", "education"}
    mine = decisions["culture-music"]
    assert (mine.call_id, mine.relevant, mine.reason) == (call.id, False, "wrong-area")
    assert (mine.source, mine.actor_id) == (DecisionSource.DIGEST, sub.user_id)
    assert dismissal.focus_area_id == areas["culture-music"].id
    theirs = decisions["education"]
    assert (theirs.relevant, theirs.source, theirs.actor_id) == (
        True,
        DecisionSource.REVIEW,
        staff.id,
    )
    # Clicking twice is harmless.
    assert mail_client.post(links["not_relevant"]).status_code == 200
    assert len(session.scalars(select(DigestDismissal)).all()) == 1

    # The call is gone from this subscriber's next digest, not from anyone else's.
    other = make_subscription(session, make_user(session, language="en"))
    call.deadlines[0].deadline_at = NOW + timedelta(days=20)
    session.flush()
    assert call.id not in {e.call_id for e in build_digest(session, sub, now=NOW).new}
    assert call.id in {e.call_id for e in build_digest(session, other, now=NOW).new}


def test_a_tampered_token_is_refused(
    mail_client: FlaskClient,
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    sub, _call = _subscriber(session)
    links = _mailed_links(session_factory, mail_settings, smtp)

    for kind in ("not_relevant", "unsubscribe"):
        assert mail_client.get(_tamper(links[kind])).status_code == 400
        assert mail_client.post(_tamper(links[kind])).status_code == 400
    assert mail_client.post("/digest/unsubscribe/not-a-token").status_code == 400

    session.refresh(sub)
    assert sub.is_active
    assert session.scalars(select(DigestDismissal)).first() is None


def test_one_click_unsubscribe_from_the_list_header(
    mail_client: FlaskClient,
    session: Session,
    session_factory: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
) -> None:
    sub, _call = _subscriber(session, language="sv")
    links = _mailed_links(session_factory, mail_settings, smtp)

    # The link in the body asks first (a GET must not unsubscribe).
    page = mail_client.get(links["unsubscribe"])
    assert "Sluta skicka veckobrevet" in page.text
    session.refresh(sub)
    assert sub.is_active

    # RFC 8058: the mail provider POSTs "List-Unsubscribe=One-Click" to the header's URL.
    response = mail_client.post(
        links["header_unsubscribe"],
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "får inte längre veckobrevet" in response.text
    session.refresh(sub)
    assert not sub.is_active
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "digest.unsubscribed")
    ).one()
    assert event.entity_id == str(sub.id)


def test_admin_settles_an_unconfirmed_delivery(mail_client: FlaskClient, session: Session) -> None:
    sub, _call = _subscriber(session)
    digest = make_previous_digest(
        session, sub, period_end=NOW - timedelta(days=7), status=DigestStatus.SENDING
    )
    digest.sent_at, digest.last_attempt_at = None, NOW - timedelta(days=7)
    session.flush()
    login(mail_client, make_user(session, role=Role.ADMIN, language="en"))

    overview = mail_client.get("/admin/digests").text
    assert "Delivery unconfirmed" in overview and "It arrived" in overview

    mail_client.post(
        f"/admin/digests/sent/{digest.id}/confirm", data={"csrf_token": _csrf(mail_client)}
    )

    session.refresh(digest)
    assert digest.status == DigestStatus.SENT and digest.sent_at == NOW - timedelta(days=7)
    assert "Delivery unconfirmed" not in mail_client.get("/admin/digests").text
    # Only an unconfirmed digest can be confirmed.
    again = mail_client.post(f"/admin/digests/sent/{digest.id}/confirm", data={"csrf_token": CSRF})
    assert again.status_code == 409
