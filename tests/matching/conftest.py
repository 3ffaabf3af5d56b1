"""Fixtures for the matching engine tests: the default profile, compiled once."""

from __future__ import annotations

import os
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


def samples_dir() -> Path:
    """The shared real payloads (../shared/samples), or TRACKER_SAMPLES_DIR."""
    default = Path(__file__).resolve().parents[2].parent / "shared" / "samples"
    return Path(os.environ.get("TRACKER_SAMPLES_DIR", str(default)))
