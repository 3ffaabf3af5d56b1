"""What the inbox and the catalogue do alike with a filter in the address: send the form's
every field to the address that names only those used, and drop a value that names nothing
(an unknown area or source), saying so beside its field."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

from flask import Blueprint, g, redirect, request
from werkzeug.wrappers import Response

from tracker.services.inbox import UnknownFilterValue


class Filters(Protocol):
    def to_query(self, **changes: Any) -> dict[str, str]: ...


F = TypeVar("F", bound=Filters)
P = TypeVar("P")


def filter_url(base: str, query: dict[str, str]) -> str:
    return base + ("?" + urlencode(query) if query else "")


def redirect_to_used_fields(filters: Filters, base: str) -> Response | None:
    """A redirect when the address holds more (or other) than the filter's non-default
    values: the form sends every field, the address to bookmark names only those used."""
    if list(request.args.items(multi=True)) != list(filters.to_query().items()):
        return redirect(filter_url(base, filters.to_query()))
    return None


def load_known(load: Callable[[F], P], filters: F, errors: dict[str, Any]) -> tuple[F, P]:
    """``load(filters)``, with each value that names nothing dropped and reported in
    ``errors``; returns the filters used and what ``load`` gave."""
    while True:
        try:
            return filters, load(filters)
        except UnknownFilterValue as exc:
            errors[exc.name] = exc.message
            dropped: dict[str, Any] = {exc.name: None}
            filters = replace(filters, **dropped)  # type: ignore[type-var]


def report_server_timing(bp: Blueprint) -> None:
    """Give each response of ``bp`` a Server-Timing header with the app's own time for it.

    bench/bench_inbox.py reads it to tell the server's time from the client's.
    """

    @bp.before_request
    def _start_timer() -> None:
        g.server_timing_started = time.perf_counter()

    @bp.after_request
    def _server_timing(response: Response) -> Response:
        started = g.get("server_timing_started")
        if started is not None:
            elapsed = (time.perf_counter() - started) * 1000
            response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
        return response
