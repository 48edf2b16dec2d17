"""Attendance pages: check-in with the code, the staff's attendance sheet and code screen,
completing an event, and "My events" with how each past event went."""

import math

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from neighbors.attendance import completion
from neighbors.attendance import services as attendance
from neighbors.attendance.forms import CheckinForm, WalkInForm
from neighbors.core.db import utcnow
from neighbors.core.errors import Conflict, DomainError, Invalid, NotFound, TooManyAttempts
from neighbors.core.links import absolute_url
from neighbors.core.ratelimit import code_attempts
from neighbors.core.replicas import reads_from_replica
from neighbors.events import services as events
from neighbors.hours.qr import qr_svg
from neighbors.web import timespan
from neighbors.web.errors import retry_after
from neighbors.web.forms import show_error

bp = Blueprint("attendance", __name__, template_folder="templates")


# -- volunteers --------------------------------------------------------------------------------


@bp.get("/my/events")
@login_required
@reads_from_replica
def my_events():
    return render_template(
        "attendance/my_events.html",
        rows=events.my_events(current_user),
        past=completion.my_past_events(current_user),
    )


@bp.route("/events/<int:event_id>/checkin", methods=["GET", "POST"])
@login_required
@code_attempts
def checkin(event_id):
    event = events.get_event(event_id, current_user)
    form = CheckinForm()
    if form.validate_on_submit():
        try:
            signup = attendance.check_in_with_code(current_user, event_id, form.code.data)
        except TooManyAttempts as error:
            show_error(form, error)
            page = render_template("attendance/checkin.html", form=form, event=event)
            return page, 429, retry_after(error)
        except DomainError as error:
            show_error(form, error)
        else:
            flash(
                _("You are checked out. Thank you!")
                if signup.checked_out_at
                else _("You are checked in."),
                "success",
            )
            return redirect(url_for("events.show_event", event_id=event_id))
    return render_template("attendance/checkin.html", form=form, event=event)


# -- staff -------------------------------------------------------------------------------------


@bp.route("/staff/events/<int:event_id>/complete", methods=["GET", "POST"])
@login_required
def complete_event(event_id):
    """GET says what completing will make and asks; POST completes."""
    if request.method == "GET":
        event, signups, _positions = events.roster(current_user, event_id)
        back = url_for("events.show_event", event_id=event_id)
        if event.status != "published" or not event.has_ended:
            flash(_("Only a published event that has ended can be completed."), "error")
            return redirect(back)
        confirmed = [s for s in signups if s.status == "confirmed"]
        came = sum(1 for s in confirmed if s.checked_in_at)
        return render_template(
            "confirm.html",
            title=_("Mark as completed"),
            details=[
                (_("Event"), event.title),
                (_("When"), timespan(event.starts_at, event.ends_at)),
            ],
            question=_("Complete %(title)s?", title=event.title),
            consequence=_(
                "%(came)s get a service record for the time they were there, to confirm "
                "under Hours to confirm; %(absent)s marked as no-show. Check-ins can no "
                "longer change after this.",
                came=ngettext(
                    "%(num)s person who checked in will", "%(num)s people who checked in will", came
                ),
                absent=ngettext(
                    "%(num)s person who did not check in is",
                    "%(num)s people who did not check in are",
                    len(confirmed) - came,
                ),
            ),
            action=url_for("attendance.complete_event", event_id=event_id),
            yes=_("Yes, complete it"),
            back_url=back,
            back_label=_("Not yet"),
        )
    done = completion.complete_event(current_user, event_id)
    flash(
        _(
            "The event is completed: %(records)s, %(no_shows)s.",
            records=ngettext("%(num)s service record", "%(num)s service records", done.records),
            no_shows=ngettext("%(num)s no-show", "%(num)s no-shows", done.no_shows),
        ),
        "success",
    )
    return redirect(url_for("events.show_event", event_id=event_id))


@bp.get("/staff/events/<int:event_id>/attendance")
@login_required
def sheet(event_id):
    event, signups, _positions = events.roster(current_user, event_id)
    code = attendance.staff_checkin_code(current_user, event_id)
    return render_template(
        "attendance/sheet.html",
        event=event,
        code=code,
        signups=[s for s in signups if s.status == "confirmed"],
        form=WalkInForm(),
    )


@bp.post(
    "/staff/events/<int:event_id>/attendance/<int:user_id>/<any(in, out, clear, remove):action>"
)
@login_required
def tap(event_id, user_id, action):
    if action == "remove":
        signup = attendance.cancel_for(current_user, event_id, user_id)
        flash(_("%(name)s is off the roster.", name=signup.user.name), "success")
    else:
        signup = attendance.tap(current_user, event_id, user_id, action)
        name = signup.user.name
        if action == "in":
            when = format_datetime(signup.checked_in_at, "HH:mm")
            flash(_("%(name)s is checked in at %(time)s.", name=name, time=when), "success")
        elif action == "out":
            when = format_datetime(signup.checked_out_at, "HH:mm")
            flash(_("%(name)s is checked out at %(time)s.", name=name, time=when), "success")
        else:
            flash(_("%(name)s's check-in is cleared.", name=name), "success")
    return redirect(url_for("attendance.sheet", event_id=event_id))


@bp.get("/staff/events/<int:event_id>/attendance/<int:user_id>/remove")
@login_required
def confirm_remove(event_id, user_id):
    """Taking someone off the roster asks first: their place may go to the next person."""
    event, signups, _positions = events.roster(current_user, event_id)
    signup = next((s for s in signups if s.user_id == user_id and s.status == "confirmed"), None)
    if signup is None:
        raise NotFound(_("Not found."))
    if event.waitlist_count:
        consequence = _(
            "%(name)s loses their place, and it goes to the next person on the waitlist "
            "straight away.",
            name=signup.user.name,
        )
    else:
        consequence = _("%(name)s loses their place.", name=signup.user.name)
    return render_template(
        "confirm.html",
        title=_("Remove from the roster"),
        details=[(_("Event"), event.title), (_("Volunteer"), signup.user.name)],
        question=_("Remove %(name)s from %(title)s?", name=signup.user.name, title=event.title),
        consequence=consequence,
        action=url_for("attendance.tap", event_id=event_id, user_id=user_id, action="remove"),
        yes=_("Yes, remove"),
        back_url=url_for("attendance.sheet", event_id=event_id),
        back_label=_("No, keep them"),
    )


@bp.post("/staff/events/<int:event_id>/attendance/all-present")
@login_required
def all_present(event_id):
    count = attendance.all_present(current_user, event_id)
    flash(_("%(n)s checked in.", n=count), "success")
    return redirect(url_for("attendance.sheet", event_id=event_id))


@bp.post("/staff/events/<int:event_id>/attendance/walk-in")
@login_required
def walk_in(event_id):
    form = WalkInForm()
    login = form.login.data if form.validate_on_submit() else None
    try:
        signup = attendance.walk_in(current_user, event_id, login)
    except (Invalid, Conflict) as error:
        flash(error.message, "error")
    except NotFound as error:
        if error.code != "no_such_user":
            raise  # another community's event: 404, whatever the form said
        flash(error.message, "error")
    else:
        flash(_("%(name)s is checked in.", name=signup.user.name), "success")
    return redirect(url_for("attendance.sheet", event_id=event_id))


@bp.get("/staff/events/<int:event_id>/code")
@login_required
def code_screen(event_id):
    """The door screen: the check-in code large, a QR of the check-in address, when the code
    changes; no navigation (it is a public screen); it reloads itself as the code changes."""
    event = events.organiser_event(current_user, event_id)
    code = attendance.staff_checkin_code(current_user, event_id)
    now = utcnow()
    changes_at = attendance.next_code_at(now)
    seconds = max(1, math.ceil((changes_at - now).total_seconds()))
    address = absolute_url("attendance.checkin", event_id=event.id)
    return render_template(
        "attendance/code.html",
        event=event,
        code=code,
        address=address,
        qr=qr_svg(address, title=_("Check-in address"), fluid=True) if code else None,
        changes_at=changes_at,
        seconds=seconds,
        # Reload just after the code changes; before the code starts, once a minute.
        refresh=seconds + 1 if code else 60,
    )
