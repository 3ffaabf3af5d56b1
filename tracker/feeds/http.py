"""The one HTTP client every adapter uses.

`build_session()` makes the `requests.Session` that is injected into the
adapters; `fetch()` performs one request through it with the rules every
outbound call must follow:

* connect and read timeouts, plus a wall-clock limit on reading the body;
* a User-Agent naming the tracker;
* retries with exponential backoff on 429, 5xx, timeouts and connection
  errors, honouring ``Retry-After`` up to a cap;
* a maximum body size, enforced while streaming (so a lying or missing
  Content-Length cannot exhaust memory);
* http and https only; redirects are followed by hand so that every hop is
  checked (scheme, loop, limit); ``file://`` URLs configured for a source are
  read from disk with the same size cap (offline use and demos);
* conditional requests: pass the ETag / Last-Modified of the previous run
  and a 304 comes back as ``not_modified=True``.

The sleep function and the clocks live on the session so tests can run the
retry logic without waiting.
"""

from __future__ import annotations

import email.utils
import logging
import os
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC
from typing import IO, Any
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

import requests
from requests.structures import CaseInsensitiveDict

from tracker.clock import Clock, system_clock
from tracker.feeds.errors import (
    BadPayload,
    ConnectionFailed,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    TooLarge,
    TooManyRedirects,
    UnsupportedScheme,
)

__all__ = [
    "DEFAULT_USER_AGENT",
    "BadPayload",
    "ConnectionFailed",
    "FetchError",
    "FetchPolicy",
    "FetchResponse",
    "FetchTimeout",
    "HTTPStatusError",
    "TooLarge",
    "TooManyRedirects",
    "TrackerSession",
    "UnsupportedScheme",
    "build_session",
    "fetch",
]

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = (
    "tracker/0.1 (EU funding call tracker of the international office, "
    "Norrköping municipality; +https://www.norrkoping.se)"
)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Limits for outbound requests; one instance per session."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    total_timeout: float = 600.0
    max_bytes: int = 50 * 1024 * 1024
    max_retries: int = 3
    backoff_base: float = 2.0
    backoff_max: float = 60.0
    retry_after_cap: float = 120.0
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT


class TrackerSession(requests.Session):
    """A `requests.Session` carrying the fetch policy and an injectable clock."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Clock = system_clock,
    ) -> None:
        super().__init__()
        self.policy = policy or FetchPolicy()
        self.sleep = sleep
        self.monotonic = monotonic
        self.clock = clock
        self.headers["User-Agent"] = self.policy.user_agent
        self.max_redirects = self.policy.max_redirects


def build_session(
    policy: FetchPolicy | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    clock: Clock = system_clock,
) -> TrackerSession:
    """Build the session used for all fetching (inject it into the adapters)."""
    return TrackerSession(policy, sleep=sleep, monotonic=monotonic, clock=clock)


@dataclass(frozen=True, slots=True)
class FetchResponse:
    """What a fetch returned. `content` is empty when the body went to a sink."""

    url: str
    status: int
    content: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    size: int = 0

    def json(self) -> Any:
        """Decode the body as JSON, raising `BadPayload` with the reason."""
        import json

        try:
            return json.loads(self.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadPayload(f"invalid JSON: {exc}", url=self.url) from exc


class _Retryable(Exception):
    def __init__(self, error: FetchError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def fetch(
    session: requests.Session,
    url: str,
    *,
    method: str = "GET",
    params: Mapping[str, str | int] | None = None,
    headers: Mapping[str, str] | None = None,
    files: Mapping[str, tuple[str | None, bytes | str, str]] | None = None,
    data: Mapping[str, str] | bytes | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int | None = None,
    sink: IO[bytes] | None = None,
    timeout: float | None = None,
) -> FetchResponse:
    """Fetch `url` following the policy of `session` (see module docstring).

    With `sink`, the body is streamed into that binary file object instead of
    memory (used for the bulk file). `timeout` lowers the session's limits on
    connecting, waiting and reading the whole body (for pages fetched as an
    extra, which must not hold up a run). Raises a `FetchError` subclass.
    """
    policy = session.policy if isinstance(session, TrackerSession) else FetchPolicy()
    if timeout is not None:
        policy = replace(
            policy,
            connect_timeout=min(policy.connect_timeout, timeout),
            read_timeout=min(policy.read_timeout, timeout),
            total_timeout=min(policy.total_timeout, timeout),
        )
    sleep = session.sleep if isinstance(session, TrackerSession) else time.sleep
    limit = max_bytes if max_bytes is not None else policy.max_bytes

    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        return _read_local(url, limit=limit, last_modified=last_modified, sink=sink)
    if scheme not in ("http", "https"):
        raise UnsupportedScheme(f"unsupported URL scheme {scheme or '(none)'!r}", url=url)

    request_headers: dict[str, str] = dict(headers or {})
    if etag:
        request_headers["If-None-Match"] = etag
    if last_modified:
        request_headers["If-Modified-Since"] = last_modified

    first = _Request(method, url, params, request_headers, files, data)
    attempt = 0
    while True:
        if sink is not None:
            sink.seek(0)
            sink.truncate()
        try:
            return _attempt(session, policy, first, limit=limit, sink=sink)
        except _Retryable as retry:
            if attempt >= policy.max_retries:
                raise retry.error from None
            delay = _backoff(policy, attempt)
            if retry.retry_after is not None:
                delay = min(retry.retry_after, policy.retry_after_cap)
            attempt += 1
            log.warning(
                "retrying %s in %.1fs (attempt %d of %d): %s",
                url,
                delay,
                attempt,
                policy.max_retries,
                retry.error,
            )
            sleep(delay)


def _backoff(policy: FetchPolicy, attempt: int) -> float:
    return float(min(policy.backoff_max, policy.backoff_base * (2**attempt)))


@dataclass(frozen=True, slots=True)
class _Request:
    """One request as sent; following a redirect sends a changed copy."""

    method: str
    url: str
    params: Mapping[str, str | int] | None
    headers: dict[str, str]
    files: Mapping[str, tuple[str | None, bytes | str, str]] | None
    data: Mapping[str, str] | bytes | None


def _attempt(
    session: requests.Session,
    policy: FetchPolicy,
    first: _Request,
    *,
    limit: int,
    sink: IO[bytes] | None,
) -> FetchResponse:
    current = first
    seen: set[str] = set()
    for _hop in range(policy.max_redirects + 1):
        scheme = urlsplit(current.url).scheme.lower()
        if scheme not in ("http", "https"):
            raise UnsupportedScheme(
                f"redirect to unsupported URL scheme {scheme or '(none)'!r}", url=current.url
            )
        response = _send(session, policy, current)
        if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
            seen.add(response.url)
            target = urljoin(response.url, response.headers["location"])
            response.close()
            if target in seen:
                raise TooManyRedirects(f"redirect loop back to {target}", url=first.url)
            if response.status_code == 303 or (
                response.status_code in (301, 302) and current.method.upper() == "POST"
            ):
                current = replace(current, method="GET", files=None, data=None)
            # the query string is part of the Location already
            current = replace(current, url=target, params=None)
            continue
        return _finish(session, policy, response, limit=limit, sink=sink)
    raise TooManyRedirects(f"more than {policy.max_redirects} redirects", url=first.url)


def _send(session: requests.Session, policy: FetchPolicy, sent: _Request) -> requests.Response:
    url = sent.url
    log.debug("%s %s", sent.method, url)
    try:
        return session.request(
            sent.method,
            url,
            params=sent.params,
            headers=sent.headers,
            files=sent.files,
            data=sent.data,
            timeout=(policy.connect_timeout, policy.read_timeout),
            stream=True,
            allow_redirects=False,
        )
    except requests.Timeout as exc:
        kind = "connecting" if isinstance(exc, requests.ConnectTimeout) else "waiting for data"
        raise _Retryable(FetchTimeout(f"timed out {kind}", url=url)) from exc
    except requests.exceptions.InvalidURL as exc:
        raise UnsupportedScheme(f"invalid URL: {exc}", url=url) from exc
    except requests.ConnectionError as exc:
        raise _Retryable(ConnectionFailed(f"connection failed: {_reason(exc)}", url=url)) from exc
    except requests.RequestException as exc:
        raise FetchError(f"request failed: {exc}", url=url) from exc


def _finish(
    session: requests.Session,
    policy: FetchPolicy,
    response: requests.Response,
    *,
    limit: int,
    sink: IO[bytes] | None,
) -> FetchResponse:
    url = response.url
    status = response.status_code
    headers = CaseInsensitiveDict(response.headers)
    etag = headers.get("etag")
    last_modified = headers.get("last-modified")
    if status == 304:
        response.close()
        return FetchResponse(
            url=url,
            status=status,
            headers=headers,
            etag=etag,
            last_modified=last_modified,
            not_modified=True,
        )
    if status >= 400:
        excerpt = _excerpt(response)
        error = HTTPStatusError(
            f"HTTP {status} {response.reason or ''}".rstrip() + (f": {excerpt}" if excerpt else ""),
            url=url,
            status=status,
        )
        if status in RETRY_STATUSES:
            raise _Retryable(error, _retry_after(session, headers.get("retry-after")))
        raise error
    declared = headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        response.close()
        raise TooLarge(
            f"response of {int(declared)} bytes exceeds the limit of {limit} bytes",
            url=url,
            limit=limit,
        )
    monotonic = session.monotonic if isinstance(session, TrackerSession) else time.monotonic
    started = monotonic()
    buffer = bytearray()
    size = 0
    try:
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"response exceeds the limit of {limit} bytes", url=url, limit=limit)
            if sink is not None:
                sink.write(chunk)
            else:
                buffer += chunk
            if monotonic() - started > policy.total_timeout:
                raise _Retryable(
                    FetchTimeout(
                        f"reading the body took longer than {policy.total_timeout:.0f}s", url=url
                    )
                )
    except requests.exceptions.ConnectionError as exc:
        if "timed out" in str(exc).lower():
            raise _Retryable(FetchTimeout("timed out waiting for data", url=url)) from exc
        raise _Retryable(ConnectionFailed(f"connection broken: {_reason(exc)}", url=url)) from exc
    except requests.exceptions.ChunkedEncodingError as exc:
        raise _Retryable(ConnectionFailed(f"connection broken: {_reason(exc)}", url=url)) from exc
    except requests.exceptions.ContentDecodingError as exc:
        raise BadPayload(f"could not decode the body: {exc}", url=url) from exc
    finally:
        response.close()
    return FetchResponse(
        url=url,
        status=status,
        content=bytes(buffer),
        headers=headers,
        etag=etag,
        last_modified=last_modified,
        size=size,
    )


def _reason(exc: BaseException) -> str:
    """A short cause for a connection error (requests' own text repeats the whole URL)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = type(current).__name__
        if name == "NameResolutionError" or isinstance(current, socket.gaierror):
            host = getattr(current, "host", None) or getattr(
                getattr(current, "conn", None), "host", None
            )
            return f"cannot resolve the host name{f' {host}' if host else ''} (no network or DNS?)"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, ConnectionResetError):
            return "connection reset by the server"
        if isinstance(current, ssl.SSLError):
            return f"TLS error: {current.reason or current}"
        reasons = [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]
        nested = getattr(current, "reason", None)
        current = (
            nested
            if isinstance(nested, BaseException)
            else (reasons[0] if reasons else current.__cause__ or current.__context__)
        )
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:200] + "…"


def _excerpt(response: requests.Response, limit: int = 300) -> str:
    try:
        raw = response.raw.read(limit, decode_content=True) if response.raw else b""
    except Exception:  # the body of an error page is a courtesy, never essential
        raw = b""
    finally:
        response.close()
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
    return " ".join(text.split())[:limit]


def _retry_after(session: requests.Session, value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = session.clock() if isinstance(session, TrackerSession) else system_clock()
    return max(0.0, (when - now).total_seconds())


def _read_local(
    url: str, *, limit: int, last_modified: str | None, sink: IO[bytes] | None
) -> FetchResponse:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise UnsupportedScheme("file URLs must point to this machine", url=url)
    path = url2pathname(unquote(parts.path))
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise FetchError(f"cannot read local file: {exc.strerror}", url=url) from exc
    stamp = email.utils.formatdate(stat.st_mtime, usegmt=True)
    if last_modified and last_modified == stamp:
        return FetchResponse(url=url, status=304, last_modified=stamp, not_modified=True)
    if stat.st_size > limit:
        raise TooLarge(
            f"file of {stat.st_size} bytes exceeds the limit of {limit} bytes", url=url, limit=limit
        )
    buffer = bytearray()
    size = 0
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"file exceeds the limit of {limit} bytes", url=url, limit=limit)
                if sink is not None:
                    sink.write(chunk)
                else:
                    buffer += chunk
    except OSError as exc:
        raise FetchError(f"cannot read local file: {exc.strerror}", url=url) from exc
    return FetchResponse(url=url, status=200, content=bytes(buffer), last_modified=stamp, size=size)
