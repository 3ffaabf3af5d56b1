"""`tracker match ...`: match stored calls, classify files, evaluate, learn from decisions,
upgrade an unedited default profile.

The root CLI imports :data:`group`. ``classify`` and ``evaluate`` work on files, with the
profile given by ``--profile``, else the database's active profile, else (an empty or
no database) the default profile. ``run``, ``learn`` and ``upgrade-default`` work on the
database; ``learn --model-out FILE`` trains from the files only.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import click
from click.decorators import FC
from sqlalchemy.exc import SQLAlchemyError

from tracker.cli import CliContext, expected_failures
from tracker.clock import system_clock
from tracker.db import session_scope
from tracker.matching.call import CallInput
from tracker.matching.engine import CompiledProfile, compile_profile, match_call
from tracker.matching.evaluate import cross_validate, evaluate_rules, format_table
from tracker.matching.jsonl import Label, read_calls, read_labels, write_predictions
from tracker.matching.learning import LearnedModel, decisions_from_labels, train
from tracker.matching.profile import Profile, default_profile, load_profile


@click.group(name="match")
def group() -> None:
    """Match funding calls against the strategy profile."""


def _cli_context() -> CliContext | None:
    """The root command's context, when run as `tracker match ...` (not in unit tests)."""
    ctx = click.get_current_context(silent=True)
    return ctx.find_object(CliContext) if ctx is not None else None


def _require_cli_context() -> CliContext:
    obj = _cli_context()
    if obj is None:
        ctx = click.get_current_context()
        obj = ctx.ensure_object(CliContext)
    return obj


def _profile(path: str | None) -> Profile:
    if path:
        try:
            return load_profile(path)
        except ValueError as exc:
            raise click.ClickException(f"invalid profile: {exc}") from exc
    return _database_profile() or default_profile()


def _database_profile() -> Profile | None:
    """The database's active profile, if there is a database with one."""
    obj = _cli_context()
    if obj is None:
        return None
    from tracker.services.strategy import active_profile, profile_of

    try:
        with obj.session_factory() as session:
            row = active_profile(session)
            return profile_of(row) if row is not None else None
    except SQLAlchemyError:
        return None


def _database_model(profile: Profile) -> LearnedModel | None:
    """The database's current learned model, if any and trained for `profile` (says so)."""
    obj = _cli_context()
    if obj is None:
        return None
    from tracker.services.strategy import current_model_row, load_model

    try:
        with obj.session_factory() as session:
            row = current_model_row(session)
            if row is None:
                return None
            model = load_model(row)
            trained_at, count = row.trained_at, row.decision_count
    except (SQLAlchemyError, ValueError):
        return None
    if model.profile_name and model.profile_name != profile.name:
        click.echo(
            f"not using the database's learned model: it was trained for the profile "
            f"{model.profile_name!r}",
            err=True,
        )
        return None
    click.echo(
        f"using the database's learned model (trained {trained_at:%Y-%m-%d %H:%M} on "
        f"{count} decisions; --rules-only to score without it)",
        err=True,
    )
    return model


def _calls(path: str) -> list[CallInput]:
    try:
        return read_calls(path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _labels(paths: tuple[str, ...], profile: Profile) -> dict[str, Label]:
    """The labels of all the files; a call labelled in two files keeps the later label."""
    labels: dict[str, Label] = {}
    for path in paths:
        try:
            labels.update(read_labels(path, known_slugs=profile.slugs))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    return labels


def _model(path: str | None) -> LearnedModel | None:
    if not path:
        return None
    try:
        return LearnedModel.from_dict(json.loads(Path(path).read_text("utf-8")))
    except (OSError, json.JSONDecodeError, ValueError) as exc:
        raise click.ClickException(f"cannot load model {path}: {exc}") from exc


def _now(value: str | None) -> datetime:
    if not value:
        obj = click.get_current_context().find_object(CliContext)
        return (obj.clock if obj else system_clock)()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("expected an ISO 8601 date-time", param_hint="--now") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


profile_option = click.option(
    "--profile",
    "profile_path",
    type=click.Path(dir_okay=False),
    help="Profile file (.toml or .json); else the active profile, else the default one.",
)

labelled_calls_option = click.option(
    "--calls",
    "calls_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The labelled calls' texts (JSON Lines).",
)


def _labels_option(help_text: str) -> Callable[[FC], FC]:
    return click.option(
        "--labels",
        "labels_paths",
        required=True,
        multiple=True,
        type=click.Path(dir_okay=False),
        help=f"{help_text} Repeat to use several files.",
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
    help="A model saved by `match learn --model-out` to adjust the scores "
    "(default: the database's learned model, if there is one).",
)
@click.option(
    "--rules-only", is_flag=True, help="Score with the profile alone, without a learned model."
)
@click.option("--now", "now_value", help="Reference time for the closed-call gate (ISO 8601).")
def classify(
    input_path: str,
    output_path: str,
    profile_path: str | None,
    model_path: str | None,
    rules_only: bool,
    now_value: str | None,
) -> None:
    """Score calls against every focus area; write the matching areas with evidence.

    Uses the database's learned model when there is one (as `match run` does), unless
    --rules-only or --model FILE is given.
    """
    if rules_only and model_path:
        raise click.UsageError("--rules-only and --model exclude each other")
    profile = _profile(profile_path)
    compiled = compile_profile(profile)
    model = _model(model_path)
    if model is None and not rules_only:
        model = _database_model(profile)
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
@_labels_option("Labels as JSON Lines: {id, areas: [slug, ...]}.")
@labelled_calls_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option(
    "--cross-validate",
    "folds",
    type=click.IntRange(min=2),
    help="Also evaluate the learning mode with K-fold cross-validation.",
)
@click.option(
    "--folds-by",
    type=click.Choice(["family", "random"]),
    default="family",
    show_default=True,
    help="Cross-validation folds: whole programme families (calls of one programme never "
    "on both sides), or random calls (flatters learning; for comparison).",
)
@profile_option
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    help="Evaluate rules adjusted by this saved model.",
)
def evaluate(
    labels_paths: tuple[str, ...],
    calls_path: str,
    as_json: bool,
    folds: int | None,
    folds_by: str,
    profile_path: str | None,
    model_path: str | None,
) -> None:
    """Precision, recall and F1 per area and per programme family, micro/macro F1,
    any-area figures, threshold sweep; with --cross-validate, the learning mode too."""
    profile = _profile(profile_path)
    compiled = compile_profile(profile)
    gold = {k: v.areas for k, v in _labels(labels_paths, profile).items()}
    calls = _calls(calls_path)
    if not gold:
        raise click.ClickException(f"{', '.join(labels_paths)}: no labels")
    try:
        rules = evaluate_rules(compiled, calls, gold, model=_model(model_path))
        if rules.figures.calls == 0:
            raise click.ClickException("none of the labelled calls is in the calls file")
        learned = (
            cross_validate(compiled, calls, gold, folds, grouped=folds_by == "family")
            if folds
            else None
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        if learned is None:
            click.echo(json.dumps(rules.to_dict(), indent=2))
        else:
            click.echo(json.dumps({**learned.to_dict(), "rules": rules.to_dict()}, indent=2))
    else:
        click.echo(format_table(rules))
        if learned is not None:
            click.echo("\n")
            click.echo(format_table(learned))


@group.command()
@click.option(
    "--all", "everything", is_flag=True, help="Re-match every call, not only those that need it."
)
@expected_failures
def run(everything: bool) -> None:
    """Match the stored calls: new and changed ones (all of them after a profile change)."""
    from tracker.services.strategy import match_calls

    obj = _require_cli_context()
    with session_scope(obj.session_factory) as session:
        done = match_calls(session, None, now=obj.clock(), everything=everything)
    click.echo(
        f"matched {done.calls} calls in {done.seconds:.1f} s: "
        f"{done.matched} match an area, {done.gated} gated"
    )


@group.command(name="upgrade-default")
@expected_failures
def upgrade_default() -> None:
    """Replace an unedited default profile by the one this tracker ships (never an edited one)."""
    from tracker.services.strategy import DefaultUpgradeOutcome, upgrade_default_profile

    obj = _require_cli_context()
    with session_scope(obj.session_factory) as session:
        done = upgrade_default_profile(session, now=obj.clock())
        version = done.row.version
    if done.outcome is DefaultUpgradeOutcome.EDITED:
        click.echo(
            f"left the strategy profile as it is: version {version} was edited, so a newer "
            "shipped default does not replace it"
        )
    elif done.outcome is DefaultUpgradeOutcome.UP_TO_DATE:
        click.echo(f"the strategy profile (version {version}) is the shipped default already")
    else:
        changes = [
            f"{label}: {', '.join(slugs)}"
            for label, slugs in (
                ("areas added", done.added),
                ("areas changed", done.changed),
                ("areas retired", done.retired),
            )
            if slugs
        ]
        if done.settings_changed:
            changes.append("gates and context changed")
        click.echo(
            f"upgraded the shipped default strategy profile from version {done.previous_version} "
            f"to {version} ({'; '.join(changes)}); the next `tracker match run` re-matches "
            "every call with it"
        )


@group.command()
@_labels_option("Labels as JSON Lines: relevant for the listed areas, not for the others.")
@labelled_calls_option
@click.option(
    "--model-out",
    "model_out",
    type=click.Path(dir_okay=False),
    help="Train from the files only and write the model (JSON) here; no database.",
)
@profile_option
@expected_failures
def learn(
    labels_paths: tuple[str, ...], calls_path: str, model_out: str | None, profile_path: str | None
) -> None:
    """Import labelled calls as staff decisions and retrain the model."""
    calls = {c.id: c for c in _calls(calls_path)}
    if model_out:
        profile = _profile(profile_path)
        labels = _labels(labels_paths, profile)
        known = _known_labels(labels, calls)
        model = _train(compile_profile(profile), calls, known)
        try:
            Path(model_out).write_text(json.dumps(model.to_dict(), indent=1), encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {model_out}: {exc.strerror}") from exc
        click.echo(
            f"trained on {len(known)} labelled calls ({sum(model.counts.values())} decisions); "
            f"model written to {model_out}"
        )
        return

    if profile_path:
        raise click.UsageError("--profile only applies with --model-out (the database has its own)")
    from tracker.services.strategy import (
        ensure_default_profile,
        import_decisions,
        profile_of,
        retrain,
    )

    obj = _require_cli_context()
    with session_scope(obj.session_factory) as session:
        now = obj.clock()
        row = ensure_default_profile(session, now=now)
        labels = _labels(labels_paths, profile_of(row))
        known = _known_labels(labels, calls)
        stored = import_decisions(session, known, calls, actor=None, now=now)
        trained = retrain(session, now=now, force=True)
        used = trained.decision_count if trained is not None else 0
    click.echo(
        f"imported {stored} decisions on {len(known)} calls; model retrained on {used} "
        "decisions (the next `tracker match run` re-matches the calls with it)"
    )


def _known_labels(
    labels: dict[str, Label], calls: dict[str, CallInput]
) -> dict[str, frozenset[str]]:
    """The labels of the calls the calls file holds (an error when it holds none of them)."""
    known = {k: v.areas for k, v in labels.items() if k in calls}
    if not known:
        raise click.ClickException("none of the labelled calls is in the calls file")
    return known


def _train(
    compiled: CompiledProfile, calls: dict[str, CallInput], labels: dict[str, frozenset[str]]
) -> LearnedModel:
    decisions = decisions_from_labels(labels, compiled.profile.slugs)
    return train(compiled, calls, decisions)
