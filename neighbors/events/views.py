"""Event pages: the public list and detail, sign-up, calendars, and staff pages."""

from datetime import date, datetime, time, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from neighbors.areas.picker import narrow
from neighbors.core import cache, i18n
from neighbors.core.errors import DomainError, NotFound
from neighbors.core.exports import ICALENDAR, download
from neighbors.core.links import absolute_url
from neighbors.core.permissions import Role
from neighbors.core.replicas import reads_from_replica
from neighbors.core.timezone import from_local, local_today, to_local
from neighbors.events import calendar
from neighbors.events import services as events
from neighbors.events.forms import (
    CancelEventForm,
    EventFilterForm,
    EventForm,
    MessageForm,
    SeriesForm,
    room_options,
)
from neighbors.events.labels import CATEGORY_LABELS, STATUS_LABELS
from neighbors.events.models import Category, Reply, SignupStatus
from neighbors.web import role_required
from neighbors.web import timespan as _timespan
from neighbors.web.forms import options, show_error

bp = Blueprint("events", __name__, template_folder="templates")


def timespan(event):
    return _timespan(event.starts_at, event.ends_at)


@bp.app_context_processor
def inject_labels():
    return {
        "Category": Category,
        "category_label": lambda code: CATEGORY_LABELS[Category(code)],
        "event_status_label": lambda code: STATUS_LABELS[code],
        "local": to_local,
    }


# -- everyone ----------------------------------------------------------------------------------


@bp.get("/events")
@reads_from_replica
def list_events():
    """The public list: its content is the same for everyone with the same filter and language,
    kept a few seconds (PAGE_CACHE_SECONDS); the page around it is the person's own."""
    # Every input of the content is in the key: the language, the query string, and today (the
    # list starts today unless a date is chosen).
    body = cache.for_query("events.list", request.args, _list_body, local_today())
    return render_template("events/list.html", body=body)


def _list_body():
    form = EventFilterForm(request.args)
    form.category.choices = options(CATEGORY_LABELS.items(), blank=_("All"))
    # A city has 955 communities: the list offers those of the chosen street, or those whose
    # name matches, after the district and street are chosen (no JavaScript needed).
    picked = narrow(request.args, form, community=request.args.get("community") or None)
    form.street.choices[0] = SelectChoice("", _("All"))
    form.district.choices[0] = SelectChoice("", _("All"))
    form.community.choices = options([], blank=_("All")) + picked.communities
    form.validate()
    today = datetime.combine(local_today(), time.min)
    filters = events.EventFilter(
        community=form.community.data or None,
        street=form.street.data or None,
        district=form.district.data or None,
        category=form.category.data or None,
        # A search the form refused (too long: SQLite refuses such a LIKE) is left out.
        text=None if form.q.errors else (form.q.data or "").strip() or None,
        starts_from=from_local(datetime.combine(form.date_from.data, time.min))
        if form.date_from.data and not form.date_from.errors
        else from_local(today),
        starts_before=from_local(datetime.combine(form.date_to.data, time.min) + timedelta(1))
        if form.date_to.data and not form.date_to.errors
        else None,
    )
    page, next_cursor = events.list_events(filters, cursor=request.args.get("cursor"))
    args = {k: v for k, v in request.args.items() if k != "cursor"}
    return render_template(
        "events/_list_body.html", form=form, events=page, next_cursor=next_cursor, args=args
    )


@bp.get("/events/<int:event_id>")
def show_event(event_id):
    event = events.get_event(event_id, current_user)  # exact: its places, who may see it
    signup, position = events.my_signup(current_user, event)
    head, tail = _public_part(event)
    return render_template(
        "events/detail.html",
        public_head=head,
        public_tail=tail,
        event=event,
        signup=signup,
        position=position,
        can_manage=events.manages(current_user, event),
        messages=events.messages_for(current_user, event),
    )


def _public_part(event):
    """The event page's part that is the same for everyone (but its places), rendered once for
    every version of what it shows: an edit shows at once, and nobody's own state is in it."""
    room = event.room
    shown = (
        *(event.title, event.category, event.dedication_day, event.status, event.starts_at),
        *(event.ends_at, event.community.name, event.venue, event.signup_closes_at),
        *(event.cancel_reason, event.description),
        (room.name, room.station.code, room.station.name) if room else None,
    )
    key = ("events.public", event.id, str(i18n.locale()), shown)
    part = cache.fragment(key, lambda: render_template("events/_public.html", event=event))
    head, _marker, tail = part.partition(PLACES)  # Markup's partition keeps both Markup
    return head, tail


PLACES = "<!--places-->"


@bp.get("/events/<int:event_id>.ics")
def event_ics(event_id):
    event = events.get_event(event_id, current_user)
    return _ics([event], event.title, f"event-{event.id}.ics")


@bp.post("/events/<int:event_id>/signup")
@login_required
def sign_up(event_id):
    signup, created, _position = events.sign_up(current_user, event_id)
    if not created:
        flash(_("You are already signed up for this event."), "success")
    elif signup.status == SignupStatus.CONFIRMED:
        flash(_("You are in. See you there!"), "success")
    else:
        flash(
            _(
                "The event is full; you are on the waitlist. We will e-mail you if a place "
                "becomes free."
            ),
            "success",
        )
    return redirect(url_for("events.show_event", event_id=event_id))


@bp.route("/events/<int:event_id>/cancel-signup", methods=["GET", "POST"])
@login_required
def cancel_signup(event_id):
    """GET asks first and says where the place goes; POST cancels."""
    if request.method == "GET":
        event = events.get_event(event_id, current_user)
        signup, position = events.my_signup(current_user, event)
        if signup is None:
            raise NotFound(_("You are not signed up for this event."), code="not_signed_up")
        if signup.status != SignupStatus.CONFIRMED:
            consequence = _(
                "You leave the waitlist, where you are number %(n)s. If you join again, you "
                "start at the end.",
                n=position,
            )
        elif event.waitlist_count:
            consequence = _(
                "Your place goes to the next person on the waitlist straight away. If you "
                "join again, you start at the end of the waitlist."
            )
        else:
            consequence = _("Your place becomes free for someone else.")
        back = url_for("events.show_event", event_id=event_id)
        return render_template(
            "confirm.html",
            title=_("Cancel my sign-up"),
            details=[(_("Event"), event.title), (_("When"), timespan(event))],
            question=_("Cancel your sign-up for %(title)s?", title=event.title),
            consequence=consequence,
            action=url_for("events.cancel_signup", event_id=event_id),
            yes=_("Yes, cancel my sign-up"),
            back_url=back,
            back_label=_("No, keep my place"),
        )
    events.cancel_signup(current_user, event_id)
    flash(_("Your sign-up is cancelled."), "success")
    return redirect(url_for("events.show_event", event_id=event_id))


@bp.route("/reply/<token>", methods=["GET", "POST"])
def reply_to_reminder(token):
    """A reminder's link: the page asks to confirm (a link opened by a mail scanner changes
    nothing), the button answers, without signing in."""
    signup, answer = events.read_reply(token)
    if request.method == "POST":
        signup, answer = events.answer_reminder(token)
        if answer == Reply.COMING:
            flash(_("Thank you: we are expecting you."), "success")
        else:
            flash(_("Thank you for telling us: your place has gone to the next person."), "success")
        return redirect(url_for("events.show_event", event_id=signup.event_id))
    return render_template("events/reply.html", signup=signup, answer=answer, event=signup.event)


@bp.route("/my/calendar", methods=["GET", "POST"])
@login_required
def my_calendar():
    """Put my events in my phone's calendar: a webcal:// link to tap, the address to copy,
    short steps per phone. A new address (the old one stops working) asks first."""
    if request.method == "GET" and request.args.get("renew"):
        return render_template(
            "confirm.html",
            title=_("A new calendar address"),
            question=_("Make a new address?"),
            consequence=_(
                "The address you have now stops working at once: calendars that use it stop "
                "showing your events until you add the new one. Do this only if someone else "
                "may have your address."
            ),
            action=url_for("events.my_calendar"),
            yes=_("Yes, make a new address"),
            back_url=url_for("events.my_calendar"),
            back_label=_("No, keep my address"),
        )
    token = events.calendar_feed(current_user, renew=request.method == "POST")
    if request.method == "POST":
        flash(
            _(
                "You have a new calendar address; the old one no longer works. Add the new "
                "one to your calendar."
            ),
            "success",
        )
        return redirect(url_for("events.my_calendar"))
    feed = absolute_url("events.calendar_feed", token=token)
    webcal = "webcal://" + feed.split("://", 1)[1]
    return render_template("events/calendar.html", feed=feed, webcal=webcal)


@bp.get("/calendar/<token>.ics")
def calendar_feed(token):
    return _ics(events.feed_events(token), _("My volunteer service"), "neighbors.ics")


def _ics(items, name, filename):
    return download(calendar.to_ical(items, name), ICALENDAR, filename, inline=True)


@bp.get("/stations/<code>")
def show_station(code):
    """A station and what happens in its rooms this week (or the week of ?week=YYYY-MM-DD),
    day by day: printable for the notice board."""
    try:
        day = date.fromisoformat(request.args.get("week", ""))
        if not 2000 <= day.year <= 2099:
            raise ValueError("out of range")
    except ValueError:
        day = local_today()
    monday = day - timedelta(days=day.weekday())
    station, found = events.station_week(code, from_local(datetime.combine(monday, time.min)))
    days = [monday + timedelta(days=n) for n in range(7)]
    by_day = {d: [e for e in found if to_local(e.starts_at).date() == d] for d in days}
    return render_template(
        "events/station.html",
        station=station,
        days=days,
        by_day=by_day,
        previous_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
        this_week=monday == local_today() - timedelta(days=local_today().weekday()),
    )


# -- staff -------------------------------------------------------------------------------------


@bp.get("/staff/events")
@role_required(Role.STAFF)
def staff_events():
    coming, past = events.staff_events(current_user)
    return render_template("events/staff_list.html", coming=coming, past=past)


@bp.route("/staff/events/new", methods=["GET", "POST"])
@role_required(Role.STAFF)
def new_event():
    return _event_form(EventForm(), "events/edit.html", series=False)


@bp.route("/staff/series/new", methods=["GET", "POST"])
@role_required(Role.STAFF)
def new_series():
    return _event_form(SeriesForm(frequency="monthly", count=6), "events/edit.html", series=True)


def _event_form(form, template, series):
    communities = events.managed_communities(current_user)
    form.community.choices = options((c.code, c.name) for c in communities)
    form.category.choices = options(CATEGORY_LABELS.items())
    form.room.choices = room_options([c.id for c in communities])
    if form.validate_on_submit():
        try:
            if series:
                created = events.create_series(
                    current_user,
                    community_code=form.community.data,
                    frequency=form.frequency.data,
                    count=form.count.data,
                    **form.values(),
                )
                flash(_("%(n)s draft events created.", n=len(created)), "success")
                return redirect(url_for("events.staff_events"))
            event = events.create_event(
                current_user, community_code=form.community.data, **form.values()
            )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("Draft saved. Publish it when it is ready."), "success")
            return redirect(url_for("events.show_event", event_id=event.id))
    return render_template(template, form=form, event=None, series=series)


@bp.route("/staff/events/<int:event_id>/edit", methods=["GET", "POST"])
@role_required(Role.STAFF)
def edit_event(event_id):
    event = events.staff_event(current_user, event_id)
    form = EventForm(data=_form_data(event) if request.method == "GET" else None)
    form.community.choices = options([(event.community.code, event.community.name)])
    form.category.choices = options(CATEGORY_LABELS.items())
    form.room.choices = room_options([event.community_id])
    if form.validate_on_submit():
        try:
            events.update_event(current_user, event_id, **form.values())
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The event has been saved."), "success")
            return redirect(url_for("events.show_event", event_id=event_id))
    return render_template("events/edit.html", form=form, event=event, series=False)


@bp.post("/staff/events/<int:event_id>/<any(publish):action>")
@role_required(Role.STAFF)
def change_status(event_id, action):
    events.publish_event(current_user, event_id)
    flash(_("The event is published."), "success")
    return redirect(url_for("events.show_event", event_id=event_id))


@bp.route("/staff/events/<int:event_id>/cancel", methods=["GET", "POST"])
@role_required(Role.STAFF)
def cancel_event(event_id):
    event, signups, _positions = events.roster(current_user, event_id)
    form = CancelEventForm()
    if form.validate_on_submit():
        try:
            events.cancel_event(current_user, event_id, form.reason.data)
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The event is cancelled; everyone signed up has been told."), "success")
            return redirect(url_for("events.show_event", event_id=event_id))
    return render_template("events/cancel.html", form=form, event=event, people=len(signups))


@bp.get("/staff/events/<int:event_id>/roster")
@login_required
def show_roster(event_id, form=None, status=200):
    event, signups, positions = events.roster(current_user, event_id)
    page = render_template(
        "events/roster.html",
        event=event,
        signups=signups,
        positions=positions,
        form=form or MessageForm(),
        messages=events.event_messages(event.id),
    )
    return page, status


@bp.post("/staff/events/<int:event_id>/messages")
@login_required
def send_message(event_id):
    """A short message to everyone confirmed, by each person's channel."""
    events.roster(current_user, event_id)  # role and scope before the form is read
    form = MessageForm()
    if form.validate_on_submit():
        try:
            message = events.send_message(current_user, event_id, form.text.data)
        except DomainError as error:
            if error.status == 429:
                raise
            show_error(form, error)
        else:
            flash(_("Message sent to %(n)s people.", n=message.recipients), "success")
            return redirect(url_for("events.show_roster", event_id=event_id))
    return show_roster(event_id, form=form, status=422)


def _form_data(event):
    data = {
        name: getattr(event, name)
        for name in ("title", "category", "venue", "description", "capacity", "dedication_day")
    }
    data["room"] = str(event.room_id) if event.room_id else ""
    for name in ("starts_at", "ends_at", "signup_opens_at", "signup_closes_at", "cancel_cutoff_at"):
        moment = getattr(event, name)
        data[name] = to_local(moment).replace(tzinfo=None) if moment else None
    return data
