"""Every route of the review workspace, for every role: allowed, 403, 404 and CSRF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import cast

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import NOW, login, make_office, make_profile, make_user
from tests.factories.inbox import make_matched_call
from tracker.models import Milestone, Role, SavedFilter, User

PLACEHOLDERS = {
    "{c}": "<int:call_id>",
    "{m}": "<int:milestone_id>",
    "{u}": "<int:user_id>",
    "{o}": "<int:office_id>",
}


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    role: Role
    form: dict[str, str]
    ids: dict[str, int]

    @property
    def path(self) -> str:
        return self.template.format(**self.ids)

    @property
    def rule(self) -> str:
        rule = self.template.split("?")[0]
        for placeholder, converter in PLACEHOLDERS.items():
            rule = rule.replace(placeholder, converter)
        return rule


@dataclass(frozen=True)
class World:
    call_id: int
    milestone_id: int
    filter_id: int
    office_id: int
    user_id: int
    token: str
    owner: User


@pytest.fixture()
def world(session: Session) -> World:
    make_profile(session)
    office = make_office(session, slug="kultur")
    owner = make_user(session, role=Role.VIEWER, email="owner@norrkoping.test")
    call = make_matched_call(session, {"culture-music": 80})
    milestone = Milestone(
        call_id=call.id, title="Draft to the board", due_on=date(2026, 12, 1), created_at=NOW
    )
    session.add(milestone)
    saved = SavedFilter(user_id=owner.id, name="Mine", query="area=culture-music", created_at=NOW)
    session.add(saved)
    session.flush()
    return World(call.id, milestone.id, saved.id, office.id, owner.id, owner.calendar_token, owner)


def routes(w: World) -> list[Route]:
    ids = {"c": w.call_id, "m": w.milestone_id, "u": w.user_id, "o": w.office_id}
    table: list[tuple[str, str, Role, dict[str, str]]] = [
        ("GET", "/calls", Role.VIEWER, {}),
        ("GET", "/calls?area=culture-music&status=all", Role.VIEWER, {}),
        ("GET", "/calls/export.csv", Role.VIEWER, {}),
        ("GET", "/calls/export.xlsx", Role.VIEWER, {}),
        ("GET", "/calls/{c}", Role.VIEWER, {}),
        ("POST", "/calls/{c}/triage", Role.EDITOR, {"state": "interested"}),
        ("POST", "/calls/{c}/assign", Role.EDITOR, {"office": "kultur"}),
        ("POST", "/calls/{c}/comments", Role.EDITOR, {"body": "Looks good"}),
        ("POST", "/calls/{c}/watch", Role.VIEWER, {}),
        ("POST", "/calls/{c}/unwatch", Role.VIEWER, {}),
        (
            "POST",
            "/calls/{c}/milestones",
            Role.EDITOR,
            {"title": "Partner meeting", "due_on": "2026-12-10"},
        ),
        ("POST", "/calls/{c}/milestones/{m}/delete", Role.EDITOR, {}),
        (
            "POST",
            "/calls/bulk-dismiss",
            Role.EDITOR,
            {"call_ids": str(w.call_id), "reason": "no_capacity"},
        ),
        ("POST", "/calls/filters", Role.VIEWER, {"name": "Music", "query": "area=culture-music"}),
        ("GET", "/calendar", Role.VIEWER, {}),
        ("GET", "/calendar?month=2026-12", Role.VIEWER, {}),
        ("POST", "/calendar/reset-token", Role.VIEWER, {}),
        ("GET", "/admin/users/{u}", Role.ADMIN, {}),
        (
            "POST",
            "/admin/users/{u}",
            Role.ADMIN,
            {
                "display_name": "Owner",
                "role": "editor",
                "office": "kultur",
                "language": "sv",
                "is_active": "1",
            },
        ),
        ("GET", "/admin/offices/{o}", Role.ADMIN, {}),
        (
            "POST",
            "/admin/offices/{o}",
            Role.ADMIN,
            {
                "name_sv": "Kulturkontoret",
                "name_en": "Culture",
                "shared_mailbox": "",
                "is_active": "1",
            },
        ),
    ]
    return [Route(method, template, role, form, ids) for method, template, role, form in table]


ROUTE_COUNT = 21
_SAMPLE = World(1, 2, 3, 4, 5, "token", cast(User, None))
POST_ROUTES = [i for i, r in enumerate(routes(_SAMPLE)) if r.method == "POST"]
ROLES = [Role.VIEWER, Role.EDITOR, Role.ADMIN]


def _request(client: FlaskClient, route: Route, csrf: str | None) -> int:
    if route.method == "GET":
        return client.get(route.path).status_code
    data = dict(route.form)
    if csrf is not None:
        data["csrf_token"] = csrf
    return client.post(route.path, data=data).status_code


@pytest.mark.parametrize("index", range(ROUTE_COUNT))
@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_each_route_allows_its_role_and_refuses_the_others_with_403(
    client: FlaskClient, session: Session, csrf: str, world: World, index: int, role: Role
) -> None:
    route = routes(world)[index]
    login(client, make_user(session, role=role))
    status = _request(client, route, csrf)
    if role.allows(route.role):
        assert status in (200, 302), (route.path, status)
    else:
        assert status == 403, (route.path, status)


@pytest.mark.parametrize("index", range(ROUTE_COUNT))
def test_each_route_sends_anonymous_visitors_to_sign_in(
    client: FlaskClient, csrf: str, world: World, index: int
) -> None:
    route = routes(world)[index]
    if route.method == "GET":
        response = client.get(route.path)
    else:
        response = client.post(route.path, data={**route.form, "csrf_token": csrf})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("index", POST_ROUTES)
def test_each_form_is_refused_without_its_csrf_token(
    client: FlaskClient, session: Session, world: World, index: int
) -> None:
    route = routes(world)[index]
    login(client, make_user(session, role=Role.ADMIN))
    assert _request(client, route, None) == 400
    with client.session_transaction() as flask_session:
        flask_session["csrf_token"] = "the-real-one"
    assert _request(client, route, "a-forged-one") == 400


def test_route_table_has_every_route(world: World) -> None:
    assert len(routes(world)) == ROUTE_COUNT


def test_route_table_covers_every_route_of_the_area(app: object, world: World) -> None:
    from flask import Flask

    assert isinstance(app, Flask)
    ours = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ("inbox", "calendar")
        or rule.endpoint in ("admin.edit_user", "admin.edit_office")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    covered = {(r.method, r.rule) for r in routes(world)}
    generic = covered
    # The feed is public (its token is the key) and filter deletion is tested below.
    assert ours - generic == {
        ("GET", "/calendar/<token>.ics"),
        ("POST", "/calls/filters/<int:filter_id>/delete"),
    }


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("GET", "/calls/999999", Role.VIEWER),
        ("POST", "/calls/999999/triage", Role.EDITOR),
        ("POST", "/calls/999999/assign", Role.EDITOR),
        ("POST", "/calls/999999/comments", Role.EDITOR),
        ("POST", "/calls/999999/watch", Role.VIEWER),
        ("POST", "/calls/999999/unwatch", Role.VIEWER),
        ("POST", "/calls/999999/milestones", Role.EDITOR),
        ("POST", "/calls/{call}/milestones/999999/delete", Role.EDITOR),
        ("POST", "/calls/filters/999999/delete", Role.VIEWER),
        ("GET", "/calendar/not-a-token.ics", None),
        ("GET", "/admin/users/999999", Role.ADMIN),
        ("GET", "/admin/offices/999999", Role.ADMIN),
    ],
)
def test_missing_things_are_404(
    client: FlaskClient,
    session: Session,
    csrf: str,
    world: World,
    method: str,
    path: str,
    role: Role | None,
) -> None:
    if role is not None:
        login(client, make_user(session, role=role))
    path = path.format(call=world.call_id)
    if method == "GET":
        assert client.get(path).status_code == 404
    else:
        assert (
            client.post(path, data={"csrf_token": csrf, "state": "interested"}).status_code == 404
        )


def test_someone_elses_saved_filter_is_404_and_ones_own_is_removed(
    client: FlaskClient, session: Session, csrf: str, world: World
) -> None:
    login(client, make_user(session, role=Role.ADMIN))
    path = f"/calls/filters/{world.filter_id}/delete"
    assert client.post(path, data={"csrf_token": csrf}).status_code == 404
    login(client, world.owner)
    assert client.post(path, data={"csrf_token": csrf}).status_code == 302
    assert session.get(SavedFilter, world.filter_id) is None


def test_a_deactivated_users_feed_is_404(
    client: FlaskClient, session: Session, world: World
) -> None:
    assert client.get(f"/calendar/{world.token}.ics").status_code == 200
    world.owner.is_active = False
    session.flush()
    assert client.get(f"/calendar/{world.token}.ics").status_code == 404
