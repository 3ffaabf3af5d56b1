"""A planned consortium checked against a call's partner rules: what breaks a rule and what
is still missing, as codes with the values of their sentences (pure, no database)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tracker.partners.rules import (
    CIVIL_SOCIETY,
    INTERNATIONAL,
    PUBLIC,
    SME,
    UNIVERSITY,
    PartnerRules,
    RuleKind,
    country_is_eligible,
)

# Which organisation kinds (tracker.models.OrganisationKind values) count as which type.
TYPE_KINDS: dict[str, frozenset[str]] = {
    PUBLIC: frozenset({"municipality", "region", "agency"}),
    CIVIL_SOCIETY: frozenset({"ngo"}),
    UNIVERSITY: frozenset({"university"}),
    SME: frozenset({"company"}),
    INTERNATIONAL: frozenset({"network"}),
}


@dataclass(frozen=True)
class Participant:
    """One organisation in the consortium (the municipality itself included)."""

    name: str
    country_code: str | None
    kind: str
    role: str  # lead, partner or associated


@dataclass(frozen=True)
class Problem:
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsortiumCheck:
    problems: list[Problem]
    unchecked: list[RuleKind]  # rules the call does not state: nothing to check them against

    @property
    def is_complete(self) -> bool:
        return not self.problems


def _counted(participants: Sequence[Participant]) -> list[Participant]:
    # Associated partners bring no budget and do not count towards the minimums.
    return [p for p in participants if p.role != "associated"]


def _fits(participant: Participant, allowed: Sequence[str]) -> bool:
    for code in allowed:
        kinds = TYPE_KINDS.get(code)
        if kinds is not None and participant.kind in kinds:
            return True
        if kinds is None and country_is_eligible(participant.country_code, [code]):
            return True
    return False


def check_consortium(rules: PartnerRules, participants: Sequence[Participant]) -> ConsortiumCheck:
    """Every rule the consortium breaks, and every rule it cannot be checked against."""
    problems: list[Problem] = []
    unchecked = [kind for kind in RuleKind if not rules.get(kind).is_known]
    counted = _counted(participants)
    minimum = rules.number(RuleKind.MIN_PARTNERS)
    if minimum is not None and len(counted) < minimum:
        problems.append(
            Problem(
                "too_few_partners",
                {"need": minimum, "have": len(counted), "missing": minimum - len(counted)},
            )
        )
    maximum = rules.number(RuleKind.MAX_PARTNERS)
    if maximum is not None and len(counted) > maximum:
        problems.append(Problem("too_many_partners", {"most": maximum, "have": len(counted)}))
    countries = sorted({p.country_code for p in counted if p.country_code})
    least = rules.number(RuleKind.MIN_COUNTRIES)
    if least is not None and len(countries) < least:
        problems.append(
            Problem(
                "too_few_countries",
                {"need": least, "have": len(countries), "countries": countries},
            )
        )
    eligible = rules.codes(RuleKind.ELIGIBLE_COUNTRIES)
    for p in participants:
        if country_is_eligible(p.country_code, eligible) is False:
            problems.append(
                Problem(
                    "not_eligible",
                    {"name": p.name, "country": p.country_code, "eligible": list(eligible or [])},
                )
            )
    leads = [p for p in participants if p.role == "lead"]
    if not leads:
        problems.append(Problem("no_lead"))
    elif len(leads) > 1:
        problems.append(Problem("several_leads", {"names": [p.name for p in leads]}))
    lead_rule = rules.codes(RuleKind.LEAD)
    if lead_rule and len(leads) == 1 and not _fits(leads[0], lead_rule):
        problems.append(
            Problem("lead_not_allowed", {"name": leads[0].name, "allowed": list(lead_rule)})
        )
    for required in rules.codes(RuleKind.PARTNER_TYPES) or ():
        if not any(p.kind in TYPE_KINDS.get(required, frozenset()) for p in participants):
            problems.append(Problem("missing_type", {"type": required}))
    return ConsortiumCheck(problems, unchecked)
