"""Admin pages to browse the area hierarchy."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from neighbors.areas import services as areas

bp = Blueprint("areas", __name__, template_folder="templates", url_prefix="/admin/areas")


@bp.get("/")
@login_required
def index():
    return render_template("areas/index.html", districts=areas.list_districts(current_user))


@bp.get("/districts/<code>")
@login_required
def district(code):
    district, streets = areas.district_detail(current_user, code)
    return render_template("areas/district.html", district=district, streets=streets)


@bp.get("/streets/<code>")
@login_required
def street(code):
    street, communities = areas.street_detail(current_user, code)
    return render_template("areas/street.html", street=street, communities=communities)


@bp.get("/communities/<code>")
@login_required
def community(code):
    community, grids = areas.community_detail(current_user, code)
    return render_template("areas/community.html", community=community, grids=grids)
