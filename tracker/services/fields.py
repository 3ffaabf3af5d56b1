"""Reading typed values from what people type into forms and spreadsheets.

Each ``parse_*`` returns the value or raises ``FieldError`` with a translatable message; the
caller decides which field or spreadsheet cell the message belongs to.
"""

from __future__ import annotations

import enum
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from babel import Locale

from tracker.feeds.text import safe_url
from tracker.i18n import Message, msg

E = TypeVar("E", bound=enum.StrEnum)

# CLDR territories that are not countries (regions, the EU itself, unknown, pseudo-locales).
_NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
)
COUNTRY_CODES = frozenset(
    code
    for code in map(str, Locale("en").territories)
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
)
# The EU's own documents write Greece and the United Kingdom this way.
_EU_COUNTRY_ALIASES = {"EL": "GR", "UK": "GB"}

_PLAIN_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FieldError(ValueError):
    """A value that cannot be read; ``message`` says why in words a user understands."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message


def clean(value: object) -> str:
    return "" if value is None else str(value).strip()


def parse_country(value: object) -> str:
    """An ISO 3166-1 alpha-2 code (``se`` and ``EL`` are accepted as ``SE`` and ``GR``)."""
    text = clean(value).upper()
    text = _EU_COUNTRY_ALIASES.get(text, text)
    if text not in COUNTRY_CODES:
        raise FieldError(msg("%(value)r is not an ISO country code such as SE", value=clean(value)))
    return text


def country_name(code: str | None, language: str) -> str:
    if not code:
        return ""
    return str(Locale(language).territories.get(code, code))


def parse_date(value: object) -> date | None:
    """An ISO 8601 date (YYYY-MM-DD); a spreadsheet's date cell is taken as it is."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = clean(value)
    if not text:
        return None
    # A spreadsheet may hold 2025-03-01T00:00:00 for a date typed as text.
    if "T" in text and _ISO_DATE.match(text.split("T", 1)[0]):
        text = text.split("T", 1)[0]
    if not _ISO_DATE.match(text):
        raise FieldError(msg("%(value)r is not a date written YYYY-MM-DD", value=text))
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FieldError(msg("%(value)r is not a date written YYYY-MM-DD", value=text)) from None


def parse_amount(value: object, *, lenient: bool = False) -> Decimal | None:
    """A non-negative amount. Spreadsheets must hold plain numbers (``1234.50``); a form
    (``lenient``) also takes the Swedish way of writing it (``1 234,50``)."""
    if isinstance(value, bool):
        raise FieldError(msg("%(value)r is not an amount", value=str(value)))
    if isinstance(value, float) and abs(value - round(value, 2)) < 1e-6:
        # A spreadsheet's arithmetic leaves 1234.5600000001 where 1234.56 was meant.
        value = round(value, 2)
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
    else:
        text = clean(value)
        if not text:
            return None
        if lenient:
            text = re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", ".")
        if not _PLAIN_NUMBER.match(text):
            if text.startswith("-"):
                raise FieldError(msg("an amount cannot be negative"))
            raise FieldError(
                msg("%(value)r is not a plain number such as 1234.50", value=clean(value))
            )
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise FieldError(msg("%(value)r is not an amount", value=text)) from None
    if number < 0:
        raise FieldError(msg("an amount cannot be negative"))
    if number.as_tuple().exponent < -2:  # type: ignore[operator]
        raise FieldError(msg("an amount has at most two decimals"))
    if number >= Decimal("1e14"):
        raise FieldError(msg("the amount is too large"))
    return number.quantize(Decimal("0.01"))


def parse_rate(value: object, *, lenient: bool = True) -> Decimal | None:
    """A percentage between 0 and 100."""
    if isinstance(value, str):
        value = value.strip().rstrip("%")
    number = parse_amount(value, lenient=lenient)
    if number is not None and number > 100:
        raise FieldError(msg("a rate is a percentage between 0 and 100"))
    return number


def parse_year(value: object) -> int | None:
    text = clean(value)
    if not text:
        return None
    if not text.isdecimal() or not 1900 <= int(text) <= 2200:
        raise FieldError(msg("%(value)r is not a year", value=text))
    return int(text)


def parse_choice(value: object, choices: type[E]) -> E:
    """A member of ``choices`` by its value, case-insensitively."""
    text = clean(value).lower()
    for member in choices:
        if member.value.lower() == text:
            return member
    allowed = ", ".join(m.value for m in choices)
    raise FieldError(
        msg("%(value)r is not one of: %(allowed)s", value=clean(value), allowed=allowed)
    )


def is_web_url(text: str) -> bool:
    """Only http(s) links are saved as links (never javascript: or data:).

    The same check as `safe_url`, which every link is shown through; a typed
    link with spaces inside is refused here rather than silently encoded.
    """
    return not any(c.isspace() for c in text) and safe_url(text) is not None
