"""The shared HTTP client against a real local server."""

from __future__ import annotations

import email.utils
import io
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.feeds.conftest import FakeClock, LocalServer, Reply, Seen, local_policy
from tracker.feeds.http import (
    DEFAULT_USER_AGENT,
    BlockedAddress,
    ConnectionFailed,
    FetchTimeout,
    HTTPStatusError,
    TooLarge,
    TooManyRedirects,
    TrackerSession,
    UnsupportedScheme,
    build_session,
    fetch,
)


def test_get_sends_user_agent_and_returns_body(server: LocalServer, http: TrackerSession) -> None:
    server.routes["/feed"] = Reply(body=b"hello", headers={"ETag": '"v1"'})

    response = fetch(http, server.url("/feed"))

    assert response.content == b"hello"
    assert response.etag == '"v1"'
    assert server.requests[0].headers["user-agent"] == DEFAULT_USER_AGENT
    assert "tracker" in DEFAULT_USER_AGENT


def test_etag_and_last_modified_make_a_conditional_request(
    server: LocalServer, http: TrackerSession
) -> None:
    stamp = "Wed, 19 Aug 2026 06:00:00 GMT"

    def conditional(seen: Seen) -> Reply:
        if seen.headers.get("if-none-match") == '"v1"':
            return Reply(status=304, headers={"ETag": '"v1"'})
        return Reply(body=b"full", headers={"ETag": '"v1"', "Last-Modified": stamp})

    server.routes["/feed"] = conditional
    first = fetch(http, server.url("/feed"))
    second = fetch(http, server.url("/feed"), etag=first.etag, last_modified=first.last_modified)

    assert first.content == b"full" and not first.not_modified
    assert second.not_modified and second.content == b""
    assert server.requests[1].headers["if-modified-since"] == stamp


def test_429_waits_for_retry_after_then_succeeds(
    server: LocalServer, http: TrackerSession, clock: FakeClock
) -> None:
    server.routes["/api"] = [
        Reply(status=429, headers={"Retry-After": "7"}),
        Reply(body=b"ok"),
    ]

    response = fetch(http, server.url("/api"))

    assert response.content == b"ok"
    assert clock.slept == [7.0]
    assert len(server.hits("/api")) == 2


def test_retry_after_is_capped(server: LocalServer, clock: FakeClock) -> None:
    http = build_session(local_policy(retry_after_cap=30), sleep=clock.sleep)
    server.routes["/api"] = [Reply(status=429, headers={"Retry-After": "86400"}), Reply(body=b"ok")]

    fetch(http, server.url("/api"))

    assert clock.slept == [30.0]


def test_retry_after_as_http_date(server: LocalServer, clock: FakeClock) -> None:
    now = datetime(2026, 8, 20, 12, 0, tzinfo=UTC)
    http = build_session(local_policy(), sleep=clock.sleep, clock=lambda: now)
    later = email.utils.format_datetime(now + timedelta(seconds=45), usegmt=True)
    server.routes["/api"] = [Reply(status=503, headers={"Retry-After": later}), Reply(body=b"ok")]

    fetch(http, server.url("/api"))

    assert clock.slept == [45.0]


def test_server_errors_back_off_exponentially_then_fail(
    server: LocalServer, clock: FakeClock
) -> None:
    http = build_session(local_policy(max_retries=3, backoff_base=1.5), sleep=clock.sleep)
    server.routes["/api"] = Reply(status=502, body=b"<html>Bad gateway</html>")

    with pytest.raises(HTTPStatusError) as caught:
        fetch(http, server.url("/api"))

    assert caught.value.status == 502
    # the status is named; the body (an internal service's page, perhaps) is never quoted
    assert "HTTP 502" in str(caught.value) and "<html>" not in str(caught.value)
    assert clock.slept == [1.5, 3.0, 6.0]
    assert len(server.hits("/api")) == 4


def test_client_errors_are_not_retried(server: LocalServer, http: TrackerSession) -> None:
    server.routes["/gone"] = Reply(status=404, body=b"no such feed")

    with pytest.raises(HTTPStatusError) as caught:
        fetch(http, server.url("/gone"))

    assert caught.value.status == 404
    assert len(server.hits("/gone")) == 1


def test_slow_server_times_out_after_retries(server: LocalServer, clock: FakeClock) -> None:
    policy = local_policy(read_timeout=0.2, max_retries=1)
    http = build_session(policy, sleep=clock.sleep)
    server.routes["/slow"] = Reply(body=b"late", delay=1.0)

    with pytest.raises(FetchTimeout) as caught:
        fetch(http, server.url("/slow"))

    assert "timed out" in str(caught.value)
    assert len(server.hits("/slow")) == 2
    assert len(clock.slept) == 1


def test_connection_refused_is_a_connection_error(clock: FakeClock) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    http = build_session(local_policy(max_retries=2), sleep=clock.sleep)

    with pytest.raises(ConnectionFailed) as caught:
        fetch(http, f"http://127.0.0.1:{port}/feed")
    assert len(clock.slept) == 2
    assert (
        str(caught.value) == f"connection failed: connection refused (http://127.0.0.1:{port}/feed)"
    )


def test_redirect_loop_is_detected(server: LocalServer, http: TrackerSession) -> None:
    server.routes["/a"] = Reply(status=302, headers={"Location": "/b"})
    server.routes["/b"] = Reply(status=302, headers={"Location": "/a"})

    with pytest.raises(TooManyRedirects, match="loop"):
        fetch(http, server.url("/a"))
    assert len(server.requests) == 2


def test_redirects_are_followed_up_to_the_limit(server: LocalServer, clock: FakeClock) -> None:
    http = build_session(local_policy(max_redirects=2), sleep=clock.sleep)
    for n in range(3):
        server.routes[f"/r{n}"] = Reply(status=301, headers={"Location": f"/r{n + 1}"})
    server.routes["/r3"] = Reply(body=b"end")

    with pytest.raises(TooManyRedirects):
        fetch(http, server.url("/r0"))

    server.requests.clear()
    assert fetch(http, server.url("/r1")).content == b"end"
    assert fetch(http, server.url("/r1")).url.endswith("/r3")


def test_redirect_to_a_local_file_is_refused(server: LocalServer, http: TrackerSession) -> None:
    server.routes["/feed"] = Reply(status=302, headers={"Location": "file:///etc/passwd"})

    with pytest.raises(UnsupportedScheme):
        fetch(http, server.url("/feed"))


def test_oversized_body_with_content_length_is_refused(
    server: LocalServer, clock: FakeClock
) -> None:
    http = build_session(local_policy(max_bytes=1000), sleep=clock.sleep)
    server.routes["/big"] = Reply(body=b"x" * 5000)

    with pytest.raises(TooLarge) as caught:
        fetch(http, server.url("/big"))
    assert caught.value.limit == 1000
    assert "1000" in str(caught.value)


def test_oversized_body_without_content_length_is_cut_while_streaming(
    server: LocalServer, clock: FakeClock
) -> None:
    http = build_session(local_policy(max_bytes=100_000), sleep=clock.sleep)
    server.routes["/big"] = Reply(body=b"x" * 300_000, declare_length=False)

    with pytest.raises(TooLarge):
        fetch(http, server.url("/big"))


def test_size_limit_can_be_raised_per_request(server: LocalServer, clock: FakeClock) -> None:
    http = build_session(local_policy(max_bytes=1000), sleep=clock.sleep)
    server.routes["/big"] = Reply(body=b"x" * 5000)

    assert len(fetch(http, server.url("/big"), max_bytes=10_000).content) == 5000


def test_body_can_stream_into_a_file(server: LocalServer, http: TrackerSession) -> None:
    server.routes["/bulk"] = [Reply(status=503), Reply(body=b"0123456789" * 1000)]
    sink = io.BytesIO()

    response = fetch(http, server.url("/bulk"), sink=sink)

    assert response.content == b""
    assert response.size == 10_000
    assert sink.getvalue() == b"0123456789" * 1000


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "gopher://x", "/relative/path"])
def test_only_http_and_https(http: TrackerSession, url: str) -> None:
    with pytest.raises(UnsupportedScheme):
        fetch(http, url)


def test_local_files_are_read_with_last_modified(tmp_path: Path, http: TrackerSession) -> None:
    path = tmp_path / "calls.json"
    path.write_bytes(b"[]")

    first = fetch(http, path.as_uri())
    again = fetch(http, path.as_uri(), last_modified=first.last_modified)

    assert first.content == b"[]" and first.last_modified
    assert again.not_modified


def test_local_files_respect_the_size_cap(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b"x" * 2000)
    http = build_session(local_policy(max_bytes=1000), sleep=clock.sleep)

    with pytest.raises(TooLarge):
        fetch(http, path.as_uri())


def test_plain_requests_session_gets_default_policy(server: LocalServer) -> None:
    import requests

    server.routes["/feed"] = Reply(body=b"ok")
    with requests.Session() as plain, pytest.raises(BlockedAddress):
        # the default policy: public addresses only
        fetch(plain, server.url("/feed"))
    assert server.requests == []
