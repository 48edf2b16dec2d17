"""Account forms. They check shape only; the services check the rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TelField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from neighbors.accounts.services import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    normalize_email,
    normalize_phone,
)
from neighbors.core.errors import Invalid


def _shape(normalize):
    """The service's own shape check, run with the other fields' on the first submit."""

    def check(_form, field):
        try:
            normalize(field.data)
        except Invalid as error:
            raise ValidationError(error.message) from None

    return check


_password = [InputRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)]


class RegisterForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(
        _l("E-mail address"), validators=[Optional(), Length(max=254), _shape(normalize_email)]
    )
    phone = TelField(
        _l("Mobile number"), validators=[Optional(), Length(max=20), _shape(normalize_phone)]
    )
    password = PasswordField(_l("Password"), validators=_password)
    confirm = PasswordField(
        _l("Password again"),
        validators=[InputRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    community = SelectField(
        _l("Home community"),
        validators=[DataRequired(message=_l("Please choose your community."))],
        choices=[],
    )
    consent = BooleanField(
        _l("I have read and agree to the privacy notice"),
        validators=[DataRequired(message=_l("Please tick the box to agree to the notice."))],
    )


class LoginForm(FlaskForm):
    login = StringField(
        _l("E-mail address or mobile number"), validators=[DataRequired(), Length(max=254)]
    )
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=PASSWORD_MAX)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class CodeForm(FlaskForm):
    """A mobile number and the code sent to it; `send` asks for a code, `confirm` uses it."""

    phone = TelField(_l("Mobile number"), validators=[Optional(), Length(max=20)])
    code = StringField(
        _l("Code from the SMS"),
        validators=[Optional(), Length(max=6)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    # Asked by the service only when a new number replaces the one verified before.
    current_password = PasswordField(
        _l("Current password"),
        validators=[Optional(), Length(max=PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )
    send = SubmitField(_l("Send me a code"))
    confirm = SubmitField(_l("Confirm"))


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(
        _l("E-mail address"), validators=[Optional(), Length(max=254), _shape(normalize_email)]
    )
    phone = TelField(
        _l("New mobile number"), validators=[Optional(), Length(max=20), _shape(normalize_phone)]
    )
    community = SelectField(_l("Home community"), validators=[DataRequired()], choices=[])
    grid = SelectField(_l("Grid"), validators=[Optional()], choices=[])
    locale = SelectField(_l("Language"), validators=[Optional()], choices=[])
    channel = SelectField(
        _l("Tell me by"),
        validators=[Optional()],
        choices=[
            SelectChoice("", _l("E-mail, or SMS when I have no e-mail address")),
            SelectChoice("email", _l("E-mail")),
            SelectChoice("sms", _l("SMS")),
            SelectChoice("both", _l("E-mail and SMS")),
        ],
    )
    # Asked by the service only when the e-mail address or the phone number changes.
    current_password = PasswordField(
        _l("Current password"),
        validators=[Optional(), Length(max=PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[InputRequired(), Length(max=PASSWORD_MAX)]
    )
    new_password = PasswordField(_l("New password"), validators=_password)
    confirm = PasswordField(
        _l("New password again"),
        validators=[InputRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


class InvitationForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=_password)
    confirm = PasswordField(
        _l("Password again"),
        validators=[InputRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class IdentityForm(FlaskForm):
    """What the national volunteer service system asks; every field may stay empty."""

    id_type = SelectField(_l("ID document"), choices=[], validate_choice=False)
    id_number = StringField(
        _l("ID number"),
        validators=[Optional(), Length(max=30)],
        description=_l("Leave empty to keep the number you recorded; it is never shown in full."),
        render_kw={"autocomplete": "off"},
    )
    gender = SelectField(_l("Gender"), choices=[], validate_choice=False)
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    national_number = StringField(
        _l("National volunteer number"), validators=[Optional(), Length(max=40)]
    )
    guardian_name = StringField(_l("Guardian's name"), validators=[Optional(), Length(max=100)])
    guardian_phone = StringField(
        _l("Guardian's mobile number"), validators=[Optional(), Length(max=20)]
    )
    guardian_consent_on = DateField(_l("Date the guardian agreed"), validators=[Optional()])
