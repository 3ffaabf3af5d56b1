"""Housekeeping run by the scheduler."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from tracker.models import LoginAttempt, PasswordToken

# Kept a while after they stop working, so "this link has been used" can be told apart from
# a forged link when someone asks; the audit log keeps the history.
PASSWORD_LINK_RETENTION = timedelta(days=30)


def prune_login_attempts(session: Session, *, now: datetime) -> int:
    """Delete failed-login records older than a day; returns how many went. (Throttling
    only looks at the last 15 minutes.)"""
    result = session.execute(
        delete(LoginAttempt).where(LoginAttempt.attempted_at < now - timedelta(days=1))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def prune_password_links(session: Session, *, now: datetime) -> int:
    """Delete password links used or expired more than 30 days ago; returns how many went."""
    cutoff = now - PASSWORD_LINK_RETENTION
    result = session.execute(
        delete(PasswordToken).where(
            or_(PasswordToken.expires_at < cutoff, PasswordToken.used_at < cutoff)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
