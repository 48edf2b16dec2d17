"""Documents opened in the programs their readers use: XLSX converted to PDF by LibreOffice
(headless, as printed on its default settings) and read back with pdftotext -layout.

CI installs libreoffice-calc-nogui and poppler-utils; where they are missing the tests that
need them are skipped, saying so."""

import shutil
import subprocess
from pathlib import Path

import pytest


def require_office():
    """soffice and pdftotext, or the test is skipped with what to install."""
    missing = [name for name in ("soffice", "pdftotext") if shutil.which(name) is None]
    if missing:
        pytest.skip(
            f"{' and '.join(missing)} not installed: install libreoffice-calc-nogui and "
            "poppler-utils to check the spreadsheets as printed"
        )


def to_pdf(paths, folder):
    """Each file converted to PDF by one LibreOffice run (its own profile in `folder`, so
    parallel runs never share one). Returns the PDFs' paths in the same order."""
    folder = Path(folder)
    profile = (folder / "lo-profile").resolve().as_uri()
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            *map(str, paths),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    pdfs = [folder / (Path(path).stem + ".pdf") for path in paths]
    assert all(pdf.exists() for pdf in pdfs), "LibreOffice made no PDF for some files"
    return pdfs


def pdf_pages(pdf):
    """The text of each page, laid out as printed (pdftotext -layout)."""
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return text.rstrip("\f").split("\f")
