"""Mutual aid forms: shape only; the services check the rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from neighbors.web.forms import DecimalField, IntegerField


class WishForm(FlaskForm):
    title = StringField(_l("What is wished for"), validators=[DataRequired(), Length(max=100)])
    description = TextAreaField(_l("A few words about it"), validators=[Length(max=1000)])
    category = SelectField(_l("Category"), validators=[DataRequired()], choices=[])
    value_cap = DecimalField(
        _l("Value at most (yuan)"), places=2, validators=[InputRequired(), NumberRange(min=0)]
    )
    community = SelectField(_l("Community"), validators=[Optional()], choices=[])
    # Staff only: the person the wish is for, by phone or volunteer number.
    person = StringField(
        _l("For a resident (phone or volunteer number)"),
        validators=[Optional(), Length(max=254)],
        description=_l("Leave empty to post a wish for yourself."),
    )


class FulfilForm(FlaskForm):
    note = TextAreaField(
        _l("How the wish came true"), validators=[DataRequired(), Length(max=1000)]
    )


class ConfirmWishForm(FlaskForm):
    minutes = IntegerField(
        _l("Minutes of service"), validators=[InputRequired(), NumberRange(min=1, max=1440)]
    )


class ItemForm(FlaskForm):
    community = SelectField(_l("Community"), validators=[DataRequired()], choices=[])
    name = StringField(_l("Item"), validators=[DataRequired(), Length(max=100)])
    points = IntegerField(_l("Price in points"), validators=[InputRequired(), NumberRange(min=1)])
    stock = IntegerField(_l("Stock"), validators=[InputRequired(), NumberRange(min=0)])


class StockForm(FlaskForm):
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200)])


class RedeemForm(FlaskForm):
    user_id = IntegerField(validators=[InputRequired()])
    item = SelectField(_l("Item"), validators=[DataRequired()], choices=[])
    quantity = IntegerField(
        _l("Quantity"), default=1, validators=[InputRequired(), NumberRange(min=1, max=100)]
    )


class ReverseForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200)])


class PhotoForm(FlaskForm):
    photo = FileField(
        _l("A photo of the wish come true"),
        validators=[FileRequired()],
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
        description=_l("JPEG, PNG or WebP. Where it was taken is removed; the wall shows it only "
                       "if the person the wish was for agrees."),
    )  # fmt: skip
