"""The search API adapter: parsing (own fixtures, real samples) and the fetch path."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import pytest

from tests.feeds.conftest import LocalServer, Reply, Seen, fixture_bytes, sample
from tracker.feeds.errors import BadPayload, HTTPStatusError
from tracker.feeds.http import TrackerSession
from tracker.feeds.records import CallRecord, CallStatus, DeadlineModel, Quarantined, SourceKind
from tracker.feeds.registry import SourceSpec, fetch_source
from tracker.feeds.sedia import (
    FacetCache,
    SearchQuery,
    clean_facet_label,
    facet_url_for,
    fetch_sedia,
    parse_facets,
    parse_sedia,
    search_parts,
)

NOW = datetime(2026, 9, 20, 8, 0, tzinfo=UTC)
TOPIC = "HORIZON-CL6-2027-01-CIRCBIO-04"


def _parsed() -> tuple[dict[str, CallRecord], list[Quarantined], int]:
    labels = parse_facets(fixture_bytes("sedia_facets.json"))
    result = parse_sedia([fixture_bytes("sedia_search.json")], labels=labels)
    items = list(result)
    records = {r.external_id: r for r in items if isinstance(r, CallRecord)}
    quarantined = [q for q in items if isinstance(q, Quarantined)]
    return records, quarantined, result.skipped


# --- parsing our own fixture -------------------------------------------------


def test_one_record_per_call_from_duplicates_legacy_rows_and_language_copies() -> None:
    records, _, _ = _parsed()

    assert sorted(records) == sorted(
        [
            TOPIC,
            "HORIZON-CL6-2027-01-CIRCBIO-05-two-stage",
            "90210COMPETITIVE_CALL",
            "EuropeAid/999001/DD/ACT/SE",
            "ERASMUS-EDU-2027-PI-ALL-INNO",
            "LIFE-2023-SAP-ENV-NATURE",
        ]
    )
    topic = records[TOPIC]
    assert topic.language == "en"
    assert topic.title == "Circular bio-based pilots run by municipalities"
    assert "legacy" not in " ".join(topic.warnings)
    assert topic.other_titles == (
        ("es", "Pilotos circulares de base biológica gestionados por municipios"),
    )


def test_status_comes_from_dates_not_the_status_code() -> None:
    records, _, _ = _parsed()

    # The topic's code says "closed", the legacy-only row's says "open".
    assert records[TOPIC].status(NOW) is CallStatus.FORTHCOMING
    assert records[TOPIC].status(datetime(2026, 12, 1, tzinfo=UTC)) is CallStatus.OPEN
    assert records[TOPIC].status(datetime(2027, 2, 18, tzinfo=UTC)) is CallStatus.CLOSED
    assert records["LIFE-2023-SAP-ENV-NATURE"].status(NOW) is CallStatus.CLOSED
    assert records["90210COMPETITIVE_CALL"].status(NOW) is CallStatus.OPEN


def test_fields_of_a_full_topic() -> None:
    records, _, _ = _parsed()
    topic = records[TOPIC]

    assert topic.source_kind is SourceKind.FT_SEARCH
    assert topic.identifier == TOPIC
    assert topic.call_identifier == "HORIZON-CL6-2027-01"
    assert topic.call_title == "Circular economy and bioeconomy sectors"
    assert topic.programme_code == "43108390"
    assert topic.programme_label == "Horizon Europe (HORIZON)"
    assert [d.label for d in topic.programme_divisions] == [
        "Global Challenges and European Industrial Competitiveness",
        "Food, Bioeconomy Natural Resources, Agriculture and Environment",
    ]
    assert topic.type_of_action == "HORIZON Innovation Actions"
    assert topic.url is not None and topic.url.endswith("/topic-details/" + TOPIC)
    assert topic.opens_at == datetime(2026, 10, 6, tzinfo=UTC)
    assert [(d.at, d.stage, d.date_only) for d in topic.deadlines] == [
        (datetime(2027, 2, 17, tzinfo=UTC), "deadline", True)
    ]
    assert topic.deadline_model is DeadlineModel.SINGLE_STAGE
    assert topic.keywords == ("Bioeconomy", "Circular economy")
    assert topic.tags == ("Municipalities", "Pilots")
    assert topic.cross_cutting_priorities == ("SSH", "DigitalAgenda")
    assert topic.links and topic.links[0].url.startswith("https://ec.europa.eu/research/")
    assert topic.updates and "page limit" in topic.updates[0].html
    assert "municipalities run circular bio-based pilots" in topic.description_text
    assert topic.warnings == ()


def test_budget_is_this_topics_share_of_the_call() -> None:
    records, _, _ = _parsed()
    budget = records[TOPIC].budget

    assert budget is not None
    assert budget.total == Decimal(12_000_000)
    assert (budget.min_grant, budget.max_grant) == (Decimal(3_000_000), Decimal(4_000_000))
    assert budget.expected_grants == 3
    assert budget.currency == "EUR"


def test_truncated_json_fields_keep_the_call_with_a_warning() -> None:
    records, _, _ = _parsed()
    two_stage = records["HORIZON-CL6-2027-01-CIRCBIO-05-two-stage"]

    assert two_stage.budget is None
    assert two_stage.updates == ()
    assert any(w.startswith("budgetOverview:") for w in two_stage.warnings)
    assert any(w.startswith("latestInfos:") for w in two_stage.warnings)
    # keywords given as a JSON list inside the string are decoded
    assert two_stage.keywords == ("Rural development", "Bioeconomy")


def test_two_stage_and_cut_off_deadlines_are_sorted_and_labelled() -> None:
    records, _, _ = _parsed()

    two_stage = records["HORIZON-CL6-2027-01-CIRCBIO-05-two-stage"]
    assert two_stage.deadline_model is DeadlineModel.TWO_STAGE
    assert [(d.at.date().isoformat(), d.stage) for d in two_stage.deadlines] == [
        ("2027-02-10", "stage 1"),
        ("2027-09-15", "stage 2"),
    ]
    cut_offs = records["ERASMUS-EDU-2027-PI-ALL-INNO"]
    assert cut_offs.deadline_model is DeadlineModel.MULTIPLE_CUT_OFF
    assert [d.stage for d in cut_offs.deadlines] == ["cut-off 1", "cut-off 2", "cut-off 3"]
    assert cut_offs.deadlines[0].at == datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
    assert not cut_offs.deadlines[0].date_only
    assert cut_offs.programme_label == "Erasmus+ (ERASMUS+)"


@pytest.mark.parametrize(
    ("given", "date_only", "closes"),
    [
        # A bare day, midnight UTC, and local midnight with an offset all mean 17 February:
        # the portal closes that day at 17:00 Brussels time.
        ("2027-02-17", True, datetime(2027, 2, 17, 16, 0, tzinfo=UTC)),
        ("2027-02-17T00:00:00.000+0000", True, datetime(2027, 2, 17, 16, 0, tzinfo=UTC)),
        ("2027-02-17T00:00:00.000+0100", True, datetime(2027, 2, 17, 16, 0, tzinfo=UTC)),
        # An explicit time is kept as given.
        ("2027-02-17T17:00:00.000+0100", False, datetime(2027, 2, 17, 16, 0, tzinfo=UTC)),
        ("2027-02-17T12:30:00.000+0000", False, datetime(2027, 2, 17, 12, 30, tzinfo=UTC)),
    ],
)
def test_a_deadline_given_as_a_day_is_that_day(
    given: str, date_only: bool, closes: datetime
) -> None:
    row = _row(1)
    row["metadata"]["deadlineDate"] = [given]
    body = {"totalResults": 1, "pageNumber": 1, "pageSize": 100, "results": [row]}

    (record,) = parse_sedia([json.dumps(body).encode()]).records()

    (deadline,) = record.deadlines
    assert (deadline.day(), deadline.date_only) == (datetime(2027, 2, 17).date(), date_only)
    assert record.status(closes - timedelta(minutes=1)) is CallStatus.OPEN
    assert record.status(closes + timedelta(minutes=1)) is CallStatus.CLOSED


def test_cascade_calls_are_keyed_on_reference_not_the_parent_topic() -> None:
    records, _, _ = _parsed()
    cascade = records["90210COMPETITIVE_CALL"]

    assert cascade.identifier is None
    assert cascade.parent_identifier == TOPIC
    assert cascade.title == "Open Call 2: circular pilots in small towns"
    assert cascade.organiser == "CIRCPILOT"
    assert cascade.url is not None and "competitive-calls-cs/90210" in cascade.url
    assert "EUR 60 000" in cascade.description_text


def test_tenders_are_skipped_and_broken_rows_quarantined() -> None:
    records, quarantined, skipped = _parsed()

    assert skipped == 1
    assert not any("Cleaning" in r.title for r in records.values())
    assert len(quarantined) == 1
    assert "identifier" in quarantined[0].reason
    assert quarantined[0].raw["metadata"]["title"] == ["A topic without identifier"]


def test_legacy_row_url_points_to_the_topic_page() -> None:
    records, _, _ = _parsed()
    legacy_only = records["LIFE-2023-SAP-ENV-NATURE"]

    assert legacy_only.url is not None
    assert legacy_only.url.endswith("/topic-details/LIFE-2023-SAP-ENV-NATURE")
    assert any("legacy" in w for w in legacy_only.warnings)


def test_labels_are_missing_but_codes_kept_without_facets() -> None:
    result = parse_sedia([fixture_bytes("sedia_search.json")])
    topic = next(r for r in result.records() if r.external_id == TOPIC)

    assert topic.programme_label is None and topic.programme_code == "43108390"
    labelled = topic.with_programme_labels({"43108390": "Horizon Europe (HORIZON)"}, {})
    assert labelled.programme_label == "Horizon Europe (HORIZON)"


def test_not_a_search_response() -> None:
    with pytest.raises(BadPayload):
        parse_sedia([b'{"results": 3}'])
    with pytest.raises(BadPayload):
        parse_sedia([b'{"totalResults": 2, "results": [{"refer'])


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Erasmus  (ERASMUS )", "Erasmus+ (ERASMUS+)"),
        ("European Social Fund   (ESF) ", "European Social Fund + (ESF)"),
        ("Research Fund for Coal %26 Steel (RFCS)", "Research Fund for Coal & Steel (RFCS)"),
        ("Marie Sk%C5%82odowska-Curie Actions (MSCA)", "Marie Skłodowska-Curie Actions (MSCA)"),
        (
            " PreAccession Countries / New Member States",
            "PreAccession Countries / New Member States",
        ),
        (
            "Climate action, environment,  resource efficiency",
            "Climate action, environment, resource efficiency",
        ),
        ("Counterfeiting  (PERICLES IV)", "Counterfeiting (PERICLES IV)"),
    ],
)
def test_facet_labels_are_cleaned(raw: str, clean: str) -> None:
    assert clean_facet_label(raw) == clean


def test_unlabelled_facet_values_have_no_label() -> None:
    labels = parse_facets(fixture_bytes("sedia_facets.json"))

    assert "45532249" not in labels.programmes
    assert labels.counts["frameworkProgramme"]["45532249"] == 1
    assert labels.divisions["43999999"] == "Marie Skłodowska-Curie Actions (MSCA)"


# --- real samples --------------------------------------------------------------


def test_real_search_results_all_pages(samples: Path) -> None:
    path = sample(samples, "sedia_derived/ft_rss_search_results_RECONSTRUCTED_from_csv.json")
    rows = json.loads(path.read_bytes())["results"]
    result = parse_sedia([path.read_bytes()])
    records = result.records()

    def key(row: dict[str, Any]) -> str:
        meta = row["metadata"]
        return str(
            row["reference"][:-2] if meta["type"] == ["8"] else meta["identifier"][0]
        ).upper()

    assert len(records) == len({key(r) for r in rows})  # one per distinct call
    assert len({r.key for r in records}) == len(records)
    assert not [i for i in result if isinstance(i, Quarantined)]
    for record in records:
        assert record.title
        assert record.url and record.url.startswith("https://")
        assert all(d.at.tzinfo is UTC for d in record.deadlines)
        assert [d.at for d in record.deadlines] == sorted(d.at for d in record.deadlines)
    cascades = [r for r in records if r.parent_identifier]
    assert cascades and all(r.identifier is None for r in cascades)
    # Legacy-index rows claim "open" although their deadlines passed long ago.
    legacy = [r for r in records if any("legacy" in w for w in r.warnings)]
    assert legacy
    snapshot = datetime(2026, 8, 22, tzinfo=UTC)
    closed_legacy = [r for r in legacy if r.status(snapshot) is CallStatus.CLOSED]
    assert len(closed_legacy) >= 0.9 * len(legacy)
    current = [r for r in records if r not in legacy and r.deadlines]
    assert sum(r.status(snapshot) is not CallStatus.CLOSED for r in current) >= 0.9 * len(current)


def test_real_current_rows_win_over_legacy_copies(samples: Path) -> None:
    path = sample(samples, "sedia_derived/ft_rss_search_results_RECONSTRUCTED_from_csv.json")
    rows = json.loads(path.read_bytes())["results"]
    current = {
        r["metadata"]["identifier"][0]
        for r in rows
        if r["metadata"]["DATASOURCE"] == ["SEDIA"] and r["metadata"]["type"] != ["8"]
    }
    both = {
        r["metadata"]["identifier"][0]
        for r in rows
        if r["metadata"]["DATASOURCE"] != ["SEDIA"] and r["metadata"]["identifier"][0] in current
    }
    assert both, "the sample should hold topics present in both indexes"
    records = {r.external_id: r for r in parse_sedia([path.read_bytes()]).records()}
    for identifier in both:
        assert not any("legacy" in w for w in records[identifier].warnings)


def test_real_minimal_response(samples: Path) -> None:
    path = sample(samples, "sedia_search_response_minimal_fundhunt.json")
    data = json.loads(path.read_bytes())
    records = parse_sedia([path.read_bytes()]).records()

    assert len(records) == len({r["metadata"]["identifier"][0] for r in data["results"]})
    assert all(r.deadlines and r.opens_at for r in records)
    assert all(r.type_of_action for r in records)


def test_real_unfiltered_response_has_no_calls(samples: Path) -> None:
    path = sample(samples, "sedia_search_response_unfiltered_2023-01-18_psychless.json")
    result = parse_sedia([path.read_bytes()])

    assert result.records() == []
    assert result.skipped == len(json.loads(path.read_bytes())["results"])


def test_real_facet_response(samples: Path) -> None:
    path = sample(samples, "sedia_facet_response_raw_2023-01-18_psychless.json")
    labels = parse_facets(path.read_bytes())

    assert labels.programmes
    assert all(label == label.strip() and "  " not in label for label in labels.programmes.values())
    assert not any("%2" in label or "%C" in label for label in labels.programmes.values())
    # Unlabelled codes (value == rawValue) are left for later, never used as labels.
    assert all(code != label for code, label in labels.programmes.items())
    assert labels.counts["programmeDivision"]


def test_real_facet_values_label_real_results(samples: Path) -> None:
    facets = json.loads(sample(samples, "sedia_facet_values_2026-08-22.json").read_bytes())
    response = {"facets": [{"name": k, "values": v} for k, v in facets["facets"].items()]}
    labels = parse_facets(response)
    path = sample(samples, "sedia_derived/ft_rss_search_results_RECONSTRUCTED_from_csv.json")
    records = parse_sedia([path.read_bytes()], labels=labels).records()

    labelled = [r for r in records if r.programme_label]
    assert len(labelled) >= 0.95 * len(records)
    assert all("%" not in (r.programme_label or "") for r in records)
    assert any((r.programme_label or "").startswith("Erasmus+") for r in records)


# --- the fetch path against a local server --------------------------------------


def _row(n: int, programme: str = "43108390") -> dict[str, Any]:
    identifier = f"HORIZON-CL5-2027-0{n % 9}-D{n}-{n:02d}"
    return {
        "reference": f"5{n:07d}TOPICSen",
        "metadata": {
            "identifier": [identifier],
            "title": [f"Topic number {n}"],
            "type": ["1"],
            "language": ["en"],
            "DATASOURCE": ["SEDIA"],
            "frameworkProgramme": [programme],
            "startDate": ["2026-10-01T00:00:00.000+0000"],
            "deadlineDate": ["2027-01-20T17:00:00.000+0000"],
            "status": ["31094501"],
        },
    }


def _multipart(seen: Seen) -> dict[str, tuple[str, Any]]:
    header = f"Content-Type: {seen.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(header + seen.body)
    parts: dict[str, tuple[str, Any]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        parts[str(name)] = (part.get_content_type(), json.loads(payload))
    return parts


class SearchApi:
    """A stand-in for the search and facet endpoints, paging over `rows`."""

    def __init__(self, rows: list[dict[str, Any]], total: int | None = None) -> None:
        self.rows = rows
        self.total = total

    def search(self, seen: Seen) -> Reply:
        parts = _multipart(seen)
        size = int(seen.query["pageSize"][0])
        number = int(seen.query["pageNumber"][0])
        rows = self.rows
        for term in parts["query"][1]["bool"]["must"]:
            field, values = next(iter(term["terms"].items()))
            if field == "frameworkProgramme":
                rows = [r for r in rows if r["metadata"]["frameworkProgramme"][0] in values]
        page = rows[(number - 1) * size : number * size]
        total = self.total if self.total is not None else len(rows)
        body = {"totalResults": total, "pageNumber": number, "pageSize": size, "results": page}
        return Reply(body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})

    def facet(self, seen: Seen) -> Reply:
        counts = Counter(r["metadata"]["frameworkProgramme"][0] for r in self.rows)
        facets = {
            "facets": [
                {
                    "name": "frameworkProgramme",
                    "values": [
                        {"rawValue": code, "value": f"Programme {code}", "count": count}
                        for code, count in counts.items()
                    ],
                }
            ]
        }
        return Reply(body=json.dumps(facets).encode())


def test_pages_until_a_short_page_with_the_multipart_body(
    server: LocalServer, http: TrackerSession
) -> None:
    api = SearchApi([_row(n) for n in range(1, 6)])
    server.routes["/rest/search"] = api.search
    server.routes["/rest/facet"] = api.facet

    result = fetch_sedia(http, server.url("/rest/search"), now=NOW, page_size=2)

    searches = server.hits("/rest/search")
    assert [s.query["pageNumber"] for s in searches] == [["1"], ["2"], ["3"]]
    first = searches[0]
    assert first.method == "POST"
    assert first.query["apiKey"] == ["SEDIA"] and first.query["text"] == ["***"]
    assert first.query["pageSize"] == ["2"]
    parts = _multipart(first)
    assert {name: ctype for name, (ctype, _) in parts.items()} == {
        "query": "application/json",
        "languages": "application/json",
        "sort": "application/json",
    }
    must = parts["query"][1]["bool"]["must"]
    assert {"terms": {"type": ["1", "2", "8"]}} in must
    assert {"terms": {"status": ["31094501", "31094502"]}} in must
    assert parts["languages"][1] == ["en"]
    assert len(result.records()) == 5
    assert all(r.programme_label == "Programme 43108390" for r in result.records())


def test_exact_multiple_of_the_page_size_stops_on_the_empty_page(
    server: LocalServer, http: TrackerSession
) -> None:
    api = SearchApi([_row(n) for n in range(1, 5)])
    server.routes["/rest/search"] = api.search
    server.routes["/rest/facet"] = api.facet

    result = fetch_sedia(http, server.url("/rest/search"), now=NOW, page_size=2)

    assert len(server.hits("/rest/search")) == 3
    assert len(result.records()) == 4


def test_more_results_than_one_query_returns_are_split_by_programme(
    server: LocalServer, http: TrackerSession
) -> None:
    rows = [_row(n, "43108390") for n in range(1, 5)] + [_row(n, "43152860") for n in range(5, 8)]
    api = SearchApi(rows)
    server.routes["/rest/search"] = api.search
    server.routes["/rest/facet"] = api.facet

    result = fetch_sedia(http, server.url("/rest/search"), now=NOW, page_size=2, max_results=4)

    programmes = [
        term["terms"]["frameworkProgramme"]
        for seen in server.hits("/rest/search")
        for term in _multipart(seen)["query"][1]["bool"]["must"]
        if "frameworkProgramme" in term["terms"]
    ]
    assert {p[0] for p in programmes} == {"43108390", "43152860"}
    assert len(result.records()) == 7
    assert not result.warnings


def test_a_failing_facet_endpoint_does_not_fail_the_fetch(
    server: LocalServer, http: TrackerSession
) -> None:
    api = SearchApi([_row(1), _row(2)])
    server.routes["/rest/search"] = api.search
    server.routes["/rest/facet"] = Reply(status=500, body=b"facet down")

    result = fetch_sedia(http, server.url("/rest/search"), now=NOW)

    assert len(result.records()) == 2
    assert all(r.programme_code and r.programme_label is None for r in result.records())
    assert any("labels unavailable" in w for w in result.warnings)


def test_facet_labels_are_cached(server: LocalServer, http: TrackerSession) -> None:
    api = SearchApi([_row(1)])
    server.routes["/rest/search"] = api.search
    server.routes["/rest/facet"] = api.facet
    cache = FacetCache(ttl=timedelta(hours=12))

    fetch_sedia(http, server.url("/rest/search"), now=NOW, facet_cache=cache)
    fetch_sedia(http, server.url("/rest/search"), now=NOW + timedelta(hours=1), facet_cache=cache)
    assert len(server.hits("/rest/facet")) == 1

    server.routes["/rest/facet"] = Reply(status=503)
    later = fetch_sedia(
        http, server.url("/rest/search"), now=NOW + timedelta(days=2), facet_cache=cache
    )
    # stale labels are better than none when the endpoint is down
    assert later.records()[0].programme_label == "Programme 43108390"


def test_truncated_response_fails_the_fetch(server: LocalServer, http: TrackerSession) -> None:
    body = json.dumps({"totalResults": 1, "results": [_row(1)]}).encode()
    server.routes["/rest/search"] = Reply(body=body[: len(body) // 2])

    with pytest.raises(BadPayload, match="not valid JSON"):
        fetch_sedia(http, server.url("/rest/search"), now=NOW)


def test_search_server_error_fails_the_fetch(server: LocalServer, http: TrackerSession) -> None:
    server.routes["/rest/search"] = Reply(status=500, body=b"Internal error")

    with pytest.raises(HTTPStatusError):
        fetch_sedia(http, server.url("/rest/search"), now=NOW)


def test_configured_url_keeps_its_api_key_and_finds_the_facet_endpoint() -> None:
    assert facet_url_for("https://api.example/search-api/prod/rest/search?apiKey=X") == (
        "https://api.example/search-api/prod/rest/facet"
    )
    parts = search_parts(SearchQuery(languages=("en", "sv")))
    assert parts["languages"][2] == "application/json"
    assert json.loads(parts["languages"][1]) == ["en", "sv"]


def test_recorded_response_from_a_local_file(tmp_path: Path, http: TrackerSession) -> None:
    path = tmp_path / "search.json"
    path.write_bytes(fixture_bytes("sedia_search.json"))

    result = fetch_sedia(http, path.as_uri(), now=NOW)

    assert len(result.records()) == 6
    assert any("labels unavailable" in w for w in result.warnings)


def test_real_results_agree_with_an_independent_normaliser(samples: Path) -> None:
    """Another project normalised the same day's search results: dates and programmes agree."""
    ours_path = sample(samples, "sedia_derived/ft_rss_search_results_RECONSTRUCTED_from_csv.json")
    theirs_path = sample(samples, "sedia_derived/michelnivard_grants_2026-08-22.json")
    ours = {r.identifier: r for r in parse_sedia([ours_path.read_bytes()]).records()}
    theirs = {g["identifier"]: g for g in json.loads(theirs_path.read_bytes())["grants"]}
    common = [i for i in theirs if i in ours and theirs[i]["deadlineDate"]]
    assert len(common) > 300

    def moment(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    same_deadline = sum(
        moment(theirs[i]["deadlineDate"]) in {d.at for d in ours[i].deadlines} for i in common
    )
    same_opening = sum(
        theirs[i]["startDate"] is not None and moment(theirs[i]["startDate"]) == ours[i].opens_at
        for i in common
    )
    same_programme = sum(
        ours[i].programme_code in {p["id"] for p in theirs[i]["frameworkProgrammes"]}
        for i in common
    )
    assert same_deadline >= 0.95 * len(common)
    assert same_opening >= 0.95 * len(common)
    assert same_programme >= 0.95 * len(common)


def test_a_listing_cut_at_the_result_limit_is_not_complete(
    server: LocalServer, http: TrackerSession
) -> None:
    api = SearchApi([_row(n) for n in range(1, 8)])
    server.routes["/rest/search"] = api.search
    server.routes["/rest/facet"] = Reply(status=500)

    result = fetch_sedia(http, server.url("/rest/search"), now=NOW, page_size=2, max_results=4)

    assert len(result.records()) == 4
    assert not result.complete  # the calls beyond the limit must not look withdrawn
    assert any("the rest is missing" in w for w in result.warnings)


def test_the_source_runs_share_the_facet_cache_given_to_fetch_source(
    server: LocalServer, http: TrackerSession
) -> None:
    api = SearchApi([_row(1)])
    server.routes["/rest/search"] = api.search
    server.routes["/rest/facet"] = api.facet
    cache = FacetCache(ttl=timedelta(hours=12))
    spec = SourceSpec(kind=SourceKind.FT_SEARCH, url=server.url("/rest/search"))

    for hours in (0, 1):
        result = fetch_source(http, spec, now=NOW + timedelta(hours=hours), facet_cache=cache)
        assert result.records()[0].programme_label == "Programme 43108390"
    assert len(server.hits("/rest/facet")) == 1
