"""The audit log's filters, read from the query string; giving a person a role."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from neighbors.events.forms import plausible_year
from neighbors.web.forms import IntegerField


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = StringField(
        _l("Action"),
        validators=[Optional(), Length(max=60)],
        description=_l('Exact ("account.login") or everything under a prefix ("ledger.").'),
    )
    actor = IntegerField(_l("Actor (user id)"), validators=[Optional(), NumberRange(1, 2**31 - 1)])
    object_type = StringField(_l("Object type"), validators=[Optional(), Length(max=40)])
    object_id = StringField(_l("Object id"), validators=[Optional(), Length(max=40)])
    date_from = DateField(_l("From"), validators=[Optional(), plausible_year])
    date_to = DateField(_l("To"), validators=[Optional(), plausible_year])


class GrantForm(FlaskForm):
    role = SelectField(_l("Role"), validators=[DataRequired()], choices=[])
    kind = SelectField(
        _l("For staff: where"),
        choices=[
            SelectChoice("", "—"),
            SelectChoice("community", _l("A community")),
            SelectChoice("street", _l("A street")),
            SelectChoice("district", _l("A district")),
        ],
        validators=[Optional()],
    )
    code = StringField(_l("Its code"), validators=[Optional(), Length(max=32)])
