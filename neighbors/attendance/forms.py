"""Attendance forms: shape only; the services check the rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class CheckinForm(FlaskForm):
    code = StringField(_l("Check-in code"), validators=[DataRequired(), Length(max=12)])


class WalkInForm(FlaskForm):
    login = StringField(
        _l("E-mail address or mobile number"), validators=[DataRequired(), Length(max=254)]
    )
