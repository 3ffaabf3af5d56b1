"""`tracker match ...`: classify calls, evaluate against labels, learn from decisions.

The root CLI imports :data:`group`. Every command works from files with the default
profile (or one given with ``--profile``); none needs the database.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from tracker.matching.call import CallInput
from tracker.matching.engine import CompiledProfile, compile_profile, match_call
from tracker.matching.evaluate import cross_validate, evaluate_rules, format_table
from tracker.matching.jsonl import Label, read_calls, read_labels, write_predictions
from tracker.matching.learning import LearnedModel, decisions_from_labels, train
from tracker.matching.profile import Profile, default_profile, load_profile


@click.group(name="match")
def group() -> None:
    """Match funding calls against the strategy profile."""


def _profile(path: str | None) -> Profile:
    try:
        return load_profile(path) if path else default_profile()
    except ValueError as exc:
        raise click.ClickException(f"invalid profile: {exc}") from exc


def _calls(path: str) -> list[CallInput]:
    try:
        return read_calls(path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _labels(path: str, profile: Profile) -> dict[str, Label]:
    try:
        return read_labels(path, known_slugs=profile.slugs)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _model(path: str | None) -> LearnedModel | None:
    if not path:
        return None
    try:
        return LearnedModel.from_dict(json.loads(Path(path).read_text("utf-8")))
    except (OSError, json.JSONDecodeError, ValueError) as exc:
        raise click.ClickException(f"cannot load model {path}: {exc}") from exc


def _now(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("expected an ISO 8601 date-time", param_hint="--now") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


profile_option = click.option(
    "--profile",
    "profile_path",
    type=click.Path(dir_okay=False),
    help="Profile file (.toml or .json); the default profile when omitted.",
)


@group.command()
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Calls as JSON Lines: {id, title, programme, text}.",
)
@click.option(
    "--output",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Where to write predictions (JSON Lines); '-' for standard output.",
)
@profile_option
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    help="A model saved by `match learn --model-out` to adjust the scores.",
)
@click.option("--now", "now_value", help="Reference time for the closed-call gate (ISO 8601).")
def classify(
    input_path: str,
    output_path: str,
    profile_path: str | None,
    model_path: str | None,
    now_value: str | None,
) -> None:
    """Score calls against every focus area; write the matching areas with evidence."""
    compiled = compile_profile(_profile(profile_path))
    model = _model(model_path)
    calls = _calls(input_path)
    now = _now(now_value)
    results = [match_call(compiled, c, now=now, model=model) for c in calls]
    try:
        if output_path == "-":
            count = write_predictions(sys.stdout, results)
        else:
            with open(output_path, "w", encoding="utf-8") as out:
                count = write_predictions(out, results)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output_path}: {exc.strerror}") from exc
    matched = sum(1 for r in results if r.matches)
    gated = sum(1 for r in results if r.gate is not None)
    click.echo(f"classified {count} calls: {matched} match an area, {gated} gated", err=True)


@group.command()
@click.option(
    "--labels",
    "labels_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Labels as JSON Lines: {id, areas: [slug, ...]}.",
)
@click.option(
    "--calls",
    "calls_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The labelled calls' texts (JSON Lines).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option(
    "--cross-validate",
    "folds",
    type=click.IntRange(min=2),
    help="Evaluate the learning mode with K-fold cross-validation.",
)
@profile_option
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    help="Evaluate rules adjusted by this saved model.",
)
def evaluate(
    labels_path: str,
    calls_path: str,
    as_json: bool,
    folds: int | None,
    profile_path: str | None,
    model_path: str | None,
) -> None:
    """Precision, recall and F1 per area, micro/macro F1, any-area figures, threshold sweep."""
    profile = _profile(profile_path)
    compiled = compile_profile(profile)
    gold = {k: v.areas for k, v in _labels(labels_path, profile).items()}
    calls = _calls(calls_path)
    if not gold:
        raise click.ClickException(f"{labels_path} has no labels")
    try:
        if folds:
            report = cross_validate(compiled, calls, gold, folds)
        else:
            report = evaluate_rules(compiled, calls, gold, model=_model(model_path))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if report.figures.calls == 0:
        raise click.ClickException("none of the labelled calls is in the calls file")
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(format_table(report))


@group.command()
@click.option(
    "--labels",
    "labels_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Labels as JSON Lines: relevant for the listed areas, not for the others.",
)
@click.option(
    "--calls",
    "calls_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The labelled calls' texts (JSON Lines).",
)
@click.option(
    "--model-out",
    "model_out",
    type=click.Path(dir_okay=False),
    help="Write the trained model (JSON) to this file.",
)
@profile_option
def learn(
    labels_path: str, calls_path: str, model_out: str | None, profile_path: str | None
) -> None:
    """Import labelled calls as staff decisions and retrain the model."""
    if not model_out:
        raise click.UsageError(
            "give --model-out FILE (storing decisions in the database comes with it)"
        )
    profile = _profile(profile_path)
    compiled = compile_profile(profile)
    labels = _labels(labels_path, profile)
    calls = {c.id: c for c in _calls(calls_path)}
    known = {k: v.areas for k, v in labels.items() if k in calls}
    if not known:
        raise click.ClickException("none of the labelled calls is in the calls file")
    model = _train(compiled, calls, known)
    try:
        Path(model_out).write_text(json.dumps(model.to_dict(), indent=1), encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {model_out}: {exc.strerror}") from exc
    click.echo(
        f"trained on {len(known)} labelled calls ({sum(model.counts.values())} decisions); "
        f"model written to {model_out}"
    )


def _train(
    compiled: CompiledProfile, calls: dict[str, CallInput], labels: dict[str, frozenset[str]]
) -> LearnedModel:
    decisions = decisions_from_labels(labels, compiled.profile.slugs)
    return train(compiled, calls, decisions)
