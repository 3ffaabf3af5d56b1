"""A digest as a mail: the templates under ``templates/email/`` in the subscriber's language,
and the MIME message with its list headers (written raw, never encoded).
"""

from __future__ import annotations

import gettext
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_date
from email.utils import parseaddr
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from tracker import calltime
from tracker.calltime import format_deadline, format_money
from tracker.config import Settings
from tracker.i18n import msg
from tracker.matching.engine import Evidence
from tracker.paths import TEMPLATES_DIR, TRANSLATIONS_DIR
from tracker.services.digests.changes import FieldChange
from tracker.services.digests.content import DigestContent, DigestEntry
from tracker.services.digests.links import (
    Links,
    UndeliverableAddress,
    make_not_relevant_token,
    make_unsubscribe_token,
)
from tracker.services.strategy.evidence import evidence_line

if TYPE_CHECKING:
    from tracker.models import Digest

__all__ = [
    "MAX_SECTION_ITEMS",
    "TRANSLATIONS_DIR",
    "URGENT_DAYS",
    "EntryView",
    "RenderedDigest",
    "SectionView",
    "ascii_uri",
    "build_message",
    "environment",
    "is_deliverable_address",
    "make_message_id",
    "render_digest",
    "sender_address",
    "translations",
    "uri_list",
]


URGENT_DAYS = 7


# At most this many items per section; the rest are behind a "see all N in the tracker" link,
# so that a first digest stays short and under the size at which Gmail clips a message.
# A reason longer than this is cut with an ellipsis.
EVIDENCE_LENGTH = 160
MAX_SECTION_ITEMS = 25


@lru_cache(maxsize=4)
def translations(language: str) -> gettext.NullTranslations:
    """The project's catalogue for ``language`` (English is the msgids themselves)."""
    return Translations.load(str(TRANSLATIONS_DIR), [language], domain="messages")


@lru_cache(maxsize=4)
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class EntryView:
    """One item as the templates show it, every string already in the right language."""

    title: str
    programme: str
    deadline: str | None
    days_left: str | None
    urgent: bool
    score: int | None
    focus_area: str | None
    evidence: tuple[str, ...]
    changes: tuple[str, ...]
    note: str | None
    call_url: str
    official_url: str | None
    not_relevant_url: str | None


@dataclass(frozen=True)
class SectionView:
    key: str
    title: str
    entries: tuple[EntryView, ...]
    total: int = 0  # how many the section holds; ``entries`` shows at most MAX_SECTION_ITEMS
    more_url: str | None = None  # where the tracker lists them all, when some are not shown


class _Formatter:
    def __init__(self, language: str, tz: ZoneInfo, now: datetime) -> None:
        self.language = language
        self.tz = tz
        self.now = now
        self.t = translations(language)

    def day(self, value: datetime) -> str:
        return format_date(calltime.local_day(value, self.tz), "d MMMM y", locale=self.language)

    def deadline(self, entry: DigestEntry) -> str | None:
        if entry.deadline_at is None:
            return None
        return format_deadline(
            entry.deadline_at,
            date_only=entry.deadline_date_only,
            in_zone=self.tz,
            locale=self.language,
        )

    def moment(self, deadline: datetime) -> str:
        """A deadline of the change history, where only its moment is kept."""
        return format_deadline(
            deadline,
            date_only=calltime.is_day_end(deadline, self.tz),
            in_zone=self.tz,
            locale=self.language,
        )

    def days_left(self, deadline: datetime) -> str:
        days = calltime.days_left(deadline, self.now, self.tz)
        if days <= 0:
            return self.t.gettext("closes today")
        return self.t.ngettext("%(num)d day left", "%(num)d days left", days) % {"num": days}

    def evidence(self, item: Evidence) -> str:
        line = " ".join(evidence_line(item, self.t.gettext).split())
        return line if len(line) <= EVIDENCE_LENGTH else line[: EVIDENCE_LENGTH - 3] + "..."

    def money(self, value: str | None, unit: str | None) -> str:
        if value is None:
            return "–"
        return format_money(value, self.language, currency=unit)

    def status(self, value: str | None) -> str:
        names: dict[str, str] = {
            calltime.CallStatus.FORTHCOMING: self.t.gettext("forthcoming"),
            calltime.CallStatus.OPEN: self.t.gettext("open"),
            calltime.CallStatus.CLOSED: self.t.gettext("closed"),
            calltime.CallStatus.WITHDRAWN: self.t.gettext("withdrawn"),
        }
        return names.get(value or "", value or "–")

    def change(self, change: FieldChange) -> str:
        t = self.t
        if change.field == "deadline":
            old = self.moment(datetime.fromisoformat(change.old)) if change.old else None
            new = self.moment(datetime.fromisoformat(change.new)) if change.new else None
            if old and new:
                return t.gettext("Deadline moved from %(old)s to %(new)s") % {
                    "old": old,
                    "new": new,
                }
            if new:
                return t.gettext("New deadline: %(new)s") % {"new": new}
            return t.gettext("Deadline %(old)s removed") % {"old": old}
        if change.field == "opening" and change.old and change.new:
            return t.gettext("Opening date moved from %(old)s to %(new)s") % {
                "old": self.day(datetime.fromisoformat(change.old)),
                "new": self.day(datetime.fromisoformat(change.new)),
            }
        if change.field == "status":
            return t.gettext("Status changed from %(old)s to %(new)s") % {
                "old": self.status(change.old),
                "new": self.status(change.new),
            }
        if change.field == "budget":
            if change.old is None:
                return t.gettext("Budget published: %(new)s") % {
                    "new": self.money(change.new, change.unit)
                }
            return t.gettext("Budget changed from %(old)s to %(new)s") % {
                "old": self.money(change.old, change.unit),
                "new": self.money(change.new, change.unit),
            }
        return f"{change.field}: {change.old} → {change.new}"

    def note(self, section: str, entry: DigestEntry) -> str | None:
        t = self.t
        if section == "mention":
            return t.gettext("%(name)s mentioned you: “%(text)s”") % {
                "name": entry.actor_name or t.gettext("Someone"),
                "text": entry.excerpt or "",
            }
        if section == "assignment":
            if entry.actor_name:
                return t.gettext("%(actor)s assigned it to %(assignee)s") % {
                    "actor": entry.actor_name,
                    "assignee": entry.assignee_name or "–",
                }
            return t.gettext("Assigned to %(assignee)s") % {"assignee": entry.assignee_name or "–"}
        return None

    def subject(self, counts: dict[str, int], week_number: int) -> str:
        t = self.t
        parts = []
        if n := counts.get("new", 0):
            parts.append(t.ngettext("%(num)d new match", "%(num)d new matches", n) % {"num": n})
        if n := counts.get("changed", 0):
            parts.append(t.ngettext("%(num)d changed", "%(num)d changed", n) % {"num": n})
        if n := counts.get("closing", 0):
            parts.append(t.ngettext("%(num)d closing soon", "%(num)d closing soon", n) % {"num": n})
        if n := counts.get("mentions", 0):
            parts.append(t.ngettext("%(num)d mention", "%(num)d mentions", n) % {"num": n})
        if n := counts.get("assignments", 0):
            parts.append(t.ngettext("%(num)d assignment", "%(num)d assignments", n) % {"num": n})
        summary = ", ".join(parts) if parts else t.gettext("nothing new")
        return t.gettext("Funding digest, week %(week)d: %(summary)s") % {
            "week": week_number,
            "summary": summary,
        }


def _section_titles(t: gettext.NullTranslations) -> dict[str, str]:
    return {
        "new": t.gettext("New matches"),
        "changed": t.gettext("Changed calls you follow"),
        "closing": t.gettext("Closing soon"),
        "mention": t.gettext("You were mentioned"),
        "assignment": t.gettext("Assignments"),
    }


def render_digest(
    content: DigestContent, settings: Settings, *, week: str, now: datetime
) -> RenderedDigest:
    """Subject, plain text and HTML of ``content`` in the subscriber's language."""
    fmt = _Formatter(content.language, settings.tz, now)
    t = fmt.t
    links = Links(settings.mail.base_url)
    titles = _section_titles(t)
    sections = []
    for section, entries in content.sections():
        views = []
        # Mentions and assignments are about people, not about how well a call fits.
        about_fit = section.value in ("new", "changed", "closing")
        for entry in entries[:MAX_SECTION_ITEMS]:
            token = (
                make_not_relevant_token(
                    settings, content.subscription_id, entry.call_id, entry.focus_area_id
                )
                if about_fit
                else None
            )
            views.append(
                EntryView(
                    title=entry.title,
                    programme=entry.programme,
                    deadline=fmt.deadline(entry),
                    days_left=fmt.days_left(entry.deadline_at) if entry.deadline_at else None,
                    urgent=entry.deadline_at is not None
                    and entry.deadline_at - now <= timedelta(days=URGENT_DAYS),
                    score=round(entry.score) if about_fit and entry.score is not None else None,
                    focus_area=entry.focus_area_name if about_fit else None,
                    evidence=tuple(fmt.evidence(e) for e in entry.evidence) if about_fit else (),
                    changes=tuple(fmt.change(c) for c in entry.changes),
                    note=fmt.note(section.value, entry),
                    call_url=links.call(entry.call_id),
                    official_url=entry.official_url,
                    not_relevant_url=links.not_relevant(token) if token else None,
                )
            )
        if views:
            more = links.section(section.value) if len(entries) > len(views) else None
            sections.append(
                SectionView(section.value, titles[section.value], tuple(views), len(entries), more)
            )
    week_number = int(week.split("-W")[1])
    subject = fmt.subject(content.counts, week_number)
    pipeline = content.pipeline
    context: dict[str, Any] = {
        "language": content.language,
        "subject": subject,
        "week_number": week_number,
        "recipient_name": content.recipient_name,
        "period_start": fmt.day(content.since),
        "period_end": fmt.day(content.until),
        "sections": sections,
        "is_empty": content.is_empty,
        "pipeline": {
            "interested": pipeline.get("interested", 0),
            "preparing": pipeline.get("preparing", 0),
            "submitted": pipeline.get("submitted", 0),
        },
        "time_zone": settings.app.timezone,
        "home_url": links.home(),
        "settings_url": links.settings(),
        "unsubscribe_url": links.unsubscribe(
            make_unsubscribe_token(settings, content.subscription_id)
        ),
    }
    env = environment(content.language)
    return RenderedDigest(
        subject=subject,
        text=env.get_template("email/digest.txt").render(context),
        html=env.get_template("email/digest.html").render(context),
    )


def sender_address(settings: Settings) -> str:
    """The bare address of ``[mail] sender``, which may also be written "Name <address>"."""
    return parseaddr(settings.mail.sender)[1] or settings.mail.sender


def _domain(sender: str) -> str:
    domain = sender.rpartition("@")[2].strip(" >")
    return domain or "tracker.invalid"


def make_message_id(subscription_id: int, week: str, sender: str) -> str:
    """A Message-ID fixed when the digest is claimed, so every attempt and resend of the
    digest carries the same one (mail clients that deduplicate show a single mail)."""
    return f"<digest.{week}.{subscription_id}.{uuid.uuid4().hex[:16]}@{_domain(sender)}>"


def build_message(digest: Digest, settings: Settings, *, now: datetime) -> EmailMessage:
    """The MIME message of a stored digest: multipart/alternative (text, then HTML) with the
    RFC 8058 one-click unsubscribe headers."""
    t = translations(digest.language)
    links = Links(settings.mail.base_url)
    unsubscribe_url = links.unsubscribe(make_unsubscribe_token(settings, digest.subscription_id))
    name, sender = parseaddr(settings.mail.sender)
    sender = sender or settings.mail.sender
    message = EmailMessage()
    message["From"] = Address(name or t.gettext("Funding tracker"), addr_spec=sender)
    if not is_deliverable_address(digest.address):
        raise UndeliverableAddress(msg("%(email)r is not an email address", email=digest.address))
    message["To"] = digest.address
    message["Subject"] = digest.subject
    message["Date"] = rfc2822_date(now)
    message["Message-ID"] = digest.message_id
    message["List-Id"] = f"{t.gettext('Funding digest')} <digest.{_domain(sender)}>"
    subject = quote(f"unsubscribe {digest.subscription_id}")
    # Raw, as RFC 2369 and 8058 write them: an encoded word is not a URI to a mail client.
    message.set_raw(
        "List-Unsubscribe", uri_list(unsubscribe_url, f"mailto:{sender}?subject={subject}")
    )
    message.set_raw("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    # Keep out-of-office replies and other robots quiet (RFC 3834; Exchange's own header).
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(digest.text_body, subtype="plain", charset="utf-8", cte="quoted-printable")
    # Base64: quoted-printable encoding of a long HTML part is slow in Python, and every
    # mail client reads either.
    message.add_alternative(digest.html_body, subtype="html", charset="utf-8", cte="base64")
    # After add_alternative, which moves every Content-* header into the first part.
    message["Content-Language"] = digest.language
    return message


def ascii_uri(uri: str) -> str:
    """``uri`` with anything outside printable ASCII percent-encoded (a base URL with å)."""
    return quote(uri, safe=":/?#[]@!$&'()*+,;=%-._~")


def uri_list(*uris: str) -> str:
    """The value of a list header (RFC 2369): each URI in angle brackets, folded after each
    comma, to be set with ``Message.set_raw`` and written as it is."""
    return ",\r\n ".join(f"<{ascii_uri(uri)}>" for uri in uris)


def is_deliverable_address(address: str | None) -> bool:
    """An address a digest can be sent to: one mailbox, no line breaks or other controls."""
    if not address or len(address) > 254 or address != address.strip():
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 or ch.isspace() for ch in address):
        return False
    name, parsed = parseaddr(address)
    return not name and parsed == address and address.count("@") == 1
