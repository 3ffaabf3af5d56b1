"""Every control of the review workspace's pages has a label, ids are unique, headings do not
skip levels, and the language is declared (Swedish public-sector accessibility law)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import NOW, login, make_office, make_profile, make_user
from tests.factories.inbox import in_days, make_matched_call
from tracker.models import Role, SavedFilter
from tracker.services import inbox as review


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.ids: list[str] = []
        self.headings: list[int] = []
        self.lang: str | None = None
        self._open_labels = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "label":
            self._open_labels += 1
            if a.get("for"):
                self.label_for.add(a["for"] or "")
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append({**a, "_wrapped": "yes" if self._open_labels else None})
        if tag in ("h1", "h2", "h3", "h4"):
            self.headings.append(int(tag[1]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._open_labels -= 1


def check(html: str) -> None:
    page = Page()
    page.feed(html)
    assert page.lang in ("sv", "en")
    unlabelled = [
        c
        for c in page.controls
        if not (c.get("id") in page.label_for or c.get("aria-label") or c.get("_wrapped"))
    ]
    assert unlabelled == []
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"
    assert page.headings and page.headings[0] == 1
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, f"heading h{before} followed by h{after}"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR, Role.ADMIN])
def test_review_pages_are_labelled_and_structured(
    client: FlaskClient, session: Session, role: Role
) -> None:
    make_profile(session)
    office = make_office(session)
    user = make_user(session, role=role)
    call = make_matched_call(
        session, {"education": 70, "culture-music": 55}, deadlines=[in_days(5)]
    )
    review.watch(session, call, user, now=NOW)
    review.add_comment(session, call, "Hello", author=user, now=NOW)
    session.add(SavedFilter(user_id=user.id, name="Mine", query="area=education", created_at=NOW))
    session.flush()
    login(client, user)
    pages = ["/calls", "/calls?min_score=x", f"/calls/{call.id}", "/calendar"]
    if role == Role.ADMIN:
        pages += [f"/admin/users/{user.id}", f"/admin/offices/{office.id}"]
    for path in pages:
        response = client.get(path)
        assert response.status_code in (200, 400), path
        check(response.get_data(as_text=True))
