"""``tracker digest``: subscribe and unsubscribe addresses, send, preview and resend digests."""

from __future__ import annotations

import click

from tracker.cli import CliContext, expected_failures, pass_context
from tracker.db import session_scope
from tracker.services import digests as service
from tracker.services.mailer import SmtpMailer

# Outcomes that mean a digest did not reach its subscriber in this run.
FAILED = {"failed_temporary", "failed_permanent", "unconfirmed"}


def _slugs(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [slug.strip() for slug in text.split(",") if slug.strip()]


@click.group("digest")
def group() -> None:
    """Weekly email digests."""


@group.command("subscribe")
@click.argument("email")
@click.option("--areas", help="Focus-area slugs, comma-separated; an empty string means all.")
@click.option("--offices", help="Office slugs whose calls the subscriber follows, comma-separated.")
@click.option("--min-score", type=click.IntRange(0, 100), help="Lowest score of a new match.")
@click.option(
    "--horizon-days", type=click.IntRange(1, 365), help="Closing soon: deadlines within N days."
)
@click.option("--language", type=click.Choice(["sv", "en"]), help="Language of the digest.")
@click.option(
    "--send-when-empty/--skip-when-empty",
    default=None,
    help="Send a digest in weeks with nothing new (default: skip).",
)
@pass_context
@expected_failures
def subscribe(
    obj: CliContext,
    email: str,
    areas: str | None,
    offices: str | None,
    min_score: int | None,
    horizon_days: int | None,
    language: str | None,
    send_when_empty: bool | None,
) -> None:
    """Subscribe the user with EMAIL, or the office whose shared mailbox EMAIL is (again, if
    unsubscribed); options not given keep their current value."""
    with session_scope(obj.session_factory) as session:
        subscription = service.subscribe_address(
            session,
            email,
            now=obj.clock(),
            focus_area_slugs=_slugs(areas),
            office_slugs=_slugs(offices),
            min_score=min_score,
            closing_soon_days=horizon_days,
            language=language,
            send_when_empty=send_when_empty,
        )
        click.echo(
            f"subscribed {subscription.address}: "
            f"areas {','.join(subscription.focus_area_slugs) or 'all'}, "
            f"offices {','.join(subscription.office_slugs) or 'all'}, "
            f"min score {subscription.min_score}, "
            f"closing soon {subscription.closing_soon_days} days, "
            f"language {subscription.language}"
        )


@group.command("unsubscribe")
@click.argument("email")
@pass_context
@expected_failures
def unsubscribe(obj: CliContext, email: str) -> None:
    """Stop the digest of EMAIL (a user or an office's shared mailbox)."""
    with session_scope(obj.session_factory) as session:
        subscription = service.subscription_for_address(session, email)
        service.unsubscribe(session, subscription, now=obj.clock(), actor=None)
        click.echo(f"unsubscribed {subscription.address}")


@group.command("send")
@click.option("--dry-run", is_flag=True, help="Build the digests and show them; send nothing.")
@click.option("--to", "to", metavar="EMAIL", help="Only the digest of this address.")
@click.option("--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W48 (default: this week).")
@pass_context
@expected_failures
def send(obj: CliContext, dry_run: bool, to: str | None, week: str | None) -> None:
    """Send this week's digest to every subscriber that has not had it (the scheduler does
    this every week). Exit status 1 when a digest failed."""
    settings = obj.settings
    with SmtpMailer(settings.mail) as mailer:
        outcomes = service.send_weekly_digests(
            obj.session_factory,
            settings,
            mailer,
            now=obj.clock(),
            week=service.parse_iso_week(week) if week else None,
            only_address=to,
            dry_run=dry_run,
        )
    for outcome in outcomes:
        counts = outcome.counts
        summary = " ".join(
            f"{key}={counts.get(key, 0)}"
            for key in ("new", "changed", "closing", "mentions", "assignments")
        )
        line = f"{outcome.week}  {outcome.address or '-':<40} {outcome.status:<22} {summary}"
        if outcome.error:
            line += f"  ({outcome.error})"
        click.echo(line)
    failed = [o for o in outcomes if o.status in FAILED]
    click.echo(
        f"{len(outcomes)} subscribers, "
        f"{sum(o.status == 'sent' for o in outcomes)} sent, {len(failed)} failed"
        + (" (dry run)" if dry_run else "")
    )
    if failed:
        raise SystemExit(1)


@group.command("preview")
@click.argument("email")
@click.option("--html", "as_html", is_flag=True, help="Print the HTML part instead of the text.")
@pass_context
@expected_failures
def preview(obj: CliContext, email: str, as_html: bool) -> None:
    """Print the digest EMAIL would get now; nothing is stored or sent."""
    with session_scope(obj.session_factory) as session:
        subscription = service.subscription_for_address(session, email)
        _content, rendered = service.preview_digest(
            session, obj.settings, subscription, now=obj.clock()
        )
    click.echo(f"To: {subscription.address}")
    click.echo(f"Subject: {rendered.subject}")
    click.echo("")
    click.echo(rendered.html if as_html else rendered.text)


@group.command("resend")
@click.argument("email")
@click.option("--week", required=True, metavar="YYYY-Www", help="ISO week of the digest.")
@pass_context
@expected_failures
def resend(obj: CliContext, email: str, week: str) -> None:
    """Send a stored digest again, unchanged and with the same Message-ID."""
    settings = obj.settings
    with session_scope(obj.session_factory) as session:
        subscription = service.subscription_for_address(session, email)
        digest = service.digest_for_week(session, subscription, service.parse_iso_week(week))
        digest_id = digest.id
    with SmtpMailer(settings.mail) as mailer:
        outcome = service.resend_digest(
            obj.session_factory, settings, mailer, digest_id, now=obj.clock(), actor=None
        )
    click.echo(f"{outcome.week}  {outcome.address}  {outcome.status}")
    if outcome.status != "sent":
        raise click.ClickException(outcome.error or outcome.status)


@group.command("retry")
@pass_context
@expected_failures
def retry(obj: CliContext) -> None:
    """Retry the digests whose temporary failure is due (the scheduler does this too)."""
    settings = obj.settings
    with SmtpMailer(settings.mail) as mailer:
        outcomes = service.retry_due_digests(obj.session_factory, settings, mailer, now=obj.clock())
    for outcome in outcomes:
        click.echo(f"{outcome.week}  {outcome.address}  {outcome.status}")
    click.echo(f"{len(outcomes)} digests retried")


@group.command("list")
@pass_context
def list_(obj: CliContext) -> None:
    """The subscriptions, with the last digest week and any refused address."""
    with session_scope(obj.session_factory) as session:
        for s in service.list_subscriptions(session):
            flags = [] if s.is_active else ["inactive"]
            if s.is_bouncing:
                flags.append(f"REFUSED: {s.bounce_error}")
            click.echo(
                f"{s.address or '-':<40} {s.language} last={s.last_digest_week or '-':<8} "
                f"areas={','.join(s.focus_area_slugs) or 'all'} {' '.join(flags)}".rstrip()
            )
