"""Organisation forms: shape only; the services check the rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), validators=[DataRequired()], choices=[])
    community = SelectField(_l("Community"), validators=[DataRequired()], choices=[])
    credit_code = StringField(
        _l("Unified social credit code"), validators=[Optional(), Length(max=18)]
    )
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=100)])
    contact_phone = StringField(_l("Contact telephone"), validators=[Optional(), Length(max=30)])
    description = TextAreaField(_l("What it does"), validators=[Optional(), Length(max=2000)])


class MemberForm(FlaskForm):
    login = StringField(
        _l("E-mail address or mobile number"), validators=[DataRequired(), Length(max=254)]
    )
    role = SelectField(_l("Role"), validators=[DataRequired()], choices=[])
