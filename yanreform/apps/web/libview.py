"""The web app's one seam to the case library (:class:`yanreform.Library`, issue 13).

Nothing else in the web app touches the library. :class:`LibraryGateway` opens it (or takes an opened one),
runs every call on one worker thread (an SQLite connection stays on the thread that opened it; the app runs
its model calls on the same thread, since the library tags with the app's tagger) and turns what
the library returns into plain dicts for the pages and the JSON API. It calls only the names issue 13
promises:

* ``yanreform.Library(path)`` (``tagger=`` / ``encoder=`` passed when its constructor accepts them);
* ``lib.add(path, *, year, source=None)`` -> collection id;
* ``lib.cases(year=None)`` -> cases with ``.id``, ``.agency``, ``.title``, ``.year``;
* ``lib.near_duplicates(*, year=None, threshold=None)`` -> records with ``.a``, ``.b``, ``.score`` (0-1),
  ``.kind``, ``.spans``;
* ``lib.trends()`` -> a pandas DataFrame;
* ``lib.close()``.

Optional attributes are read when present and ignored when not: a case's ``.text``, ``.lead``,
``.initiatives`` (with ``.id``, ``.heading``, ``.text``), ``.outcome``, ``.source``, ``.collection_id``, its
categories (``.categories`` / ``.codes`` / ``.tags``: codes or objects with ``.code``) and its kind of agency
(``.agency_kind``; else :func:`yanreform.corpus.agency.agency_kind` of the agency line). A near-duplicate's
``spans`` may be pairs of texts, pairs of ``(start, end)`` ranges, 4-tuples ``(a0, a1, b0, b1)``, or objects /
dicts with ``a``/``b`` (or ``a_text``/``b_text``, ``a_start``/``a_end``/``b_start``/``b_end``); ranges are
cut from the texts of ``a`` and ``b`` when the library hands those out.

While ``yanreform.Library`` does not exist (the library is not installed or not merged yet), the gateway is
*unavailable*: every call raises :class:`LibraryUnavailable` (HTTP 503) with the reason, and the rest of the
app works.
"""

from __future__ import annotations

import inspect
import logging
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ...errors import InputError, YanreformError
from .services import Worker
from .uploads import _known_suffix, display_name

log = logging.getLogger("yanreform")

__all__ = [
    "AGENCY_KIND_LABELS",
    "LibraryGateway",
    "LibraryUnavailable",
    "ReadOnlyError",
    "aligned_pair",
    "case_row",
    "library_class",
    "trend_records",
]

#: agency kinds in display order, with their Chinese labels
AGENCY_KIND_LABELS: dict[str, str] = {
    "committee": "政法委",
    "court": "法院",
    "procuratorate": "检察院",
    "police": "公安",
    "justice": "司法行政",
    "joint": "联合",
    "other": "其他",
}


_INI_SUFFIX = re.compile(r"-i\d+$")  # initiative id -> its case id


class LibraryUnavailable(YanreformError, RuntimeError):
    """The case library is not available to this app (HTTP 503); the message says why."""


class ReadOnlyError(YanreformError, PermissionError):
    """A write to the library on an app started with ``--read-only`` (HTTP 403)."""


def library_class() -> type | None:
    """``yanreform.Library`` if this installation has it, else None."""
    import yanreform

    try:
        cls = yanreform.Library
    except AttributeError:
        return None
    return cls if isinstance(cls, type) else None


def _codes_of(case: Any) -> list[str]:
    for attr in ("categories", "codes", "tags"):
        v = getattr(case, attr, None)
        if v is None:
            continue
        if isinstance(v, str):
            return [c for c in re.split(r"[;,\s]+", v) if c]
        out = []
        for item in v:
            code = item if isinstance(item, str) else getattr(item, "code", None)
            if isinstance(code, str) and code not in out:
                out.append(code)
        return out
    return []


def _kind_of(case: Any) -> str:
    kind = getattr(case, "agency_kind", None)
    if isinstance(kind, str) and kind:
        return kind
    from ...corpus.agency import agency_kind

    return agency_kind(str(getattr(case, "agency", "") or ""))


def _year_of(case: Any) -> int | None:
    y = getattr(case, "year", None)
    try:
        return int(y) if y is not None else None
    except (TypeError, ValueError):
        return None


def case_row(case: Any) -> dict[str, Any]:
    """A library case as ``{"id", "agency", "title", "year", "agency_kind", "categories"}``."""
    return {
        "id": str(case.id),
        "agency": str(getattr(case, "agency", "") or ""),
        "title": str(getattr(case, "title", "") or ""),
        "year": _year_of(case),
        "agency_kind": _kind_of(case),
        "categories": _codes_of(case),
    }


def _jsonable(v: Any) -> Any:
    """numpy / pandas scalars to plain Python; NaN to None."""
    if hasattr(v, "item") and not isinstance(v, str | bytes):
        try:
            v = v.item()
        except (TypeError, ValueError):
            v = str(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return str(v)


class LibraryGateway:
    """The case library as the web app sees it.

    Args:
        library: an opened library object, a path to open with ``yanreform.Library(path)``, or None for the
            library's default path.
        tagger: handed to ``Library(...)`` when it accepts ``tagger=`` (so the app and the library share one
            model).
        read_only: refuse :meth:`add` (and never create a library file that is not there).

    ``available`` says whether calls can work; ``reason`` why not.
    """

    def __init__(self, library: Any = None, *, tagger: Any = None, read_only: bool = False) -> None:
        self.read_only = bool(read_only)
        self.reason = ""
        self.path: str | None = None
        self._lib: Any = None
        self._owned = False
        self._worker = Worker("worker")
        if library is not None and not isinstance(library, str | os.PathLike):
            self._lib = library
            self.path = str(getattr(library, "path", "") or "") or None
            return
        self.path = os.fspath(library) if library is not None else None
        cls = library_class()
        if cls is None:
            self.reason = "the case library is not available in this installation (yanreform.Library)"
            return
        if self.read_only and self.path is not None and not Path(self.path).exists():
            self.reason = f"no library at {self.path} (read-only: not created)"
            return
        kwargs: dict[str, Any] = {}
        try:
            params = inspect.signature(cls).parameters
        except (TypeError, ValueError):
            params = {}  # type: ignore[assignment]
        if tagger is not None and "tagger" in params:
            kwargs["tagger"] = tagger
            if "encoder" in params and getattr(tagger, "encoder", None) is not None:
                kwargs["encoder"] = tagger.encoder
        try:
            self._lib = self._worker.call(cls, self.path, **kwargs)
        except Exception as exc:  # FormatError, sqlite3.Error, OSError ...: the app runs on, saying why
            log.debug("opening the library failed", exc_info=True)
            self.reason = f"cannot open the case library{f' {self.path}' if self.path else ''}: {exc}"
            log.warning("%s", self.reason)
            return
        self._owned = True
        if self.path is None:
            self.path = str(getattr(self._lib, "path", "") or "") or None

    @classmethod
    def disabled(cls, reason: str, read_only: bool = False) -> LibraryGateway:
        """A gateway without a library: every call raises LibraryUnavailable(``reason``)."""
        g = cls.__new__(cls)
        g.read_only, g.reason, g.path, g._lib, g._owned = bool(read_only), reason, None, None, False
        g._worker = Worker("worker")
        return g

    @property
    def worker(self) -> Worker:
        """The thread every library call runs on (the app runs its model calls there too)."""
        return self._worker

    @property
    def available(self) -> bool:
        return self._lib is not None

    def _need(self) -> Any:
        if self._lib is None:
            raise LibraryUnavailable(self.reason or "no case library")
        return self._lib

    async def _run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self._need()
        return await self._worker.run(fn, *args, **kwargs)

    def close(self) -> None:
        """Close the library if this gateway opened it; stop the worker."""
        if self._lib is not None and self._owned:
            try:
                self._worker.call(self._lib.close)
            except Exception:  # closing at shutdown must not raise
                log.debug("closing the library failed", exc_info=True)
        self._worker.close()

    # -- reads -------------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """``{"available", "path", "read_only", "reason"}`` (no library call)."""
        return {"available": self.available, "path": self.path, "read_only": self.read_only,
                "reason": self.reason}  # fmt: skip

    async def cases(
        self,
        *,
        year: int | None = None,
        category: str | None = None,
        agency_kind: str | None = None,
        offset: int = 0,
        limit: int = 200,
    ) -> dict[str, Any]:
        """The library's cases filtered by year, category code and kind of agency, a page at a time:
        ``{"total", "offset", "cases": [case_row...], "years": [...], "kinds": {kind: n}, "categories":
        {code: n}, "has_categories"}`` (the facet counts are over the year filter only)."""
        return await self._run(self._cases, year, category, agency_kind, offset, limit)

    def _cases(
        self, year: int | None, category: str | None, kind: str | None, offset: int, limit: int
    ) -> dict[str, Any]:
        rows = [case_row(c) for c in self._lib.cases()]
        years = sorted({r["year"] for r in rows if r["year"] is not None}, reverse=True)
        in_year = [r for r in rows if year is None or r["year"] == year]
        kinds: dict[str, int] = {}
        cats: dict[str, int] = {}
        for r in in_year:
            kinds[r["agency_kind"]] = kinds.get(r["agency_kind"], 0) + 1
            for c in r["categories"]:
                cats[c] = cats.get(c, 0) + 1
        sel = [
            r
            for r in in_year
            if (kind is None or r["agency_kind"] == kind)
            and (category is None or category in r["categories"])
        ]
        return {
            "total": len(sel),
            "offset": offset,
            "cases": sel[offset : offset + limit],
            "years": years,
            "kinds": kinds,
            "categories": cats,
            "has_categories": any(r["categories"] for r in rows),
        }

    async def case(self, case_id: str) -> dict[str, Any] | None:
        """One library case with whatever text the library hands out, or None when the id is unknown:
        ``case_row`` fields plus ``"text"``, ``"lead"``, ``"outcome"``, ``"initiatives"`` ([{"id",
        "heading", "text"}]) and ``"source"``."""
        return await self._run(self._case, case_id)

    def _case(self, case_id: str) -> dict[str, Any] | None:
        for c in self._lib.cases():
            if str(c.id) != case_id:
                continue
            d = case_row(c)
            inis = [
                {"id": str(getattr(i, "id", "")), "heading": str(getattr(i, "heading", "") or ""),
                 "text": str(getattr(i, "text", "") or "")}
                for i in (getattr(c, "initiatives", None) or ())
            ]  # fmt: skip
            d.update({
                "lead": str(getattr(c, "lead", "") or ""),
                "outcome": str(getattr(c, "outcome", "") or ""),
                "initiatives": inis,
                "source": str(getattr(c, "source", "") or ""),
            })  # fmt: skip
            text = getattr(c, "text", None)
            if not isinstance(text, str) or not text:
                text = "\n".join(x for x in [d["lead"], *(i["text"] for i in inis), d["outcome"]] if x)
            d["text"] = text
            return d
        return None

    async def duplicates(
        self, *, year: int | None = None, threshold: float | None = None
    ) -> list[dict[str, Any]]:
        """Near-duplicate pairs, best first: ``{"a", "b", "score", "kind", "a_title", "b_title", "spans":
        [{"a", "b", "a_range", "b_range"}]}`` (texts of aligned passages; ranges when known)."""
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise InputError(f"threshold must be between 0 and 1, got {threshold!r}")
        return await self._run(self._duplicates, year, threshold)

    def _duplicates(self, year: int | None, threshold: float | None) -> list[dict[str, Any]]:
        titles: dict[str, str] = {}
        texts: dict[str, str] = {}
        for c in self._lib.cases():
            cid = str(c.id)
            titles[cid] = str(getattr(c, "title", "") or "")
            if isinstance(getattr(c, "text", None), str):
                texts[cid] = c.text
            for i in getattr(c, "initiatives", None) or ():
                iid = str(getattr(i, "id", ""))
                titles[iid] = titles[cid]
                if isinstance(getattr(i, "text", None), str):
                    texts[iid] = i.text
        out: list[dict[str, Any]] = []
        for p in self._lib.near_duplicates(year=year, threshold=threshold):
            a, b = str(p.a), str(p.b)
            out.append({
                "a": a, "b": b, "score": round(float(p.score), 4), "kind": str(p.kind),
                "a_case": _INI_SUFFIX.sub("", a), "b_case": _INI_SUFFIX.sub("", b),
                "a_title": titles.get(a, ""), "b_title": titles.get(b, ""),
                "spans": [aligned_pair(s, texts.get(a), texts.get(b)) for s in (p.spans or ())],
            })  # fmt: skip
        out.sort(key=lambda d: -d["score"])
        return out

    async def trends(self) -> Any:
        """``lib.trends()``: a pandas DataFrame (see :mod:`.charts` for how it is drawn)."""
        return await self._run(lambda: self._lib.trends())

    # -- writes ------------------------------------------------------------------------------------------
    async def add_upload(self, data: bytes, filename: str | None, *, year: int, source: str | None) -> Any:
        """Import an uploaded collection for ``year``; returns the library's collection id.

        Raises ReadOnlyError on a read-only app, UnsupportedType for an unknown file type, InputError for an
        empty file or a year outside 1949..2100 (and whatever the library raises for a bad file, with the
        temporary path replaced by the upload's name).
        """
        if self.read_only:
            raise ReadOnlyError("this app was started with --read-only: the library cannot be changed here")
        self._need()
        if isinstance(year, bool) or not isinstance(year, int) or not 1949 <= year <= 2100:
            raise InputError(f"year must be a year from 1949 to 2100, got {year!r}")
        name = display_name(filename)
        suffix = _known_suffix(name)
        if not data.strip():
            raise InputError(f"{name}: the file is empty")
        src = (source or "").strip()[:200] or name
        return await self._run(self._add, data, name, suffix, year, src)

    def _add(self, data: bytes, name: str, suffix: str, year: int, source: str) -> Any:
        tmp = Path(tempfile.mkdtemp(prefix="yanreform-web-"))
        path = tmp / f"submission{suffix}"
        try:
            path.write_bytes(data)
            try:
                return self._lib.add(str(path), year=year, source=source)
            except YanreformError as exc:
                raise type(exc)(str(exc).replace(str(path), name)) from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _cut(text: str | None, r: Any) -> str:
    if text is None or not isinstance(r, tuple | list) or len(r) != 2:
        return ""
    s, e = r
    if isinstance(s, int) and isinstance(e, int) and 0 <= s <= e <= len(text):
        return text[s:e]
    return ""


def _get(span: Any, *names: str) -> Any:
    for n in names:
        if isinstance(span, dict) and n in span:
            return span[n]
        if hasattr(span, n):
            return getattr(span, n)
    return None


def aligned_pair(span: Any, text_a: str | None, text_b: str | None) -> dict[str, Any]:
    """One aligned passage pair as ``{"a", "b", "a_range", "b_range"}`` from any of the shapes the module
    docstring lists; unknown shapes show as their text on the left."""
    ra: Any = None
    rb: Any = None
    if isinstance(span, tuple | list) and len(span) == 2 and all(isinstance(x, str) for x in span):
        return {"a": span[0], "b": span[1], "a_range": None, "b_range": None}
    if isinstance(span, tuple | list) and len(span) == 4 and all(isinstance(x, int) for x in span):
        ra, rb = (span[0], span[1]), (span[2], span[3])
    elif isinstance(span, tuple | list) and len(span) == 2:
        ra, rb = (
            tuple(span[0]) if isinstance(span[0], Iterable) and not isinstance(span[0], str) else None,
            tuple(span[1]) if isinstance(span[1], Iterable) and not isinstance(span[1], str) else None,
        )
    else:
        a, b = _get(span, "a_text", "text_a", "left"), _get(span, "b_text", "text_b", "right")
        if a is None and b is None:
            a0, a1, b0, b1 = (_get(span, n) for n in ("a_start", "a_end", "b_start", "b_end"))
            if None not in (a0, a1, b0, b1):
                ra, rb = (a0, a1), (b0, b1)
            else:
                av, bv = _get(span, "a"), _get(span, "b")
                if isinstance(av, str) or isinstance(bv, str):
                    a, b = av, bv
                elif av is not None and bv is not None:
                    ra, rb = tuple(av), tuple(bv)
        if a is not None or b is not None:
            return {"a": str(a or ""), "b": str(b or ""), "a_range": None, "b_range": None}
    if ra is None and rb is None:
        return {"a": str(span), "b": "", "a_range": None, "b_range": None}
    return {
        "a": _cut(text_a, ra),
        "b": _cut(text_b, rb),
        "a_range": [_jsonable(x) for x in ra] if ra else None,
        "b_range": [_jsonable(x) for x in rb] if rb else None,
    }


def trend_records(df: Any) -> list[dict[str, Any]]:
    """A trends DataFrame as JSON rows (the index becomes columns; numpy scalars become plain values)."""
    try:
        flat = (
            df.reset_index()
            if getattr(df.index, "name", None) or getattr(df.index, "names", [None])[0]
            else df
        )
    except Exception:  # not a DataFrame-like value
        return []
    cols = [str(c) for c in flat.columns]
    return [
        {c: _jsonable(v) for c, v in zip(cols, row, strict=False)} for row in flat.itertuples(index=False)
    ]
