"""API: stations and their rooms, over the same services as the pages."""

from flask import jsonify, request
from flask_babel import gettext as _

from neighbors.api.base import bp, current_actor, json_body, read_fields, role_required
from neighbors.core.errors import Invalid
from neighbors.core.permissions import Role
from neighbors.stations import services as stations


def room_json(room):
    return {"id": room.id, "name": room.name, "capacity": room.capacity}


def station_json(station):
    return {
        "id": station.id,
        "code": station.code,
        "name": station.name,
        "address": station.address,
        "opening_hours": station.opening_hours,
        "communities": [{"code": c.code, "name": c.name} for c in station.communities],
        "rooms": [room_json(room) for room in station.rooms],
    }


@bp.get("/stations")
def list_stations():
    items = stations.list_stations(request.args.get("community") or None)
    return jsonify(items=[station_json(station) for station in items])


@bp.post("/stations")
@role_required(Role.STAFF)
def create_station():
    body = json_body()
    values = read_fields(body, required=("code", "name"), optional=("address", "opening_hours"))
    communities, rooms = body.get("communities"), body.get("rooms", [])
    problems = {}
    if not isinstance(communities, list) or not all(isinstance(c, str) for c in communities):
        problems["communities"] = _("Send a list of community codes.")
    if not isinstance(rooms, list) or not all(isinstance(r, dict) for r in rooms):
        problems["rooms"] = _('Send a list of rooms: [{"name": …, "capacity": …}].')
    if problems:
        raise Invalid(_("Some fields are missing or invalid."), fields=problems)
    station = stations.create_station(
        current_actor(), communities=communities[:50], rooms=rooms[:200], **values
    )
    return jsonify(station_json(stations.get_station(station.code))), 201
