"""Ingest: fetched records become stored calls, once each, with their history.

- ``values``: a record's call columns (money in euro, deadlines, merged fields of all sources);
- ``index``: recognising a call another source already brought (identifier, URL, fuzzy title);
- ``upsert``: storing one source's records, with history, withdrawals and quarantine;
- ``runs``: fetching every source and recording each run.

Ingest neither matches calls nor touches the inbox: callers go through
``tracker.services.pipeline``, which matches what ingest stored and so refreshes the inbox.
"""

from tracker.services.ingest.runs import (
    SourceOutcome,
    ingest_fetch_result,
    record_failed_run,
    run_fetches,
    source_spec,
)
from tracker.services.ingest.upsert import SOURCE_PRIORITY, IngestStats, upsert_calls
from tracker.services.ingest.values import call_values, record_digest

__all__ = [
    "SOURCE_PRIORITY",
    "IngestStats",
    "SourceOutcome",
    "call_values",
    "ingest_fetch_result",
    "record_digest",
    "record_failed_run",
    "run_fetches",
    "source_spec",
    "upsert_calls",
]
