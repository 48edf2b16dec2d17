"""API: events and sign-ups, over the same services as the pages."""

from datetime import date, datetime, time, timedelta

from flask import g, jsonify, request
from flask_babel import gettext as _

from neighbors.api.accounts import area
from neighbors.api.base import bp, current_actor, json_body, read_fields, role_required
from neighbors.core.errors import Invalid
from neighbors.core.permissions import Role
from neighbors.core.timezone import (
    from_local,
    isoformat,
    local_today,
    parse_iso,
    plausible,
)
from neighbors.events import services as events

EVENT_FIELDS = {
    "title": str,
    "category": str,
    "venue": str,
    "description": str,
    "capacity": int,
    "starts_at": datetime,
    "ends_at": datetime,
    "signup_opens_at": datetime,
    "signup_closes_at": datetime,
    "cancel_cutoff_at": datetime,
    "dedication_day": bool,
    "room": int,
}


def room_of(event):
    """The room an event takes, with its station, or None."""
    room = event.room
    if room is None:
        return None
    station = {"code": room.station.code, "name": room.station.name}
    return {"id": room.id, "name": room.name, "capacity": room.capacity, "station": station}


def event_json(event):
    return {
        "id": event.id,
        "title": event.title,
        "category": str(event.category),
        "community": area(event.community),
        "venue": event.venue,
        "room": room_of(event),
        "description": event.description,
        "starts_at": isoformat(event.starts_at),
        "ends_at": isoformat(event.ends_at),
        "capacity": event.capacity,
        "confirmed_count": event.confirmed_count,
        "waitlist_count": event.waitlist_count,
        "status": str(event.status),
        "dedication_day": event.dedication_day,
        "series_id": event.series_id,
        "organisation": (
            {"id": event.organisation_id, "name": event.organisation.name}
            if event.organisation_id
            else None
        ),
        "signup_opens_at": isoformat(event.signup_opens_at),
        "signup_closes_at": isoformat(event.signup_closes_at),
        "cancel_cutoff_at": isoformat(event.cancel_cutoff_at),
        "cancel_reason": event.cancel_reason,
    }


def _moment(name, value, end=False):
    """A date (local midnight; for `to`, the next one) or an ISO time with offset."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
            moment = from_local(datetime.combine(day, time.min))
        else:
            moment = parse_iso(value)
        if not plausible(moment):
            raise ValueError("out of range")
        return moment
    except (ValueError, OverflowError):
        message = _("Use a date (2026-05-01) or a time with an offset.")
        raise Invalid(message, fields={name: message}) from None


def _today():
    """Local midnight today: lists begin with today's events unless asked otherwise."""
    return from_local(datetime.combine(local_today(), time.min))


@bp.get("/events")
def list_events():
    args = request.args
    try:
        limit = int(args.get("limit", 20))
    except ValueError:
        raise Invalid(_("limit must be a number."), fields={"limit": _("Not a number.")}) from None
    filters = events.EventFilter(
        community=args.get("community") or None,
        street=args.get("street") or None,
        district=args.get("district") or None,
        category=args.get("category") or None,
        text=(args.get("q") or "").strip()[:100] or None,
        starts_from=_moment("from", args.get("from")) or _today(),
        starts_before=_moment("to", args.get("to"), end=True),
        status=args.get("status") or "published",
    )
    actor = _optional_actor()
    page, next_cursor = events.list_events(
        filters, actor=actor, cursor=args.get("cursor"), limit=limit
    )
    return jsonify(items=[event_json(e) for e in page], next_cursor=next_cursor)


def _optional_actor():
    return g.get("api_user")


@bp.get("/events/<int:event_id>")
def get_event(event_id):
    return jsonify(event_json(events.get_event(event_id, _optional_actor())))


@bp.post("/events")
def create_event():
    actor = current_actor()  # staff of the community, or a coordinator of "organisation"
    required = ("community", "title", "category", "starts_at", "ends_at", "capacity")
    optional = [name for name in EVENT_FIELDS if name not in required] + ["organisation"]
    types = {**EVENT_FIELDS, "organisation": int}
    values = read_fields(
        json_body(), required=required, optional=optional, types=types, max_length=5000
    )
    community = values.pop("community")
    organisation = values.pop("organisation", None)
    room_id = values.pop("room", None)
    event = events.create_event(
        actor,
        community_code=community,
        organisation_id=organisation,
        room_id=room_id,
        **values,
    )
    return jsonify(event_json(events.get_event(event.id, actor))), 201


@bp.patch("/events/<int:event_id>")
@role_required(Role.STAFF)
def update_event(event_id):
    actor = current_actor()
    body = json_body()
    values = read_fields(body, optional=list(EVENT_FIELDS), types=EVENT_FIELDS, max_length=5000)
    if "room" in body:  # "room": null takes the event out of its room
        values["room_id"] = values.pop("room", None)
    events.update_event(actor, event_id, **values)
    return jsonify(event_json(events.get_event(event_id, actor)))


@bp.post("/events/<int:event_id>/<any(publish, cancel):action>")
@role_required(Role.STAFF)
def change_status(event_id, action):
    actor = current_actor()
    if action == "publish":
        events.publish_event(actor, event_id)
    else:
        reason = read_fields(json_body(), required=("reason",))["reason"]
        events.cancel_event(actor, event_id, reason)
    return jsonify(event_json(events.get_event(event_id, actor)))


@bp.post("/events/<int:event_id>/messages")
def send_message(event_id):
    text = read_fields(json_body(), required=("text",))["text"]
    message = events.send_message(current_actor(), event_id, text)
    return jsonify(id=message.id, recipients=message.recipients), 202


def signup_json(signup, position):
    return {"id": signup.id, "status": str(signup.status), "waitlist_position": position}


@bp.post("/events/<int:event_id>/signups")
def sign_up(event_id):
    actor = current_actor()
    signup, created, position = events.sign_up(actor, event_id)
    return jsonify(signup_json(signup, position)), 201 if created else 200


@bp.delete("/events/<int:event_id>/signups/me")
def cancel_signup(event_id):
    signup = events.cancel_signup(current_actor(), event_id)
    return jsonify(id=signup.id, status=str(signup.status))


@bp.get("/events/<int:event_id>/signups")
def list_signups(event_id):
    _event, signups, positions = events.roster(current_actor(), event_id)
    return jsonify(
        items=[
            {
                "id": s.id,
                "user": {"id": s.user.id, "name": s.user.name},
                "status": str(s.status),
                "waitlist_position": positions.get(s.id),
                "checked_in_at": isoformat(s.checked_in_at),
                "checked_out_at": isoformat(s.checked_out_at),
                "reply": s.reply and str(s.reply),
            }
            for s in signups
        ]
    )
