"""Password hashing (argon2) and random tokens."""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches. An empty hash (an account without a password yet)
    never matches, and takes as long to refuse as a wrong password."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def waste_a_verification(password: str) -> None:
    """Spend the time of one password check, so that an unknown account is refused as
    slowly as a known one with a wrong password (the delay must not tell which exists)."""
    verify_password("", password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Hashed with the current parameters, so checking against it costs what a real check does.
    return _hasher.hash(secrets.token_urlsafe(16))


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def generate_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(secret: str) -> str:
    """What is stored of a mailed secret: its SHA-256 (the secret itself has 256 random bits,
    so no slow hash is needed)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
