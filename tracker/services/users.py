"""Accounts and offices: creating users, checking passwords, slowing down guessing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tracker.errors import NotFound, ValidationFailed
from tracker.i18n import msg
from tracker.models import LoginAttempt, Office, Role, User
from tracker.security import generate_token, hash_password, needs_rehash, verify_password
from tracker.services.audit import record_event

# One mailbox: no spaces, line breaks or other control characters anywhere (``\Z``, since
# ``$`` would let a final line break through into a mail header).
_ATOM = r"[^@\s\x00-\x1f\x7f]+"
EMAIL_PATTERN = re.compile(rf"^{_ATOM}@{_ATOM}\.{_ATOM}\Z")
MIN_PASSWORD_LENGTH = 10
LOGIN_WINDOW = timedelta(minutes=15)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_office_by_slug(session: Session, slug: str) -> Office:
    office = session.scalar(select(Office).where(Office.slug == slug))
    if office is None:
        raise NotFound(msg("no office with slug %(slug)r", slug=slug))
    return office


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    session: Session,
    email: str,
    *,
    password: str,
    role: Role,
    now: datetime,
    office: Office | None = None,
    display_name: str = "",
    language: str = "sv",
    actor: User | None = None,
) -> User:
    """Create an account; raises ValidationFailed for a bad email, weak password or duplicate."""
    email = normalise_email(email)
    errors: dict[str, str] = {}
    if not EMAIL_PATTERN.match(email):
        errors["email"] = msg("%(email)r is not an email address", email=email)
    elif get_user_by_email(session, email) is not None:
        errors["email"] = msg("a user with email %(email)s already exists", email=email)
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = msg(
            "the password must have at least %(count)d characters", count=MIN_PASSWORD_LENGTH
        )
    if language not in ("sv", "en"):
        errors["language"] = msg("language must be sv or en")
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)
    user = User(
        email=email,
        display_name=display_name or email.split("@")[0],
        password_hash=hash_password(password),
        role=role,
        office=office,
        language=language,
        is_active=True,
        calendar_token=generate_token(),
        created_at=now,
    )
    session.add(user)
    session.flush()
    record_event(
        session,
        "user.created",
        "user",
        user.id,
        actor=actor,
        now=now,
        details={"email": email, "role": role.value},
    )
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def count_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.is_active)
        )
        or 0
    )


def is_login_throttled(
    session: Session, email: str, remote_addr: str, *, now: datetime, limit: int
) -> bool:
    """True when too many failed logins for this account or address happened recently."""
    since = now - LOGIN_WINDOW
    count = (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.attempted_at >= since,
                or_(
                    LoginAttempt.email == normalise_email(email),
                    LoginAttempt.remote_addr == remote_addr,
                ),
            )
        )
        or 0
    )
    return count >= limit


def authenticate(
    session: Session, email: str, password: str, *, remote_addr: str, now: datetime
) -> User | None:
    """The active user with this email and password, or None (the failure is recorded)."""
    user = get_user_by_email(session, email)
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        session.add(
            LoginAttempt(email=normalise_email(email), remote_addr=remote_addr, attempted_at=now)
        )
        session.flush()
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    session.flush()
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(msg("no user with id %(id)s", id=user_id))
    return user


def update_user(
    session: Session,
    user: User,
    *,
    role: Role,
    office: Office | None,
    display_name: str,
    language: str,
    is_active: bool,
    actor: User,
    now: datetime,
) -> User:
    """Change a user's role, office, name, language or whether they can sign in. The last
    active administrator can be neither demoted nor deactivated, and nobody deactivates
    themselves (so an administrator cannot lock everyone out)."""
    errors: dict[str, str] = {}
    losing_admin = (
        user.role == Role.ADMIN and user.is_active and (role != Role.ADMIN or not is_active)
    )
    if losing_admin and count_admins(session) <= 1:
        errors["role"] = msg("the last administrator must stay an active administrator")
    if user.id == actor.id and not is_active:
        errors["is_active"] = msg("you cannot deactivate yourself")
    if language not in ("sv", "en"):
        errors["language"] = msg("language must be sv or en")
    if office is not None and not office.is_active and office.id != user.office_id:
        errors["office"] = msg("the office %(slug)s is closed", slug=office.slug)
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)
    before = {
        "role": user.role.value,
        "office": user.office.slug if user.office else None,
        "active": user.is_active,
    }
    user.role = role
    user.office = office
    user.display_name = display_name.strip() or user.display_name
    user.language = language
    user.is_active = is_active
    session.flush()
    after = {"role": role.value, "office": office.slug if office else None, "active": is_active}
    record_event(
        session,
        "user.updated",
        "user",
        user.id,
        actor=actor,
        now=now,
        details={"before": before, "after": after},
    )
    return user
