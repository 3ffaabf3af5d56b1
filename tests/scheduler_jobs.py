"""A job list for the two-process scheduler test: one job firing every second that takes a
while, so that two schedulers would overlap if the lease did not keep them apart."""

from __future__ import annotations

import os
import time

from jobs import JobContext, JobSpec


def _slow_tick(ctx: JobContext) -> None:
    time.sleep(0.4)


JOBS = [
    JobSpec(
        name=os.environ.get("TRACKER_TEST_JOB_NAME", "test-tick"),
        run=_slow_tick,
        trigger="cron",
        trigger_args={"second": "*"},
    )
]
