"""Station pages: the directory, found by district, street and community. A station's own page
with its week of events is shown by events (events.show_station), which stands above stations."""

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField
from wtforms.validators import Optional

from neighbors.areas.picker import AreaPickerForm, narrow
from neighbors.core.replicas import reads_from_replica
from neighbors.stations import services as stations

bp = Blueprint("stations", __name__, template_folder="templates")


class StationFinderForm(AreaPickerForm):
    """The picker's steps and the community they narrow to."""

    community = SelectField(_l("Community"), validators=[Optional()], choices=[])


@bp.get("/stations")
@reads_from_replica
def list_stations():
    form = StationFinderForm(request.args)
    community = request.args.get("community") or None
    picked = narrow(request.args, form, community=community)
    form.community.choices = [SelectChoice("", _("All of the street")), *picked.communities]
    form.community.data = community or ""
    codes = {choice.value for choice in picked.communities}
    found = None
    if community and community in codes:
        found = stations.list_stations(community_code=community)
    elif picked.street:
        found = stations.list_stations(street_code=picked.street)
    return render_template("stations/list.html", form=form, picked=picked, stations=found)
