"""API: confirming records, my hours, certificates."""

import re
from datetime import date

from flask import jsonify, request
from flask_babel import gettext as _

from neighbors.api.base import bp, current_actor, json_body, read_fields
from neighbors.core.errors import Invalid
from neighbors.core.exports import XLSX, download, xlsx_bytes
from neighbors.core.links import absolute_url
from neighbors.core.privacy import mask_name
from neighbors.core.timezone import isoformat
from neighbors.hours import services as hours


def record_json(record):
    return {
        "id": record.id,
        "event_id": record.event_id,
        "activity": record.activity,
        "minutes": record.minutes,
        "status": str(record.status),
        "served_on": record.served_on.isoformat(),
        "supersedes": record.supersedes_id,
    }


@bp.post("/service-records/<int:record_id>/<any(confirm, reject):decision>")
def review_record(record_id, decision):
    actor = current_actor()
    reason = None
    if decision == "reject" and request.content_length:
        reason = read_fields(json_body(), optional=("reason",), max_length=500).get("reason")
    (record,) = hours.review(actor, [record_id], confirm=decision == "confirm", reason=reason)
    return jsonify(record_json(record))


@bp.get("/me/hours")
def my_hours():
    actor = current_actor()
    totals = hours.totals(actor.id)
    return jsonify(
        items=[
            record_json(record) | {"counts": counts, "corrected": corrected}
            for record, counts, corrected in hours.my_records(actor)
        ],
        total_minutes=totals.all_time,
        this_year_minutes=totals.this_year,
        star=totals.star,
    )


@bp.post("/me/certificates")
def issue_certificate():
    actor = current_actor()
    fields = read_fields(json_body(), required=("from", "to"), optional=("issuer",), max_length=24)
    try:
        if not all(re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fields[k]) for k in ("from", "to")):
            raise ValueError("not YYYY-MM-DD")
        period = date.fromisoformat(fields["from"]), date.fromisoformat(fields["to"])
    except ValueError:
        message = _("Use dates such as 2026-01-01.")
        raise Invalid.from_fields({"from": message, "to": message}) from None
    certificate = hours.issue_certificate(actor, *period, issuer=fields.get("issuer"))
    token = hours.certificate_token(certificate)
    return jsonify(
        certificate_json(certificate)
        | {
            "token": token,
            "verify_url": absolute_url("hours.verify", token=token),
        }
    ), 201


@bp.get("/exports/national-system.xlsx")
def national_export():
    actor = current_actor()
    args = request.args
    organisation = args.get("organisation", "")
    try:
        period = [date.fromisoformat(args.get(k, "")) for k in ("from", "to")]
        if organisation and not re.fullmatch(r"[0-9]{1,9}", organisation):
            raise ValueError("not an id")
    except ValueError:
        message = _("Give from and to as dates such as 2026-01-01, and an organisation by its id.")
        hours.require_keeper(actor)  # who may not export hears so before what is malformed
        raise Invalid.from_fields({"from": message, "to": message}) from None
    report, rows, _run = hours.national_export(
        actor,
        community=args.get("community") or None,
        organisation=int(organisation) if organisation else None,
        period_from=period[0],
        period_to=period[1],
        only_new=args.get("only_new") in ("1", "true", "yes"),
    )
    name = f"national-system-{period[0]:%Y%m%d}-{period[1]:%Y%m%d}.xlsx"
    return download(xlsx_bytes(report, rows), XLSX, name)


@bp.get("/certificates/verify/<token>")
def verify_certificate(token):
    return jsonify(certificate_json(hours.verify_certificate(token)))


def certificate_json(certificate):
    return {
        "serial": certificate.serial,
        "volunteer": mask_name(certificate.name),
        "period_from": certificate.period_from.isoformat(),
        "period_to": certificate.period_to.isoformat(),
        "total_minutes": certificate.total_minutes,
        "services": len(certificate.services),
        "issued_at": isoformat(certificate.issued_at),
        "issuer": certificate.issuer_name,
        "volunteer_number": certificate.volunteer_number,
        "revoked": certificate.revoked_at is not None,
        "revoked_at": isoformat(certificate.revoked_at) if certificate.revoked_at else None,
        "revoked_reason": certificate.revoke_reason,
    }
