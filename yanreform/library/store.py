"""Reading the library's tables back into records (cases with initiatives and tags, collections, vectors).

Functions over an open :class:`sqlite3.Connection`; the :class:`~yanreform.library.Library` facade owns the
connection and its lock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .records import Collection, LibraryCase, LibraryInitiative

__all__ = [
    "CaseFilter",
    "case_rows",
    "collections",
    "iter_cases",
    "load_cases",
    "tag_lists",
    "vectors",
]

#: category code -> (Chinese name, English name)
Names = Mapping[str, tuple[str, str]]


class CaseFilter:
    """A WHERE clause over ``cases`` (alias ``c``) with its parameters, built from optional filters."""

    def __init__(
        self,
        *,
        year: int | Sequence[int] | None = None,
        collection: str | None = None,
        agency_kind: str | None = None,
        ids: Sequence[str] | None = None,
        before: int | None = None,
    ) -> None:
        parts: list[str] = []
        params: list[Any] = []
        if year is not None:
            years = [year] if isinstance(year, int) else list(year)
            parts.append(f"c.year IN ({','.join('?' * len(years))})")
            params += years
        if before is not None:
            parts.append("c.year < ?")
            params.append(before)
        if collection is not None:
            parts.append("c.collection_id = ?")
            params.append(collection)
        if agency_kind is not None:
            parts.append("c.agency_kind = ?")
            params.append(agency_kind)
        if ids is not None:
            parts.append(f"c.id IN ({','.join('?' * len(ids))})")
            params += list(ids)
        self.sql = (" WHERE " + " AND ".join(parts)) if parts else ""
        self.params = params


def collections(conn: sqlite3.Connection) -> list[Collection]:
    """Every collection, by year then id, with its case and initiative counts."""
    rows = conn.execute(
        "SELECT co.id, co.year, co.source, co.name, co.path, co.sha256, co.kind, co.imported_at, "
        "(SELECT COUNT(*) FROM cases c WHERE c.collection_id = co.id), "
        "(SELECT COUNT(*) FROM initiatives i JOIN cases c ON i.case_rid = c.rid "
        "WHERE c.collection_id = co.id) "
        "FROM collections co ORDER BY co.year, co.id"
    ).fetchall()
    return [Collection(*r) for r in rows]


_CASE_COLS = (
    "c.rid, c.id, c.collection_id, c.year, c.agency, c.agencies, c.agency_kind, c.place, c.title, c.lead, "
    "c.outcome, c.text, c.line, c.source_id"
)


def case_rows(conn: sqlite3.Connection, where: CaseFilter) -> list[tuple[Any, ...]]:
    """Raw case rows (rid first, then the :data:`_CASE_COLS` columns) in library order (year, collection,
    position)."""
    return conn.execute(
        f"SELECT {_CASE_COLS} FROM cases c{where.sql} ORDER BY c.year, c.collection_id, c.seq", where.params
    ).fetchall()


def tag_lists(rows: Sequence[tuple[Any, ...]], names: Names) -> dict[int, list[Any]]:
    """Tags by initiative rid from ``(initiative_rid, code, score, evidence JSON)`` rows, best first."""
    from ..tagging.records import Evidence, Tag

    out: dict[int, list[Any]] = {}
    for rid, code, score, ev in rows:
        name, name_en = names.get(code, (code, ""))
        evidence = tuple(
            Evidence(int(e["start"]), int(e["end"]), e["text"], e["source"], e["term"])
            for e in json.loads(ev)
        )
        out.setdefault(rid, []).append(Tag(code, name, name_en, float(score), evidence))
    for tags in out.values():
        tags.sort(key=lambda t: (-t.score, t.code))
    return out


def _rid_chunks(rids: Sequence[int], n: int = 900) -> Iterator[Sequence[int]]:
    for s in range(0, len(rids), n):
        yield rids[s : s + n]


def load_cases(
    conn: sqlite3.Connection, where: CaseFilter, names: Names, *, with_initiatives: bool = True
) -> list[LibraryCase]:
    """The cases matching ``where`` with their initiatives and tags, in library order."""
    rows = case_rows(conn, where)
    return list(_build(conn, rows, names, with_initiatives))


def iter_cases(
    conn: sqlite3.Connection, where: CaseFilter, names: Names, *, chunk: int = 2000
) -> Iterator[LibraryCase]:
    """Like :func:`load_cases`, ``chunk`` cases at a time (for exports of large libraries)."""
    rows = case_rows(conn, where)
    for s in range(0, len(rows), chunk):
        yield from _build(conn, rows[s : s + chunk], names, True)


def _build(
    conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]], names: Names, with_initiatives: bool
) -> Iterator[LibraryCase]:
    from ..tagging.records import TagList

    inis: dict[int, list[LibraryInitiative]] = {}
    if with_initiatives and rows:
        case_ids = {r[0]: r[1] for r in rows}
        rids = list(case_ids)
        ini_rows: list[tuple[Any, ...]] = []
        for part in _rid_chunks(rids):
            ini_rows += conn.execute(
                "SELECT i.rid, i.case_rid, i.id, i.heading, i.text, i.char_start, i.char_end, i.tagged_by "
                f"FROM initiatives i WHERE i.case_rid IN ({','.join('?' * len(part))}) "
                "ORDER BY i.case_rid, i.seq",
                list(part),
            ).fetchall()
        tag_rows: list[tuple[Any, ...]] = []
        ini_rids = [r[0] for r in ini_rows]
        for part in _rid_chunks(ini_rids):
            tag_rows += conn.execute(
                "SELECT initiative_rid, code, score, evidence FROM tags "
                f"WHERE initiative_rid IN ({','.join('?' * len(part))})",
                list(part),
            ).fetchall()
        tags = tag_lists(tag_rows, names)
        for rid, case_rid, iid, heading, text, s, e, by in ini_rows:
            inis.setdefault(case_rid, []).append(
                LibraryInitiative(
                    iid, case_ids[case_rid], heading, text, s, e, TagList(tags.get(rid, ()), text=text), by
                )
            )
    for r in rows:
        rid, cid, coll, year, agency, agencies, kind, place, title, lead, outcome, text, line, sid = r
        yield LibraryCase(
            cid, coll, int(year), agency, json.loads(agencies), kind, place, title, lead, outcome, text,
            line, inis.get(rid, []), sid,
        )  # fmt: skip


def vectors(conn: sqlite3.Connection, model_id: str, dim: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(initiative rids (n,) int64, vectors (n, d) float32)`` of every initiative embedded with
    ``model_id``, in rid order (rows of another dimension than ``dim`` are left out)."""
    rows = conn.execute(
        "SELECT initiative_rid, dim, data FROM vectors WHERE model_id = ? ORDER BY initiative_rid",
        (model_id,),
    ).fetchall()
    if dim is None and rows:
        dim = int(rows[0][1])
    keep = [(r, blob) for r, d, blob in rows if d == dim]
    if not keep or dim is None:
        return np.zeros(0, np.int64), np.zeros((0, dim or 0), np.float32)
    rids = np.fromiter((r for r, _ in keep), np.int64, len(keep))
    M = np.frombuffer(b"".join(blob for _, blob in keep), dtype="<f4").reshape(len(keep), dim)
    return rids, M.astype(np.float32, copy=False)
