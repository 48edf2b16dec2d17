"""Numbers that only look like numbers (superscripts, circled digits, 20 digits) get a plain
answer, never a 500: `str.isdigit` says yes to "²", `int()` then fails, and SQLite refuses ids
beyond 64 bits."""

from neighbors.accounts import services as accounts
from tests.clients import EN, log_in
from tests.factories import COMMUNITY, PASSWORD

ODD = ("²", "①", "99999999999999999999")


def test_an_odd_issuer_or_cursor_is_refused_or_ignored_plainly(app, client, make):
    _staff_id, staff_email = make.user(role="staff", community=COMMUNITY)
    log_in(client, staff_email)
    for odd in ODD:
        for url in (
            f"/staff/certificates?issuer=community:{odd}",
            f"/staff/national-export?issuer=community:{odd}",
            f"/wishes?after={odd}",
            f"/my/points?after={odd}",
        ):
            response = client.get(url, headers=EN)
            assert response.status_code in (200, 400, 404, 422), url


def test_an_odd_organisation_in_the_national_export_is_a_422(app, make):
    _staff_id, staff_email = make.user(role="staff", community=COMMUNITY)
    with app.app_context():
        token = accounts.issue_token(staff_email, PASSWORD)[0]
    api = app.test_client()
    for odd in ODD:
        response = api.get(
            f"/api/v1/exports/national-system.xlsx?organisation={odd}&from=2026-01-01&to=2026-06-30",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 422, odd
