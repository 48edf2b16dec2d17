"""Service hours forms: shape only; the services check the rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from neighbors.events.forms import plausible_year
from neighbors.web.forms import IntegerField


class DurationMixin:
    hours = IntegerField(_l("Hours"), validators=[InputRequired(), NumberRange(min=0, max=24)])
    minutes = IntegerField(
        _l("Minutes"), default=0, validators=[Optional(), NumberRange(min=0, max=59)]
    )

    def total_minutes(self):
        return (self.hours.data or 0) * 60 + (self.minutes.data or 0)


class ServiceForm(DurationMixin, FlaskForm):
    activity = StringField(_l("What you did"), validators=[DataRequired(), Length(max=200)])
    place = StringField(_l("Where"), validators=[DataRequired(), Length(max=200)])
    organiser = StringField(_l("Organiser"), validators=[DataRequired(), Length(max=200)])
    served_on = DateField(_l("Date"), validators=[InputRequired(), plausible_year])


class CorrectionForm(DurationMixin, FlaskForm):
    reason = TextAreaField(
        _l("Why it should be corrected"), validators=[DataRequired(), Length(max=500)]
    )


class CertificateForm(FlaskForm):
    period_from = DateField(_l("From"), validators=[InputRequired(), plausible_year])
    period_to = DateField(_l("To"), validators=[InputRequired(), plausible_year])
    # Shown only when one's service was recorded by more than one community or organisation.
    issuer = SelectField(_l("Issued by"), choices=[], validate_choice=False)


class IssuerForm(FlaskForm):
    responsible = StringField(
        _l("Responsible person (负责人)"), validators=[DataRequired(), Length(max=100)]
    )
    handler = StringField(_l("Handler (经办人)"), validators=[Optional(), Length(max=100)])
    contact = StringField(
        _l("Contact (telephone or address)"), validators=[Optional(), Length(max=200)]
    )


class NationalExportForm(FlaskForm):
    issuer = SelectField(_l("Community or organisation"), choices=[], validate_choice=False)
    period_from = DateField(_l("From"), validators=[InputRequired(), plausible_year])
    period_to = DateField(_l("To"), validators=[InputRequired(), plausible_year])
    only_new = BooleanField(_l("Only service not exported before"))
