"""Writers of batch output: output records (dicts) -> JSONL, CSV (UTF-8 with BOM), TSV or .xlsx.

An *output record* is the dict the batch engine makes for one input record (:func:`yanreform.batch.
output_record`): ``id``, the input fields kept (``agency`` ...), ``text`` with ``--with-text``, then
``tags`` (``[{"code", "name", "score", "evidence": [...]}]``) or ``error``. JSONL writes it as it is, one
object per line. The table formats write one row per record with the columns of :func:`table_columns`:

``id``, the kept input fields, ``categories`` (codes, ``;``-joined), ``类别`` (the Chinese names,
``、``-joined), one score column per category code (0 when not assigned), ``evidence`` (readable:
``数字赋能：大数据平台、智慧监督；协同联动：联动机制``), ``text`` (with ``--with-text``), ``error``.

CSV is UTF-8 with a byte-order mark, so Excel on Chinese Windows opens it correctly; TSV is UTF-8 without
one; .xlsx has a frozen header row and id column, set column widths and wrapped long cells.

:func:`write_output` writes a whole output atomically (a temporary file in the same folder, fsynced, then
renamed over the target); files are created with the permissions the umask allows, like any other file.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any, Literal

from ..errors import InputError

__all__ = [
    "OUTPUT_FORMATS",
    "OutputFormat",
    "RowWriter",
    "evidence_text",
    "open_row_writer",
    "output_format",
    "table_columns",
    "table_row",
    "write_output",
]

OutputFormat = Literal["jsonl", "csv", "tsv", "xlsx"]
OUTPUT_FORMATS: tuple[str, ...] = ("jsonl", "csv", "tsv", "xlsx")
_SUFFIX_FORMAT = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".xlsx": "xlsx"}

#: the columns an output table always has around the kept input fields and score columns
FIXED_BEFORE = ("categories", "类别")
#: characters of evidence text per category in a table cell before it is cut
EVIDENCE_TERMS = 6
#: Excel's limit on the characters of one cell
XLSX_CELL_LIMIT = 32_767
_XLSX_ROWS = 1_048_576
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def output_format(path: str | os.PathLike[str] | None, fmt: str | None = None) -> OutputFormat:
    """The output format: ``fmt`` if given, else from ``path``'s suffix; JSONL for stdout (``path=None``).

    Raises InputError when ``fmt`` and the suffix disagree (``-o result.xlsx --format csv``), for an
    unknown suffix without ``fmt``, an unknown ``fmt``, or .xlsx to stdout.
    """
    if fmt is not None and fmt not in OUTPUT_FORMATS:
        raise InputError(f"unknown output format {fmt!r}; expected one of {', '.join(OUTPUT_FORMATS)}")
    if path is None:
        if fmt == "xlsx":
            raise InputError("--format xlsx needs -o OUT.xlsx (a workbook cannot go to stdout)")
        return fmt or "jsonl"  # type: ignore[return-value]
    suffix = Path(path).suffix.lower()
    by_suffix = _SUFFIX_FORMAT.get(suffix)
    if fmt is not None:
        if by_suffix is not None and by_suffix != fmt:
            raise InputError(
                f"{path}: --format {fmt} does not match the suffix {suffix} (which means {by_suffix}); "
                f"change one of them"
            )
        return fmt  # type: ignore[return-value]
    if by_suffix is None:
        what = f"unknown output suffix {suffix!r}" if suffix else "no suffix"
        raise InputError(f"{path}: {what}; use .jsonl, .csv, .tsv or .xlsx, or say --format")
    return by_suffix  # type: ignore[return-value]


def evidence_text(tags: Sequence[dict[str, Any]], *, per_category: int = EVIDENCE_TERMS) -> str:
    """Readable evidence of a record's tags: ``数字赋能：大数据平台、智慧监督；协同联动：联动机制``.

    Per category the distinct matched terms (or, for exemplar evidence, the sentence, cut to 30
    characters), at most ``per_category``, then ``等N处`` for the spans not shown.
    """
    parts = []
    for t in tags:
        seen: dict[str, None] = {}
        evs = t.get("evidence") or ()
        for ev in evs:
            term = (
                ev.get("text", "") if ev.get("source") == "exemplar" else (ev.get("term") or ev.get("text"))
            )
            term = " ".join(str(term or "").split())
            if len(term) > 30:
                term = term[:29] + "…"
            if term:
                seen.setdefault(term, None)
        shown = list(seen)[:per_category]
        omitted = int(t.get("evidence_omitted", 0) or 0)
        terms = "、".join(shown)
        if len(seen) > len(shown) or omitted:
            terms += f"等{len(evs) + omitted:,}处"
        label = t.get("name") or t.get("code", "")
        parts.append(f"{label}：{terms}" if terms else str(label))
    return "；".join(parts)


def table_columns(codes: Sequence[str], fields: Sequence[str], *, with_text: bool = False) -> list[str]:
    """The columns of a table output: id, kept fields, categories, 类别, scores, evidence, [text], error."""
    cols = ["id", *fields, *FIXED_BEFORE, *codes, "evidence"]
    if with_text:
        cols.append("text")
    cols.append("error")
    return cols


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False)
    return v


def table_row(
    record: dict[str, Any], codes: Sequence[str], fields: Sequence[str], *, with_text: bool
) -> list[Any]:
    """One table row of an output record, in the order of :func:`table_columns`."""
    tags = record.get("tags") or []
    scores = {t["code"]: t["score"] for t in tags}
    row: list[Any] = [_cell(record.get("id"))]
    row += [_cell(record.get(f)) for f in fields]
    row.append(";".join(t["code"] for t in tags))
    row.append("、".join(str(t.get("name", "")) for t in tags))
    row += [scores.get(c, 0.0) for c in codes]
    row.append(evidence_text(tags))
    if with_text:
        row.append(_cell(record.get("text")))
    row.append(record.get("error", "") or "")
    return row


class RowWriter:
    """Writes output records in one format to an open text stream or a workbook; see :func:`open_row_writer`.

    ``write(record)`` adds one record; ``close()`` finishes (the workbook is saved to its stream then).
    ``count`` is the number of records written.
    """

    def __init__(
        self,
        fmt: OutputFormat,
        stream: IO[str] | IO[bytes],
        *,
        codes: Sequence[str] = (),
        fields: Sequence[str] = (),
        with_text: bool = False,
    ) -> None:
        self.fmt = fmt
        self.codes = list(codes)
        self.fields = list(fields)
        self.with_text = with_text
        self.columns = table_columns(self.codes, self.fields, with_text=with_text)
        self.count = 0
        self._stream = stream
        self._csv: Any = None
        self._wb: Any = None
        self._ws: Any = None
        if fmt in ("csv", "tsv"):
            self._csv = csv.writer(stream, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")  # type: ignore[arg-type]
            self._csv.writerow(self.columns)
        elif fmt == "xlsx":
            self._start_workbook()

    # -- xlsx ---------------------------------------------------------------------------------------------
    def _start_workbook(self) -> None:
        try:
            import openpyxl
        except ImportError:  # pragma: no cover - openpyxl is in the xlsx extra
            raise InputError("writing .xlsx needs openpyxl (pip install 'yanreform[xlsx]')") from None
        self._wb = openpyxl.Workbook(write_only=True)
        self._sheets = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        from openpyxl.utils import get_column_letter

        self._sheets += 1
        ws = self._wb.create_sheet("结果" if self._sheets == 1 else f"结果{self._sheets}")
        ws.freeze_panes = "B2"
        for k, col in enumerate(self.columns, 1):
            if col == "id":
                width = 26
            elif col in self.codes:
                width = 10
            elif col in ("evidence", "text"):
                width = 60
            elif col in ("categories", "类别", "error"):
                width = 32
            else:
                width = 18
            ws.column_dimensions[get_column_letter(k)].width = width
        ws.append(self.columns)
        self._ws = ws
        self._rows = 1

    def _xlsx_value(self, v: Any) -> Any:
        if isinstance(v, str):
            v = _ILLEGAL_XML.sub("", v)
            if len(v) > XLSX_CELL_LIMIT:
                note = "…(cut: Excel holds 32,767 characters per cell)"
                v = v[: XLSX_CELL_LIMIT - len(note)] + note
        return v

    # -- all formats --------------------------------------------------------------------------------------
    def write(self, record: dict[str, Any]) -> None:
        """Write one output record."""
        if self.fmt == "jsonl":
            self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")  # type: ignore[call-overload]
        else:
            row = table_row(record, self.codes, self.fields, with_text=self.with_text)
            if self._csv is not None:
                self._csv.writerow(row)
            else:
                if self._rows >= _XLSX_ROWS:
                    self._new_sheet()
                self._ws.append([self._xlsx_value(v) for v in row])
                self._rows += 1
        self.count += 1

    def flush(self) -> None:
        """Flush a text stream (a workbook is written on :meth:`close`)."""
        if self._wb is None:
            self._stream.flush()

    def close(self) -> None:
        """Finish: save a workbook to the stream, flush a text stream (the stream stays open)."""
        if self._wb is not None:
            self._wb.save(self._stream)
            self._wb = None
        else:
            self._stream.flush()


def open_row_writer(
    fmt: OutputFormat,
    stream: IO[str] | IO[bytes],
    *,
    codes: Sequence[str] = (),
    fields: Sequence[str] = (),
    with_text: bool = False,
) -> RowWriter:
    """A :class:`RowWriter` on ``stream`` (text for jsonl/csv/tsv, binary for xlsx)."""
    return RowWriter(fmt, stream, codes=codes, fields=fields, with_text=with_text)


def _umask() -> int:
    # os.umask can only be read by setting it; set it back at once (the CLI is single-threaded there)
    mask = os.umask(0)
    os.umask(mask)
    return mask


def create_mode() -> int:
    """The mode a new file gets from ``open()`` under the current umask (``0o666 & ~umask``)."""
    return 0o666 & ~_umask()


def atomic_temp(target: Path, *, suffix: str = ".tmp") -> tuple[int, Path]:
    """A temporary file beside ``target`` (``.<name>.<random>.tmp``) with umask permissions (mkstemp's are
    0600); returns ``(fd, path)``. InputError when the folder is missing or not writable."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{target}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=folder)
    except OSError as exc:
        raise InputError(f"{target}: cannot write in {folder} ({exc.strerror or exc})") from None
    try:
        with contextlib.suppress(OSError):
            os.fchmod(fd, create_mode())
    except BaseException:  # an interrupt right here must not leave the file behind
        os.close(fd)
        os.unlink(tmp)
        raise
    return fd, Path(tmp)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_output(
    path: str | os.PathLike[str],
    records: Iterable[dict[str, Any]],
    fmt: OutputFormat,
    *,
    codes: Sequence[str] = (),
    fields: Sequence[str] = (),
    with_text: bool = False,
) -> int:
    """Write ``records`` to ``path`` in ``fmt``, atomically: a temp file beside it, fsynced, renamed over.

    Returns the number of records written. On any exception (KeyboardInterrupt included) the temp file is
    removed and a previous ``path`` is left as it was. Raises InputError when ``path`` is a folder or its
    folder does not exist.
    """
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{target}: is a folder; -o needs a file name")
    fd, tmp = atomic_temp(target)
    try:
        if fmt == "xlsx":
            stream: Any = os.fdopen(fd, "wb")
        else:
            stream = os.fdopen(fd, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="")
        with stream:
            w = RowWriter(fmt, stream, codes=codes, fields=fields, with_text=with_text)
            for rec in records:
                w.write(rec)
            w.close()
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(target.parent if str(target.parent) else Path("."))
    return w.count
