"""The export for the national volunteer service information system (全国志愿服务信息系统):
volunteers and their confirmed service, one row a service record, in the columns of its bulk
import (documented in the README). Each export is recorded (which records went out), so the next
one can take only what is new, and audit-logged."""

import logging
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload

from neighbors.accounts import identity as identities
from neighbors.accounts.contacts import phone_of
from neighbors.accounts.models import IdType
from neighbors.areas.models import Community
from neighbors.core import audit, privacy
from neighbors.core.db import transaction
from neighbors.core.errors import Invalid, NotFound
from neighbors.core.exports import Column, Report
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.hours.certificates import IssuerRef, issuer_name, require_issuer, require_keeper
from neighbors.hours.models import NationalExport, NationalExportItem, ServiceRecord
from neighbors.hours.records import is_effective

logger = logging.getLogger(__name__)

# The national system's own words: the import is read by it, whatever the reader's language.
COLUMNS = tuple(
    Column(header, kind)
    for header, kind in (
        ("姓名", "text"),
        ("证件类型", "text"),
        ("证件号码", "text"),
        ("性别", "text"),
        ("出生日期", "date"),
        ("手机号码", "text"),
        ("志愿者编号", "text"),
        ("服务项目名称", "text"),
        ("服务日期", "date"),
        ("服务时长（小时）", "number"),
        ("服务地点", "text"),
        ("记录单位", "text"),
    )
)
ID_TYPES = {
    IdType.RESIDENT_ID: "居民身份证",
    IdType.HK_MACAO_PERMIT: "港澳居民来往内地通行证",
    IdType.TAIWAN_PERMIT: "台湾居民来往大陆通行证",
    IdType.PASSPORT: "护照",
    IdType.FOREIGN_PERMANENT: "外国人永久居留身份证",
}
GENDERS = {"male": "男", "female": "女"}


def _scope(issuer, community_code, organisation_id):
    """The issuer an export is for: its key, a community (by code) or an organisation. Raises
    Invalid, NotFound."""
    if issuer:
        return IssuerRef.parse(issuer)
    if bool(community_code) == bool(organisation_id):
        message = _("Choose a community or an organisation.")
        raise Invalid.from_fields({"community": message})
    if organisation_id:
        return IssuerRef("organisation", int(organisation_id))
    community = db.session.scalar(select(Community).where(Community.code == community_code))
    if community is None:
        raise NotFound(_("No community has the code %(code)s.", code=community_code))
    return IssuerRef("community", community.id)


def national_export(
    actor,
    *,
    issuer=None,
    community=None,
    organisation=None,
    period_from,
    period_to,
    only_new=False,
):
    """Rows for the national system's bulk import: (report, rows, export run), for an
    issuer (its key) or a community (code) or an organisation (id). Staff of the community (or
    of the organisation's community) and the organisation's coordinators.

    Raises NotAuthenticated, NotAllowed, NotFound, Invalid (bad period or scope).
    """
    require_keeper(actor)
    if not (isinstance(period_from, date) and isinstance(period_to, date)) or (
        period_from > period_to
        or period_to > local_today()
        or period_to - period_from > timedelta(days=366 * 5)
    ):
        message = _("The period must run forwards, end by today and span at most five years.")
        raise Invalid.from_fields({"to": message})
    # All on the primary, in one unit of work (the views are not @reads_from_replica): "only new"
    # reads which records earlier runs took and this run records what it took, so a lagging
    # replica would send a record twice; and the rows may issue volunteer numbers (writes).
    with transaction():
        ref = _scope(issuer, community, organisation)
        require_issuer(actor, ref)
        column = getattr(ServiceRecord, ref.column)
        query = (
            select(ServiceRecord)
            .options(joinedload(ServiceRecord.user))
            .where(
                column == ref.id,
                is_effective(),
                ServiceRecord.served_on.between(period_from, period_to),
            )
            .order_by(ServiceRecord.user_id, ServiceRecord.served_on, ServiceRecord.id)
        )
        if only_new:
            query = query.where(~exists().where(NationalExportItem.record_id == ServiceRecord.id))
        records = db.session.scalars(query).all()
        name = issuer_name(ref)
        run = NationalExport(
            actor_id=actor.id,
            **{ref.column: ref.id},
            period_from=period_from,
            period_to=period_to,
            only_new=bool(only_new),
            volunteers=len({r.user_id for r in records}),
            records=len(records),
        )
        db.session.add(run)
        db.session.flush()
        db.session.add_all(NationalExportItem(export_id=run.id, record_id=r.id) for r in records)
        audit.record(actor, "national_export.export", run, issuer=ref.key, records=len(records))
        rows = _rows(records, name)
    return _report(name, run), rows, run


def _report(name, run):
    """The import's layout: the header on the first row, no title above it."""
    period = f"{run.period_from:%Y%m%d}-{run.period_to:%Y%m%d}"
    return Report(name, f"{name} {period}", period, COLUMNS, titled=False)


def export_file(actor, export_id):
    """An earlier export again, with exactly the records it took: (report, rows, run).
    Audit-logged. Raises NotAuthenticated, NotAllowed, NotFound."""
    require_keeper(actor)
    # On the primary: the run was most often made a moment ago (the page's redirect comes
    # straight here), its rows must be exactly what it took, and they may issue numbers.
    with transaction():
        run = db.session.get(NationalExport, export_id)
        if run is None:
            raise NotFound(_("Not found."))
        if run.organisation_id is not None:
            ref = IssuerRef("organisation", run.organisation_id)
        else:
            ref = IssuerRef("community", run.community_id)
        require_issuer(actor, ref)
        records = db.session.scalars(
            select(ServiceRecord)
            .options(joinedload(ServiceRecord.user))
            .join(NationalExportItem, NationalExportItem.record_id == ServiceRecord.id)
            .where(NationalExportItem.export_id == run.id)
            .order_by(ServiceRecord.user_id, ServiceRecord.served_on, ServiceRecord.id)
        ).all()
        audit.record(actor, "national_export.download", run, issuer=ref.key)
        name = issuer_name(ref)
        rows = _rows(records, name)
    return _report(name, run), rows, run


def _rows(records, issuer):
    people = identities.identities([r.user_id for r in records])
    rows = []
    for record in records:
        person = people.get(record.user_id)
        if person is None or not (person.national_number or person.volunteer_number):
            person = people[record.user_id] = identities.issue_number(record.user)
        number = privacy.readable(person.id_number_encrypted) if person.id_type else ""
        rows.append(
            (
                record.user.name,
                ID_TYPES.get(person.id_type, ""),
                number,
                GENDERS.get(person.gender, ""),
                person.birth_date,
                phone_of(record.user) or "",
                identities.volunteer_number(record.user, person),
                record.activity,
                record.served_on,
                round(record.minutes / 60, 2),
                record.place,
                issuer,
            )
        )
    return rows


def last_exports(actor, issuer, limit=10):
    """The latest exports of an issuer (for the staff page). Raises NotAllowed, NotFound."""
    ref = IssuerRef.parse(issuer)
    require_issuer(actor, ref)
    column = getattr(NationalExport, ref.column)
    return db.session.scalars(
        select(NationalExport)
        .where(column == ref.id)
        .order_by(NationalExport.exported_at.desc(), NationalExport.id.desc())
        .limit(limit)
    ).all()
