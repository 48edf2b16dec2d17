"""Admin pages to browse the area hierarchy."""

from flask import Blueprint, render_template
from flask_login import current_user

from neighbors.areas import services as areas
from neighbors.core.permissions import Role
from neighbors.web import role_required

bp = Blueprint("areas", __name__, template_folder="templates", url_prefix="/admin/areas")


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    return render_template("areas/index.html", districts=areas.list_districts(current_user))


@bp.get("/districts/<code>")
@role_required(Role.ADMIN)
def district(code):
    district, streets = areas.district_detail(current_user, code)
    return render_template("areas/district.html", district=district, streets=streets)


@bp.get("/streets/<code>")
@role_required(Role.ADMIN)
def street(code):
    street, communities = areas.street_detail(current_user, code)
    return render_template("areas/street.html", street=street, communities=communities)


@bp.get("/communities/<code>")
@role_required(Role.ADMIN)
def community(code):
    community, grids = areas.community_detail(current_user, code)
    return render_template("areas/community.html", community=community, grids=grids)
