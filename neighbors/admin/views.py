"""The audit log browser: every entry, filtered, newest first (admins only)."""

import re
from datetime import datetime, time, timedelta

from flask import Blueprint, render_template, request
from flask_login import current_user

from neighbors.admin.forms import AuditFilterForm
from neighbors.core import audit
from neighbors.core.permissions import Role
from neighbors.core.timezone import from_local
from neighbors.web import role_required

bp = Blueprint("admin", __name__, template_folder="templates", url_prefix="/admin")


@bp.get("/audit")
@role_required(Role.ADMIN)
def audit_log():
    form = AuditFilterForm(request.args)
    form.validate()

    def valid(field):
        return field.data if field.data not in (None, "") and not field.errors else None

    since, until = valid(form.date_from), valid(form.date_to)
    filters = audit.AuditFilter(
        action=(valid(form.action) or "").strip() or None,
        actor_id=valid(form.actor),
        object_type=(valid(form.object_type) or "").strip() or None,
        object_id=(valid(form.object_id) or "").strip() or None,
        since=from_local(datetime.combine(since, time.min)) if since else None,
        before=from_local(datetime.combine(until, time.min) + timedelta(1)) if until else None,
    )
    before = request.args.get("before", "")
    entries, next_before = audit.search(
        current_user,
        filters,
        before_id=int(before) if re.fullmatch(r"[0-9]{1,9}", before) else None,
    )
    args = {k: v for k, v in request.args.items() if k != "before"}
    return render_template(
        "admin/audit.html", form=form, entries=entries, next_before=next_before, args=args
    )
