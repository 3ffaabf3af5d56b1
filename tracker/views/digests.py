"""Weekly digests on the web: each user's digest settings, the admins' overview (anyone's
subscription, offices' shared mailboxes, preview, send now, resend, bounces), and the signed
one-click links in the mails ("not relevant to me", unsubscribe)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from tracker import web
from tracker.errors import ValidationFailed
from tracker.models import (
    DigestDismissal,
    DigestStatus,
    DigestSubscription,
    Office,
    Role,
    User,
)
from tracker.services import digests as service
from tracker.services.mailer import SmtpMailer

bp = Blueprint("digests", __name__)

# --- the settings form, shared by users and admins ----------------------------------------


def _form_values(subscription: DigestSubscription | None, user: User | None) -> dict[str, Any]:
    if subscription is None:
        return {
            "active": False,
            "areas": [],
            "offices": [],
            "min_score": "50",
            "closing_soon_days": "30",
            "language": user.language if user is not None else "sv",
            "send_when_empty": False,
        }
    return {
        "active": subscription.is_active,
        "areas": list(subscription.focus_area_slugs),
        "offices": list(subscription.office_slugs),
        "min_score": str(subscription.min_score),
        "closing_soon_days": str(subscription.closing_soon_days),
        "language": subscription.language,
        "send_when_empty": subscription.send_when_empty,
    }


def _parse_form(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(values to show again, options for the service, errors) from a posted settings form."""
    values: dict[str, Any] = {
        "active": bool(form.get("active")),
        "areas": form.getlist("areas"),
        "offices": form.getlist("offices"),
        "min_score": form.get("min_score", "").strip(),
        "closing_soon_days": form.get("closing_soon_days", "").strip(),
        "language": form.get("language", "sv"),
        "send_when_empty": bool(form.get("send_when_empty")),
    }
    errors: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for name in ("min_score", "closing_soon_days"):
        try:
            numbers[name] = int(values[name])
        except ValueError:
            errors[name] = _("Enter a whole number.")
    options = {
        "focus_area_slugs": values["areas"],
        "office_slugs": values["offices"],
        "language": values["language"],
        "send_when_empty": values["send_when_empty"],
        **numbers,
    }
    return values, options, errors


def _form_context() -> dict[str, Any]:
    session = web.db()
    return {
        "areas": service.active_focus_areas(session),
        "offices": list(
            session.scalars(select(Office).where(Office.is_active).order_by(Office.slug))
        ),
    }


def _save(
    subscription: DigestSubscription | None,
    *,
    user: User | None,
    office: Office | None,
    actor: User,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Apply the posted form; returns the values to show and the errors (empty on success)."""
    session = web.db()
    values, options, errors = _parse_form(request.form)
    if errors:
        return values, errors
    now = web.now()
    try:
        if values["active"]:
            service.subscribe(session, now=now, user=user, office=office, actor=actor, **options)
        elif subscription is not None:
            service.unsubscribe(session, subscription, now=now, actor=actor)
    except ValidationFailed as exc:
        session.rollback()
        return values, {key: web.translate(value) for key, value in exc.errors.items()}
    session.commit()
    return values, {}


# --- a user's own settings ----------------------------------------------------------------


@bp.route("/settings/digest", methods=["GET", "POST"])
@web.requires(Role.VIEWER)
def settings() -> Response | str | tuple[str, int]:
    user = web.require_user()
    session = web.db()
    subscription = session.scalar(
        select(DigestSubscription).where(DigestSubscription.user_id == user.id)
    )
    values = _form_values(subscription, user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, errors = _save(subscription, user=user, office=None, actor=user)
        if not errors:
            flash(_("Your digest settings are saved."), "info")
            return redirect(url_for("digests.settings"))
    return render_template(
        "digests/settings.html",
        subscription=subscription,
        form=values,
        errors=errors,
        **_form_context(),
    ), 422 if errors else 200


# --- administration -----------------------------------------------------------------------


@bp.route("/admin/digests")
@web.requires(Role.ADMIN)
def admin_index() -> str:
    session = web.db()
    now = web.now()
    subscriptions = service.list_subscriptions(session)
    subscribed_users = {s.user_id for s in subscriptions if s.user_id is not None}
    subscribed_offices = {s.office_id for s in subscriptions if s.office_id is not None}
    return render_template(
        "digests/admin.html",
        subscriptions=subscriptions,
        unconfirmed=service.unconfirmed_digests(session, now=now),
        digests=service.recent_digests(session, limit=50),
        users=[
            u
            for u in session.scalars(select(User).where(User.is_active).order_by(User.email))
            if u.id not in subscribed_users
        ],
        offices=[
            o
            for o in session.scalars(select(Office).where(Office.is_active).order_by(Office.slug))
            if o.id not in subscribed_offices
        ],
    )


@bp.route("/admin/digests/subscribe", methods=["POST"])
@web.requires(Role.ADMIN)
def admin_subscribe() -> Response:
    """Subscribe a user with the defaults, or an office's shared mailbox; then edit it."""
    session = web.db()
    actor = web.require_user()
    now = web.now()
    try:
        if request.form.get("office"):
            office = session.scalar(select(Office).where(Office.slug == request.form["office"]))
            if office is None:
                raise ValidationFailed(_("Choose an office."))
            subscription = service.subscribe_office(
                session,
                office,
                now=now,
                mailbox=request.form.get("mailbox", "").strip() or None,
                actor=actor,
            )
        else:
            user = session.get(User, request.form.get("user", type=int) or 0)
            if user is None:
                raise ValidationFailed(_("Choose a user."))
            subscription = service.subscribe(session, now=now, user=user, actor=actor)
    except ValidationFailed as exc:
        session.rollback()
        flash(web.translate(exc), "error")
        return redirect(url_for("digests.admin_index"))
    session.commit()
    flash(_("Subscribed %(address)s.", address=subscription.address or ""), "info")
    return redirect(url_for("digests.admin_edit", subscription_id=subscription.id))


@bp.route("/admin/digests/<int:subscription_id>", methods=["GET", "POST"])
@web.requires(Role.ADMIN)
def admin_edit(subscription_id: int) -> Response | str | tuple[str, int]:
    session = web.db()
    subscription = service.get_subscription(session, subscription_id)
    values = _form_values(subscription, subscription.user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, errors = _save(
            subscription,
            user=subscription.user,
            office=subscription.office,
            actor=web.require_user(),
        )
        if not errors:
            flash(_("The digest settings are saved."), "info")
            return redirect(url_for("digests.admin_edit", subscription_id=subscription_id))
    history = sorted(subscription.digests, key=lambda d: d.iso_week, reverse=True)
    dismissed = list(
        session.scalars(
            select(DigestDismissal)
            .where(DigestDismissal.subscription_id == subscription.id)
            .order_by(DigestDismissal.created_at.desc())
        )
    )
    return render_template(
        "digests/edit.html",
        subscription=subscription,
        form=values,
        errors=errors,
        history=history,
        dismissed=dismissed,
        **_form_context(),
    ), 422 if errors else 200


@bp.route("/admin/digests/<int:subscription_id>/preview")
@web.requires(Role.ADMIN)
def admin_preview(subscription_id: int) -> str:
    session = web.db()
    subscription = service.get_subscription(session, subscription_id)
    content, rendered = service.preview_digest(session, web.settings(), subscription, now=web.now())
    return render_template(
        "digests/preview.html",
        subscription=subscription,
        counts=content.counts,
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        address=subscription.address,
        stored=None,
    )


@bp.route("/admin/digests/<int:subscription_id>/send", methods=["POST"])
@web.requires(Role.ADMIN)
def admin_send(subscription_id: int) -> Response:
    session = web.db()
    service.get_subscription(session, subscription_id)
    # End the request's transaction: the sending runs in transactions of its own.
    session.commit()
    settings = web.settings()
    with SmtpMailer(settings.mail) as mailer:
        outcome = service.send_digest_now(
            web.app_state().session_factory, settings, mailer, subscription_id, now=web.now()
        )
    _flash_outcome(outcome)
    return redirect(url_for("digests.admin_edit", subscription_id=subscription_id))


def _flash_outcome(outcome: service.DigestOutcome) -> None:
    if outcome.status == DigestStatus.SENT.value:
        flash(_("The digest was sent to %(address)s.", address=outcome.address), "info")
    elif outcome.status.startswith("already-"):
        flash(
            _(
                "This week's digest already exists for %(address)s; resend it from the list below.",
                address=outcome.address,
            ),
            "error",
        )
    elif outcome.status == "no-address":
        flash(_("There is no address to send this digest to."), "error")
    elif outcome.status == DigestStatus.FAILED_TEMPORARY.value:
        flash(
            _(
                "The mail server could not take the digest now; it will be retried: %(error)s",
                error=outcome.error or "",
            ),
            "error",
        )
    else:
        flash(
            _("The digest was not sent: %(error)s", error=outcome.error or outcome.status), "error"
        )


@bp.route("/admin/digests/<int:subscription_id>/clear-bounce", methods=["POST"])
@web.requires(Role.ADMIN)
def admin_clear_bounce(subscription_id: int) -> Response:
    session = web.db()
    subscription = service.get_subscription(session, subscription_id)
    service.clear_bounce(session, subscription, now=web.now(), actor=web.require_user())
    session.commit()
    flash(
        _("Digests will be sent to %(address)s again.", address=subscription.address or ""), "info"
    )
    return redirect(url_for("digests.admin_edit", subscription_id=subscription_id))


@bp.route("/admin/digests/sent/<int:digest_id>")
@web.requires(Role.ADMIN)
def admin_digest(digest_id: int) -> str:
    digest = service.get_digest(web.db(), digest_id)
    return render_template(
        "digests/preview.html",
        subscription=digest.subscription,
        counts=digest.counts,
        subject=digest.subject,
        text_body=digest.text_body,
        html_body=digest.html_body,
        address=digest.address,
        stored=digest,
    )


@bp.route("/admin/digests/sent/<int:digest_id>/confirm", methods=["POST"])
@web.requires(Role.ADMIN)
def admin_confirm(digest_id: int) -> Response:
    session = web.db()
    digest = service.get_digest(session, digest_id)
    service.confirm_delivered(session, digest, now=web.now(), actor=web.require_user())
    session.commit()
    flash(_("Recorded as delivered."), "info")
    return redirect(url_for("digests.admin_index"))


@bp.route("/admin/digests/sent/<int:digest_id>/resend", methods=["POST"])
@web.requires(Role.ADMIN)
def admin_resend(digest_id: int) -> Response:
    session = web.db()
    digest = service.get_digest(session, digest_id)
    subscription_id = digest.subscription_id
    session.commit()
    settings = web.settings()
    with SmtpMailer(settings.mail) as mailer:
        outcome = service.resend_digest(
            web.app_state().session_factory,
            settings,
            mailer,
            digest_id,
            now=web.now(),
            actor=web.current_user(),
        )
    _flash_outcome(outcome)
    return redirect(url_for("digests.admin_edit", subscription_id=subscription_id))


# --- one-click links in the mails ---------------------------------------------------------
# Authenticated by their signed token, not by a session, so they work from any mail client.
# A GET never changes anything: mail scanners (Outlook's Safe Links among them) open every
# link in a mail, which must not dismiss calls or unsubscribe anyone.


@bp.route("/digest/not-relevant/<token>", methods=["GET", "POST"])
@web.public
@web.csrf_exempt
def not_relevant(token: str) -> str:
    session = web.db()
    subscription, call, focus_area_id = service.dismissal_target(session, web.settings(), token)
    done = False
    if request.method == "POST":
        service.record_not_relevant(
            session, subscription, call, focus_area_id=focus_area_id, now=web.now()
        )
        session.commit()
        done = True
    else:
        done = (
            session.scalar(
                select(DigestDismissal.id).where(
                    DigestDismissal.subscription_id == subscription.id,
                    DigestDismissal.call_id == call.id,
                )
            )
            is not None
        )
    with force_locale(subscription.language):
        return render_template(
            "digests/not_relevant.html",
            call=call,
            title=(call.title_sv or call.title) if subscription.language == "sv" else call.title,
            done=done,
            token=token,
        )


@bp.route("/digest/unsubscribe/<token>", methods=["GET", "POST"])
@web.public
@web.csrf_exempt
def unsubscribe(token: str) -> str:
    """The unsubscribe link and the RFC 8058 one-click POST (List-Unsubscribe=One-Click)."""
    session = web.db()
    settings = web.settings()
    if request.method == "POST":
        subscription = service.unsubscribe_by_token(session, settings, token, now=web.now())
        session.commit()
    else:
        subscription = service.get_subscription(
            session, service.read_unsubscribe_token(settings, token)
        )
    with force_locale(subscription.language):
        return render_template(
            "digests/unsubscribe.html",
            subscription=subscription,
            address=subscription.address,
            done=not subscription.is_active,
            token=token,
        )
