"""Streaming readers: an input file -> a stream of :class:`~yanreform.io.records.Record`, one per record.

Readers turn an input file into a stream of :class:`Record` s, one per record to tag, in input order. A
record that cannot be used (invalid JSON line, not an object, missing/empty/non-text text, undecodable bytes)
is still yielded, with ``error`` set to a message that says what and where (``file:line``), so that a batch
run writes exactly one output record per input record. Problems with a whole input (missing file, unknown
type, missing column, a collection that does not parse) raise :class:`~yanreform.errors.InputError` or
:class:`~yanreform.errors.ParseError` when the input is opened, before any work starts.

Supported inputs (chosen by suffix):

* ``.txt`` — a reform-case collection (any encoding :func:`yanreform.corpus.read_collection` handles); one
  record per initiative, id = initiative id, with ``case_id``, ``agency``, ``title``, ``heading`` kept.
* ``.docx`` — a submission: paragraphs joined with newlines and parsed as a collection; a document without
  case structure becomes one record holding the whole text.
* ``.jsonl`` / ``.ndjson`` — one JSON object per line with ``text`` and ``id`` (names configurable); ``-``
  reads JSONL from stdin. Read line by line: memory stays flat whatever the file size.
* ``.csv`` / ``.tsv`` — a header row; encoding sniffed (UTF-8 with or without BOM, UTF-16 with BOM,
  GB18030); streamed row by row.
* ``.xlsx`` — first worksheet, first row is the header; streamed with openpyxl's read-only mode.

Records without an id get ``<file>:<line>`` (``<file>:<row>`` for spreadsheets). Blank lines and fully
empty rows are not records.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from ..errors import InputError, ParseError
from .records import Record

__all__ = ["INPUT_KINDS", "InputSource", "decode_bytes", "input_kind", "open_input", "read_text_file"]

#: suffix -> input kind
INPUT_KINDS: dict[str, str] = {
    ".txt": "collection",
    ".docx": "docx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
}


def decode_bytes(data: bytes, *, where: str = "<bytes>") -> str:
    """Decode a whole text file as :func:`yanreform.corpus.decode_collection` does (BOM first: UTF-8, UTF-16,
    UTF-32; then strict UTF-8, then strict GB18030), so every input path shares one set of rules.

    Line endings are left as they are. Raises :class:`InputError` naming ``where`` (and the line) when no
    encoding fits.
    """
    from ..corpus import decode_collection

    try:
        return decode_collection(data, source=where)[0]
    except ParseError as exc:
        raise InputError(str(exc)) from None


def read_text_file(path: str | os.PathLike[str]) -> str:
    """Read a whole text file with :func:`decode_bytes`; InputError for a missing or unreadable file."""
    p = Path(path)
    return decode_bytes(_read_bytes(p), where=str(path))


def _read_bytes(p: Path) -> bytes:
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None


def _sniff_encoding(head: bytes) -> str:
    """Pick the encoding of a CSV from its first bytes (a multi-byte char cut at the end is tolerated)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for enc in ("utf-8", "gb18030"):
        try:
            head.decode(enc)
            return enc
        except UnicodeDecodeError as exc:
            # a character cut by the sample boundary is fine; anything earlier is not this encoding
            if exc.start >= len(head) - 3 and exc.reason.startswith(("unexpected end", "incomplete")):
                return enc
    return "utf-8"  # undecodable bytes surface per cell as bad records


def _undecodable(s: str) -> bool:
    """True when ``s`` holds bytes that could not be decoded (lone surrogates from ``surrogateescape``)."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def input_kind(spec: str) -> str:
    """The input kind of a path (``collection``, ``docx``, ``jsonl``, ``csv``, ``xlsx``); ``-`` is JSONL.

    Raises :class:`InputError` for an unknown suffix, naming the supported ones.
    """
    if spec == "-":
        return "jsonl"
    suffix = Path(spec).suffix.lower()
    kind = INPUT_KINDS.get(suffix)
    if kind is None:
        what = f"unknown file type {suffix!r}" if suffix else "no file suffix"
        raise InputError(
            f"{spec}: {what}; expected .txt (collection), .docx, .jsonl, .csv, .tsv, .xlsx, or - for stdin"
        )
    return kind


class InputSource:
    """One opened input: validated eagerly, streamed by iteration (an iterable of :class:`Record`).

    Use :func:`open_input` to make one. ``name`` is the input as given (``<stdin>`` for ``-``); ``kind``
    one of :data:`INPUT_KINDS`' values; ``has_meta`` is True for collections (records carry
    :data:`META_FIELDS`).
    Iterating a file source twice reads it twice; stdin can be read once.
    """

    def __init__(
        self,
        spec: str,
        kind: str,
        *,
        text_column: str,
        id_column: str | None,
        stdin: IO[bytes] | None = None,
        records: list[Record] | None = None,
        columns: Sequence[str] | None = None,
        encoding: str = "utf-8",
    ) -> None:
        self.spec = spec
        self.encoding = encoding
        self.name = "<stdin>" if spec == "-" else spec
        self.kind = kind
        self.text_column = text_column
        self.id_column = id_column
        self._stdin = stdin
        self._records = records  # collections and docx are parsed up front (they are small)
        self.columns = list(columns) if columns is not None else None
        self.has_meta = records is not None and any(r.meta for r in records)

    def __repr__(self) -> str:
        return f"InputSource({self.name!r}, kind={self.kind!r})"

    def __iter__(self) -> Iterator[Record]:
        if self._records is not None:
            return iter(self._records)
        if self.kind == "jsonl":
            return self._iter_jsonl()
        if self.kind == "csv":
            return self._iter_csv()
        if self.kind == "xlsx":
            return self._iter_xlsx()
        raise AssertionError(self.kind)  # pragma: no cover

    # -- JSONL -------------------------------------------------------------------------------------------
    def _iter_jsonl(self) -> Iterator[Record]:
        if self.spec == "-":
            stream = self._stdin if self._stdin is not None else sys.stdin.buffer
            yield from self._jsonl_lines(stream)
            return
        with open(self.spec, "rb") as f:
            yield from self._jsonl_lines(f)

    def _jsonl_lines(self, f: Iterable[bytes]) -> Iterator[Record]:
        tcol, icol = self.text_column, self.id_column or "id"
        for lineno, raw in enumerate(f, 1):
            where = f"{self.name}:{lineno}"
            if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Record(
                    where, None, where, f"undecodable bytes (not UTF-8) at column {exc.start + 1} ({where})"
                )
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                msg = f"invalid JSON: {exc.msg.removesuffix(' at')} at column {exc.colno} ({where})"
                yield Record(where, None, where, msg)
                continue
            if not isinstance(obj, dict):
                yield Record(where, None, where, f"not a JSON object but {_json_type(obj)} ({where})")
                continue
            yield self._make(obj.get(icol), obj.get(tcol, _MISSING), where, tcol, icol, obj)

    # -- CSV ---------------------------------------------------------------------------------------------
    def _iter_csv(self) -> Iterator[Record]:
        enc = self.encoding
        delimiter = "\t" if self.spec.lower().endswith(".tsv") else ","
        with open(self.spec, encoding=enc, errors="surrogateescape", newline="") as f:
            reader = csv.reader(f, delimiter=delimiter)
            try:
                header = next(reader)
            except StopIteration:
                return
            ti = header.index(self.text_column)
            ii = header.index(self.id_column or "id") if (self.id_column or "id") in header else None
            start = reader.line_num + 1
            while True:
                where = f"{self.name}:{start}"
                try:
                    with _csv_field_limit():
                        row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    start = reader.line_num + 1
                    yield Record(where, None, where, f"malformed CSV row: {exc} ({where})")
                    continue
                start = reader.line_num + 1
                if not any(cell.strip() for cell in row):
                    continue
                text = row[ti] if ti < len(row) else _MISSING
                rid = row[ii] if ii is not None and ii < len(row) and row[ii] != "" else None
                fields = dict(zip(header, row, strict=False))
                yield self._make(rid, text, where, self.text_column, self.id_column or "id", fields)

    # -- XLSX --------------------------------------------------------------------------------------------
    def _iter_xlsx(self) -> Iterator[Record]:
        import openpyxl

        wb = openpyxl.load_workbook(self.spec, read_only=True, data_only=True)
        try:
            rows = wb.worksheets[0].iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                return
            names = ["" if c is None else str(c) for c in header]
            ti = names.index(self.text_column)
            icol = self.id_column or "id"
            ii = names.index(icol) if icol in names else None
            for rowno, row in enumerate(rows, 2):
                if all(c is None or (isinstance(c, str) and not c.strip()) for c in row):
                    continue
                where = f"{self.name}:{rowno}"
                text = row[ti] if ti < len(row) else _MISSING
                rid = row[ii] if ii is not None and ii < len(row) else None
                if isinstance(rid, float) and rid.is_integer():
                    rid = int(rid)  # spreadsheets store integer ids as floats
                fields = dict(zip(names, row, strict=False))
                yield self._make(
                    rid, _MISSING if text is None else text, where, self.text_column, icol, fields
                )
        finally:
            wb.close()

    # -- shared ------------------------------------------------------------------------------------------
    def _make(self, rid: Any, text: Any, where: str, tcol: str, icol: str, fields: dict[str, Any]) -> Record:
        """The record of one input row/object (``fields``: all its fields), or an error record."""
        rec = self._check(rid, text, where, tcol, icol)
        rec.fields = fields
        return rec

    def _check(self, rid: Any, text: Any, where: str, tcol: str, icol: str) -> Record:
        error = None
        if rid is None or rid == "":
            rid = where
        elif isinstance(rid, str) and _undecodable(rid):
            error = f"undecodable bytes in {icol!r} ({where})"
            rid = where
        elif isinstance(rid, bool) or not isinstance(rid, str | int | float):
            error = f"{icol!r} must be a string or a number, not {_json_type(rid)} ({where})"
            rid = where
        if error is not None:
            return Record(rid, None, where, error)
        if text is _MISSING or text is None:
            return Record(rid, None, where, f"missing {tcol!r} ({where})")
        if not isinstance(text, str):
            return Record(rid, None, where, f"{tcol!r} is {_json_type(text)}, not text ({where})")
        if _undecodable(text):
            return Record(rid, None, where, f"undecodable bytes in {tcol!r} ({where})")
        if not text.strip():
            return Record(rid, None, where, f"empty {tcol!r} ({where})")
        return Record(rid, text, where)


_MISSING: Any = object()


def _json_type(v: Any) -> str:
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


def open_input(
    spec: str,
    *,
    text_column: str = "text",
    id_column: str | None = None,
    stdin: IO[bytes] | None = None,
) -> InputSource:
    """Open and validate one input; see the module docstring for the formats.

    ``spec``: a path, or ``-`` for JSONL on stdin (``stdin`` overrides ``sys.stdin.buffer``).
    ``text_column``/``id_column``: field or column names (JSONL, CSV, XLSX); ``id_column=None`` means use
    ``id`` when present, else generate ``<file>:<line>`` ids; a named id column must exist.

    Raises :class:`InputError` for an unknown file type, a missing or unreadable file, or a missing column
    (the message lists the available ones), and :class:`ParseError` for a collection ``.txt`` without case
    structure.
    """
    kind = input_kind(spec)
    if spec == "-":
        return InputSource(spec, kind, text_column=text_column, id_column=id_column, stdin=stdin)
    p = Path(spec)
    if not p.exists():
        raise InputError(f"{spec}: no such file")
    if p.is_dir():
        raise InputError(f"{spec}: is a folder, not a file")
    if not os.access(p, os.R_OK):
        raise InputError(f"{spec}: cannot read (permission denied)")
    src_kw: dict[str, Any] = {"text_column": text_column, "id_column": id_column}
    if kind == "jsonl":
        with open(p, "rb"):
            pass
        return InputSource(spec, kind, **src_kw)
    if kind == "csv":
        with open(p, "rb") as f:
            head = f.read(1 << 16)
        enc = _sniff_encoding(head)
        delimiter = "\t" if spec.lower().endswith(".tsv") else ","
        with open(p, encoding=enc, errors="surrogateescape", newline="") as f:
            header = next(csv.reader(f, delimiter=delimiter), [])
        _check_columns(spec, header, text_column, id_column)
        return InputSource(spec, kind, columns=header, encoding=enc, **src_kw)
    if kind == "xlsx":
        header = _xlsx_header(p)
        _check_columns(spec, header, text_column, id_column)
        return InputSource(spec, kind, columns=header, **src_kw)
    if kind == "collection":
        from ..corpus import read_collection

        corpus = read_collection(p, id_prefix=collection_id_prefix(p))
        return InputSource(spec, kind, records=_corpus_records(corpus, spec), **src_kw)
    if kind == "docx":
        return InputSource(spec, kind, records=_docx_records(p, spec), **src_kw)
    raise AssertionError(kind)  # pragma: no cover


# csv's default field limit (131,072 characters) would turn one long passage into a "malformed CSV row" that
# loses its id; each row is read with a limit of 2**31 - 1 instead (it fits a C long on every platform).
_CSV_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)


@contextlib.contextmanager
def _csv_field_limit() -> Iterator[None]:
    """Raise ``csv.field_size_limit`` (process-global) for the block only, restoring the previous value: the
    reader is a generator, so the limit is raised around each row read, never while it is suspended."""
    old = csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def collection_id_prefix(p: Path) -> str:
    """Case-id prefix for a collection file: its stem, so ids stay unique when several files are tagged in one
    run (``--resume`` relies on that)."""
    return re.sub(r"\s+", "_", p.stem.strip()) or "case"


def _check_columns(spec: str, header: Sequence[str], text_column: str, id_column: str | None) -> None:
    avail = ", ".join(repr(h) for h in header) or "none"
    for col, what in ((text_column, "text"), (id_column, "id")):
        if col is not None and col not in header:
            raise InputError(f"{spec}: no {what} column {col!r} (columns: {avail})")


def _xlsx_header(p: Path) -> list[str]:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is in the xlsx extra
        raise InputError(f"{p}: reading .xlsx needs openpyxl (pip install 'yanreform[xlsx]')") from None
    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/ValueError on damaged files
        raise InputError(f"{p}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    try:
        if not wb.worksheets:
            return []
        row = next(wb.worksheets[0].iter_rows(values_only=True, max_row=1), ())
        return ["" if c is None else str(c) for c in row]
    finally:
        wb.close()


def _corpus_records(corpus: Any, where_file: str) -> list[Record]:
    out: list[Record] = []
    for case in corpus:
        line = getattr(case, "line", None)
        where = f"{where_file}:{line}" if line else where_file
        for ini in case.initiatives:
            meta = {"case_id": case.id, "agency": case.agency, "title": case.title, "heading": ini.heading}
            if ini.text.strip():
                out.append(Record(ini.id, ini.text, where, None, meta))
            else:
                out.append(Record(ini.id, None, where, f"empty initiative ({where})", meta))
    return out


def _docx_records(p: Path, spec: str) -> list[Record]:
    try:
        import docx
    except ImportError:  # pragma: no cover - python-docx is in the docx extra
        raise InputError(f"{spec}: reading .docx needs python-docx (pip install 'yanreform[docx]')") from None
    try:
        document = docx.Document(str(p))
    except Exception as exc:  # python-docx raises PackageNotFoundError/BadZipFile/KeyError on bad files
        raise InputError(f"{spec}: not a readable .docx document ({type(exc).__name__}: {exc})") from None
    text = "\n".join(par.text for par in document.paragraphs)
    where = f"{spec}:1"
    if not text.strip():
        return [Record(where, None, where, f"empty document ({spec})")]
    from ..corpus import parse_collection

    try:
        corpus = parse_collection(text, id_prefix=collection_id_prefix(p), name=p.stem, source=spec)
    except ParseError:
        # a single submission without case structure: tag it whole
        return [Record(where, text, where)]
    return _corpus_records(corpus, spec)
