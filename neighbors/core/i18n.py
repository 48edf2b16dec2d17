"""Translations found once per locale. Flask-Babel's gettext looks up its context three times,
the locale twice and builds the locale's name for every string (~50 µs a string here; a list
page translates ~80): its domain here keeps each locale's catalogue by the Locale object."""

import flask_babel
from flask import g


class Domain(flask_babel.Domain):
    """The default domain, whose catalogue look-up is one attribute and one dict away."""

    def __init__(self):
        super().__init__()
        self._by_locale = {}

    def get_translations(self):
        # force_locale and refresh() change babel_locale: the catalogue follows it.
        locale = getattr(g.get("_flask_babel"), "babel_locale", None) if g else None
        if locale is None:  # outside a request, or its first string: Flask-Babel decides
            return super().get_translations()
        try:
            return self._by_locale[locale]
        except KeyError:
            catalogue = self._by_locale[locale] = super().get_translations()
            return catalogue


def install(app, babel):
    """Use the fast domain for the code's gettext and the templates' (after babel.init_app)."""
    domain = Domain()
    babel.__dict__["domain_instance"] = domain  # Babel.domain_instance is a cached_property
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: domain.get_translations().ugettext(s),
        ngettext=lambda s, p, n: domain.get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: domain.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: domain.get_translations().unpgettext(c, s, p, n),
    )


def locale():
    """The current Locale (None outside a request), without Flask-Babel's look-ups once known."""
    found = getattr(g.get("_flask_babel"), "babel_locale", None) if g else None
    return found if found is not None else flask_babel.get_locale()
