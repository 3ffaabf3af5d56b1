"""Co-financing: the funders and their rules, each project's co-financing plan, and the
checks that tell an officer whether the plan holds.

The plan of a project finances the municipality's part of it. The EU grant to the
municipality (a field of the project) covers part of that budget; the lines of the plan
(own municipal budget, region, agencies, foundations, ...) are meant to cover the rest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.calltime import local_day
from tracker.errors import NotFound, ValidationFailed
from tracker.i18n import Message, msg
from tracker.models import (
    CoFinancingLine,
    ConsortiumDraft,
    Contribution,
    Currency,
    Funder,
    FunderKind,
    LineStatus,
    OrganisationKind,
    Project,
    Source,
    User,
)
from tracker.services.audit import record_event
from tracker.services.consortia import ConsortiumBudget, consortium_budget
from tracker.services.fields import (
    FieldError,
    clean,
    is_web_url,
    parse_amount,
    parse_choice,
    parse_date,
    parse_rate,
)
from tracker.services.projects import apply_changes, to_json

CENT = Decimal("0.01")


# --- money ----------------------------------------------------------------------------------


def convert(amount: Decimal, source: Currency, target: Currency, sek_per_eur: Decimal) -> Decimal:
    """``amount`` in ``target`` currency (unrounded; round when showing)."""
    if source is target:
        return amount
    if source is Currency.SEK:
        return amount / sek_per_eur
    return amount * sek_per_eur


def to_eur(amount: Decimal | None, currency: Currency, sek_per_eur: Decimal) -> Decimal:
    return convert(amount or Decimal(0), currency, Currency.EUR, sek_per_eur)


def rate_from_settings(sek_per_eur: float) -> Decimal:
    return Decimal(str(sek_per_eur))


# --- funders --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunderData:
    name: str
    kind: FunderKind
    programmes: tuple[str, ...] = ()
    typical_max_rate: Decimal | None = None
    municipalities_may_apply: bool = True
    requires_civil_society_partner: bool = False
    excludes_ordinary_municipal_tasks: bool = False
    forbids_double_eu_funding: bool = False
    rules_text: str = ""
    url: str | None = None
    source_id: int | None = None
    is_active: bool = True

    def column_values(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["programmes"] = list(self.programmes)
        return values


FUNDER_FLAGS = (
    "municipalities_may_apply",
    "requires_civil_society_partner",
    "excludes_ordinary_municipal_tasks",
    "forbids_double_eu_funding",
    "is_active",
)


def read_funder_form(raw: Mapping[str, str]) -> FunderData:
    """A ``FunderData`` from the funder form; flags are checkboxes (absent = off)."""
    errors: dict[str, str] = {}
    kind = FunderKind.PRIVATE
    rate = None
    try:
        kind = parse_choice(raw.get("kind", ""), FunderKind)
    except FieldError as exc:
        errors["kind"] = exc.message
    try:
        rate = parse_rate(raw.get("typical_max_rate"))
    except FieldError as exc:
        errors["typical_max_rate"] = exc.message
    source_text = clean(raw.get("source_id"))
    if source_text and not source_text.isdecimal():
        errors["source_id"] = msg("choose from the list")
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)
    programmes = tuple(
        dict.fromkeys(p.strip() for p in clean(raw.get("programmes")).splitlines() if p.strip())
    )
    return FunderData(
        name=clean(raw.get("name")),
        kind=kind,
        programmes=programmes,
        typical_max_rate=rate,
        rules_text=clean(raw.get("rules_text")),
        url=clean(raw.get("url")) or None,
        source_id=int(source_text) if source_text else None,
        **{flag: clean(raw.get(flag)) in ("1", "on", "true", "yes") for flag in FUNDER_FLAGS},
    )


def _check_funder(session: Session, data: FunderData, existing: Funder | None) -> None:
    errors: dict[str, str] = {}
    if not data.name:
        errors["name"] = msg("a name is required")
    elif len(data.name) > 200:
        errors["name"] = msg("at most %(count)d characters", count=200)
    else:
        # Compared in Python: SQLite's lower() leaves Å, Ä and Ö alone.
        wanted = data.name.casefold()
        funders = session.scalars(select(Funder))
        twin = next((f for f in funders if f.name.casefold() == wanted), None)
        if twin is not None and twin is not existing:
            errors["name"] = msg("a funder named %(name)s already exists", name=data.name)
    if data.url and not is_web_url(data.url):
        errors["url"] = msg("a link must start with http:// or https://")
    if data.source_id is not None and session.get(Source, data.source_id) is None:
        errors["source_id"] = msg("choose from the list")
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)


def create_funder(
    session: Session, data: FunderData, *, actor: User | None, now: datetime
) -> Funder:
    """Register a co-financing source (audited)."""
    _check_funder(session, data, None)
    funder = Funder(**data.column_values(), created_at=now, updated_at=now)
    session.add(funder)
    session.flush()
    record_event(
        session,
        "funder.created",
        "funder",
        funder.id,
        actor=actor,
        now=now,
        details={"name": funder.name, "kind": funder.kind.value},
    )
    return funder


def update_funder(
    session: Session, funder: Funder, data: FunderData, *, actor: User | None, now: datetime
) -> dict[str, list[Any]]:
    """Change a funder's description or rules; returns (and audits) what changed."""
    _check_funder(session, data, funder)
    changes = apply_changes(funder, data.column_values())
    if changes:
        funder.updated_at = now
        session.flush()
        record_event(
            session,
            "funder.updated",
            "funder",
            funder.id,
            actor=actor,
            now=now,
            details={"changes": changes},
        )
    return changes


def get_funder(session: Session, funder_id: int) -> Funder:
    funder = session.get(Funder, funder_id)
    if funder is None:
        raise NotFound(msg("no funder with id %(id)s", id=funder_id))
    return funder


def list_funders(session: Session, *, active_only: bool = False) -> list[Funder]:
    query = select(Funder)
    if active_only:
        query = query.where(Funder.is_active)
    return list(session.scalars(query.order_by(func.lower(Funder.name))))


# --- lines of a plan ------------------------------------------------------------------------


@dataclass(frozen=True)
class LineData:
    funder_id: int
    amount: Decimal
    currency: Currency = Currency.EUR
    contribution: Contribution = Contribution.CASH
    status: LineStatus = LineStatus.ASKED
    decision_body: str = ""
    meeting_on: date | None = None
    applicant_id: int | None = None
    note: str = ""


def read_line_form(raw: Mapping[str, str]) -> LineData:
    """A ``LineData`` from the co-financing line form."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "decision_body": clean(raw.get("decision_body")),
        "note": clean(raw.get("note")),
    }
    funder = clean(raw.get("funder_id"))
    if not funder.isdecimal():
        errors["funder_id"] = msg("choose a funder")
    values["funder_id"] = int(funder) if funder.isdecimal() else 0
    try:
        values["amount"] = parse_amount(raw.get("amount"), lenient=True)
        if values["amount"] is None or values["amount"] == 0:
            errors["amount"] = msg("an amount above zero is required")
    except FieldError as exc:
        errors["amount"] = exc.message
    for key, choice_type in (
        ("currency", Currency),
        ("contribution", Contribution),
        ("status", LineStatus),
    ):
        try:
            values[key] = parse_choice(raw.get(key, ""), choice_type)
        except FieldError as exc:
            errors[key] = exc.message
    try:
        values["meeting_on"] = parse_date(raw.get("meeting_on"))
    except FieldError as exc:
        errors["meeting_on"] = exc.message
    applicant = clean(raw.get("applicant_id"))
    if applicant and not applicant.isdecimal():
        errors["applicant_id"] = msg("choose from the list")
    values["applicant_id"] = int(applicant) if applicant.isdecimal() else None
    if errors:
        raise ValidationFailed("; ".join(errors.values()), errors)
    return LineData(**values)


def _check_line(
    session: Session, project: Project, data: LineData, existing: CoFinancingLine | None
) -> Funder:
    errors: dict[str, str] = {}
    funder = session.get(Funder, data.funder_id)
    if funder is None:
        errors["funder_id"] = msg("choose a funder")
    elif not funder.is_active and (existing is None or existing.funder_id != funder.id):
        errors["funder_id"] = msg("%(funder)s is no longer in use", funder=funder.name)
    if data.amount <= 0:
        errors["amount"] = msg("an amount above zero is required")
    partner_ids = {p.organisation_id for p in project.partners}
    if data.applicant_id is not None and data.applicant_id not in partner_ids:
        errors["applicant_id"] = msg("the applicant must be one of the project's partners")
    if len(data.decision_body) > 300:
        errors["decision_body"] = msg("at most %(count)d characters", count=300)
    if errors or funder is None:
        raise ValidationFailed("; ".join(errors.values()), errors)
    return funder


def _line_details(line: CoFinancingLine) -> dict[str, Any]:
    return {
        "line": line.id,
        "funder": line.funder.name,
        "amount": str(line.amount),
        "currency": line.currency.value,
        "contribution": line.contribution.value,
        "status": line.status.value,
        "meeting_on": to_json(line.meeting_on),
    }


def add_line(
    session: Session, project: Project, data: LineData, *, actor: User | None, now: datetime
) -> CoFinancingLine:
    """Add a line to the project's co-financing plan (audited on the project)."""
    funder = _check_line(session, project, data, None)
    line = CoFinancingLine(**dataclasses.asdict(data), created_at=now, updated_at=now)
    project.lines.append(line)
    line.funder = funder
    project.updated_at = now
    session.flush()
    record_event(
        session,
        "project.line_added",
        "project",
        project.id,
        actor=actor,
        now=now,
        details=_line_details(line),
    )
    return line


def get_line(project: Project, line_id: int) -> CoFinancingLine:
    line = next((line for line in project.lines if line.id == line_id), None)
    if line is None:
        raise NotFound(msg("no co-financing line %(id)s in this project", id=line_id))
    return line


def update_line(
    session: Session,
    project: Project,
    line: CoFinancingLine,
    data: LineData,
    *,
    actor: User | None,
    now: datetime,
) -> dict[str, list[Any]]:
    """Change a line (its status as decisions come in, its amount, ...); audited."""
    funder = _check_line(session, project, data, line)
    changes = apply_changes(line, dataclasses.asdict(data))
    if not changes:
        return {}
    line.funder = funder
    line.updated_at = now
    project.updated_at = now
    session.flush()
    record_event(
        session,
        "project.line_changed",
        "project",
        project.id,
        actor=actor,
        now=now,
        details={"line": line.id, "funder": funder.name, "changes": changes},
    )
    return changes


def remove_line(
    session: Session,
    project: Project,
    line: CoFinancingLine,
    *,
    actor: User | None,
    now: datetime,
) -> None:
    details = _line_details(line)
    project.lines.remove(line)
    project.updated_at = now
    session.flush()
    record_event(
        session,
        "project.line_removed",
        "project",
        project.id,
        actor=actor,
        now=now,
        details=details,
    )


# --- checking a plan ------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A rule a plan breaks (``breach``) or something to look at (``warning``)."""

    severity: Literal["breach", "warning"]
    code: str
    message: Message
    line_id: int | None = None


@dataclass(frozen=True)
class Coverage:
    """How far the EU grant and the lines go towards the municipality's budget, in the
    project's currency."""

    currency: Currency
    municipality_budget: Decimal | None
    eu_grant: Decimal
    own_contribution: Decimal  # the municipality's own money (cash and in kind), decided
    own_counted: Decimal  # the part of it not already in a line of the own budget
    lines_total: Decimal
    secured_total: Decimal
    covered: Decimal
    secured_covered: Decimal

    @property
    def gap(self) -> Decimal | None:
        """What is missing (negative when the plan holds more than the budget)."""
        if self.municipality_budget is None:
            return None
        return (self.municipality_budget - self.covered).quantize(CENT, ROUND_HALF_UP)

    @property
    def is_covered(self) -> bool | None:
        gap = self.gap
        return None if gap is None else gap <= 0

    @property
    def percent(self) -> Decimal | None:
        if not self.municipality_budget:
            return None
        return (self.covered * 100 / self.municipality_budget).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )

    @property
    def secured_percent(self) -> Decimal | None:
        if not self.municipality_budget:
            return None
        return (self.secured_covered * 100 / self.municipality_budget).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )


@dataclass(frozen=True)
class FinancingPlan:
    coverage: Coverage
    findings: tuple[Finding, ...]
    consortium: ConsortiumBudget | None = None  # the call's consortium draft, with shares

    @property
    def breaches(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "breach"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def for_line(self, line_id: int) -> list[Finding]:
        return [f for f in self.findings if f.line_id == line_id]


def call_deadline(project: Project, *, now: datetime) -> datetime | None:
    """The deadline of the project's call that the plan must meet: the next one, or the
    last one when all have passed."""
    call = project.call
    if call is None or not call.deadlines:
        return None
    return call.next_deadline(now) or max(d.deadline_at for d in call.deadlines)


def check_financing_plan(
    project: Project,
    *,
    sek_per_eur: Decimal,
    now: datetime,
    tz: ZoneInfo,
    draft: ConsortiumDraft | None = None,
) -> FinancingPlan:
    """Coverage of the municipality's budget, each funder's rules checked against the
    project, decisions that come too late for the call's deadline, and the partners and
    budget shares of the call's consortium ``draft``."""
    currency = project.currency
    eu_grant = project.eu_grant or Decimal(0)
    # The project's own contribution is money towards the budget like any funder's line:
    # it counts once, as its own line, without being typed again as a line of the plan.
    own = project.own_contribution
    lines_total = Decimal(0)
    secured_total = Decimal(0)
    own_in_lines = Decimal(0)
    for line in project.lines:
        amount = convert(line.amount, line.currency, currency, sek_per_eur)
        lines_total += amount
        if line.funder is not None and line.funder.kind is FunderKind.OWN_BUDGET:
            own_in_lines += amount
        if line.is_secured:
            secured_total += amount
    # Money typed as a line of the own budget is the same money: counted once.
    own_counted = max(Decimal(0), own - own_in_lines)
    coverage = Coverage(
        currency=currency,
        municipality_budget=project.municipality_budget,
        eu_grant=eu_grant,
        own_contribution=own.quantize(CENT, ROUND_HALF_UP),
        own_counted=own_counted.quantize(CENT, ROUND_HALF_UP),
        lines_total=lines_total.quantize(CENT, ROUND_HALF_UP),
        secured_total=secured_total.quantize(CENT, ROUND_HALF_UP),
        covered=(eu_grant + own_counted + lines_total).quantize(CENT, ROUND_HALF_UP),
        secured_covered=(eu_grant + own_counted + secured_total).quantize(CENT, ROUND_HALF_UP),
    )
    findings = [*_coverage_findings(coverage)]
    for line in project.lines:
        findings.extend(_rule_findings(project, line, sek_per_eur))
    findings.extend(_deadline_findings(project, now=now, tz=tz))
    consortium = consortium_budget(draft, project) if draft is not None else None
    if consortium is not None:
        findings.extend(Finding(f.severity, f.code, f.message) for f in consortium.findings)
    return FinancingPlan(coverage=coverage, findings=tuple(findings), consortium=consortium)


def _coverage_findings(coverage: Coverage) -> list[Finding]:
    gap = coverage.gap
    unit = coverage.currency.value
    if gap is None:
        return [
            Finding(
                "warning",
                "budget_missing",
                msg("enter the municipality's budget to see whether the plan covers it"),
            )
        ]
    if gap > 0:
        return [
            Finding(
                "warning",
                "not_covered",
                msg(
                    "the EU grant, the own contribution and the lines cover %(covered)s of the "
                    "municipality's budget "
                    "of %(budget)s %(currency)s: %(gap)s %(currency)s is missing",
                    covered=coverage.covered,
                    budget=coverage.municipality_budget,
                    gap=gap,
                    currency=unit,
                ),
            )
        ]
    if gap < 0:
        return [
            Finding(
                "warning",
                "over_covered",
                msg(
                    "the EU grant and the lines exceed the municipality's budget by "
                    "%(excess)s %(currency)s",
                    excess=-gap,
                    currency=unit,
                ),
            )
        ]
    return []


def _rule_findings(project: Project, line: CoFinancingLine, sek_per_eur: Decimal) -> list[Finding]:
    funder = line.funder
    name = funder.name
    found: list[Finding] = []
    if not funder.municipalities_may_apply and line.applicant is None:
        found.append(
            Finding(
                "breach",
                "municipality_not_eligible",
                msg(
                    "%(funder)s does not accept applications from municipalities: a partner "
                    "must apply (name the applying partner on the line)",
                    funder=name,
                ),
                line.id,
            )
        )
    if funder.requires_civil_society_partner:
        civil_society = [p for p in project.partners if p.organisation.kind is OrganisationKind.NGO]
        if not civil_society:
            found.append(
                Finding(
                    "breach",
                    "civil_society_partner_missing",
                    msg(
                        "%(funder)s requires a civil-society partner (an association or other "
                        "NGO), and the project has none among its partners",
                        funder=name,
                    ),
                    line.id,
                )
            )
    if funder.excludes_ordinary_municipal_tasks and project.covers_ordinary_municipal_tasks:
        found.append(
            Finding(
                "breach",
                "ordinary_municipal_task",
                msg(
                    "%(funder)s does not fund ordinary municipal tasks, and this project is "
                    "marked as covering them",
                    funder=name,
                ),
                line.id,
            )
        )
    if funder.forbids_double_eu_funding:
        other_eu = sorted(
            {
                other.funder.name
                for other in project.lines
                if other is not line and other.funder.is_eu and other.funder is not funder
            }
        )
        if project.eu_grant:
            found.append(
                Finding(
                    "breach",
                    "double_eu_funding",
                    msg(
                        "%(funder)s is EU money and cannot co-finance costs that the project's "
                        "EU grant already pays for (no double EU funding of the same cost)",
                        funder=name,
                    ),
                    line.id,
                )
            )
        elif other_eu:
            found.append(
                Finding(
                    "breach",
                    "double_eu_funding",
                    msg(
                        "%(funder)s is EU money and cannot be combined with %(others)s for the "
                        "same costs (no double EU funding of the same cost)",
                        funder=name,
                        others=", ".join(other_eu),
                    ),
                    line.id,
                )
            )
    if funder.typical_max_rate is not None and project.municipality_budget:
        amount = convert(line.amount, line.currency, project.currency, sek_per_eur)
        share = (amount * 100 / project.municipality_budget).quantize(Decimal("0.1"), ROUND_HALF_UP)
        if share > funder.typical_max_rate:
            found.append(
                Finding(
                    "warning",
                    "above_typical_rate",
                    msg(
                        "%(funder)s usually covers at most %(rate)s %% of the costs; this line "
                        "is %(share)s %% of the municipality's budget",
                        funder=name,
                        rate=funder.typical_max_rate,
                        share=share,
                    ),
                    line.id,
                )
            )
    return found


def _deadline_findings(project: Project, *, now: datetime, tz: ZoneInfo) -> list[Finding]:
    deadline = call_deadline(project, now=now)
    if deadline is None:
        return []
    deadline_day = local_day(deadline, tz)
    found = []
    for line in project.lines:
        if not line.is_undecided:
            continue
        if line.meeting_on is None:
            found.append(
                Finding(
                    "warning",
                    "decision_date_missing",
                    msg(
                        "%(funder)s has not decided yet and no decision date is recorded; "
                        "the call's deadline is %(deadline)s",
                        funder=line.funder.name,
                        deadline=deadline_day,
                    ),
                    line.id,
                )
            )
        elif line.meeting_on > deadline_day:
            found.append(
                Finding(
                    "warning",
                    "decision_after_deadline",
                    msg(
                        "%(funder)s decides on %(meeting)s, after the call's deadline of "
                        "%(deadline)s: the application will go in without that decision",
                        funder=line.funder.name,
                        meeting=line.meeting_on,
                        deadline=deadline_day,
                    ),
                    line.id,
                )
            )
    return found
