"""Foundation pages: funds, donations, subsidies, the ledger and its exports, the public
disclosure page."""

from datetime import date

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from neighbors.core.errors import DomainError
from neighbors.core.exports import (
    CSV,
    XLSX,
    Column,
    Report,
    csv_bytes,
    csv_bytes_stream,
    download,
    xlsx_bytes,
)
from neighbors.core.permissions import FOUNDATION_ROLES, Role
from neighbors.core.privacy import mask_name
from neighbors.core.replicas import reads_from_replica
from neighbors.core.timezone import local_today
from neighbors.foundation import exports, ledger, vouchers
from neighbors.foundation import reports as foundation_reports
from neighbors.foundation import services as foundation
from neighbors.foundation.forms import DonationForm, FundForm, ReversalForm, SubsidyForm
from neighbors.foundation.labels import FUND_KINDS, SUBSIDY_STATES
from neighbors.foundation.models import FundKind, SubsidyStatus
from neighbors.web import role_required
from neighbors.web.forms import new_form_token, once_key, options, show_error, year_arg

bp = Blueprint("foundation", __name__, template_folder="templates", url_prefix="/foundation")
public = Blueprint("disclosure", __name__, template_folder="templates")


@bp.app_context_processor
def inject_labels():
    return {
        "fund_kind_label": lambda kind: FUND_KINDS[FundKind(kind)],
        "subsidy_status_label": lambda status: SUBSIDY_STATES[SubsidyStatus(status)],
        "account_name": account_name,
    }


def account_name(code):
    return f"{code} {ledger.ACCOUNTS[code][1]}"


def detail_columns():
    """The detail ledger's XLSX columns; its CSV keeps DETAIL_HEADER's codes."""
    rows = {
        "opening": _("Opening balance"),
        "line": "",
        "month": _("Month total"),
        "year_to_date": _("Year to date"),
    }
    return [
        Column(_("Row"), "label", rows),
        Column(_("Date"), "date"),
        Column(_("Voucher")),
        Column(_("Summary")),
        Column(_("Debit"), "money"),
        Column(_("Credit"), "money"),
        Column(_("Balance"), "money"),
    ]


@bp.get("/")
@role_required(*FOUNDATION_ROLES)
def index():
    return render_template("foundation/index.html", funds=foundation.funds(current_user))


@bp.route("/funds/new", methods=["GET", "POST"])
@role_required(Role.APPROVER)
def new_fund():
    form = FundForm()
    if form.validate_on_submit():
        try:
            foundation.create_fund(
                current_user,
                code=form.code.data,
                name=form.name.data,
                kind=form.kind.data,
                purpose=form.purpose.data,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                opening_balance=form.opening_balance.data or 0,
                beneficiary_name=form.beneficiary_name.data,
                beneficiary_id_number=form.beneficiary_id_number.data,
                idempotency=form.idempotency(),
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            flash(_("The fund is open."), "success")
            return redirect(url_for("foundation.index"))
    return render_template("foundation/form.html", form=form, title=_("New fund"))


@bp.get("/donations")
@role_required(*FOUNDATION_ROLES)
def donations():
    return render_template(
        "foundation/donations.html", donations=foundation.donations(current_user)
    )


@bp.route("/donations/new", methods=["GET", "POST"])
@role_required(Role.PREPARER)
def new_donation():
    form = DonationForm(data=None if request.method == "POST" else {"received_on": local_today()})
    form.fund.choices = _fund_choices()
    if form.validate_on_submit():
        try:
            donation, created = foundation.record_donation(
                current_user,
                fund_code=form.fund.data,
                amount=form.amount.data,
                received_on=form.received_on.data,
                donor_name=form.donor_name.data,
                donor_kind=form.donor_kind.data,
                anonymous=form.anonymous.data,
                publish_consent=form.publish_consent.data,
                channel=form.channel.data,
                notes=form.notes.data,
                receipt_code=form.receipt_code.data,
                receipt_number=form.receipt_number.data,
                idempotency=form.idempotency(),
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            flash(_("Donation recorded: acknowledgement %(n)s.", n=donation.ack_number), "success")
            if not created:
                _sent_twice()
            return redirect(url_for("foundation.donations"))
    return render_template("foundation/form.html", form=form, title=_("Record a donation"))


@bp.get("/subsidies")
@role_required(*FOUNDATION_ROLES)
def subsidies():
    return render_template(
        "foundation/subsidies.html",
        subsidies=foundation.subsidies(current_user),
        new_form_token=new_form_token,
        mask_name=mask_name,
        full=foundation.can_see_full(current_user),
    )


@bp.route("/subsidies/new", methods=["GET", "POST"])
@role_required(Role.PREPARER)
def new_subsidy():
    form = SubsidyForm()
    form.fund.choices = _fund_choices()
    if form.validate_on_submit():
        try:
            _subsidy, created = foundation.prepare_subsidy(
                current_user,
                fund_code=form.fund.data,
                amount=form.amount.data,
                beneficiary_name=form.beneficiary_name.data,
                reason=form.reason.data,
                id_number=form.id_number.data,
                phone=form.phone.data,
                category=form.category.data,
                household_size=form.household_size.data,
                related_party=form.related_party.data,
                idempotency=form.idempotency(),
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            flash(_("Subsidy prepared; an approver decides next."), "success")
            if not created:
                _sent_twice()
            return redirect(url_for("foundation.subsidies"))
    return render_template("foundation/form.html", form=form, title=_("Prepare a subsidy"))


@bp.post("/subsidies/<int:subsidy_id>/<any(approve, pay, reject):step>")
@role_required(Role.APPROVER, Role.CASHIER)
def subsidy_step(subsidy_id, step):
    # Each button carries a one-time token: a second send of it takes the step once.
    once = once_key(request.form.get("once"), {"subsidy": subsidy_id, "step": step})
    if step == "approve":
        foundation.approve_subsidy(current_user, subsidy_id, idempotency=once)
    elif step == "pay":
        foundation.pay_subsidy(current_user, subsidy_id, idempotency=once)
    else:
        foundation.reject_subsidy(
            current_user, subsidy_id, request.form.get("reason"), idempotency=once
        )
    done = {
        "approve": _("Subsidy no. %(id)s is approved; it waits for the cashier.", id=subsidy_id),
        "pay": _("Subsidy no. %(id)s is paid and entered in the ledger.", id=subsidy_id),
        "reject": _("Subsidy no. %(id)s is rejected.", id=subsidy_id),
    }
    flash(done[step], "success")
    return redirect(url_for("foundation.subsidies"))


@bp.get("/subsidies/<int:subsidy_id>/<any(pay, reject):step>")
@role_required(*FOUNDATION_ROLES)
def confirm_step(subsidy_id, step):
    """Paying or rejecting asks first, saying what will happen."""
    subsidy = foundation.subsidy_for_step(current_user, subsidy_id, step)
    if subsidy is None:
        flash(_("This subsidy is past that step already."), "error")
        return redirect(url_for("foundation.subsidies"))
    amount = f"{subsidy.amount:.2f}"
    name = mask_name(subsidy.beneficiary.name)
    if step == "pay":
        question = _("Pay %(amount)s yuan to %(name)s?", amount=amount, name=name)
        consequence = _(
            "%(amount)s yuan leaves fund %(fund)s and is entered in the ledger. Only a "
            "reversing entry can undo it.",
            amount=amount,
            fund=subsidy.fund.name,
        )
        yes = _("Yes, pay")
    else:
        question = _("Reject subsidy no. %(id)s?", id=subsidy.id)
        consequence = _("The subsidy is closed and nothing is paid; a new one must be prepared.")
        yes = _("Yes, reject")
    return render_template(
        "confirm.html",
        title=_("Subsidy no. %(id)s", id=subsidy.id),
        details=[
            (_("Beneficiary"), name),
            (_("Fund"), f"{subsidy.fund.code} {subsidy.fund.name}"),
            (_("Amount (yuan)"), amount),
            (_("Reason"), subsidy.reason),
        ],
        question=question,
        consequence=consequence,
        action=url_for("foundation.subsidy_step", subsidy_id=subsidy.id, step=step),
        fields={"once": new_form_token()},
        reason_label=_("Why (optional)") if step == "reject" else None,
        yes=yes,
        back_url=url_for("foundation.subsidies"),
        back_label=_("No, go back"),
    )


@bp.get("/beneficiaries/<int:beneficiary_id>")
@role_required(Role.APPROVER, Role.CASHIER)
def beneficiary(beneficiary_id):
    details = foundation.beneficiary_details(current_user, beneficiary_id)
    return render_template("foundation/beneficiary.html", details=details)


@bp.get("/ledger")
@role_required(*foundation_reports.READERS)
def ledger_page():
    period = _period()
    funds = foundation_reports.detail_choices(current_user)
    fund = request.args.get("fund") if request.args.get("fund") in {f.code for f in funds} else None
    cursor = request.args.get("cursor")
    page = foundation_reports.ledger_page(current_user, cursor, 50, *period, fund_code=fund)
    return render_template(
        "foundation/ledger.html",
        page=page,
        period=period,
        funds=funds,
        fund=fund,
        statement=foundation_reports.statement(current_user, *period),
    )


@bp.get("/ledger/entries/<int:entry_id>")
@role_required(*foundation_reports.READERS)
def voucher(entry_id):
    """The printable accounting voucher (记账凭证) of one entry."""
    found = vouchers.voucher(current_user, entry_id, foundation_reports.READERS)
    unit = foundation_reports.foundation_name()
    return render_template("foundation/voucher.html", voucher=found, unit=unit)


@bp.get("/ledger.<any(csv, xlsx, beancount):fmt>")
@role_required(*foundation_reports.READERS)
@reads_from_replica
def export(fmt):
    date_from, date_to = _period()
    fund = request.args.get("fund") or None
    body, content_type = foundation_reports.export(current_user, fmt, date_from, date_to, fund)
    name = f"ledger-{date_from}-{date_to}.{fmt}"
    return download(stream_with_context(body), content_type, name)


@bp.get("/<any(donations, subsidies):what>.<any(csv, xlsx):fmt>")
@role_required(*foundation_reports.READERS)
@reads_from_replica
def list_export(what, fmt):
    year = year_arg()
    make = (
        foundation_reports.donation_list
        if what == "donations"
        else (foundation_reports.subsidy_list)
    )
    columns, rows = make(current_user, year, fmt)
    name = f"{what}-{year}.{fmt}"
    if fmt == "csv":
        return download(csv_bytes([c.header for c in columns], rows), CSV, name)
    title = _("Donations") if what == "donations" else _("Subsidies")
    report = Report(foundation_reports.foundation_name(), title, str(year), columns)
    return download(xlsx_bytes(report, rows), XLSX, name)


@bp.get("/detail")
@role_required(*foundation_reports.READERS)
@reads_from_replica
def detail():
    date_from, date_to = _period()
    account = request.args.get("account") or ledger.BANK
    if not (request.args.get("fund") or "").strip():  # no fund yet: offer the choice of one
        return render_template(
            "foundation/detail_choose.html",
            funds=foundation_reports.detail_choices(current_user),
            account=account if account in ledger.ACCOUNTS else ledger.BANK,
            period=(date_from, date_to),
            accounts=ledger.ACCOUNTS,
        )
    export = request.args.get("format") if request.args.get("format") in ("csv", "xlsx") else None
    fund, rows = foundation_reports.detail(
        current_user, request.args.get("fund", ""), account, date_from, date_to, export
    )
    if export:
        name = f"detail-{fund.code}-{account}-{date_from}-{date_to}.{export}"
        lines = exports.detail_rows(rows)
        if export == "csv":
            body = csv_bytes_stream(exports.DETAIL_HEADER, lines)
            return download(stream_with_context(body), CSV, name)
        title = f"{_('Detail ledger')} · {fund.code} {fund.name} · {account_name(account)}"
        period = f"{date_from} – {date_to}"
        report = Report(foundation_reports.foundation_name(), title, period, detail_columns())
        return download(xlsx_bytes(report, lines), XLSX, name)
    return render_template(
        "foundation/detail.html",
        fund=fund,
        account=account,
        rows=list(rows),
        period=(date_from, date_to),
        accounts=ledger.ACCOUNTS,
    )


@bp.post("/ledger/verify")
@role_required(*foundation_reports.READERS)
def verify():
    result = foundation_reports.verify(current_user)
    if result.ok:
        flash(_("The ledger verifies: %(n)s entries, each as posted.", n=result.entries), "success")
    else:
        flash(_("The ledger does not verify: %(message)s", message=result.message), "error")
    return redirect(url_for("foundation.ledger_page"))


@bp.route("/ledger/entries/<int:entry_id>/reverse", methods=["GET", "POST"])
@role_required(Role.APPROVER)
def reverse(entry_id):
    form = ReversalForm()
    if form.validate_on_submit():
        try:
            entry, created = foundation.reverse_entry(
                current_user, entry_id, form.reason.data, idempotency=form.idempotency()
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            flash(_("Reversed by %(voucher)s.", voucher=entry.voucher), "success")
            if not created:
                _sent_twice()
            return redirect(url_for("foundation.ledger_page"))
    return render_template("foundation/form.html", form=form, title=_("Reverse an entry"))


@public.get("/disclosure")
def disclosure():
    year = year_arg()
    return render_template(
        "foundation/disclosure.html", year=year, **foundation_reports.disclosure(year)
    )


def _sent_twice():
    flash(_("This form had been sent already: it was recorded once, as shown."), "info")


def _show_error(form, error):
    """The service's error on the form; a token spent on other values is replaced, so that the
    corrected form can be sent."""
    if error.code == "idempotency_key_reused":
        form.renew()
        error = type(error)(
            _("This form was sent already with other values; check them and send it again."),
            code=error.code,
        )
    show_error(form, error)


def _fund_choices():
    return options((f.code, f"{f.code} · {f.name}") for f in foundation.funds(current_user))


def _period():
    today = local_today()
    try:
        date_from = date.fromisoformat(request.args.get("from") or f"{today.year}-01-01")
        date_to = date.fromisoformat(request.args.get("to") or today.isoformat())
    except ValueError:
        date_from, date_to = date(today.year, 1, 1), today
    if not date(2000, 1, 1) <= date_from <= date_to <= date(2100, 1, 1):
        date_from, date_to = date(today.year, 1, 1), today
    return date_from, date_to
