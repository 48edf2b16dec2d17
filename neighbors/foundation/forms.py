"""Foundation forms: shape only; the services check the rules."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from neighbors.events.forms import plausible_year
from neighbors.foundation.labels import CHANNELS, DONOR_KINDS
from neighbors.foundation.ledger import LIMIT
from neighbors.web.forms import DecimalField, IntegerField, OnceForm

# Decimal bounds: as a float, 999999999999.99 is a hair less than itself.
_money = [
    InputRequired(),
    NumberRange(
        min=Decimal("0.01"),
        max=LIMIT,
        message=_l("Enter an amount from 0.01 to 100,000,000.00 yuan."),
    ),
]


class FundForm(OnceForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Fund name"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("unrestricted", _l("Unrestricted")),
            SelectChoice("restricted", _l("Restricted (purpose or time)")),
            SelectChoice("custodial", _l("Custodial (for a named beneficiary)")),
        ],
    )
    purpose = TextAreaField(_l("Purpose"), validators=[Optional(), Length(max=500)])
    beneficiary_name = StringField(
        _l("Held for (custodial funds: the beneficiary's name)"),
        validators=[Optional(), Length(max=100)],
    )
    beneficiary_id_number = StringField(
        _l("The beneficiary's ID number"), validators=[Optional(), Length(max=18)]
    )
    starts_on = DateField(_l("From"), validators=[Optional(), plausible_year])
    ends_on = DateField(
        _l("Until (after this day it takes and pays nothing; what is left is released)"),
        validators=[Optional(), plausible_year],
    )
    opening_balance = DecimalField(
        _l("Opening balance (yuan)"),
        places=2,
        default=0,
        validators=[
            Optional(),
            NumberRange(
                min=0, max=LIMIT, message=_l("Enter an amount from 0 to 100,000,000.00 yuan.")
            ),
        ],
    )


class DonationForm(OnceForm):
    fund = SelectField(_l("Fund"), validators=[DataRequired()], choices=[])
    amount = DecimalField(_l("Amount (yuan)"), places=2, validators=_money)
    received_on = DateField(_l("Received on"), validators=[InputRequired(), plausible_year])
    donor_kind = SelectField(
        _l("Donor"),
        choices=[SelectChoice(code, label) for code, label in DONOR_KINDS.items()],
    )
    donor_name = StringField(_l("Donor's name"), validators=[Optional(), Length(max=200)])
    anonymous = BooleanField(_l("Anonymous donation"))
    publish_consent = BooleanField(_l("The donor agrees to have their name published"))
    channel = SelectField(
        _l("Channel"),
        choices=[SelectChoice(code, label) for code, label in CHANNELS.items()],
    )
    receipt_code = StringField(_l("Official receipt code"), validators=[Optional(), Length(max=40)])
    receipt_number = StringField(
        _l("Official receipt number"), validators=[Optional(), Length(max=40)]
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])


class SubsidyForm(OnceForm):
    fund = SelectField(_l("Fund"), validators=[DataRequired()], choices=[])
    amount = DecimalField(_l("Amount (yuan)"), places=2, validators=_money)
    beneficiary_name = StringField(
        _l("Beneficiary's name"), validators=[DataRequired(), Length(max=100)]
    )
    id_number = StringField(_l("ID number"), validators=[Optional(), Length(max=18)])
    phone = StringField(_l("Mobile number"), validators=[Optional(), Length(max=20)])
    category = StringField(_l("Hardship category"), validators=[Optional(), Length(max=100)])
    household_size = IntegerField(
        _l("Household size"), default=1, validators=[InputRequired(), NumberRange(min=1, max=30)]
    )
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    related_party = BooleanField(_l("Related party (needs a second approver)"))


class ReversalForm(OnceForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
