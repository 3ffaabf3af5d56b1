"""Who to go with for a call: organisations from our networks, our sister cities and the
partners of our past projects, ranked by fit, each with the reasons; those that would break
the call's country rules are kept apart with the reason."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import String, cast, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from tracker.models import (
    CallMatch,
    FocusArea,
    FundingCall,
    NetworkMember,
    NetworkMembership,
    Organisation,
    Project,
    ProjectPartner,
    ProjectStatus,
    SisterCity,
)
from tracker.models.projects import AWARDED
from tracker.partners.rules import PartnerRules, RuleKind, country_is_eligible
from tracker.services.inbox import programme_names

# What each kind of evidence adds to an organisation's fit.
NETWORK_MEMBER = 1.0
NETWORK_AREA = 3.0
SISTER_CITY = 2.0
SISTER_AREA = 3.0
SAME_PROGRAMME = 4.0
PROJECT_AREA = 2.0
AWARDED_TOGETHER = 3.0
SUBMITTED_TOGETHER = 1.0
RECENT_CONTACT = 2.0  # within a year
CONTACT_WITHIN_3_YEARS = 1.0
MAX_COUNTED_AREAS = 2
# How far down the ranking to look for organisations to list apart once the list is full.
APART_SCAN = 300


@dataclass(frozen=True)
class Reason:
    """Why an organisation is suggested (or kept apart): a code and the values of its
    sentence, so the page can say it in the reader's language."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Suggestion:
    organisation: Organisation
    score: float = 0.0
    reasons: list[Reason] = field(default_factory=list)
    eligible: bool | None = None
    last_contact_on: date | None = None


@dataclass(frozen=True)
class Suggestions:
    fitting: list[Suggestion]
    apart: list[Suggestion]
    areas: list[str]


def matched_areas(session: Session, call: FundingCall) -> list[str]:
    """The slugs of the focus areas the call matched, best first."""
    return list(
        session.scalars(
            select(FocusArea.slug)
            .join(CallMatch, CallMatch.focus_area_id == FocusArea.id)
            .where(CallMatch.call_id == call.id, CallMatch.is_match)
            .order_by(CallMatch.score.desc())
        )
    )


@dataclass(slots=True)
class _Evidence:
    score: float = 0.0
    # Reasons are shared between the organisations they hold for (every member of a network
    # has the same); the person we know is kept apart and put in at the end.
    reasons: list[Reason] = field(default_factory=list)
    last_contact_on: date | None = None
    contacts: dict[str, str] = field(default_factory=dict)

    def add(self, points: float, code: str, **params: Any) -> None:
        self.score += points
        self.reasons.append(Reason(code, params))

    def add_shared(self, points: float, reason: Reason) -> None:
        self.score += points
        self.reasons.append(reason)

    def contact(self, when: date | None) -> None:
        if when is not None and (self.last_contact_on is None or when > self.last_contact_on):
            self.last_contact_on = when


def _overlap(areas: Iterable[str], wanted: list[str]) -> list[str]:
    own = set(areas)
    return [a for a in wanted if a in own]


def _theme_names(themes: Any, wanted: list[str]) -> list[str]:
    names: list[str] = []
    for theme in themes or []:
        if isinstance(theme, dict) and set(theme.get("areas", [])) & set(wanted):
            names.append(str(theme.get("theme")))
    return names


def _network_evidence(session: Session, wanted: list[str], found: dict[int, _Evidence]) -> None:
    # The few memberships first (their JSON read once), then the members as plain values.
    networks: dict[int, tuple[float, Reason]] = {}
    for network_id, name, focus, themes in session.execute(
        select(
            NetworkMembership.network_id,
            Organisation.name,
            NetworkMembership.focus_areas,
            NetworkMembership.themes,
        )
        .join(Organisation, Organisation.id == NetworkMembership.network_id)
        .where(NetworkMembership.ended_year.is_(None))
    ):
        areas = set(focus or [])
        for theme in themes or []:
            if isinstance(theme, dict):
                areas.update(theme.get("areas", []))
        shared = _overlap(areas, wanted)[:MAX_COUNTED_AREAS]
        networks[network_id] = (
            NETWORK_MEMBER + NETWORK_AREA * len(shared),
            Reason(
                "network",
                {"network": name, "areas": shared, "themes": _theme_names(themes, wanted)},
            ),
        )
    if not networks:
        return
    rows = session.execute(
        select(
            NetworkMember.organisation_id,
            NetworkMember.network_id,
            NetworkMember.contact_name,
            NetworkMember.last_contact_on,
        )
    )
    for org_id, network_id, contact, last_contact in rows:
        entry = networks.get(network_id)
        if entry is None:
            continue
        evidence = found.get(org_id)
        if evidence is None:
            evidence = found[org_id] = _Evidence()
        evidence.add_shared(*entry)
        if contact:
            evidence.contacts[entry[1].params["network"]] = contact
        evidence.contact(last_contact)


def _sister_evidence(session: Session, wanted: list[str], found: dict[int, _Evidence]) -> None:
    rows = session.execute(
        select(
            SisterCity.organisation_id,
            SisterCity.relation,
            SisterCity.since_year,
            SisterCity.focus_areas,
            SisterCity.contact_name,
            SisterCity.last_contact_on,
        )
    )
    for org_id, relation, since, focus, contact, last_contact in rows:
        evidence = found.setdefault(org_id, _Evidence())
        shared = _overlap(focus or [], wanted)[:MAX_COUNTED_AREAS]
        evidence.add(
            SISTER_CITY + SISTER_AREA * len(shared),
            "sister_city",
            relation=relation.value,
            since=since,
            areas=shared,
            contact=contact or "",
        )
        evidence.contact(last_contact)


def _project_evidence(
    session: Session, call: FundingCall, wanted: list[str], found: dict[int, _Evidence]
) -> None:
    names = programme_names(call)
    same_programme: list[ColumnElement[bool]] = (
        [func.lower(Project.programme).in_(names)] if names else []
    )
    if call.programme_code:
        # Through the index of the calls' programme codes, not the calls' rows.
        same_programme.append(
            Project.call_id.in_(
                select(FundingCall.id).where(FundingCall.programme_code == call.programme_code)
            )
        )
    in_programme = or_(*same_programme) if same_programme else literal(False)
    # Only projects in the programme or sharing an area, the areas searched in the JSON text
    # (the same way on SQLite and PostgreSQL) so that no project's JSON is read here.
    shares_area = [cast(Project.focus_areas, String).like(f'%"{slug}"%') for slug in wanted]
    relevant_filter = or_(in_programme, *shares_area)
    relevant: dict[int, tuple[float, Reason, date | None]] = {}
    for row in session.execute(
        select(
            Project.id,
            Project.title,
            Project.acronym,
            Project.programme,
            Project.status,
            Project.submitted_on,
            Project.start_on,
            Project.decision_on,
            in_programme,
            *shares_area,
        ).where(relevant_filter)
    ):
        project_id, title, acronym, programme, status, submitted, started, decided, same = row[:9]
        shared = [slug for slug, hit in zip(wanted, row[9:], strict=True) if hit]
        shared = shared[:MAX_COUNTED_AREAS]
        same = bool(same)
        if not same and not shared:
            continue
        points = (SAME_PROGRAMME if same else 0.0) + PROJECT_AREA * len(shared)
        if status in AWARDED:
            points += AWARDED_TOGETHER
        elif status is ProjectStatus.SUBMITTED:
            points += SUBMITTED_TOGETHER
        when = max((d for d in (submitted, started, decided) if d is not None), default=None)
        reason = Reason(
            "past_project",
            {
                "project": acronym or title,
                "project_id": project_id,
                "programme": programme or "",
                "status": status.value,
                "same_programme": same,
                "areas": shared,
            },
        )
        relevant[project_id] = (points, reason, when)
    if not relevant:
        return
    best: dict[int, tuple[float, Reason, date | None]] = {}
    for org_id, project_id in session.execute(
        select(ProjectPartner.organisation_id, ProjectPartner.project_id)
        .join(Project, Project.id == ProjectPartner.project_id)
        .where(relevant_filter)
    ):
        entry = relevant.get(project_id)
        if entry is not None and (org_id not in best or entry[0] > best[org_id][0]):
            best[org_id] = entry
    for org_id, (points, reason, when) in best.items():
        evidence = found.setdefault(org_id, _Evidence())
        evidence.score += points
        evidence.reasons.append(reason)
        evidence.contact(when)


def suggest_partners(
    session: Session,
    call: FundingCall,
    rules: PartnerRules,
    *,
    today: date,
    areas: list[str] | None = None,
    limit: int = 12,
) -> Suggestions:
    """Organisations we know that could join a consortium for ``call``, best fit first.

    Fit: the network's themes (or the sister city's areas) against the call's matched focus
    areas, past projects with us in the same programme or area and how they went, and how
    recent the contact is. An organisation in a country the call does not accept goes to
    ``apart`` with that reason."""
    wanted = matched_areas(session, call) if areas is None else areas
    found: dict[int, _Evidence] = {}
    _network_evidence(session, wanted, found)
    _sister_evidence(session, wanted, found)
    _project_evidence(session, call, wanted, found)
    if not found:
        return Suggestions([], [], wanted)
    eligible_codes = rules.codes(RuleKind.ELIGIBLE_COUNTRIES)
    for evidence in found.values():
        if evidence.last_contact_on is not None:
            age = (today - evidence.last_contact_on).days
            if age <= 365:
                evidence.score += RECENT_CONTACT
            elif age <= 3 * 365:
                evidence.score += CONTACT_WITHIN_3_YEARS
    fitting_ids: list[int] = []
    apart_ids: list[int] = []
    eligibility: dict[int, bool | None] = {}
    for scanned, (org_id, country) in enumerate(_in_rank_order(session, found), start=1):
        eligible = country_is_eligible(country, eligible_codes)
        eligibility[org_id] = eligible
        chosen = apart_ids if eligible is False else fitting_ids
        if len(chosen) < limit:
            chosen.append(org_id)
        if len(fitting_ids) >= limit and (
            # Without a country rule nobody is kept apart; with one, those apart are shown
            # for the best-known organisations only.
            eligible_codes is None or len(apart_ids) >= limit or scanned >= APART_SCAN
        ):
            break
    organisations = {
        o.id: o
        for o in session.scalars(
            select(Organisation).where(Organisation.id.in_(fitting_ids + apart_ids))
        )
    }
    fitting: list[Suggestion] = []
    apart: list[Suggestion] = []
    for org_id in fitting_ids + apart_ids:
        organisation = organisations[org_id]
        evidence = found[org_id]
        suggestion = Suggestion(
            organisation,
            evidence.score,
            _reasons_shown(evidence, today),
            eligibility[org_id],
            evidence.last_contact_on,
        )
        if eligibility[org_id] is False:
            suggestion.reasons = [
                Reason(
                    "not_eligible",
                    {"country": organisation.country_code, "eligible": list(eligible_codes or [])},
                ),
                *suggestion.reasons,
            ]
            apart.append(suggestion)
        else:
            fitting.append(suggestion)
    return Suggestions(fitting, apart, wanted)


def _reasons_shown(evidence: _Evidence, today: date) -> list[Reason]:
    """The organisation's reasons as the page shows them: with the person we know in each
    network, and how recent the last contact is."""
    reasons = [
        Reason(r.code, {**r.params, "contact": evidence.contacts[r.params["network"]]})
        if r.code == "network" and r.params["network"] in evidence.contacts
        else r
        for r in evidence.reasons
    ]
    last = evidence.last_contact_on
    if last is not None:
        age = (today - last).days
        if age <= 365:
            reasons.append(Reason("recent_contact", {"on": last}))
        elif age <= 3 * 365:
            reasons.append(Reason("contact", {"on": last}))
    return reasons


def _standing(evidence: _Evidence) -> tuple[float, int]:
    last = evidence.last_contact_on
    return (-evidence.score, -(last.toordinal()) if last else 0)


_BATCH = 100


def _in_rank_order(
    session: Session, found: dict[int, _Evidence]
) -> Iterator[tuple[int, str | None]]:
    """Organisation ids and countries, best fit first (ties: the more recent contact, then
    the name).

    Names and countries are read a batch at a time, in rank order, so a page that shows the
    best dozen does not read thousands; a batch never splits organisations that tie."""
    ranked = sorted(found, key=lambda org_id: _standing(found[org_id]))
    start = 0
    while start < len(ranked):
        end = min(start + _BATCH, len(ranked))
        while end < len(ranked) and _standing(found[ranked[end]]) == _standing(
            found[ranked[end - 1]]
        ):
            end += 1
        batch = ranked[start:end]
        facts = {
            org_id: (name, country)
            for org_id, name, country in session.execute(
                select(Organisation.id, Organisation.name, Organisation.country_code).where(
                    Organisation.id.in_(batch)
                )
            )
        }
        ordered = sorted(
            (org_id for org_id in batch if org_id in facts),
            key=lambda org_id: (*_standing(found[org_id]), facts[org_id][0].casefold()),
        )
        yield from ((org_id, facts[org_id][1]) for org_id in ordered)
        start = end
