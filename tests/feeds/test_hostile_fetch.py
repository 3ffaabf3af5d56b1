"""Hostile sources against a local server: drips, lies about the result count, banners,
private addresses and local files. Every one is contained: bounded in time, requests and
bytes, refused, or reported without what the server sent."""

from __future__ import annotations

import io
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.feeds.conftest import FakeClock, LocalServer, Reply, Seen, fixture_bytes, local_policy
from tracker.feeds.bulk import parse_bulk
from tracker.feeds.errors import (
    BlockedAddress,
    FetchError,
    FetchTimeout,
    RunLimitReached,
)
from tracker.feeds.http import FetchPolicy, build_session, check_address, fetch
from tracker.feeds.records import CallRecord, Quarantined, SourceKind, capped_warning
from tracker.feeds.registry import SourceSpec, fetch_source
from tracker.feeds.vinnova import parse_vinnova

# The watchdog tests time real waits on sockets and threads; libfaketime (CI's run with the
# clock 400 days ahead) stalls such timed waits. They measure durations, not dates.
under_faketime = pytest.mark.skipif(
    "faketime" in os.environ.get("LD_PRELOAD", ""),
    reason="libfaketime stalls the timed waits these watchdog tests measure",
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


class RawServer:
    """A TCP server on 127.0.0.1 that answers every connection with a scripted byte stream."""

    def __init__(self, head: bytes, drip: bytes = b"", interval: float = 0.0) -> None:
        self.head, self.drip, self.interval = head, drip, interval
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.stop = threading.Event()
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/feed"

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            conn.sendall(self.head)
            for byte in self.drip:
                if self.stop.wait(self.interval):
                    break
                conn.sendall(bytes([byte]))
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def raw_servers() -> Iterator[list[RawServer]]:
    servers: list[RawServer] = []
    yield servers
    for server in servers:
        server.close()


def _drip_server(servers: list[RawServer], *, headers: bool, interval: float) -> RawServer:
    body = b"x" * 100_000
    if headers:
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
        server = RawServer(head, body, interval)
    else:
        # the status line and headers themselves come one byte at a time
        server = RawServer(b"", b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"y" * 10_000, interval)
    servers.append(server)
    return server


@under_faketime
def test_a_body_that_drips_is_abandoned_after_one_read_timeout(
    raw_servers: list[RawServer],
) -> None:
    # The case scaled down: read timeout 5 s and a byte every 2 s, here 1 s and 0.25 s.
    server = _drip_server(raw_servers, headers=True, interval=0.25)
    http = build_session(local_policy(read_timeout=1.0, max_retries=0))
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match="too slow"):
        fetch(http, server.url)
    assert time.monotonic() - started < 4


@under_faketime
def test_the_request_deadline_holds_against_a_drip_fast_enough_for_the_rate_check(
    raw_servers: list[RawServer],
) -> None:
    server = _drip_server(raw_servers, headers=True, interval=0.05)
    policy = local_policy(
        read_timeout=1.0, total_timeout=1.5, min_bytes_per_read_timeout=0, max_retries=0
    )
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match="longer than"):
        fetch(build_session(policy), server.url)
    assert time.monotonic() - started < 3.5


@under_faketime
def test_headers_that_drip_are_cut_by_the_watchdog(raw_servers: list[RawServer]) -> None:
    server = _drip_server(raw_servers, headers=False, interval=0.1)
    policy = local_policy(connect_timeout=0.5, read_timeout=0.5, max_retries=0)
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match="to send headers"):
        fetch(build_session(policy), server.url)
    # connect + 2 x read timeout for the headers, plus scheduling slack
    assert time.monotonic() - started < 3


@under_faketime
def test_the_source_run_deadline_covers_all_its_requests(raw_servers: list[RawServer]) -> None:
    server = _drip_server(raw_servers, headers=True, interval=0.05)
    policy = local_policy(
        read_timeout=1.0, min_bytes_per_read_timeout=0, run_timeout=1.0, max_retries=3
    )
    spec = SourceSpec(kind=SourceKind.RSS, url=server.url)
    started = time.monotonic()
    with pytest.raises(RunLimitReached, match="source run took longer"):
        fetch_source(build_session(policy, sleep=FakeClock().sleep), spec, now=NOW)
    assert time.monotonic() - started < 3


def _lying_search(server: LocalServer) -> None:
    """Every page is full and claims a million more results; 5,000 programme codes."""

    def page(seen: Seen) -> Reply:
        number = int(seen.query.get("pageNumber", ["1"])[0])
        rows = [
            {
                "metadata": {
                    "type": ["1"],
                    "identifier": [f"LIE-{number}-{n}"],
                    "title": [f"Call {number}-{n}"],
                }
            }
            for n in range(10)
        ]
        return Reply(body=json.dumps({"totalResults": 1_000_000, "results": rows}).encode())

    facets = {
        "facets": [
            {
                "name": "frameworkProgramme",
                "values": [
                    {"rawValue": str(c), "value": f"P{c}", "count": 9999} for c in range(5000)
                ],
            }
        ]
    }
    server.routes["/search"] = page
    server.routes["/facet"] = Reply(body=json.dumps(facets).encode())


def test_a_lying_total_and_many_programme_codes_stop_at_the_request_cap(
    server: LocalServer,
) -> None:
    _lying_search(server)
    http = build_session(local_policy(max_requests_per_run=25), sleep=FakeClock().sleep)
    spec = SourceSpec(
        kind=SourceKind.FT_SEARCH, url=server.url("/search"), settings={"page_size": 10}
    )
    with pytest.raises(RunLimitReached, match="25 requests"):
        fetch_source(http, spec, now=NOW)
    assert len(server.requests) == 25


def test_a_page_with_more_rows_than_asked_for_ends_the_paging(server: LocalServer) -> None:
    rows = [
        {"metadata": {"type": ["1"], "identifier": [f"BIG-{n}"], "title": [f"Call {n}"]}}
        for n in range(30)
    ]
    server.routes["/search"] = Reply(
        body=json.dumps({"totalResults": 5000, "results": rows}).encode()
    )
    server.routes["/facet"] = Reply(body=b'{"facets": []}')
    spec = SourceSpec(
        kind=SourceKind.FT_SEARCH, url=server.url("/search"), settings={"page_size": 10}
    )
    result = fetch_source(build_session(local_policy()), spec, now=NOW)
    assert len(list(result.items)) == 30
    assert len(server.hits("/search")) == 1
    # the listing is not trusted as complete: nothing is withdrawn because of it
    assert not result.complete
    assert any("30 rows for a page of 10" in w for w in result.warnings)


def test_a_source_that_sends_too_many_items_keeps_the_first_ones(server: LocalServer) -> None:
    items = "".join(
        f"<item><title>Call {n}</title><link>https://example.org/{n}</link></item>"
        for n in range(30)
    )
    server.routes["/feed"] = Reply(
        body=f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()
    )
    http = build_session(local_policy(max_items_per_run=20))
    spec = SourceSpec(kind=SourceKind.RSS, url=server.url("/feed"), settings={"complete": True})
    result = fetch_source(http, spec, now=NOW)
    assert result.complete  # nothing is known to be missing before the items are read
    kept = list(result.items)
    assert [r.title for r in kept if isinstance(r, CallRecord)] == [f"Call {n}" for n in range(20)]
    # the cut list is not the source's whole list: no call may look withdrawn because of it
    assert not result.complete
    assert result.warnings == [capped_warning(20)]
    assert "the first 20 were kept" in result.warnings[0]


def test_a_search_with_more_calls_than_the_cap_keeps_the_first_and_stops_paging(
    server: LocalServer,
) -> None:
    def page(seen: Seen) -> Reply:
        number = int(seen.query["pageNumber"][0])
        rows = [
            {
                "metadata": {
                    "type": ["1"],
                    "identifier": [f"CAP-{number}-{n}"],
                    "title": [f"Call {number}-{n}"],
                }
            }
            for n in range(10)
        ]
        return Reply(body=json.dumps({"totalResults": 100, "results": rows}).encode())

    server.routes["/search"] = page
    server.routes["/facet"] = Reply(body=b'{"facets": []}')
    spec = SourceSpec(
        kind=SourceKind.FT_SEARCH, url=server.url("/search"), settings={"page_size": 10}
    )
    result = fetch_source(build_session(local_policy(max_items_per_run=25)), spec, now=NOW)
    records = [r for r in result.items if isinstance(r, CallRecord)]
    assert len(records) == 25
    assert records[0].identifier == "CAP-1-0"
    assert not result.complete
    assert capped_warning(25) in result.warnings
    # once the cap is reached no further page is asked for
    assert len(server.hits("/search")) == 3


def test_the_default_policy_refuses_loopback_and_local_files(
    server: LocalServer, tmp_path: Path
) -> None:
    server.routes["/feed"] = Reply(body=b"<rss/>")
    secret = tmp_path / "secret.csv"
    secret.write_text("title,deadline\nSecret,2027-01-01\n")
    http = build_session(FetchPolicy())
    with pytest.raises(BlockedAddress, match="not a public address"):
        fetch(http, server.url("/feed"))
    with pytest.raises(BlockedAddress, match="allow_local_folders"):
        fetch(http, secret.as_uri())
    assert server.requests == []
    # the administrator's explicit permission opens both
    allowed = build_session(
        FetchPolicy(allow_private_addresses=True, allow_local_folders=(str(tmp_path),))
    )
    assert fetch(allowed, server.url("/feed")).content == b"<rss/>"
    assert b"Secret" in fetch(allowed, secret.as_uri()).content
    elsewhere = build_session(FetchPolicy(allow_local_folders=(str(tmp_path / "feeds"),)))
    with pytest.raises(BlockedAddress):
        fetch(elsewhere, (tmp_path / "feeds" / ".." / "secret.csv").as_uri())


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.0.5", "169.254.169.254", "::1",
     "::ffff:127.0.0.1", "fd00::1", "100.64.0.1", "0.0.0.0"],
)  # fmt: skip
def test_private_addresses_are_refused(address: str) -> None:
    with pytest.raises(BlockedAddress):
        check_address(address, 80, FetchPolicy())
    assert check_address(address, 80, FetchPolicy(allow_private_addresses=True)) == [address]


def test_a_public_address_is_allowed() -> None:
    assert check_address("192.0.43.10", 443, FetchPolicy()) == ["192.0.43.10"]


def test_a_redirect_to_a_private_address_is_refused(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The local server stands in for a public one; its redirect points inside the network.
    monkeypatch.setattr("tracker.feeds.http._is_public", lambda address: address == "127.0.0.1")
    port = server.url("/").split(":")[2].split("/")[0]
    server.routes["/feed"] = Reply(
        status=302, headers={"Location": f"http://127.0.0.2:{port}/admin"}
    )
    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.2"):
        fetch(build_session(FetchPolicy()), server.url("/feed"))
    assert [r.path for r in server.requests] == ["/feed"]


def test_an_internal_services_banner_and_error_page_are_never_shown(
    raw_servers: list[RawServer], server: LocalServer
) -> None:
    banner = RawServer(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
    raw_servers.append(banner)
    http = build_session(local_policy(max_retries=0))
    with pytest.raises(FetchError) as caught:
        fetch(http, banner.url)
    assert "OpenSSH" not in str(caught.value) and "SSH-2.0" not in str(caught.value)
    server.routes["/admin"] = Reply(status=403, body=b"<h1>Jenkins: internal build secrets</h1>")
    with pytest.raises(FetchError) as denied:
        fetch(http, server.url("/admin"))
    assert "HTTP 403" in str(denied.value) and "Jenkins" not in str(denied.value)


DEEP = b"[" * 100_000 + b"]" * 100_000


def test_a_vinnova_round_nested_too_deep_is_quarantined_alone() -> None:
    good = fixture_bytes("vinnova_rounds.json").strip()
    assert good.startswith(b"[") and good.endswith(b"]")
    payload = good[:-1] + b', {"Diarienummer": "2026-99999", "x": ' + DEEP + b"}]"
    started = time.monotonic()
    result = parse_vinnova(payload)
    assert time.monotonic() - started < 5
    items = list(result.items)
    quarantined = [i for i in items if isinstance(i, Quarantined)]
    assert len(items) == len(list(parse_vinnova(good).items)) + 1
    assert [q.reason for q in quarantined if "deeper" in q.reason] != []


def test_a_bulk_item_nested_too_deep_is_quarantined_alone() -> None:
    good = json.loads(fixture_bytes("grants_tenders.json"))
    objects = good["fundingData"]["GrantTenderObj"]
    body = json.dumps({"fundingData": {"GrantTenderObj": objects[:1]}}).encode()
    payload = body.replace(b"}]}}", b'}, {"type": 1, "x": ' + DEEP + b"}]}}")
    items = list(parse_bulk(io.BytesIO(payload)))
    assert any(isinstance(i, Quarantined) and "deeper" in i.reason for i in items)
    assert len(items) == len(list(parse_bulk(io.BytesIO(body)))) + 1
