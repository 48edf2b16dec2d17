"""The photo of a fulfilled wish: uploaded by its claimer or its community's staff, shown on
the wall only with the asker's consent (given by the asker, or by staff on behalf of someone
without a phone, who agreed in person).

An upload is checked by its bytes, not its name or its declared type: Pillow must read it as a
JPEG, PNG or WebP picture within WISH_PHOTO_MAX_BYTES and WISH_PHOTO_MAX_PIXELS. It is then
re-encoded as a new JPEG of at most 1600 pixels a side, which keeps none of the original's
metadata (no EXIF, so never the place it was taken), and stored under a random name in
WISH_PHOTO_DIR (the instance folder's wish-photos by default)."""

import io
import logging
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from neighbors.core import audit
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict, Invalid, NotFound
from neighbors.core.permissions import require_user
from neighbors.mutual_aid.models import WishStatus
from neighbors.mutual_aid.wishes import PUBLIC, concerned, locked_for

logger = logging.getLogger(__name__)

FORMATS = {"JPEG", "PNG", "WEBP"}
# The first bytes of each accepted format: refused before Pillow parses anything else.
MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF")
LONGEST_SIDE = 1600
DONE = (WishStatus.FULFILLED, WishStatus.CONFIRMED)


def folder():
    configured = current_app.config.get("WISH_PHOTO_DIR")
    path = Path(configured) if configured else Path(current_app.instance_path) / "wish-photos"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _refused():
    limit = current_app.config["WISH_PHOTO_MAX_BYTES"] // (1024 * 1024)
    return Invalid.from_fields(
        {"photo": _("Choose a photo (JPEG, PNG or WebP) of at most %(n)s MB.", n=limit)}
    )


def clean_jpeg(data):
    """The picture in `data` re-encoded as a JPEG without metadata, turned upright, at most
    LONGEST_SIDE pixels a side. Raises Invalid for anything else or anything too large."""
    if (
        not isinstance(data, bytes)
        or not 0 < len(data) <= current_app.config["WISH_PHOTO_MAX_BYTES"]
        or not data.startswith(MAGIC)
        or (data.startswith(b"RIFF") and data[8:12] != b"WEBP")
    ):
        raise _refused()
    try:
        with Image.open(io.BytesIO(data), formats=sorted(FORMATS)) as image:
            width, height = image.size
            if width * height > current_app.config["WISH_PHOTO_MAX_PIXELS"]:
                raise _refused()
            image.load()
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise _refused() from None
    upright.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    # A new image of the pixels alone: nothing of the original's info (EXIF, GPS, XMP, ICC).
    bare = Image.new("RGB", upright.size)
    bare.paste(upright)
    out = io.BytesIO()
    bare.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def add_photo(actor, wish_id, data):
    """Keep a photo of a fulfilled (or confirmed) wish; it replaces an earlier one and waits
    for the asker's consent before the wall shows it.

    Raises NotAuthenticated, NotFound (neither its claimer nor its community's staff),
    Conflict (not_fulfilled), Invalid (not a photo, or too large)."""
    require_user(actor)
    with transaction():  # who asks, before reading what they sent
        _may_add(locked_for(actor, wish_id, "claimer")[0])
    jpeg = clean_jpeg(data)
    name = f"{secrets.token_hex(16)}.jpg"
    path = folder() / name
    path.write_bytes(jpeg)
    try:
        with transaction():
            wish, _own = locked_for(actor, wish_id, "claimer")
            _may_add(wish)
            old = wish.photo_name
            wish.photo_name, wish.photo_at = name, utcnow()
            audit.record(actor, "wish.photo", wish, bytes=len(jpeg))
    except Exception:
        path.unlink(missing_ok=True)
        raise
    if old:
        (folder() / old).unlink(missing_ok=True)
    return wish


def _may_add(wish):
    if wish.status not in DONE:
        raise Conflict(_("A photo is added once the wish is fulfilled."), code="not_fulfilled")


def set_consent(actor, wish_id, *, consent):
    """The asker agrees (or no longer agrees) that the wall shows the photo; staff of the
    community may record it for an asker without a phone.

    Raises NotAuthenticated, NotAllowed, NotFound."""
    require_user(actor)
    with transaction():
        wish, by_asker = locked_for(actor, wish_id, "asker")
        wish.photo_consent = bool(consent)
        audit.record(actor, "wish.photo_consent", wish, consent=bool(consent),
                     on_behalf=not by_asker)  # fmt: skip
    return wish


def shown(actor, wish):
    """Whether this person may see the wish's photo."""
    if not wish.photo_name:
        return False
    on_wall = wish.status in PUBLIC and wish.photo_consent
    return on_wall or concerned(actor, wish)


def photo_path(actor, wish):
    """The file of the wish's photo for this person. Raises NotFound without consent (to
    everyone but those concerned) or without a photo."""
    if not shown(actor, wish):
        raise NotFound(_("Not found."))
    path = folder() / wish.photo_name
    if not path.is_file():
        logger.warning("wish %s: its photo file is missing", wish.id)
        raise NotFound(_("Not found."))
    return path
