"""API: the organisation directory, registering one, adding members."""

from flask import jsonify, request

from neighbors.api.accounts import area
from neighbors.api.base import bp, current_actor, json_body, read_fields
from neighbors.organisations import services as organisations


def organisation_json(organisation, members_count=None):
    body = {
        "id": organisation.id,
        "name": organisation.name,
        "kind": str(organisation.kind),
        "community": area(organisation.community),
        "status": str(organisation.status),
        "credit_code": organisation.credit_code,
    }
    if members_count is not None:
        body["members_count"] = members_count
    return body


def membership_json(membership):
    return {
        "id": membership.id,
        "organisation": membership.organisation_id,
        "user_id": membership.user_id,
        "role": str(membership.role),
        "status": str(membership.status),
    }


@bp.get("/organisations")
def list_organisations():
    rows = organisations.directory(
        community_code=request.args.get("community") or None,
        kind=request.args.get("kind") or None,
    )
    return jsonify(items=[organisation_json(o, members) for o, members in rows])


@bp.post("/organisations")
def create_organisation():
    actor = current_actor()  # staff of the community register; anyone else applies
    values = read_fields(
        json_body(),
        required=("name", "kind", "community"),
        optional=("credit_code", "contact_name", "contact_phone", "description"),
        max_length=2000,
    )
    organisation = organisations.register(actor, community_code=values.pop("community"), **values)
    return jsonify(organisation_json(organisation, 0)), 201


@bp.post("/organisations/<int:organisation_id>/members")
def add_member(organisation_id):
    actor = current_actor()  # staff of the community, or its leader or coordinator
    values = read_fields(
        json_body(), required=("user_id",), optional=("role",), types={"user_id": int}
    )
    membership = organisations.add_member(
        actor, organisation_id, values["user_id"], values.get("role") or "member"
    )
    return jsonify(membership_json(membership)), 201
