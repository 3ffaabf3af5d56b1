"""Consortium drafts: the partners and roles we plan for a call we are preparing, checked
against the call's rules, handed over to the project once it is submitted, and the
"invite partners" mail to copy into Outlook."""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.errors import NotFound, ValidationFailed
from tracker.i18n import Message, msg
from tracker.models import (
    CallReview,
    ConsortiumDraft,
    ConsortiumMember,
    FundingCall,
    Office,
    Organisation,
    Project,
    ProjectRole,
    ProjectStatus,
    User,
)
from tracker.models.projects import NOT_YET_SUBMITTED
from tracker.partners.consortium import ConsortiumCheck, Participant, check_consortium
from tracker.partners.rules import PartnerRules
from tracker.services.audit import record_event
from tracker.services.projects import ProjectData, add_partner, create_project, update_project

# The municipality itself, as it counts in a consortium.
OUR_NAME = "Norrköpings kommun"
OUR_COUNTRY = "SE"
OUR_KIND = "municipality"


def get_draft(session: Session, call: FundingCall) -> ConsortiumDraft | None:
    return session.scalar(
        select(ConsortiumDraft)
        .where(ConsortiumDraft.call_id == call.id)
        .options(selectinload(ConsortiumDraft.members).selectinload(ConsortiumMember.organisation))
    )


def save_draft(
    session: Session,
    call: FundingCall,
    *,
    idea: str,
    our_role: ProjectRole,
    actor: User | None,
    now: datetime,
    our_budget_share: Decimal | None = None,
) -> ConsortiumDraft:
    """Create or update the call's consortium draft (our idea, our role and our share of
    the project's total budget, in percent)."""
    draft = get_draft(session, call)
    if draft is None:
        draft = ConsortiumDraft(call_id=call.id, created_at=now, our_role=our_role)
        session.add(draft)
    draft.idea = idea.strip()
    draft.our_role = our_role
    draft.our_budget_share = our_budget_share
    draft.updated_at = now
    session.flush()
    record_event(
        session,
        "consortium.saved",
        "call",
        call.id,
        actor=actor,
        now=now,
        details={"our_role": our_role.value},
    )
    return draft


def add_member(
    session: Session,
    draft: ConsortiumDraft,
    organisation: Organisation,
    role: ProjectRole,
    *,
    task: str = "",
    budget_share: Decimal | None = None,
    actor: User | None,
    now: datetime,
) -> ConsortiumMember:
    """Put ``organisation`` in the draft with a role, a task and its share of the project's
    total budget in percent (or change them)."""
    member = next((m for m in draft.members if m.organisation_id == organisation.id), None)
    if member is None:
        member = ConsortiumMember(organisation=organisation, role=role)
        draft.members.append(member)
    member.role = role
    member.task = task.strip()
    member.budget_share = budget_share
    draft.updated_at = now
    session.flush()
    record_event(
        session,
        "consortium.member_set",
        "call",
        draft.call_id,
        actor=actor,
        now=now,
        details={"organisation": organisation.id, "role": role.value},
    )
    return member


def remove_member(
    session: Session, draft: ConsortiumDraft, member_id: int, *, actor: User | None, now: datetime
) -> None:
    member = next((m for m in draft.members if m.id == member_id), None)
    if member is None:
        raise NotFound(msg("no such partner in the draft"))
    draft.members.remove(member)
    draft.updated_at = now
    session.flush()
    record_event(
        session,
        "consortium.member_removed",
        "call",
        draft.call_id,
        actor=actor,
        now=now,
        details={"organisation": member.organisation_id},
    )


def participants(draft: ConsortiumDraft) -> list[Participant]:
    """Everyone in the draft, the municipality first."""
    us = Participant(OUR_NAME, OUR_COUNTRY, OUR_KIND, draft.our_role.value)
    return [us] + [
        Participant(
            m.organisation.name,
            m.organisation.country_code,
            m.organisation.kind.value,
            m.role.value,
        )
        for m in draft.members
    ]


def check_draft(draft: ConsortiumDraft, rules: PartnerRules) -> ConsortiumCheck:
    return check_consortium(rules, participants(draft))


# --- the draft in the co-financing plan -------------------------------------------------------


@dataclass(frozen=True)
class PlannedShare:
    """One participant's planned part of the project's total budget."""

    name: str
    country_code: str | None
    role: ProjectRole
    percent: Decimal | None
    amount: Decimal | None  # in the project's currency, when its total budget is known
    is_us: bool = False


@dataclass(frozen=True)
class ShareFinding:
    severity: Literal["breach", "warning"]
    code: str
    message: Message


@dataclass(frozen=True)
class ConsortiumBudget:
    """The draft's partners, roles and budget shares as the co-financing plan shows them."""

    shares: tuple[PlannedShare, ...]
    findings: tuple[ShareFinding, ...] = field(default=())

    @property
    def percent_total(self) -> Decimal:
        return sum((s.percent for s in self.shares if s.percent is not None), Decimal(0))


def _percent(value: Decimal) -> str:
    """40.00 as "40", 12.50 as "12.5"."""
    return f"{value.normalize():f}"


def consortium_budget(draft: ConsortiumDraft, project: Project) -> ConsortiumBudget:
    """Who takes what part of ``project``'s total budget according to the draft, and what
    does not add up: shares over 100 %, a part not shared out, or our share not matching
    the municipality's budget."""
    total = project.total_budget
    cent = Decimal("0.01")

    def amount(percent: Decimal | None) -> Decimal | None:
        if percent is None or total is None:
            return None
        return (total * percent / 100).quantize(cent, ROUND_HALF_UP)

    ours = PlannedShare(
        OUR_NAME,
        OUR_COUNTRY,
        draft.our_role,
        draft.our_budget_share,
        amount(draft.our_budget_share),
        is_us=True,
    )
    partners = [
        PlannedShare(
            m.organisation.name,
            m.organisation.country_code,
            m.role,
            m.budget_share,
            amount(m.budget_share),
        )
        for m in draft.members
    ]
    shares = (ours, *partners)
    budget = ConsortiumBudget(shares)
    findings: list[ShareFinding] = []
    given = budget.percent_total
    if given > 100:
        findings.append(
            ShareFinding(
                "warning",
                "consortium_shares_over",
                msg(
                    "the consortium's budget shares add up to %(percent)s per cent",
                    percent=_percent(given),
                ),
            )
        )
    elif any(s.percent is not None for s in shares) and given < 100:
        findings.append(
            ShareFinding(
                "warning",
                "consortium_shares_open",
                msg(
                    "%(percent)s per cent of the total budget is not yet shared out in the "
                    "consortium draft",
                    percent=_percent(100 - given),
                ),
            )
        )
    our_amount = ours.amount
    municipal = project.municipality_budget
    if our_amount is not None and municipal is not None and abs(our_amount - municipal) >= 1:
        findings.append(
            ShareFinding(
                "warning",
                "consortium_share_ours",
                msg(
                    "the consortium draft gives the municipality %(percent)s per cent of the "
                    "total budget, %(amount)s %(currency)s, but the municipality's budget is "
                    "%(budget)s %(currency)s",
                    percent=_percent(ours.percent or Decimal(0)),
                    amount=our_amount,
                    budget=municipal,
                    currency=project.currency.value,
                ),
            )
        )
    return ConsortiumBudget(shares, tuple(findings))


def projects_for_call(session: Session, call: FundingCall) -> list[Project]:
    return list(
        session.scalars(select(Project).where(Project.call_id == call.id).order_by(Project.id))
    )


def hand_over(
    session: Session,
    draft: ConsortiumDraft,
    project: Project,
    *,
    actor: User | None,
    now: datetime,
) -> int:
    """Make the draft's partners the project's partners (those already there keep their
    place, their role follows the draft); returns how many were added. Only a project for
    this call that has been submitted (or decided) takes them."""
    if project.call_id != draft.call_id:
        message = msg("the project does not apply to this call")
        raise ValidationFailed(message, {"project": message})
    if project.status in (ProjectStatus.IDEA, ProjectStatus.PREPARING):
        message = msg("the partners are handed over once the application is submitted")
        raise ValidationFailed(message, {"project": message})
    before = {p.organisation_id for p in project.partners}
    for member in draft.members:
        add_partner(session, project, member.organisation, member.role, actor=actor, now=now)
    draft.project = project
    draft.updated_at = now
    session.flush()
    return len({p.organisation_id for p in project.partners} - before)


def _project_for_submission(session: Session, draft: ConsortiumDraft) -> Project | None:
    """The project that applies to the draft's call: the one the draft was handed to, else
    the latest of the call's projects that is not withdrawn."""
    if draft.project is not None:
        return draft.project
    candidates = [
        p for p in projects_for_call(session, draft.call) if p.status is not ProjectStatus.WITHDRAWN
    ]
    return candidates[-1] if candidates else None


def _lead_office(session: Session, call: FundingCall, actor: User | None) -> Office:
    """Who leads the new project: the office the call is assigned to, else the submitter's
    office, else the first open office."""
    review = session.scalar(select(CallReview).where(CallReview.call_id == call.id))
    for office in (
        review.office if review is not None else None,
        actor.office if actor is not None else None,
    ):
        if office is not None and office.is_active:
            return office
    office = session.scalar(select(Office).where(Office.is_active).order_by(Office.id).limit(1))
    if office is None:
        message = msg("the project needs a lead office: add an office first")
        raise ValidationFailed(message, {"office": message})
    return office


def _programme(call: FundingCall) -> str:
    return (call.programme_label or call.programme_code or call.title)[:200]


def _submitted_project(
    session: Session,
    call: FundingCall,
    draft: ConsortiumDraft,
    *,
    actor: User | None,
    now: datetime,
    today: date,
) -> Project:
    project = _project_for_submission(session, draft)
    if project is None:
        project = create_project(
            session,
            ProjectData(
                title=call.title[:500],
                lead_office_id=_lead_office(session, call, actor).id,
                status=ProjectStatus.SUBMITTED,
                role=draft.our_role,
                programme=_programme(call),
                call_id=call.id,
                submitted_on=today,
            ),
            actor=actor,
            now=now,
            source="submission",
        )
    elif project.status in NOT_YET_SUBMITTED:
        data = ProjectData.from_project(project)
        update_project(
            session,
            project,
            dataclass_replace(
                data,
                status=ProjectStatus.SUBMITTED,
                role=draft.our_role,
                submitted_on=data.submitted_on or today,
                programme=data.programme or _programme(call),
            ),
            actor=actor,
            now=now,
            source="submission",
        )
    return project


def submit_consortium(
    session: Session,
    call: FundingCall,
    *,
    actor: User | None,
    now: datetime,
    today: date,
) -> Project | None:
    """The call's application was submitted: its consortium draft becomes the project's
    partner list. The project is the one the draft was handed to or that applies to the call
    (marked submitted on ``today`` if it was still being prepared), or a new one made from
    the call and the draft. Doing it again changes nothing. None when there is no draft."""
    draft = get_draft(session, call)
    if draft is None:
        return None
    try:
        project = _submitted_project(session, call, draft, actor=actor, now=now, today=today)
    except ValidationFailed as exc:
        # Said on the call page's triage form, whichever field of the project it was.
        problems = "; ".join(str(v) for v in exc.errors.values()) or str(exc)
        message = msg(
            "the application's project could not be marked submitted: %(problems)s",
            problems=problems,
        )
        raise ValidationFailed(message, {"form": message}) from exc
    hand_over(session, draft, project, actor=actor, now=now)
    return project


@dataclass(frozen=True)
class InviteMail:
    language: str
    subject: str
    body: str


_ROLE_WORDS = {
    "en": {"lead": "lead partner", "partner": "partner", "associated": "associated partner"},
    "sv": {"lead": "huvudsökande", "partner": "partner", "associated": "associerad partner"},
}


def invite_mails(
    call: FundingCall, draft: ConsortiumDraft, member: ConsortiumMember, deadline: str
) -> list[InviteMail]:
    """The invitation to one partner, in English and in Swedish, ready to copy."""
    name = member.organisation.name
    idea = draft.idea or "–"
    task = member.task
    reference = f"{call.title} ({call.identifier})" if call.identifier else call.title
    en_role = _ROLE_WORDS["en"][member.role.value]
    sv_role = _ROLE_WORDS["sv"][member.role.value]
    english = (
        f"Dear colleagues at {name},\n\n"
        f"Norrköping municipality is preparing an application to the call {reference}"
        f"{f' under {call.programme_label}' if call.programme_label else ''}. "
        f"The deadline is {deadline}.\n\n"
        f"Our idea: {idea}\n\n"
        f"We would like to invite you to join the consortium as {en_role}"
        f"{f', working on: {task}' if task else ''}.\n\n"
        f"The call: {call.url or '–'}\n\n"
        "Could you tell us by reply whether you are interested, and who we should talk to?\n\n"
        "Kind regards,\nNorrköping municipality, international office"
    )
    swedish = (
        f"Hej {name},\n\n"
        f"Norrköpings kommun förbereder en ansökan till utlysningen {reference}"
        f"{f' inom {call.programme_label}' if call.programme_label else ''}. "
        f"Sista ansökningsdag är {deadline}.\n\n"
        f"Vår idé: {idea}\n\n"
        f"Vi vill bjuda in er att delta i konsortiet som {sv_role}"
        f"{f', med ansvar för: {task}' if task else ''}.\n\n"
        f"Utlysningen: {call.url or '–'}\n\n"
        "Svara gärna om ni är intresserade och vem vi ska prata med.\n\n"
        "Vänliga hälsningar\nNorrköpings kommun, internationella enheten"
    )
    return [
        InviteMail("en", f"Invitation to partner: {call.title}", english),
        InviteMail("sv", f"Inbjudan att delta: {call.title}", swedish),
    ]
