"""Fixtures for the digest tests: a real SMTP server (aiosmtpd on 127.0.0.1) that can be told
to refuse, settings that point the mailer at it, and factories for focus areas, matches and
subscriptions."""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import make_settings
from tests.factories import NOW
from tracker.app import create_app
from tracker.clock import FixedClock
from tracker.config import Settings
from tracker.models import (
    CallMatch,
    Digest,
    DigestItem,
    DigestSection,
    DigestStatus,
    DigestSubscription,
    FocusArea,
    FundingCall,
    Office,
    StrategyProfile,
    User,
)

BASE_URL = "https://tracker.example.se"
SENDER = "tracker@norrkoping.test"
_counter = itertools.count(1)


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        message = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class SmtpHandler:
    """Accepts every message unless told otherwise: ``refuse[address]`` answers RCPT for that
    address; ``fail_next`` holds replies for the next DATA commands ("451 4.3.0 busy")."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    fail_next: list[str] = field(default_factory=list)
    # Seconds to wait before answering DATA (the message is accepted all the same), to lose
    # the reply to a client with a shorter timeout.
    reply_delay: float = 0.0
    recipients_tried: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        self.recipients_tried.append(address)
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.fail_next:
                return self.fail_next.pop(0)
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        return "250 2.0.0 accepted"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]


@dataclass
class SmtpServer:
    handler: SmtpHandler
    port: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def smtp() -> Iterator[SmtpServer]:
    handler = SmtpHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(handler, port)
    finally:
        controller.stop()


@pytest.fixture()
def mail_settings(database_url: str, smtp: SmtpServer) -> Settings:
    return make_settings(
        database_url,
        mail={
            "host": "127.0.0.1",
            "port": smtp.port,
            "sender": SENDER,
            "base_url": BASE_URL,
            "timeout_seconds": 5.0,
        },
    )


@pytest.fixture()
def mail_app(
    mail_settings: Settings, session_factory: sessionmaker[Session], clock: FixedClock
) -> Flask:
    return create_app(mail_settings, session_factory=session_factory, testing=True, clock=clock)


@pytest.fixture()
def mail_client(mail_app: Flask) -> FlaskClient:
    return mail_app.test_client()


# --- factories ----------------------------------------------------------------------------


def make_areas(session: Session, *slugs: str) -> dict[str, FocusArea]:
    """An active strategy profile with these focus areas (two by default)."""
    slugs = slugs or ("culture-music", "education")
    names = {
        "culture-music": ("Kultur, kreativitet och musik", "Culture, creativity and music"),
        "education": ("Utbildning och lärande", "Education and learning"),
        "energy-environment": ("Energi och miljö", "Energy and environment"),
    }
    profile = StrategyProfile(
        name=f"profile-{next(_counter)}", version=1, is_active=True, gates={}, created_at=NOW
    )
    for position, slug in enumerate(slugs):
        name_sv, name_en = names.get(slug, (slug, slug))
        profile.areas.append(
            FocusArea(slug=slug, name_sv=name_sv, name_en=name_en, position=position)
        )
    session.add(profile)
    session.flush()
    return {area.slug: area for area in profile.areas}


def make_match(
    session: Session,
    call: FundingCall,
    area: FocusArea,
    score: float = 80.0,
    *,
    evidence: list[Any] | None = None,
    matched_at: datetime | None = None,
    is_match: bool = True,
) -> CallMatch:
    match = CallMatch(
        call_id=call.id,
        focus_area_id=area.id,
        score=score,
        is_match=is_match,
        evidence=evidence
        if evidence is not None
        else [{"text": "music festivals and creative industries", "weight": 12.0}],
        matched_at=matched_at or NOW - timedelta(days=1),
    )
    session.add(match)
    session.flush()
    return match


def make_subscription(
    session: Session, user: User | None = None, office: Office | None = None, **overrides: Any
) -> DigestSubscription:
    values: dict[str, Any] = {
        "user": user,
        "office": office,
        "focus_area_slugs": [],
        "office_slugs": [office.slug] if office is not None else [],
        "min_score": 50,
        "closing_soon_days": 30,
        "language": user.language if user is not None else "sv",
        "send_when_empty": False,
        "is_active": True,
        "created_at": NOW - timedelta(days=30),
        "updated_at": NOW - timedelta(days=30),
    }
    values.update(overrides)
    subscription = DigestSubscription(**values)
    session.add(subscription)
    session.flush()
    return subscription


def make_previous_digest(
    session: Session,
    subscription: DigestSubscription,
    *,
    period_end: datetime,
    items: Sequence[tuple[FundingCall, DigestSection, dict[str, Any]]] = (),
    week: str = "2026-W46",
    status: DigestStatus = DigestStatus.SENT,
) -> Digest:
    """A digest sent earlier, with what it said about each call."""
    digest = Digest(
        subscription_id=subscription.id,
        iso_week=week,
        status=status,
        period_start=period_end - timedelta(days=7),
        period_end=period_end,
        address=subscription.address or "",
        language=subscription.language,
        counts={},
        subject="earlier digest",
        text_body="",
        html_body="",
        message_id=f"<earlier.{next(_counter)}@test>",
        attempts=1,
        sent_at=period_end,
        created_at=period_end,
    )
    for call, section, snapshot in items:
        digest.items.append(DigestItem(call_id=call.id, section=section, snapshot=snapshot))
    session.add(digest)
    session.flush()
    return digest
