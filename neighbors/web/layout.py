"""The base layout's head links, header and footer, rendered once and kept in this process.

Their ~30 links and ~35 strings are the same for everyone who reaches the site under the same
address prefix, in the same language, with the same menu: rendering them on every page cost more
than most pages' own content. Each is rendered on first use per (part, prefix, locale, menu) and
kept; only the CSRF token and the language form's return address change per request, and they are
filled into the kept copy (escaped) as it is used. Nothing of the person's own is in it: the menu
is a handful of yes/no questions about the roles (Menu below), and the key holds their answers.

In development (templates reloaded on change) nothing is kept, so an edit shows at once.
"""

from typing import NamedTuple

from flask import current_app, render_template, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from neighbors.core import i18n
from neighbors.core.permissions import FOUNDATION_ROLES, Role, has_role

# Stand-ins rendered into the kept copy; no template or translation holds a NUL.
CSRF, NEXT = "\x00csrf\x00", "\x00next\x00"
# Parts × prefixes × locales × menus: a few dozen in practice; a bound all the same.
MAX_ENTRIES = 500


class Menu(NamedTuple):
    """What a signed-in person's menu shows beyond everybody's links."""

    staff: bool
    people: bool
    foundation: bool
    admin: bool


def menu_of(user):
    """The menu this user sees; None for a visitor (who gets the log-in links instead)."""
    if not user.is_authenticated:
        return None
    admin = has_role(user, Role.ADMIN)
    staff = has_role(user, Role.STAFF)
    area_staff = any(grant.street_id or grant.district_id for grant in user.roles)
    return Menu(
        staff=staff,
        people=staff and (admin or area_staff),
        foundation=has_role(user, *FOUNDATION_ROLES),
        admin=admin,
    )


def layout(part):
    """The layout's "head", "header" or "footer" for this request, as markup."""
    menu = menu_of(current_user) if part == "header" else None
    key = (part, request.script_root, str(i18n.locale()), menu)
    kept = current_app.extensions.setdefault("neighbors_layout", {})
    html = kept.get(key)
    if html is None:
        html = render_template(f"layout/{part}.html", menu=menu, csrf=CSRF, next_path=NEXT)
        html = html.strip()
        if not current_app.jinja_env.auto_reload:
            if len(kept) >= MAX_ENTRIES:
                kept.clear()
            kept[key] = html
    if part == "header":
        next_path = request.full_path if request.method == "GET" else ""
        # The token first: the return address is the visitor's text and is filled in last.
        html = html.replace(CSRF, generate_csrf()).replace(NEXT, escape(next_path))
    return Markup(html)  # noqa: S704 (our templates rendered it, escaping every value)
