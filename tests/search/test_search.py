"""Search that understands Swedish and English, on small calls written for these tests."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from tests.conftest import TrackerCli
from tests.factories import NOW, make_call, make_profile
from tests.factories.inbox import make_matched_call
from tracker.models import CallSearchTerms
from tracker.services.catalogue import CatalogueFilters, catalogue_page
from tracker.services.inbox import InboxFilters, inbox_page
from tracker.services.search import parse_query, refresh_search_terms


def found(session: Session, q: str) -> list[str]:
    page = catalogue_page(session, CatalogueFilters(q=q), now=NOW, page_size=100)
    return [row.title for row in page.rows]


@pytest.fixture
def calls(session: Session) -> None:
    make_call(
        session,
        title="Climate adaptation in European cities",
        description_text="Local authorities test nature-based solutions.",
        programme_label="LIFE Programme (LIFE)",
        identifier="LIFE-2027-CLIMA-CCA-01",
    )
    make_call(
        session,
        title="Heat resilience pilots",
        description_text="Cities and municipalities work on climate adaptation together.",
        programme_label="Horizon Europe (HORIZON)",
    )
    make_call(
        session,
        title="Music moves Europe",
        description_text="Support for musicians and the music sector.",
        programme_label="Creative Europe (CREA)",
    )
    make_call(
        session,
        title="Stöd till musikskolor i kommunerna",
        description_text="Kommuner kan söka stöd för kulturskolor och musikskolor.",
        programme_label="Kulturrådet",
        identifier="KR-2027-01",
    )
    make_call(
        session,
        title="Better communication for businesses",
        description_text="Kommunikation och marknadsföring för små företag.",
        programme_label="Tillväxtverket",
    )


@pytest.mark.usefixtures("calls")
def test_a_swedish_compound_finds_the_english_phrase_title_hits_first(session: Session) -> None:
    titles = found(session, "klimatanpassning")
    assert titles == ["Climate adaptation in European cities", "Heat resilience pilots"]


@pytest.mark.usefixtures("calls")
def test_swedish_words_find_english_calls(session: Session) -> None:
    assert "Climate adaptation in European cities" in found(session, "kommun")
    assert "Heat resilience pilots" in found(session, "kommuner")
    assert set(found(session, "städer")) == {
        "Climate adaptation in European cities",
        "Heat resilience pilots",
    }
    assert set(found(session, "musik")) == {
        "Stöd till musikskolor i kommunerna",
        "Music moves Europe",
    }


@pytest.mark.usefixtures("calls")
def test_a_word_only_contained_in_another_ranks_last(session: Session) -> None:
    # "kommun" is in "Kommunikation" as typed, but means municipality: those calls first.
    titles = found(session, "kommun")
    assert titles[-1] == "Better communication for businesses"
    assert set(titles[:-1]) == {
        "Stöd till musikskolor i kommunerna",
        "Climate adaptation in European cities",
        "Heat resilience pilots",
    }
    assert titles[0] == "Stöd till musikskolor i kommunerna"  # in its title


@pytest.mark.usefixtures("calls")
def test_english_words_find_swedish_calls(session: Session) -> None:
    assert "Stöd till musikskolor i kommunerna" in found(session, "music school")
    assert "Stöd till musikskolor i kommunerna" in found(session, "municipalities")
    assert "Stöd till musikskolor i kommunerna" not in found(session, "climate adaptation")


@pytest.mark.usefixtures("calls")
def test_identifiers_and_programme_names_are_found(session: Session) -> None:
    assert found(session, "LIFE-2027-CLIMA-CCA-01") == ["Climate adaptation in European cities"]
    assert found(session, "kr-2027-01") == ["Stöd till musikskolor i kommunerna"]
    assert found(session, "Creative Europe") == ["Music moves Europe"]


@pytest.mark.usefixtures("calls")
def test_every_word_must_be_found(session: Session) -> None:
    assert found(session, "music cities") == []
    assert found(session, "klimatanpassning städer") == [
        "Climate adaptation in European cities",
        "Heat resilience pilots",
    ]


def test_edited_calls_are_searched_as_they_now_read(session: Session) -> None:
    call = make_call(session, title="Old wording", description_text="Nothing to see.")
    assert found(session, "musik") == []
    call.title = "Music for all"
    session.flush()
    assert found(session, "musik") == ["Music for all"]
    assert session.get(CallSearchTerms, call.id) is not None


def test_refreshing_every_call_rebuilds_the_index(session: Session) -> None:
    make_call(session, title="Schools in the city")
    session.query(CallSearchTerms).delete()
    assert found(session, "skolor") == []
    assert refresh_search_terms(session, now=NOW) == 1
    assert found(session, "skolor") == ["Schools in the city"]


def test_the_inbox_search_understands_swedish(session: Session) -> None:
    make_profile(session)
    make_matched_call(session, {"education": 70}, title="Schools and teachers")
    make_matched_call(
        session, {"education": 60}, title="Adult learning", description_text="For schools too."
    )
    make_matched_call(session, {"education": 80}, title="Sports clubs")
    page = inbox_page(session, InboxFilters(q="skolor"), now=NOW)
    # The title hit first, whatever the score.
    assert [row.title for row in page.rows] == ["Schools and teachers", "Adult learning"]


def test_a_query_is_cut_into_known_phrases() -> None:
    # "climate adaptation" is one concept (with its Swedish compound), "in" is dropped.
    query = parse_query("climate adaptation in cities")
    assert len(query.groups) == 2
    assert ("climat", "adapt") in query.groups[0]
    assert ("climat", "adapt") in parse_query("klimatanpassning").groups[0]
    assert not parse_query("100%")  # no words: looked for as typed


def test_the_cli_rebuilds_the_search_index(runner: TrackerCli, engine: Engine) -> None:
    with Session(engine) as session:
        make_call(session, title="Music for all")
        make_call(session, title="Schools in the city")
        session.execute(delete(CallSearchTerms))
        session.commit()
        assert found(session, "musik") == []
    result = runner("inbox", "reindex")
    assert result.exit_code == 0, result.output
    assert result.output == "2 calls indexed for search\n"
    with Session(engine) as session:
        assert found(session, "musik") == ["Music for all"]
