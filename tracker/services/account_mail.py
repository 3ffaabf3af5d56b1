"""Invitation and password-reset mails, in the recipient's language, from the templates
``templates/email/invitation.*`` and ``templates/email/password_reset.*``.

Links start with ``[mail] base_url`` like the digests' links, never with the host a request
named: a forged ``Host`` header must not be able to send someone a reset link that points
elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_date
from email.utils import make_msgid, parseaddr
from typing import Any

from babel.dates import format_datetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.config import MailSettings, Settings
from tracker.models import AuditEvent, TokenPurpose
from tracker.services.accounts import IssuedLink
from tracker.services.audit import record_event
from tracker.services.digests.mail import environment, sender_address, translations
from tracker.services.mailer import DeliveryError, SmtpMailer

SET_PASSWORD_PATH = "/account/set-password/{token}"
FORGOT_PASSWORD_PATH = "/account/forgot"

# Audit actions of account mails: the latest one says whether mail reaches people.
MAIL_SENT = "account_mail.sent"
MAIL_FAILED = "account_mail.failed"
# A failed mail older than this is history, not a current problem.
MAIL_MEMORY = timedelta(days=8)
_ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>@]+")

_TEMPLATES = {
    TokenPurpose.INVITATION: "email/invitation",
    TokenPurpose.PASSWORD_RESET: "email/password_reset",
}


@dataclass(frozen=True)
class PasswordMail:
    message: EmailMessage
    sender: str
    recipient: str
    purpose: TokenPurpose = TokenPurpose.PASSWORD_RESET


def set_password_url(settings: Settings, token: str) -> str:
    return settings.mail.base_url.rstrip("/") + SET_PASSWORD_PATH.format(token=token)


def build_password_mail(
    link: IssuedLink, settings: Settings, *, now: datetime, invited_by: str = ""
) -> PasswordMail:
    """The invitation or reset mail carrying ``link``: plain text and HTML in the language
    of the link's user."""
    user, purpose = link.user, link.purpose
    language = user.language
    t = translations(language)
    base_url = settings.mail.base_url.rstrip("/")
    expires = format_datetime(
        link.expires_at, "EEEE d MMMM y, HH:mm", tzinfo=settings.tz, locale=language
    )
    if purpose is TokenPurpose.INVITATION:
        subject = t.gettext("You are invited to the funding tracker")
    else:
        subject = t.gettext("Choose a new password for the funding tracker")
    context: dict[str, Any] = {
        "language": language,
        "subject": subject,
        "recipient_name": user.display_name or user.email,
        "email": user.email,
        "invited_by": invited_by,
        "link": set_password_url(settings, link.token),
        "expires": expires,
        "time_zone": settings.app.timezone,
        "forgot_url": base_url + FORGOT_PASSWORD_PATH,
        "home_url": base_url + "/",
    }
    env = environment(language)
    stem = _TEMPLATES[purpose]
    name, sender = parseaddr(settings.mail.sender)
    sender = sender or settings.mail.sender
    message = EmailMessage()
    message["From"] = Address(name or t.gettext("Funding tracker"), addr_spec=sender)
    message["To"] = user.email
    message["Subject"] = subject
    message["Date"] = rfc2822_date(now)
    message["Message-ID"] = make_msgid("account", domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(
        env.get_template(f"{stem}.txt").render(context),
        subtype="plain",
        charset="utf-8",
        cte="quoted-printable",
    )
    message.add_alternative(
        env.get_template(f"{stem}.html").render(context),
        subtype="html",
        charset="utf-8",
        cte="quoted-printable",
    )
    # After the parts: set_content() and add_alternative() move or drop Content-* headers.
    message["Content-Language"] = language
    return PasswordMail(message, sender_address(settings), user.email, purpose)


def send_password_mail(mail_settings: MailSettings, mail: PasswordMail) -> str | None:
    """Send ``mail`` over SMTP; None when the server took it, else why it did not."""
    try:
        with SmtpMailer(mail_settings) as mailer:
            mailer.send(mail.message, sender=mail.sender, recipient=mail.recipient)
    except DeliveryError as exc:
        return str(exc)
    return None


def record_mail_outcome(
    session: Session, mail: PasswordMail, *, error: str | None, now: datetime
) -> AuditEvent:
    """Write down that ``mail`` was sent, or why not: the latest such record is what the admin
    banner and /healthz say about mail (``last_mail_failure``). The caller commits."""
    details: dict[str, Any] = {"purpose": mail.purpose.value, "recipient": mail.recipient}
    if error is not None:
        details["error"] = error
    return record_event(
        session,
        MAIL_FAILED if error is not None else MAIL_SENT,
        "mail",
        None,
        actor=None,
        now=now,
        details=details,
    )


def last_mail_failure(session: Session, *, now: datetime) -> AuditEvent | None:
    """The latest account mail (within ``MAIL_MEMORY``) when it failed; None when the latest
    one went out or there was none."""
    latest = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.at >= now - MAIL_MEMORY, AuditEvent.action.in_((MAIL_SENT, MAIL_FAILED)))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(1)
    ).first()
    return latest if latest is not None and latest.action == MAIL_FAILED else None


def public_reason(error: str) -> str:
    """A send failure's reason with mail addresses left out (/healthz is read by monitors)."""
    return _ADDRESS.sub("<address>", error)
