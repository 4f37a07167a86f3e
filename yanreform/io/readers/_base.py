"""What every reader shares: the :class:`InputSource` base, record checks, byte decoding, file access.

A source is validated when it is opened (missing file, unknown type, missing column: an error before any
work starts) and streamed by iteration. Every reader turns each input record into exactly one
:class:`~yanreform.io.records.Record`; a record that cannot be used still comes out, with ``error`` set to a
message naming what is wrong and where (``file:line``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ...errors import InputError, MissingColumnError, ParseError
from ..records import Record

log = logging.getLogger("yanreform")

#: sentinel: the field or cell is absent (as opposed to present and null)
MISSING: Any = object()


class InputSource:
    """One opened input: validated eagerly, streamed by iteration (an iterable of :class:`Record`).

    Made by :func:`yanreform.io.open_input`. Attributes: ``spec`` (the input as given), ``name`` (``<stdin>``
    for ``-``), ``kind`` (``collection``, ``docx``, ``pdf``, ``doc``, ``jsonl``, ``csv``, ``xlsx``, ``xls``),
    ``columns`` (the header of a table input, None otherwise), ``has_meta`` (records carry the collection
    fields of :data:`~yanreform.io.records.META_FIELDS`), ``text_column`` and ``id_column``.
    Iterating a file source twice reads it twice; stdin can be read once.
    """

    kind: str = "?"

    def __init__(self, spec: str, *, text_column: str = "text", id_column: str | None = None) -> None:
        self.spec = spec
        self.name = "<stdin>" if spec == "-" else spec
        self.text_column = text_column
        self.id_column = id_column
        self.columns: list[str] | None = None
        self.has_meta = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, kind={self.kind!r})"

    def __iter__(self) -> Iterator[Record]:  # pragma: no cover - every source overrides it
        raise NotImplementedError

    def estimate_total(self) -> int | None:
        """The number of records, when it can be known cheaply (for a progress bar), else None."""
        return None

    # -- shared record checks ------------------------------------------------------------------------------
    def make(self, rid: Any, text: Any, where: str, fields: dict[str, Any]) -> Record:
        """The record of one input row/object (``fields``: all its fields, kept for the output), or an
        error record saying what is wrong with it and where."""
        rec = check_record(rid, text, where, self.text_column, self.id_column or "id")
        rec.fields = fields
        return rec


class ListSource(InputSource):
    """A source whose records were made when it was opened (collections and documents: small)."""

    def __init__(self, spec: str, kind: str, records: list[Record], **kw: Any) -> None:
        super().__init__(spec, **kw)
        self.kind = kind
        self.records = records
        self.has_meta = any(r.meta for r in records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def estimate_total(self) -> int | None:
        return len(self.records)


def check_record(rid: Any, text: Any, where: str, tcol: str, icol: str) -> Record:
    """A :class:`Record`, or an error record when the id or the text cannot be used.

    ``rid``: None or "" gives the id ``where``; ``text``: :data:`MISSING`, None, a non-string, undecodable
    bytes or blank text make an error record (the message names the field and ``where``).
    """
    error = None
    if rid is None or rid == "" or rid is MISSING:
        rid = where
    elif isinstance(rid, str) and undecodable(rid):
        error = f"undecodable bytes in {icol!r} ({where})"
        rid = where
    elif isinstance(rid, float) and rid.is_integer():
        rid = int(rid)  # spreadsheets store integer ids as floats
    elif isinstance(rid, bool) or not isinstance(rid, str | int | float):
        error = f"{icol!r} must be a string or a number, not {json_type(rid)} ({where})"
        rid = where
    if error is not None:
        return Record(rid, None, where, error)
    if text is MISSING or text is None:
        return Record(rid, None, where, f"missing {tcol!r} ({where})")
    if not isinstance(text, str):
        return Record(rid, None, where, f"{tcol!r} is {json_type(text)}, not text ({where})")
    if undecodable(text):
        return Record(rid, None, where, f"undecodable bytes in {tcol!r} ({where})")
    if not text.strip():
        return Record(rid, None, where, f"empty {tcol!r} ({where})")
    return Record(rid, text, where)


def undecodable(s: str) -> bool:
    """True when ``s`` holds bytes that could not be decoded (lone surrogates from ``surrogateescape``)."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def json_type(v: Any) -> str:
    """``"a number"``, ``"an array"`` ... : what a value is, in words, for error messages."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int | float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list | tuple):
        return "an array"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def check_columns(where: str, header: Sequence[str], text_column: str, id_column: str | None) -> None:
    """MissingColumnError (an InputError) naming the column and listing the available ones."""
    avail = ", ".join(repr(h) for h in header) or "none"
    for col, what in ((text_column, "text"), (id_column, "id")):
        if col is not None and col not in header:
            raise MissingColumnError(f"{where}: no {what} column {col!r} (columns: {avail})")


def decode_bytes(data: bytes, *, where: str = "<bytes>") -> str:
    """Decode a whole text file as :func:`yanreform.corpus.decode_collection` does (BOM first: UTF-8, UTF-16,
    UTF-32; then strict UTF-8, then strict GB18030), so every input path shares one set of rules.

    Line endings are left as they are. Raises :class:`InputError` naming ``where`` (and the line) when no
    encoding fits.
    """
    from ...corpus import decode_collection

    try:
        return decode_collection(data, source=where)[0]
    except ParseError as exc:
        raise InputError(str(exc)) from None


def read_bytes(p: Path) -> bytes:
    """The bytes of a file; InputError (naming it) for a missing, unreadable file or a folder."""
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None


def read_text_file(path: str | os.PathLike[str]) -> str:
    """Read a whole text file with :func:`decode_bytes`; InputError for a missing or unreadable file."""
    p = Path(path)
    return decode_bytes(read_bytes(p), where=str(path))


def check_file(spec: str) -> Path:
    """The path of an input file that exists and can be read; InputError otherwise."""
    p = Path(spec)
    if not p.exists():
        raise InputError(f"{spec}: no such file")
    if p.is_dir():
        raise InputError(f"{spec}: is a folder, not a file")
    if not os.access(p, os.R_OK):
        raise InputError(f"{spec}: cannot read (permission denied)")
    return p


def need(module: str, spec: str, what: str, extra: str) -> Any:
    """Import an optional dependency, or InputError naming the extra that brings it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(
            f"{spec}: reading {what} needs the {module.split('.')[0]} package "
            f"(pip install 'yanreform[{extra}]')"
        ) from None
