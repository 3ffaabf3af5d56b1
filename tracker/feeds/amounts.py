"""Money and percentages written by people ("50 miljoner kronor", "1,5 MSEK", "60 %")."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = ["budget_from_text", "parse_amount", "parse_percent"]

_CURRENCY_WORDS = {
    "kr": "SEK",
    "kronor": "SEK",
    "sek": "SEK",
    "mkr": "SEK",
    "mnkr": "SEK",
    "msek": "SEK",
    "tkr": "SEK",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "€": "EUR",
    "meur": "EUR",
    "nok": "NOK",
    "dkk": "DKK",
    "usd": "USD",
}
_MULTIPLIERS = {
    "tusen": Decimal(10**3),
    "tkr": Decimal(10**3),
    "k": Decimal(10**3),
    "thousand": Decimal(10**3),
    "miljon": Decimal(10**6),
    "miljoner": Decimal(10**6),
    "million": Decimal(10**6),
    "millions": Decimal(10**6),
    "m": Decimal(10**6),
    "mn": Decimal(10**6),
    "mkr": Decimal(10**6),
    "mnkr": Decimal(10**6),
    "msek": Decimal(10**6),
    "meur": Decimal(10**6),
    "miljard": Decimal(10**9),
    "miljarder": Decimal(10**9),
    "billion": Decimal(10**9),
    "bn": Decimal(10**9),
}
_NUMBER = r"\d{1,3}(?:[ \u00a0\u202f.,]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_AMOUNT = re.compile(
    r"(?P<pre>€|eur|sek)?\s*(?P<num>" + _NUMBER + r")\s*"
    r"(?P<unit>miljarder|miljard|miljoner|miljon|million|millions|billion|thousand|tusen|"
    r"mnkr|mkr|msek|meur|tkr|bn|mn|k|m)?\.?\s*"
    r"(?P<cur>kronor|kr|sek|euros|euro|eur|€|nok|dkk|usd)?(?![a-zåäö])",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?:[^.!?\n]|\.(?=\d))+")


def _number(text: str) -> Decimal | None:
    digits = text.replace("\u00a0", " ").replace("\u202f", " ")
    if re.fullmatch(r"\d{1,3}(?:[ .,]\d{3})+", digits):
        digits = re.sub(r"[ .,]", "", digits)  # grouped thousands: 50 000 000 / 50,000,000
    else:
        digits = re.sub(r"(?<=\d) (?=\d{3}\b)", "", digits)
        if re.search(r",\d{3}\.\d+$", digits):
            digits = digits.replace(",", "")  # 1,500.50
        elif re.search(r"\.\d{3},\d+$", digits):
            digits = digits.replace(".", "").replace(",", ".")  # 1.500,50
        else:
            digits = digits.replace(",", ".")  # Swedish decimal comma: 1,5
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None


def parse_amount(
    text: str | None, default_currency: str | None = None
) -> tuple[Decimal, str | None] | None:
    """The amount in a cell such as "50 000 000", "1,5 MSEK" or "€2.5m".

    Returns (amount, currency or `default_currency`), or None when the text
    holds no single amount. Raises nothing.
    """
    if text is None:
        return None
    cleaned = text.strip()
    if not cleaned:
        return None
    match = _AMOUNT.fullmatch(cleaned)
    if not match:
        return None
    return _from_match(match, default_currency)


def _from_match(
    match: re.Match[str], default_currency: str | None
) -> tuple[Decimal, str | None] | None:
    value = _number(match["num"])
    if value is None:
        return None
    unit = (match["unit"] or "").lower()
    value *= _MULTIPLIERS.get(unit, Decimal(1))
    currency_word = (match["cur"] or match["pre"] or unit or "").lower()
    currency = _CURRENCY_WORDS.get(currency_word, default_currency)
    if value == value.to_integral_value():
        value = Decimal(int(value))
    return value, currency


def budget_from_text(text: str | None) -> tuple[Decimal, str] | None:
    """The total budget stated in prose ("Budget för hela erbjudandet är 50 miljoner kronor").

    Only a sentence that mentions a budget is read, and only an amount with
    a currency or a scale word counts, so "15-20 projekt" is not money.
    """
    if not text:
        return None
    for sentence in _SENTENCE.findall(text):
        if "budget" not in sentence.lower():
            continue
        for match in _AMOUNT.finditer(sentence):
            if not (match["cur"] or match["pre"] or match["unit"]):
                continue
            if (
                match["unit"]
                and match["unit"].lower() in ("k", "m")
                and not (match["cur"] or match["pre"])
            ):
                continue
            parsed = _from_match(match, None)
            if parsed and parsed[1]:
                return parsed[0], parsed[1]
    return None


def parse_percent(text: str | None) -> Decimal | None:
    """A percentage cell: "60", "60 %", "60,5%", or a fraction such as 0.6."""
    if text is None:
        return None
    cleaned = text.strip().rstrip("%").strip().replace(",", ".")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not text.strip().endswith("%") and Decimal(0) < value <= Decimal(1) and "." in cleaned:
        value *= 100  # a spreadsheet percentage cell arrives as a fraction
    return value
