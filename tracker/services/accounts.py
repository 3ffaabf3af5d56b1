"""Passwords by mail: invitations, "forgot password" and changing one's own password.

A mailed link carries a signed ``[token id, secret]``. Only the secret's SHA-256 is stored,
with the link's purpose, expiry and the moment it was used, so a link works once and only
until it expires (times come from the caller's clock, not from the signature). Setting a
password in any way ends every other session of the account (``end_sessions``) and lifts its
sign-in throttle.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tracker.errors import TrackerError, ValidationFailed
from tracker.i18n import msg
from tracker.models import LoginAttempt, Office, PasswordToken, Role, TokenPurpose, User
from tracker.security import generate_token, hash_password, token_digest, verify_password
from tracker.services.audit import record_event
from tracker.services.users import (
    create_user,
    end_sessions,
    forget_failed_logins,
    get_user_by_email,
    normalise_email,
    password_problem,
)

LINK_SALT = "tracker.account.password-link"
LINK_LIFETIME = {
    TokenPurpose.INVITATION: timedelta(hours=72),
    TokenPurpose.PASSWORD_RESET: timedelta(hours=2),
}
# "Forgot password" mails per account per hour; more requests are answered the same way
# but send nothing, so the form cannot be used to flood someone's mailbox.
RESETS_PER_HOUR = 3


@dataclass(frozen=True)
class IssuedLink:
    """A password link to mail: ``token`` goes into the URL."""

    user: User
    purpose: TokenPurpose
    token: str
    expires_at: datetime


class InvalidPasswordLink(TrackerError):
    """A password link that was tampered with, has expired or has been used."""

    status_code = 400


def invite_user(
    session: Session,
    email: str,
    *,
    role: Role,
    office: Office | None,
    display_name: str,
    language: str,
    actor: User,
    now: datetime,
) -> User:
    """Create an account without a password for someone to be invited by mail; the caller
    issues the link (``issue_password_link``) and sends it."""
    user = create_user(
        session,
        email,
        password=None,
        role=role,
        office=office,
        display_name=display_name,
        language=language,
        actor=actor,
        now=now,
    )
    record_event(session, "user.invited", "user", user.id, actor=actor, now=now)
    return user


def issue_password_link(
    session: Session, user: User, purpose: TokenPurpose, *, secret_key: str, now: datetime
) -> IssuedLink:
    """A new single-use token for ``user``'s mail; the user's earlier unused links stop
    working (only the newest mail counts)."""
    _revoke_links(session, user, now=now)
    secret = generate_token()
    token = PasswordToken(
        user=user,
        purpose=purpose,
        secret_hash=token_digest(secret),
        created_at=now,
        expires_at=now + LINK_LIFETIME[purpose],
    )
    session.add(token)
    session.flush()
    return IssuedLink(
        user, purpose, _serializer(secret_key).dumps([token.id, secret]), token.expires_at
    )


def read_password_link(
    session: Session, token: str, *, secret_key: str, now: datetime
) -> PasswordToken:
    """The stored link behind ``token`` when it may still be used; InvalidPasswordLink
    otherwise (tampered, unknown, used, expired, or its account deactivated)."""
    try:
        token_id, secret = _serializer(secret_key).loads(token)
        record = session.get(PasswordToken, int(token_id))
    except (BadSignature, ValueError, TypeError):
        record = None
        secret = ""
    if (
        record is None
        or not isinstance(secret, str)
        or not hmac.compare_digest(record.secret_hash, token_digest(secret))
        or record.used_at is not None
        or record.expires_at <= now
        or not record.user.is_active
    ):
        raise InvalidPasswordLink(
            msg("This link is not valid: it has expired or has already been used.")
        )
    return record


def set_password_from_link(
    session: Session, token: str, password: str, *, secret_key: str, now: datetime
) -> User:
    """Set the password of the link's account and use the link up. Raises
    InvalidPasswordLink for a link that cannot be used, ValidationFailed for a weak
    password (the link then stays usable)."""
    record = read_password_link(session, token, secret_key=secret_key, now=now)
    if problem := password_problem(password):
        raise ValidationFailed(problem, {"password": problem})
    # Two submissions of one link at the same moment: only the one that marks it used wins.
    claimed = session.execute(
        update(PasswordToken)
        .where(PasswordToken.id == record.id, PasswordToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise InvalidPasswordLink(
            msg("This link is not valid: it has expired or has already been used.")
        )
    session.refresh(record)
    user = record.user
    was_invited = not user.has_password
    _set_password(session, user, password, now=now)
    action = "user.invitation_accepted" if was_invited else "user.password_reset"
    record_event(session, action, "user", user.id, actor=user, now=now)
    return user


def request_password_reset(
    session: Session, email: str, *, secret_key: str, now: datetime
) -> IssuedLink | None:
    """The reset link to mail, or None when nothing should be sent (no such
    active account, or too many requests this hour). The caller answers the same either way,
    so the form does not tell who has an account."""
    user = get_user_by_email(session, normalise_email(email))
    if user is None or not user.is_active:
        return None
    recent = (
        session.scalar(
            select(func.count())
            .select_from(PasswordToken)
            .where(
                PasswordToken.user_id == user.id,
                PasswordToken.purpose == TokenPurpose.PASSWORD_RESET,
                PasswordToken.created_at > now - timedelta(hours=1),
            )
        )
        or 0
    )
    if recent >= RESETS_PER_HOUR:
        return None
    link = issue_password_link(
        session, user, TokenPurpose.PASSWORD_RESET, secret_key=secret_key, now=now
    )
    record_event(session, "user.password_reset_requested", "user", user.id, actor=None, now=now)
    return link


def change_password(
    session: Session,
    user: User,
    current_password: str,
    new_password: str,
    *,
    remote_addr: str,
    now: datetime,
) -> None:
    """Change ``user``'s own password; the current one must be given. A wrong current
    password counts as a failed sign-in (the throttle applies to someone guessing it from a
    borrowed session). Every session of the account ends; the caller signs the current one
    in again."""
    errors: dict[str, str] = {}
    if not verify_password(user.password_hash, current_password):
        session.add(LoginAttempt(email=user.email, remote_addr=remote_addr, attempted_at=now))
        session.flush()
        errors["current_password"] = msg("The current password is not right.")
    if problem := password_problem(new_password):
        errors["password"] = problem
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)
    _set_password(session, user, new_password, now=now)
    record_event(session, "user.password_changed", "user", user.id, actor=user, now=now)


def _set_password(session: Session, user: User, password: str, *, now: datetime) -> None:
    user.password_hash = hash_password(password)
    end_sessions(session, user)
    forget_failed_logins(session, user.email)
    _revoke_links(session, user, now=now)
    session.flush()


def _revoke_links(session: Session, user: User, *, now: datetime) -> None:
    session.execute(
        update(PasswordToken)
        .where(
            PasswordToken.user_id == user.id,
            PasswordToken.used_at.is_(None),
            PasswordToken.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=LINK_SALT)
