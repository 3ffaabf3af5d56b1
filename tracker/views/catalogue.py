"""The catalogue of every stored call, matched or not, searchable in Swedish and English."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from tracker import web
from tracker.models import Role
from tracker.services.catalogue import (
    GATE_ANY_GATE,
    GATE_NONE,
    STATUSES,
    CataloguePage,
    catalogue_options,
    catalogue_page,
    parse_catalogue_filters,
)
from tracker.services.inbox import UnknownFilterValue
from tracker.views import labels

bp = Blueprint("catalogue", __name__)
bp.record_once(lambda state: labels.register(state.app))


@bp.before_request
def _start_timer() -> None:
    g.catalogue_started = time.perf_counter()


@bp.after_request
def _server_timing(response: Response) -> Response:
    # The server's own time for the request, read by bench/bench_inbox.py.
    started = g.get("catalogue_started")
    if started is not None:
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


def _url(query: dict[str, str]) -> str:
    return url_for("catalogue.index") + ("?" + urlencode(query) if query else "")


@bp.route("/catalogue")
@web.requires(Role.VIEWER)
def index() -> Response | tuple[str, int]:
    now = web.now()
    filters, parse_errors = parse_catalogue_filters(request.args)
    if not parse_errors and list(request.args.items(multi=True)) != list(
        filters.to_query().items()
    ):
        # The form sends every field; the address names only those used.
        return redirect(_url(filters.to_query()))
    errors: dict[str, Any] = dict(parse_errors)
    page: CataloguePage
    while True:
        try:
            page = catalogue_page(web.db(), filters, now=now)
            break
        except UnknownFilterValue as exc:
            errors[exc.name] = exc.message
            dropped: dict[str, Any] = {exc.name: None}
            filters = replace(filters, **dropped)
    return render_template(
        "catalogue/index.html",
        page=page,
        filters=filters,
        errors=errors,
        options=catalogue_options(web.db()),
        statuses=STATUSES,
        gate_any=GATE_ANY_GATE,
        gate_none=GATE_NONE,
        page_url=lambda n: _url(filters.to_query(page=n)),
        now=now,
    ), 400 if errors else 200
