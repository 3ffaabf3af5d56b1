"""The ``tracker`` command line. Exit status: 0 ok, 1 failure, 2 usage error. Expected
failures print one line, not a traceback."""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, wraps
from pathlib import Path
from typing import Any, TypeVar, cast

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tracker.clock import Clock, system_clock
from tracker.config import ConfigError, Settings, config_path, ensure_config_file, load_settings
from tracker.db import make_engine, make_session_factory, session_scope
from tracker.errors import TrackerError
from tracker.paths import absolute

F = TypeVar("F", bound=Callable[..., Any])

# Modules whose ``group`` (a click group) joins the root command; areas append theirs.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "tracker.cli.sources",
    "tracker.cli.fetch",
    "tracker.cli.calls",
    "tracker.cli.projects",
    "tracker.cli.report",
    "tracker.cli.match",
    "tracker.cli.digest",
    "tracker.cli.inbox",
    "tracker.cli.offices",
)


@dataclass
class CliContext:
    """Settings and database handles, made on first use so ``--help`` needs no config."""

    config_file: Path | None = None
    clock: Clock = system_clock
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            path = self.config_file or config_path()
            if self.config_file is None and ensure_config_file(path):
                click.echo(f"Created {path} from config.example.toml", err=True)
            self._settings = load_settings(path)
        return self._settings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database.url, echo=self.settings.database.echo)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)


pass_context = click.make_pass_decorator(CliContext, ensure=True)


def expected_failures(func: F) -> F:
    """Turn domain and configuration errors into a one-line message and exit status 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ConfigError, TrackerError) as exc:
            raise click.ClickException(str(exc)) from None

    return cast(F, wrapper)


class _Root(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigError, TrackerError) as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Root)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config file (default: $TRACKER_CONFIG, or config.toml in the instance folder).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
@click.pass_context
def main(ctx: click.Context, config_file: Path | None, verbose: bool) -> None:
    """EU funding opportunity tracker."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if isinstance(ctx.obj, CliContext):  # given by a caller that owns the clock (tests)
        ctx.obj.config_file = config_file
    else:
        ctx.obj = CliContext(config_file=config_file)


# --- database -------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database migrations."""


@contextlib.contextmanager
def _migration_errors() -> Iterator[None]:
    """Alembic's own errors (an unknown revision, say) as one line instead of a traceback."""
    from alembic.util import CommandError

    try:
        yield
    except CommandError as exc:
        raise click.ClickException(str(exc)) from None


@db.command("upgrade")
@click.argument("revision", default="head")
@pass_context
def db_upgrade(obj: CliContext, revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from tracker.migrate import upgrade

    with _migration_errors():
        upgrade(obj.settings.database.url, revision)
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
@pass_context
def db_downgrade(obj: CliContext, revision: str) -> None:
    """Revert migrations down to REVISION (``base`` removes every table)."""
    from tracker.migrate import downgrade

    with _migration_errors():
        downgrade(obj.settings.database.url, revision)
    click.echo(f"database at {revision}")


@db.command("current")
@pass_context
def db_current(obj: CliContext) -> None:
    """Print the revision the database is at."""
    from tracker.migrate import current_revision

    click.echo(current_revision(obj.settings.database.url) or "empty")


# --- setup, web and scheduler ---------------------------------------------------------------


@main.command()
@pass_context
def setup(obj: CliContext) -> None:
    """Apply migrations, load the defaults and create a first admin if there is none."""
    _setup(obj)


def _setup(obj: CliContext) -> None:
    from tracker.migrate import upgrade
    from tracker.services.bootstrap import ensure_first_admin, load_defaults

    upgrade(obj.settings.database.url, "head")
    with session_scope(obj.session_factory) as session:
        now = obj.clock()
        load_defaults(session, obj.settings, now=now)
        created = ensure_first_admin(session, now=now)
    if created is not None:
        user, password = created
        click.echo("")
        click.echo("A first administrator was created. Its password is shown only this once:")
        click.echo(f"  email:    {user.email}")
        click.echo(f"  password: {password}")
        click.echo("")


@main.command()
@click.option("--host", default=None, help="Address to listen on (default from config).")
@click.option("--port", type=int, default=None, help="Port (default from config).")
@pass_context
def web(obj: CliContext, host: str | None, port: int | None) -> None:
    """Serve the web application only (for production: gunicorn -c python:tracker.gunicorn_conf)."""
    _announce_instance(obj)
    _serve(obj, host, port)


def _serve(obj: CliContext, host: str | None, port: int | None) -> None:
    from werkzeug.serving import run_simple

    from tracker.app import create_app, settle_startup_heap

    app = create_app(obj.settings)
    settle_startup_heap()
    with _sigterm_as_interrupt(), contextlib.suppress(KeyboardInterrupt):
        run_simple(
            host or obj.settings.web.host,
            port or obj.settings.web.port,
            app,
            threaded=True,
            use_reloader=False,
        )


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let SIGTERM stop a command the way Ctrl-C does, so its clean-up runs. (Python's default
    for SIGTERM ends the process at once, which left ``tracker run``'s scheduler behind.)"""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _announce_instance(obj: CliContext) -> None:
    click.echo(f"instance folder: {obj.settings.instance_path}", err=True)


@main.command()
@click.option(
    "--jobs",
    "jobs_ref",
    default="jobs:JOBS",
    show_default=True,
    help="Where the job list is (module:attribute).",
)
@pass_context
def scheduler(obj: CliContext, jobs_ref: str) -> None:
    """Run the scheduler process (one or more beside the web workers)."""
    runtime = importlib.import_module("jobs.runtime")
    specs = runtime.load_jobs(jobs_ref)
    sched = runtime.build_scheduler(obj.settings, obj.session_factory, specs)
    _announce_instance(obj)
    click.echo(f"scheduler running {len(specs)} jobs; Ctrl-C stops it", err=True)
    try:
        with _sigterm_as_interrupt(), contextlib.suppress(KeyboardInterrupt, SystemExit):
            sched.start()
    finally:
        if sched.running:
            sched.shutdown(wait=False)


@main.command()
@click.option("--host", default=None, help="Address to listen on (default from config).")
@click.option("--port", type=int, default=None, help="Port (default from config).")
@pass_context
def run(obj: CliContext, host: str | None, port: int | None) -> None:
    """Set up, then serve the web app with a scheduler process beside it (Ctrl-C or SIGTERM
    stops both)."""
    _setup(obj)
    _announce_instance(obj)
    env = dict(os.environ)
    env["TRACKER_CONFIG"] = str(absolute(obj.config_file or config_path()))
    env["TRACKER_INSTANCE"] = str(obj.settings.instance_path)
    child = None
    try:
        with _sigterm_as_interrupt():
            if obj.settings.scheduler.enabled:
                child = subprocess.Popen([sys.executable, "-m", "tracker", "scheduler"], env=env)
            click.echo(
                f"serving on http://{host or obj.settings.web.host}:"
                f"{port or obj.settings.web.port}",
                err=True,
            )
            _serve(obj, host, port)
    except KeyboardInterrupt:
        pass
    finally:
        if child is not None:
            _stop_child(child)


def _stop_child(child: subprocess.Popen[bytes]) -> None:
    """Ask the scheduler to stop, and kill it if it has not within 10 seconds. A second
    Ctrl-C or SIGTERM meanwhile must not cut this short and leave it running."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if child.poll() is None:
        child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


# --- backups --------------------------------------------------------------------------------


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_context
@expected_failures
def backup(obj: CliContext, file: Path) -> None:
    """Write a backup of the database to FILE: an SQLite copy made while the app runs, or a
    pg_dump archive (custom format) for PostgreSQL. Restore with ``tracker restore FILE``."""
    from tracker.backup import backup_database

    backup_database(obj.settings.database.url, file)
    click.echo(f"backup written to {file} ({file.stat().st_size} bytes)")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
@pass_context
@expected_failures
def restore(obj: CliContext, file: Path, yes: bool) -> None:
    """Replace everything in the database with the backup FILE. Stop the web server and the
    scheduler first; run ``tracker db upgrade`` afterwards if FILE is from an older release."""
    from tracker.backup import restore_database

    if not yes:
        click.confirm(f"Replace everything in the database with {file}?", abort=True)
    restore_database(obj.settings.database.url, file)
    click.echo(f"database restored from {file}")


# --- users ----------------------------------------------------------------------------------


@main.group()
def users() -> None:
    """Accounts."""


@users.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "editor", "viewer"]), required=True)
@click.option("--office", "office_slug", default=None, help="Slug of the user's office.")
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--language", type=click.Choice(["sv", "en"]), default="sv", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_context
@expected_failures
def users_add(
    obj: CliContext,
    email: str,
    role: str,
    office_slug: str | None,
    display_name: str,
    language: str,
    password_stdin: bool,
) -> None:
    """Create a user; without --password-stdin a password is generated and printed once."""
    from tracker.models import Role
    from tracker.security import generate_password
    from tracker.services.users import create_user, get_office_by_slug

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else generate_password()
    with session_scope(obj.session_factory) as session:
        office = get_office_by_slug(session, office_slug) if office_slug else None
        user = create_user(
            session,
            email,
            password=password,
            role=Role(role),
            office=office,
            display_name=display_name,
            language=language,
            now=obj.clock(),
        )
        click.echo(f"created {user.email} ({role})")
    if not password_stdin:
        click.echo(f"password: {password}")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_context
def users_list(obj: CliContext, as_json: bool) -> None:
    """List the users."""
    from tracker.services.users import list_users

    with session_scope(obj.session_factory) as session:
        rows = [
            {
                "id": u.id,
                "email": u.email,
                "name": u.display_name,
                "role": u.role.value,
                "office": u.office.slug if u.office else None,
                "language": u.language,
                "active": u.is_active,
            }
            for u in list_users(session)
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"{row['email']:<40} {row['role']:<7} {row['office'] or '-'}")


@users.command("ical-url")
@click.argument("email")
@pass_context
@expected_failures
def users_ical_url(obj: CliContext, email: str) -> None:
    """Print the address of EMAIL's personal deadline calendar (iCalendar feed)."""
    from tracker.errors import NotFound
    from tracker.i18n import msg
    from tracker.services.calendar import feed_url
    from tracker.services.users import get_user_by_email

    with session_scope(obj.session_factory) as session:
        user = get_user_by_email(session, email)
        if user is None:
            raise NotFound(msg("no user with email %(email)s", email=email))
        click.echo(feed_url(obj.settings.mail.base_url, user))


for _module in SUBCOMMAND_MODULES:
    main.add_command(importlib.import_module(_module).group)
