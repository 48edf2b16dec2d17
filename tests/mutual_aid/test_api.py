"""API v1 for mutual aid (DESIGN §6): a wish from posting to confirmation, my points, the shop."""

from tests.clients import assert_error, bearer, token_for
from tests.factories import COMMUNITY, OTHER_COMMUNITY


def test_a_wish_from_posting_to_points_spent(client, town_hall):
    hood = town_hall
    staff = token_for(client, hood.staff_email)
    member = token_for(client, hood.member_email)
    volunteer = token_for(client, hood.volunteer_email)
    posted = client.post("/api/v1/wishes", headers=bearer(staff), json={
        "title": "新水壶", "description": "旧的坏了", "category": "daily",
        "community": COMMUNITY, "value_cap": "80", "for_user_id": hood.resident_id,
    })  # fmt: skip
    assert posted.status_code == 201 and posted.json["status"] == "submitted"
    wish_id = posted.json["id"]
    assert client.get("/api/v1/wishes").json["items"] == []
    published = client.post(f"/api/v1/wishes/{wish_id}/publish", headers=bearer(staff))
    assert published.status_code == 200 and published.json["status"] == "published"
    [shown] = client.get(f"/api/v1/wishes?community={COMMUNITY}").json["items"]
    assert (shown["id"], shown["asker"]) == (wish_id, "张**")
    assert "13812345678" not in client.get("/api/v1/wishes").get_data(as_text=True)
    first = client.post(f"/api/v1/wishes/{wish_id}/claim", headers=bearer(volunteer))
    assert_error(first, 409, "party_members_first")
    claimed = client.post(f"/api/v1/wishes/{wish_id}/claim", headers=bearer(member))
    assert claimed.status_code == 200 and claimed.json["status"] == "claimed"
    assert_error(
        client.post(f"/api/v1/wishes/{wish_id}/claim", headers=bearer(member)),
        409, "already_claimed",
    )  # fmt: skip
    assert_error(
        client.post(f"/api/v1/wishes/{wish_id}/fulfil", headers=bearer(volunteer),
                    json={"note": "x"}),
        404, "not_found",
    )  # fmt: skip
    fulfilled = client.post(f"/api/v1/wishes/{wish_id}/fulfil", headers=bearer(member),
                            json={"note": "送到了"})  # fmt: skip
    assert fulfilled.json["status"] == "fulfilled"
    assert_error(
        client.post(f"/api/v1/wishes/{wish_id}/confirm", headers=bearer(staff),
                    json={"minutes": "sixty"}),
        422, "invalid",
    )  # fmt: skip
    confirmed = client.post(f"/api/v1/wishes/{wish_id}/confirm", headers=bearer(staff),
                            json={"minutes": 120})  # fmt: skip
    assert confirmed.json["status"] == "confirmed" and confirmed.json["minutes"] == 120
    hours = client.get("/api/v1/me/hours", headers=bearer(member)).json
    assert hours["total_minutes"] == 120
    points = client.get("/api/v1/me/points", headers=bearer(member)).json
    assert points["balance"] == 20
    assert [(i["points"], i["reason"]) for i in points["items"]] == [(20, "earned")]

    item = client.post("/api/v1/shop/items", headers=bearer(staff), json={
        "community": COMMUNITY, "name": "大米", "points": 15, "stock": 1})  # fmt: skip
    assert item.status_code == 201 and item.json["stock"] == 1
    redeemed = client.post("/api/v1/shop/redemptions", headers=bearer(staff), json={
        "item": item.json["id"], "user_id": hood.member_id, "quantity": 1})  # fmt: skip
    assert redeemed.status_code == 201
    assert (redeemed.json["balance"], redeemed.json["stock"]) == (5, 0)
    assert_error(
        client.post("/api/v1/shop/redemptions", headers=bearer(staff), json={
            "item": item.json["id"], "user_id": hood.member_id}),
        409, "out_of_stock",
    )  # fmt: skip
    more = client.post("/api/v1/shop/items", headers=bearer(staff), json={
        "community": COMMUNITY, "name": "食用油", "points": 50, "stock": 5})  # fmt: skip
    assert_error(
        client.post("/api/v1/shop/redemptions", headers=bearer(staff), json={
            "item": more.json["id"], "user_id": hood.member_id}),
        409, "insufficient_points",
    )  # fmt: skip
    assert client.get("/api/v1/me/points", headers=bearer(member)).json["balance"] == 5


def test_scope_and_roles(client, town_hall, make):
    hood = town_hall
    other_id, other_email = make.user(role="staff", community=OTHER_COMMUNITY)
    other = token_for(client, other_email)
    volunteer = token_for(client, hood.volunteer_email)
    wish_id = hood.wish(publish=False)
    assert_error(client.post(f"/api/v1/wishes/{wish_id}/publish", headers=bearer(other)),
                 404, "not_found")  # fmt: skip
    assert_error(client.post(f"/api/v1/wishes/{wish_id}/publish", headers=bearer(volunteer)),
                 403, "forbidden")  # fmt: skip
    assert_error(
        client.post("/api/v1/shop/items", headers=bearer(other), json={
            "community": COMMUNITY, "name": "大米", "points": 15, "stock": 1}),
        404, "not_found",
    )  # fmt: skip
    assert_error(client.get("/api/v1/wishes?status=submitted"), 422, "invalid")
    assert_error(client.get("/api/v1/me/points"), 401, "unauthorized")
    bad = client.post("/api/v1/wishes", headers=bearer(volunteer), json={
        "title": "", "category": "nope", "value_cap": "1000"})  # fmt: skip
    assert_error(bad, 422, "invalid")
