"""An interreg source from the command line: added, fetched, its calls shown with their
gate and matches; its key never printed."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import TrackerCli
from tests.feeds.conftest import LocalServer, Reply, Seen, fixture_bytes
from tests.feeds.conftest import server as server

KEY = "a1b2c3d4e5f6-search-only-key"
QUERY = "/1/indexes/calls_en/query"


@pytest.fixture
def index(server: LocalServer) -> Iterator[LocalServer]:
    """The two fixture pages of the calls index, behind the key."""
    pages = [fixture_bytes("interreg_page0.json"), fixture_bytes("interreg_page1.json")]

    def answer(seen: Seen) -> Reply:
        if seen.headers.get("x-algolia-api-key") != KEY:
            return Reply(status=403, body=b'{"message":"Invalid Application-ID or API key"}')
        number = 1 if "page=1" in json.loads(seen.body)["params"] else 0
        return Reply(body=pages[number])

    server.routes[QUERY] = answer
    yield server


def _add(runner: TrackerCli, index: LocalServer, name: str, key: str) -> None:
    settings = {
        "app_id": "ABC123",
        "index": "calls_en",
        "api_key": key,
        "read_pages": False,
        "pause_seconds": 0,
    }
    result = runner(
        "sources",
        "add",
        name,
        "--kind",
        "interreg",
        "--url",
        index.url("/1/indexes/{index}/query"),
        "--settings",
        json.dumps(settings),
    )
    assert result.exit_code == 0, result.output


def test_interreg_calls_show_their_gate_and_matches(runner: TrackerCli, index: LocalServer) -> None:
    _add(runner, index, "interreg-eu", KEY)

    fetched = runner("fetch", "interreg-eu")

    assert fetched.exit_code == 0, fetched.output
    listed = json.loads(runner("sources", "list", "--json").output)
    assert listed[0]["settings"]["api_key"] == "********"
    assert KEY not in runner("sources", "list", "--json").output
    calls = {c["title"]: c for c in json.loads(runner("calls", "list", "--json").output)}
    oks_id = next(c["id"] for t, c in calls.items() if t.startswith("Öresund"))
    oks = json.loads(runner("calls", "show", str(oks_id), "--json").output)
    assert oks["gate"]["code"] == "geography.region"
    assert oks["gate"]["reason"].startswith(
        "Interreg Öresund-Kattegat-Skagerrak (ÖKS): the eligible area (Denmark, Norway, Sweden)"
    )
    assert oks["matches"] == []
    assert "SE232" in oks["eligible_area"]["nuts"]

    central_id = next(c["id"] for t, c in calls.items() if t.startswith("Central Baltic 4th"))
    central = json.loads(runner("calls", "show", str(central_id), "--json").output)
    assert central["gate"] is None
    assert central["eligible_applicants"].startswith("Local public authority;")
    for match in central["matches"]:
        assert set(match) == {"area", "score"} and match["score"] >= 0


def test_a_refused_key_fails_the_fetch_with_the_likely_cause(
    runner: TrackerCli, index: LocalServer
) -> None:
    _add(runner, index, "interreg-eu", "a-key-rotated-last-week")

    fetched = runner("fetch", "interreg-eu")

    assert fetched.exit_code == 1
    assert "refused the key (HTTP 403)" in fetched.output and "rotated" in fetched.output
    [source] = json.loads(runner("sources", "list", "--json").output)
    assert "rotated" in source["last_error"]
    assert "a-key-rotated-last-week" not in json.dumps(source) + fetched.output
