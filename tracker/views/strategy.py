"""The strategy profile (focus areas, vocabulary, thresholds, gates) and each call's scores
with their evidence. Everyone signed in reads them; editors record decisions on matches;
administrators edit the profile, which makes a new version and re-matches every call."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker import web
from tracker.errors import NotFound, ValidationFailed
from tracker.matching.profile import FocusArea as AreaSpec
from tracker.matching.profile import ProgrammePrior, Term
from tracker.models import FundingCall, Role, StrategyProfile
from tracker.services.pipeline import match_and_refresh, rematch_everything
from tracker.services.strategy import (
    NOT_RELEVANT_REASONS,
    RELEVANT_REASONS,
    call_matches,
    current_model_row,
    decisions_for_call,
    ensure_default_profile,
    learning_by_area,
    list_matched_calls,
    profile_of,
    record_decision,
    retire_area,
    retired_areas,
    save_area,
    save_profile_settings,
    set_home_region,
)

bp = Blueprint("strategy", __name__, url_prefix="/strategy")

KINDS = {
    "term": _l("Term"),
    "negative": _l("Negative term"),
    "applicant": _l("Who may take part"),
    "exclusion": _l("Industry, research or defence signal"),
    "prior": _l("Programme"),
    "breadth": _l("Breadth"),
    "feedback": _l("Staff decisions"),
    "gate": _l("Not eligible"),
    "basis": _l("Basis"),
    "eligibility": _l("Who may apply"),
    "short-record": _l("Short record"),
}
LEARNING_STATUS = {
    "learned": _l("in use"),
    "too few decisions": _l("not in use: too few decisions of each kind"),
    "no gain in cross-validation": _l("not in use: it did not do better than the rules"),
    "too few programmes to test learning": _l("not in use: too few programmes to test it"),
    "no decisions": _l("no decisions yet"),
}
FIELDS = {
    "title": _l("title"),
    "keywords and tags": _l("keywords and tags"),
    "description": _l("description"),
    "programme": _l("programme"),
}
REASONS = {
    "fits-strategy": _l("Fits the strategy"),
    "partner-interest": _l("A partner is interested"),
    "not-our-goals": _l("Not our goals"),
    "wrong-area": _l("Relevant, but to another area"),
    "not-eligible": _l("We are not eligible"),
    "research-or-industry": _l("For research or industry"),
    "national-level": _l("For national authorities"),
    "import": _l("Imported label"),
    "other": _l("Other"),
}


@bp.route("/")
@web.requires(Role.VIEWER)
def index() -> str:
    session = web.db()
    row = ensure_default_profile(session, now=web.now())
    session.commit()
    profile = profile_of(row)
    versions = list(
        session.scalars(
            select(StrategyProfile).order_by(StrategyProfile.created_at.desc()).limit(10)
        )
    )
    user = web.current_user()
    model_row = current_model_row(session)
    return render_template(
        "strategy/index.html",
        row=row,
        profile=profile,
        retired=retired_areas(row),
        versions=versions,
        model=model_row,
        learning=learning_by_area(model_row, profile.slugs),
        learning_status=LEARNING_STATUS,
        can_admin=user is not None and user.role.allows(Role.ADMIN),
    )


@bp.route("/areas/new", methods=["GET", "POST"])
@web.requires(Role.ADMIN)
def new_area() -> Response | str | tuple[str, int]:
    return _edit_area(None)


@bp.route("/areas/<slug>/edit", methods=["GET", "POST"])
@web.requires(Role.ADMIN)
def edit_area(slug: str) -> Response | str | tuple[str, int]:
    return _edit_area(slug)


def _edit_area(slug: str | None) -> Response | str | tuple[str, int]:
    session = web.db()
    row = ensure_default_profile(session, now=web.now())
    area = None
    if slug is not None:
        area = next((a for a in profile_of(row).areas if a.slug == slug), None)
        if area is None:
            raise NotFound(_("No focus area %(slug)s.", slug=slug))
    if request.method == "POST":
        form = {key: request.form.get(key, "").strip() for key in AREA_KEYS}
        errors: dict[str, str] = {}
        data = _area_from_form(form, errors)
        if not errors:
            try:
                save_area(
                    session, data, actor=web.require_user(), now=web.now(), original_slug=slug
                )
                rematch_everything(session, now=web.now())
            except ValidationFailed as exc:
                session.rollback()
                errors.update(exc.errors or {"slug": str(exc)})
        if errors:
            return render_template("strategy/area.html", area=area, form=form, errors=errors), 422
        session.commit()
        flash(_("Saved as a new version of the profile; every call was matched again."), "info")
        return redirect(url_for("strategy.index"))
    form = _form_from(area) if area is not None else dict.fromkeys(AREA_KEYS, "")
    if area is None:
        form["threshold"] = "50"
    return render_template("strategy/area.html", area=area, form=form, errors={})


@bp.route("/areas/<slug>/retire", methods=["POST"])
@web.requires(Role.ADMIN)
def retire(slug: str) -> Response:
    session = web.db()
    try:
        retire_area(session, slug, actor=web.require_user(), now=web.now())
        rematch_everything(session, now=web.now())
    except ValidationFailed as exc:
        session.rollback()
        flash(web.translate(exc), "error")
        return redirect(url_for("strategy.index"))
    session.commit()
    flash(_("The area is retired: calls are no longer matched against it."), "info")
    return redirect(url_for("strategy.index"))


@bp.route("/settings", methods=["GET", "POST"])
@web.requires(Role.ADMIN)
def settings() -> Response | str | tuple[str, int]:
    session = web.db()
    row = ensure_default_profile(session, now=web.now())
    if request.method == "POST":
        form = {"gates": request.form.get("gates", ""), "context": request.form.get("context", "")}
        errors: dict[str, str] = {}
        data: dict[str, Any] = {}
        for key in ("gates", "context"):
            try:
                data[key] = json.loads(form[key])
            except json.JSONDecodeError as exc:
                errors[key] = _("Not valid JSON: %(error)s", error=str(exc))
        if not errors:
            try:
                save_profile_settings(session, data, actor=web.require_user(), now=web.now())
                rematch_everything(session, now=web.now())
            except ValidationFailed as exc:
                session.rollback()
                errors["settings"] = str(exc)
        if errors:
            return render_template("strategy/settings.html", form=form, errors=errors), 422
        session.commit()
        flash(_("Saved as a new version of the profile; every call was matched again."), "info")
        return redirect(url_for("strategy.index"))
    form = {
        "gates": json.dumps(row.gates, indent=2, ensure_ascii=False),
        "context": json.dumps(row.context, indent=2, ensure_ascii=False),
    }
    return render_template("strategy/settings.html", form=form, errors={})


@bp.route("/region", methods=["POST"])
@web.requires(Role.ADMIN)
def region() -> Response:
    session = web.db()
    try:
        set_home_region(
            session, request.form.get("home_region", ""), actor=web.require_user(), now=web.now()
        )
        rematch_everything(session, now=web.now())
    except ValidationFailed as exc:
        session.rollback()
        flash(web.translate(exc.args[0] if exc.args else exc), "error")
        return redirect(url_for("strategy.index"))
    session.commit()
    flash(_("Saved as a new version of the profile; every call was matched again."), "info")
    return redirect(url_for("strategy.index"))


@bp.route("/rematch", methods=["POST"])
@web.requires(Role.ADMIN)
def rematch() -> Response:
    session = web.db()
    done = match_and_refresh(session, now=web.now())
    session.commit()
    flash(
        _(
            "%(calls)d calls matched: %(matched)d match an area, %(gated)d gated.",
            calls=done.calls,
            matched=done.matched,
            gated=done.gated,
        ),
        "info",
    )
    return redirect(url_for("strategy.index"))


@bp.route("/matches")
@web.requires(Role.VIEWER)
def matches() -> str:
    session = web.db()
    row = ensure_default_profile(session, now=web.now())
    session.commit()
    area = request.args.get("area") or None
    return render_template(
        "strategy/matches.html",
        profile=profile_of(row),
        area=area,
        calls=list_matched_calls(session, area_slug=area),
    )


@bp.route("/calls/<int:call_id>")
@web.requires(Role.VIEWER)
def call(call_id: int) -> str:
    session = web.db()
    funding_call = session.get(FundingCall, call_id)
    if funding_call is None:
        raise NotFound(_("No such call."))
    user = web.current_user()
    return render_template(
        "strategy/call.html",
        call=funding_call,
        matches=call_matches(session, call_id),
        decisions=decisions_for_call(session, funding_call),
        kinds=KINDS,
        fields=FIELDS,
        reasons=REASONS,
        relevant_reasons=RELEVANT_REASONS,
        not_relevant_reasons=NOT_RELEVANT_REASONS,
        can_decide=user is not None and user.role.allows(Role.EDITOR),
    )


@bp.route("/calls/<int:call_id>/decisions", methods=["POST"])
@web.requires(Role.EDITOR)
def decide(call_id: int) -> Response:
    session = web.db()
    verdict = request.form.get("verdict", "")
    reason = request.form.get(f"reason_{verdict}", "") or request.form.get("reason", "")
    area = request.form.get("area", "")
    if verdict not in ("relevant", "not_relevant"):
        flash(_("Choose relevant or not relevant."), "error")
        return redirect(url_for("strategy.call", call_id=call_id))
    try:
        record_decision(
            session,
            call_id,
            area,
            relevant=verdict == "relevant",
            reason=reason,
            actor=web.require_user(),
            now=web.now(),
        )
    except ValidationFailed as exc:
        session.rollback()
        flash(web.translate(exc), "error")
        return redirect(url_for("strategy.call", call_id=call_id))
    session.commit()
    flash(_("Decision saved; the model learns from it at the next retraining."), "info")
    return redirect(url_for("strategy.call", call_id=call_id, _anchor=f"area-{area}"))


# ----------------------------------------------------------------------- area form

AREA_KEYS = (
    "slug",
    "name_sv",
    "name_en",
    "description_sv",
    "description_en",
    "threshold",
    "terms",
    "negative_terms",
    "programme_priors",
)


def _terms_text(terms: tuple[Term, ...]) -> str:
    return "\n".join(f"{t.weight:g} {t.lang} {t.text}" for t in terms)


def _priors_text(priors: tuple[ProgrammePrior, ...]) -> str:
    lines = []
    for p in priors:
        what = f"label {p.label}" if p.label is not None else f"code {p.code}"
        note = f" -- {p.note}" if p.note else ""
        lines.append(f"{p.weight:g} {what}{note}")
    return "\n".join(lines)


def _form_from(area: AreaSpec) -> dict[str, str]:
    return {
        "slug": area.slug,
        "name_sv": area.name_sv,
        "name_en": area.name_en,
        "description_sv": area.description_sv,
        "description_en": area.description_en,
        "threshold": f"{area.threshold:g}",
        "terms": _terms_text(area.terms),
        "negative_terms": _terms_text(area.negative_terms),
        "programme_priors": _priors_text(area.programme_priors),
    }


def _parse_terms(text: str, field: str, errors: dict[str, str]) -> list[dict[str, Any]]:
    """Lines of "weight lang text": "3 en town twinning", "2 sv vänort"."""
    out: list[dict[str, Any]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(None, 2)
        try:
            weight = float(parts[0])
        except (ValueError, IndexError):
            errors[field] = _("Line %(n)d: start with a weight, e.g. 2 en school.", n=n)
            return out
        if len(parts) < 3 or parts[1] not in ("en", "sv", "any"):
            errors[field] = _(
                "Line %(n)d: write weight, language (en, sv or any), then the term.", n=n
            )
            return out
        out.append({"text": parts[2].strip(), "weight": weight, "lang": parts[1]})
    return out


def _parse_priors(text: str, errors: dict[str, str]) -> list[dict[str, Any]]:
    """Lines of "weight label REGEX -- note" or "weight code GLOB -- note"."""
    out: list[dict[str, Any]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        body, _sep, note = line.partition(" -- ")
        parts = body.split(None, 2)
        try:
            weight = float(parts[0])
        except (ValueError, IndexError):
            errors["programme_priors"] = _(
                "Line %(n)d: start with a weight, e.g. 1.5 label Erasmus.", n=n
            )
            return out
        if len(parts) < 3 or parts[1] not in ("label", "code"):
            errors["programme_priors"] = _(
                "Line %(n)d: write weight, label or code, then the pattern.", n=n
            )
            return out
        prior: dict[str, Any] = {"weight": weight, parts[1]: parts[2].strip()}
        if note.strip():
            prior["note"] = note.strip()
        out.append(prior)
    return out


def _area_from_form(form: Mapping[str, str], errors: dict[str, str]) -> dict[str, Any]:
    try:
        threshold: float | str = float(form["threshold"])
    except ValueError:
        errors["threshold"] = _("Give a number from 0 to 100.")
        threshold = form["threshold"]
    return {
        "slug": form["slug"],
        "name_sv": form["name_sv"],
        "name_en": form["name_en"],
        "description_sv": form["description_sv"],
        "description_en": form["description_en"],
        "threshold": threshold,
        "terms": _parse_terms(form["terms"], "terms", errors),
        "negative_terms": _parse_terms(form["negative_terms"], "negative_terms", errors),
        "programme_priors": _parse_priors(form["programme_priors"], errors),
    }
