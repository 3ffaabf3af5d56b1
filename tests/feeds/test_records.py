"""The normalised call record and its helpers."""

from __future__ import annotations

import ast
import json
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tracker.feeds.records import (
    Budget,
    CallLink,
    CallRecord,
    CallStatus,
    CallUpdate,
    Deadline,
    DeadlineModel,
    EligibleArea,
    ProgrammeDivision,
    SourceKind,
    canonical_url,
    html_to_text,
    identifier_from_url,
    normalise_identifier,
    sanitize_html,
    text_to_html,
)

FEEDS = Path(__file__).resolve().parents[2] / "tracker" / "feeds"


def _call(**overrides: object) -> CallRecord:
    base = CallRecord(
        source_kind=SourceKind.FT_SEARCH,
        external_id="HORIZON-X-01",
        title="A call",
        opens_at=datetime(2026, 10, 1, tzinfo=UTC),
        deadlines=(Deadline(datetime(2027, 1, 20, 16, 0, tzinfo=UTC)),),
        budget=Budget(total=Decimal(1_000_000)),
        raw={"a": 1},
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_status_follows_the_dates() -> None:
    call = _call()

    assert call.status(datetime(2026, 9, 30, tzinfo=UTC)) is CallStatus.FORTHCOMING
    assert call.status(datetime(2026, 10, 1, tzinfo=UTC)) is CallStatus.OPEN
    assert call.status(datetime(2027, 1, 20, 16, 0, tzinfo=UTC)) is CallStatus.OPEN
    assert call.status(datetime(2027, 1, 20, 16, 1, tzinfo=UTC)) is CallStatus.CLOSED


def test_a_portal_deadline_given_as_a_day_closes_at_17_brussels_time() -> None:
    deadline = Deadline(datetime(2027, 1, 20, tzinfo=UTC), date_only=True)
    call = _call(deadlines=(deadline,))

    assert call.status(datetime(2027, 1, 20, 15, 59, tzinfo=UTC)) is CallStatus.OPEN
    assert call.status(datetime(2027, 1, 20, 16, 1, tzinfo=UTC)) is CallStatus.CLOSED


def test_another_sources_day_is_open_until_the_end_of_that_day_in_the_configured_zone() -> None:
    deadline = Deadline(datetime(2027, 1, 20, tzinfo=UTC), date_only=True)
    call = _call(source_kind=SourceKind.RSS, deadlines=(deadline,))
    helsinki = ZoneInfo("Europe/Helsinki")

    assert call.status(datetime(2027, 1, 20, 22, 0, tzinfo=UTC)) is CallStatus.OPEN
    assert call.status(datetime(2027, 1, 20, 23, 0, tzinfo=UTC)) is CallStatus.CLOSED
    assert call.status(datetime(2027, 1, 20, 21, 0, tzinfo=UTC), helsinki) is CallStatus.OPEN
    assert call.status(datetime(2027, 1, 20, 22, 0, tzinfo=UTC), helsinki) is CallStatus.CLOSED


def test_later_cut_offs_keep_a_call_open() -> None:
    deadlines = (
        Deadline(datetime(2026, 11, 1, tzinfo=UTC), "cut-off 1"),
        Deadline(datetime(2027, 3, 1, tzinfo=UTC), "cut-off 2"),
    )
    call = _call(opens_at=None, deadlines=deadlines)
    assert call.status(datetime(2026, 12, 1, tzinfo=UTC)) is CallStatus.OPEN


def test_a_continuous_call_stays_open_after_its_listed_cut_offs() -> None:
    call = _call(deadline_model=DeadlineModel.CONTINUOUS)
    assert call.status(datetime(2027, 6, 1, tzinfo=UTC)) is CallStatus.OPEN


def test_calls_without_dates() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert _call(opens_at=None, deadlines=()).status(now) is CallStatus.OPEN
    announced = _call(opens_at=None, deadlines=(), opening_note="2027")
    assert announced.status(now) is CallStatus.FORTHCOMING


def test_deadlines_must_be_aware_utc() -> None:
    with pytest.raises(ValueError):
        Deadline(datetime(2027, 1, 20, 16, 0))
    with pytest.raises(ValueError):
        Deadline(datetime(2027, 1, 20, 16, 0, tzinfo=timezone(timedelta(hours=1))))


def test_a_record_needs_a_key_and_a_title() -> None:
    with pytest.raises(ValueError):
        _call(external_id="")
    with pytest.raises(ValueError):
        _call(title="  ")


def test_content_hash_ignores_the_raw_payload_but_not_the_content() -> None:
    call = _call()

    assert call.content_hash() == _call(raw={"volatile": "ingest time"}).content_hash()
    assert call.content_hash() != _call(title="Another title").content_hash()
    later = (Deadline(datetime(2027, 2, 1, tzinfo=UTC)),)
    assert call.content_hash() != _call(deadlines=later).content_hash()
    assert json.dumps(call.to_dict())  # JSON-ready


def test_to_dict_covers_every_field_but_the_raw_payload() -> None:
    full = _call(
        programme_divisions=(ProgrammeDivision("43108541", "Global Challenges"),),
        other_titles=(("sv", "Ett anrop"),),
        links=(CallLink("https://ec.europa.eu/x", "Submit"),),
        updates=(CallUpdate("<p>news</p>", datetime(2026, 9, 1, tzinfo=UTC)),),
        funding_rate_pct=Decimal("60.5"),
        deadline_model=DeadlineModel.TWO_STAGE,
        eligible_area=EligibleArea(countries=("SE",), country_names=("Sweden",), nuts=("SE12",)),
        source_version="2026-08-05T15:30:51.157Z",
    )
    data = full.to_dict()

    assert set(data) == {f.name for f in fields(CallRecord)} - {"raw"}
    assert data["eligible_area"] == {
        "countries": ["SE"],
        "country_names": ["Sweden"],
        "nuts": ["SE12"],
    }
    assert data["source_version"] == "2026-08-05T15:30:51.157Z"

    assert data["programme_divisions"] == [{"code": "43108541", "label": "Global Challenges"}]
    assert data["other_titles"] == [["sv", "Ett anrop"]]
    assert data["deadlines"] == [
        {"at": "2027-01-20T16:00:00+00:00", "stage": "deadline", "date_only": False}
    ]
    assert data["budget"] == {
        "currency": "EUR",
        "total": "1000000",
        "min_grant": None,
        "max_grant": None,
        "expected_grants": None,
    }
    assert data["funding_rate_pct"] == "60.5"
    assert data["deadline_model"] == "two-stage"
    assert data["updates"] == [{"html": "<p>news</p>", "published_at": "2026-09-01T00:00:00+00:00"}]
    assert json.loads(json.dumps(data)) == data


def test_fields_added_for_interreg_leave_other_records_digests_alone() -> None:
    data = _call().to_dict()

    assert "eligible_area" not in data
    assert "source_version" not in data


@pytest.mark.parametrize(
    ("value", "model"),
    [
        ("single-stage", DeadlineModel.SINGLE_STAGE),
        ("Two-Stage", DeadlineModel.TWO_STAGE),
        ("multiple cut-off", DeadlineModel.MULTIPLE_CUT_OFF),
        ("Multiple_cut_off", DeadlineModel.MULTIPLE_CUT_OFF),
        ("continuous", DeadlineModel.CONTINUOUS),
        ("permanent", DeadlineModel.CONTINUOUS),
        ("", None),
        ("whenever", None),
    ],
)
def test_deadline_model_spellings(value: str, model: DeadlineModel | None) -> None:
    assert DeadlineModel.parse(value) is model


@pytest.mark.parametrize(
    ("url", "identifier"),
    [
        (
            "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/"
            "topic-details/HORIZON-CL5-2027-03-D5-05",
            "HORIZON-CL5-2027-03-D5-05",
        ),
        (
            "https://ec.europa.eu/info/funding-tenders/opportunities/data/topicDetails/"
            "DIGITAL-2026-AI-01.json",
            "DIGITAL-2026-AI-01",
        ),
        (
            "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/"
            "topic-details/horizon-miss-2027-05-soil-01-two-stage;callCode=null",
            "horizon-miss-2027-05-soil-01-two-stage",
        ),
        ("https://example.org/topic-details/NOT-EU", None),
        ("https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/home", None),
        (None, None),
    ],
)
def test_identifier_from_url(url: str | None, identifier: str | None) -> None:
    assert identifier_from_url(url) == identifier


def test_canonical_url_makes_the_same_page_compare_equal() -> None:
    page = (
        "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/"
        "topic-details/HORIZON-CL5-2027-03-D5-05"
    )
    json_url = (
        "https://ec.europa.eu/info/funding-tenders/opportunities/data/topicDetails/"
        "horizon-cl5-2027-03-d5-05.json"
    )
    assert canonical_url(page) == canonical_url(json_url)
    assert canonical_url("http://WWW.Example.se/utlysning/?utm_source=x&b=2#top") == (
        "https://example.se/utlysning?b=2"
    )
    assert canonical_url("  ") is None
    assert normalise_identifier(" horizon-cl5 -2027 ") == "HORIZON-CL5-2027"


def test_sanitize_html_keeps_structure_and_drops_active_content() -> None:
    dirty = (
        '<p style="color:red" onclick="steal()">Text <a href="javascript:alert(1)">bad</a> '
        '<a href="https://ec.europa.eu/x" target="_blank">good</a></p>'
        "<script>alert(1)</script><iframe src='https://evil.example'></iframe>"
        "<ul><li>one</li></ul><img src=x onerror=alert(1)>"
    )
    clean = sanitize_html(dirty)

    assert "<script" not in clean and "alert" not in clean and "onclick" not in clean
    assert "style=" not in clean and "<iframe" not in clean and "<img" not in clean
    assert 'href="https://ec.europa.eu/x"' in clean
    assert 'rel="noopener noreferrer nofollow"' in clean
    assert "<ul><li>one</li></ul>" in clean
    assert sanitize_html(None) == ""


def test_html_to_text_keeps_words_whole_and_blocks_apart() -> None:
    fragment = (
        '<p class="topicdescriptionkind">Expected Outcome:</p><p><span>Q</span>UALITY '
        "L<b>ABEL</b>&nbsp;holders&amp;partners</p><ul><li>first</li><li>second</li></ul>"
        "<style>p {color: red}</style><table><tr><td>a</td><td>b</td></tr></table>"
    )
    text = html_to_text(fragment)

    assert text.splitlines() == [
        "Expected Outcome:",
        "QUALITY LABEL holders&partners",
        "- first",
        "- second",
        "a b",
    ]
    assert html_to_text("plain text") == "plain text"
    assert html_to_text(None) == ""


def test_text_to_html_escapes() -> None:
    assert text_to_html("a < b\nline two\n\nnew paragraph") == (
        "<p>a &lt; b<br>line two</p><p>new paragraph</p>"
    )


def test_feeds_package_imports_no_flask_and_no_database() -> None:
    forbidden = ("flask", "sqlalchemy", "alembic", "tracker.models", "tracker.services")
    for path in sorted(FEEDS.glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"


def test_a_stored_record_reads_back_as_the_record_that_was_stored() -> None:
    full = _call(
        identifier="HORIZON-X-01",
        parent_identifier="HORIZON-X",
        call_identifier="HORIZON-X-2027",
        call_title="The X call",
        organiser="EC",
        programme_label="Horizon Europe",
        programme_code="43108390",
        programme_divisions=(ProgrammeDivision("C6", "Cluster 6"), ProgrammeDivision("C5")),
        type_of_action="RIA",
        summary_html="<p>Short</p>",
        description_html="<p>Long</p>",
        url="https://example.org/x",
        language="en",
        other_titles=(("sv", "Ett utlysning"),),
        published_at=datetime(2026, 9, 1, 8, 30, tzinfo=UTC),
        opening_note="opens after the info day",
        deadlines=(
            Deadline(datetime(2027, 1, 20, tzinfo=UTC), "stage 1", True),
            Deadline(datetime(2027, 5, 4, 15, 0, tzinfo=UTC), "stage 2"),
        ),
        deadline_model=DeadlineModel.TWO_STAGE,
        budget=Budget("SEK", Decimal("1000000.50"), Decimal(10), None, 4),
        funding_rate_pct=Decimal("70.5"),
        region="Östergötland",
        eligible_area=EligibleArea(("SE",), ("Sweden",), ("SE12",)),
        eligible_applicants="Municipalities",
        keywords=("towns",),
        tags=("rural",),
        cross_cutting_priorities=("gender",),
        links=(CallLink("https://example.org/doc", "Guide"), CallLink("https://example.org/b")),
        updates=(CallUpdate("<p>News</p>", datetime(2026, 11, 1, tzinfo=UTC)), CallUpdate("x")),
        warnings=("budget read from text",),
        source_version="2026-11-02",
    )
    for record in (full, _call(budget=None, raw=None)):
        stored = json.loads(json.dumps(record.to_dict()))
        assert CallRecord.from_dict(stored) == record
        assert CallRecord.from_dict(stored).to_dict() == record.to_dict()
