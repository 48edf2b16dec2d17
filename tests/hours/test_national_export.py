"""The national-system export: volunteers and their confirmed service in the bulk import's
columns, opened with openpyxl; audit-logged; a record of each export, so that the next can take
only what is new; staff of the community and the organisation's coordinators only."""

import io
import re
from datetime import timedelta

import openpyxl
from sqlalchemy import select

from neighbors.accounts import identity
from neighbors.core.audit import AuditEntry
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.hours.national import COLUMNS
from tests.clients import EN, bearer, log_in, post_form, token_for
from tests.factories import COMMUNITY, OTHER_COMMUNITY, person
from tests.hours.conftest import ID_NUMBER as ADULT_ID
from tests.hours.conftest import in_request, served

URL = "/api/v1/exports/national-system.xlsx"


def sheet(response):
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = list(book.active.iter_rows(values_only=True))
    return rows[0], rows[1:]


def dates():
    return {
        "from": (local_today() - timedelta(days=30)).isoformat(),
        "to": local_today().isoformat(),
    }


def test_staff_export_their_communitys_service_then_only_what_is_new(app, client, world):
    with in_request(app):
        volunteer = person(world["volunteer"])
        identity.save_identity(volunteer, id_type="resident_id", id_number=ADULT_ID)
        staff_email, name = person(world["staff"]).email, volunteer.name
    token = token_for(client, staff_email)
    header, rows = sheet(client.get(URL, query_string={"community": COMMUNITY, **dates()},
                                    headers=bearer(token)))  # fmt: skip
    assert header == tuple(c.header for c in COLUMNS)
    assert len(rows) == 2  # the community's record and the team's, on its ground
    row = dict(zip(header, rows[0], strict=True))
    assert row["姓名"] == name and row["证件类型"] == "居民身份证" and row["证件号码"] == ADULT_ID
    assert row["性别"] == "女" and row["出生日期"].date().isoformat() == "1949-12-31"
    assert row["志愿者编号"].startswith(f"{COMMUNITY}-0000001")
    assert {r[9] for r in rows} == {1.5, 1.0} and {r[11] for r in rows} == {"文安路社区"}

    only_new = {"community": COMMUNITY, "only_new": "1", **dates()}
    assert sheet(client.get(URL, query_string=only_new, headers=bearer(token)))[1] == []
    with in_request(app):
        served(world["volunteer"], world["community"].id, minutes=30, activity="新的服务")
    _header, rows = sheet(client.get(URL, query_string=only_new, headers=bearer(token)))
    assert [r[7] for r in rows] == ["新的服务"]
    with in_request(app):
        logged = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "national_export.export")
        ).all()
    assert len(logged) == 3 and not [e for e in logged if ADULT_ID in str(e.detail)]


def test_coordinators_export_their_organisation_and_nobody_else_exports(app, client, world):
    with in_request(app):
        coordinator = person(world["coordinator"]).email
        volunteer = person(world["volunteer"]).email
    token = token_for(client, coordinator)
    team = {"organisation": str(world["team"].id), **dates()}
    _header, rows = sheet(client.get(URL, query_string=team, headers=bearer(token)))
    assert [r[7] for r in rows] == ["助老探访"] and rows[0][11] == "文安路志愿服务队"
    community = {"community": COMMUNITY, **dates()}
    assert client.get(URL, query_string=community, headers=bearer(token)).status_code == 403
    volunteer_token = token_for(client, volunteer)
    assert client.get(URL, query_string=team, headers=bearer(volunteer_token)).status_code == 403
    assert (
        client.get(URL, query_string={"community": COMMUNITY}, headers=bearer(token)).status_code
        == 422
    )


def test_the_staff_page_exports_then_downloads_it(app, client, world, make):
    with in_request(app):
        email = person(world["staff"]).email
    log_in(client, email)
    page = client.get("/staff/national-export", headers=EN).text
    assert "Export to the national system" in page and "logged" in page
    response = post_form(
        client,
        "/staff/national-export",
        {
            "issuer": f"community:{world['community'].id}",
            "period_from": dates()["from"],
            "period_to": dates()["to"],
        },
    )
    assert response.status_code == 302, response.text
    page = client.get(response.location, headers=EN).text
    assert "Earlier exports" in page
    link = re.search(r'href="(/staff/national-export/[0-9]+\.xlsx)"', page).group(1)
    header, rows = sheet(client.get(link))
    assert header == tuple(c.header for c in COLUMNS) and len(rows) == 2
    with in_request(app):
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("national_export.%"))
        ).all()
    assert sorted(actions) == ["national_export.download", "national_export.export"]
    with in_request(app):
        other, _email = make.user(role="staff", community=OTHER_COMMUNITY)
        other_email = person(other).email
    stranger = app.test_client()
    log_in(stranger, other_email)
    assert stranger.get(link).status_code == 404
