"""API: attendance, check-in with the code, and completing an event."""

from datetime import datetime

from flask import jsonify

from neighbors.api.base import bp, current_actor, json_body, read_fields
from neighbors.api.events import event_json
from neighbors.attendance import completion
from neighbors.attendance import services as attendance
from neighbors.core.ratelimit import code_attempts
from neighbors.core.timezone import isoformat
from neighbors.events import services as events


def signup_attendance(signup):
    return {
        "id": signup.id,
        "user_id": signup.user_id,
        "status": str(signup.status),
        "walk_in": signup.walk_in,
        "checked_in_at": isoformat(signup.checked_in_at),
        "checked_out_at": isoformat(signup.checked_out_at),
    }


@bp.post("/events/<int:event_id>/complete")
def complete_event(event_id):
    actor = current_actor()
    done = completion.complete_event(actor, event_id)
    return jsonify(
        event_json(events.get_event(event_id, actor))
        | {"service_records": done.records, "no_shows": done.no_shows}
    )


@bp.post("/events/<int:event_id>/attendance")
def record_attendance(event_id):
    actor = current_actor()
    body = json_body()
    fields = read_fields(
        body,
        required=("user_id", "checked_in_at"),
        optional=("checked_out_at",),
        types={"user_id": int, "checked_in_at": datetime, "checked_out_at": datetime},
    )
    signup = attendance.record_attendance(
        actor, event_id, fields["user_id"], fields["checked_in_at"], fields.get("checked_out_at")
    )
    return jsonify(signup_attendance(signup))


@bp.post("/events/<int:event_id>/checkin")
@code_attempts
def check_in(event_id):
    actor = current_actor()
    body = json_body()
    if isinstance(body.get("code"), int) and not isinstance(body.get("code"), bool):
        body["code"] = f"{body['code']:06d}"  # a code typed as a number lost its leading zeros
    code = read_fields(body, required=("code",), max_length=12)["code"]
    return jsonify(signup_attendance(attendance.check_in_with_code(actor, event_id, code)))
