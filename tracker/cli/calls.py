"""``tracker calls ...``: import calls from a sheet, list calls, show one call."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from tracker.calltime import CallStatus
from tracker.cli import CliContext, expected_failures, pass_context
from tracker.db import session_scope
from tracker.feeds.dates import parse_iso_utc

STATUS_CHOICES = [status.value for status in CallStatus]


@click.group("calls")
def group() -> None:
    """Funding calls."""


def _since(value: str, in_zone: ZoneInfo) -> datetime:
    """A date (midnight, local time) or an ISO 8601 date and time."""
    try:
        moment = parse_iso_utc(value, naive_zone=in_zone)
    except ValueError:
        moment = None
    if moment is None:
        raise click.BadParameter(
            "use a date (2026-09-01) or a date and time (2026-09-01T08:00:00+02:00)",
            param_hint="--changed-since",
        )
    return moment


@group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--source",
    "source_name",
    default="manual",
    show_default=True,
    help="The manual source the calls belong to (created if missing).",
)
@click.option("--dry-run", is_flag=True, help="Check the sheet and report; write nothing.")
@pass_context
@expected_failures
def import_command(obj: CliContext, file: Path, source_name: str, dry_run: bool) -> None:
    """Import calls from FILE (.csv or .xlsx).

    Columns (first row; any case): title (required), id, identifier, language, title_en,
    title_sv, programme, programme_code, call_identifier, call_title, type_of_action, url,
    opens, deadlines (separated by ;), deadline_model, summary, description, region,
    eligible_applicants, max_eu_rate_pct or cofinancing_pct, budget_total, min_grant,
    max_grant, expected_grants, currency (default SEK), keywords, tags. Dates are in
    [app] timezone: 2026-09-30 or 2026-09-30 14:00. Rows with errors are listed and
    skipped; the exit status is 1 when any row had an error. The imported calls are matched
    and in the inbox when the command ends.
    """
    from tracker.feeds.errors import FetchError
    from tracker.services.calls import import_calls, manual_source

    content = file.read_bytes()
    rate = Decimal(str(obj.settings.reports.sek_per_eur))
    session = obj.session_factory()
    try:
        source = manual_source(session, source_name, now=obj.clock())
        outcome = import_calls(
            session,
            source,
            content,
            filename=file.name,
            now=obj.clock(),
            sek_per_eur=rate,
            in_zone=obj.settings.tz,
        )
        if dry_run:
            session.rollback()
        else:
            session.commit()
    except FetchError as exc:
        session.rollback()
        raise click.ClickException(f"{file.name}: {exc}") from None
    finally:
        session.close()
    sheet, stats = outcome.sheet, outcome.stats
    for warning in sheet.warnings:
        click.echo(f"warning: {warning}", err=True)
    for error in sheet.errors:
        click.echo(f"{file.name}: {error}", err=True)
    verb = "would import" if dry_run else "imported"
    click.echo(
        f"{verb} {len(sheet.records)} of {sheet.rows} rows: {stats.new} new, "
        f"{stats.updated} updated, {stats.unchanged} unchanged"
        + (f"; {len(sheet.errors)} error(s)" if sheet.errors else "")
    )
    if sheet.errors:
        sys.exit(1)


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of every call.")
@click.option("--status", type=click.Choice(STATUS_CHOICES), help="Only calls in this state.")
@click.option(
    "--changed-since",
    "changed_since",
    metavar="DATE",
    help="Only calls changed on or after DATE (2026-09-01 in [app] timezone, or ISO 8601).",
)
@pass_context
@expected_failures
def list_command(
    obj: CliContext, as_json: bool, status: str | None, changed_since: str | None
) -> None:
    """List calls (all of them; no paging)."""
    from tracker.services.calls import list_calls

    since = _since(changed_since, obj.settings.tz) if changed_since else None
    with session_scope(obj.session_factory) as session:
        rows = list_calls(session, now=obj.clock(), status=status, changed_since=since)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        deadline = row["deadlines"][-1][:10] if row["deadlines"] else "-"
        click.echo(
            f"{row['id']:>6}  {row['status']:<11} {deadline:<10}  "
            f"{(row['identifier'] or '-')[:40]:<40}  {row['title'][:70]}"
        )


@group.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
@expected_failures
def show_command(obj: CliContext, reference: str, as_json: bool) -> None:
    """Show one call (by id or identifier) with its description and change history.

    With --json, also its current matches (area, score) and its gate ({"code", "reason"},
    or null when no gate keeps it out of the inbox).
    """
    from tracker.services.calls import call_details, find_call

    with session_scope(obj.session_factory) as session:
        details = call_details(session, find_call(session, reference), now=obj.clock())
    if as_json:
        click.echo(json.dumps(details, ensure_ascii=False, indent=2))
        return
    click.echo(f"#{details['id']} {details['identifier'] or ''}  [{details['status']}]")
    click.echo(details["title"])
    if details["programme"]:
        click.echo(f"programme: {details['programme']}")
    for deadline in details["deadline_details"]:
        click.echo(f"deadline:  {deadline['at']}  {deadline['stage'] or ''}")
    if details["url"]:
        click.echo(f"url:       {details['url']}")
    click.echo(f"sources:   {', '.join(details['sources']) or '-'}")
    for match in details["matches"]:
        click.echo(f"matches:   {match['area']} ({match['score']:.0f})")
    if details["gate"]:
        click.echo(f"gated:     {details['gate']['code']}: {details['gate']['reason']}")
    if details["description"]:
        click.echo("")
        click.echo(details["description"])
    if details["history"]:
        click.echo("")
        click.echo("history:")
        for change in details["history"]:
            click.echo(
                f"  {change['changed_at']}  {change['field']}: {change['old']} -> {change['new']}"
            )
