from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from jobs import JOBS, JobContext, JobSpec
from jobs.runtime import make_trigger, run_job_once, scheduled_fire_time
from tracker.config import Settings
from tracker.models import JobLease, JobRun
from tracker.services.leases import acquire_lease, release_lease

T0 = datetime(2026, 11, 23, 6, 0, 0, tzinfo=UTC)


def test_a_lease_is_exclusive_until_released_or_expired(session: Session) -> None:
    ttl = timedelta(minutes=5)
    assert acquire_lease(session, "fetch", "a", now=T0, ttl=ttl)
    assert not acquire_lease(session, "fetch", "b", now=T0 + timedelta(minutes=1), ttl=ttl)
    # The holder may renew its own lease.
    assert acquire_lease(session, "fetch", "a", now=T0 + timedelta(minutes=2), ttl=ttl)
    # A crashed holder's lease expires and another process takes over.
    assert acquire_lease(session, "fetch", "b", now=T0 + timedelta(minutes=8), ttl=ttl)
    release_lease(session, "fetch", "b")
    assert acquire_lease(session, "fetch", "c", now=T0 + timedelta(minutes=8), ttl=ttl)


def test_fire_time_is_the_latest_scheduled_time_not_after_now() -> None:
    trigger = CronTrigger(hour=7, minute=0, day_of_week="mon", timezone="Europe/Stockholm")
    now = datetime(2026, 11, 23, 6, 0, 2, tzinfo=UTC)  # Monday 07:00:02 in Stockholm
    assert scheduled_fire_time(trigger, now, timedelta(hours=1)) == datetime(
        2026, 11, 23, 6, 0, tzinfo=UTC
    )
    assert scheduled_fire_time(trigger, now + timedelta(hours=2), timedelta(hours=1)) is None


def test_run_job_once_runs_each_fire_time_once(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    calls: list[datetime] = []
    spec = JobSpec("count", lambda ctx: calls.append(ctx.scheduled_for), "cron", {"minute": "*"})
    trigger = make_trigger(spec, settings)
    clock = lambda: T0 + timedelta(seconds=5)  # noqa: E731
    assert run_job_once(spec, trigger, settings, session_factory, "a", clock) == "ran"
    assert run_job_once(spec, trigger, settings, session_factory, "b", clock) == "already-ran"
    assert calls == [T0]

    # A failing job is recorded as failed and releases its lease.
    def boom(ctx: JobContext) -> None:
        raise RuntimeError("source down")

    failing = JobSpec("boom", boom, "cron", {"minute": "*"})
    assert (
        run_job_once(
            failing, make_trigger(failing, settings), settings, session_factory, "a", clock
        )
        == "failed"
    )
    run = session.scalars(select(JobRun).where(JobRun.job_name == "boom")).one()
    assert run.status == "failed" and "source down" in (run.error or "")
    lease = session.get(JobLease, "boom")
    assert lease is not None and lease.holder is None


def test_declared_jobs_have_valid_triggers(settings: Settings) -> None:
    names = [spec.name for spec in JOBS]
    assert len(names) == len(set(names))
    for spec in JOBS:
        make_trigger(spec, settings)


PERIOD = 2  # seconds between the test job's fire times (tests/scheduler_jobs.py)


def test_two_scheduler_processes_run_each_fire_time_exactly_once(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    job_name = f"tick-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[app]\nsecret_key = "x"\n[database]\nurl = "{database_url}"\n', encoding="utf-8"
    )
    env = dict(
        os.environ, TRACKER_TEST_JOB_NAME=job_name, PYTHONPATH=str(Path(__file__).parent.parent)
    )
    # CI also runs the suite under libfaketime (clock moved ahead); its timed waits stall
    # APScheduler's threads, and this test is about processes sharing fire times, not dates.
    for variable in ("LD_PRELOAD", "FAKETIME", "DYLD_INSERT_LIBRARIES"):
        env.pop(variable, None)
    command = [
        sys.executable,
        "-m",
        "tracker",
        "--config",
        str(config),
        "scheduler",
        "--jobs",
        "tests.scheduler_jobs:JOBS",
    ]
    # Logs go to files: a pipe that nobody reads fills up and blocks the scheduler.
    logs = [tmp_path / f"scheduler-{i}.log" for i in range(2)]
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
        for log in logs
    ]
    try:
        # Until both have run a few fire times (start-up is slow on a loaded machine).
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            time.sleep(1)
            with Session(engine) as session:
                count = session.scalar(
                    select(func.count()).select_from(JobRun).where(JobRun.job_name == job_name)
                )
            if (count or 0) >= 6:
                break
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            process.wait(timeout=20)
    try:
        with Session(engine) as session:
            runs = list(session.scalars(select(JobRun).where(JobRun.job_name == job_name)))
        fire_times = sorted(run.scheduled_for for run in runs)
        assert len(fire_times) >= 4, [log.read_text()[-2000:] for log in logs]
        assert len(fire_times) == len(set(fire_times)), "a fire time ran twice"
        # No gaps between the first and last fire time: every fire time (every two seconds)
        # ran once, in one process or the other.
        span = int((fire_times[-1] - fire_times[0]).total_seconds()) // PERIOD + 1
        assert span == len(fire_times), fire_times
        assert all(run.status == "succeeded" for run in runs if run.finished_at is not None)
    finally:
        with engine.begin() as connection:
            connection.execute(delete(JobRun).where(JobRun.job_name == job_name))
            connection.execute(delete(JobLease).where(JobLease.name == job_name))
