"""Mutual aid pages: the wish wall, a wish, posting and claiming, staff vetting and confirming,
my wishes and claims, my points, and the love supermarket's shelf, counter and slip."""

import io

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from neighbors.areas import services as areas
from neighbors.core import cache
from neighbors.core.errors import DomainError
from neighbors.core.exports import XLSX, Column, Report, download, xlsx_bytes
from neighbors.core.paging import cursor_arg
from neighbors.core.permissions import Role, has_role, managed_community_ids, require_role
from neighbors.core.privacy import mask_name
from neighbors.core.replicas import reads_from_replica
from neighbors.hours.services import volunteer_number
from neighbors.mutual_aid import reports
from neighbors.mutual_aid import services as aid
from neighbors.mutual_aid.forms import (
    ConfirmWishForm,
    FulfilForm,
    ItemForm,
    PhotoForm,
    RedeemForm,
    ReverseForm,
    StockForm,
    WishForm,
)
from neighbors.web import role_required
from neighbors.web.forms import communities_by_street, options, show_error, year_arg

bp = Blueprint("mutual_aid", __name__, template_folder="templates")


@bp.app_context_processor
def inject_labels():
    return {
        "wish_category_label": lambda c: aid.CATEGORY_LABELS.get(c, c),
        "wish_status_label": lambda s: aid.STATUS_LABELS.get(s, s),
        "points_reason": lambda k: aid.REASON_LABELS.get(k, k),
        "mask_name": mask_name,
        "volunteer_number": lambda person: volunteer_number(person) or "—",
        "wish_photo_shown": lambda wish: aid.shown(current_user, wish),
    }


@bp.get("/wishes")
@reads_from_replica
def wish_wall():
    """The wall's content is the same for everyone with the same filter and language: it is
    kept a few seconds (PAGE_CACHE_SECONDS); the page around it is the person's own."""
    try:
        body = cache.for_query("mutual_aid.wall", request.args, lambda: _wall_body(request.args))
    except DomainError as error:  # never kept: the next one with this filter hears it too
        flash(error.message, "error")
        body = cache.for_query("mutual_aid.wall", MultiDict(), lambda: _wall_body(MultiDict()))
    head, _marker, tail = body.partition(POST_A_WISH)  # Markup's partition keeps both Markup
    return render_template("mutual_aid/wall.html", head=head, tail=tail)


POST_A_WISH = "<!--post-a-wish-->"  # in mutual_aid/_wall_body.html


def _wall_body(args):
    """The filter and a page of the wall. Raises DomainError for an unknown community, a
    status that is not public or a broken cursor."""
    community = (args.get("community") or "").strip()[:20] or None
    street = (args.get("street") or "").strip()[:20] or None
    status = (args.get("status") or "").strip()[:20] or None
    # A city has 955 communities: the filter lists those of the chosen street (or of the
    # chosen community's street), as the event list does.
    if street:
        groups = areas.community_choices(street_code=street)
        if community not in {code for street_communities in groups.values()
                             for code, _name in street_communities}:  # fmt: skip
            community = None  # one of another street: the street was changed
    elif community:
        groups = areas.community_choices(community_code=community)
    else:
        groups = {}
    wishes = aid.wall(community_code=community, street_code=street, status=status,
                      cursor=cursor_arg(args))  # fmt: skip
    chosen = {
        k: v for k, v in (("community", community), ("street", street), ("status", status)) if v
    }
    return render_template(
        "mutual_aid/_wall_body.html", wishes=wishes, community=community, street=street,
        status=status, communities=communities_by_street(groups),
        streets=areas.street_choices(), args=chosen,
    )  # fmt: skip


@bp.get("/wishes/<int:wish_id>")
def show_wish(wish_id):
    wish = aid.visible_wish(current_user, wish_id)
    # Staff of the wish's own community (an admin: all) see the notes and confirm it.
    scope = managed_community_ids(current_user) if has_role(current_user, Role.STAFF) else set()
    staff = scope is None or wish.community_id in scope
    return render_template(
        "mutual_aid/wish.html", wish=wish, fulfil_form=FulfilForm(), confirm_form=ConfirmWishForm(),
        photo_form=PhotoForm(), staff=staff, party_until=aid.party_window_ends(wish),
    )  # fmt: skip


@bp.get("/wishes/<int:wish_id>/photo.jpg")
def wish_photo(wish_id):
    """The photo of a fulfilled wish: on the wall only with the asker's consent."""
    wish = aid.visible_wish(current_user, wish_id)
    # Small once re-encoded: read whole, no file left open behind a streamed response.
    photo = io.BytesIO(aid.photo_path(current_user, wish).read_bytes())
    response = send_file(photo, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"  # consent may be withdrawn
    return response


@bp.post("/wishes/<int:wish_id>/photo")
@login_required
def upload_photo(wish_id):
    form = PhotoForm()
    data = form.photo.data.read() if form.validate() else None
    aid.add_photo(current_user, wish_id, data)
    flash(_("The photo is kept. The wall shows it once the person the wish was for agrees."),
          "success")  # fmt: skip
    return redirect(url_for("mutual_aid.show_wish", wish_id=wish_id))


@bp.post("/wishes/<int:wish_id>/photo-consent/<any(yes, no):answer>")
@login_required
def photo_consent(wish_id, answer):
    aid.set_consent(current_user, wish_id, consent=answer == "yes")
    if answer == "yes":
        flash(_("Thank you: the wall shows the photo."), "success")
    else:
        flash(_("The wall no longer shows the photo."), "success")
    return redirect(url_for("mutual_aid.show_wish", wish_id=wish_id))


@bp.route("/wishes/new", methods=["GET", "POST"])
@login_required
def new_wish():
    staff = has_role(current_user, Role.STAFF)
    form = WishForm()
    form.category.choices = options((value, label) for value, label in aid.CATEGORY_LABELS.items())
    form.community.choices = options([], blank=_("My home community")) + communities_by_street(
        areas.community_choices()
    )
    if not staff:
        del form.person
    if form.validate_on_submit():
        try:
            for_user_id = None
            if staff and form.person.data:
                for_user_id = aid.find_person(current_user, form.person.data).id
            wish = aid.post_wish(
                current_user,
                title=form.title.data,
                description=form.description.data,
                category=form.category.data,
                value_cap=form.value_cap.data,
                community_code=form.community.data or None,
                for_user_id=for_user_id,
            )
        except DomainError as error:
            if error.code == "person_not_found" and staff:
                form.person.errors = [*form.person.errors, error.message]
            else:
                show_error(form, error)
        else:
            flash(_("The wish has been sent to the community for vetting."), "success")
            return redirect(url_for("mutual_aid.show_wish", wish_id=wish.id))
    return render_template("mutual_aid/new_wish.html", form=form, limit=aid.value_limit())


@bp.post("/wishes/<int:wish_id>/claim")
@login_required
def claim_wish(wish_id):
    aid.claim(current_user, wish_id)
    flash(_("You claimed the wish. Thank you!"), "success")
    return redirect(url_for("mutual_aid.show_wish", wish_id=wish_id))


@bp.post("/wishes/<int:wish_id>/fulfil")
@login_required
def fulfil_wish(wish_id):
    form = FulfilForm()
    aid.fulfil(current_user, wish_id, note=form.note.data if form.validate() else "")
    flash(_("Thank you! The community will confirm it."), "success")
    return redirect(url_for("mutual_aid.show_wish", wish_id=wish_id))


@bp.post("/wishes/<int:wish_id>/release")
@login_required
def release_wish(wish_id):
    aid.release(current_user, wish_id, reason=request.form.get("reason", "")[:500])
    flash(_("The wish is back on the wall."), "success")
    return redirect(url_for("mutual_aid.show_wish", wish_id=wish_id))


@bp.get("/my/wishes")
@login_required
def my_wishes():
    asked, claimed = aid.my_wishes(current_user)
    return render_template("mutual_aid/my_wishes.html", asked=asked, claimed=claimed)


@bp.get("/my/points")
@login_required
def my_points():
    balance, entries = aid.my_points(current_user, cursor=cursor_arg(request.args))
    return render_template("mutual_aid/my_points.html", balance=balance, entries=entries)


@bp.get("/staff/wishes")
@role_required(Role.STAFF)
def staff_wishes():
    status = request.args.get("status") if request.args.get("status") in aid.QUEUES else None
    queue = aid.staff_queue(current_user, status=status, cursor=cursor_arg(request.args))
    return render_template("mutual_aid/staff_wishes.html", queue=queue,
                           confirm_form=ConfirmWishForm())  # fmt: skip


@bp.get("/staff/mutual-aid")
@role_required(Role.STAFF)
@reads_from_replica
def dashboard():
    year = year_arg()
    data = reports.dashboard(current_user, year)
    return render_template("mutual_aid/dashboard.html", year=year, data=data)


@bp.post("/staff/wishes/<int:wish_id>/<any(publish, reject):decision>")
@role_required(Role.STAFF)
def vet_wish(wish_id, decision):
    aid.vet(current_user, wish_id, publish=decision == "publish",
            note=request.form.get("note", "")[:500])  # fmt: skip
    if decision == "publish":
        flash(_("The wish is on the wall."), "success")
    else:
        flash(_("The wish is turned down."), "success")
    return redirect(url_for("mutual_aid.staff_wishes"))


@bp.post("/staff/wishes/<int:wish_id>/confirm")
@role_required(Role.STAFF)
def confirm_wish(wish_id):
    require_role(current_user, Role.STAFF)
    form = ConfirmWishForm()
    minutes = form.minutes.data if form.validate() else None
    aid.confirm(current_user, wish_id, minutes=minutes)
    flash(_("Confirmed: the volunteer has the service on their record."), "success")
    return redirect(url_for("mutual_aid.staff_wishes"))


def _item_form(form):
    # Staff add items to their own communities only: the choice is theirs, not the city's 955
    # (an admin's: all of them).
    scope = managed_community_ids(current_user)
    form.community.choices = communities_by_street(areas.community_choices(ids=scope))
    return form


@bp.route("/staff/shop", methods=["GET", "POST"])
@role_required(Role.STAFF)
def shop():
    require_role(current_user, Role.STAFF)
    form = _item_form(ItemForm())
    if form.validate_on_submit():
        try:
            aid.add_item(current_user, community_code=form.community.data, name=form.name.data,
                         points=form.points.data, stock=form.stock.data)  # fmt: skip
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The item is on the shelf."), "success")
            return redirect(url_for("mutual_aid.shop"))
    return render_template("mutual_aid/shop.html", items=aid.items(current_user), form=form,
                           stock_form=StockForm(), month=aid.this_month())  # fmt: skip


@bp.post("/staff/shop/items/<int:item_id>/stock")
@role_required(Role.STAFF)
def add_stock(item_id):
    require_role(current_user, Role.STAFF)
    form = StockForm()
    valid = form.validate()
    aid.add_stock(current_user, item_id, quantity=form.quantity.data if valid else 0,
                  reason=form.reason.data if valid else "")  # fmt: skip
    flash(_("The stock is updated."), "success")
    return redirect(url_for("mutual_aid.shop"))


@bp.route("/staff/shop/counter", methods=["GET", "POST"])
@role_required(Role.STAFF)
def counter():
    require_role(current_user, Role.STAFF)
    query = (request.values.get("q") or "").strip()[:254]
    person, balance, form = None, None, RedeemForm()
    if query:
        try:
            person = aid.find_person(current_user, query)
        except DomainError as error:
            flash(error.message, "error")
    if person is not None:
        balance = aid.my_points(person)[0]
    shelf = [item for item in aid.items(current_user) if item.stock > 0]
    form.item.choices = options(
        (item.id, f"{item.name} · {item.points} · {item.community.name}") for item in shelf
    )
    if request.method == "POST" and not form.validate_on_submit():
        form.form_errors.append(_("Choose an item and a quantity from 1 to 100."))
    elif request.method == "POST":
        try:
            redemption = aid.redeem(
                current_user,
                item_id=int(form.item.data),
                user_id=form.user_id.data,
                quantity=form.quantity.data,
            )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("Redeemed. Print the slip for the resident."), "success")
            return redirect(url_for("mutual_aid.slip", redemption_id=redemption.id))
    return render_template("mutual_aid/counter.html", query=query, person=person,
                           balance=balance, form=form, shelf=shelf)  # fmt: skip


@bp.get("/staff/shop/redemptions/<int:redemption_id>")
@role_required(Role.STAFF)
def slip(redemption_id):
    redemption = aid.redemption_for_staff(current_user, redemption_id)
    return render_template("mutual_aid/slip.html", redemption=redemption, form=ReverseForm())


@bp.post("/staff/shop/redemptions/<int:redemption_id>/reverse")
@role_required(Role.STAFF)
def reverse_redemption(redemption_id):
    require_role(current_user, Role.STAFF)
    form = ReverseForm()
    aid.reverse(current_user, redemption_id, reason=form.reason.data if form.validate() else "")
    flash(_("The redemption is reversed: points and stock are back."), "success")
    return redirect(url_for("mutual_aid.slip", redemption_id=redemption_id))


@bp.get("/staff/shop/report.xlsx")
@role_required(Role.STAFF)
@reads_from_replica
def shop_report():
    require_role(current_user, Role.STAFF)
    code = (request.args.get("community") or "").strip()[:20]
    month = (request.args.get("month") or aid.this_month()).strip()[:7]
    community, rows = aid.monthly_report(current_user, code, month)
    columns = [
        Column(_("Item")),
        Column(_("Quantity"), "int", total=True),
        Column(_("Points"), "int", total=True),
        Column(_("Redemptions"), "int", total=True),
    ]
    report = Report(community.name, _("Love supermarket"), month, columns)
    return download(xlsx_bytes(report, rows), XLSX,
                    f"love-supermarket-{community.code}-{month}.xlsx")  # fmt: skip
