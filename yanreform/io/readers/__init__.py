"""Streaming readers: an input file -> a stream of :class:`~yanreform.io.records.Record`, one per record.

Readers turn an input file into a stream of :class:`Record` s, one per record to tag, in input order. A
record that cannot be used (invalid JSON line, not an object, missing/empty/non-text text, undecodable
bytes) is still yielded, with ``error`` set to a message that says what and where (``file:line``), so that
a batch run writes exactly one output record per input record. Problems with a whole input (missing file,
unknown type, missing column, a scanned PDF, no converter for a .doc) raise
:class:`~yanreform.errors.InputError` when the input is opened, before any work starts.

Supported inputs (chosen by suffix), one module each:

* ``.txt`` (:mod:`.document`) — a reform-case collection in any encoding
  :func:`yanreform.corpus.read_collection` handles: one record per initiative (or per case with
  ``level="case"``), id = initiative id ``<stem>-01-i1`` (the file stem as prefix, the one id rule of
  :func:`yanreform.corpus.read_collection`), with ``case_id``, ``agency``, ``title``, ``heading`` kept.
  Text without case structure is one record; an empty file one error record.
* ``.docx`` (:mod:`.word`) — paragraphs and tables (merged cells once; a 申报表 form's labelled cells
  become ``agency``/``title``/text; a list table gives a record per row), then as ``.txt``.
* ``.doc`` / ``.wps`` (:mod:`.word`) — converted by LibreOffice headless, antiword or catdoc, whichever is
  installed; an error naming what to install when none is.
* ``.pdf`` (:mod:`.pdf`) — the text layer (pypdf), page-number lines dropped; a scanned PDF is refused.
* ``.jsonl`` / ``.ndjson`` (:mod:`.delimited`) — one JSON object per line; ``-`` reads stdin. A text field
  absent from all of the first records is refused like a missing CSV column.
* ``.csv`` / ``.tsv`` (:mod:`.delimited`) — a header row (found under a title row); encoding sniffed.
* ``.xlsx`` / ``.xls`` (:mod:`.sheets`) — every sheet with the text column, or ``sheet=NAME``; header
  row given (``header_row``) or found under a title row.

Records without an id get ``<file>:<line>`` (``<file>:<row>`` for spreadsheets). Blank lines and fully
empty rows are not records. Every record keeps its input fields in ``Record.fields``.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from ...errors import InputError
from ..records import Record
from ._base import InputSource, ListSource, check_file, decode_bytes, read_bytes, read_text_file
from .delimited import CsvSource, JsonlSource, open_jsonl
from .document import text_records
from .sheets import SheetSource, open_sheet

__all__ = [
    "DOCUMENT_KINDS",
    "INPUT_KINDS",
    "LEVELS",
    "TABLE_KINDS",
    "CsvSource",
    "InputSource",
    "JsonlSource",
    "SheetSource",
    "collection_id_prefix",
    "decode_bytes",
    "input_kind",
    "open_input",
    "read_document_text",
    "read_text_file",
]

#: suffix -> input kind
INPUT_KINDS: dict[str, str] = {
    ".txt": "collection",
    ".docx": "docx",
    ".doc": "doc",
    ".wps": "doc",
    ".pdf": "pdf",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
}

#: kinds whose file is one document (parsed as a collection or read whole)
DOCUMENT_KINDS = frozenset({"collection", "docx", "doc", "pdf"})
#: kinds with a row or object per record (named text and id columns)
TABLE_KINDS = frozenset({"jsonl", "csv", "xlsx", "xls"})
#: record levels of collections: one record per initiative, or per case (lead and outcome included)
LEVELS = ("initiative", "case")


def collection_id_prefix(p: str | Path) -> str:
    """Case-id prefix of a collection file: its stem (see :func:`yanreform.corpus.collection_id_prefix`)."""
    from ...corpus import collection_id_prefix as prefix

    return prefix(p)


def input_kind(spec: str) -> str:
    """The input kind of a path (one of :data:`INPUT_KINDS`' values); ``-`` is JSONL.

    Raises :class:`InputError` for an unknown suffix, naming the supported ones.
    """
    if spec == "-":
        return "jsonl"
    suffix = Path(spec).suffix.lower()
    kind = INPUT_KINDS.get(suffix)
    if kind is None:
        what = f"unknown file type {suffix!r}" if suffix else "no file suffix"
        raise InputError(
            f"{spec}: {what}; expected .txt (collection), .docx, .doc, .wps, .pdf, .jsonl, .csv, .tsv, "
            ".xlsx, .xls, or - for stdin"
        )
    return kind


def open_input(
    spec: str,
    *,
    text_column: str = "text",
    id_column: str | None = None,
    stdin: IO[bytes] | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    level: str = "initiative",
) -> InputSource:
    """Open and validate one input; see the module docstring for the formats.

    Args:
        spec: a path, or ``-`` for JSONL on stdin (``stdin`` overrides ``sys.stdin.buffer``).
        text_column, id_column: field or column names (JSONL, CSV, spreadsheets); ``id_column=None`` means
            use ``id`` when present, else generate ``<file>:<line>`` ids; a named id column must exist.
        sheet: read only this sheet of a workbook (other kinds ignore it).
        header_row: 1-based row of the header in CSV/TSV and spreadsheets (default: found).
        level: ``"initiative"`` (default) or ``"case"``: one record per initiative or per case of a
            collection (documents only).

    Raises:
        InputError: unknown file type, missing or unreadable file, a missing column or sheet (the message
            lists the available ones), a scanned PDF, a .doc with no converter installed, a bad ``level``.
    """
    if level not in LEVELS:
        raise InputError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    kind = input_kind(spec)
    kw: dict[str, Any] = {"text_column": text_column, "id_column": id_column}
    if kind == "jsonl":
        return open_jsonl(spec, stdin=stdin, **kw)
    if kind == "csv":
        return CsvSource(spec, header_row=header_row, **kw)
    if kind in ("xlsx", "xls"):
        return open_sheet(spec, kind, sheet=sheet, header_row=header_row, **kw)
    p = check_file(spec)
    return ListSource(spec, kind, _document_records(p, spec, kind, level), **kw)


def _document_records(p: Path, spec: str, kind: str, level: str) -> list[Record]:
    if kind == "collection":
        return text_records(decode_bytes(read_bytes(p), where=spec), spec, p, level=level)
    if kind == "docx":
        from .word import docx_records

        return docx_records(p, spec, level=level)
    if kind == "doc":
        from .word import legacy_records

        return legacy_records(p, spec, level=level)
    if kind == "pdf":
        from .pdf import pdf_records

        return pdf_records(p, spec, level=level)
    raise AssertionError(kind)  # pragma: no cover


def read_document_text(spec: str) -> str:
    """The whole text of a document input (.txt, .docx, .doc/.wps, .pdf), for a query or a preview.

    Tables that are forms or lists contribute their records' texts. Raises InputError for other kinds
    (use :func:`open_input` for files of records) and for unreadable files.
    """
    kind = input_kind(spec)
    if kind not in DOCUMENT_KINDS:
        raise InputError(f"{spec}: not a document (.txt, .docx, .doc, .wps, .pdf)")
    p = check_file(spec)
    if kind == "collection":
        return decode_bytes(read_bytes(p), where=spec)
    if kind == "pdf":
        from .pdf import pdf_text

        return pdf_text(p, spec)
    records = _document_records(p, spec, kind, "case")
    return "\n".join(r.text for r in records if r.text)
