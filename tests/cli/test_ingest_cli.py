"""``tracker sources``, ``tracker fetch`` and ``tracker calls`` as users script them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import TrackerCli
from tests.feeds.conftest import fixture_bytes


def _file(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(fixture_bytes(name))
    return path.as_uri()


def test_sources_add_list_disable(runner: TrackerCli, tmp_path: Path) -> None:
    result = runner(
        "sources",
        "add",
        "interreg-cb",
        "--kind",
        "rss",
        "--url",
        "https://example.org/feed",
        "--every",
        "6h",
        "--settings",
        '{"programme": "Interreg Central Baltic"}',
    )
    assert result.exit_code == 0, result.output
    assert "added interreg-cb (rss, every 6h)" in result.output

    rows = json.loads(runner("sources", "list", "--json").output)
    assert [(r["name"], r["kind"], r["every"], r["enabled"]) for r in rows] == [
        ("interreg-cb", "rss", "6h", True)
    ]
    assert rows[0]["settings"] == {"programme": "Interreg Central Baltic"}
    assert rows[0]["last_run"] is None and rows[0]["next_run_at"]

    assert runner("sources", "disable", "interreg-cb").exit_code == 0
    rows = json.loads(runner("sources", "list", "--json").output)
    assert rows[0]["enabled"] is False and rows[0]["next_run_at"] is None


def test_sources_add_refuses_bad_input_in_one_line(runner: TrackerCli) -> None:
    result = runner("sources", "add", "x", "--kind", "rss", "--url", "ftp://example.org/feed")
    assert result.exit_code == 1
    assert "http://, https:// or file://" in result.output
    assert "Traceback" not in result.output
    assert runner("sources", "add", "x", "--kind", "telepathy").exit_code == 2
    assert runner("sources", "disable", "nope").exit_code == 1


def test_fetch_prints_a_line_per_source_and_fails_if_one_failed(
    runner: TrackerCli, tmp_path: Path
) -> None:
    runner(
        "sources",
        "add",
        "eu-search",
        "--kind",
        "ft-search",
        "--url",
        _file(tmp_path, "sedia_search.json"),
    )
    runner(
        "sources",
        "add",
        "vinnova",
        "--kind",
        "vinnova",
        "--url",
        _file(tmp_path, "vinnova_rounds.json"),
    )
    runner("sources", "add", "gone", "--kind", "rss", "--url", (tmp_path / "missing.xml").as_uri())

    result = runner("fetch")

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("eu-search: ok") and "6 new" in line for line in lines)
    assert any(line.startswith("vinnova: ok") and "5 new" in line for line in lines)
    assert any(
        line.startswith("gone: FAILED") and "cannot read local file" in line for line in lines
    )

    again = runner("fetch", "eu-search", "vinnova")
    assert again.exit_code == 0, again.output
    assert "0 new, 0 updated, 6 unchanged" in again.output

    health = {r["name"]: r for r in json.loads(runner("sources", "list", "--json").output)}
    assert health["gone"]["last_error"] and health["eu-search"]["last_success_at"]
    assert health["eu-search"]["quarantined"] == 1


def test_fetch_unknown_source(runner: TrackerCli) -> None:
    result = runner("fetch", "nowhere")
    assert result.exit_code == 1
    assert "no source named nowhere" in result.output


def test_calls_import_dry_run_then_import(runner: TrackerCli, tmp_path: Path) -> None:
    sheet = tmp_path / "calls.csv"
    sheet.write_bytes(fixture_bytes("manual_calls.csv"))

    dry = runner("calls", "import", str(sheet), "--dry-run")
    assert dry.exit_code == 1  # the sheet has bad rows
    assert "would import 3 of 6 rows: 3 new" in dry.output
    assert "row 6, column url" in dry.output
    assert json.loads(runner("calls", "list", "--json").output) == []

    real = runner("calls", "import", str(sheet))
    assert "imported 3 of 6 rows: 3 new" in real.output
    calls = json.loads(runner("calls", "list", "--json").output)
    assert len(calls) == 3
    assert {c["sources"][0] for c in calls} == {"manual"}


def test_calls_list_and_show(runner: TrackerCli, tmp_path: Path) -> None:
    runner(
        "sources",
        "add",
        "eu-search",
        "--kind",
        "ft-search",
        "--url",
        _file(tmp_path, "sedia_search.json"),
    )
    runner("fetch")

    calls = json.loads(runner("calls", "list", "--json").output)
    assert len(calls) == 6
    expected = {
        "id",
        "identifier",
        "title",
        "programme",
        "status",
        "opens_at",
        "deadlines",
        "deadline_model",
        "url",
        "budget_total_eur",
        "sources",
        "updated_at",
    }
    assert all(expected <= set(c) for c in calls)
    topic = next(c for c in calls if c["identifier"] == "HORIZON-CL6-2027-01-CIRCBIO-04")
    assert topic["budget_total_eur"] == "12000000"
    assert topic["sources"] == ["eu-search"]
    assert topic["deadlines"] == ["2027-02-17T16:00:00+00:00"]  # 17:00 Brussels
    assert topic["deadline_model"] == "single-stage"

    statuses = {c["status"] for c in calls}
    closed = json.loads(runner("calls", "list", "--json", "--status", "closed").output)
    assert {c["status"] for c in closed} == {"closed"} and "closed" in statuses
    assert (
        json.loads(runner("calls", "list", "--json", "--changed-since", "2099-01-01").output) == []
    )

    shown = json.loads(runner("calls", "show", str(topic["id"]), "--json").output)
    assert shown["title"] == topic["title"]
    assert "bio-based pilots" in shown["description"]
    assert shown["history"] == []
    by_identifier = json.loads(
        runner("calls", "show", "horizon-cl6-2027-01-circbio-04", "--json").output
    )
    assert by_identifier["id"] == topic["id"]
    assert runner("calls", "show", "999999").exit_code == 1
