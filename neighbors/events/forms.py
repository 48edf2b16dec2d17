"""Event forms: shape only (lengths, types); the services check the rules."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from neighbors.core.timezone import from_local
from neighbors.events.lifecycle import MAX_CAPACITY, MAX_SERIES
from neighbors.stations import services as stations
from neighbors.web.forms import IntegerField

_time = "%Y-%m-%dT%H:%M"


def plausible_year(form, field):
    """Dates this platform deals in: the years 2000 to 2099."""
    if field.data and not 2000 <= field.data.year <= 2099:
        raise ValidationError(_l("Enter a date between the years 2000 and 2099."))


class EventForm(FlaskForm):
    community = SelectField(_l("Community"), validators=[DataRequired()], choices=[])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    category = SelectField(_l("Line of work"), validators=[DataRequired()], choices=[])
    venue = StringField(_l("Venue"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    starts_at = DateTimeLocalField(
        _l("Starts"), format=_time, validators=[InputRequired(), plausible_year]
    )
    ends_at = DateTimeLocalField(
        _l("Ends"), format=_time, validators=[InputRequired(), plausible_year]
    )
    capacity = IntegerField(
        _l("Places"), validators=[InputRequired(), NumberRange(min=1, max=MAX_CAPACITY)]
    )
    signup_opens_at = DateTimeLocalField(
        _l("Sign-up opens"), format=_time, validators=[Optional(), plausible_year]
    )
    signup_closes_at = DateTimeLocalField(
        _l("Sign-up closes"), format=_time, validators=[Optional(), plausible_year]
    )
    cancel_cutoff_at = DateTimeLocalField(
        _l("Cancelling possible until"), format=_time, validators=[Optional(), plausible_year]
    )
    dedication_day = BooleanField(_l("Party Member Community Dedication Day"))
    room = SelectField(
        _l("Room at a station"),
        validators=[Optional()],
        choices=[],
        description=_l("Optional. A room holds one event at a time, for at most its places."),
    )

    def values(self):
        """The event's fields for the services, local times made aware (UTC)."""
        fields = ("title", "category", "venue", "description", "capacity", "dedication_day")
        values = {name: self[name].data for name in fields}
        for name in (
            "starts_at",
            "ends_at",
            "signup_opens_at",
            "signup_closes_at",
            "cancel_cutoff_at",
        ):
            values[name] = from_local(self[name].data)
        values["room_id"] = int(self.room.data) if self.room.data else None
        return values


def room_options(community_ids):
    """No room, then the rooms of the stations serving these communities, by station."""
    return [SelectChoice("", _("No room"))] + [
        SelectChoice(str(room_id), label, optgroup=station)
        for station, rooms in stations.room_choices(community_ids).items()
        for room_id, label in rooms
    ]


class SeriesForm(EventForm):
    frequency = SelectField(
        _l("Repeats"),
        choices=[
            SelectChoice("monthly", _l("Every month")),
            SelectChoice("weekly", _l("Every week")),
        ],
        validators=[DataRequired()],
    )
    count = IntegerField(
        _l("Number of events"), validators=[InputRequired(), NumberRange(min=2, max=MAX_SERIES)]
    )


class CancelEventForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class MessageForm(FlaskForm):
    text = TextAreaField(
        _l("Message to everyone confirmed"), validators=[DataRequired(), Length(max=300)]
    )


class EventFilterForm(FlaskForm):
    """The public list's filters, read from the query string."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    category = SelectField(_l("Line of work"), validators=[Optional()], choices=[])
    # District, then street, then community, each narrowed by "Show events" (areas.picker).
    district = SelectField(_l("District"), validators=[Optional()], choices=[])
    street = SelectField(_l("Street"), validators=[Optional()], choices=[])
    community_name = StringField(
        _l("Community name"),
        validators=[Optional(), Length(max=50)],
        description=_l("Or type part of its name, such as 文安."),
    )
    community = SelectField(
        _l("Community"),
        validators=[Optional()],
        choices=[],
        description=_l(
            "Choose a district and a street (or type a name) and show events: "
            "the communities are listed here."
        ),
    )
    date_from = DateField(_l("From"), validators=[Optional(), plausible_year])
    date_to = DateField(_l("To"), validators=[Optional(), plausible_year])
