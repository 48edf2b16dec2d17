"""Organisation pages: the directory, a public profile, registering or applying, joining and
leaving, the page of those who run one, their drafts, and the staff's applications to decide."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice, SelectField
from wtforms.validators import Optional

from neighbors.accounts import services as accounts
from neighbors.areas import services as areas
from neighbors.areas.picker import AreaPickerForm, narrow
from neighbors.core import cache
from neighbors.core.db import utcnow
from neighbors.core.errors import DomainError, NotFound
from neighbors.core.exports import XLSX, Report, download, xlsx_bytes
from neighbors.core.permissions import Role
from neighbors.core.privacy import mask_phone
from neighbors.core.replicas import reads_from_replica
from neighbors.events import services as events
from neighbors.events.forms import EventForm, room_options
from neighbors.events.labels import CATEGORY_LABELS
from neighbors.hours import services as hours
from neighbors.organisations import reports
from neighbors.organisations import services as organisations
from neighbors.organisations.forms import MemberForm, OrganisationForm
from neighbors.organisations.labels import KIND_LABELS, ROLE_LABELS, STATUS_LABELS
from neighbors.web import role_required
from neighbors.web.forms import communities_by_street, options, show_error, year_arg

bp = Blueprint("organisations", __name__, template_folder="templates")


@bp.app_context_processor
def inject_labels():
    return {
        "kind_label": lambda kind: KIND_LABELS[kind],
        "member_role_label": lambda role: ROLE_LABELS[role],
        "organisation_status_label": lambda status: STATUS_LABELS[status],
    }


class DirectoryFilterForm(AreaPickerForm):
    """The directory's filter: the picker's steps, the community they narrow to, the kind."""

    community = SelectField(_l("Community"), validators=[Optional()], choices=[])
    kind = SelectField(_l("Kind"), validators=[Optional()], choices=[])


@bp.get("/organisations")
@reads_from_replica
def directory():
    """The directory's content is the same for everyone with the same filter and language: it
    is kept a few seconds (PAGE_CACHE_SECONDS); the page around it is the person's own."""
    try:
        body = cache.for_query(
            "organisations.directory", request.args, lambda: _directory_body(request.args)
        )
    except DomainError as error:  # never kept: the next one with this filter hears it too
        flash(error.message, "error")
        body = cache.for_query(
            "organisations.directory", MultiDict(), lambda: _directory_body(MultiDict())
        )
    return render_template("organisations/directory.html", body=body)


def _directory_body(args):
    """The organisations (the first 200 by name) and the filter. Raises DomainError for an
    unknown community or kind."""
    community = args.get("community") or None
    kind = args.get("kind") or None
    form = DirectoryFilterForm(formdata=None)
    # A city has 955 communities: the filter offers those of the chosen street (or whose name
    # matches), after the district and street are chosen, as the event list does.
    picked = narrow(args, form, community=community)
    narrowed = args.get("street") or args.get("community_name")
    if community and narrowed and community not in {c.value for c in picked.communities}:
        community = None  # one of another street or name: the street or name was changed
    rows = organisations.directory(community_code=community, kind=kind)
    form.community.choices = [SelectChoice("", _("All communities")), *picked.communities]
    form.community.data = community or ""
    form.kind.choices = options(KIND_LABELS.items(), blank=_("All kinds"))
    form.kind.data = kind or ""
    form.community_name.data = args.get("community_name") or ""
    kinds = {code: str(label) for code, label in KIND_LABELS.items()}  # once, not once a row
    return render_template(
        "organisations/_directory_body.html", rows=rows, form=form, picked=picked, kinds=kinds
    )


@bp.get("/organisations/<int:organisation_id>")
def profile(organisation_id):
    organisation = organisations.public_organisation(organisation_id)
    upcoming, _cursor = events.list_events(
        events.EventFilter(organisation=organisation.id, starts_from=utcnow()), limit=10
    )
    runs = organisations.may_run(current_user, organisation)
    return render_template(
        "organisations/profile.html",
        organisation=organisation,
        upcoming=upcoming,
        minutes=hours.organisation_minutes(organisation.id),
        membership=organisations.membership_of(current_user, organisation.id),
        runs=runs,
        phone=organisation.contact_phone if runs else mask_phone(organisation.contact_phone),
    )


@bp.route("/organisations/new", methods=["GET", "POST"])
@login_required
def register():
    form = OrganisationForm()
    form.kind.choices = options(KIND_LABELS.items())
    form.community.choices = communities_by_street(areas.community_choices())
    if form.validate_on_submit():
        try:
            organisation = organisations.register(
                current_user,
                name=form.name.data,
                kind=form.kind.data,
                community_code=form.community.data,
                credit_code=form.credit_code.data,
                contact_name=form.contact_name.data,
                contact_phone=form.contact_phone.data,
                description=form.description.data,
            )
        except DomainError as error:
            show_error(form, error)
        else:
            if organisation.status == "active":
                flash(_("%(name)s is registered.", name=organisation.name), "success")
            else:
                flash(_("Your application is sent: the community's staff decide."), "success")
            return redirect(url_for("organisations.mine"))
    return render_template("organisations/register.html", form=form)


@bp.post("/organisations/<int:organisation_id>/<any(join, leave):action>")
@login_required
def membership(organisation_id, action):
    if action == "join":
        organisations.request_to_join(current_user, organisation_id)
        flash(_("Your request is sent: a coordinator decides."), "success")
    else:
        organisations.leave(current_user, organisation_id)
        flash(_("You have left the organisation."), "success")
    return redirect(url_for("organisations.profile", organisation_id=organisation_id))


@bp.get("/my/organisations")
@login_required
def mine():
    memberships = organisations.my_memberships(current_user)
    return render_template("organisations/mine.html", memberships=memberships)


@bp.route("/organisations/<int:organisation_id>/manage", methods=["GET", "POST"])
@login_required
def manage(organisation_id):
    organisation, members, requests = organisations.members(current_user, organisation_id)
    form = MemberForm()
    form.role.choices = options(ROLE_LABELS.items())
    if form.validate_on_submit():
        person = accounts.find_by_login(form.login.data)
        try:
            if person is None:
                raise NotFound(_("No one has that e-mail address or mobile number."))
            organisations.add_member(current_user, organisation_id, person.id, form.role.data)
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("%(name)s is a member now.", name=person.name), "success")
            return redirect(url_for("organisations.manage", organisation_id=organisation_id))
    return render_template(
        "organisations/manage.html",
        organisation=organisation,
        members=members,
        requests=requests,
        form=form,
        events=events.organisation_events(current_user, organisation_id),
        pending=hours.records_to_confirm(current_user, organisation_id=organisation_id),
    )


@bp.post("/organisations/requests/<int:membership_id>/<any(accept, decline):decision>")
@login_required
def decide(membership_id, decision):
    membership = organisations.decide_request(
        current_user, membership_id, accept=decision == "accept"
    )
    flash(_("The request is decided."), "success")
    return redirect(url_for("organisations.manage", organisation_id=membership.organisation_id))


@bp.route("/organisations/<int:organisation_id>/events/new", methods=["GET", "POST"])
@login_required
def new_event(organisation_id):
    organisation = organisations.run_organisation(current_user, organisation_id)
    form = EventForm()
    form.community.choices = options([(organisation.community.code, organisation.community.name)])
    form.category.choices = options(CATEGORY_LABELS.items())
    form.room.choices = room_options([organisation.community_id])
    if form.validate_on_submit():
        try:
            event = events.create_event(
                current_user,
                community_code=organisation.community.code,
                organisation_id=organisation.id,
                **form.values(),
            )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("Draft saved: the community's staff publish it."), "success")
            return redirect(url_for("events.show_event", event_id=event.id))
    return render_template("organisations/new_event.html", form=form, organisation=organisation)


@bp.get("/staff/organisations")
@role_required(Role.STAFF)
def waiting():
    return render_template(
        "organisations/waiting.html",
        applications=organisations.applications(current_user),
        drafts=events.drafts_waiting(current_user),
    )


@bp.post("/staff/organisations/<int:organisation_id>/<any(approve, reject):decision>")
@role_required(Role.STAFF)
def review(organisation_id, decision):
    organisation = organisations.review_application(
        current_user, organisation_id, approve=decision == "approve"
    )
    if decision == "approve":
        flash(_("%(name)s is approved.", name=organisation.name), "success")
    else:
        flash(_("%(name)s is not approved.", name=organisation.name), "success")
    return redirect(url_for("organisations.waiting"))


@bp.get("/staff/organisations/hours")
@bp.get("/staff/organisations/hours.xlsx", defaults={"fmt": "xlsx"})
@role_required(Role.STAFF)
@reads_from_replica
def hours_by_organisation(fmt=None):
    year = year_arg()
    rows = reports.by_organisation(current_user, year, export=fmt)
    if fmt is None:
        return render_template("organisations/hours_table.html", rows=rows, year=year)
    body = xlsx_bytes(*reports.organisations_table(rows, year))
    return download(body, XLSX, f"organisations-hours-{year}.xlsx")


@bp.get("/organisations/<int:organisation_id>/hours")
@bp.get("/organisations/<int:organisation_id>/hours.xlsx", defaults={"fmt": "xlsx"})
@login_required
@reads_from_replica
def organisation_hours(organisation_id, fmt=None):
    year = year_arg()
    organisation, people, total = reports.organisation_people(
        current_user, organisation_id, year, export=fmt
    )
    if fmt is None:
        return render_template(
            "organisations/hours.html",
            organisation=organisation,
            people=people,
            total=total,
            year=year,
        )
    columns, body = reports.people_table(people, total)
    report = Report(organisation.name, _("Hours by person"), str(year), columns)
    body = xlsx_bytes(report, body)
    return download(body, XLSX, f"organisation-{organisation_id}-hours-{year}.xlsx")
