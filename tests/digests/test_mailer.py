"""The SMTP mailer in each ``[mail] security`` mode, with a login, against aiosmtpd. The test
server's certificate is made with the openssl command and trusted through SSL_CERT_FILE."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.digests.conftest import SmtpHandler, free_port
from tracker.config import MailSettings
from tracker.services.mailer import PermanentFailure, SmtpMailer, TemporaryFailure

USERNAME, PASSWORD = "tracker", "mail-secret"

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-nodes", "-days", "1",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def _server(
    handler: SmtpHandler, certificate: tuple[Path, Path], *, implicit_tls: bool
) -> tuple[Controller, int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    port = free_port()
    options: dict[str, Any] = {"authenticator": _authenticate}
    if implicit_tls:
        # aiosmtpd does not see an implicit TLS connection as encrypted; it is.
        options.update(ssl_context=context, auth_require_tls=False)
    else:
        options.update(tls_context=context, require_starttls=True, auth_require_tls=True)
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller, port


@pytest.fixture()
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    yield


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "t@x.test", "anna@x.test", "Hej"
    message.set_content("Hej då\n.\nA line with only a dot above.")
    return message


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_sends_over_tls_with_a_login(
    certificate: tuple[Path, Path], trusted: None, security: str
) -> None:
    handler = SmtpHandler()
    controller, port = _server(handler, certificate, implicit_tls=security == "ssl")
    settings = MailSettings(
        host="127.0.0.1",
        port=port,
        security=security,  # type: ignore[arg-type]
        username=USERNAME,
        password=PASSWORD,
        timeout_seconds=5,
    )
    try:
        with SmtpMailer(settings) as mailer:
            mailer.send(_message(), sender="t@x.test", recipient="anna@x.test")
            mailer.send(_message(), sender="t@x.test", recipient="bo@x.test")
        with (
            SmtpMailer(replace(settings, password="wrong")) as mailer,
            pytest.raises(TemporaryFailure, match="535"),
        ):
            mailer.send(_message(), sender="t@x.test", recipient="anna@x.test")
    finally:
        controller.stop()
    assert [r.recipients for r in handler.received] == [["anna@x.test"], ["bo@x.test"]]
    body = handler.received[0].message.get_content()
    assert "\n.\n" in body.replace("\r\n", "\n")  # the lone dot survived SMTP's dot-stuffing


def test_refuses_a_server_whose_certificate_it_does_not_trust(
    certificate: tuple[Path, Path],
) -> None:
    handler = SmtpHandler()
    controller, port = _server(handler, certificate, implicit_tls=False)
    settings = MailSettings(host="127.0.0.1", port=port, security="starttls", timeout_seconds=5)
    try:
        with SmtpMailer(settings) as mailer, pytest.raises(TemporaryFailure, match="CERTIFICATE"):
            mailer.send(_message(), sender="t@x.test", recipient="anna@x.test")
    finally:
        controller.stop()
    assert handler.received == []


def test_plain_smtp_reuses_the_connection_and_survives_a_refusal() -> None:
    handler = SmtpHandler(refuse={"gone@x.test": "550 5.1.1 no such user"})
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with SmtpMailer(MailSettings(host="127.0.0.1", port=port, timeout_seconds=5)) as mailer:
            with pytest.raises(PermanentFailure) as refused:
                mailer.send(_message(), sender="t@x.test", recipient="gone@x.test")
            mailer.send(_message(), sender="t@x.test", recipient="anna@x.test")
    finally:
        controller.stop()
    assert refused.value.code == 550 and refused.value.address_at_fault
    assert [r.recipients for r in handler.received] == [["anna@x.test"]]
