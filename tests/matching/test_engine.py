"""Scores and evidence: where terms matched, with snippets; robustness to noise."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tracker.matching.call import CallInput
from tracker.matching.engine import CompiledProfile, compile_profile, match_call
from tracker.matching.profile import FocusArea, Profile, Term


def _call(title: str, description: str = "", programme: str = "", **kw: object) -> CallInput:
    return CallInput(id="x", title=title, description=description, programme=programme, **kw)  # type: ignore[arg-type]


def test_evidence_names_the_field_and_quotes_the_text(compiled: CompiledProfile) -> None:
    call = _call(
        "Town twinning for active citizenship",
        "Municipalities bring citizens of twinned towns together to discuss democratic "
        "participation "
        "and European remembrance at local level.",
        "Citizens, Equality, Rights and Values Programme (CERV)",
    )
    result = match_call(compiled, call)
    area = result.area("participation-democracy")
    assert area.is_match
    terms = {e.text: e for e in area.evidence if e.kind == "term"}
    assert terms["town twinning"].field == "title"
    assert terms["town twinning"].snippet is not None
    assert "Town twinning" in terms["town twinning"].snippet
    assert terms["democratic participation"].field == "description"
    assert "democratic participation" in (terms["democratic participation"].snippet or "")
    assert all(len(e.snippet or "") <= 120 for e in area.evidence)
    priors = [e for e in area.evidence if e.kind == "prior"]
    assert priors and all(e.field == "programme" for e in priors)
    applicant = [e.text for e in area.evidence if e.kind == "applicant"]
    assert "municipalities" in applicant


def test_keywords_and_tags_are_their_own_field(compiled: CompiledProfile) -> None:
    call = _call(
        "Open call 2026", "Funding for projects.", keywords=("circular economy",), tags=("waste",)
    )
    area = match_call(compiled, call, snippets="all").area("energy-environment")
    fields = {e.text: e.field for e in area.evidence if e.kind == "term"}
    assert fields["circular economy"] == "keywords and tags"


def test_one_shared_word_does_not_make_a_match(compiled: CompiledProfile) -> None:
    call = _call(
        "Advanced catalysts for ammonia synthesis",
        "Research on catalysts and reactors. The results may later be relevant to schools "
        "of thought in "
        "chemical engineering and to climate.",
        "Horizon Europe (HORIZON)",
    )
    result = match_call(compiled, call)
    assert result.matches == ()
    assert max(a.score for a in result.areas) < 30


def test_title_weighs_more_than_description(compiled: CompiledProfile) -> None:
    body = "The action supports partners across Europe."
    in_title = match_call(compiled, _call("Energy efficiency in public buildings", body))
    in_text = match_call(
        compiled, _call("Open call 2026", body + " It also mentions energy efficiency.")
    )
    assert in_title.area("energy-environment").score > in_text.area("energy-environment").score + 20


def test_industrial_research_context_lowers_every_area(compiled: CompiledProfile) -> None:
    text = "Cities and municipalities will pilot energy efficiency measures and district heating."
    local = match_call(compiled, _call("Energy efficiency in district heating", text))
    industrial = match_call(
        compiled,
        _call(
            "Energy efficiency in district heating",
            text + " Industrial consortia will build prototypes at technology readiness level 6 "
            "with manufacturers of heat exchangers and power electronics.",
        ),
    )
    assert local.area("energy-environment").is_match
    # Compared in logit points: near 100 the score saturates (short records, local actors).
    local_z = local.area("energy-environment").features["rule"]
    assert industrial.area("energy-environment").features["rule"] < local_z - 2
    kinds = {e.kind for e in industrial.area("energy-environment").evidence}
    assert "exclusion" in kinds


def test_programme_priors_push_towards_and_away(compiled: CompiledProfile) -> None:
    call = _call(
        "Local partnerships",
        "Municipalities and civil society cooperate on climate adaptation plans.",
    )
    neutral = match_call(compiled, call).area("energy-environment").score
    life = match_call(compiled, replace(call, programme="LIFE")).area("energy-environment").score
    defence = match_call(compiled, replace(call, programme="European Defence Fund (EDF)"))
    assert life > neutral
    assert defence.area("energy-environment").score < neutral
    assert not defence.matches


def test_swedish_call_matches_through_stems_and_compounds(compiled: CompiledProfile) -> None:
    call = _call(
        "Stöd till klimatanpassningsarbete i kommunerna",
        "Kommuner kan söka stöd för åtgärder mot översvämningar och för energieffektivisering av "
        "byggnader. Lokala aktörer och föreningar ska involveras.",
        "Naturvårdsverket",
    )
    result = match_call(compiled, call)
    assert result.language == "sv"
    area = result.area("energy-environment")
    assert area.is_match
    found = {e.text for e in area.evidence if e.kind == "term"}
    assert "klimatanpassning" in found or "klimat" in found
    assert "energieffektivisering" in found


def test_phrases_match_as_a_whole_and_hide_their_words(compiled: CompiledProfile) -> None:
    area = FocusArea(
        slug="t",
        name_sv="T",
        name_en="T",
        terms=(Term("climate adaptation", 3.0), Term("climate", 1.0)),
    )
    compiled_t = compile_profile(Profile(name="t", version=1, areas=(area,)))
    both = match_call(compiled_t, _call("Climate adaptation for towns", ""), snippets="all").area(
        "t"
    )
    texts = [e.text for e in both.evidence if e.kind == "term"]
    assert texts == ["climate adaptation"]
    apart = match_call(
        compiled_t, _call("Adaptation of the climate model", ""), snippets="all"
    ).area("t")
    assert [e.text for e in apart.evidence if e.kind == "term"] == ["climate"]


def test_acronyms_match_upper_case_only(compiled: CompiledProfile) -> None:
    upper = match_call(compiled, _call("Mobility in VET for pupils", "")).area("education")
    lower = match_call(compiled, _call("Mobility in vet clinics", "")).area("education")
    assert "VET" in {e.text for e in upper.evidence}
    assert "VET" not in {e.text for e in lower.evidence}


def test_programme_names_in_the_text_are_not_topics(compiled: CompiledProfile) -> None:
    call = _call(
        "Call for intermediary organisations",
        "Funded under the Citizens, Equality, Rights and Values Programme.",
    )
    area = match_call(compiled, call, snippets="all").area("participation-democracy")
    assert not [e for e in area.evidence if e.kind == "term"]


def test_a_call_matches_at_most_two_areas(compiled: CompiledProfile) -> None:
    call = _call(
        "Neighbourhoods for all: culture, music, schools, elderly care, energy efficiency, "
        "integration of "
        "migrants, citizen participation and SMEs",
        "Municipalities and civil society in urban regeneration projects with festivals, "
        "pupils and teachers, older people and home care, district heating, refugees and "
        "newcomers, citizens' assemblies, "
        "entrepreneurs and start-ups.",
    )
    result = match_call(compiled, call)
    above = [a for a in result.areas if a.score >= a.threshold]
    assert len(above) > 2
    assert len(result.matches) == 2
    dropped = [a for a in above if not a.is_match]
    assert all(any(e.kind == "breadth" for e in a.evidence) for a in dropped)


def test_scores_are_bounded_and_deterministic(compiled: CompiledProfile) -> None:
    call = _call("Energy communities", "Local energy communities and municipalities.", "LIFE")
    first = match_call(compiled, call)
    assert first == match_call(compiled, call)
    assert all(0 <= a.score <= 100 for a in first.areas)


def test_snippets_only_for_matches_by_default(compiled: CompiledProfile) -> None:
    call = _call(
        "Energy communities", "Local energy communities and municipalities, and a museum.", "LIFE"
    )
    result = match_call(compiled, call)
    assert all(e.snippet for e in result.area("energy-environment").evidence if e.kind == "term")
    assert not any(e.snippet for e in result.area("culture-music").evidence)


def test_general_words_alone_do_not_carry_an_area(compiled: CompiledProfile) -> None:
    call = _call(
        "Youth and social media design",
        "Young people shape inclusive social media content.",
        "Pilot Projects & Preparation Actions (PPPA)",
    )
    result = match_call(compiled, call, snippets="all")
    assert "culture-music" not in {a.slug for a in result.matches}
    culture = result.area("culture-music")
    assert any(e.kind == "breadth" and "general words" in e.text for e in culture.evidence)


def test_an_area_named_in_the_title_is_not_called_a_side_theme(
    compiled: CompiledProfile,
) -> None:
    culture = (
        "Museums, cultural heritage sites, artists and the cultural and creative sectors "
        "take part in arts and culture programmes, festivals and creative industries. "
    )
    named = match_call(
        compiled,
        _call("Arts and culture for mental health", culture * 3 + "Mental health matters."),
        snippets="all",
    ).area("health-welfare")
    unnamed = match_call(
        compiled,
        _call("Arts and culture in Europe", culture * 3 + "Mental health matters."),
        snippets="all",
    ).area("health-welfare")
    side = "a side theme: another area dominates this call"
    assert side in {e.text for e in unnamed.evidence}
    assert side not in {e.text for e in named.evidence}
    assert named.score > unnamed.score


def test_municipal_care_and_welfare_work_is_health_and_welfare(compiled: CompiledProfile) -> None:
    swedish = _call(
        "Utveckling av hemsjukvård och äldreboenden",
        "Kommuner kan söka stöd för att utveckla hemsjukvård, e-hälsa och personlig assistans "
        "tillsammans med brukare och anhöriga.",
        "Allmänna arvsfonden",
    )
    english = _call(
        "Digital health services in nursing homes",
        "Municipalities and care workers pilot digital health and care services with older "
        "residents of nursing homes and their caregivers.",
    )
    for call, word in ((swedish, "hemsjukvård"), (english, "nursing homes")):
        area = match_call(compiled, call).area("health-welfare")
        assert area.is_match, call.title
        in_title = {e.text for e in area.evidence if e.kind == "term" and e.field == "title"}
        assert word in in_title


def test_an_area_the_title_does_not_mention_says_so_and_scores_lower(
    compiled: CompiledProfile,
) -> None:
    body = (
        "The project assesses deep reservoirs. It considers biodiversity, circularity, "
        "renewable energy and the clean energy transition, and engages local communities. "
    )
    silent = match_call(
        compiled, _call("Assessment of deep reservoirs", body * 4), snippets="all"
    ).area("energy-environment")
    named = match_call(
        compiled, _call("Renewable energy from deep reservoirs", body * 4), snippets="all"
    ).area("energy-environment")
    note = "no term of the area in the title"
    assert note in {e.text for e in silent.evidence if e.kind == "breadth"}
    assert note not in {e.text for e in named.evidence}
    assert silent.score < named.score


def test_farming_and_fisheries_count_against_energy_and_environment(
    compiled: CompiledProfile,
) -> None:
    body = (
        "The sea and marine biodiversity, coastal ecosystems and water quality are under "
        "pressure from climate change and pollution. "
    )
    sectors = "Solutions serve fisheries and aquaculture, agri-food and food production. "
    plain = match_call(compiled, _call("Marine ecosystems", body * 2), snippets="all")
    sectoral = match_call(compiled, _call("Marine ecosystems", body * 2 + sectors), snippets="all")
    area = sectoral.area("energy-environment")
    negatives = {e.text for e in area.evidence if e.kind == "negative"}
    assert {"fisheries", "aquaculture"} <= negatives
    assert area.score < plain.area("energy-environment").score - 10


def test_pilot_projects_and_preparatory_actions_lean_away_with_a_stated_prior(
    compiled: CompiledProfile,
) -> None:
    call = _call(
        "Democracy and citizen participation in Europe",
        "Civil society organisations and citizens take part in deliberative democracy.",
    )
    plain = match_call(compiled, call).area("participation-democracy")
    pilot = match_call(
        compiled, replace(call, programme="Pilot Projects & Preparation Actions (PPPA)")
    ).area("participation-democracy")
    priors = [e for e in pilot.evidence if e.kind == "prior"]
    assert priors and all(e.weight < 0 and e.field == "programme" for e in priors)
    assert pilot.features["rule"] < plain.features["rule"] - 1


def test_eu_mission_names_are_not_topics(compiled: CompiledProfile) -> None:
    call = _call(
        "Open call under the Climate-Neutral and Smart Cities Mission",
        "Support for pilot activities.",
    )
    area = match_call(compiled, call, snippets="all").area("regional-development")
    assert "smart cities" not in {e.text for e in area.evidence if e.kind == "term"}
    named = match_call(
        compiled,
        _call("Smart cities for everyone", "Support for pilot activities."),
        snippets="all",
    ).area("regional-development")
    assert "smart cities" in {e.text for e in named.evidence if e.kind == "term"}


def test_eu_neighbourhood_regions_are_not_town_neighbourhoods(compiled: CompiledProfile) -> None:
    """ "Neighbourhood East" names the EU's eastern partner countries: it is neither a
    topic of local development nor a sign that local actors may apply."""
    abroad = match_call(
        compiled,
        _call(
            "Online youth exchanges with the Neighbourhood East",
            "Young people from the Neighbourhood East and the Member States meet online.",
        ),
        snippets="all",
    ).area("regional-development")
    assert not {e.text for e in abroad.evidence if e.kind in ("term", "applicant")} & {
        "neighbourhoods",
        "neighbourhood",
    }
    local = match_call(
        compiled,
        _call(
            "Regeneration of deprived neighbourhoods",
            "Residents and the municipality renew the neighbourhood together.",
        ),
        snippets="all",
    ).area("regional-development")
    assert {e.text for e in local.evidence if e.kind == "term"} & {
        "neighbourhoods",
        "neighbourhood",
    }
    assert local.score > abroad.score


@pytest.mark.parametrize(
    ("slug", "english", "swedish"),
    [
        # Support to victims of violence in close relationships is the social services' work.
        (
            "health-welfare",
            (
                "Preventing domestic violence and supporting its victims",
                "Shelters and counselling.",
            ),
            ("Stöd till våldsutsatta kvinnor och barn", "Arbetet mot våld i nära relationer."),
        ),
        # Water services are the municipality's own.
        (
            "energy-environment",
            ("Water supply and water quality in growing towns", "Utilities plan for scarcity."),
            ("Vattenkvalitet och vattenbrist i kommunerna", "Kommuner planerar för torka."),
        ),
    ],
)
def test_municipal_services_named_in_a_short_record_match_their_area(
    compiled: CompiledProfile, slug: str, english: tuple[str, str], swedish: tuple[str, str]
) -> None:
    for title, description in (english, swedish):
        area = match_call(compiled, _call(title, description)).area(slug)
        assert area.is_match, title
        assert any(e.kind == "term" and e.field == "title" for e in area.evidence), title


def test_a_firms_internationalisation_is_business_not_the_knowledge_city(
    compiled: CompiledProfile,
) -> None:
    for title in (
        "Internationalisation of SMEs",
        "Export och internationalisering för små företag",
    ):
        result = match_call(compiled, _call(title, programme="Single Market Programme"))
        assert [a.slug for a in result.matches] == ["business-trade"], title
    own = match_call(compiled, _call("Internationalisation of local authorities"))
    assert "knowledge-city" in {a.slug for a in own.matches}


def test_swedish_compounds_with_a_common_head_match_their_topic(compiled: CompiledProfile) -> None:
    """ "klimatinvesteringar" is klimat + investeringar: a climate call, even when the
    head word is no term of any area."""
    call = _call("Stöd till lokala klimatinvesteringar", programme="Naturvårdsverket")
    area = match_call(compiled, call).area("energy-environment")
    assert area.is_match
    assert any(e.kind == "term" and e.field == "title" for e in area.evidence)


def test_literature_is_culture(compiled: CompiledProfile) -> None:
    call = _call("Translation of European literary works", programme="Creative Europe")
    assert "culture-music" in {a.slug for a in match_call(compiled, call).matches}
