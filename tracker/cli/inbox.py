"""``tracker inbox``: keep the review inbox's derived entries in step with calls and matches."""

from __future__ import annotations

import click

from tracker.cli import CliContext, expected_failures, pass_context
from tracker.db import session_scope


@click.group("inbox")
def group() -> None:
    """The review inbox."""


@group.command("refresh")
@pass_context
@expected_failures
def refresh(obj: CliContext) -> None:
    """Rebuild every inbox entry from the calls, their deadlines and matches (to repair:
    fetches, imports and profile edits keep the inbox up to date themselves)."""
    from tracker.services.inbox import refresh_inbox_entries

    with session_scope(obj.session_factory) as session:
        count = refresh_inbox_entries(session, None, now=obj.clock())
    click.echo(f"{count} calls in the inbox")
