"""Form helpers shared by every feature's views."""

import hashlib
import json
import re
import secrets

import wtforms
from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import HiddenField, SelectChoice

from neighbors.core.errors import DomainError
from neighbors.core.timezone import local_today

# WTForms' own messages ("Field must be between 8 and 128 characters long.", in Chinese
# "字段长度必须介于 8 到 128 个字符之间") said plainly, in both languages. The placeholders stay:
# WTForms fills them in after translating.
_AT_LEAST = _l("Please use at least %(min)d characters.")
_AT_MOST = _l("Please use at most %(max)d characters.")
_EXACTLY = _l("Please use exactly %(max)d characters.")
_CHOOSE = _l("Please choose one from the list.")
PLAIN_MESSAGES = {
    "This field is required.": _l("Please fill this in."),
    "Field must be between %(min)d and %(max)d characters long.": _l(
        "Please use %(min)d to %(max)d characters."
    ),
    "Field must be at least %(min)d character long.": _AT_LEAST,
    "Field must be at least %(min)d characters long.": _AT_LEAST,
    "Field cannot be longer than %(max)d character.": _AT_MOST,
    "Field cannot be longer than %(max)d characters.": _AT_MOST,
    "Field must be exactly %(max)d character long.": _EXACTLY,
    "Field must be exactly %(max)d characters long.": _EXACTLY,
    "Invalid email address.": _l(
        "This does not look like an e-mail address; it looks like name@example.com."
    ),
    "Not a valid integer value.": _l("Please enter a whole number, such as 12."),
    "Not a valid decimal value.": _l("Please enter an amount, such as 120.50."),
    "Not a valid float value.": _l("Please enter a number, such as 1.5."),
    "Not a valid date value.": _l("Please enter a date, such as 2026-12-02."),
    "Not a valid datetime value.": _l("Please enter a date and a time, such as 2026-12-02 09:30."),
    "Not a valid time value.": _l("Please enter a time, such as 09:30."),
    "Number must be between %(min)s and %(max)s.": _l(
        "Please enter a number from %(min)s to %(max)s."
    ),
    "Number must be at least %(min)s.": _l("Please enter %(min)s or more."),
    "Number must be at most %(max)s.": _l("Please enter %(max)s or less."),
    "Not a valid choice.": _CHOOSE,
    "'%(value)s' is not a valid choice for this field.": _CHOOSE,
    "'%(value)s' are not valid choices for this field.": _CHOOSE,
    "Invalid Choice: could not coerce.": _CHOOSE,
    "Invalid choice(s): one or more data inputs could not be coerced.": _CHOOSE,
    "Field must be equal to %(other_name)s.": _l("The two entries are not the same."),
    "Invalid input.": _l("Please check what you entered here."),
}


class PlainMessages:
    """WTForms' translations: our plain sentences where we have one, else WTForms' own."""

    def gettext(self, string):
        plain = PLAIN_MESSAGES.get(string)
        return str(plain) if plain is not None else wtforms_translations.gettext(string)

    def ngettext(self, singular, plural, n):
        plain = PLAIN_MESSAGES.get(singular if n == 1 else plural)
        if plain is not None:
            return str(plain)
        return wtforms_translations.ngettext(singular, plural, n)


def _plain_translations(self, form):
    return PlainMessages()


# Every form of the app (and of the features still to come) inherits FlaskForm's Meta.
FlaskForm.Meta.get_translations = _plain_translations


class IntegerField(wtforms.IntegerField):
    """An IntegerField that takes a number beyond 64 bits for what it is: not a valid integer.
    (NumberRange checks for NaN through float(), which overflows at 309 digits: a 500.)"""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if valuelist and self.data is not None and not -(2**63) <= self.data < 2**63:
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))


class DecimalField(wtforms.DecimalField):
    """A DecimalField for finite numbers only: NaN and Infinity are no amount, and a signalling
    NaN ("sNaN") even breaks NumberRange, which would answer a 500."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if valuelist and self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))


def year_arg():
    """The ?year= of the request, from 2000 to this year (the display zone's), else this year."""
    this_year = local_today().year
    year = request.args.get("year", "")
    if re.fullmatch(r"[0-9]{4}", year) and 2000 <= int(year) <= this_year:
        return int(year)
    return this_year


def options(pairs, blank=None):
    """Select options from (value, label) pairs, optionally after a blank "all/none" option."""
    choices = [SelectChoice("", blank)] if blank is not None else []
    return choices + [SelectChoice(str(value), label) for value, label in pairs]


def communities_by_street(groups):
    """Community options grouped by street, from {street name: [(code, name), ...]}."""
    return [
        SelectChoice(code, name, optgroup=street)
        for street, communities in groups.items()
        for code, name in communities
    ]


def grid_choices(grids):
    """A community's grids for a select box, with "No grid" first."""
    return options(((grid.code, grid.name) for grid in grids), blank=_("No grid"))


def show_error(form, error: DomainError):
    """Put a service's error on the fields it names, or on the form as a whole."""
    placed = False
    for name, message in error.fields.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]
            placed = True
    if not placed:
        form.form_errors.append(error.message)


def new_form_token():
    """A one-time token for a form that posts money (see OnceForm)."""
    return secrets.token_urlsafe(16)


def once_key(token, body):
    """The idempotency (key, fingerprint) of a page's post: the form's one-time token, and the
    values it sent. None without a token (a client that sends none is not protected)."""
    token = (token or "").strip()
    if not token:
        return None
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return f"form:{token}"[:100], hashlib.sha256(canonical.encode()).hexdigest()


class OnceForm(FlaskForm):
    """A form that posts money. It carries a one-time token made when the page is shown, used
    as the Idempotency-Key of the API: the same form sent twice (a double click, a reload, a
    flaky connection) posts once, and the second answer shows the first result."""

    once = HiddenField(default=new_form_token)

    def idempotency(self):
        body = {
            name: "" if field.data is None else str(field.data)
            for name, field in self._fields.items()
            if name not in ("csrf_token", "once")
        }
        return once_key(self.once.data, body)

    def renew(self):
        """A new token, for a form shown again after its token was spent on other values."""
        self.once.data = new_form_token()
        self.once.raw_data = None
