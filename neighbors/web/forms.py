"""Form helpers shared by every feature's views."""

import hashlib
import json
import re
import secrets

import wtforms
from flask import request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice

from neighbors.core.errors import DomainError
from neighbors.core.timezone import local_today


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
