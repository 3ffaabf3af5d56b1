"""``tracker sources ...``: list, add, disable and enable sources of calls."""

from __future__ import annotations

import json
from typing import Any

import click

from tracker.cli import CliContext, expected_failures, pass_context
from tracker.db import session_scope
from tracker.models import SourceKind

KINDS = [kind.value for kind in SourceKind]


@click.group("sources")
def group() -> None:
    """Sources of funding calls."""


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_context
def list_command(obj: CliContext, as_json: bool) -> None:
    """List the sources with their health: last success, last error, next run."""
    from tracker.feeds.registry import masked_settings
    from tracker.services.sources import source_health

    now = obj.clock()
    with session_scope(obj.session_factory) as session:
        rows: list[dict[str, Any]] = []
        for health in source_health(session, now=now):
            source, run = health.source, health.last_run
            rows.append(
                {
                    "name": source.name,
                    "kind": source.kind.value,
                    "url": source.url,
                    "every": source.every,
                    "enabled": source.is_enabled,
                    "settings": masked_settings(source.settings or {}, source.kind),
                    "calls": health.call_count,
                    "quarantined": health.quarantined_count,
                    "last_run": None
                    if run is None
                    else {
                        "status": run.status.value,
                        "started_at": _when(run.started_at),
                        "finished_at": _when(run.finished_at),
                        "new": run.new_count,
                        "updated": run.updated_count,
                        "unchanged": run.unchanged_count,
                        "quarantined": run.quarantined_count,
                        "withdrawn": run.withdrawn_count,
                        "error": run.error,
                        "warnings": run.warnings,
                    },
                    "last_success_at": _when(health.last_success_at),
                    "last_error": health.last_error,
                    "last_error_at": _when(health.last_error_at),
                    "next_run_at": _when(health.next_run_at),
                }
            )
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no sources; add one with `tracker sources add`")
        return
    for row in rows:
        state = "enabled" if row["enabled"] else "disabled"
        last = row["last_run"]["status"] if row["last_run"] else "never fetched"
        click.echo(
            f"{row['name']:<24} {row['kind']:<10} every {row['every']:<4} {state:<8} "
            f"{row['calls']:>6} calls  last: {last}"
        )


@group.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(KINDS), required=True, help="What the source is.")
@click.option("--url", default="", help="Where to fetch (http, https or file://).")
@click.option("--every", default="24h", show_default=True, help="How often: 30m, 6h, 1d ...")
@click.option(
    "--settings",
    "settings_json",
    default="{}",
    help='Adapter settings as JSON, e.g. \'{"programme": "Interreg Central Baltic"}\'.',
)
@click.option("--disabled", is_flag=True, help="Add it switched off.")
@pass_context
@expected_failures
def add_command(
    obj: CliContext,
    name: str,
    kind: str,
    url: str,
    every: str,
    settings_json: str,
    disabled: bool,
) -> None:
    """Add a source named NAME."""
    from tracker.errors import ValidationFailed
    from tracker.services.sources import add_source

    try:
        settings = json.loads(settings_json)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--settings") from None
    if not isinstance(settings, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--settings")
    try:
        with session_scope(obj.session_factory) as session:
            source = add_source(
                session,
                name,
                kind=kind,
                url=url,
                every=every,
                settings=settings,
                enabled=not disabled,
                actor=None,
                now=obj.clock(),
            )
            click.echo(f"added {source.name} ({source.kind.value}, every {source.every})")
    except ValidationFailed as exc:
        details = "; ".join(f"{field}: {text}" for field, text in exc.errors.items())
        raise click.ClickException(f"{exc} {details}".strip()) from None


@group.command("disable")
@click.argument("name")
@pass_context
@expected_failures
def disable_command(obj: CliContext, name: str) -> None:
    """Stop fetching the source NAME (its calls stay)."""
    _set_enabled(obj, name, False)


@group.command("enable")
@click.argument("name")
@pass_context
@expected_failures
def enable_command(obj: CliContext, name: str) -> None:
    """Fetch the source NAME again."""
    _set_enabled(obj, name, True)


def _set_enabled(obj: CliContext, name: str, enabled: bool) -> None:
    from tracker.services.sources import get_source_by_name, set_source_enabled

    with session_scope(obj.session_factory) as session:
        source = get_source_by_name(session, name)
        set_source_enabled(session, source, enabled, actor=None, now=obj.clock())
    click.echo(f"{name} {'enabled' if enabled else 'disabled'}")
