"""PDF inputs with a text layer (pypdf): the pages' text, page-number footers removed, parsed like a .txt.

A scanned PDF (pages that are pictures, no text layer) is refused with an error that says so: yanreform
does no OCR. An encrypted PDF opens when it has no user password, and is refused otherwise.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ...errors import InputError
from ..records import Record
from ._base import need
from .document import text_records

#: a page with fewer non-blank characters than this has no usable text layer
MIN_PAGE_CHARS = 5


def pdf_text(path: Path, spec: str) -> str:
    """The text of a PDF's pages joined by newlines, page-number lines removed.

    Raises InputError for a file pypdf cannot open, an encrypted PDF with a password, or a PDF without a
    text layer (scanned pages).
    """
    pypdf = need("pypdf", spec, "PDF", "pdf")
    from ...corpus import is_page_number

    # pypdf reports recoverable oddities of real-world PDFs as warnings; they are not the user's problem
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(f"{spec}: the PDF is encrypted with a password; save an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    except Exception as exc:  # pypdf raises PdfReadError and assorted errors on damaged files
        raise InputError(f"{spec}: not a readable PDF ({type(exc).__name__}: {exc})") from None
    if not pages:
        raise InputError(f"{spec}: the PDF has no pages")
    if all(sum(not c.isspace() for c in t) < MIN_PAGE_CHARS for t in pages):
        raise InputError(
            f"{spec}: no text layer in its {len(pages)} page{'s' if len(pages) != 1 else ''} (a scanned "
            "PDF?): yanreform does not do OCR; run OCR first (e.g. ocrmypdf) or give the text as .txt/.docx"
        )
    out = []
    for t in pages:
        lines = t.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        # a footer or header that is only a page number is no content
        while lines and (not lines[-1].strip() or is_page_number(lines[-1].strip())):
            lines.pop()
        while lines and (not lines[0].strip() or is_page_number(lines[0].strip())):
            lines.pop(0)
        out.append("\n".join(lines))
    return "\n".join(out)


def pdf_records(path: Path, spec: str, *, level: str = "initiative") -> list[Record]:
    """Records of a PDF: its text parsed as a collection, else one record of the whole text."""
    return text_records(pdf_text(path, spec), spec, path, level=level)
