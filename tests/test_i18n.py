"""Translations: both catalogues hold every message of the code, translated, placeholders intact."""

import re

import pytest
from babel.messages.extract import extract_from_dir

from tests.i18n import LANGUAGES, TRANSLATIONS, po_path, read_catalog, translated

PLACEHOLDER = re.compile(r"%\(\w+\)s")
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def source_messages():
    method_map = [("neighbors/**.py", "python"), ("neighbors/**/templates/**.html", "jinja2")]
    root = TRANSLATIONS.parent.parent
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(root), method_map=method_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogue_is_complete(lang):
    catalog = read_catalog(po_path(lang))
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    missing = source_messages() - ids
    assert not missing, f"run `python3 manage.py translations`, then translate: {missing}"
    untranslated = [m.id for m in catalog if m.id and (not translated(m) or m.fuzzy)]
    assert not untranslated, f"{lang}: untranslated or fuzzy: {untranslated}"
    broken = [
        m.id
        for m in catalog
        if m.id and set(PLACEHOLDER.findall(str(m.id))) != set(PLACEHOLDER.findall(str(m.string)))
    ]
    assert not broken, f"{lang}: placeholders differ: {broken}"
