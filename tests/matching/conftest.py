"""Fixtures for the matching engine tests: the default profile, compiled once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.matching.engine import CompiledProfile, compile_profile
from tracker.matching.profile import Profile, default_profile

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "matching"


@pytest.fixture(scope="session")
def profile() -> Profile:
    return default_profile()


@pytest.fixture(scope="session")
def compiled(profile: Profile) -> CompiledProfile:
    return compile_profile(profile)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES
