"""The migration that adds session nonces gives every existing account its own, so sessions
signed before the upgrade (which carry none) end, and nobody shares a nonce."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from tracker.db import make_engine
from tracker.migrate import upgrade


def test_existing_accounts_get_a_nonce_each(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    upgrade(url, "auth_01-1")  # the revision before this one, whichever it is
    engine = make_engine(url)
    with engine.begin() as connection:
        for n in range(3):
            connection.execute(
                text(
                    "INSERT INTO users (email, display_name, password_hash, role, language,"
                    " is_active, calendar_token, created_at)"
                    " VALUES (:email, 'x', 'hash', 'viewer', 'sv', 1, :token, '2026-01-01')"
                ),
                {"email": f"u{n}@norrkoping.test", "token": f"token-{n}"},
            )
    upgrade(url, "auth_01")
    with engine.connect() as connection:
        nonces = connection.scalars(text("SELECT session_nonce FROM users")).all()
    engine.dispose()
    assert len(nonces) == 3 and len(set(nonces)) == 3
    assert all(len(nonce) == 32 for nonce in nonces)
