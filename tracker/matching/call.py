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
