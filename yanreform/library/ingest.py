"""Reading a file into case drafts for the library: collections, .docx submissions, and record files.

:func:`open_source` validates an input and returns a :class:`Source`: its kind, content hash, and a stream of
:class:`CaseDraft` s (ids relative to the collection: ``-01``, ``-01-i1``; the importer prefixes the
collection id). Nothing here touches the database.

* ``.txt`` collections (any encoding :func:`yanreform.corpus.read_collection` reads) and ``.docx``
  submissions: parsed into cases and initiatives with exact offsets (a .docx without case structure becomes
  one case holding the whole text).
* ``.pdf``, ``.doc`` / ``.wps``: read by :func:`yanreform.io.open_input` (text layer; LibreOffice, antiword
  or catdoc for .doc) one record per initiative, regrouped into their cases (ids ``-01``, ``-02`` …); a case
  text is then its initiatives joined by blank lines (lead and outcome are not kept).
* ``.jsonl`` / ``.csv`` / ``.tsv`` / ``.xlsx`` records (read as ``yanreform tag`` reads them, streamed): one
  case per record, its text one initiative; fields ``agency`` and ``title`` (or ``heading``) are kept when
  present. Consecutive records sharing a ``case_id`` field form one case with one initiative each (so a
  ``library export --format jsonl`` file imports back case by case).

A bad record (invalid JSON, missing or empty text...) stops the import with an InputError naming the file
and line, unless ``skip_bad`` is set (it is then logged and counted in :attr:`Source.skipped`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from ..errors import InputError, ParseError

__all__ = ["CaseDraft", "IniDraft", "Source", "file_sha256", "open_source", "slug"]

log = logging.getLogger("yanreform")

_CHUNK = 1 << 20


@dataclass(slots=True)
class IniDraft:
    """An initiative before import: ``suffix`` completes its id (``-01-i1``); offsets into the case text."""

    suffix: str
    heading: str
    text: str
    start: int
    end: int


@dataclass(slots=True)
class CaseDraft:
    """A case before import (``suffix``: ``-01``, or ``-<record id>``)."""

    seq: int
    suffix: str
    agency: str
    agencies: list[str]
    title: str
    lead: str
    outcome: str
    text: str
    line: int | None
    initiatives: list[IniDraft]
    fields: dict[str, Any] | None = None
    source_id: str = ""


@dataclass
class Source:
    """An opened input: ``kind``, ``sha256`` of its bytes, ``encoding`` and ``header`` (collections), the
    ``drafts`` stream (iterate once), and ``skipped`` (bad records left out with ``skip_bad``)."""

    path: Path
    kind: str
    sha256: str
    drafts: Iterator[CaseDraft]
    encoding: str | None = None
    header: list[str] = field(default_factory=list)
    skipped: int = 0


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def slug(stem: str) -> str:
    """A collection id from a file stem: whitespace runs become ``_`` (as ``yanreform tag`` makes id
    prefixes)."""
    return re.sub(r"\s+", "_", stem.strip()) or "collection"


def open_source(
    path: str | PathLike[str],
    *,
    text_column: str = "text",
    id_column: str | None = None,
    skip_bad: bool = False,
) -> Source:
    """Open and validate ``path`` (see the module docstring for the kinds).

    Raises:
        InputError: missing, unreadable or folder path; unknown file type; missing column; a bad record
            (while iterating the drafts, unless ``skip_bad``).
        ParseError: a collection that does not decode or has no case structure (names the file and line).
    """
    from ..io.readers import input_kind

    p = Path(path)
    kind = input_kind(str(p))
    if str(path) == "-":
        raise InputError("the library imports files, not stdin: save the records to a .jsonl file first")
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, not a file")
    try:
        digest = file_sha256(p)
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if kind == "collection":
        return _collection_source(p, digest)
    if kind == "docx":
        return _docx_source(p, digest)
    if kind in ("jsonl", "csv", "xlsx", "xls"):
        return _record_source(p, kind, digest, text_column, id_column, skip_bad)
    # other documents (.doc/.wps, .pdf): the io readers' initiatives, regrouped into their cases
    return _record_source(p, kind, digest, "text", None, skip_bad, numbered=True)


def _drafts_of_corpus(corpus: Any) -> Iterator[CaseDraft]:
    """Drafts of parsed cases, numbered by position as the parser numbers them (``-01``, ``-01-i1``)."""
    for seq, case in enumerate(corpus):
        suffix = f"-{seq + 1:02d}"
        inis = [
            IniDraft(f"{suffix}-i{n}", ini.heading, ini.text, ini.start, ini.end)
            for n, ini in enumerate(case.initiatives, 1)
        ]
        yield CaseDraft(
            seq, suffix, case.agency, list(case.agencies), case.title, case.lead, case.outcome, case.text,
            case.line, inis, None, suffix[1:],
        )  # fmt: skip


def _collection_source(p: Path, digest: str) -> Source:
    from ..corpus import decode_collection, parse_collection

    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    text, encoding = decode_collection(data, source=str(p))
    del data
    # ids are given at commit, when the collection id is fixed under the write lock
    corpus = parse_collection(text, name=p.stem, source=str(p))
    return Source(
        p, "collection", digest, _drafts_of_corpus(corpus), encoding, list(corpus.meta.get("header", []))
    )


def _docx_source(p: Path, digest: str) -> Source:
    from ..corpus import parse_collection

    try:
        import docx
    except ImportError:  # pragma: no cover - python-docx is in the docx extra
        raise InputError(f"{p}: reading .docx needs python-docx (pip install 'yanreform[docx]')") from None
    try:
        document = docx.Document(str(p))
    except Exception as exc:  # python-docx raises PackageNotFoundError/BadZipFile/KeyError on bad files
        raise InputError(f"{p}: not a readable .docx document ({type(exc).__name__}: {exc})") from None
    text = "\n".join(par.text for par in document.paragraphs)
    if not text.strip():
        raise InputError(f"{p}: empty document")
    try:
        corpus = parse_collection(text, name=p.stem, source=str(p))
    except ParseError:  # one submission without case structure: one case of the whole text
        return Source(p, "docx", digest, iter([_single(0, "-01", text, {}, None)]))
    return Source(p, "docx", digest, _drafts_of_corpus(corpus), None, list(corpus.meta.get("header", [])))


def _single(seq: int, suffix: str, text: str, fields: dict[str, Any], line: int | None) -> CaseDraft:
    agency = _field(fields, "agency")
    title = _field(fields, "title") or _field(fields, "heading")
    return CaseDraft(
        seq, suffix, agency, _agencies(agency), title, "", "", text, line,
        [IniDraft(f"{suffix}-i1", _field(fields, "heading"), text, 0, len(text))],
        {k: v for k, v in fields.items() if k not in _KNOWN} or None,
    )  # fmt: skip


_KNOWN = frozenset({"text", "agency", "title", "heading", "case_id"})


def _field(fields: dict[str, Any], name: str) -> str:
    v = fields.get(name)
    return v.strip() if isinstance(v, str) else ""


_AGENCY_SEP = re.compile(r"\s*[、，,；;/／]\s*|\s+")


def _agencies(agency: str) -> list[str]:
    """The single agencies of an ``agency`` field (``盐城市中级人民法院、盐城市人民检察院`` -> two)."""
    return [a for a in _AGENCY_SEP.split(agency) if a] if agency else []


_SAFE_ID = re.compile(r"[^\w.\-]+")


def _record_source(
    p: Path,
    kind: str,
    digest: str,
    text_column: str,
    id_column: str | None,
    skip_bad: bool,
    *,
    numbered: bool = False,
) -> Source:
    from ..io.readers import open_input

    src = open_input(str(p), text_column=text_column, id_column=id_column)
    source = Source(p, kind, digest, iter(()))
    source.drafts = _record_drafts(src, source, skip_bad, numbered)
    return source


def _record_drafts(src: Any, source: Source, skip_bad: bool, numbered: bool = False) -> Iterator[CaseDraft]:
    seen: dict[str, str] = {}
    group: list[tuple[Any, str, dict[str, Any]]] = []  # records of one case_id: (record, line, fields)
    seq = 0

    def flush() -> Iterator[CaseDraft]:
        nonlocal seq
        if not group:
            return
        rec0, where0, fields0 = group[0]
        cid = _field(fields0, "case_id")
        rid = cid if cid else str(rec0.id)
        if rid == where0:  # no id in the input: number the record
            rid = f"{seq + 1:02d}"
        suffix = f"-{seq + 1:02d}" if numbered else "-" + _SAFE_ID.sub("_", rid)
        if suffix in seen:
            raise InputError(f"{where0}: duplicate id {rid!r} (also at {seen[suffix]})")
        seen[suffix] = where0
        line = _line_of(where0)
        if len(group) == 1:
            draft = _single(seq, suffix, rec0.text, fields0, line)
        else:
            draft = _grouped(seq, suffix, group, line)
        draft.source_id = rid
        group.clear()
        seq += 1
        yield draft

    for rec in src:
        if not rec.ok:
            if skip_bad:
                source.skipped += 1
                log.warning("skipped a bad record: %s", rec.error)
                continue
            what = (rec.error or "bad record").removesuffix(f" ({rec.where})")
            raise InputError(f"{rec.where}: {what}; fix it or import with skip_bad=True (--skip-bad)")
        fields = dict(rec.fields)
        cid = _field(fields, "case_id")
        if group and not (cid and cid == _field(group[0][2], "case_id")):
            yield from flush()
        group.append((rec, rec.where, fields))
    yield from flush()


def _line_of(where: str) -> int | None:
    tail = where.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _grouped(
    seq: int, suffix: str, group: list[tuple[Any, str, dict[str, Any]]], line: int | None
) -> CaseDraft:
    """One case from consecutive records of one ``case_id``: texts joined by blank lines, one initiative
    each (headings from the ``heading`` field)."""
    parts: list[str] = []
    inis: list[IniDraft] = []
    pos = 0
    for n, (rec, _, fields) in enumerate(group, 1):
        if parts:
            parts.append("\n\n")
            pos += 2
        parts.append(rec.text)
        inis.append(IniDraft(f"{suffix}-i{n}", _field(fields, "heading"), rec.text, pos, pos + len(rec.text)))
        pos += len(rec.text)
    f0 = group[0][2]
    agency = _field(f0, "agency")
    extra = {k: v for k, v in f0.items() if k not in _KNOWN and k != "id"}
    return CaseDraft(
        seq, suffix, agency, _agencies(agency), _field(f0, "title"), "", "", "".join(parts), line, inis,
        extra or None,
    )  # fmt: skip


def check_year(year: Any) -> int:
    """``year`` as an int in 1949..2200; InputError otherwise."""
    if isinstance(year, bool) or not isinstance(year, int | str):
        raise InputError(f"year must be an integer such as 2024, got {year!r}")
    try:
        y = int(year)
    except ValueError:
        raise InputError(f"year must be an integer such as 2024, got {year!r}") from None
    if not 1949 <= y <= 2200:
        raise InputError(f"year {y} is out of range (1949-2200)")
    return y


def dumps(value: Any) -> str:
    """Compact JSON with Chinese kept readable."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
