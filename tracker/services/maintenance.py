"""Housekeeping run by the scheduler."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from tracker.models import LoginAttempt


def prune_login_attempts(session: Session, *, now: datetime) -> int:
    """Delete failed-login records older than a day; returns how many went."""
    result = session.execute(
        delete(LoginAttempt).where(LoginAttempt.attempted_at < now - timedelta(days=1))
    )
    return int(getattr(result, "rowcount", 0) or 0)
