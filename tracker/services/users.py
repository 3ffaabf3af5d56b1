"""Accounts and offices: creating users, checking passwords, slowing down guessing."""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from tracker.errors import NotFound, ValidationFailed
from tracker.i18n import Message, msg
from tracker.models import LoginAttempt, Office, Role, User
from tracker.models.users import new_session_nonce
from tracker.security import (
    generate_token,
    hash_password,
    needs_rehash,
    verify_password,
    waste_a_verification,
)
from tracker.services.audit import record_event

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1000
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
    password: str | None,
    role: Role,
    now: datetime,
    office: Office | None = None,
    display_name: str = "",
    language: str = "sv",
    actor: User | None = None,
) -> User:
    """Create an account; raises ValidationFailed for a bad email, weak password or duplicate.
    ``password=None`` makes an account that cannot sign in until its owner sets a password
    from an invitation (``tracker.services.accounts.invite_user``)."""
    email = normalise_email(email)
    errors: dict[str, str] = {}
    if not EMAIL_PATTERN.match(email):
        errors["email"] = msg("%(email)r is not an email address", email=email)
    elif get_user_by_email(session, email) is not None:
        errors["email"] = msg("a user with email %(email)s already exists", email=email)
    if password is not None and (problem := password_problem(password)):
        errors["password"] = problem
    if language not in ("sv", "en"):
        errors["language"] = msg("language must be sv or en")
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)
    user = User(
        email=email,
        display_name=display_name or email.split("@")[0],
        password_hash=hash_password(password) if password is not None else "",
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


@dataclass(frozen=True)
class LoginLimits:
    """Failed sign-ins allowed within ``LOGIN_WINDOW``: for one account from one client
    address, from one address whatever the account, and for one account whatever the
    address (a guess spread over many addresses)."""

    per_account_and_address: int
    per_address: int
    per_account: int


class ThrottleScope(enum.StrEnum):
    ADDRESS = "address"
    ACCOUNT = "account"


@dataclass(frozen=True)
class Throttle:
    """Sign-in is paused for the account (whoever asks, from this address or from
    everywhere) or for the client address; ``wait`` says until when."""

    scope: ThrottleScope
    wait: timedelta

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.wait.total_seconds() / 60))


def login_throttle(
    session: Session, email: str, remote_addr: str, *, now: datetime, limits: LoginLimits
) -> Throttle | None:
    """Whether sign-in must wait, and for how long. The address and the account are counted
    apart, so failures from one client never lock out another client (unless they add up to
    ``limits.per_account`` for one account, when the reset link is the way in). While a
    throttle holds, the password is not checked and nothing more is counted."""
    email = normalise_email(email)
    since = now - LOGIN_WINDOW
    recent = select(LoginAttempt.attempted_at).where(LoginAttempt.attempted_at >= since)
    checks = (
        (ThrottleScope.ADDRESS, LoginAttempt.remote_addr == remote_addr, limits.per_address),
        (
            ThrottleScope.ACCOUNT,
            and_(LoginAttempt.email == email, LoginAttempt.remote_addr == remote_addr),
            limits.per_account_and_address,
        ),
        (ThrottleScope.ACCOUNT, LoginAttempt.email == email, limits.per_account),
    )
    for scope, condition, limit in checks:
        times = sorted(session.scalars(recent.where(condition)))
        if len(times) >= limit:
            # The pause ends when enough failures have aged out of the window.
            frees_at = times[len(times) - limit] + LOGIN_WINDOW
            return Throttle(scope, max(frees_at - now, timedelta(0)))
    return None


def authenticate(
    session: Session, email: str, password: str, *, remote_addr: str, now: datetime
) -> User | None:
    """The active user with this email and password, or None (the failure is recorded).

    Unknown, deactivated and invited-but-unset accounts cost one full password check too,
    so the time of the answer does not tell which accounts exist."""
    email = normalise_email(email)
    user = get_user_by_email(session, email)
    if user is None:
        waste_a_verification(password)
        matches = False
    else:
        matches = verify_password(user.password_hash, password) and user.is_active
    if user is None or not matches:
        session.add(LoginAttempt(email=email, remote_addr=remote_addr, attempted_at=now))
        session.flush()
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    # A success forgives this client's earlier typos for this account, nothing else.
    session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.email == email, LoginAttempt.remote_addr == remote_addr
        )
    )
    session.flush()
    return user


def end_sessions(session: Session, user: User) -> None:
    """Sign ``user`` out everywhere: every session cookie signed so far stops working."""
    user.session_nonce = new_session_nonce()
    session.flush()


def forget_failed_logins(session: Session, email: str) -> None:
    """Lift an account's throttle (after its owner proved control of the mailbox)."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == normalise_email(email)))


def password_problem(password: str) -> Message | None:
    """Why ``password`` is not acceptable, or None. The one password policy of every path
    that sets a password (admins adding users, invitations, resets, changing one's own)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return msg(
            "the password must have at least %(count)d characters", count=MIN_PASSWORD_LENGTH
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return msg("the password must have at most %(count)d characters", count=MAX_PASSWORD_LENGTH)
    return None


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
