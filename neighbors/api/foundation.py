"""API: funds, donations and subsidies (idempotent by Idempotency-Key), reversals, the ledger."""

import re
from datetime import date

from flask import jsonify, request, stream_with_context
from flask_babel import gettext as _

from neighbors.api.base import bp, current_actor, json_body, read_fields, role_required
from neighbors.core.errors import Invalid
from neighbors.core.exports import download
from neighbors.core.permissions import FOUNDATION_ROLES, Role
from neighbors.core.privacy import mask_name
from neighbors.core.replicas import reads_from_replica
from neighbors.core.timezone import isoformat
from neighbors.foundation import ledger, reports
from neighbors.foundation import services as foundation


def money_text(value):
    """An amount as the API writes it: a string with two decimal places ("120.50")."""
    return f"{value:.2f}"


def fund_json(fund):
    return {
        "id": fund.id,
        "code": fund.code,
        "name": fund.name,
        "kind": str(fund.kind),
        "purpose": fund.purpose,
        "balance": money_text(fund.balance),
        "ends_on": fund.ends_on.isoformat() if fund.ends_on else None,
        # A custodial fund's beneficiary, masked (张*): it pays only them.
        "beneficiary": mask_name(fund.beneficiary.name) if fund.beneficiary else None,
    }


def donation_json(d):
    return {
        "id": d.id,
        "receipt_number": d.ack_number,
        "fund": d.fund.code,
        "amount": money_text(d.amount),
        "donor_name": None if d.anonymous else d.donor_name,
        "anonymous": d.anonymous,
        "received_on": d.received_on.isoformat(),
        "channel": d.channel,
        "voucher": d.entry.voucher,
        "entry_id": d.entry_id,
        "official_receipt": {
            "code": d.receipt_code,
            "number": d.receipt_number,
            "date": d.receipt_date.isoformat() if d.receipt_date else None,
        },
    }


def subsidy_json(s):
    return {
        "id": s.id,
        "status": str(s.status),
        "fund": s.fund.code,
        "amount": money_text(s.amount),
        "related_party": s.related_party,
        "entry_id": s.entry_id,
    }


def entry_json(entry):
    return {
        "id": entry.id,
        "posted_at": isoformat(entry.posted_at),
        "date": entry.entry_date.isoformat(),
        "voucher": entry.voucher,
        "summary": entry.summary,
        "fund": entry.lines[0].fund.code if entry.lines else None,
        "lines": [
            {
                "account": ledger.ACCOUNTS[line.account][0] + ":" + line.fund.code,
                "code": line.account,
                "fund": line.fund.code,
                "debit": money_text(line.debit),
                "credit": money_text(line.credit),
            }
            for line in entry.lines
        ],
        "reverses": entry.reverses_id,
        "reason": entry.reason,
    }


def _idempotency(body):
    key = request.headers.get("Idempotency-Key")
    return (key.strip(), foundation.request_hash(body)) if key is not None else None


def _date(body, name, required=True):
    """A YYYY-MM-DD date field; None when absent and optional. Raises Invalid otherwise."""
    value = body.get(name)
    if value is None and not required:
        return None
    try:
        if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    message = _("Use a date such as 2026-05-01.")
    raise Invalid(message, fields={name: message})


@bp.get("/funds")
@role_required(*FOUNDATION_ROLES)
def list_funds():
    return jsonify(items=[fund_json(f) for f in foundation.funds(current_actor())])


@bp.post("/funds")
@role_required(Role.APPROVER)
def create_fund():
    actor = current_actor()
    body = json_body()
    fields = read_fields(
        body,
        required=("code", "name", "kind"),
        optional=("purpose", "opening_balance", "beneficiary_name", "beneficiary_id_number"),
    )
    fund = foundation.create_fund(
        actor,
        **fields,
        starts_on=_date(body, "starts_on", False),
        ends_on=_date(body, "ends_on", False),
    )
    return jsonify(fund_json(fund)), 201


@bp.post("/donations")
@role_required(Role.PREPARER)
def record_donation():
    actor = current_actor()
    body = json_body()
    fields = read_fields(
        body,
        required=("fund", "amount", "received_on"),
        optional=(
            "donor_name",
            "donor_kind",
            "channel",
            "notes",
            "receipt_code",
            "receipt_number",
            "anonymous",
            "publish_consent",
        ),
        types={"anonymous": bool, "publish_consent": bool},
        max_length=2000,
    )
    received_on = _date(body, "received_on")
    fields["fund_code"], fields["received_on"] = fields.pop("fund"), received_on
    donation, created = foundation.record_donation(
        actor,
        **fields,
        receipt_date=_date(body, "receipt_date", False),
        idempotency=_idempotency(body),
    )
    return jsonify(donation_json(donation)), 201


@bp.post("/subsidies")
@role_required(Role.PREPARER)
def prepare_subsidy():
    actor = current_actor()
    body = json_body()
    fields = read_fields(
        body,
        required=("fund", "amount", "beneficiary_name", "reason"),
        optional=("id_number", "phone", "category", "community", "household_size", "related_party"),
        types={"household_size": int, "related_party": bool},
    )
    fields["fund_code"] = fields.pop("fund")
    if "community" in fields:
        fields["community_code"] = fields.pop("community")
    subsidy, _created = foundation.prepare_subsidy(actor, **fields, idempotency=_idempotency(body))
    return jsonify(subsidy_json(subsidy)), 201


@bp.post("/subsidies/<int:subsidy_id>/<any(approve, pay, reject):step>")
@role_required(Role.APPROVER, Role.CASHIER)
def subsidy_step(subsidy_id, step):
    actor = current_actor()
    if step == "approve":
        subsidy = foundation.approve_subsidy(actor, subsidy_id)
    elif step == "pay":
        subsidy = foundation.pay_subsidy(actor, subsidy_id)
    else:
        body = json_body() if request.content_length else {}
        reason = read_fields(body, optional=("reason",), max_length=500).get("reason")
        subsidy = foundation.reject_subsidy(actor, subsidy_id, reason)
    return jsonify(subsidy_json(subsidy))


@bp.post("/ledger/entries/<int:entry_id>/reverse")
@role_required(Role.APPROVER)
def reverse_entry(entry_id):
    actor = current_actor()
    body = json_body()
    reason = read_fields(body, required=("reason",), max_length=500)["reason"]
    entry, _created = foundation.reverse_entry(
        actor, entry_id, reason, idempotency=_idempotency({"entry": entry_id, **body})
    )
    return jsonify(entry_json(entry)), 201


@bp.get("/ledger")
@role_required(*reports.READERS)
@reads_from_replica
def export_ledger():
    actor = current_actor()
    args = request.args
    try:
        date_from = date.fromisoformat(args["from"]) if args.get("from") else None
        date_to = date.fromisoformat(args["to"]) if args.get("to") else None
    except ValueError:
        message = _("Use dates such as 2026-01-01.")
        raise Invalid.from_fields({"from": message, "to": message}) from None
    fmt = args.get("format", "json")
    if fmt not in ("json", "csv", "xlsx", "beancount"):
        raise Invalid(
            _("format is json, csv, xlsx or beancount."), fields={"format": _("Not valid.")}
        )
    fund = args.get("fund") or None
    if fmt != "json":
        body, content_type = reports.export(actor, fmt, date_from, date_to, fund)
        return download(stream_with_context(body), content_type, f"ledger.{fmt}")
    page, next_cursor = reports.ledger_page(
        actor,
        cursor=args.get("cursor"),
        limit=100,
        date_from=date_from,
        date_to=date_to,
        fund_code=fund,
    )
    return jsonify(items=[entry_json(e) for e in page], next_cursor=next_cursor)
