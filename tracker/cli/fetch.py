"""``tracker fetch [NAME ...]``: fetch sources once, now."""

from __future__ import annotations

import sys
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

import click

from tracker.cli import CliContext, expected_failures, pass_context
from tracker.db import session_scope

if TYPE_CHECKING:
    from tracker.services.ingest import SourceOutcome


def summary_line(outcome: SourceOutcome) -> str:
    """One line per source: what the fetch did, or why it failed."""
    if outcome.failed:
        return f"{outcome.source}: FAILED ({outcome.seconds:.1f}s): {outcome.error}"
    if outcome.status.value == "not_modified":
        return f"{outcome.source}: not modified ({outcome.seconds:.1f}s)"
    line = (
        f"{outcome.source}: ok ({outcome.seconds:.1f}s): {outcome.new} new, "
        f"{outcome.updated} updated, {outcome.unchanged} unchanged, "
        f"{outcome.quarantined} quarantined, {outcome.withdrawn} withdrawn"
    )
    for warning in outcome.warnings:
        line += f"\n  warning: {warning}"
    return line


@click.command("fetch")
@click.argument("names", nargs=-1)
@pass_context
@expected_failures
def group(obj: CliContext, names: tuple[str, ...]) -> None:
    """Fetch the sources NAMES (default: every enabled source) once, now, then match what
    they brought and refresh the inbox (the same pipeline as the scheduled job).

    Prints one line per source; exits with status 1 if any source failed.
    """
    from tracker.services.pipeline import PipelineRun, run_pipeline
    from tracker.services.sources import get_source_by_name, http_session, list_sources

    with session_scope(obj.session_factory) as session:
        if names:
            sources = [get_source_by_name(session, name) for name in names]
        else:
            sources = [s for s in list_sources(session) if s.is_enabled]
        source_ids = [s.id for s in sources]
    if not source_ids:
        click.echo("no enabled sources to fetch")
        return

    def pipeline(on_done: Callable[[SourceOutcome], None]) -> PipelineRun:
        return run_pipeline(
            obj.session_factory,
            source_ids,
            http=http_session(obj.settings),
            clock=obj.clock,
            in_zone=obj.settings.tz,
            sek_per_eur=Decimal(str(obj.settings.reports.sek_per_eur)),
            on_done=on_done,
        )

    if sys.stdout.isatty():
        with click.progressbar(
            length=len(source_ids), label="fetching", item_show_func=lambda name: name
        ) as bar:
            run = pipeline(lambda outcome: bar.update(1, outcome.source))
        for outcome in run.outcomes:
            click.echo(summary_line(outcome))
    else:
        run = pipeline(lambda outcome: click.echo(summary_line(outcome)))
    if run.matching is not None:
        done = run.matching
        click.echo(
            f"matched {done.calls} new or changed calls: {done.matched} match an area, "
            f"{done.gated} gated; the inbox is up to date"
        )
    if run.failed:
        sys.exit(1)
