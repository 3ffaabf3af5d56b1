"""RSS 2.0 / Atom adapter."""

from __future__ import annotations

import ast
import inspect
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import tracker.feeds.rss as rss_module
from tests.feeds.conftest import LocalServer, Reply, Seen, fixture_bytes, sample
from tracker.feeds.errors import BadPayload, HTTPStatusError
from tracker.feeds.http import TrackerSession
from tracker.feeds.records import CallRecord, Quarantined, SourceKind, sanitize_html
from tracker.feeds.rss import fetch_rss, find_deadline, parse_feed


def _records(content: bytes, **kwargs: object) -> dict[str, CallRecord]:
    result = parse_feed(content, **kwargs)  # type: ignore[arg-type]
    return {r.external_id: r for r in result.records()}


def test_rss_items_become_records_keyed_on_guid_else_link() -> None:
    records = _records(fixture_bytes("feed_rss.xml"), programme="Exempelprogrammet Östersjön")

    call = records["https://programme.example.org/?p=4711"]
    assert call.source_kind is SourceKind.RSS
    assert call.title == "Andra utlysningen: små projekt för & med kommuner"
    assert call.url == "https://programme.example.org/utlysningar/andra-utlysningen/"
    assert call.language == "sv"
    assert call.programme_label == "Exempelprogrammet Östersjön"
    assert call.tags == ("Småprojekt", "Kommuner")
    assert call.published_at == datetime(2026, 9, 14, 6, 0, tzinfo=UTC)
    # an item without guid is keyed on its link
    assert "https://programme.example.org/nyheter/seminarium/" in records


def test_html_is_kept_raw_and_sanitised_for_display() -> None:
    call = _records(fixture_bytes("feed_rss.xml"))["https://programme.example.org/?p=4711"]

    assert call.description_html is not None and "<script>" in call.description_html
    shown = sanitize_html(call.description_html)
    assert "<script>" not in shown and "alert" not in shown
    assert "<strong>kommuner</strong>" in shown
    assert "alert" not in call.description_text


def test_deadline_labelled_in_the_text_is_used_with_a_warning() -> None:
    records = _records(fixture_bytes("feed_rss.xml"))

    call = records["https://programme.example.org/?p=4711"]
    assert [(d.day(), d.date_only) for d in call.deadlines] == [(date(2026, 11, 30), True)]
    assert "deadline read from the item text" in call.warnings
    assert records["https://programme.example.org/nyheter/seminarium/"].deadlines == ()


def test_funding_and_tenders_links_give_the_topic_identifier() -> None:
    records = _records(fixture_bytes("feed_rss.xml"))
    topic = next(r for r in records.values() if "topic-details" in (r.url or ""))

    assert topic.identifier == "HORIZON-CL6-2027-01-CIRCBIO-04"
    assert topic.deadlines[0].day() == date(2027, 2, 17)


def test_a_guid_shared_by_different_items_falls_back_to_the_link() -> None:
    result = parse_feed(fixture_bytes("feed_rss.xml"))
    keys = [r.external_id for r in result.records()]

    assert "https://projects.example.org/open-call-a" in keys
    assert "https://projects.example.org/open-call-b" in keys
    assert "PARENT-TOPIC-2026-01" not in keys
    assert result.skipped == 1  # the exact repeat of open call A
    assert any("share their guid" in w for w in result.warnings)
    quarantined = [i for i in result if isinstance(i, Quarantined)]
    assert len(quarantined) == 1 and "neither guid nor link" in quarantined[0].reason


def test_atom_feed() -> None:
    records = _records(
        fixture_bytes("feed_atom.xml"), feed_url="https://foundation.example.org/feed.atom"
    )

    grant = records["urn:uuid:2f0f4c8e-0000-4000-8000-000000000002"]
    assert grant.title == "Grants for climate adaptation in towns"
    assert grant.url == "https://foundation.example.org/grants/climate-adaptation"
    assert grant.language == "en"
    assert grant.published_at == datetime(2026, 9, 11, 5, 0, tzinfo=UTC)
    assert grant.deadlines[0].day() == date(2027, 1, 15)
    assert grant.tags == ("Climate",)
    travel = records["urn:uuid:2f0f4c8e-0000-4000-8000-000000000003"]
    assert travel.description_text == "Open all year."


def test_feeds_are_incomplete_unless_configured() -> None:
    assert not parse_feed(fixture_bytes("feed_atom.xml")).complete
    assert parse_feed(fixture_bytes("feed_atom.xml"), complete=True).complete


@pytest.mark.parametrize(
    "content",
    [b"<html><body><h1>Service unavailable</h1></body></html>", b"", b'{"items": []}'],
)
def test_not_a_feed(content: bytes) -> None:
    with pytest.raises(BadPayload):
        parse_feed(content)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sista ansökningsdag: 2026-10-01.", date(2026, 10, 1)),
        ("Ansök senast den 3 mars 2027", date(2027, 3, 3)),
        ("Deadline 12th December 2026, 17:00 CET", date(2026, 12, 12)),
        ("The call closes on 1 July 2027", date(2027, 7, 1)),
        ("Published 2026-09-01. Projects run for 2 years.", None),
        ("Deadline: 31 February 2027", None),
    ],
)
def test_find_deadline(text: str, expected: date | None) -> None:
    assert find_deadline(text) == expected


def test_real_feed(samples: Path) -> None:
    path = sample(samples, "ft_rss_eu_calls_feed_2026-08-22.xml")
    content = path.read_bytes()
    items = ET.fromstring(content).findall("./channel/item")
    result = parse_feed(content)
    records = result.records()

    distinct = {(i.findtext("guid"), i.findtext("link"), i.findtext("title")) for i in items}
    assert len(records) == len(distinct)
    assert len(records) + result.skipped == len(items)
    assert len({r.external_id for r in records}) == len(records)
    assert all(r.url and r.title and r.published_at for r in records)
    topic_links = [r for r in records if "/topic-details/" in (r.url or "")]
    assert topic_links and all(r.identifier for r in topic_links)
    assert not [i for i in result if isinstance(i, Quarantined)]


def test_download_is_conditional(server: LocalServer, http: TrackerSession) -> None:
    def feed(seen: Seen) -> Reply:
        if seen.headers.get("if-modified-since") == "Sat, 12 Sep 2026 09:30:00 GMT":
            return Reply(status=304)
        return Reply(
            body=fixture_bytes("feed_atom.xml"),
            headers={
                "Content-Type": "application/atom+xml; charset=utf-8",
                "Last-Modified": "Sat, 12 Sep 2026 09:30:00 GMT",
            },
        )

    server.routes["/feed.atom"] = feed
    first = fetch_rss(http, server.url("/feed.atom"))
    second = fetch_rss(http, server.url("/feed.atom"), last_modified=first.last_modified)

    assert len(first.records()) == 2 and not first.warnings
    # relative links are resolved against the feed's address
    assert all((r.url or "").startswith(("http://127.0.0.1", "https://")) for r in first.records())
    assert second.not_modified


def test_server_error_fails_the_fetch(server: LocalServer, http: TrackerSession) -> None:
    server.routes["/feed"] = Reply(status=500)

    with pytest.raises(HTTPStatusError):
        fetch_rss(http, server.url("/feed"))


def test_feedparser_is_only_ever_given_bytes() -> None:
    tree = ast.parse(inspect.getsource(rss_module))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "parse"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "feedparser"
    ]
    assert len(calls) == 1
    assert isinstance(calls[0].args[0], ast.Name) and calls[0].args[0].id == "content"
