"""Fixtures for the digest tests: a real SMTP server (aiosmtpd on 127.0.0.1) that can be told
to refuse, settings that point the mailer at it, and factories for focus areas, matches and
subscriptions (the factories are in ``tests.factories.digests``)."""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import make_settings
from tracker.app import create_app
from tracker.clock import FixedClock
from tracker.config import Settings

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
    address; ``refuse_every_recipient`` answers RCPT for all (a relay that wants a login);
    ``refuse_sender`` answers MAIL FROM; ``fail_next`` holds replies for the next DATA
    commands ("451 4.3.0 busy")."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    refuse_every_recipient: str | None = None
    refuse_sender: str | None = None
    senders_tried: list[str] = field(default_factory=list)
    fail_next: list[str] = field(default_factory=list)
    # Seconds to wait before answering DATA (the message is accepted all the same), to lose
    # the reply to a client with a shorter timeout.
    reply_delay: float = 0.0
    recipients_tried: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: Any
    ) -> str:
        self.senders_tried.append(address)
        if self.refuse_sender is not None:
            return self.refuse_sender
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        self.recipients_tried.append(address)
        if address in self.refuse:
            return self.refuse[address]
        if self.refuse_every_recipient is not None:
            return self.refuse_every_recipient.replace("{address}", address)
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
