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
    """Rebuild every inbox entry and every entry of the catalogue of all calls from the calls,
    their deadlines and matches (to repair: fetches, imports and profile edits keep both up
    to date themselves)."""
    from tracker.services.catalogue_entries import refresh_catalogue_entries
    from tracker.services.inbox import refresh_inbox_entries

    with session_scope(obj.session_factory) as session:
        listed = refresh_catalogue_entries(session, None)
        count = refresh_inbox_entries(session, None, now=obj.clock())
    click.echo(f"{count} calls in the inbox, {listed} in the catalogue")


@group.command("reindex")
@pass_context
@expected_failures
def reindex(obj: CliContext) -> None:
    """Rebuild the search index of every call (its texts as Swedish and English stems), after
    a change of the search glossary or to repair."""
    from tracker.services.search import refresh_search_terms

    with session_scope(obj.session_factory) as session:
        count = refresh_search_terms(session, None, now=obj.clock())
    click.echo(f"{count} calls indexed for search")
