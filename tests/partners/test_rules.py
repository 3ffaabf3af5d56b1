"""The partner-rule reader on sentences written for the test (English and Swedish)."""

from __future__ import annotations

import pytest

from tracker.partners.rules import (
    ASSOCIATED,
    EU,
    CallText,
    RuleKind,
    country_is_eligible,
    read_partner_rules,
    sentences,
)


@pytest.mark.parametrize(
    ("text", "partners", "countries"),
    [
        (
            "The consortium must be composed of minimum 4 independent entities from 4 different "
            "eligible countries.",
            4,
            4,
        ),
        (
            "Proposals must be submitted by at least 3 applicants (beneficiaries; not affiliated "
            "entities) from 3 different eligible countries.",
            3,
            3,
        ),
        (
            "Only consortia are eligible, provided that the consortium includes, as beneficiaries, "
            "three legal entities independent from each other and each established in a different "
            "country.",
            3,
            3,
        ),
        (
            "Each project must involve at least one partner from Finland and one partner from "
            "Estonia.",
            2,
            2,
        ),
        (
            "The minimum requirement is to have two project partners from two different Member "
            "States.",
            2,
            2,
        ),
        ("Konsortiet ska bestå av minst tre partner från minst två olika länder.", 3, 2),
        ("Ansökan ska lämnas av minst fyra organisationer från minst tre länder.", 4, 3),
        # Not about the consortium: pilots, third parties, background, a single partner.
        ("The pilots must take place in at least three different Member States.", None, None),
        ("Financial support to third parties: at least 20 start-ups from 5 countries.", None, None),
        ("Fifteen Member States have updated their plans.", None, None),
        ("At least one partner must be a public authority.", None, None),
        (
            "Applicants are encouraged to involve partners from at least three countries.",
            None,
            None,
        ),
    ],
)
def test_minimum_partners_and_countries(
    text: str, partners: int | None, countries: int | None
) -> None:
    rules = read_partner_rules(CallText(description=text))
    assert rules.number(RuleKind.MIN_PARTNERS) == partners
    assert rules.number(RuleKind.MIN_COUNTRIES) == countries


def test_the_largest_minimum_wins_and_the_evidence_is_its_sentence() -> None:
    text = (
        "The partnership must include at least two partners. "
        "In total the partnership includes minimum 8 organisations."
    )
    rule = read_partner_rules(CallText(conditions=text)).get(RuleKind.MIN_PARTNERS)
    assert rule.value == 8
    assert rule.evidence == "In total the partnership includes minimum 8 organisations."
    assert rule.origin == "conditions"


@pytest.mark.parametrize(
    ("text", "maximum"),
    [
        ("The number of partners is maximum 8, including the lead partner.", 8),
        ("A project partnership can consist of up to 12 beneficiaries.", 12),
        ("Partnerskapet får bestå av högst sex partner.", 6),
        ("The maximum number of beneficiaries is not limited.", None),
        ("Indicatively, not more than ten participants.", None),
    ],
)
def test_maximum_partners(text: str, maximum: int | None) -> None:
    assert read_partner_rules(CallText(conditions=text)).number(RuleKind.MAX_PARTNERS) == maximum


def test_eligible_countries_from_a_list_introduced_by_a_colon() -> None:
    text = (
        "In order to be eligible, the applicants must be established in one of the eligible "
        "countries, i.e.:\n\n  EU Member States (including OCTs)\n  countries associated to "
        "the Programme\n\nNatural persons are not eligible."
    )
    rules = read_partner_rules(CallText(conditions=text))
    assert rules.codes(RuleKind.ELIGIBLE_COUNTRIES) == (ASSOCIATED, EU)
    assert "countries associated" in rules.get(RuleKind.ELIGIBLE_COUNTRIES).evidence


def test_named_countries_and_the_structured_area() -> None:
    named = "Applicants have to have their headquarters in Finland or Sweden or Norway."
    assert read_partner_rules(CallText(conditions=named)).codes(RuleKind.ELIGIBLE_COUNTRIES) == (
        "FI",
        "NO",
        "SE",
    )
    area = read_partner_rules(CallText(eligible_countries=("SE", "NO")))
    assert area.codes(RuleKind.ELIGIBLE_COUNTRIES) == ("NO", "SE")
    assert area.get(RuleKind.ELIGIBLE_COUNTRIES).origin == "eligible_area"


def test_lead_and_required_types() -> None:
    text = (
        "Lead partners must be public bodies. SMEs may not be lead partners. "
        "At least one applicant must be a civil society organisation. "
        "We encourage projects to involve a university."
    )
    rules = read_partner_rules(CallText(conditions=text))
    assert rules.codes(RuleKind.LEAD) == ("public",)
    assert rules.codes(RuleKind.PARTNER_TYPES) == ("civil_society",)


@pytest.mark.parametrize(
    ("text", "lead"),
    [
        ("Lead partners may only be Finnish or Estonian project partners.", ("EE", "FI")),
        # An alternative the reader does not know (a region): no half answer.
        ("Lead partners may only be Finnish or Lapland project partners.", None),
        # A lead chosen by an earlier selection is narrower than any type.
        ("The lead partner must be an SME pre-selected in the first stage.", None),
        ("The coordinator must be a Step 1-selected company.", None),
        # The restriction in the next sentence, pointing back at the lead partner.
        (
            "The partners must appoint a lead partner. Only public authorities may assume "
            "this function.",
            ("public",),
        ),
        ("The partners must appoint a lead partner. Only few may assume this role.", None),
        ("Only public authorities may assume this function.", None),
    ],
)
def test_who_may_lead_is_read_whole_or_not_at_all(text: str, lead: tuple[str, ...] | None) -> None:
    assert read_partner_rules(CallText(conditions=text)).codes(RuleKind.LEAD) == lead


@pytest.mark.parametrize(
    "text",
    [
        "The company must be established in an EU Member State or a country associated with "
        "Horizon Europe.",
        "The entities must be established in two different European Member States and/or "
        "third countries associated with Horizon Europe.",
    ],
)
def test_member_states_and_a_country_associated_in_other_words(text: str) -> None:
    rules = read_partner_rules(CallText(conditions=text))
    assert rules.codes(RuleKind.ELIGIBLE_COUNTRIES) == (ASSOCIATED, EU)


def test_nothing_stated_is_unknown() -> None:
    rules = read_partner_rules(CallText(description="Support for cultural festivals."))
    assert all(not rules.get(kind).is_known for kind in RuleKind)
    assert rules.values() == {}


def test_sentences_keep_semicolons_and_abbreviations() -> None:
    text = "At least 3 applicants (beneficiaries; not affiliated), i.e. partners. Next one."
    assert list(sentences(text)) == [
        "At least 3 applicants (beneficiaries; not affiliated), i.e. partners.",
        "Next one.",
    ]


@pytest.mark.parametrize(
    ("country", "eligible", "expected"),
    [
        ("IT", (EU,), True),
        ("NO", (EU,), False),
        ("NO", (EU, "EEA"), True),
        ("KE", (EU, ASSOCIATED), None),
        ("DE", ("DE", "PL"), True),
        ("SE", ("DE", "PL"), False),
        ("SE", None, None),
        (None, (EU,), None),
    ],
)
def test_country_is_eligible(
    country: str | None, eligible: tuple[str, ...] | None, expected: bool | None
) -> None:
    assert country_is_eligible(country, eligible) is expected


def test_one_of_each_type_is_not_two_countries() -> None:
    rules = read_partner_rules(
        CallText(conditions="The partnership must include at least one SME and one university.")
    )
    assert rules.number(RuleKind.MIN_COUNTRIES) is None
    assert rules.number(RuleKind.MIN_PARTNERS) is None


def test_one_partner_from_each_side_of_a_border() -> None:
    text = "At least one Finnish and at least one Swedish partner must take part."
    rules = read_partner_rules(CallText(conditions=text))
    assert rules.number(RuleKind.MIN_COUNTRIES) == 2
    assert rules.codes(RuleKind.ELIGIBLE_COUNTRIES) == ("FI", "SE")


def test_swedish_one_partner_from_each_country() -> None:
    text = "Projektet ska ha minst en partner från Finland och en partner från Sverige."
    rules = read_partner_rules(CallText(description=text))
    assert rules.number(RuleKind.MIN_PARTNERS) == 2
    assert rules.codes(RuleKind.ELIGIBLE_COUNTRIES) == ("FI", "SE")
