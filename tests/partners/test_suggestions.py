"""Partner suggestions on calls with country rules: order, reasons, and those kept apart."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.factories.partners import TODAY, build_world, culture_call, match, twinning_call
from tracker.services.partner_rules import call_partner_rules
from tracker.services.partner_suggestions import Suggestions, suggest_partners


def _names(items: Suggestions) -> tuple[list[str], list[str]]:
    return [s.organisation.name for s in items.fitting], [s.organisation.name for s in items.apart]


def test_a_creative_europe_call_puts_the_past_awarded_partner_first(session: Session) -> None:
    world = build_world(session)
    call = culture_call(session)
    found = suggest_partners(session, call, call_partner_rules(session, call), today=TODAY)
    fitting, apart = _names(found)
    # Aarhus did an awarded Creative Europe project with us; Oslo a rejected one (the same
    # programme still counts) but Norway is not an EU member state; Xuzhou's culture plans
    # do not make China eligible.
    assert fitting[0] == world.aarhus.name
    assert apart[:2] == [world.oslo_music.name, world.xuzhou.name]
    first = found.fitting[0]
    codes = [r.code for r in first.reasons]
    assert codes[0] == "past_project"
    assert first.reasons[0].params["same_programme"] is True
    assert first.reasons[0].params["status"] == "awarded"
    for suggestion in found.apart:
        assert suggestion.reasons[0].code == "not_eligible"
        assert suggestion.reasons[0].params["eligible"] == ["EU"]
    # SERN members and sister cities in EU countries are still suggested, after Aarhus.
    assert {world.bologna.name, world.riga.name, world.esslingen.name} <= set(fitting)


def test_a_cross_border_call_keeps_only_its_countries(session: Session) -> None:
    world = build_world(session)
    call = twinning_call(session)
    found = suggest_partners(session, call, call_partner_rules(session, call), today=TODAY)
    fitting, apart = _names(found)
    assert fitting == [world.riga.name]
    riga = found.fitting[0]
    assert [r.code for r in riga.reasons] == ["sister_city", "recent_contact"]
    assert riga.reasons[0].params["areas"] == ["participation-democracy"]
    # Bologna (SERN, citizen influence, spoken to in September) ranks above Parma and
    # Esslingen among those kept apart, each with the reason.
    assert apart[0] == world.bologna.name
    assert set(apart) >= {world.parma.name, world.esslingen.name, world.xuzhou.name}
    bologna = found.apart[0]
    assert bologna.reasons[0].params == {"country": "IT", "eligible": ["LT", "LV"]}
    network = next(r for r in bologna.reasons if r.code == "network")
    assert network.params["themes"] == ["More citizen influence"]


def test_the_network_theme_matching_the_call_ranks_first_when_all_are_eligible(
    session: Session,
) -> None:
    world = build_world(session)
    call = culture_call(session)
    call.description_text = "Support for services to the growing elderly population."
    match(session, call, "health-welfare")
    found = suggest_partners(session, call, call_partner_rules(session, call), today=TODAY)
    fitting, apart = _names(found)
    assert apart == []  # the call states no country rule
    # Aarhus: same programme, awarded, culture; Bologna: SERN's elderly-services theme and a
    # recent contact; Parma: the same theme, contact four years ago.
    assert fitting.index(world.bologna.name) < fitting.index(world.parma.name)
    bologna = next(s for s in found.fitting if s.organisation is world.bologna)
    assert bologna.eligible is None
    assert any(
        r.code == "network"
        and r.params["themes"] == ["Services for the growing elderly population"]
        for r in bologna.reasons
    )
