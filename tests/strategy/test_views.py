"""The strategy pages: reading the profile, editing it, and a call's scores with evidence."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import NOW, login, make_call, make_user
from tracker.models import MatchDecision, Role, StrategyProfile
from tracker.services.strategy import ensure_default_profile, match_calls, profile_of


def _heating_call(session: Session) -> int:
    call = make_call(
        session,
        title="Local heating and cooling plans for municipalities",
        programme_label="Programme for the Environment and Climate Action (LIFE)",
        description_text="Local authorities prepare heating and cooling plans and improve the "
        "energy efficiency of buildings with citizens.",
    )
    match_calls(session, [call.id], now=NOW)
    return call.id


def test_everyone_signed_in_reads_the_profile(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.VIEWER, language="en"))
    page = client.get("/strategy/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Energy and environment" in html and "Knowledge city" in html
    assert "geography.interreg" in html
    assert "/strategy/areas/education/edit" not in html  # viewers see no edit links
    assert client.get("/strategy/areas/education/edit").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    assert client.get("/strategy/").status_code == 302


def test_admin_edits_an_area_which_makes_a_new_version(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    login(client, make_user(session, role=Role.ADMIN))
    form = client.get("/strategy/areas/culture-music/edit").get_data(as_text=True)
    assert "3 sv musik" in form  # terms are listed as "weight lang text"
    response = client.post(
        "/strategy/areas/culture-music/edit",
        data={
            "csrf_token": csrf,
            "slug": "culture-music",
            "name_sv": "Kultur och musik",
            "name_en": "Culture and music",
            "threshold": "65",
            "terms": "3 en music\n2 sv musik\n1 any UNESCO",
            "negative_terms": "",
            "programme_priors": "2 label Creative Europe -- Creative Europe",
        },
    )
    assert response.status_code == 302
    active = session.scalar(select(StrategyProfile).where(StrategyProfile.is_active.is_(True)))
    assert active is not None and active.version == 2
    culture = profile_of(active).area("culture-music")
    assert culture.threshold == 65 and culture.name_sv == "Kultur och musik"
    assert [t.text for t in culture.terms] == ["music", "musik", "UNESCO"]
    assert culture.programme_priors[0].label == "Creative Europe"


def test_area_form_errors_are_shown_and_nothing_is_saved(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    login(client, make_user(session, role=Role.ADMIN, language="en"))
    ensure_default_profile(session, now=NOW)
    response = client.post(
        "/strategy/areas/new",
        data={
            "csrf_token": csrf,
            "slug": "Bad Slug",
            "name_sv": "X",
            "name_en": "X",
            "threshold": "50",
            "terms": "school",
            "negative_terms": "",
            "programme_priors": "",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Line 1" in html
    assert session.scalar(select(StrategyProfile).where(StrategyProfile.version == 2)) is None


def test_settings_must_be_valid_json(client: FlaskClient, session: Session, csrf: str) -> None:
    login(client, make_user(session, role=Role.ADMIN, language="en"))
    assert client.get("/strategy/settings").status_code == 200
    response = client.post(
        "/strategy/settings", data={"csrf_token": csrf, "gates": "{", "context": "{}"}
    )
    assert response.status_code == 422
    assert "Not valid JSON" in response.get_data(as_text=True)


def test_call_page_shows_scores_evidence_and_takes_decisions(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    call_id = _heating_call(session)
    editor = make_user(session, role=Role.EDITOR, language="en")
    login(client, editor)
    html = client.get(f"/strategy/calls/{call_id}").get_data(as_text=True)
    assert "Energy and environment" in html and "match" in html
    assert "heating and cooling" in html  # a matched term
    assert "<q>" in html  # with a snippet of the text
    response = client.post(
        f"/strategy/calls/{call_id}/decisions",
        data={
            "csrf_token": csrf,
            "area": "energy-environment",
            "verdict": "not_relevant",
            "reason_not_relevant": "not-our-goals",
            "reason_relevant": "fits-strategy",
        },
    )
    assert response.status_code == 302
    decision = session.scalar(select(MatchDecision))
    assert decision is not None and not decision.relevant and decision.reason == "not-our-goals"
    assert decision.actor_id == editor.id
    assert "Staff: not relevant" in client.get(f"/strategy/calls/{call_id}").get_data(as_text=True)


def test_viewers_cannot_decide(client: FlaskClient, session: Session, csrf: str) -> None:
    call_id = _heating_call(session)
    login(client, make_user(session, role=Role.VIEWER))
    html = client.get(f"/strategy/calls/{call_id}").get_data(as_text=True)
    assert "verdict" not in html
    response = client.post(
        f"/strategy/calls/{call_id}/decisions",
        data={"csrf_token": csrf, "area": "education", "verdict": "relevant"},
    )
    assert response.status_code == 403


def test_matching_calls_are_listed_with_their_scores(client: FlaskClient, session: Session) -> None:
    call_id = _heating_call(session)
    login(client, make_user(session, role=Role.VIEWER, language="en"))
    html = client.get("/strategy/matches").get_data(as_text=True)
    assert f"/strategy/calls/{call_id}" in html and "Energy and environment" in html
    other = client.get("/strategy/matches?area=culture-music").get_data(as_text=True)
    assert f"/strategy/calls/{call_id}" not in other


def test_the_region_gate_reads_in_the_users_language(client: FlaskClient, session: Session) -> None:
    call = make_call(
        session,
        title="Call for projects on sustainable tourism along the coast",
        programme_label="Interreg Öresund-Kattegat-Skagerrak (ÖKS)",
        description_text="Municipalities cooperate on sustainable tourism.",
        eligible_area={
            "countries": ["DK", "NO", "SE"],
            "country_names": ["Denmark", "Norway", "Sweden"],
            "nuts": ["DK011", "NO081", "SE231", "SE232"],
        },
    )
    match_calls(session, [call.id], now=NOW)
    session.commit()
    session.refresh(call)
    assert call.gate_code == "geography.region" and call.gate_params is not None
    assert call.gate_params["region"] == "SE123"

    login(client, make_user(session, role=Role.VIEWER, language="sv"))
    swedish = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert (
        "Interreg Öresund-Kattegat-Skagerrak (ÖKS): det stödberättigade området "
        "(Denmark, Norway, Sweden) omfattar inte kommunens region SE123." in swedish
    )
    strategy = client.get(f"/strategy/calls/{call.id}").get_data(as_text=True)
    assert "omfattar inte kommunens region SE123" in strategy

    login(client, make_user(session, role=Role.VIEWER, language="en"))
    english = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "does not include the municipality&#39;s region SE123" in english


def test_a_call_without_text_says_what_it_was_matched_on(
    client: FlaskClient, session: Session
) -> None:
    call = make_call(
        session,
        title="Green and inclusive towns: small projects",
        programme_label="Interreg Central Baltic",
        description_text=None,
        keywords=["Greener Europe"],
    )
    match_calls(session, [call.id], now=NOW)
    session.commit()

    login(client, make_user(session, role=Role.VIEWER, language="sv"))
    html = client.get(f"/calls/{call.id}").get_data(as_text=True)

    assert "Ingen beskrivning: matchad enbart på titel, teman och program." in html


def test_admin_sets_the_municipalitys_region(
    client: FlaskClient, session: Session, csrf: str
) -> None:
    login(client, make_user(session, role=Role.ADMIN, language="en"))
    page = client.get("/strategy/").get_data(as_text=True)
    assert "The municipality's region (NUTS code):" in page and "<code>SE123</code>" in page

    bad = client.post("/strategy/region", data={"csrf_token": csrf, "home_region": "Linköping"})
    assert bad.status_code == 302
    assert "is not a NUTS code" in client.get("/strategy/").get_data(as_text=True)

    client.post("/strategy/region", data={"csrf_token": csrf, "home_region": "se232"})

    row = session.scalars(select(StrategyProfile).where(StrategyProfile.is_active)).one()
    assert profile_of(row).gates.home_region == "SE232"
    assert "<code>SE232</code>" in client.get("/strategy/").get_data(as_text=True)


def test_strategy_page_shows_per_area_whether_learning_is_in_use(
    client: FlaskClient, session: Session
) -> None:
    from tracker.matching.learning import LearnedModel
    from tracker.models import MatchModel

    row = ensure_default_profile(session, now=NOW)
    model = LearnedModel(
        shared={},
        per_area={},
        counts={"energy-environment": 40, "education": 12},
        area_blend={"energy-environment": 0.5, "education": 0.0},
        area_status={"energy-environment": "learned", "education": "too few decisions"},
        area_effect={"energy-environment": (5, 1)},
    )
    session.add(
        MatchModel(profile_id=row.id, trained_at=NOW, decision_count=52, model=model.to_dict())
    )
    session.commit()
    login(client, make_user(session, role=Role.VIEWER, language="sv"))
    html = client.get("/strategy/").get_data(as_text=True)
    energy = html.split('id="learning-energy-environment"')[1].split("</tr>")[0]
    education = html.split('id="learning-education"')[1].split("</tr>")[0]
    assert "används" in energy and "50 %" in energy and "5 beslut rättade, 1 gjorda fel" in energy
    assert "+0" in energy
    assert "för få beslut" in education and "0 %" in education


def test_call_page_shows_who_may_apply_in_the_readers_language(
    client: FlaskClient, session: Session
) -> None:
    call = make_call(
        session,
        title="Energy efficiency of public buildings",
        programme_label="Programme for the Environment and Climate Action (LIFE)",
        description_text="The action improves energy efficiency of public buildings and "
        "district heating, with renovation plans, heat pumps and renewable energy communities.",
        eligible_applicants="Local public authority; NGO",
    )
    match_calls(session, [call.id], now=NOW)
    session.commit()
    login(client, make_user(session, role=Role.VIEWER, language="sv"))
    html = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "Vem kan söka" in html
    assert "Kommuner, städer, levande laboratorier eller lokala piloter deltar" in html
