"""Eligibility by region, from data: does a call's eligible area contain our region?

Interreg calls list their eligible area as NUTS codes of mixed levels ("SE", "SE1",
"SE12", "SE123"). A listed code covers the municipality's region when it is a prefix
of the region's code: the county itself (SE123), its NUTS-2 or NUTS-1 region (SE12,
SE1) or the whole country (SE). Where a call gives such data, it decides; the
programme names in the text are read only for calls without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from tracker.i18n import Message, msg

__all__ = [
    "DEFAULT_REGION",
    "REGION_GATE",
    "REGION_REASON",
    "covers",
    "is_nuts_code",
    "nuts_codes",
    "region_reason",
]

DEFAULT_REGION = "SE123"  # Östergötland
REGION_GATE = "geography.region"
# The stored gate keeps the parameters of this sentence, so that it can be shown in
# any language (written through `msg` so that the catalogue picks it up).
REGION_REASON = msg(
    "%(programme)s: the eligible area (%(countries)s) does not include "
    "the municipality's region %(region)s."
).template
_NUTS = re.compile(r"^[A-Z]{2}[A-Z0-9]{0,3}$")
_SHOWN_COUNTRIES = 8


def is_nuts_code(value: str) -> bool:
    """A NUTS code of any level: "SE", "SE1", "SE12", "SE123"."""
    return bool(_NUTS.match(value))


def nuts_codes(values: Iterable[str]) -> tuple[str, ...]:
    """The values that are NUTS codes (names such as "Sweden" are left out)."""
    return tuple(v for v in (value.strip().upper() for value in values) if _NUTS.match(v))


def covers(codes: Iterable[str], region: str) -> bool:
    """True when one of `codes` is `region` or contains it (a prefix of its code)."""
    return any(region.startswith(code) for code in codes)


def region_reason(
    codes: Sequence[str], region: str, *, programme: str, countries: Sequence[str]
) -> Message | None:
    """Why a call whose eligible area is `codes` is not open to `region`; None if it is.

    Also None when `codes` holds no NUTS code at all: then nothing is known.
    """
    listed = nuts_codes(codes)
    if not listed or covers(listed, region):
        return None
    names = list(countries) or sorted({code[:2] for code in listed})
    shown = ", ".join(names[:_SHOWN_COUNTRIES]) + (" …" if len(names) > _SHOWN_COUNTRIES else "")
    return Message(REGION_REASON, {"programme": programme, "countries": shown, "region": region})
