"""The real job list with every job firing every few seconds, for the soak test."""

from __future__ import annotations

from dataclasses import replace

from jobs import JOBS as REAL_JOBS

# Seconds between fire times; several jobs share fire times on purpose (2, 4 and 6 s).
EVERY = {
    "fetch-sources": 2,
    "match-calls": 4,
    "digest-retry": 2,
    "weekly-digest": 6,
    "prune-login-attempts": 4,
    "retrain-matching": 6,
}

JOBS = [
    replace(spec, trigger="interval", trigger_args={"seconds": EVERY.get(spec.name, 5)})
    for spec in REAL_JOBS
]
