"""Streaming readers and writers for batch tagging (used by the command line).

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

Writers (:func:`open_output`) write JSONL or CSV to stdout or to a file, atomically (a temporary file in the
same folder, ``os.replace`` on :meth:`RecordWriter.commit`), or append to an existing output with
``resume=True`` after :func:`read_done_ids` collected the ids already there (a truncated last line left by a
crash is dropped).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from ..errors import InputError, ParseError

__all__ = [
    "INPUT_KINDS",
    "InputSource",
    "Record",
    "RecordWriter",
    "decode_bytes",
    "input_kind",
    "open_input",
    "open_output",
    "read_done_ids",
    "read_text_file",
]

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

#: fields that collection records carry besides id and text (kept in the output)
META_FIELDS: tuple[str, ...] = ("case_id", "agency", "title", "heading")

OutputFormat = Literal["jsonl", "csv"]


@dataclass(slots=True)
class Record:
    """One record to tag.

    ``id``: as given in the input (str, or a JSON number) or generated ``<file>:<line>``; ``text``: the exact
    text to tag, None when the record is bad; ``where``: ``<file>:<line>`` of the record; ``error``: what is
    wrong with the record, or None; ``meta``: extra fields carried to the output (collections: case_id,
    agency, title, heading).
    """

    id: Any
    text: str | None
    where: str
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the record can be tagged."""
        return self.error is None and self.text is not None


# ---------------------------------------------------------------------------------------------------------
# decoding


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


# ---------------------------------------------------------------------------------------------------------
# inputs


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
        self.has_meta = bool(records) and any(r.meta for r in records)

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
            yield self._make(obj.get(icol), obj.get(tcol, _MISSING), where, tcol, icol)

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
                yield self._make(rid, text, where, self.text_column, self.id_column or "id")

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
                yield self._make(rid, _MISSING if text is None else text, where, self.text_column, icol)
        finally:
            wb.close()

    # -- shared ------------------------------------------------------------------------------------------
    def _make(self, rid: Any, text: Any, where: str, tcol: str, icol: str) -> Record:
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

        corpus = read_collection(p, id_prefix=_id_prefix(p))
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


def _id_prefix(p: Path) -> str:
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
        corpus = parse_collection(text, id_prefix=_id_prefix(p), name=p.stem, source=spec)
    except ParseError:
        # a single submission without case structure: tag it whole
        return [Record(where, text, where)]
    return _corpus_records(corpus, spec)


# ---------------------------------------------------------------------------------------------------------
# outputs


def read_done_ids(path: str | os.PathLike[str], fmt: OutputFormat) -> set[str]:
    """Ids (as ``str``) already written to an output, for ``--resume``; repairs a crash-truncated tail.

    A last line without its newline (or, for JSONL, a last line that is not valid JSON) is a record cut by a
    crash: it is removed from the file so that appending continues on a clean line. A missing file gives an
    empty set. Raises :class:`InputError` when a line other than the last is unreadable (the file is not an
    output of ``yanreform tag``).
    """
    p = Path(path)
    if not p.exists():
        return set()
    _drop_partial_tail(p)
    done: set[str] = set()
    if fmt == "jsonl":
        with open(p, "rb") as f:
            lines = enumerate(f, 1)
            prev: tuple[int, bytes] | None = None
            for item in lines:
                if prev is not None:
                    done.add(_jsonl_id(p, *prev, last=False))
                prev = item
            if prev is not None:
                rid = _jsonl_id(p, *prev, last=True)
                if rid is None:
                    _truncate_last_line(p)
                else:
                    done.add(rid)
        done.discard(None)  # type: ignore[arg-type]
        return done
    with open(p, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return done
        if "id" not in header:
            raise InputError(f"{p}: cannot resume: no 'id' column in its header")
        i = header.index("id")
        for row in reader:
            if len(row) > i:
                done.add(row[i])
    return done


def _jsonl_id(p: Path, lineno: int, raw: bytes, *, last: bool) -> Any:
    if not raw.strip():
        return None
    try:
        obj = json.loads(raw)
        return str(obj["id"])
    except (ValueError, KeyError, TypeError):
        if last:
            return None
        raise InputError(f"{p}:{lineno}: cannot resume: not an output record of yanreform tag") from None


def _drop_partial_tail(p: Path) -> None:
    """Cut the file after its last newline (what follows is a half-written line)."""
    size = p.stat().st_size
    if size == 0:
        return
    with open(p, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
        pos, chunk = size, 1 << 16
        while pos > 0:
            start = max(0, pos - chunk)
            f.seek(start)
            data = f.read(pos - start)
            k = data.rfind(b"\n")
            if k >= 0:
                f.truncate(start + k + 1)
                return
            pos = start
        f.truncate(0)


def _truncate_last_line(p: Path) -> None:
    with open(p, "rb+") as f:
        data_end = f.seek(0, os.SEEK_END)
        if data_end == 0:
            return
        f.seek(max(0, data_end - (1 << 20)))
        tail = f.read()
        k = tail[:-1].rfind(b"\n")  # tail ends with the newline of the bad line
        f.truncate(data_end - len(tail) + k + 1 if k >= 0 else 0)


class RecordWriter:
    """Writes output records (dicts) as JSONL or CSV; see :func:`open_output`.

    ``write(record)`` takes the dict made by the caller (``id``, optional meta fields, ``tags`` or
    ``error``). :meth:`commit` makes the output final (atomic replace for a new file); :meth:`abort` removes
    a temporary file, leaving any previous output untouched. Usable as a context manager (commit on success,
    abort on any exception, KeyboardInterrupt included).
    """

    def __init__(
        self,
        stream: IO[str],
        fmt: OutputFormat,
        *,
        codes: Sequence[str] = (),
        meta_fields: Sequence[str] = (),
        target: Path | None = None,
        tmp: Path | None = None,
        write_header: bool = True,
        owns_stream: bool = True,
    ) -> None:
        self.fmt = fmt
        self.codes = list(codes)
        self.meta_fields = list(meta_fields)
        self.target = target
        self._tmp = tmp
        self._stream = stream
        self._owns = owns_stream
        self._closed = False
        self.count = 0
        self._csv = None
        if fmt == "csv":
            self._csv = csv.writer(stream, lineterminator="\n")
            if write_header:
                self._csv.writerow(self.columns)

    @property
    def columns(self) -> list[str]:
        """CSV columns: id, meta fields, categories, one ``<code>`` score column per category, error."""
        return ["id", *self.meta_fields, "categories", *self.codes, "error"]

    def write(self, record: dict[str, Any]) -> None:
        """Write one output record."""
        if self._csv is None:
            self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            tags = record.get("tags") or []
            scores = {t["code"]: t["score"] for t in tags}
            row: list[Any] = [record["id"]]
            row += [record.get(m, "") for m in self.meta_fields]
            row.append(";".join(t["code"] for t in tags))
            row += [scores.get(c, 0.0) for c in self.codes]
            row.append(record.get("error", "") or "")
            self._csv.writerow(row)
        self.count += 1

    def flush(self) -> None:
        """Flush buffered output (called after each batch, so a crash loses at most one batch)."""
        self._stream.flush()

    def commit(self) -> None:
        """Finish the output: flush, and move a temporary file into place."""
        if self._closed:
            return
        self._closed = True
        self._stream.flush()
        if self._owns:
            with contextlib.suppress(OSError):
                os.fsync(self._stream.fileno())
            self._stream.close()
        if self._tmp is not None and self.target is not None:
            os.replace(self._tmp, self.target)

    def abort(self) -> None:
        """Stop without committing: close, and remove the temporary file (if any)."""
        if self._closed:
            return
        self._closed = True
        if self._owns:
            with contextlib.suppress(OSError):
                self._stream.close()
        else:
            with contextlib.suppress(OSError, ValueError):
                self._stream.flush()
        if self._tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmp)

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def open_output(
    path: str | os.PathLike[str] | None,
    fmt: OutputFormat,
    *,
    codes: Sequence[str] = (),
    meta_fields: Sequence[str] = (),
    resume: bool = False,
    stdout: IO[str] | None = None,
) -> RecordWriter:
    """Open the output of a batch run.

    ``path=None`` writes to ``stdout`` (default ``sys.stdout``). A new file is written to a temporary file in
    the same folder and moved into place by :meth:`RecordWriter.commit`. With ``resume=True`` an existing
    file is appended to instead (call :func:`read_done_ids` first: it repairs a truncated tail); a CSV whose
    header differs from the columns of this run raises :class:`InputError`. ``codes``: category codes (CSV
    score columns); ``meta_fields``: extra CSV columns between id and categories.
    """
    if fmt not in ("jsonl", "csv"):
        raise InputError(f"unknown output format {fmt!r}; expected jsonl or csv")
    if path is None:
        return RecordWriter(
            stdout or sys.stdout, fmt, codes=codes, meta_fields=meta_fields, owns_stream=False
        )
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{target}: is a folder; -o needs a file name")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{target}: folder {folder} does not exist")
    if resume and target.exists() and target.stat().st_size > 0:
        write_header = True
        if fmt == "csv":
            with open(target, encoding="utf-8", newline="") as f:
                header = next(csv.reader(f), None)
            expected = ["id", *meta_fields, "categories", *codes, "error"]
            if header is not None:
                if header != expected:
                    raise InputError(
                        f"{target}: cannot resume: its columns differ from this run's ({len(header)} vs "
                        f"{len(expected)} columns)"
                    )
                write_header = False
        stream = open(target, "a", encoding="utf-8", newline="")  # noqa: SIM115 - closed by commit/abort
        return RecordWriter(
            stream, fmt, codes=codes, meta_fields=meta_fields, target=target, write_header=write_header
        )
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"{target}: cannot write in {folder} ({exc.strerror or exc})") from None
    stream = os.fdopen(fd, "w", encoding="utf-8", newline="")
    return RecordWriter(stream, fmt, codes=codes, meta_fields=meta_fields, target=target, tmp=Path(tmp))
