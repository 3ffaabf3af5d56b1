"""A job list for the two-process scheduler test: one job firing every two seconds that takes
a while, so that two schedulers would overlap if the lease did not keep them apart (and a
loaded machine still has time for the lease and run records between fire times)."""

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
        trigger_args={"second": "*/2"},
    )
]
