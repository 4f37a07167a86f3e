"""Uploads for the web app: the app's limits and reading an uploaded file as ``yanreform tag`` reads it.

Uploads go through :func:`yanreform.io.readers.open_input` on a copy of the bytes in a private temporary
folder (mode 0700) under a fixed name; the only part of the client's file name that is used is its suffix,
and only after it matched a suffix of ``INPUT_KINDS``, so no request value reaches a filesystem path. The
folder is removed before :func:`read_upload` returns.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import InputError, ParseError, YanreformError

if TYPE_CHECKING:
    from ...io.records import Record

log = logging.getLogger("yanreform")

__all__ = ["Limits", "TooLarge", "UnsupportedType", "display_name", "read_upload"]


class TooLarge(InputError):
    """An upload or text over one of the app's limits (HTTP 413)."""


class UnsupportedType(InputError):
    """An upload whose file type no reader handles (HTTP 415)."""


@dataclass(frozen=True)
class Limits:
    """The app's limits. ``max_upload_bytes``: largest request body, uploads included (bytes);
    ``max_chars``: longest pasted text or total upload text (characters); ``max_records``: most records one
    upload may hold; ``max_k``: most related cases one request may ask for."""

    max_upload_bytes: int = 10 * 1024 * 1024
    max_chars: int = 200_000
    max_records: int = 500
    max_k: int = 50

    def __post_init__(self) -> None:
        for name in ("max_upload_bytes", "max_chars", "max_records", "max_k"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(f"Limits.{name} must be a positive integer, got {v!r}")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def display_name(filename: str | None) -> str:
    """The client's file name as shown to people: its last path component (``/`` or ``\\``), control
    characters removed, at most 100 characters; ``"upload"`` when nothing is left. Never used as a path."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = _CONTROL.sub("", unicodedata.normalize("NFC", name)).strip()
    return name[:100] or "upload"


def _known_suffix(name: str) -> str:
    """The reader suffix (a key of ``INPUT_KINDS``, our own string) matching ``name``'s suffix;
    UnsupportedType naming the supported ones otherwise."""
    from ...io.readers import INPUT_KINDS

    wanted = Path(name).suffix.lower()
    for suffix in INPUT_KINDS:
        if suffix == wanted:
            return suffix
    known = ", ".join(sorted(INPUT_KINDS))
    what = f"file type {wanted!r}" if wanted else "a file without a suffix"
    raise UnsupportedType(f"{name}: cannot read {what}; upload one of: {known}")


def read_upload(data: bytes, filename: str | None, *, limits: Limits) -> tuple[str, str, list[Record]]:
    """Read uploaded bytes as ``yanreform tag`` reads a file of that type.

    Returns ``(display name, input kind, records)``: records in input order, bad ones with ``error`` set
    (records in == records out); file locations in messages and ids name the upload, not the temporary copy.
    A collection ``.txt`` without case structure becomes one record holding the whole text (as a ``.docx``
    does).

    Raises:
        UnsupportedType: no reader for the file's suffix.
        InputError: an empty or unreadable file, undecodable text (the message names the upload and line).
        TooLarge: more than ``limits.max_records`` records or ``limits.max_chars`` characters of text.
    """
    from ...io.readers import decode_bytes, input_kind, open_input
    from ...io.records import Record

    name = display_name(filename)
    suffix = _known_suffix(name)
    if not data or not data.strip():
        raise InputError(f"{name}: the file is empty")
    tmp = Path(tempfile.mkdtemp(prefix="yanreform-web-"))  # mode 0700: private to this user
    path = tmp / f"submission{suffix}"
    tmp_s = str(path)

    def fix(s: str) -> str:
        return s.replace(tmp_s, name).replace(str(tmp), "")

    try:
        path.write_bytes(data)
        kind = input_kind(tmp_s)
        try:
            src = open_input(tmp_s)
            records: list[Record] = []
            for rec in src:
                records.append(rec)
                if len(records) > limits.max_records:
                    raise TooLarge(
                        f"{name}: more than {limits.max_records:,} records; the web app takes at most "
                        f"{limits.max_records:,} per upload (use `yanreform tag` for batch work)"
                    )
        except ParseError as exc:
            if kind != "collection":
                raise InputError(fix(str(exc))) from None
            # plain text without case structure: tag it whole (undecodable bytes still raise InputError)
            text = decode_bytes(data, where=name)
            if not text.strip():
                raise InputError(f"{name}: the file is empty") from None
            records = [Record(name, text, f"{name}:1")]
        except YanreformError as exc:
            if isinstance(exc, TooLarge):
                raise
            raise type(exc)(fix(str(exc))) from None
        except Exception as exc:  # a reader library's own error on a damaged file: say so, in one line
            log.debug("upload %s: reader failed", name, exc_info=True)
            raise InputError(f"{name}: not a readable {suffix} file ({type(exc).__name__}: {exc})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for rec in records:
        rec.where = fix(rec.where)
        if isinstance(rec.id, str):
            rec.id = fix(rec.id)
        if rec.error is not None:
            rec.error = fix(rec.error)
    total = sum(len(r.text) for r in records if r.text is not None)
    if total > limits.max_chars:
        raise TooLarge(
            f"{name}: {total:,} characters of text; the web app takes at most {limits.max_chars:,} per "
            "upload (use `yanreform tag` for batch work)"
        )
    if not records:
        raise InputError(f"{name}: no records to tag (the file holds no text)")
    return name, kind, records
