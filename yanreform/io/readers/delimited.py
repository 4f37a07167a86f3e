"""JSONL (one JSON object per line, or ``-`` for stdin) and CSV/TSV inputs, streamed record by record.

JSONL is read line by line and CSV row by row, so memory stays flat whatever the file size. A JSONL whose
first records all lack the text field is refused when opened (like a CSV without the column), rather than
turning every record into an error. CSV encodings are sniffed (UTF-8 with or without BOM, UTF-16 with BOM,
GB18030); a title row above the header (a 汇总表 exported from Excel) is found as in spreadsheets.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import itertools
import json
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any

from ...errors import InputError, MissingColumnError
from ..records import Record
from ._base import MISSING, InputSource, check_columns, check_file, json_type
from .sheets import find_header

# csv's default field limit (131,072 characters) would turn one long passage into a "malformed CSV row" that
# loses its id; each row is read with a limit of 2**31 - 1 instead (it fits a C long on every platform).
_CSV_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)

#: JSONL records looked at when opening, to check that the text field is there at all
JSONL_PEEK = 50


@contextlib.contextmanager
def _csv_field_limit() -> Iterator[None]:
    """Raise ``csv.field_size_limit`` (process-global) for the block only, restoring the previous value: the
    reader is a generator, so the limit is raised around each row read, never while it is suspended."""
    old = csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        yield
    finally:
        csv.field_size_limit(old)


class JsonlSource(InputSource):
    """JSON Lines: one object per line with the text and (optionally) the id field."""

    kind = "jsonl"

    def __init__(self, spec: str, *, stdin: IO[bytes] | None = None, **kw: Any) -> None:
        super().__init__(spec, **kw)
        self._stdin = stdin
        self._head: list[bytes] | None = None  # stdin lines read while checking the fields, replayed

    def open_check(self) -> None:
        """Refuse an input whose first records (up to :data:`JSONL_PEEK` objects) all lack the text field."""
        seen: dict[str, None] = {}
        objects = 0
        if self.spec == "-":
            stream = self._stdin if self._stdin is not None else sys.stdin.buffer
            self._head = []
            for raw in stream:
                self._head.append(raw)
                obj = _loads(raw)
                if isinstance(obj, dict):
                    objects += 1
                    if self.text_column in obj:
                        return
                    seen.update(dict.fromkeys(map(str, obj)))
                if objects >= JSONL_PEEK:
                    break
        else:
            with open(self.spec, "rb") as f:
                for raw in f:
                    obj = _loads(raw)
                    if isinstance(obj, dict):
                        objects += 1
                        if self.text_column in obj:
                            return
                        seen.update(dict.fromkeys(map(str, obj)))
                    if objects >= JSONL_PEEK:
                        break
        if objects:
            avail = ", ".join(repr(k) for k in seen) or "none"
            raise MissingColumnError(
                f"{self.name}: no text field {self.text_column!r} in its first {objects:,} "
                f"record{'s' if objects != 1 else ''} (fields: {avail}); name it with --text-column"
            )

    def __iter__(self) -> Iterator[Record]:
        if self.spec == "-":
            stream = self._stdin if self._stdin is not None else sys.stdin.buffer
            lines: Iterable[bytes] = itertools.chain(self._head or (), stream)
            self._head = None
            yield from self._records(lines)
            return
        with open(self.spec, "rb") as f:
            yield from self._records(f)

    def estimate_total(self) -> int | None:
        if self.spec == "-":
            return None
        n = 0
        with open(self.spec, "rb") as f:
            for raw in f:
                n += bool(raw.strip())
        return n

    def _records(self, f: Iterable[bytes]) -> Iterator[Record]:
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
                msg = f"undecodable bytes (not UTF-8) at column {exc.start + 1} ({where})"
                yield Record(where, None, where, msg)
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                msg = f"invalid JSON: {exc.msg.removesuffix(' at')} at column {exc.colno} ({where})"
                yield Record(where, None, where, msg)
                continue
            if not isinstance(obj, dict):
                yield Record(where, None, where, f"not a JSON object but {json_type(obj)} ({where})")
                continue
            yield self.make(obj.get(icol), obj.get(tcol, MISSING), where, obj)


def _loads(raw: bytes) -> Any:
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def sniff_encoding(head: bytes) -> str:
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


class CsvSource(InputSource):
    """CSV (``,``) or TSV (tab): a header row (found under a title row, if any), a record per row."""

    kind = "csv"

    def __init__(self, spec: str, *, header_row: int | None = None, **kw: Any) -> None:
        super().__init__(spec, **kw)
        self.delimiter = "\t" if spec.lower().endswith(".tsv") else ","
        p = check_file(spec)
        with open(p, "rb") as f:
            head = f.read(1 << 16)
        self.encoding = sniff_encoding(head)
        with open(p, encoding=self.encoding, errors="surrogateescape", newline="") as f, _csv_field_limit():
            first = list(itertools.islice(csv.reader(f, delimiter=self.delimiter), 12))
        self.header_index, header = find_header(
            first, spec, self.text_column, header_row=header_row, where=spec
        )
        self.columns = header
        check_columns(spec, header, self.text_column, self.id_column)

    def __iter__(self) -> Iterator[Record]:
        with open(self.spec, encoding=self.encoding, errors="surrogateescape", newline="") as f:
            reader = csv.reader(f, delimiter=self.delimiter)
            header: list[str] = []
            try:
                with _csv_field_limit():
                    for _ in range(self.header_index + 1):
                        header = next(reader)
            except (StopIteration, csv.Error):
                return
            header = [h.strip() for h in header]
            ti = header.index(self.text_column)
            icol = self.id_column or "id"
            ii = header.index(icol) if icol in header else None
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
                text = row[ti] if ti < len(row) else MISSING
                rid = row[ii] if ii is not None and ii < len(row) and row[ii] != "" else None
                fields = {h: v for h, v in zip(header, row, strict=False) if h}
                yield self.make(rid, text, where, fields)


def open_jsonl(spec: str, *, stdin: IO[bytes] | None = None, **kw: Any) -> JsonlSource:
    """A checked JSONL source (``-``: stdin)."""
    if spec != "-":
        check_file(spec)
    src = JsonlSource(spec, stdin=stdin, **kw)
    try:
        src.open_check()
    except UnicodeDecodeError as exc:  # pragma: no cover - _loads swallows decoding problems
        raise InputError(f"{spec}: cannot read ({exc})") from None
    return src
