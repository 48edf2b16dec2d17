"""Attendance pages: check-in with the code, the staff's attendance sheet and code screen,
completing an event, and "My events" with how each past event went."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from neighbors.attendance import completion
from neighbors.attendance import services as attendance
from neighbors.attendance.forms import CheckinForm, WalkInForm
from neighbors.core.errors import Conflict, DomainError, Invalid, NotFound, TooManyAttempts
from neighbors.core.ratelimit import code_attempts
from neighbors.events import services as events
from neighbors.web.errors import retry_after
from neighbors.web.forms import show_error

bp = Blueprint("attendance", __name__, template_folder="templates")


# -- volunteers --------------------------------------------------------------------------------


@bp.get("/my/events")
@login_required
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


@bp.post("/staff/events/<int:event_id>/complete")
@login_required
def complete_event(event_id):
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
        attendance.cancel_for(current_user, event_id, user_id)
    else:
        attendance.tap(current_user, event_id, user_id, action)
    return redirect(url_for("attendance.sheet", event_id=event_id))


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
    """The check-in code, large, for a screen at the door; it reloads itself every 30 seconds."""
    event = events.organiser_event(current_user, event_id)
    code = attendance.staff_checkin_code(current_user, event_id)
    return render_template("attendance/code.html", event=event, code=code)
