"""API: tokens and the signed-in user's profile."""

from flask import g, jsonify, request

from neighbors.accounts import services as accounts
from neighbors.api.base import bp, current_actor, json_body, read_fields
from neighbors.core.permissions import role_names
from neighbors.core.privacy import mask_phone
from neighbors.core.ratelimit import login_limits
from neighbors.hours import services as hours


@bp.post("/tokens")
@login_limits
def create_token():
    body = json_body()
    address = request.remote_addr
    if "code" in body or "phone" in body:  # signing in with a code sent by SMS
        fields = read_fields(body, required=("phone", "code"), max_length=20)
        raw, token = accounts.issue_code_token(fields["phone"], fields["code"], address=address)
    else:
        fields = read_fields(body, required=("login", "password"))
        raw, token = accounts.issue_token(fields["login"], fields["password"], address=address)
    user = token.user
    return jsonify(
        token=raw,
        expires_at=token.expires_at.isoformat(),
        user={"id": user.id, "name": user.name, "roles": role_names(user)},
    ), 201


@bp.post("/sms-codes")
def send_code():
    """A one-time code by SMS: 202 whether or not the number has an account."""
    fields = read_fields(json_body(), required=("phone",), optional=("purpose",), max_length=20)
    purpose = fields.get("purpose", "login")
    actor = current_actor() if purpose == "verify" else None
    accounts.request_code(fields["phone"], purpose, address=request.remote_addr, actor=actor)
    return jsonify(status="accepted"), 202


@bp.post("/me/phone")
def confirm_phone():
    """Verify the number a "verify" code was sent to (one's own, or a new one instead)."""
    actor = current_actor()
    body = json_body()
    fields = read_fields(body, required=("phone", "code"), max_length=20)
    password = read_fields(body, optional=("current_password",)).get("current_password")
    user = accounts.verify_phone(
        actor,
        fields["phone"],
        fields["code"],
        address=request.remote_addr,
        current_password=password,
    )
    return jsonify(profile(user))


@bp.delete("/tokens/current")
def delete_token():
    current_actor()
    accounts.revoke_token(g.api_token)
    return "", 204


@bp.get("/me")
def me():
    user = current_actor()
    return jsonify(profile(user))


def area(obj):
    return {"id": obj.id, "code": obj.code, "name": obj.name} if obj else None


def profile(user):
    party = user.party
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "phone": mask_phone(accounts.phone_of(user)) or None,
        "roles": role_names(user),
        "managed_communities": [area(grant.community) for grant in user.roles if grant.community],
        "home_community": area(user.home_community),
        "grid": area(user.grid),
        "locale": user.locale,
        "phone_verified": user.phone_verified_at is not None,
        "channels": [str(channel) for channel in accounts.channels_of(user)],
        "party": {
            "branch": party.branch,
            "work_unit": party.work_unit,
            "community": area(party.community),
            "reported_on": party.reported_on.isoformat(),
            "status": str(party.status),
        }
        if party
        else None,
        "total_minutes": hours.totals(user.id).all_time,  # confirmed service
    }
