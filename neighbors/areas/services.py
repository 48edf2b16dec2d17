"""Areas: import from CSV, look up, and list for the admin pages."""

import logging
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from neighbors.areas.models import Community, District, Grid, Street
from neighbors.core import audit
from neighbors.core.db import transaction
from neighbors.core.errors import NotFound
from neighbors.core.permissions import Role, require_role
from neighbors.core.tabular import ImportFailed, read_table
from neighbors.extensions import db

logger = logging.getLogger(__name__)

COLUMNS = (
    "district_code",
    "district_name",
    "street_code",
    "street_name",
    "community_code",
    "community_name",
    "grid_code",
    "grid_name",
)
# (level, model, parent level, foreign key to the parent)
LEVELS = (
    ("district", District, None, None),
    ("street", Street, "district", "district_id"),
    ("community", Community, "street", "street_id"),
    ("grid", Grid, "community", "community_id"),
)
CODE_LENGTH, NAME_LENGTH = 32, 100


@dataclass
class ImportReport:
    """What an import changed, per level: {"district": {"created": 1, ...}, ...}."""

    counts: dict = field(
        default_factory=lambda: {
            level: {"created": 0, "updated": 0, "unchanged": 0} for level, *_ in LEVELS
        }
    )

    @property
    def changed(self):
        return any(c["created"] or c["updated"] for c in self.counts.values())


def import_areas(path, actor=None, progress=None):
    """Create and rename areas from a CSV file; all or nothing; the same file twice changes nothing.

    Raises ImportFailed with line-numbered errors (nothing written), NotAllowed for non-admins
    when an actor is given (the command line runs with actor=None as the operator).
    """
    if actor is not None:
        require_role(actor, Role.ADMIN)
    rows, errors = read_table(path, COLUMNS, required=COLUMNS[:6])
    wanted, more_errors = _collect(rows)
    errors += more_errors
    if errors:
        raise ImportFailed(errors)
    report = ImportReport()
    with transaction():
        ids = {}
        for level, model, parent, foreign_key in LEVELS:
            existing = {obj.code: obj for obj in db.session.scalars(select(model))}
            for code, (name, parent_code, line) in wanted[level].items():
                obj = existing.get(code)
                parent_id = ids[parent][parent_code] if parent else None
                if obj is None:
                    obj = model(code=code, name=name)
                    if parent:
                        setattr(obj, foreign_key, parent_id)
                    db.session.add(obj)
                    existing[code] = obj
                    report.counts[level]["created"] += 1
                elif parent and getattr(obj, foreign_key) != parent_id:
                    message = _(
                        "%(column)s %(code)s already belongs to another %(parent)s; "
                        "import does not move areas",
                        column=f"{level}_code",
                        code=code,
                        parent=f"{parent}_code",
                    )
                    errors.append((line, message))
                elif obj.name != name:
                    obj.name = name
                    report.counts[level]["updated"] += 1
                else:
                    report.counts[level]["unchanged"] += 1
            db.session.flush()
            ids[level] = {code: obj.id for code, obj in existing.items()}
            if progress:
                progress(level)
        if errors:
            raise ImportFailed(errors)
        audit.record(actor, "areas.import", **{lvl: c for lvl, c in report.counts.items()})
    logger.info("areas imported: %s", report.counts)
    return report


def _collect(rows):
    """Each area once, as {level: {code: (name, parent code, first line)}}, and the errors found."""
    wanted = {level: {} for level, *_ in LEVELS}
    errors = []
    for line, row in rows:
        if bool(row["grid_code"]) != bool(row["grid_name"]):
            errors.append((line, _("grid_code and grid_name must be given together")))
            continue
        for level, _model, parent, _fk in LEVELS:
            code, name = row[f"{level}_code"], row[f"{level}_name"]
            if not code:
                continue
            too_long = (
                (f"{level}_code", CODE_LENGTH)
                if len(code) > CODE_LENGTH
                else ((f"{level}_name", NAME_LENGTH) if len(name) > NAME_LENGTH else None)
            )
            if too_long:
                message = _(
                    "%(column)s is longer than %(length)s characters",
                    column=too_long[0],
                    length=too_long[1],
                )
                errors.append((line, message))
                continue
            parent_code = row[f"{parent}_code"] if parent else None
            seen = wanted[level].get(code)
            if seen is None:
                wanted[level][code] = (name, parent_code, line)
            elif seen[:2] != (name, parent_code):
                message = _(
                    "%(column)s %(code)s has another name or parent on line %(first)s",
                    column=f"{level}_code",
                    code=code,
                    first=seen[2],
                )
                errors.append((line, message))
    return wanted, errors


def community_by_code(code):
    """The community with this code. Raises NotFound."""
    community = db.session.scalar(select(Community).where(Community.code == code))
    if community is None:
        raise NotFound(_("No community has the code %(code)s.", code=code))
    return community


PICK_LIMIT = 50


def community_choices(street_code=None, community_code=None, text=None, ids=None):
    """Communities grouped by street for a select box: {"Street name": [(code, name), ...]};
    only one street's when a street, or a community of it, is given; only those whose name
    contains `text` (at most PICK_LIMIT) when it is given; only those with these `ids` (a
    staff member's scope) when given."""
    query = (
        select(Street.name, Community.code, Community.name)
        .join(Community.street)
        .order_by(Street.code, Community.code)
    )
    if text:
        pattern = text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        query = query.where(Community.name.ilike(f"%{pattern}%", escape="\\")).limit(PICK_LIMIT)
    elif street_code:
        query = query.where(Street.code == street_code)
    elif community_code:
        of_street = select(Community.street_id).where(Community.code == community_code)
        query = query.where(Community.street_id == of_street.scalar_subquery())
    if ids is not None:
        query = query.where(Community.id.in_(ids))
    rows = db.session.execute(query)
    choices = {}
    for street_name, code, name in rows:
        choices.setdefault(street_name, []).append((code, name))
    return choices


def district_choices():
    """Districts for a select box: [(code, name), ...] in code order."""
    return [
        tuple(row)
        for row in db.session.execute(select(District.code, District.name).order_by(District.code))
    ]


def street_choices(district_code=None):
    """Streets for a select box: [(code, name), ...] in code order; one district's if given."""
    query = select(Street.code, Street.name).order_by(Street.code)
    if district_code:
        query = query.join(Street.district).where(District.code == district_code)
    return [tuple(row) for row in db.session.execute(query)]


def parents_of(community_code=None, street_code=None):
    """(district code, street code) of a community or a street; (None, None) if unknown."""
    if community_code:
        query = (
            select(District.code, Street.code)
            .join(Street.district)
            .join(Community, Community.street_id == Street.id)
            .where(Community.code == community_code)
        )
    elif street_code:
        query = (
            select(District.code, Street.code)
            .join(Street.district)
            .where(Street.code == street_code)
        )
    else:
        return None, None
    row = db.session.execute(query).first()
    return tuple(row) if row else (None, None)


def grids_of(community_id):
    """The grids of one community, in code order."""
    return db.session.scalars(
        select(Grid).where(Grid.community_id == community_id).order_by(Grid.code)
    ).all()


def list_districts(actor):
    """Districts with their street and community counts. Raises NotAllowed for non-admins."""
    require_role(actor, Role.ADMIN)
    return db.session.execute(
        select(District, func.count(Street.id.distinct()), func.count(Community.id))
        .outerjoin(Street, Street.district_id == District.id)
        .outerjoin(Community, Community.street_id == Street.id)
        .group_by(District.id)
        .order_by(District.code)
    ).all()


def district_detail(actor, code):
    """A district and its streets with community counts. Raises NotAllowed, NotFound."""
    require_role(actor, Role.ADMIN)
    district = _by_code(District, code)
    streets = db.session.execute(
        select(Street, func.count(Community.id))
        .outerjoin(Community, Community.street_id == Street.id)
        .where(Street.district_id == district.id)
        .group_by(Street.id)
        .order_by(Street.code)
    ).all()
    return district, streets


def street_detail(actor, code):
    """A street and its communities with grid counts. Raises NotAllowed, NotFound."""
    require_role(actor, Role.ADMIN)
    street = _by_code(Street, code)
    communities = db.session.execute(
        select(Community, func.count(Grid.id))
        .outerjoin(Grid, Grid.community_id == Community.id)
        .where(Community.street_id == street.id)
        .group_by(Community.id)
        .order_by(Community.code)
    ).all()
    return street, communities


def community_detail(actor, code):
    """A community and its grids. Raises NotAllowed, NotFound."""
    require_role(actor, Role.ADMIN)
    community = _by_code(Community, code)
    return community, grids_of(community.id)


def scope_by_code(kind, code):
    """The community, street or district with this code. Raises NotFound."""
    model = {"community": Community, "street": Street, "district": District}[kind]
    obj = db.session.scalar(select(model).where(model.code == code))
    if obj is None:
        raise NotFound(_("No community, street or district has the code %(code)s.", code=code))
    return obj


def _by_code(model, code):
    obj = db.session.scalar(select(model).where(model.code == code))
    if obj is None:
        raise NotFound(_("Not found."))
    return obj
