"""The call as the matching engine sees it: a few text fields, a programme, deadlines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

# EU topic identifiers ("HORIZON-CL2-2026-01-DEMOCRACY-03", "LIFE-2026-SAP-ENV") carry
# the programme structure; ids of other sources ("euro-access:2193") do not.
_TOPIC_ID_RE = re.compile(r"^[A-Z][A-Z0-9]*(?:[-_.][A-Z0-9]+)+$")


@dataclass(frozen=True)
class CallInput:
    """One funding call's matchable content.

    ``deadlines`` are timezone-aware; ``eligible_countries`` / ``eligible_regions``
    are filled when a source states them as data (Interreg hits list NUTS regions).
    ``eligible_nuts`` is the eligible area as NUTS codes (regions, or else countries);
    where it is given, it decides the region gate instead of programme names.
    ``eligible_applicants`` is a source's list of applicant types ("Local public
    authority; National public authority; NGO").
    ``identifier`` is the topic identifier when it differs from ``id`` (a database id).
    """

    id: str
    title: str
    programme: str = ""
    programme_code: str = ""
    identifier: str = ""
    call_title: str = ""
    keywords: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    description: str = ""
    deadlines: tuple[datetime, ...] = ()
    # "continuous" keeps the call open after its listed cut-offs (tracker.calltime).
    deadline_model: str | None = None
    eligible_countries: tuple[str, ...] = ()
    eligible_regions: tuple[str, ...] = ()
    eligible_nuts: tuple[str, ...] = ()
    eligible_applicants: str = ""
    is_withdrawn: bool = False

    def __post_init__(self) -> None:
        for d in self.deadlines:
            if d.tzinfo is None:
                raise ValueError(f"call {self.id}: deadline {d.isoformat()} has no time zone")

    @property
    def topic_id(self) -> str:
        """The topic identifier ("HORIZON-CL2-2026-01-DEMOCRACY-03"), if the call has one."""
        for candidate in (self.identifier, self.id):
            if candidate and _TOPIC_ID_RE.match(candidate):
                return candidate
        return ""

    @property
    def codes(self) -> tuple[str, ...]:
        """Codes that programme priors' globs are matched against."""
        return tuple(c for c in (self.programme_code, self.topic_id) if c)


# Programme names as sources spell them, to the code EU topic identifiers start with, so
# that a Horizon Europe call from one source and from another fall in the same family.
_PROGRAMME_NAMES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), code)
    for pattern, code in (
        (r"\binterreg\b|\bURBACT\b|\bESPON\b|\binteract\b", "INTERREG"),
        (r"interregional innovation investments", "I3"),
        (r"\bcitizens, equality, rights and values\b", "CERV"),
        (r"\bconnecting europe\b", "CEF"),
        (r"\bdigital europe\b", "DIGITAL"),
        (r"\bEU4Health\b", "EU4H"),
        (r"\bnew european bauhaus\b", "NEB"),
        (r"\beuropean institute of innovation\b", "EIT"),
        (r"\bpre-accession\b", "IPA"),
        (r"\bcreative europe\b", "CREA"),
        (r"\berasmus\b", "ERASMUS"),
        (r"\bLIFE\b|environment and climate action", "LIFE"),
        (r"\beuratom\b", "EURATOM"),
    )
)
_HORIZON_CLUSTER_RE = re.compile(r"\bhorizon europe\b.*?\bcluster\s+(\d)", re.IGNORECASE)
_CODE_PREFIX_RE = re.compile(r"^([A-Z]{2,}[0-9]?)[-_.]([A-Z0-9]+)\b")
_ACRONYM_RE = re.compile(r"\(([A-Z][A-Z0-9+&-]{1,15})\)")


def _code_family(call: CallInput) -> str:
    """The family an identifier's leading code names ("HORIZON-CL5-2026-..." -> HORIZON-CL5)."""
    for candidate in (call.identifier, call.id):
        prefix = _CODE_PREFIX_RE.match(candidate)
        if prefix is None:
            continue
        first, second = prefix.group(1), prefix.group(2)
        if first == "HORIZON" and not second.isdigit():
            return f"HORIZON-{second}"
        return first
    return ""


# Parts of Horizon Europe's codes that are programmes of their own under other names.
_HORIZON_ALIASES = {"HORIZON-EURATOM": "EURATOM", "HORIZON-NEB": "NEB"}


def _horizon_part(call: CallInput) -> str:
    code = _code_family(call)
    if not code.startswith("HORIZON-"):
        return "HORIZON-OTHER"
    return _HORIZON_ALIASES.get(code, code)


def programme_family(call: CallInput) -> str:
    """The programme a call belongs to, as a short code ("HORIZON-CL5", "LIFE", "INTERREG").

    Used to keep the calls of one programme together when measuring the matcher
    (grouped cross-validation): calls of one programme share wording, so a measure that
    trains on some of them and tests on the others flatters the matcher. Horizon
    Europe is split by cluster or mission (its second code segment), since each has its
    own work programme and themes; other programmes are one family each. The programme
    name decides; a call without one is placed by its identifier's leading code.
    """
    label = " ".join(p for p in (call.programme, call.programme_code) if p)
    cluster = _HORIZON_CLUSTER_RE.search(label)
    if cluster is not None:
        return f"HORIZON-CL{cluster.group(1)}"
    for pattern, code in _PROGRAMME_NAMES:
        if pattern.search(label):
            return code
    acronym = _ACRONYM_RE.search(label)
    if acronym is not None:
        name = acronym.group(1).rstrip("+")
        return _horizon_part(call) if name == "HORIZON" else name
    if not label:
        code = _code_family(call)
        if code:
            return code
    word = re.search(r"\w+", label)
    if word is not None:
        return word.group().upper()
    source = call.id.split(":", 1)[0] if ":" in call.id else ""
    return source.upper() or "UNKNOWN"
