"""Who to go with for a call: organisations from our networks, our sister cities and the
partners of our past projects, ranked by fit, each with the reasons; those that would break
the call's country rules are kept apart with the reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, aliased
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
from tracker.partners.rules import (
    ASSOCIATED,
    EEA,
    EEA_MEMBERS,
    EU,
    EU_MEMBERS,
    PartnerRules,
    RuleKind,
    country_is_eligible,
)
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


def _theme_names(themes: Any, wanted: list[str]) -> list[str]:
    names: list[str] = []
    for theme in themes or []:
        if isinstance(theme, dict) and set(theme.get("areas", [])) & set(wanted):
            names.append(str(theme.get("theme")))
    return names


def _overlap(areas: Iterable[str], wanted: list[str]) -> list[str]:
    own = set(areas)
    return [a for a in wanted if a in own]


# The ranking is done by the database: each kind of evidence gives rows of (organisation,
# points, last contact), summed per organisation and ordered there, so a page reads the
# dozen organisations it shows, not the thousands we know. The reasons are then read for
# those few only.


def _networks(session: Session, wanted: list[str]) -> dict[int, tuple[float, Reason]]:
    """Each active network's points and reason for the call's areas (a few rows)."""
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
    return networks


@dataclass(frozen=True)
class _SisterRow:
    organisation_id: int
    points: float
    reason: Reason
    last_contact_on: date | None


def _sisters(session: Session, wanted: list[str]) -> list[_SisterRow]:
    """Our sister cities with their points and reasons (a few rows)."""
    rows: list[_SisterRow] = []
    for org_id, relation, since, focus, contact, last_contact in session.execute(
        select(
            SisterCity.organisation_id,
            SisterCity.relation,
            SisterCity.since_year,
            SisterCity.focus_areas,
            SisterCity.contact_name,
            SisterCity.last_contact_on,
        ).order_by(SisterCity.id)
    ):
        shared = _overlap(focus or [], wanted)[:MAX_COUNTED_AREAS]
        reason = Reason(
            "sister_city",
            {
                "relation": relation.value,
                "since": since,
                "areas": shared,
                "contact": contact or "",
            },
        )
        rows.append(
            _SisterRow(org_id, SISTER_CITY + SISTER_AREA * len(shared), reason, last_contact)
        )
    return rows


@dataclass(frozen=True)
class _ProjectTerms:
    """The SQL that says which past projects count for the call, and how much."""

    relevant: ColumnElement[bool]
    same_programme: ColumnElement[bool]
    shared_areas: list[ColumnElement[bool]]
    points: ColumnElement[float]
    when: ColumnElement[date]


_PROJECT_CALL = aliased(FundingCall, name="project_call")


def _has_area(slug: str, dialect: str) -> ColumnElement[bool]:
    """Whether a project serves the focus area, without reading its JSON in Python:
    PostgreSQL's JSONB containment, else a search of the JSON text."""
    if dialect == "postgresql":
        return type_coerce(Project.focus_areas, JSONB).contains([slug])
    return cast(Project.focus_areas, String).like(f'%"{slug}"%')


def _project_terms(call: FundingCall, wanted: list[str], dialect: str) -> _ProjectTerms:
    names = programme_names(call)
    same_programme: list[ColumnElement[bool]] = (
        [func.lower(Project.programme).in_(names)] if names else []
    )
    if call.programme_code:
        # The project's own call, joined by its primary key: PostgreSQL turned a subquery
        # here into a scan of every call in the programme.
        same_programme.append(_PROJECT_CALL.programme_code == call.programme_code)
    in_programme = or_(*same_programme) if same_programme else literal(False)
    shares_area = [_has_area(slug, dialect) for slug in wanted]
    shared_count: ColumnElement[Any] = literal(0)
    for hit in shares_area:
        shared_count = shared_count + case((hit, 1), else_=0)
    counted = case((shared_count > MAX_COUNTED_AREAS, MAX_COUNTED_AREAS), else_=shared_count)
    points = (
        case((in_programme, SAME_PROGRAMME), else_=0.0)
        + counted * PROJECT_AREA
        + case(
            (Project.status.in_(sorted(AWARDED)), AWARDED_TOGETHER),
            (Project.status == ProjectStatus.SUBMITTED, SUBMITTED_TOGETHER),
            else_=0.0,
        )
    )
    # The latest thing we know happened in the project: it started, was decided, was sent.
    when = func.coalesce(Project.start_on, Project.decision_on, Project.submitted_on)
    return _ProjectTerms(or_(in_programme, *shares_area), in_programme, shares_area, points, when)


def _ranked(
    session: Session,
    networks: dict[int, tuple[float, Reason]],
    sisters: list[_SisterRow],
    terms: _ProjectTerms,
    today: date,
) -> Select[int, float, date | None]:
    """Organisation id, score and last contact, best first, as one query (without a limit
    or a condition on the country; the caller adds them)."""
    parts: list[Select[int, float, date | None]] = []
    if networks:
        parts.append(
            select(
                NetworkMember.organisation_id.label("org_id"),
                case(
                    {nid: points for nid, (points, _) in networks.items()},
                    value=NetworkMember.network_id,
                    else_=0.0,
                ).label("points"),
                NetworkMember.last_contact_on.label("last"),
            ).where(NetworkMember.network_id.in_(list(networks)))
        )
    if sisters:
        parts.append(
            select(
                SisterCity.organisation_id.label("org_id"),
                case(
                    {row.organisation_id: row.points for row in sisters},
                    value=SisterCity.organisation_id,
                    else_=0.0,
                ).label("points"),
                SisterCity.last_contact_on.label("last"),
            )
        )
    # Each relevant project's points worked out once, then given to each of its partners.
    projects = (
        select(
            Project.id.label("project_id"),
            terms.points.label("points"),
            terms.when.label("last"),
        )
        .outerjoin(_PROJECT_CALL, _PROJECT_CALL.id == Project.call_id)
        .where(terms.relevant)
        .subquery("relevant_projects")
    )
    best_project = (
        select(
            ProjectPartner.organisation_id.label("org_id"),
            func.max(projects.c.points).label("points"),
            func.max(projects.c.last).label("last"),
        )
        .join(projects, projects.c.project_id == ProjectPartner.project_id)
        .group_by(ProjectPartner.organisation_id)
    )
    parts.append(best_project)
    evidence = union_all(*parts).subquery("evidence")
    last = func.max(evidence.c.last)
    recency = case(
        (last >= today - timedelta(days=365), RECENT_CONTACT),
        (last >= today - timedelta(days=3 * 365), CONTACT_WITHIN_3_YEARS),
        else_=0.0,
    )
    per_org = (
        select(
            evidence.c.org_id,
            (func.sum(evidence.c.points) + recency).label("score"),
            last.label("last"),
        )
        .group_by(evidence.c.org_id)
        .subquery("per_org")
    )
    return select(per_org.c.org_id, per_org.c.score, per_org.c.last).join(
        Organisation, Organisation.id == per_org.c.org_id
    )


def _best_of_each_side(
    ranked: Select[int, float, date | None], excluded: ColumnElement[bool], limit: int
) -> Select[int, float, date | None, bool]:
    """The ``limit`` best organisations the call's countries allow and the ``limit`` best it
    excludes, in one pass over the ranking (ties: the more recent contact, then the name)."""
    side = case((excluded, 1), else_=0)
    numbered = ranked.add_columns(
        side.label("side"),
        func.row_number()
        .over(
            partition_by=side,
            order_by=(
                ranked.selected_columns.score.desc(),
                ranked.selected_columns.last.desc().nulls_last(),
                func.lower(Organisation.name),
                Organisation.id,
            ),
        )
        .label("place"),
    ).subquery("numbered")
    return (
        select(
            numbered.c.org_id,
            numbered.c.score,
            numbered.c.last,
            numbered.c.side == 1,
        )
        .where(numbered.c.place <= limit)
        .order_by(numbered.c.side, numbered.c.place)
    )


def _not_eligible(eligible: tuple[str, ...]) -> ColumnElement[bool]:
    """Organisations whose country the call's rule excludes (``country_is_eligible`` is
    False), in SQL."""
    allowed = {code for code in eligible if len(code) == 2}
    if EU in eligible:
        allowed |= EU_MEMBERS
    if EEA in eligible:
        allowed |= EEA_MEMBERS
    country = func.upper(Organisation.country_code)
    excluded = and_(Organisation.country_code.is_not(None), country.not_in(sorted(allowed)))
    if ASSOCIATED in eligible:
        # A non-EU country may be associated: not ruled out.
        excluded = and_(excluded, country.in_(sorted(EU_MEMBERS)))
    return excluded


def _reasons(
    session: Session,
    org_ids: list[int],
    networks: dict[int, tuple[float, Reason]],
    sisters: list[_SisterRow],
    terms: _ProjectTerms,
    wanted: list[str],
) -> dict[int, list[Reason]]:
    """Why each of the few organisations shown is suggested: its networks (with the person
    we know there), its sister-city relation, its best past project with us."""
    reasons: dict[int, list[Reason]] = {org_id: [] for org_id in org_ids}
    if networks:
        for org_id, network_id, contact in session.execute(
            select(
                NetworkMember.organisation_id,
                NetworkMember.network_id,
                NetworkMember.contact_name,
            )
            .where(
                NetworkMember.organisation_id.in_(org_ids),
                NetworkMember.network_id.in_(list(networks)),
            )
            .order_by(NetworkMember.id)
        ):
            reason = networks[network_id][1]
            if contact:
                reason = Reason(reason.code, {**reason.params, "contact": contact})
            reasons[org_id].append(reason)
    for sister in sisters:
        if sister.organisation_id in reasons:
            reasons[sister.organisation_id].append(sister.reason)
    best: dict[int, tuple[float, Reason]] = {}
    for row in session.execute(
        select(
            ProjectPartner.organisation_id,
            Project.id,
            Project.title,
            Project.acronym,
            Project.programme,
            Project.status,
            terms.same_programme,
            terms.points,
            *terms.shared_areas,
        )
        .join(Project, Project.id == ProjectPartner.project_id)
        .outerjoin(_PROJECT_CALL, _PROJECT_CALL.id == Project.call_id)
        .where(ProjectPartner.organisation_id.in_(org_ids), terms.relevant)
        .order_by(Project.id)
    ):
        org_id, project_id, title, acronym, programme, status, same, points = row[:8]
        if org_id in best and best[org_id][0] >= points:
            continue
        shared = [slug for slug, hit in zip(wanted, row[8:], strict=True) if hit]
        best[org_id] = (
            points,
            Reason(
                "past_project",
                {
                    "project": acronym or title,
                    "project_id": project_id,
                    "programme": programme or "",
                    "status": status.value,
                    "same_programme": bool(same),
                    "areas": shared[:MAX_COUNTED_AREAS],
                },
            ),
        )
    for org_id, (_, reason) in best.items():
        reasons[org_id].append(reason)
    return reasons


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
    networks = _networks(session, wanted)
    sisters = _sisters(session, wanted)
    terms = _project_terms(call, wanted, session.get_bind().dialect.name)
    ranked = _ranked(session, networks, sisters, terms, today)
    eligible_codes = rules.codes(RuleKind.ELIGIBLE_COUNTRIES)
    # Without a country rule nobody is kept apart.
    excluded = literal(False) if eligible_codes is None else _not_eligible(eligible_codes)
    best = list(session.execute(_best_of_each_side(ranked, excluded, limit)))
    fitting_rows = [(org_id, score, last) for org_id, score, last, out in best if not out]
    apart_rows = [(org_id, score, last) for org_id, score, last, out in best if out]
    if not fitting_rows and not apart_rows:
        return Suggestions([], [], wanted)
    org_ids = [row[0] for row in fitting_rows + apart_rows]
    organisations = {
        o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))
    }
    reasons = _reasons(session, org_ids, networks, sisters, terms, wanted)
    fitting: list[Suggestion] = []
    apart: list[Suggestion] = []
    for rows, target in ((fitting_rows, fitting), (apart_rows, apart)):
        for org_id, score, last in rows:
            organisation = organisations[org_id]
            eligible = country_is_eligible(organisation.country_code, eligible_codes)
            shown = reasons[org_id] + _contact_reasons(last, today)
            if target is apart:
                shown.insert(
                    0,
                    Reason(
                        "not_eligible",
                        {
                            "country": organisation.country_code,
                            "eligible": list(eligible_codes or []),
                        },
                    ),
                )
            target.append(Suggestion(organisation, float(score), shown, eligible, last))
    return Suggestions(fitting, apart, wanted)


def _contact_reasons(last: date | None, today: date) -> list[Reason]:
    if last is None:
        return []
    age = (today - last).days
    if age <= 365:
        return [Reason("recent_contact", {"on": last})]
    if age <= 3 * 365:
        return [Reason("contact", {"on": last})]
    return []
