"""``tracker projects``: import and export the participation log, list it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tracker.cli import CliContext, expected_failures, pass_context
from tracker.db import session_scope
from tracker.errors import NotFound
from tracker.i18n import msg
from tracker.models import ProjectStatus, User
from tracker.services.project_import import (
    export_projects,
    import_projects,
    list_for_export,
    read_table,
)
from tracker.services.projects import find_office, list_projects, project_as_dict
from tracker.services.users import get_user_by_email


@click.group("projects")
def group() -> None:
    """Projects: the municipality's participation log."""


@group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option(
    "--as",
    "actor_email",
    default=None,
    help="Email of the user the audit log records as the importer.",
)
@pass_context
@expected_failures
def import_command(obj: CliContext, file: Path, dry_run: bool, actor_email: str | None) -> None:
    """Import projects from FILE (.csv or .xlsx), one per row; all rows or none."""
    table = read_table(file.read_bytes(), file.name)
    with session_scope(obj.session_factory) as session:
        actor: User | None = None
        if actor_email:
            actor = get_user_by_email(session, actor_email)
            if actor is None:
                raise NotFound(msg("no user with email %(email)s", email=actor_email))
        result = import_projects(session, table, actor=actor, now=obj.clock(), dry_run=dry_run)
        if result.extra_columns:
            click.echo(f"ignored column(s): {', '.join(result.extra_columns)}", err=True)
        if result.missing_columns:
            click.echo(f"column(s) not in the file: {', '.join(result.missing_columns)}", err=True)
        if result.errors:
            for error in result.errors:
                click.echo(str(error), err=True)
            click.echo(f"nothing imported: {len(result.errors)} error(s)", err=True)
            raise click.exceptions.Exit(1)  # leaves session_scope by rolling back
    summary = (
        f"{len(result.created)} created, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged, {len(result.new_partners)} new partner(s)"
    )
    if dry_run:
        click.echo(f"dry run, nothing written: {summary}")
    else:
        click.echo(f"imported {result.rows} row(s): {summary}")


@group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@pass_context
@expected_failures
def export_command(obj: CliContext, file: Path) -> None:
    """Write every project to FILE (.csv or .xlsx) in the shape the import reads."""
    with session_scope(obj.session_factory) as session:
        projects = list_for_export(session)
        data = export_projects(projects, file.name)
    file.write_bytes(data)
    click.echo(f"exported {len(projects)} project(s) to {file}")


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array with every field.")
@click.option("--status", type=click.Choice([s.value for s in ProjectStatus]), default=None)
@click.option("--office", "office_key", default=None, help="Short name of the lead office.")
@click.option("--year", type=int, default=None, help="Submitted in this year.")
@pass_context
@expected_failures
def list_command(
    obj: CliContext, as_json: bool, status: str | None, office_key: str | None, year: int | None
) -> None:
    """List the projects, latest submission first."""
    with session_scope(obj.session_factory) as session:
        office_id = None
        if office_key:
            office = find_office(session, office_key)
            if office is None:
                raise NotFound(msg("no office with slug %(slug)r", slug=office_key))
            office_id = office.id
        projects = list_projects(
            session,
            status=ProjectStatus(status) if status else None,
            office_id=office_id,
            year=year,
        )
        rows = [project_as_dict(p) for p in projects]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['id']:>5} {row['status']:<10} {row['submitted_on'] or '-':<10} "
            f"{row['lead_office']:<16} {row['title']}"
        )
