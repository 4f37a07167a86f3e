"""Spreadsheet inputs: .xlsx (openpyxl, streamed in read-only mode) and .xls (xlrd), every sheet or one.

Every sheet that has the text column is read, in workbook order (``sheet=NAME`` reads one); a sheet without
it is skipped with a warning naming it, and a workbook where no sheet has it is refused, listing each
sheet's columns. The header row is found by :func:`find_header`: ``header_row=N`` (1-based) says where it
is; otherwise the first of the top rows holding the text column's name, else the first row with at least
two filled cells, so a title row above the header (a 汇总表's "2024年政法改革案例汇总表", one merged
cell) is passed over. Records are ``file:row`` (``file[sheet]:row`` in a workbook of several sheets);
each record keeps all its cells as fields (dates as ISO strings), plus ``sheet`` in a workbook of several
sheets. Fully empty rows are not records.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Sequence
from typing import Any

from ...errors import InputError, MissingColumnError
from ..records import Record
from ._base import MISSING, InputSource, check_file, log, need

#: rows looked at for the header when it is not given
HEADER_SCAN = 12


def _cell_str(c: Any) -> str:
    if c is None:
        return ""
    if isinstance(c, float) and c.is_integer():
        return str(int(c))
    return str(c).strip()


def find_header(
    rows: Sequence[Sequence[Any]],
    spec: str,
    text_column: str,
    *,
    header_row: int | None = None,
    where: str | None = None,
) -> tuple[int, list[str]]:
    """``(0-based index, column names)`` of the header among the first ``rows`` of a table.

    ``header_row`` (1-based) fixes it; otherwise the first row that holds ``text_column``, else the first
    with two or more filled cells (a title row has one), else the first row. Raises InputError when
    ``header_row`` is past the rows given or not positive.
    """
    if header_row is not None:
        if header_row < 1:
            raise InputError(f"--header-row must be at least 1, not {header_row}")
        if header_row > len(rows):
            raise InputError(f"{where or spec}: no row {header_row} (the table has {len(rows)} rows)")
        k = header_row - 1
        return k, [_cell_str(c) for c in rows[k]]
    names = [[_cell_str(c) for c in r] for r in rows]
    for k, r in enumerate(names):
        if text_column in r:
            return k, r
    for k, r in enumerate(names):
        if sum(1 for c in r if c) >= 2:
            return k, r
    return 0, names[0] if names else []


def json_value(v: Any) -> Any:
    """A cell value in a JSON-friendly form (dates and times as ISO strings)."""
    if isinstance(v, _dt.datetime | _dt.date | _dt.time):
        return v.isoformat()
    return v


class SheetSource(InputSource):
    """A workbook (.xlsx or .xls): the chosen sheets, each with its header."""

    def __init__(
        self, spec: str, kind: str, *, sheet: str | None = None, header_row: int | None = None, **kw: Any
    ) -> None:
        super().__init__(spec, **kw)
        self.kind = kind
        self.path = check_file(spec)
        all_sheets = self._sheet_names()
        if sheet is not None and sheet not in all_sheets:
            raise InputError(f"{spec}: no sheet {sheet!r} (sheets: {', '.join(map(repr, all_sheets))})")
        self.multi = len(all_sheets) > 1
        self.plan: list[tuple[str, int, list[str]]] = []  # (sheet, header index, header)
        described = []
        for name in [sheet] if sheet is not None else all_sheets:
            top = self._rows(name, limit=HEADER_SCAN)
            if not any(any(c not in (None, "") for c in r) for r in top):
                log.debug("%s: sheet %r is empty", spec, name)
                described.append(f"{name!r}: empty")
                continue
            k, header = find_header(top, spec, self.text_column, header_row=header_row, where=spec)
            cols = ", ".join(repr(h) for h in header if h) or "none"
            row_note = f" in header row {k + 1}" if k else ""
            described.append(f"{name!r}: {cols}{row_note}")
            missing = [c for c in (self.text_column, self.id_column) if c is not None and c not in header]
            if missing:
                if sheet is not None:
                    what = "text" if missing[0] == self.text_column else "id"
                    raise MissingColumnError(
                        f"{spec}: no {what} column {missing[0]!r}{row_note} (columns: {cols})"
                        + (f" in sheet {name!r}" if self.multi else "")
                    )
                log.warning("%s: sheet %r has no column %r: skipped", spec, name, missing[0])
                continue
            self.plan.append((name, k, header))
        if not self.plan:
            col = self.text_column
            if not self.multi and len(described) == 1 and ": empty" not in described[0]:
                k, header = find_header(
                    self._rows(all_sheets[0], limit=HEADER_SCAN), spec, col, header_row=header_row
                )
                cols = ", ".join(repr(h) for h in header if h) or "none"
                row_note = f" in header row {k + 1}" if k else ""
                absent = col if col not in header else self.id_column
                what = "text" if absent == col else "id"
                raise MissingColumnError(f"{spec}: no {what} column {absent!r}{row_note} (columns: {cols})")
            raise MissingColumnError(
                f"{spec}: no sheet has the column {col!r} ({'; '.join(described) or 'no sheets'})"
            )
        self.columns = list(dict.fromkeys(h for _, _, header in self.plan for h in header if h))

    # -- backend ------------------------------------------------------------------------------------------
    def _sheet_names(self) -> list[str]:
        raise NotImplementedError  # pragma: no cover

    def _rows(self, sheet: str, limit: int | None = None) -> list[tuple[Any, ...]]:
        return list(self._iter_rows(sheet, limit))

    def _iter_rows(self, sheet: str, limit: int | None = None) -> Iterator[tuple[Any, ...]]:
        raise NotImplementedError  # pragma: no cover

    # -- records ------------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Record]:
        icol = self.id_column or "id"
        for name, k, header in self.plan:
            ti = header.index(self.text_column)
            ii = header.index(icol) if icol in header else None
            prefix = f"{self.name}[{name}]" if self.multi else self.name
            for rowno, row in enumerate(self._iter_rows(name), 1):
                if rowno <= k + 1:
                    continue
                if all(c is None or (isinstance(c, str) and not c.strip()) for c in row):
                    continue
                where = f"{prefix}:{rowno}"
                text = row[ti] if ti < len(row) else MISSING
                rid = row[ii] if ii is not None and ii < len(row) else None
                fields = {h: json_value(v) for h, v in zip(header, row, strict=False) if h}
                if self.multi and "sheet" not in fields:
                    fields["sheet"] = name
                yield self.make(rid, MISSING if text is None else text, where, fields)


class XlsxSource(SheetSource):
    """.xlsx through openpyxl (read-only mode: rows are streamed)."""

    def __init__(self, spec: str, **kw: Any) -> None:
        self._openpyxl = need("openpyxl", spec, ".xlsx", "xlsx")
        super().__init__(spec, "xlsx", **kw)

    def _open(self) -> Any:
        try:
            return self._openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile/KeyError/ValueError on damaged files
            raise InputError(
                f"{self.spec}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})"
            ) from None

    def _sheet_names(self) -> list[str]:
        wb = self._open()
        try:
            return [ws.title for ws in wb.worksheets]
        finally:
            wb.close()

    def _iter_rows(self, sheet: str, limit: int | None = None) -> Iterator[tuple[Any, ...]]:
        wb = self._open()
        try:
            yield from wb[sheet].iter_rows(values_only=True, max_row=limit)
        finally:
            wb.close()

    def estimate_total(self) -> int | None:
        wb = self._open()
        try:
            n = 0
            for name, k, _ in self.plan:
                m = wb[name].max_row
                if m is None:
                    return None
                n += max(0, m - k - 1)
            return n
        finally:
            wb.close()


class XlsSource(SheetSource):
    """Legacy .xls (Excel 97-2003) through xlrd."""

    def __init__(self, spec: str, **kw: Any) -> None:
        self._xlrd = need("xlrd", spec, ".xls", "xls")
        self._book: Any = None
        super().__init__(spec, "xls", **kw)

    def _wb(self) -> Any:
        if self._book is None:
            try:
                self._book = self._xlrd.open_workbook(str(self.path), on_demand=True)
            except Exception as exc:  # xlrd raises XLRDError / CompDocError / struct errors
                raise InputError(
                    f"{self.spec}: not a readable .xls workbook ({type(exc).__name__}: {exc})"
                ) from None
        return self._book

    def _sheet_names(self) -> list[str]:
        return list(self._wb().sheet_names())

    def _iter_rows(self, sheet: str, limit: int | None = None) -> Iterator[tuple[Any, ...]]:
        xlrd = self._xlrd
        book = self._wb()
        sh = book.sheet_by_name(sheet)
        n = sh.nrows if limit is None else min(limit, sh.nrows)
        for r in range(n):
            out: list[Any] = []
            for c in range(sh.ncols):
                cell = sh.cell(r, c)
                if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    out.append(None)
                elif cell.ctype == xlrd.XL_CELL_DATE:
                    try:
                        out.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
                    except Exception:  # a date out of range stays the number Excel stores
                        out.append(cell.value)
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    out.append(bool(cell.value))
                elif cell.ctype == xlrd.XL_CELL_ERROR:
                    out.append(None)
                else:
                    out.append(cell.value)
            yield tuple(out)

    def estimate_total(self) -> int | None:
        book = self._wb()
        return sum(max(0, book.sheet_by_name(n).nrows - k - 1) for n, k, _ in self.plan)


def open_sheet(spec: str, kind: str, **kw: Any) -> SheetSource:
    """An .xlsx or .xls source (``kind``), checked: sheets, header rows, columns."""
    return XlsxSource(spec, **kw) if kind == "xlsx" else XlsSource(spec, **kw)
