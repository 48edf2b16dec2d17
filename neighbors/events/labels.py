"""Translatable names of the lines of work and of event and sign-up states."""

from flask_babel import lazy_gettext as _l

from neighbors.events.models import Category, EventStatus, SignupStatus

CATEGORY_LABELS = {
    Category.PARTY_BUILDING: _l("Party building"),
    Category.WARMTH: _l("Warmth: care for the old, sick and disabled"),
    Category.TECHNOLOGY: _l("Technology"),
    Category.SOCIETY: _l("Society"),
    Category.HARMONY: _l("Harmony: mediation and safety"),
    Category.CULTURE: _l("Culture"),
}
STATUS_LABELS = {
    EventStatus.DRAFT: _l("Draft"),
    EventStatus.PUBLISHED: _l("Published"),
    EventStatus.CANCELLED: _l("Cancelled"),
    EventStatus.COMPLETED: _l("Completed"),
    SignupStatus.CONFIRMED: _l("Confirmed"),
    SignupStatus.WAITLISTED: _l("On the waitlist"),
}
