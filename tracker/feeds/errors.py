"""Errors raised while fetching or parsing a source.

Every failure that should mark a fetch run as failed is a `FetchError`; the
ingest service records `str(error)` as the run's error, so messages name the
URL and say what went wrong in words an administrator can act on.
"""

from __future__ import annotations


class FetchError(Exception):
    """A source could not be fetched or its payload could not be read."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url

    def __str__(self) -> str:
        message = super().__str__()
        if self.url and self.url not in message:
            return f"{message} ({self.url})"
        return message


class FetchTimeout(FetchError):
    """Connecting or reading took longer than the configured timeout."""


class ConnectionFailed(FetchError):
    """The server could not be reached (DNS, refused, reset)."""


class TooLarge(FetchError):
    """The response body is larger than the allowed maximum."""

    def __init__(self, message: str, *, url: str | None = None, limit: int) -> None:
        super().__init__(message, url=url)
        self.limit = limit


class HTTPStatusError(FetchError):
    """The server answered with an error status (after any retries)."""

    def __init__(self, message: str, *, url: str | None = None, status: int) -> None:
        super().__init__(message, url=url)
        self.status = status


class TooManyRedirects(FetchError):
    """Redirects looped or exceeded the limit."""


class UnsupportedScheme(FetchError):
    """Only http, https (and file for locally configured sources) are fetched."""


class BadPayload(FetchError):
    """The body is not what the source promised (invalid JSON, XML, CSV, ...)."""


class BlockedAddress(FetchError):
    """The URL points at a private address or a local file the config does not allow."""


class RunLimitReached(FetchError):
    """A source run used up its requests, bytes or time (``[fetch]`` run limits)."""
