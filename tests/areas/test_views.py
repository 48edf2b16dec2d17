"""Admin pages for areas: admins browse; everybody else is turned away."""

from tests.clients import log_in


def test_admin_browses_district_street_community(client, make):
    _id, email = make.user(role="admin")
    log_in(client, email)
    page = client.get("/admin/areas/").get_data(as_text=True)
    assert "和平区" in page and "沈河区" in page
    page = client.get("/admin/areas/districts/210102").get_data(as_text=True)
    assert "南湖街道" in page
    page = client.get("/admin/areas/streets/210102002").get_data(as_text=True)
    assert "文安路社区" in page
    page = client.get("/admin/areas/communities/210102002001").get_data(as_text=True)
    assert "第一网格" in page and "第二网格" in page
    assert client.get("/admin/areas/communities/nope").status_code == 404


def test_staff_and_volunteers_are_refused_and_visitors_sent_to_log_in(client, make):
    assert client.get("/admin/areas/").status_code == 302
    _id, email = make.user(role="staff")
    log_in(client, email)
    assert client.get("/admin/areas/").status_code == 403
    assert client.get("/admin/areas/districts/210102").status_code == 403
