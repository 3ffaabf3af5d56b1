"""The consortium check catches every rule break, case by case."""

from __future__ import annotations

from typing import Any

import pytest

from tracker.partners.consortium import Participant, check_consortium
from tracker.partners.rules import EU, PartnerRules, Rule, RuleKind

US = Participant("Norrköpings kommun", "SE", "municipality", "lead")
RIGA = Participant("Riga", "LV", "municipality", "partner")
BOLOGNA = Participant("Comune di Bologna", "IT", "municipality", "partner")
LIU = Participant("Linköpings universitet", "SE", "university", "partner")
NGO_IT = Participant("Arci Bologna", "IT", "ngo", "partner")
OSLO = Participant("Oslo kommune", "NO", "municipality", "partner")
KENYA = Participant("Kisumu County", "KE", "region", "partner")
ASSOCIATED_DE = Participant("Esslingen am Neckar", "DE", "municipality", "associated")
COMPANY_LEAD = Participant("Musikbolaget AB", "SE", "company", "lead")


def _rules(**values: Any) -> PartnerRules:
    rules = {}
    for name, value in values.items():
        kind = RuleKind(name)
        rules[kind] = Rule(kind, tuple(value) if isinstance(value, list) else value, "", "staff")
    return PartnerRules(rules)


CASES: list[tuple[str, dict[str, Any], list[Participant], list[str]]] = [
    (
        "all rules met",
        {"min_partners": 3, "min_countries": 3, "eligible_countries": [EU]},
        [US, RIGA, BOLOGNA],
        [],
    ),
    ("one partner short", {"min_partners": 3}, [US, RIGA], ["too_few_partners"]),
    (
        "associated partners do not count",
        {"min_partners": 3},
        [US, RIGA, ASSOCIATED_DE],
        ["too_few_partners"],
    ),
    ("two partners from one country", {"min_countries": 3}, [US, LIU, RIGA], ["too_few_countries"]),
    ("too many", {"max_partners": 2}, [US, RIGA, BOLOGNA], ["too_many_partners"]),
    ("a country outside the EU", {"eligible_countries": [EU]}, [US, RIGA, OSLO], ["not_eligible"]),
    (
        "named countries only",
        {"eligible_countries": ["LV", "SE"]},
        [US, RIGA, BOLOGNA],
        ["not_eligible"],
    ),
    ("EEA accepted", {"eligible_countries": [EU, "EEA"]}, [US, OSLO], []),
    (
        "nobody leads",
        {},
        [Participant("Norrköpings kommun", "SE", "municipality", "partner"), RIGA],
        ["no_lead"],
    ),
    ("two leads", {}, [US, Participant("Riga", "LV", "municipality", "lead")], ["several_leads"]),
    ("a company may not lead", {"lead": ["public"]}, [COMPANY_LEAD, RIGA], ["lead_not_allowed"]),
    ("a public body leads", {"lead": ["public"]}, [US, RIGA], []),
    ("the lead must be Latvian", {"lead": ["LV"]}, [US, RIGA], ["lead_not_allowed"]),
    (
        "no civil society partner",
        {"partner_types": ["civil_society"]},
        [US, RIGA],
        ["missing_type"],
    ),
    ("a civil society partner", {"partner_types": ["civil_society"]}, [US, NGO_IT], []),
    (
        "several breaks at once",
        {
            "min_partners": 4,
            "min_countries": 3,
            "eligible_countries": [EU],
            "partner_types": ["university"],
        },
        [US, KENYA],
        ["too_few_partners", "too_few_countries", "not_eligible", "missing_type"],
    ),
]


@pytest.mark.parametrize(
    ("case", "rules", "participants", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_every_rule_break_is_caught(
    case: str, rules: dict[str, Any], participants: list[Participant], expected: list[str]
) -> None:
    check = check_consortium(_rules(**rules), participants)
    assert [p.code for p in check.problems] == expected
    assert check.is_complete is (expected == [])


def test_the_problems_say_what_is_missing() -> None:
    check = check_consortium(_rules(min_partners=5, min_countries=3), [US, RIGA])
    assert check.problems[0].params == {"need": 5, "have": 2, "missing": 3}
    assert check.problems[1].params == {"need": 3, "have": 2, "countries": ["LV", "SE"]}


def test_rules_the_call_does_not_state_are_listed_as_unchecked() -> None:
    check = check_consortium(_rules(min_partners=2), [US, RIGA])
    assert check.is_complete
    assert RuleKind.MIN_PARTNERS not in check.unchecked
    assert RuleKind.ELIGIBLE_COUNTRIES in check.unchecked
