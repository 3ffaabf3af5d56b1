"""`tracker match classify|evaluate|learn` through click's CliRunner."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.conftest import TrackerCli
from tests.factories import make_call
from tracker.cli.match import group
from tracker.models import CallMatch, FundingCall, MatchDecision, MatchModel


def test_classify_writes_one_line_per_call(fixtures_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "pred.jsonl"
    result = CliRunner().invoke(
        group, ["classify", "--input", str(fixtures_dir / "calls.jsonl"), "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(lines) == 8
    by_id = {p["id"]: p for p in lines}
    heat = by_id["FIX-LIFE-HEAT"]
    assert heat["gated"] is None
    assert [a["slug"] for a in heat["areas"]] == ["energy-environment"]
    area = heat["areas"][0]
    assert 50 <= area["score"] <= 100
    assert any(e["kind"] == "term" and e["snippet"] for e in area["evidence"])
    assert by_id["FIX-EDF-TANK"]["areas"] == []
    assert "Östergötland" in by_id["FIX-INTERREG-CZPL"]["gated"]
    assert by_id["FIX-INTERREG-CZPL"]["areas"] == []
    assert "classified 8 calls" in result.output


def test_classify_with_a_profile_file(fixtures_dir: Path, tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(
        'name = "music only"\n[[areas]]\nslug = "music"\nname_sv = "Musik"\nname_en = "Music"\n'
        'threshold = 40\n[[areas.terms]]\nweight = 3\ntexts = ["music", "festivals"]\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        group,
        [
            "classify",
            "--input",
            str(fixtures_dir / "calls.jsonl"),
            "--output",
            "-",
            "--profile",
            str(profile),
        ],
    )
    assert result.exit_code == 0, result.output
    preds = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    matched = {p["id"] for p in preds if p["areas"]}
    assert matched == {"FIX-CREA-MUSIC"}


def test_evaluate_prints_a_table_or_json(fixtures_dir: Path) -> None:
    args = [
        "evaluate",
        "--labels",
        str(fixtures_dir / "labels.jsonl"),
        "--calls",
        str(fixtures_dir / "calls.jsonl"),
    ]
    table = CliRunner().invoke(group, args)
    assert table.exit_code == 0, table.output
    assert "micro" in table.output and "relevant to any area" in table.output
    as_json = CliRunner().invoke(group, [*args, "--json"])
    data = json.loads(as_json.output)
    assert data["micro"]["f1"] == 1.0
    assert {a["slug"] for a in data["areas"]} >= {"education", "culture-music"}
    assert len(data["threshold_sweep"]) == 9
    cv = CliRunner().invoke(group, [*args, "--json", "--cross-validate", "2"])
    assert cv.exit_code == 0, cv.output
    assert json.loads(cv.output)["mode"] == "cross-validation"


def test_learn_writes_a_model_that_classify_uses(fixtures_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "model.json"
    result = CliRunner().invoke(
        group,
        [
            "learn",
            "--labels",
            str(fixtures_dir / "labels.jsonl"),
            "--calls",
            str(fixtures_dir / "calls.jsonl"),
            "--model-out",
            str(model),
        ],
    )
    assert result.exit_code == 0, result.output
    saved = json.loads(model.read_text("utf-8"))
    assert saved["counts"]["education"] == 6  # 8 labelled calls, 2 of them gated
    out = CliRunner().invoke(
        group,
        [
            "classify",
            "--input",
            str(fixtures_dir / "calls.jsonl"),
            "--output",
            "-",
            "--model",
            str(model),
        ],
    )
    assert out.exit_code == 0, out.output


def test_errors_are_one_line_messages_with_exit_codes(fixtures_dir: Path, tmp_path: Path) -> None:
    missing = CliRunner().invoke(
        group, ["classify", "--input", str(tmp_path / "nope.jsonl"), "--output", "-"]
    )
    assert missing.exit_code == 1
    assert "Error: cannot read" in missing.output and "Traceback" not in missing.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "title": "x"}\nnot json\n', encoding="utf-8")
    broken = CliRunner().invoke(group, ["classify", "--input", str(bad), "--output", "-"])
    assert broken.exit_code == 1 and ":2: not valid JSON" in broken.output
    usage = CliRunner().invoke(group, ["classify", "--input", str(bad)])
    assert usage.exit_code == 2
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"id": "FIX-EDF-TANK", "areas": ["no-such-area"]}\n', encoding="utf-8")
    unknown = CliRunner().invoke(
        group, ["evaluate", "--labels", str(labels), "--calls", str(fixtures_dir / "calls.jsonl")]
    )
    assert unknown.exit_code == 1 and "unknown area 'no-such-area'" in unknown.output


def test_run_and_learn_on_the_database(
    runner: TrackerCli, fixtures_dir: Path, engine: Engine
) -> None:
    """`tracker match run` matches stored calls; `learn` stores decisions and a model."""
    with Session(engine) as session:
        make_call(
            session,
            title="Town twinning for active citizenship",
            programme_label="Citizens, Equality, Rights and Values Programme (CERV)",
            description_text="Municipalities bring citizens of twinned towns together.",
            # Fetched before the CLI's clock (the suite's NOW).
            first_seen_at=datetime(2026, 1, 1, tzinfo=UTC),
            updated_at=datetime(2026, 1, 1, tzinfo=UTC),
            deadlines=[datetime(2099, 1, 1, tzinfo=UTC)],
        )
        session.commit()

    first = runner("match", "run")
    assert first.exit_code == 0, first.output
    assert "matched 1 calls" in first.output and "1 match an area" in first.output
    again = runner("match", "run")
    assert "matched 0 calls" in again.output
    everything = runner("match", "run", "--all")
    assert "matched 1 calls" in everything.output

    runner.clock.advance(timedelta(minutes=1))
    learned = runner(
        "match",
        "learn",
        "--labels",
        str(fixtures_dir / "labels.jsonl"),
        "--calls",
        str(fixtures_dir / "calls.jsonl"),
    )
    assert learned.exit_code == 0, learned.output
    assert "imported 72 decisions on 8 calls" in learned.output
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(MatchDecision)) == 72
        assert session.scalar(select(func.count()).select_from(MatchModel)) == 1
        assert session.scalar(select(func.count()).select_from(CallMatch)) == 9
        assert session.scalar(select(func.count()).select_from(FundingCall)) == 1
    # The new model, learned after those runs, makes every call due again.
    assert "matched 1 calls" in runner("match", "run").output


def test_classify_rules_only_and_a_model_file_exclude_each_other(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        group,
        [
            "classify",
            "--input",
            str(fixtures_dir / "calls.jsonl"),
            "--output",
            "-",
            "--rules-only",
            "--model",
            str(tmp_path / "model.json"),
        ],
    )
    assert result.exit_code != 0
    assert "exclude each other" in result.output
