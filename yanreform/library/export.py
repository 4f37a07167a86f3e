"""Exporting the library: one row per initiative, as JSONL, CSV or XLSX, written atomically.

Columns (JSONL keys): ``id`` (the initiative id), ``case_id``, ``collection``, ``year``, ``agency``,
``agency_kind``, ``place``, ``title``, ``heading``, ``start``, ``end`` (offsets into the case text), ``text``,
``categories`` (codes, best first; ``;``-joined in CSV/XLSX), one score column per category code (CSV/XLSX;
0 when untagged), ``tags`` (JSONL: the :meth:`yanreform.Tag.to_dict` list with evidence; CSV/XLSX: the same
list as a JSON string in ``tags_json``), ``tagged_by`` (the tagger key).

A JSONL export imports back (``Library.add``): consecutive rows of one ``case_id`` become one case again.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from os import PathLike
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..errors import InputError
from . import store

if TYPE_CHECKING:
    from .core import Library

__all__ = ["EXPORT_FORMATS", "export", "export_rows", "write_rows"]

EXPORT_FORMATS = ("jsonl", "csv", "xlsx")
_FIELDS = (
    "id", "case_id", "collection", "year", "agency", "agency_kind", "place", "title", "heading", "start",
    "end", "text",
)  # fmt: skip


def export_rows(
    lib: Library, *, year: int | None = None, collection: str | None = None
) -> Iterator[dict[str, Any]]:
    """The export rows (dicts, JSONL form) of the library's initiatives, case by case."""
    where = store.CaseFilter(year=year, collection=collection)
    for case in store.iter_cases(lib._reader(), where, lib.categories):
        for ini in case.initiatives:
            yield {
                "id": ini.id, "case_id": case.id, "collection": case.collection, "year": case.year,
                "agency": case.agency, "agency_kind": case.agency_kind, "place": case.place,
                "title": case.title,
                "heading": ini.heading, "start": ini.start, "end": ini.end, "text": ini.text,
                "categories": [t.code for t in ini.tags], "tags": [t.to_dict() for t in ini.tags],
                "tagged_by": ini.tagged_by,
            }  # fmt: skip


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt is None:
        fmt = path.suffix.lower().lstrip(".")
        if fmt == "ndjson":
            fmt = "jsonl"
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"{path}: unknown export format {fmt!r}; expected jsonl, csv or xlsx")
    return fmt


def export(
    lib: Library,
    out: str | PathLike[str],
    *,
    format: str | None = None,
    year: int | None = None,
    collection: str | None = None,
) -> int:
    """Write the export of ``lib`` to ``out`` (see the module docstring); returns the number of rows.

    The file appears complete or not at all (written to a temporary file in the same folder, then moved).
    Raises InputError for an unknown format, a missing folder or an unwritable place.
    """
    path = Path(out)
    fmt = _format_of(path, format)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a file name")
    if not folder.is_dir():
        raise InputError(f"{path}: folder {folder} does not exist")
    codes = list(lib.categories)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"{path}: cannot write in {folder} ({exc.strerror or exc})") from None
    try:
        rows = export_rows(lib, year=year, collection=collection)
        if fmt == "xlsx":
            os.close(fd)
            n = _write_xlsx(Path(tmp), rows, codes)
        else:  # CSV with a BOM: Excel then reads it as UTF-8
            with os.fdopen(fd, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as f:
                n = write_rows(rows, f, fmt, codes)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return n


def write_rows(rows: Iterable[dict[str, Any]], stream: IO[str], fmt: str, codes: Sequence[str]) -> int:
    """Write export rows to a text stream as ``jsonl`` or ``csv`` (header first; ``codes``: the score
    columns); returns the number of rows."""
    n = 0
    if fmt == "jsonl":
        for r in rows:
            stream.write(json.dumps(r, ensure_ascii=False) + "\n")
            n += 1
        return n
    if fmt != "csv":
        raise InputError(f"write_rows writes jsonl or csv, not {fmt!r}")
    w = csv.writer(stream, lineterminator="\n")
    w.writerow(_flat_header(codes))
    for r in rows:
        w.writerow(_flat(r, codes))
        n += 1
    return n


def _flat_header(codes: Sequence[str]) -> list[str]:
    return [*_FIELDS, "categories", *codes, "tagged_by", "tags_json"]


def _flat(r: dict[str, Any], codes: Sequence[str]) -> list[Any]:
    scores = {t["code"]: t["score"] for t in r["tags"]}
    return [
        *(r[k] for k in _FIELDS),
        ";".join(r["categories"]),
        *(scores.get(c, 0.0) for c in codes),
        r["tagged_by"] or "",
        json.dumps(r["tags"], ensure_ascii=False),
    ]


def _write_xlsx(path: Path, rows: Iterable[dict[str, Any]], codes: Sequence[str]) -> int:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is in the xlsx extra
        raise InputError("writing .xlsx needs openpyxl (pip install 'yanreform[xlsx]')") from None
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("initiatives")
    ws.append(_flat_header(codes))
    n = 0
    for r in rows:
        # Excel refuses control characters; a cell holds at most 32,767 characters
        ws.append(
            [ILLEGAL_CHARACTERS_RE.sub("", v)[:32767] if isinstance(v, str) else v for v in _flat(r, codes)]
        )
        n += 1
    wb.save(path)
    return n
