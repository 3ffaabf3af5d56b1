"""The real call texts the partner-rule labels refer to, read from ../shared/samples.

SEDIA topics and Euro-Access rows come from ``real_calls.jsonl`` (their description); for the
Euro-Access rows the scraped "project partnership" and "eligible entities" fields of the SQL
dump are the call's conditions and eligible applicants, as a source with such fields gives them.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from tracker.partners.rules import CallText

_COLUMNS = (
    "source_id, source_url, title, title_mk, description, description_mk, deadline, days_left, "
    "url, type, tags, content_hash, raw_html, created_at, updated_at, funding_program, "
    "call_number, call_objectives, regions_countries_for_funding, eligible_entities, "
    "mandatory_partnership, project_partnership, topics, un_sdgs, additional_information, contact"
)
_LABEL_PREFIX = re.compile(r"^(?:Project Partnership|eligible entities)\s*", re.I)


def _euro_access_fields(path: Path) -> dict[str, tuple[str, str]]:
    """(conditions, eligible applicants) by ``euro-access:<id>``."""
    if not path.is_file():
        return {}
    db = sqlite3.connect(":memory:")
    db.create_function("NOW", 0, lambda: "")
    db.execute(f"CREATE TABLE euro_access_grants ({_COLUMNS}, UNIQUE (content_hash))")
    db.executescript(path.read_text(encoding="utf-8"))
    out: dict[str, tuple[str, str]] = {}
    for url, partnership, entities in db.execute(
        "SELECT url, project_partnership, eligible_entities FROM euro_access_grants"
    ):
        match = re.search(r"/calls/(\d+)/", url or "")
        if match:
            out[f"euro-access:{match.group(1)}"] = (
                _LABEL_PREFIX.sub("", partnership or ""),
                _LABEL_PREFIX.sub("", entities or ""),
            )
    return out


def load_call_texts(samples: Path) -> dict[str, CallText]:
    """Every call of real_calls.jsonl as the partner-rule reader sees it."""
    extra = _euro_access_fields(samples / "euro_access_calls_dump_2025-10.sql")
    calls: dict[str, CallText] = {}
    with (samples / "real_calls.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            conditions, applicants = extra.get(row["id"], ("", ""))
            calls[row["id"]] = CallText(
                description=row.get("text") or "",
                conditions=conditions,
                eligible_applicants=applicants,
                programme=row.get("programme") or "",
            )
    return calls
