"""``tracker fetch [NAME ...]``: fetch sources once, now."""

from __future__ import annotations

import sys
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
    """Fetch the sources NAMES (default: every enabled source) once, now.

    Prints one line per source; exits with status 1 if any source failed.
    """
    from tracker.services.ingest import run_fetches
    from tracker.services.sources import get_source_by_name, http_session, list_sources

    with session_scope(obj.session_factory) as session:
        if names:
            sources = [get_source_by_name(session, name) for name in names]
        else:
            sources = [s for s in list_sources(session) if s.is_enabled]
        targets = [(s.id, s.name) for s in sources]
    if not targets:
        click.echo("no enabled sources to fetch")
        return

    http = http_session(obj.settings)
    rate = Decimal(str(obj.settings.reports.sek_per_eur))
    outcomes: list[SourceOutcome] = []
    if sys.stdout.isatty():
        with click.progressbar(
            length=len(targets),
            label="fetching",
            item_show_func=lambda name: name,
        ) as bar:

            def advance(outcome: SourceOutcome) -> None:
                outcomes.append(outcome)
                bar.update(1, outcome.source)

            run_fetches(
                obj.session_factory,
                [source_id for source_id, _ in targets],
                http=http,
                clock=obj.clock,
                sek_per_eur=rate,
                on_done=advance,
            )
        for outcome in outcomes:
            click.echo(summary_line(outcome))
    else:
        outcomes = run_fetches(
            obj.session_factory,
            [source_id for source_id, _ in targets],
            http=http,
            clock=obj.clock,
            sek_per_eur=rate,
            on_done=lambda outcome: click.echo(summary_line(outcome)),
        )
    if any(o.new or o.updated or o.withdrawn for o in outcomes):
        from tracker.services.matching import match_calls

        with session_scope(obj.session_factory) as session:
            done = match_calls(session, None, now=obj.clock())
        click.echo(
            f"matched {done.calls} new or changed calls: {done.matched} match an area, "
            f"{done.gated} gated"
        )
    if any(outcome.failed for outcome in outcomes):
        sys.exit(1)
