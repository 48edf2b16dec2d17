"""Form helpers shared by every feature's views."""

import re

import wtforms
from flask import request
from wtforms import SelectChoice

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


def show_error(form, error: DomainError):
    """Put a service's error on the fields it names, or on the form as a whole."""
    placed = False
    for name, message in error.fields.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]
            placed = True
    if not placed:
        form.form_errors.append(error.message)
