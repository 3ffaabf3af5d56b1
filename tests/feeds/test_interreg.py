"""interreg.eu's calls index (Algolia) adapter."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.feeds.conftest import FakeClock, LocalServer, Reply, Seen, fixture_bytes, sample
from tracker.feeds.errors import BadPayload
from tracker.feeds.http import TrackerSession
from tracker.feeds.interreg import (
    NO_PAGE_TEXT,
    KeyRefused,
    KnownCall,
    fetch_interreg,
    main_text,
    parse_interreg,
    query_url,
)
from tracker.feeds.records import CallRecord, CallStatus, Quarantined, SourceKind, html_to_text
from tracker.feeds.registry import (
    SECRET_MASK,
    SourceSpec,
    fetch_source,
    masked_settings,
    settings_errors,
    unmasked_settings,
)

NOW = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
SAMPLE = "interreg_eu_algolia_calls_SUDOE_3hits_2026-08_fundhunt.json"
KEY = "0123456789abcdef-public-search-key"
QUERY_PATH = "/1/indexes/calls_en/query"


def _fixture_records() -> tuple[dict[str, CallRecord], list[Quarantined]]:
    pages = [fixture_bytes("interreg_page0.json"), fixture_bytes("interreg_page1.json")]
    items = list(parse_interreg(pages))
    records = {i.external_id: i for i in items if isinstance(i, CallRecord)}
    return records, [i for i in items if isinstance(i, Quarantined)]


# --- the real response ------------------------------------------------------------------


def test_real_response_field_by_field(samples: Path) -> None:
    result = parse_interreg([sample(samples, SAMPLE).read_bytes()])
    records = result.records()

    assert [r.external_id for r in records] == [
        "callForProjectsPage_3129",
        "callForProjectsPage_3090",
        "callForProjectsPage_3091",
    ]
    assert result.complete
    first = records[0]
    assert first.source_kind is SourceKind.INTERREG
    assert first.title == "3rd Interreg Sudoe call: on the road to capitalisation"
    assert first.programme_label == "Interreg South West Europe (SUDOE)"
    assert first.keywords == ("Better Governance",)
    assert first.url == "https://interreg-sudoe.eu/3a-convocatoria/"
    assert [link.url for link in first.links] == [
        "https://interreg-sudoe.eu/3a-convocatoria/",
        "https://interreg.eu/calls-for-projects/3rd-interreg-sudoe-call-on-the-road-to-capitalisation/",
    ]
    assert first.opens_at == datetime(2026, 5, 4, tzinfo=UTC)
    assert len(first.deadlines) == 1
    deadline = first.deadlines[0]
    assert deadline.date_only and deadline.day().isoformat() == "2026-09-30"
    assert first.status(NOW) is CallStatus.CLOSED
    assert first.status(datetime(2026, 9, 30, 20, 0, tzinfo=UTC)) is CallStatus.OPEN
    assert first.published_at == datetime(2026, 6, 8, 8, 40, 54, 437000, tzinfo=UTC)
    assert first.source_version == "2026-08-05T15:30:51.157Z"
    assert first.region == "Andorra, Spain, France, Portugal"
    area = first.eligible_area
    assert area is not None
    assert area.countries == ("AD", "ES", "FR", "PT")
    assert area.country_names == ("Andorra", "Spain", "France", "Portugal")
    assert len(area.nuts) == 126 and area.nuts[:3] == ("ES111", "ES421", "ES521")
    assert "PT11A" in area.nuts and "ES61" in area.nuts  # mixed levels kept
    applicants = first.eligible_applicants or ""
    assert applicants.startswith("Business support organisation; Cross-border legal body; ")
    assert "Local public authority; National public authority" in applicants
    assert first.description_html is None  # the hits have no text
    assert first.warnings == ()
    assert first.raw is not None and "_highlightResult" not in first.raw

    second = records[1]
    assert second.keywords == ("Greener Europe", "Social Europe")
    assert second.deadlines[0].day().isoformat() == "2026-10-30"
    assert "Enterprise, except SME" in (second.eligible_applicants or "")
    # Two calls of the programme share one page: still two records.
    assert records[2].url == first.url


def test_real_response_sent_through_the_multi_query_envelope_equals_a_single_result(
    samples: Path,
) -> None:
    data = json.loads(sample(samples, SAMPLE).read_bytes())
    single = parse_interreg([data["results"][0]]).records()
    envelope = parse_interreg([data]).records()

    assert [r.to_dict() for r in single] == [r.to_dict() for r in envelope]


# --- own fixtures -------------------------------------------------------------------------


def test_fixture_calls_and_their_areas() -> None:
    records, quarantined = _fixture_records()

    assert len(records) == 6
    assert [q.reason for q in quarantined] == ["hit without objectID or pageId"]
    central = records["callForProjectsPage_9101"]
    assert central.programme_label == "Interreg Central Baltic"
    assert central.eligible_area is not None and "SE123" in central.eligible_area.nuts
    assert central.eligible_applicants == (
        "Local public authority; Regional public authority; Interest groups, including NGOs; "
        "Education/training centre and school"
    )
    oks = records["callForProjectsPage_9103"]
    assert oks.eligible_area is not None
    assert [c for c in oks.eligible_area.nuts if c.startswith("SE")] == ["SE224", "SE231", "SE232"]
    bsr = records["callForProjectsPage_9102"]
    # A deadline with a time of day is a moment, not a day.
    assert bsr.deadlines[0].at == datetime(2031, 2, 12, 13, 0, tzinfo=UTC)
    assert not bsr.deadlines[0].date_only


def test_a_hit_without_dates_is_kept_and_announced_when_coming() -> None:
    records, _ = _fixture_records()
    urbact = records["callForProjectsPage_9105"]

    assert urbact.deadlines == () and urbact.opens_at is None
    assert urbact.status(NOW) is CallStatus.FORTHCOMING
    assert "no deadline given on interreg.eu" in urbact.warnings
    # Countries only, no regions: the country codes are the area.
    assert urbact.eligible_area is not None
    assert urbact.eligible_area.nuts == () and urbact.eligible_area.countries == ("AT", "BE", "SE")


def test_a_response_without_hits_is_refused() -> None:
    with pytest.raises(BadPayload, match="no 'hits' list"):
        parse_interreg([b'{"message": "Invalid Application-ID or API key", "status": 403}'])
    with pytest.raises(BadPayload, match="not valid JSON"):
        parse_interreg([b"<html>"])


def test_main_text_keeps_the_page_text_and_drops_navigation_and_scripts() -> None:
    text = main_text(fixture_bytes("interreg_programme_page.html"))

    assert text.startswith("Fourth call for projects")
    assert "green transition" in text and "- Small projects up to EUR 200 000" in text
    assert "Lead partners must be public authorities or NGOs." in text
    for absent in ("Home", "Cookie", "tracking", "font-family", "alert", "iframe"):
        assert absent not in text


# --- fetching -------------------------------------------------------------------------------


CENTRAL_BALTIC_PAGE = "/programme/centralbaltic.eu/calls/fourth-call/"


def _serve_index(server: LocalServer) -> None:
    """The two fixture pages, answered by the page number in the query body.

    The programmes' pages point to the local server (``/programme/<host><path>``),
    which answers 404 unless a test gives it the page.
    """
    pages = [
        json.loads(fixture_bytes("interreg_page0.json")),
        json.loads(fixture_bytes("interreg_page1.json")),
    ]
    for page in pages:
        result = page["results"][0] if "results" in page else page
        for hit in result["hits"]:
            if hit.get("callExternalUrl"):
                parts = urlsplit(hit["callExternalUrl"])
                hit["callExternalUrl"] = server.url(f"/programme/{parts.netloc}{parts.path}")

    def answer(seen: Seen) -> Reply:
        if seen.headers.get("x-algolia-api-key") != KEY:
            return Reply(status=403, body=b'{"message":"Invalid Application-ID or API key"}')
        params = parse_qs(json.loads(seen.body)["params"])
        number = int(params["page"][0])
        return Reply(body=json.dumps(pages[number]).encode(), headers={"ETag": f'"p{number}"'})

    server.routes[QUERY_PATH] = answer


def _fetch(server: LocalServer, http: TrackerSession, **options: Any) -> Any:
    settings: dict[str, Any] = {"read_pages": False, **options}
    return fetch_interreg(
        http,
        server.url("/1/indexes/{index}/query"),
        app_id="ABC123",
        index="calls_en",
        api_key=settings.pop("api_key", KEY),
        pause_seconds=settings.pop("pause_seconds", 0.5),
        **settings,
    )


def test_pages_through_the_index_with_a_pause_and_the_key_in_a_header(
    server: LocalServer, http: TrackerSession, clock: FakeClock
) -> None:
    _serve_index(server)

    result = _fetch(server, http)

    assert len(result.records()) == 6
    assert result.complete and result.etag == '"p0"'
    sent = server.hits(QUERY_PATH)
    assert [parse_qs(json.loads(s.body)["params"])["page"] for s in sent] == [["0"], ["1"]]
    assert all(s.method == "POST" for s in sent)
    assert sent[0].headers["x-algolia-application-id"] == "ABC123"
    assert all(KEY not in str(s.query) for s in sent)
    assert clock.slept == [0.5]  # one pause, between the two pages


def test_a_refused_key_says_it_was_probably_rotated_and_never_shows_it(
    server: LocalServer, http: TrackerSession, caplog: pytest.LogCaptureFixture
) -> None:
    _serve_index(server)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(KeyRefused) as caught:
        _fetch(server, http, api_key="an-old-rotated-key")

    message = str(caught.value)
    assert "HTTP 403" in message and "rotated" in message
    assert "x-algolia-api-key" in message and "settings" in message
    assert "an-old-rotated-key" not in message
    assert "an-old-rotated-key" not in caplog.text


def test_an_unchanged_index_answers_not_modified(server: LocalServer, http: TrackerSession) -> None:
    server.routes[QUERY_PATH] = Reply(status=304)

    result = _fetch(server, http, etag='"p0"')

    assert result.not_modified
    assert server.hits(QUERY_PATH)[0].headers["if-none-match"] == '"p0"'


def test_reads_each_programme_page_once_and_uses_its_text(
    server: LocalServer, http: TrackerSession
) -> None:
    _serve_index(server)
    server.routes[CENTRAL_BALTIC_PAGE] = Reply(
        body=fixture_bytes("interreg_programme_page.html"),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )

    records = {r.external_id: r for r in _fetch(server, http, read_pages=True).records()}

    assert len(server.hits(CENTRAL_BALTIC_PAGE)) == 1  # two calls share the page
    for key in ("callForProjectsPage_9101", "callForProjectsPage_9106"):
        text = html_to_text(records[key].description_html)
        assert text.startswith("Fourth call for projects") and "Cookie" not in text
        assert "<script" not in (records[key].description_html or "")
    # The other pages are not served here: those calls stay, without a description.
    oks = records["callForProjectsPage_9103"]
    assert oks.description_html is None
    assert any(NO_PAGE_TEXT in w and "HTTP 404" in w for w in oks.warnings)


def test_an_unchanged_call_keeps_its_text_without_reading_the_page_again(
    server: LocalServer, http: TrackerSession
) -> None:
    _serve_index(server)
    server.routes[CENTRAL_BALTIC_PAGE] = Reply(body=fixture_bytes("interreg_programme_page.html"))
    first = {r.external_id: r for r in _fetch(server, http, read_pages=True).records()}
    known = {
        key: KnownCall(r.url, r.source_version, r.description_html) for key, r in first.items()
    }

    again = {r.external_id: r for r in _fetch(server, http, read_pages=True, known=known).records()}

    assert len(server.hits(CENTRAL_BALTIC_PAGE)) == 1
    key = "callForProjectsPage_9101"
    assert again[key].to_dict() == first[key].to_dict()


def test_a_page_that_fails_later_keeps_the_text_read_before(
    server: LocalServer, http: TrackerSession
) -> None:
    _serve_index(server)
    server.routes[CENTRAL_BALTIC_PAGE] = [
        Reply(body=fixture_bytes("interreg_programme_page.html")),
        Reply(status=404),
    ]
    first = {r.external_id: r for r in _fetch(server, http, read_pages=True).records()}
    key = "callForProjectsPage_9101"
    # The entry changed on interreg.eu since: the page is asked for again, and is gone.
    known = {key: KnownCall(first[key].url, "an older stamp", first[key].description_html)}

    again = {r.external_id: r for r in _fetch(server, http, read_pages=True, known=known).records()}

    assert again[key].description_html == first[key].description_html
    assert any("not read again" in w for w in again[key].warnings)
    assert again["callForProjectsPage_9106"].description_html is None  # nothing read before


def test_an_oversized_programme_page_is_not_read(server: LocalServer, http: TrackerSession) -> None:
    _serve_index(server)
    server.routes[CENTRAL_BALTIC_PAGE] = Reply(body=b"<p>" + b"x" * 5000 + b"</p>")

    records = {
        r.external_id: r
        for r in _fetch(server, http, read_pages=True, page_max_bytes=1000).records()
    }

    central = records["callForProjectsPage_9101"]
    assert central.description_html is None
    assert any("exceeds the limit" in w and NO_PAGE_TEXT in w for w in central.warnings)


# --- the source kind --------------------------------------------------------------------


def test_source_settings_need_the_app_id_index_and_key() -> None:
    kind = SourceKind.INTERREG

    assert settings_errors(kind, {"app_id": "A", "index": "calls", "api_key": "k"}) == []
    problems = settings_errors(kind, {"app_id": "A", "index": "calls", "pause": 1})
    assert "unknown setting 'pause' for a interreg source" in problems
    assert "setting 'api_key' is required for a interreg source" in problems


def test_the_key_is_masked_for_showing_and_kept_when_the_mask_comes_back() -> None:
    stored = {"app_id": "A", "index": "calls", "api_key": KEY}

    kind = SourceKind.INTERREG
    shown = masked_settings(stored, kind)
    assert shown == {"app_id": "A", "index": "calls", "api_key": SECRET_MASK}
    assert unmasked_settings(shown, stored, kind) == stored
    assert unmasked_settings({**shown, "api_key": "new"}, stored, kind)["api_key"] == "new"
    # a setting that is a secret for one kind is an ordinary value for another
    assert masked_settings({"api_key": "x"}, SourceKind.RSS) == {"api_key": "x"}
    spec = SourceSpec(kind=SourceKind.INTERREG, url="https://x", settings=stored)
    assert KEY not in repr(spec)


def test_fetch_source_passes_the_settings(server: LocalServer, http: TrackerSession) -> None:
    _serve_index(server)
    spec = SourceSpec(
        kind=SourceKind.INTERREG,
        url=server.url("/1/indexes/{index}/query"),
        settings={
            "app_id": "ABC123",
            "index": "calls_en",
            "api_key": KEY,
            "read_pages": False,
            "pause_seconds": 0,
            "hits_per_page": 4,
        },
    )

    result = fetch_source(http, spec, now=NOW)

    assert len(result.records()) == 6
    params = parse_qs(json.loads(server.hits(QUERY_PATH)[0].body)["params"])
    assert params["hitsPerPage"] == ["4"]


def test_query_url_fills_in_the_app_id_and_index() -> None:
    configured = "https://{app_id}-dsn.algolia.net/1/indexes/{index}/query"

    assert query_url(configured, app_id="ABC", index="i") == (
        "https://abc-dsn.algolia.net/1/indexes/i/query"
    )
