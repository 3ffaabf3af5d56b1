"""A first digest can hold a hundred new matches: each section shows at most 25 of them and a
link to the rest, and the HTML part stays under the size at which Gmail clips a message."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from tests.factories import NOW, make_call, make_user
from tests.factories.digests import make_areas, make_match, make_subscription
from tracker.config import Settings
from tracker.services.digests import preview_digest
from tracker.services.digests.mail import MAX_SECTION_ITEMS

# Gmail clips a message whose HTML is larger than 102 KB; keep a margin.
HTML_LIMIT = 100_000
EVIDENCE = [
    {"text": "municipalities and local authorities in European cities", "weight": 12.0},
    {"text": "town twinning, citizens' dialogue and democratic participation", "weight": 8.0},
    {"text": "climate adaptation and resilience of urban areas", "weight": 5.0},
]


def make_new_matches(session: Session, count: int) -> None:
    areas = make_areas(session)
    for n in range(count):
        call = make_call(
            session,
            title=(
                f"Call {n:03d}: cooperation of European cities and regions on climate "
                "adaptation, culture and citizens' participation in local democracy"
            ),
            programme_label="Citizens, Equality, Rights and Values Programme (CERV)",
            url=f"https://ec.europa.eu/info/funding-tenders/opportunities/portal/topic/X-{n}",
            deadlines=[NOW + timedelta(days=20 + n)],
        )
        make_match(session, call, areas["culture-music"], 60 + n % 40, evidence=EVIDENCE)


def test_a_hundred_new_matches_show_25_and_a_link_to_all(
    session: Session, settings: Settings
) -> None:
    make_new_matches(session, 100)
    sub = make_subscription(session, make_user(session, language="en"))
    content, rendered = preview_digest(session, settings, sub, now=NOW)
    assert len(content.new) == 100

    size = len(rendered.html.encode("utf-8"))
    print(f"HTML part of a digest with 100 new matches: {size} bytes")
    assert size < HTML_LIMIT
    assert rendered.text.count("\n* Call ") == MAX_SECTION_ITEMS == 25
    assert rendered.html.count("Call 0") == MAX_SECTION_ITEMS
    assert "== New matches (100) ==" in rendered.text
    assert f"See all 100 in the tracker: {settings.mail.base_url}/calls" in rendered.text
    assert f'href="{settings.mail.base_url}/calls"' in rendered.html
    assert "See all 100 in the tracker" in rendered.html
    assert "100 new matches" in rendered.subject  # the subject still counts them all


def test_a_short_section_has_no_link_to_more(session: Session, settings: Settings) -> None:
    make_new_matches(session, MAX_SECTION_ITEMS)
    sub = make_subscription(session, make_user(session, language="sv"))
    _content, rendered = preview_digest(session, settings, sub, now=NOW)
    assert rendered.text.count("\n* Call ") == MAX_SECTION_ITEMS
    assert "Se alla" not in rendered.text and "Se alla" not in rendered.html
