"""The digest tests' SMTP server (aiosmtpd on 127.0.0.1) and the app pointed at it, for the
mails that invite people and reset passwords."""

from tests.digests.conftest import (  # noqa: F401  (fixtures, found by pytest by name)
    mail_app,
    mail_client,
    mail_settings,
    smtp,
)
