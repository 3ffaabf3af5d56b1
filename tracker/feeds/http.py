"""The one HTTP client every adapter uses.

`build_session()` makes the `requests.Session` that is injected into the
adapters; `fetch()` performs one request through it with the rules every
outbound call must follow:

* connect and read timeouts; a deadline per request (headers to last byte)
  and per source run, enforced by a watchdog that shuts the socket down, so a
  server that drips a byte now and then cannot hold a fetch open; a body that
  arrives slower than a minimum rate is abandoned after one read timeout;
* per source run (`source_run()`): a cap on requests (retries and redirects
  count), on bytes and on wall time, so a lying ``totalResults`` cannot make
  it page forever;
* a User-Agent naming the tracker;
* retries with exponential backoff on 429, 5xx, timeouts and connection
  errors, honouring ``Retry-After`` up to a cap;
* a maximum body size, enforced while streaming (so a lying or missing
  Content-Length cannot exhaust memory);
* http and https only, to public addresses: every address a host name
  resolves to is checked, again when the connection is made (so a name that
  re-resolves to 127.0.0.1 is refused too) and for every redirect target;
  private, loopback and link-local addresses only when the policy allows
  them; redirects are followed by hand so that every hop is checked (scheme,
  address, loop, limit); ``file://`` URLs are read from disk with the same
  size cap, only inside the folders the policy allows (offline use, demos);
* error messages never quote the remote body or banner;
* conditional requests: pass the ETag / Last-Modified of the previous run
  and a 304 comes back as ``not_modified=True``.

The sleep function and the clocks live on the session so tests can run the
retry logic without waiting.
"""

from __future__ import annotations

import email.utils
import http.client
import ipaddress
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from tracker.clock import Clock, system_clock
from tracker.feeds.errors import (
    BadPayload,
    BlockedAddress,
    ConnectionFailed,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    RunLimitReached,
    TooLarge,
    TooManyRedirects,
    UnsupportedScheme,
)

__all__ = [
    "DEFAULT_USER_AGENT",
    "BadPayload",
    "BlockedAddress",
    "ConnectionFailed",
    "FetchError",
    "FetchPolicy",
    "FetchResponse",
    "FetchTimeout",
    "HTTPStatusError",
    "RunBudget",
    "RunLimitReached",
    "TooLarge",
    "TooManyRedirects",
    "TrackerSession",
    "UnsupportedScheme",
    "build_session",
    "check_address",
    "current_run",
    "fetch",
    "source_run",
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
    # One request, from connecting to the last byte of the body.
    total_timeout: float = 600.0
    max_bytes: int = 50 * 1024 * 1024
    max_retries: int = 3
    backoff_base: float = 2.0
    backoff_max: float = 60.0
    retry_after_cap: float = 120.0
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT
    # A body must bring at least this many bytes per read timeout (a drip is abandoned).
    min_bytes_per_read_timeout: int = 1024
    # One source run (`source_run`): every request, retry, redirect and page together.
    run_timeout: float = 1800.0
    max_requests_per_run: int = 500
    max_bytes_per_run: int = 1_000_000_000
    max_items_per_run: int = 50_000
    allow_private_addresses: bool = False
    allow_local_folders: tuple[str, ...] = ()


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
        # Connections that check their address and can be cut by the request's watchdog.
        self.mount("http://", _GuardedAdapter())
        self.mount("https://", _GuardedAdapter())


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


# --- a source run: requests, bytes and time shared by every request of one run -----------


class RunBudget:
    """What one source run may still spend; `fetch` draws on the run of the current context."""

    def __init__(self, policy: FetchPolicy, monotonic: Callable[[], float]) -> None:
        self.policy = policy
        self.monotonic = monotonic
        self.started = monotonic()
        self.deadline = self.started + policy.run_timeout
        self.requests = 0
        self.bytes = 0

    def remaining(self) -> float:
        return self.deadline - self.monotonic()

    def start_request(self, url: str) -> None:
        if self.remaining() <= 0:
            raise RunLimitReached(
                f"the source run took longer than {self.policy.run_timeout:.0f}s: stopped", url=url
            )
        if self.requests >= self.policy.max_requests_per_run:
            raise RunLimitReached(
                f"the source run made {self.requests} requests, the most one run may make "
                "([fetch] max_requests_per_run): stopped",
                url=url,
            )
        self.requests += 1

    def add_bytes(self, count: int, url: str) -> None:
        self.bytes += count
        if self.bytes > self.policy.max_bytes_per_run:
            raise RunLimitReached(
                f"the source run downloaded more than {self.policy.max_bytes_per_run} bytes "
                "([fetch] max_bytes_per_run): stopped",
                url=url,
            )


_RUN: ContextVar[RunBudget | None] = ContextVar("tracker_fetch_run", default=None)


@contextmanager
def source_run(session: requests.Session) -> Iterator[RunBudget]:
    """Every `fetch` inside this block shares one budget of requests, bytes and time."""
    policy = session.policy if isinstance(session, TrackerSession) else FetchPolicy()
    monotonic = session.monotonic if isinstance(session, TrackerSession) else time.monotonic
    budget = RunBudget(policy, monotonic)
    token = _RUN.set(budget)
    try:
        yield budget
    finally:
        _RUN.reset(token)


def current_run() -> RunBudget | None:
    """The budget of the source run in progress in this context, if any."""
    return _RUN.get()


# --- addresses -------------------------------------------------------------------------------


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_address(host: str, port: int, policy: FetchPolicy) -> list[str]:
    """The addresses `host` resolves to, all of them allowed by `policy` (else `BlockedAddress`).

    Every address is checked, not only the first: a name that also resolves to
    a private address is refused as a whole.
    """
    host = host.strip("[]").rstrip(".")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConnectionFailed(f"cannot resolve the host name {host} (no network or DNS?)") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not policy.allow_private_addresses:
        for address in addresses:
            if not _is_public(address):
                raise BlockedAddress(
                    f"refused: {host} resolves to {address}, which is not a public address "
                    "(an administrator can allow it with [fetch] allow_private_addresses)"
                )
    return addresses


def _check_url(url: str, policy: FetchPolicy) -> None:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsupportedScheme(f"unsupported URL scheme {scheme or '(none)'!r}", url=url)
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise UnsupportedScheme(f"invalid URL: {exc}", url=url) from exc
    if not parts.hostname:
        raise UnsupportedScheme("the URL has no host", url=url)
    try:
        check_address(parts.hostname, port, policy)
    except FetchError as exc:
        exc.url = url
        raise


# --- the watchdog: a deadline that holds even against a server that drips --------------------


class _Watch:
    """The sockets of the request in progress on one thread; shut down at the deadline.

    A read timeout only bounds the wait for the next byte; a server sending one
    byte every few seconds never trips it. Shutting the socket down from this
    timer thread wakes the blocked read, whatever it is waiting for.
    """

    def __init__(self, policy: FetchPolicy) -> None:
        self.policy = policy
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[tuple[socket.socket, int]] = []
        self._timer: threading.Timer | None = None
        self.what = ""

    def arm(self, seconds: float, what: str) -> None:
        """Cut the connection in `seconds`; `what` says what took too long, for the error."""
        self.disarm()
        self.what = what
        self._timer = threading.Timer(max(0.0, seconds), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append((sock, sock.fileno()))
            if self.expired:
                _shut(sock, sock.fileno())

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock, fd in self._sockets:
                _shut(sock, fd)


def _shut(sock: socket.socket, fd: int) -> None:
    try:
        if sock.fileno() != -1:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        elif fd != -1:
            # A plain socket handed to TLS is detached; during the handshake the fd is its.
            twin = socket.socket(fileno=fd)
            try:
                twin.shutdown(socket.SHUT_RDWR)
            finally:
                twin.detach()
    except OSError:
        pass


_LOCAL = threading.local()


def _current_watch() -> _Watch | None:
    watch: _Watch | None = getattr(_LOCAL, "watch", None)
    return watch


@contextmanager
def _watching(policy: FetchPolicy) -> Iterator[_Watch]:
    watch = _Watch(policy)
    _LOCAL.watch = watch
    try:
        yield watch
    finally:
        watch.disarm()
        _LOCAL.watch = None


class _GuardedConnectionMixin:
    """Checks the address it connects to and hands its socket to the request's watchdog."""

    _dns_host: str
    port: int
    proxy: Any
    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        watch = _current_watch()
        policy = watch.policy if watch is not None else FetchPolicy()
        if self.proxy:  # the proxy's own address is the administrator's choice
            sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        else:
            # Connect to an address that was checked: the name is not looked up again.
            addresses = check_address(self._dns_host, self.port, policy)
            name = self._dns_host
            try:
                self._dns_host = addresses[0]
                sock = super()._new_conn()  # type: ignore[misc]
            finally:
                self._dns_host = name
        if watch is not None:
            watch.add(sock)
        return sock

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        watch = _current_watch()
        if watch is not None and self.sock is not None:
            watch.add(self.sock)  # the TLS socket that replaced the plain one

    def request(self, *args: Any, **kwargs: Any) -> None:
        watch = _current_watch()
        if watch is not None and self.sock is not None:
            watch.add(self.sock)  # a kept-alive connection from an earlier request
        super().request(*args, **kwargs)  # type: ignore[misc]


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


# --- fetching ----------------------------------------------------------------------------------


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
        return _read_local(url, policy, limit=limit, last_modified=last_modified, sink=sink)
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
            run = current_run()
            if run is not None and delay >= run.remaining():
                raise retry.error from None  # waiting would outlast the run anyway
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
        _check_url(current.url, policy)
        run = current_run()
        if run is not None:
            run.start_request(current.url)
        deadline = policy.total_timeout
        if run is not None:
            deadline = min(deadline, run.remaining())
        with _watching(policy) as watch:
            # Headers come in one breath once the server answers; the body may take longer.
            headers_by = min(deadline, policy.connect_timeout + 2 * policy.read_timeout)
            watch.arm(headers_by, f"the server took longer than {headers_by:.0f}s to send headers")
            started = _monotonic(session)
            response = _send(session, policy, current, watch)
            if watch.expired:  # headers cut short by the watchdog may still parse
                response.close()
                raise _deadline_passed(watch, current.url)
            watch.arm(
                deadline - (_monotonic(session) - started),
                f"the request took longer than {deadline:.0f}s",
            )
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
            return _finish(
                session, policy, response, limit=limit, sink=sink, watch=watch, started=started
            )
    raise TooManyRedirects(f"more than {policy.max_redirects} redirects", url=first.url)


def _monotonic(session: requests.Session) -> float:
    clock = session.monotonic if isinstance(session, TrackerSession) else time.monotonic
    return clock()


def _deadline_passed(watch: _Watch, url: str) -> FetchError:
    run = current_run()
    if run is not None and run.remaining() <= 0:
        return RunLimitReached(
            f"the source run took longer than {run.policy.run_timeout:.0f}s: stopped", url=url
        )
    return FetchTimeout(f"{watch.what}: abandoned", url=url)


def _send(
    session: requests.Session, policy: FetchPolicy, sent: _Request, watch: _Watch
) -> requests.Response:
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
        if watch.expired:
            raise _deadline_passed(watch, url) from exc
        raise _Retryable(ConnectionFailed(f"connection failed: {_reason(exc)}", url=url)) from exc
    except requests.RequestException as exc:
        if watch.expired:
            raise _deadline_passed(watch, url) from exc
        raise FetchError(f"request failed: {_reason(exc)}", url=url) from exc
    except FetchError as exc:  # an address refused when the connection was made
        exc.url = exc.url or url
        raise


def _finish(
    session: requests.Session,
    policy: FetchPolicy,
    response: requests.Response,
    *,
    limit: int,
    sink: IO[bytes] | None,
    watch: _Watch,
    started: float,
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
        response.close()  # the body is never shown: it may be an internal service's
        error = HTTPStatusError(
            f"HTTP {status} {response.reason or ''}".rstrip(), url=url, status=status
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
    run = current_run()
    buffer = bytearray()
    size = 0
    window_started, window_bytes = monotonic(), 0
    try:
        while chunk := response.raw.read1(_CHUNK, decode_content=True):
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"response exceeds the limit of {limit} bytes", url=url, limit=limit)
            if run is not None:
                run.add_bytes(len(chunk), url)
            if sink is not None:
                sink.write(chunk)
            else:
                buffer += chunk
            now = monotonic()
            if now - started > policy.total_timeout:
                raise FetchTimeout(
                    f"the request took longer than {policy.total_timeout:.0f}s: abandoned",
                    url=url,
                )
            window_bytes += len(chunk)
            if now - window_started >= policy.read_timeout:
                if window_bytes < policy.min_bytes_per_read_timeout:
                    raise FetchTimeout(
                        f"the server sent {window_bytes} bytes in {now - window_started:.0f}s, "
                        "too slow to wait for: abandoned",
                        url=url,
                    )
                window_started, window_bytes = now, 0
        if watch.expired:  # the watchdog cut the connection: what came is not the whole body
            raise _deadline_passed(watch, url)
    except (urllib3.exceptions.HTTPError, requests.exceptions.RequestException, OSError) as exc:
        if watch.expired:
            raise _deadline_passed(watch, url) from exc
        if isinstance(exc, urllib3.exceptions.DecodeError):
            raise BadPayload(f"could not decode the body: {exc}", url=url) from exc
        if isinstance(exc, urllib3.exceptions.ReadTimeoutError | socket.timeout):
            raise _Retryable(FetchTimeout("timed out waiting for data", url=url)) from exc
        raise _Retryable(ConnectionFailed(f"connection broken: {_reason(exc)}", url=url)) from exc
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
    """A short cause for a connection error, never quoting what the server sent.

    requests' own text repeats the whole URL, and an internal service's banner
    ("SSH-2.0-...") would come back inside a bad-status-line error.
    """
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
        if isinstance(current, http.client.RemoteDisconnected):
            return "the server closed the connection without answering"
        if isinstance(current, http.client.HTTPException):
            return "the server did not answer with valid HTTP"
        if isinstance(current, ssl.SSLError):
            return f"TLS error: {current.reason or type(current).__name__}"
        if isinstance(current, urllib3.exceptions.IncompleteRead | http.client.IncompleteRead):
            return "the body ended early"
        reasons = [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]
        nested = getattr(current, "reason", None)
        current = (
            nested
            if isinstance(nested, BaseException)
            else (reasons[0] if reasons else current.__cause__ or current.__context__)
        )
    return type(exc).__name__


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


def _allowed_local_path(path: str, policy: FetchPolicy) -> bool:
    real = Path(os.path.realpath(path))
    for folder in policy.allow_local_folders:
        root = Path(os.path.realpath(folder))
        if real == root or root in real.parents:
            return True
    return False


def _read_local(
    url: str,
    policy: FetchPolicy,
    *,
    limit: int,
    last_modified: str | None,
    sink: IO[bytes] | None,
) -> FetchResponse:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise UnsupportedScheme("file URLs must point to this machine", url=url)
    path = url2pathname(unquote(parts.path))
    if not _allowed_local_path(path, policy):
        raise BlockedAddress(
            "refused: local files are read only from the folders listed in "
            "[fetch] allow_local_folders",
            url=url,
        )
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
