"""API: micro-wishes, my points, the love supermarket (DESIGN §6)."""

from flask import g, jsonify, request, url_for

from neighbors.api.base import bp, current_actor, json_body, read_fields, role_required
from neighbors.core.paging import cursor_arg
from neighbors.core.permissions import Role
from neighbors.core.privacy import mask_name
from neighbors.core.timezone import isoformat
from neighbors.mutual_aid import services as aid


def wish_json(wish):
    return {
        "id": wish.id,
        "title": wish.title,
        "description": wish.description,
        "category": str(wish.category),
        "community": {"code": wish.community.code, "name": wish.community.name},
        "value_cap": f"{wish.value_cap:.2f}",
        "status": str(wish.status),
        "asker": mask_name(wish.asker.name),
        "published_at": isoformat(wish.published_at),
        "claimed_at": isoformat(wish.claimed_at),
        "minutes": wish.minutes,
        # The photo of the fulfilled wish, where this person may see it (the wall: with consent).
        "photo": url_for("mutual_aid.wish_photo", wish_id=wish.id, _external=True)
        if aid.shown(g.get("api_user"), wish)
        else None,
        "photo_consent": wish.photo_consent,
    }


@bp.post("/wishes")
def post_wish():
    actor = current_actor()
    data = json_body()
    fields = read_fields(
        data,
        required=("title", "category"),
        optional=("description", "community"),
        max_length=1000,
    )
    for_user_id = data.get("for_user_id")
    if for_user_id is not None:
        for_user_id = read_fields(data, optional=("for_user_id",), types={"for_user_id": int})[
            "for_user_id"
        ]
    wish = aid.post_wish(
        actor,
        title=fields["title"],
        description=fields.get("description", ""),
        category=fields["category"],
        value_cap=data.get("value_cap"),
        community_code=fields.get("community"),
        for_user_id=for_user_id,
    )
    return jsonify(wish_json(wish)), 201


@bp.get("/wishes")
def list_wishes():
    community = (request.args.get("community") or "").strip()[:20] or None
    street = (request.args.get("street") or "").strip()[:20] or None
    status = (request.args.get("status") or "").strip()[:20] or None
    wishes = aid.wall(community_code=community, street_code=street, status=status,
                      cursor=cursor_arg(request.args))  # fmt: skip
    return jsonify(
        next=wishes.next,
        items=[
            {
                "id": w.id,
                "title": w.title,
                "status": str(w.status),
                "asker": mask_name(w.asker.name),
                "category": str(w.category),
                "community": {"code": w.community.code},
                "value_cap": f"{w.value_cap:.2f}",
            }
            for w in wishes
        ],
    )


@bp.post("/wishes/<int:wish_id>/<any(publish, reject):decision>")
@role_required(Role.STAFF)
def vet_wish(wish_id, decision):
    actor = current_actor()
    note = None
    if request.content_length:
        note = read_fields(json_body(), optional=("note",), max_length=500).get("note")
    return jsonify(wish_json(aid.vet(actor, wish_id, publish=decision == "publish", note=note)))


@bp.post("/wishes/<int:wish_id>/confirm")
@role_required(Role.STAFF)
def confirm_wish(wish_id):
    actor = current_actor()
    fields = read_fields(json_body(), required=("minutes",), types={"minutes": int})
    return jsonify(wish_json(aid.confirm(actor, wish_id, minutes=fields["minutes"])))


@bp.post("/wishes/<int:wish_id>/release")
def release_wish(wish_id):
    actor = current_actor()
    reason = None
    if request.content_length:
        reason = read_fields(json_body(), optional=("reason",), max_length=500).get("reason")
    return jsonify(wish_json(aid.release(actor, wish_id, reason=reason)))


@bp.post("/wishes/<int:wish_id>/claim")
def claim_wish(wish_id):
    return jsonify(wish_json(aid.claim(current_actor(), wish_id)))


@bp.post("/wishes/<int:wish_id>/fulfil")
def fulfil_wish(wish_id):
    actor = current_actor()
    fields = read_fields(json_body(), required=("note",), max_length=1000)
    return jsonify(wish_json(aid.fulfil(actor, wish_id, note=fields["note"])))


@bp.post("/wishes/<int:wish_id>/photo")
def upload_wish_photo(wish_id):
    """The photo as the request's body (image/jpeg, image/png or image/webp), or a multipart
    form's `photo` file."""
    actor = current_actor()
    upload = request.files.get("photo")
    data = upload.read() if upload else request.get_data()
    return jsonify(wish_json(aid.add_photo(actor, wish_id, data))), 201


@bp.put("/wishes/<int:wish_id>/photo-consent")
def wish_photo_consent(wish_id):
    actor = current_actor()
    fields = read_fields(json_body(), required=("consent",), types={"consent": bool})
    return jsonify(wish_json(aid.set_consent(actor, wish_id, consent=fields["consent"])))


@bp.get("/me/points")
def my_points():
    balance, entries = aid.my_points(current_actor(), cursor=cursor_arg(request.args))
    return jsonify(
        balance=balance,
        next=entries.next,
        items=[
            {"points": e.points, "reason": str(e.kind), "note": e.note, "at": isoformat(e.at)}
            for e in entries
        ],
    )


def item_json(item):
    return {
        "id": item.id,
        "community": {"code": item.community.code},
        "name": item.name,
        "points": item.points,
        "stock": item.stock,
    }


@bp.post("/shop/items")
@role_required(Role.STAFF)
def add_shop_item():
    actor = current_actor()
    fields = read_fields(
        json_body(),
        required=("community", "name", "points", "stock"),
        types={"points": int, "stock": int},
        max_length=100,
    )
    item = aid.add_item(actor, community_code=fields["community"], name=fields["name"],
                        points=fields["points"], stock=fields["stock"])  # fmt: skip
    return jsonify(item_json(item)), 201


@bp.post("/shop/redemptions")
@role_required(Role.STAFF)
def redeem():
    actor = current_actor()
    fields = read_fields(
        json_body(),
        required=("item", "user_id"),
        optional=("quantity",),
        types={"item": int, "user_id": int, "quantity": int},
    )
    redemption = aid.redeem(actor, item_id=fields["item"], user_id=fields["user_id"],
                            quantity=fields.get("quantity", 1))  # fmt: skip
    return jsonify(
        id=redemption.id,
        item=redemption.item_id,
        user_id=redemption.user_id,
        quantity=redemption.quantity,
        points=redemption.points,
        balance=aid.balance(redemption.user_id),
        stock=redemption.item.stock,
        at=isoformat(redemption.at),
    ), 201
