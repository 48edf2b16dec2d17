"""Party forms: shape only; the services check the rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


class PartyForm(FlaskForm):
    branch = StringField(_l("Party branch"), validators=[DataRequired(), Length(max=200)])
    work_unit = StringField(_l("Work unit"), validators=[DataRequired(), Length(max=200)])
    community = SelectField(_l("Community you report to"), validators=[DataRequired()], choices=[])
    grid = SelectField(_l("Grid"), validators=[Optional()], choices=[])
    reported_on = DateField(_l("Report-in date"), validators=[InputRequired()])
