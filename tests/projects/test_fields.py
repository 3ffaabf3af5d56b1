"""Reading what people type: countries, dates, amounts, partner lists."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from tracker.services.fields import FieldError, parse_amount, parse_country, parse_date
from tracker.services.organisations import parse_partner_list


def test_countries_are_iso_codes_and_the_eus_spellings_are_understood() -> None:
    assert parse_country("se") == "SE"
    assert parse_country("EL") == "GR" and parse_country("UK") == "GB"
    for bad in ("EU", "SWE", "", "ZZ"):
        with pytest.raises(FieldError):
            parse_country(bad)


def test_dates_are_iso_8601_or_spreadsheet_dates() -> None:
    assert parse_date("2025-03-31") == date(2025, 3, 31)
    assert parse_date(datetime(2025, 3, 31, 0, 0)) == date(2025, 3, 31)
    assert parse_date("2025-03-31T00:00:00") == date(2025, 3, 31)
    assert parse_date("  ") is None
    for bad in ("31/03/2025", "2025-02-30", "2025-3-1"):
        with pytest.raises(FieldError):
            parse_date(bad)


def test_amounts_are_plain_numbers_in_files_and_may_be_swedish_in_forms() -> None:
    assert parse_amount("1234.5") == Decimal("1234.50")
    assert parse_amount(1200) == Decimal("1200.00")
    assert parse_amount("1 234,50", lenient=True) == Decimal("1234.50")
    assert parse_amount("") is None
    for bad in ("1 234,50", "1,234", "-5", "12.345", "abc"):
        with pytest.raises(FieldError):
            parse_amount(bad)
    with pytest.raises(FieldError, match="negative"):
        parse_amount("-5")


def test_partner_lists_name_each_partner_and_its_country() -> None:
    assert parse_partner_list("Riga (LV); Linz (at) ;; Riga (LV)") == [
        ("Riga", "LV"),
        ("Linz", "AT"),
    ]
    assert parse_partner_list("Linköping University (LiU) (SE)") == [
        ("Linköping University (LiU)", "SE")
    ]
    assert parse_partner_list("EUniverCities") == [("EUniverCities", None)]
    with pytest.raises(FieldError):
        parse_partner_list("Somewhere (XY)")
