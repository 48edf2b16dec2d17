"""Station pages as a browser uses them: the directory found by district and street, a
station's week (printable), and staff putting an event in a room from the event form."""

from datetime import datetime, time, timedelta

from neighbors.core.timezone import from_local, local_today
from tests.clients import EN, log_in, post_form
from tests.factories import COMMUNITY, OTHER_COMMUNITY, make_station, person


def on_day(day, hour, hours=2):
    start = from_local(datetime.combine(day, time(hour)))
    return {"starts_at": start, "ends_at": start + timedelta(hours=hours)}


def monday(day):
    return day - timedelta(days=day.weekday())


def test_the_station_page_shows_its_week_day_by_day(app, client, factory):
    with app.app_context():
        rooms = make_station(person(factory.admin_id))
    next_monday = monday(local_today()) + timedelta(days=7)
    factory.event(title="书法班", room_id=rooms["会议室"], **on_day(next_monday, 9))
    factory.event(title="党课", room_id=rooms["多功能厅"], **on_day(next_monday + timedelta(2), 14))
    factory.event(title="未发布", publish=False, room_id=rooms["会议室"], **on_day(next_monday, 14))
    factory.event(title="隔周", room_id=rooms["会议室"], **on_day(next_monday + timedelta(7), 9))
    page = client.get(f"/stations/ST-T1?week={next_monday.isoformat()}", headers=EN).text
    assert "ST-T1 党群服务站" in page and "周一至周日 8:30–20:00" in page
    assert "文安路社区" in page and "三好街社区" in page  # the communities it serves
    assert page.index("书法班") < page.index("党课")
    assert "未发布" not in page and "隔周" not in page
    assert "09:00–11:00" in page and "会议室" in page
    # The notice board's copy leaves the menus and the week's navigation out (the stylesheet).
    with client.get("/static/style.css") as sheet:
        printed = sheet.text.split("@media print", 1)[1]
    assert 'class="week subnav"' in page and "nav.week { display: none; }" in printed
    # Any day of the week shows the same week; the links go a week back and forth.
    midweek = client.get(
        f"/stations/ST-T1?week={(next_monday + timedelta(3)).isoformat()}", headers=EN
    ).text
    assert "书法班" in midweek and "党课" in midweek
    assert f"week={(next_monday + timedelta(7)).isoformat()}" in midweek
    this_week = client.get("/stations/ST-T1", headers=EN).text
    assert "书法班" not in this_week and f"week={next_monday.isoformat()}" in this_week
    assert client.get("/stations/ST-T1?week=garbage", headers=EN).status_code == 200
    assert client.get("/stations/ST-T1?week=0001-01-01", headers=EN).status_code == 200
    assert client.get("/stations/NOPE", headers=EN).status_code == 404


def test_the_directory_lists_the_stations_of_a_street_or_a_community(app, client, factory):
    with app.app_context():
        make_station(person(factory.admin_id))
        make_station(person(factory.admin_id), code="ST-T2", communities=[OTHER_COMMUNITY])
    page = client.get("/stations", headers=EN).text
    assert "ST-T1 党群服务站" not in page and "和平区" in page  # first, a district
    page = client.get("/stations?district=210102&street=210102002", headers=EN).text
    assert "ST-T1 党群服务站" in page and "ST-T2" not in page
    page = client.get(f"/stations?community={OTHER_COMMUNITY}", headers=EN).text
    assert "ST-T2 党群服务站" in page and "ST-T1" not in page
    page = client.get("/stations?community_name=青年", headers=EN).text
    assert "青年大街社区" in page


def test_staff_put_an_event_in_a_room_and_hear_when_it_is_taken(app, client, factory):
    with app.app_context():
        rooms = make_station(person(factory.admin_id))
        make_station(person(factory.admin_id), code="ST-FAR", communities=[OTHER_COMMUNITY])
    log_in(client, factory.staff_email)
    page = client.get("/staff/events/new", headers=EN).text
    assert "ST-T1 党群服务站" in page and "会议室 (12 places)" in page
    assert "ST-FAR" not in page  # a station that does not serve their community
    form = {
        "community": COMMUNITY,
        "title": "书法班",
        "category": "culture",
        "venue": "二楼",
        "description": "",
        "starts_at": "2030-05-01T09:00",
        "ends_at": "2030-05-01T11:00",
        "capacity": "12",
        "room": str(rooms["会议室"]),
    }
    response = post_form(client, "/staff/events/new", form, headers=EN)
    assert response.status_code == 302
    event_page = client.get(response.location, headers=EN).text
    assert "ST-T1 党群服务站" in event_page and "会议室" in event_page
    again = post_form(client, "/staff/events/new", {**form, "title": "太极"}, headers=EN)
    assert again.status_code == 200 and "Another event holds this room at that time." in again.text
    bigger = post_form(
        client,
        "/staff/events/new",
        {**form, "starts_at": "2030-05-02T09:00", "ends_at": "2030-05-02T11:00", "capacity": "13"},
        headers=EN,
    )
    assert "The room holds 12 people" in bigger.text
    edit = client.get(response.location.replace("/events/", "/staff/events/") + "/edit").text
    assert f'<option value="{rooms["会议室"]}" selected>' in edit


def test_the_event_list_narrows_by_district_and_finds_a_community_by_name(client, factory):
    factory.event(title="文安路的活动")
    factory.event(title="青年大街的活动", community=OTHER_COMMUNITY)
    page = client.get("/events?district=210102", headers=EN).text
    assert "文安路的活动" in page and "青年大街的活动" not in page
    assert "南湖街道" in page and "五里河街道" not in page  # that district's streets
    page = client.get("/events?community_name=青年", headers=EN).text
    assert '<option value="210103001001">青年大街社区</option>' in page
    page = client.get(f"/events?community={OTHER_COMMUNITY}", headers=EN).text
    assert "青年大街的活动" in page and "文安路的活动" not in page
    assert "五里河街道" in page  # the community's street is chosen for it
