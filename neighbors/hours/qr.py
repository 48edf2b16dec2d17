"""QR codes for certificates, as inline SVG (segno)."""

import io

import segno
from markupsafe import Markup


def qr_svg(text, title="QR", fluid=False):
    """An SVG QR code of the text, safe to place in a page; `fluid` leaves its size to the
    style sheet (a viewBox, no width or height)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(
        buffer,
        kind="svg",
        scale=4,
        xmldecl=False,
        svgns=True,
        title=title,
        dark="#000",
        omitsize=fluid,
    )
    return Markup(buffer.getvalue().decode())  # noqa: S704 - segno's own SVG, no user markup
