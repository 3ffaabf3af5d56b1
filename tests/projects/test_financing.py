"""The co-financing plan: coverage, each funder's rules and the deadline warning, checked
against values worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import NOW, make_call, make_user
from tests.factories.projects import (
    add_partner,
    make_funder,
    make_line,
    make_organisation,
    make_project,
)
from tracker.calltime import zone
from tracker.errors import ValidationFailed
from tracker.models import (
    AuditEvent,
    Currency,
    FunderKind,
    LineStatus,
    OrganisationKind,
    Project,
)
from tracker.services.financing import (
    FinancingPlan,
    LineData,
    add_line,
    check_financing_plan,
    read_line_form,
    remove_line,
    update_line,
)

RATE = Decimal("11.5")


def plan_of(project: Project, now: datetime = NOW) -> FinancingPlan:
    return check_financing_plan(project, sek_per_eur=RATE, now=now, tz=zone())


def codes(plan: FinancingPlan) -> set[str]:
    return {f.code for f in plan.findings}


def test_coverage_adds_the_eu_grant_and_lines_converted_into_the_project_currency(
    session: Session,
) -> None:
    project = make_project(
        session, municipality_budget=Decimal("100000"), eu_grant=Decimal("60000")
    )
    own = make_funder(session, kind=FunderKind.OWN_BUDGET)
    region = make_funder(session, kind=FunderKind.REGION)
    make_line(session, project, own, "20000", status=LineStatus.DECIDED)
    # 115 000 SEK at 11.5 SEK/EUR = 10 000 EUR, not yet decided.
    make_line(session, project, region, "115000", currency=Currency.SEK, status=LineStatus.ASKED)
    coverage = plan_of(project).coverage
    assert coverage.lines_total == Decimal("30000.00")
    assert coverage.secured_total == Decimal("20000.00")
    assert coverage.covered == Decimal("90000.00")
    assert coverage.secured_covered == Decimal("80000.00")
    assert coverage.gap == Decimal("10000.00")
    assert coverage.is_covered is False
    assert coverage.percent == Decimal("90.0")
    assert coverage.secured_percent == Decimal("80.0")
    plan = plan_of(project)
    missing = [f for f in plan.warnings if f.code == "not_covered"]
    assert len(missing) == 1
    assert "10000.00 EUR is missing" in str(missing[0].message)


def test_a_sek_project_converts_eur_lines_to_sek(session: Session) -> None:
    project = make_project(
        session,
        currency=Currency.SEK,
        municipality_budget=Decimal("230000"),
        eu_grant=Decimal("115000"),
    )
    make_line(session, project, make_funder(session), "10000", currency=Currency.EUR)
    plan = plan_of(project)
    assert plan.coverage.lines_total == Decimal("115000.00")
    assert plan.coverage.is_covered is True
    assert plan.coverage.gap == Decimal("0.00")
    assert not plan.findings


def test_a_plan_above_the_budget_and_a_plan_without_budget_are_flagged(session: Session) -> None:
    over = make_project(session, municipality_budget=Decimal("1000"), eu_grant=Decimal("800"))
    make_line(session, over, make_funder(session), "500")
    plan = plan_of(over)
    assert plan.coverage.gap == Decimal("-300.00")
    assert codes(plan) == {"over_covered"}
    assert "by 300.00 EUR" in str(plan.findings[0].message)
    unknown = make_project(session, municipality_budget=None)
    assert codes(plan_of(unknown)) == {"budget_missing"}
    assert plan_of(unknown).coverage.is_covered is None


def test_a_funder_closed_to_municipalities_needs_a_partner_as_applicant(session: Session) -> None:
    fund = make_funder(session, name="Allmänna arvsfonden", municipalities_may_apply=False)
    project = make_project(session, municipality_budget=Decimal("100"))
    line = make_line(session, project, fund, "100")
    plan = plan_of(project)
    assert [f.code for f in plan.breaches] == ["municipality_not_eligible"]
    assert plan.breaches[0].line_id == line.id
    assert "Allmänna arvsfonden does not accept applications from municipalities" in str(
        plan.breaches[0].message
    )
    association = make_organisation(session, kind=OrganisationKind.NGO, country_code="SE")
    add_partner(session, project, association)
    line.applicant = association
    session.flush()
    assert plan_of(project).breaches == []


def test_a_civil_society_partner_is_required_by_some_funders(session: Session) -> None:
    fund = make_funder(session, name="Arvsfonden", requires_civil_society_partner=True)
    project = make_project(session, municipality_budget=Decimal("100"))
    make_line(session, project, fund, "100")
    add_partner(session, project, make_organisation(session, kind=OrganisationKind.UNIVERSITY))
    plan = plan_of(project)
    assert [f.code for f in plan.breaches] == ["civil_society_partner_missing"]
    assert "requires a civil-society partner" in str(plan.breaches[0].message)
    add_partner(session, project, make_organisation(session, kind=OrganisationKind.NGO))
    assert plan_of(project).breaches == []


def test_ordinary_municipal_tasks_are_excluded_by_savings_bank_foundations(
    session: Session,
) -> None:
    foundation = make_funder(
        session, name="Sparbanksstiftelsen", excludes_ordinary_municipal_tasks=True
    )
    project = make_project(
        session, municipality_budget=Decimal("100"), covers_ordinary_municipal_tasks=True
    )
    make_line(session, project, foundation, "100")
    plan = plan_of(project)
    assert [f.code for f in plan.breaches] == ["ordinary_municipal_task"]
    assert "Sparbanksstiftelsen does not fund ordinary municipal tasks" in str(
        plan.breaches[0].message
    )
    project.covers_ordinary_municipal_tasks = False
    assert plan_of(project).breaches == []


def test_eu_money_cannot_co_finance_an_eu_grant(session: Session) -> None:
    eruf = make_funder(
        session, name="ERUF", kind=FunderKind.EU_SHARED, forbids_double_eu_funding=True
    )
    region = make_funder(session, name="Region", kind=FunderKind.REGION)
    project = make_project(session, municipality_budget=Decimal("1000"), eu_grant=Decimal("600"))
    make_line(session, project, eruf, "200")
    make_line(session, project, region, "200")
    plan = plan_of(project)
    assert [f.code for f in plan.breaches] == ["double_eu_funding"]
    assert "ERUF is EU money" in str(plan.breaches[0].message)


def test_two_eu_funders_in_one_plan_break_the_rule_even_without_an_eu_grant(
    session: Session,
) -> None:
    eruf = make_funder(
        session, name="ERUF", kind=FunderKind.EU_SHARED, forbids_double_eu_funding=True
    )
    interreg = make_funder(session, name="Interreg Europe", kind=FunderKind.INTERREG)
    project = make_project(session, municipality_budget=Decimal("1000"), eu_grant=None)
    make_line(session, project, eruf, "500")
    assert plan_of(project).breaches == []  # one EU source alone is fine
    make_line(session, project, interreg, "500")
    plan = plan_of(project)
    assert [f.code for f in plan.breaches] == ["double_eu_funding"]
    assert "cannot be combined with Interreg Europe" in str(plan.breaches[0].message)


def test_a_line_above_the_funders_typical_rate_is_a_warning(session: Session) -> None:
    agency = make_funder(session, name="Kulturrådet", typical_max_rate=Decimal("50"))
    project = make_project(session, municipality_budget=Decimal("1000"))
    make_line(session, project, agency, "600")
    make_line(session, project, make_funder(session), "400")
    plan = plan_of(project)
    assert plan.breaches == []
    warnings = [f for f in plan.warnings if f.code == "above_typical_rate"]
    assert len(warnings) == 1
    text = str(warnings[0].message)
    assert "Kulturrådet usually covers at most 50" in text
    assert "this line is 60.0 % of the municipality's budget" in text


def test_undecided_lines_decided_after_the_calls_deadline_are_warned_about(
    session: Session,
) -> None:
    # 23:30 UTC on 10 March is 00:30 on 11 March in Stockholm: the deadline day is the 11th.
    call = make_call(session, deadlines=[datetime(2026, 3, 10, 23, 30, tzinfo=UTC)])
    project = make_project(
        session, call=call, status="preparing", submitted_on=None, municipality_budget=None
    )
    late = make_line(
        session,
        project,
        make_funder(session, name="Late board"),
        "100",
        status=LineStatus.ASKED,
        meeting_on=date(2026, 3, 12),
    )
    make_line(
        session,
        project,
        make_funder(session, name="Same day board"),
        "100",
        status=LineStatus.LETTER_OF_INTENT,
        meeting_on=date(2026, 3, 11),
    )
    make_line(
        session,
        project,
        make_funder(session, name="Decided board"),
        "100",
        status=LineStatus.DECIDED,
        meeting_on=date(2026, 4, 1),
    )
    make_line(
        session,
        project,
        make_funder(session, name="Unknown board"),
        "100",
        status=LineStatus.ASKED,
        meeting_on=None,
    )
    plan = plan_of(project, now=datetime(2026, 2, 1, tzinfo=UTC))
    after = [f for f in plan.warnings if f.code == "decision_after_deadline"]
    assert [f.line_id for f in after] == [late.id]
    assert "Late board decides on 2026-03-12, after the call's deadline of 2026-03-11" in str(
        after[0].message
    )
    missing = [f for f in plan.warnings if f.code == "decision_date_missing"]
    assert len(missing) == 1 and "Unknown board" in str(missing[0].message)


def test_no_deadline_warning_without_a_linked_call(session: Session) -> None:
    project = make_project(session, municipality_budget=Decimal("100"))
    make_line(session, project, make_funder(session), "100", status=LineStatus.ASKED)
    assert plan_of(project).findings == ()


def test_lines_are_validated_and_every_change_is_audited(session: Session) -> None:
    editor = make_user(session)
    project = make_project(session)
    funder = make_funder(session)
    outsider = make_organisation(session)
    with pytest.raises(ValidationFailed) as excinfo:
        add_line(
            session,
            project,
            LineData(funder_id=funder.id, amount=Decimal("0"), applicant_id=outsider.id),
            actor=editor,
            now=NOW,
        )
    assert set(excinfo.value.errors) == {"amount", "applicant_id"}
    retired = make_funder(session, is_active=False)
    with pytest.raises(ValidationFailed) as excinfo:
        add_line(
            session,
            project,
            LineData(funder_id=retired.id, amount=Decimal(1)),
            actor=editor,
            now=NOW,
        )
    assert "no longer in use" in str(excinfo.value)

    line = add_line(
        session,
        project,
        LineData(funder_id=funder.id, amount=Decimal("5000")),
        actor=editor,
        now=NOW,
    )
    changes = update_line(
        session,
        project,
        line,
        LineData(funder_id=funder.id, amount=Decimal("5000"), status=LineStatus.DECIDED),
        actor=editor,
        now=NOW,
    )
    assert changes == {"status": ["asked", "decided"]}
    remove_line(session, project, line, actor=editor, now=NOW)
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "project", AuditEvent.entity_id == str(project.id))
        .order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == [
        "project.line_added",
        "project.line_changed",
        "project.line_removed",
    ]
    assert all(e.actor_id == editor.id for e in events)
    assert project.lines == []


def test_the_line_form_reads_swedish_amounts_and_names_bad_fields() -> None:
    data = read_line_form(
        {
            "funder_id": "3",
            "amount": "1 234,50",
            "currency": "SEK",
            "contribution": "in_kind",
            "status": "letter_of_intent",
            "meeting_on": "2026-05-04",
        }
    )
    assert data.amount == Decimal("1234.50")
    assert data.currency is Currency.SEK and data.meeting_on == date(2026, 5, 4)
    with pytest.raises(ValidationFailed) as excinfo:
        read_line_form({"funder_id": "", "amount": "-5", "status": "won", "meeting_on": "4/5"})
    assert set(excinfo.value.errors) >= {"funder_id", "amount", "status", "meeting_on"}


def test_the_own_contribution_counts_toward_the_cover_once(session: Session) -> None:
    project = make_project(
        session,
        municipality_budget=Decimal("100000"),
        eu_grant=Decimal("60000"),
        own_contribution_cash=Decimal("15000"),
        own_contribution_in_kind=Decimal("5000"),
    )
    make_line(session, project, make_funder(session, kind=FunderKind.REGION), "20000")
    coverage = plan_of(project).coverage
    assert coverage.own_contribution == Decimal("20000.00")
    assert coverage.covered == Decimal("100000.00") and coverage.is_covered is True
    assert "not_covered" not in codes(plan_of(project))
    # The same money typed again as a line of the own budget is not counted twice.
    make_line(session, project, make_funder(session, kind=FunderKind.OWN_BUDGET), "20000")
    coverage = plan_of(project).coverage
    assert coverage.own_counted == Decimal("0.00")
    assert coverage.covered == Decimal("100000.00")
