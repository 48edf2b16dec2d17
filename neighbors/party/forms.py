"""Party forms: shape only; the services check the rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from neighbors.web.forms import IntegerField


class PartyForm(FlaskForm):
    branch = StringField(_l("Party branch"), validators=[DataRequired(), Length(max=200)])
    work_unit = StringField(_l("Work unit"), validators=[DataRequired(), Length(max=200)])
    community = SelectField(_l("Community you report to"), validators=[DataRequired()], choices=[])
    grid = SelectField(_l("Grid"), validators=[Optional()], choices=[])
    reported_on = DateField(_l("Report-in date"), validators=[InputRequired()])


class PostForm(FlaskForm):
    community = SelectField(_l("Community"), validators=[DataRequired()], choices=[])
    name = StringField(_l("Project or post"), validators=[DataRequired(), Length(max=200)])
    people_needed = IntegerField(
        _l("People it needs"), validators=[InputRequired(), NumberRange(min=1, max=1000)]
    )
    description = TextAreaField(_l("What it involves"), validators=[Optional(), Length(max=2000)])


class OrganisationReportForm(FlaskForm):
    """The posts' fields (`post-<id>`) are read by the view: they depend on the community."""

    community = HiddenField(validators=[DataRequired()])
    starts_on = DateField(_l("Agreement from"), validators=[InputRequired()])
    ends_on = DateField(_l("Agreement until"), validators=[InputRequired()])
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=100)])
    contact_email = StringField(
        _l("Contact's e-mail address"), validators=[DataRequired(), Length(max=254)]
    )
    contact_phone = StringField(_l("Contact telephone"), validators=[Optional(), Length(max=30)])
