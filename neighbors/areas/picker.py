"""Choosing one of a city's 955 communities without JavaScript: district, then street, then
community, each step a plain GET that narrows the next list; or a search by name.

A page puts AreaPickerForm (areas/_picker.html) above its own form, or its fields into its own
GET form, and fills its community select with `Picked.communities`."""

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from neighbors.areas import services as areas


class AreaPickerForm(FlaskForm):
    """The narrowing steps, read from the query string."""

    class Meta:
        csrf = False

    district = SelectField(_l("District"), validators=[Optional()], choices=[])
    street = SelectField(_l("Street"), validators=[Optional()], choices=[])
    community_name = StringField(
        _l("Community name"),
        validators=[Optional(), Length(max=50)],
        description=_l("Or type part of its name, such as 文安."),
    )


@dataclass
class Picked:
    """What the steps chose, and the communities they leave to choose from."""

    district: str | None
    street: str | None
    name: str | None
    # SelectChoice options grouped by street (optgroup): at most one street's, or the matches.
    communities: list

    @property
    def narrowed(self):
        return bool(self.street or self.name)


def narrow(args, form=None, community=None):
    """Read district, street and community_name from `args` (a request's query string) and the
    chosen community (which implies its street and district); fill the picker fields of
    `form` (an AreaPickerForm, or any form with such fields) and return Picked."""
    district = (args.get("district") or "").strip()[:32] or None
    street = (args.get("street") or "").strip()[:32] or None
    name = (args.get("community_name") or "").strip()[:50] or None
    if community and not street:
        district, street = areas.parents_of(community_code=community)
    elif street and not district:
        district = areas.parents_of(street_code=street)[0]
    streets = areas.street_choices(district) if district else []
    if street and street not in {code for code, _name in streets}:
        street = None  # a street of another district: the district was changed
    if name:
        groups = areas.community_choices(text=name)
    elif street:
        groups = areas.community_choices(street_code=street)
    elif community:
        groups = areas.community_choices(community_code=community)
    else:
        groups = {}
    if form is not None:
        form.district.choices = [SelectChoice("", _("Choose a district"))] + [
            SelectChoice(code, label) for code, label in areas.district_choices()
        ]
        form.street.choices = [
            SelectChoice("", _("Choose a street") if district else _("Choose a district first"))
        ] + [SelectChoice(code, label) for code, label in streets]
        form.district.data, form.street.data = district or "", street or ""
    options = [
        SelectChoice(code, label, optgroup=street_name)
        for street_name, communities in groups.items()
        for code, label in communities
    ]
    return Picked(district, street, name, options)
