"""Delivering mail over SMTP, configured by ``[mail]``.

``SmtpMailer.send`` either returns (the server accepted the message) or raises one of three
errors, and the difference matters to the digests' exactly-once promise:

- ``TemporaryFailure``: nothing was delivered and trying again later may work (a 4xx reply,
  connection refused, a timeout before the message was handed over, a login problem).
- ``PermanentFailure``: the server refused for good (a 5xx reply). ``address_at_fault`` says
  whether the refusal names the recipient (an unknown or disabled mailbox, a full one: the
  address is flagged for admins), or concerns our side: the sender, the relay, the session or
  the message (MAIL FROM refused, "relay access denied", DATA refused), which no address
  flag would fix and which would refuse every other recipient too.
- ``UncertainDelivery``: the whole message was sent but the connection failed before the
  server's reply, so it may or may not have been accepted. Callers must not resend it on
  their own; that would risk a duplicate.

One connection is reused for a batch and reopened after an error.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from types import TracebackType

from tracker.config import MailSettings

log = logging.getLogger(__name__)

_LEADING_DOT = re.compile(rb"(?m)^\.")
# SMTP line ends, and headers stored raw (``Message.set_raw``) written as they are: a header
# holding URIs (List-Unsubscribe) must never become an RFC 2047 encoded word, which mail
# clients do not read as a URI. Headers set the usual way are folded and encoded as before.
MAIL_POLICY = SMTP_POLICY.clone(refold_source="none")


class DeliveryError(Exception):
    """A message was not (or not certainly) delivered."""


class TemporaryFailure(DeliveryError):
    pass


class PermanentFailure(DeliveryError):
    def __init__(self, message: str, *, code: int, address_at_fault: bool) -> None:
        super().__init__(message)
        self.code = code
        self.address_at_fault = address_at_fault


class UncertainDelivery(DeliveryError):
    pass


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return f"{code} {' '.join(text.split())}"


def _refusal(stage: str, code: int, reply: bytes | str, *, address_at_fault: bool) -> DeliveryError:
    text = f"{stage}: {_reply_text(code, reply)}"
    if 500 <= code < 600:
        return PermanentFailure(text, code=code, address_at_fault=address_at_fault)
    return TemporaryFailure(text)


# RFC 3463 enhanced status codes about the recipient's mailbox or address: X.1.1 unknown
# mailbox, X.1.2 unknown system, X.1.3 bad address syntax, X.1.4 ambiguous, X.1.6 moved,
# X.2.x the mailbox itself (disabled, full, message too big for it).
_RECIPIENT_STATUS = re.compile(r"\b5\.(?:1\.[12346]|2\.[0-4])\b")
_ENHANCED_STATUS = re.compile(r"\b[45]\.\d{1,3}\.\d{1,3}\b")
_ABOUT_US = re.compile(r"relay|sender|from address|authenticat|spf|dmarc|policy", re.IGNORECASE)


def names_recipient(stage: str, code: int, reply: bytes | str, recipient: str) -> bool:
    """Whether a 5xx reply is about ``recipient`` (flag the address) rather than about the
    sender, the relay or the session (tell the admin: every recipient would fail alike).

    An enhanced status code decides when there is one: X.1.x and X.2.x about the mailbox are
    the recipient's; X.7.x ("5.7.1 <anna@...>: Relay access denied") and the rest are not,
    even when the reply quotes the address. Without one, a reply that names the address or,
    at RCPT, a classic "550 no such user" is the recipient's, unless it speaks of relaying,
    the sender or authentication."""
    text = _reply_text(code, reply)
    if _ENHANCED_STATUS.search(text):
        return _RECIPIENT_STATUS.search(text) is not None
    if _ABOUT_US.search(text):
        return False
    if recipient and recipient.lower() in text.lower():
        return True
    return stage == "RCPT TO" and code in (550, 551, 553)


class SmtpMailer:
    """Sends messages through the SMTP server of ``[mail]``; use as a context manager so the
    connection is closed after the batch."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._connection: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpMailer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            # Servers close idle connections; find out now rather than fail the message.
            try:
                code, _reply = self._connection.noop()
                if code == 250:
                    return self._connection
            except (OSError, smtplib.SMTPException):
                pass
            self._drop()
        s = self.settings
        try:
            connection: smtplib.SMTP
            if s.security == "ssl":
                connection = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout_seconds, context=ssl.create_default_context()
                )
            else:
                connection = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
            try:
                connection.ehlo()
                if s.security == "starttls":
                    connection.starttls(context=ssl.create_default_context())
                    connection.ehlo()
                if s.username:
                    connection.login(s.username, s.password)
            except BaseException:
                connection.close()
                raise
        except smtplib.SMTPResponseException as exc:
            # Greeting, STARTTLS or login refused: a problem of the server or our settings,
            # never of the recipient, so it is retried (and shown to admins) rather than
            # flagging anyone's address.
            raise TemporaryFailure(
                f"connecting to {s.host}:{s.port}: {_reply_text(exc.smtp_code, exc.smtp_error)}"
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"connecting to {s.host}:{s.port}: {exc}") from exc
        self._connection = connection
        return connection

    def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        """Deliver ``message`` to ``recipient``; see the module docstring for the errors."""
        payload = message.as_bytes(policy=MAIL_POLICY)
        connection = self._connect()
        try:
            code, reply = connection.mail(sender)
            if code != 250:
                raise _refusal("MAIL FROM", code, reply, address_at_fault=False)
            code, reply = connection.rcpt(recipient)
            if code not in (250, 251):
                raise _refusal(
                    "RCPT TO",
                    code,
                    reply,
                    address_at_fault=names_recipient("RCPT TO", code, reply, recipient),
                )
            code, reply = connection.docmd("DATA")
            if code != 354:
                # The recipient was accepted a moment ago: a refused DATA is the session's.
                raise _refusal("DATA", code, reply, address_at_fault=False)
            body = _LEADING_DOT.sub(b"..", payload)
            if not body.endswith(b"\r\n"):
                body += b"\r\n"
            connection.send(body + b".\r\n")
        except DeliveryError:
            self._reset()
            raise
        except (OSError, smtplib.SMTPException) as exc:
            # The final dot did not leave this machine whole, so the server cannot have
            # accepted the message.
            self._drop()
            raise TemporaryFailure(f"sending to {recipient}: {exc}") from exc
        try:
            code, reply = connection.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise UncertainDelivery(
                f"sent to {recipient} but the server's reply was lost: {exc}"
            ) from exc
        if code != 250:
            self._reset()
            raise _refusal(
                "end of DATA",
                code,
                reply,
                address_at_fault=names_recipient("end of DATA", code, reply, recipient),
            )
        log.info("mail to %s accepted: %s", recipient, _reply_text(code, reply))

    def _reset(self) -> None:
        """Abandon the current mail transaction but keep the connection when it is healthy."""
        if self._connection is None:
            return
        try:
            self._connection.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()
