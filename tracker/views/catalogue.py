"""The catalogue of every stored call, matched or not, searchable in Swedish and English."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from werkzeug.wrappers import Response

from tracker import web
from tracker.models import Role
from tracker.services.catalogue import (
    GATE_ANY_GATE,
    GATE_NONE,
    STATUSES,
    catalogue_options,
    catalogue_page,
    parse_catalogue_filters,
)
from tracker.views import labels
from tracker.views.filtering import (
    filter_url,
    load_known,
    redirect_to_used_fields,
    report_server_timing,
)

bp = Blueprint("catalogue", __name__)
bp.record_once(lambda state: labels.register(state.app))

report_server_timing(bp)


@bp.route("/catalogue")
@web.requires(Role.VIEWER)
def index() -> Response | tuple[str, int]:
    now = web.now()
    base = url_for("catalogue.index")
    filters, parse_errors = parse_catalogue_filters(request.args)
    if not parse_errors and (moved := redirect_to_used_fields(filters, base)) is not None:
        return moved
    errors: dict[str, Any] = dict(parse_errors)
    filters, page = load_known(
        lambda chosen: catalogue_page(web.db(), chosen, now=now), filters, errors
    )
    return render_template(
        "catalogue/index.html",
        page=page,
        filters=filters,
        errors=errors,
        options=catalogue_options(web.db()),
        statuses=STATUSES,
        gate_any=GATE_ANY_GATE,
        gate_none=GATE_NONE,
        page_url=lambda n: filter_url(base, filters.to_query(page=n)),
        now=now,
    ), 400 if errors else 200
