"""``tracker offices ...``: add and list offices without the admin pages, so a fresh install
can take users and a project log from the command line."""

from __future__ import annotations

import json

import click

from tracker.cli import CliContext, expected_failures, pass_context
from tracker.db import session_scope


@click.group("offices")
def group() -> None:
    """Offices (kontor, förvaltningar)."""


@group.command("add")
@click.argument("slug")
@click.option("--name-sv", required=True, help="Swedish name.")
@click.option("--name-en", default="", help="English name (default: the Swedish name).")
@click.option("--mailbox", default=None, help="The office's shared mailbox (email address).")
@pass_context
@expected_failures
def add_command(
    obj: CliContext, slug: str, name_sv: str, name_en: str, mailbox: str | None
) -> None:
    """Create the office SLUG (lower-case letters, digits and dashes)."""
    from tracker.services.offices import create_office

    with session_scope(obj.session_factory) as session:
        office = create_office(
            session, slug, name_sv=name_sv, name_en=name_en, shared_mailbox=mailbox, now=obj.clock()
        )
        click.echo(f"created office {office.slug} ({office.name_sv})")


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_context
def list_command(obj: CliContext, as_json: bool) -> None:
    """List the offices, open and closed."""
    from tracker.services.offices import list_offices

    with session_scope(obj.session_factory) as session:
        rows = [
            {
                "slug": office.slug,
                "name_sv": office.name_sv,
                "name_en": office.name_en,
                "mailbox": office.shared_mailbox,
                "active": office.is_active,
            }
            for office in list_offices(session)
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        closed = "" if row["active"] else "  (closed)"
        click.echo(f"{row['slug']:<24} {row['name_sv']}{closed}")
