"""Partner memory: the yield of our networks and sister cities on the reports page."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import login, make_user
from tests.factories.partners import build_world
from tests.factories.projects import add_partner, make_project
from tracker.models import ProjectStatus, Role
from tracker.services.partner_memory import network_yield


def test_applications_and_awards_per_network_and_sister_city(
    session: Session, client: FlaskClient
) -> None:
    world = build_world(session)
    won = make_project(session, title="Silver Care", status=ProjectStatus.AWARDED)
    add_partner(session, won, world.bologna)
    add_partner(session, won, world.riga)
    lost = make_project(session, title="Voices", status=ProjectStatus.REJECTED)
    add_partner(session, lost, world.parma)
    add_partner(session, lost, world.bologna)
    idea = make_project(session, title="Not sent", status=ProjectStatus.IDEA, submitted_on=None)
    add_partner(session, idea, world.esslingen)
    rows = {y.organisation.name: y for y in network_yield(session)}
    sern = rows["SERN"]
    # Two applications with SERN members (Bologna's two count once each), one awarded.
    assert (sern.partners, sern.applications, sern.awards) == (2, 2, 1)
    assert (rows["Riga"].applications, rows["Riga"].awards) == (1, 1)
    assert (rows["Esslingen am Neckar"].applications, rows["Esslingen am Neckar"].awards) == (0, 0)
    assert rows["Riga"].award_rate == 1.0 and rows["Esslingen am Neckar"].award_rate is None
    login(client, make_user(session, Role.VIEWER, language="en"))
    page = client.get("/reports/").get_data(as_text=True)
    section = page.split('id="h-networks"')[1].split("</section>")[0]
    assert "SERN" in section and "Riga" in section
    assert section.index("SERN") < section.index("Esslingen am Neckar")
