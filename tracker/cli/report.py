"""``tracker report``: the figures the strategy asks for, as JSON, text or a table file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tracker.cli import CliContext, expected_failures, pass_context
from tracker.db import session_scope
from tracker.errors import ValidationFailed
from tracker.i18n import msg
from tracker.services.financing import rate_from_settings
from tracker.services.reports import FIGURE_KEYS, compute_report, report_csv, write_report_xlsx

# The report's figures as the files hold them, but non-EU co-financing as a share only
# (the amount is in --json and the files), then the delegations received.
SUMMARY_KEYS = (*(k for k in FIGURE_KEYS if k != "non_eu_cofinancing_eur"), "delegations")


@click.command("report")
@click.option("--json", "as_json", is_flag=True, help="Print every figure as JSON.")
@click.option("--year", type=int, default=None, help="Projects submitted in this year.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Also write the figures to a .csv or .xlsx file.",
)
@pass_context
@expected_failures
def group(obj: CliContext, as_json: bool, year: int | None, output: Path | None) -> None:
    """Applications, awards, EU grants, own contribution and leverage, per programme,
    office, focus area and year, and the delegations received (amounts in EUR)."""
    if output is not None and output.suffix.lower() not in (".csv", ".xlsx"):
        raise ValidationFailed(msg("the output file must end in .csv or .xlsx"))
    rate = rate_from_settings(obj.settings.reports.sek_per_eur)
    with session_scope(obj.session_factory) as session:
        report = compute_report(session, year=year, sek_per_eur=rate)
    if output is not None:
        if output.suffix.lower() == ".csv":
            output.write_text(report_csv(report), encoding="utf-8")
        else:
            write_report_xlsx(report, output)
    data = report.as_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"Projects submitted in {year if year is not None else 'all years'}")
    for key in SUMMARY_KEYS:
        value = data[key]
        click.echo(f"  {key:<30} {'-' if value is None else value}")
    if data["by_programme"]:
        click.echo("By programme (applications / awarded):")
        for programme, figures in data["by_programme"].items():
            click.echo(f"  {programme:<40} {figures['applications']} / {figures['awarded']}")
