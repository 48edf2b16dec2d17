"""双报到 pages: the posts a community offers, a Party organisation reporting in and taking
posts on, the staff's report-ins to confirm, and a report-in's page with the year's feedback."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from neighbors.areas import services as areas
from neighbors.areas.picker import AreaPickerForm, narrow
from neighbors.core.errors import DomainError, Invalid
from neighbors.core.exports import XLSX, download
from neighbors.core.permissions import Role
from neighbors.core.replicas import reads_from_replica
from neighbors.events import services as events
from neighbors.party import feedback, reporting
from neighbors.party.forms import OrganisationReportForm, PostForm
from neighbors.web import role_required
from neighbors.web.forms import options, show_error, year_arg

bp = Blueprint("party_orgs", __name__, template_folder="templates")


@bp.route("/staff/party-posts", methods=["GET", "POST"])
@role_required(Role.STAFF)
def posts():
    form = PostForm()
    form.community.choices = options(
        (c.code, c.name) for c in events.managed_communities(current_user)
    )
    if form.validate_on_submit():
        try:
            reporting.add_post(
                current_user,
                community_code=form.community.data,
                name=form.name.data,
                people_needed=form.people_needed.data,
                description=form.description.data,
            )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The post is on the community's list."), "success")
            return redirect(url_for("party_orgs.posts"))
    rows = reporting.posts_in_scope(current_user)
    return render_template("party/posts.html", form=form, rows=rows)


@bp.post("/staff/party-posts/<int:post_id>/close")
@role_required(Role.STAFF)
def close_post(post_id):
    post = reporting.close_post(current_user, post_id)
    flash(_("%(name)s is off the list.", name=post.name), "success")
    return redirect(url_for("party_orgs.posts"))


@bp.route("/organisations/<int:organisation_id>/report-in", methods=["GET", "POST"])
@login_required
def report_in(organisation_id):
    organisation, reports = reporting.organisation_reports(current_user, organisation_id)
    form = OrganisationReportForm()
    code = form.community.data or request.args.get("community") or ""
    posts = reporting.open_posts(code) if code else []
    if request.method == "POST" and not code:
        form.form_errors.append(_("Choose the community you report in to."))
    elif code and form.validate_on_submit():
        try:
            reporting.report_in(
                current_user,
                organisation_id,
                community_code=code,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                contact_name=form.contact_name.data,
                contact_email=form.contact_email.data,
                contact_phone=form.contact_phone.data,
                claims=_claims(posts),
            )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The report-in is sent: the community's staff confirm it."), "success")
            return redirect(url_for("party_orgs.report_in", organisation_id=organisation_id))
    form.community.data = code
    picker = AreaPickerForm(request.args)  # 955 communities: district, street, then community
    return render_template(
        "party/report_in.html",
        organisation=organisation,
        reports=reports,
        form=form,
        posts=posts,
        community=areas.community_by_code(code) if code else None,
        picker=picker,
        picked=narrow(request.args, picker, community=code or None),
    )


def _claims(posts):
    """{post_id: people} from the post fields; Invalid names a field that is not a number."""
    claims, problems = {}, {}
    for post in posts:
        value = request.form.get(f"post-{post.id}", "").strip()
        if value.isascii() and value.isdigit() and len(value) <= 4:
            claims[post.id] = int(value)
        elif value:
            problems[f"post-{post.id}"] = _("Enter a number of people.")
    if problems:
        raise Invalid.from_fields(problems)
    return claims


@bp.get("/staff/party-organisations")
@role_required(Role.STAFF)
def reports():
    status = request.args.get("status") or "declared"
    if status not in ("declared", "confirmed", "rejected"):
        status = "declared"
    rows = reporting.reports_in_scope(current_user, status)
    return render_template("party/org_reports.html", reports=rows, status=status)


@bp.post("/staff/party-organisations/<int:report_id>/<any(confirm, reject):decision>")
@role_required(Role.STAFF)
def review(report_id, decision):
    report = reporting.review(current_user, report_id, confirm=decision == "confirm")
    name = report.organisation.name
    if decision == "confirm":
        flash(_("The report-in of %(name)s is confirmed.", name=name), "success")
    else:
        flash(_("The report-in of %(name)s is rejected.", name=name), "success")
    return redirect(url_for("party_orgs.reports"))


@bp.get("/party-organisations/<int:report_id>")
@login_required
def show(report_id):
    data = feedback.feedback(current_user, report_id, year_arg())
    return render_template(
        "party/org_report.html",
        data=data,
        report=data.report,
        staff=reporting.may_review(current_user, data.report),
    )


@bp.get("/party-organisations/<int:report_id>/feedback.xlsx")
@login_required
@reads_from_replica
def feedback_xlsx(report_id):
    data = feedback.feedback(current_user, report_id, year_arg())
    return download(feedback.workbook(data), XLSX, feedback.filename(data))


@bp.route("/staff/party-organisations/<int:report_id>/feedback", methods=["GET", "POST"])
@role_required(Role.STAFF)
def send_feedback(report_id):
    year = year_arg()
    if request.method == "GET":  # what will happen, and a button that does it
        report = reporting.report_for(current_user, report_id)
        return render_template("party/send_feedback.html", report=report, year=year)
    report = feedback.send(current_user, report_id, year)
    flash(_("The feedback is on its way to %(email)s.", email=report.contact_email), "success")
    return redirect(url_for("party_orgs.show", report_id=report_id, year=year))
