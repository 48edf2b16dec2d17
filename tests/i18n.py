"""Catalogue helpers for the translation test and `manage.py translations`."""

from pathlib import Path

from babel.messages.pofile import read_po, write_po

TRANSLATIONS = Path(__file__).resolve().parent.parent / "neighbors" / "translations"
LANGUAGES = ("zh", "en")


def po_path(lang):
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


def read_catalog(path):
    with open(path, "rb") as handle:
        return read_po(handle)


def translated(message):
    """True when every form of the message has a translation."""
    strings = message.string if isinstance(message.string, tuple | list) else [message.string]
    return bool(strings) and all(strings)


def fill_english():
    """English is the source language: each English translation is its message id."""
    catalog = read_catalog(po_path("en"))
    for message in catalog:
        if message.id and (not translated(message) or message.fuzzy):
            message.string = message.id  # for plurals: (singular, plural), as English has
            message.flags.discard("fuzzy")
    with open(po_path("en"), "wb") as handle:
        write_po(handle, catalog, omit_header=False, no_location=True, sort_output=True)
