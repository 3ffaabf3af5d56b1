"""Invitation and password-reset mails, in the recipient's language, from the templates
``templates/email/invitation.*`` and ``templates/email/password_reset.*``.

Links start with ``[mail] base_url`` like the digests' links, never with the host a request
named: a forged ``Host`` header must not be able to send someone a reset link that points
elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_date
from email.utils import make_msgid, parseaddr
from typing import Any

from babel.dates import format_datetime

from tracker.config import Settings
from tracker.models import TokenPurpose
from tracker.services.accounts import IssuedLink
from tracker.services.digests.mail import environment, sender_address, translations

SET_PASSWORD_PATH = "/account/set-password/{token}"
FORGOT_PASSWORD_PATH = "/account/forgot"

_TEMPLATES = {
    TokenPurpose.INVITATION: "email/invitation",
    TokenPurpose.PASSWORD_RESET: "email/password_reset",
}


@dataclass(frozen=True)
class PasswordMail:
    message: EmailMessage
    sender: str
    recipient: str


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
    return PasswordMail(message, sender_address(settings), user.email)
