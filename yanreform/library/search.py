"""Searching the library: stored initiative embeddings first, character bigrams to re-rank.

:func:`search` embeds the query once with the library's encoder, scores every stored initiative of that
encoder's model with one matrix-vector product (:func:`yanreform.topk`, exact), keeps the best
``max(10 k, 100)``, re-scores them with the cosine of character bigram counts (so exact names and terms
count), and returns the best initiative of each of the ``k`` best cases. Filters (year, category, collection)
are applied before the top-k. The vector matrix is read once and kept until the library changes.
Initiatives without an embedding of the current model (imported with ``tag=False``, or by another model
before :meth:`~yanreform.library.Library.retag`) are searched by the bigram side alone, with a warning.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from .records import LibraryHit

if TYPE_CHECKING:
    from .core import Library

__all__ = ["LEXICAL_WEIGHT", "bigram_cosine", "resolve_category", "search"]

log = logging.getLogger("yanreform")

#: share of the bigram side in the score
LEXICAL_WEIGHT = 0.3

_KEEP_RE = re.compile(r"[^\u3400-\u9fff\U00020000-\U0003ffffA-Za-z0-9]+")


def _bigrams(text: str) -> Counter[str]:
    from ..text.normalize import normalize_text

    s = _KEEP_RE.sub(" ", normalize_text(text)).lower()
    return Counter(a + b for part in s.split() for a, b in itertools.pairwise(part))


def bigram_cosine(query: Counter[str], text: str) -> float:
    """Cosine (0..1) of the character bigram counts of ``query`` (already counted) and ``text`` (normalised
    first; punctuation and spaces break bigrams)."""
    other = _bigrams(text)
    if not query or not other:
        return 0.0
    dot = sum(v * other.get(g, 0) for g, v in query.items())
    nq = sum(v * v for v in query.values()) ** 0.5
    no = sum(v * v for v in other.values()) ** 0.5
    return float(dot / (nq * no))


def resolve_category(category: str, names: dict[str, tuple[str, str]]) -> str:
    """The code of ``category`` given as a code, a Chinese name or an English name (case-insensitive);
    InputError listing the codes when it is none of them."""
    if category in names:
        return category
    for code, (name, name_en) in names.items():
        if category == name or category.lower() == (name_en or "").lower():
            return code
    raise InputError(f"unknown category {category!r}; known: {', '.join(names)}")


def _matrix(lib: Library, model_id: str) -> tuple[np.ndarray, np.ndarray]:
    """The library's vectors of ``model_id`` (rids, matrix), cached until the library changes."""
    from .store import vectors

    conn = lib._reader()
    stamp = (conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes, model_id, id(conn))
    cache = lib._vec_cache
    if cache is not None and cache[0] == stamp:
        return cache[1], cache[2]
    rids, M = vectors(conn, model_id)
    lib._vec_cache = (stamp, rids, M)
    return rids, M


def _allowed(
    lib: Library, year: Any, code: str | None, collection: str | None
) -> tuple[np.ndarray | None, int]:
    """Sorted rids of the initiatives passing the filters (None: no filter), and the number of initiatives.

    Each filter is one indexed query (cases by year or collection, tags by code); they are intersected here.
    """
    conn = lib._reader()
    total = int(conn.execute("SELECT COUNT(*) FROM initiatives").fetchone()[0])
    sets: list[np.ndarray] = []
    parts, params = [], []
    if year is not None:
        years = [year] if isinstance(year, int) else list(year)
        parts.append(f"c.year IN ({','.join('?' * len(years))})")
        params += years
    if collection is not None:
        parts.append("c.collection_id = ?")
        params.append(collection)
    if parts:
        sql = "SELECT i.rid FROM cases c JOIN initiatives i ON i.case_rid = c.rid WHERE " + " AND ".join(
            parts
        )
        sets.append(np.fromiter((r[0] for r in conn.execute(sql, params)), np.int64))
    if code is not None:
        rows = conn.execute("SELECT initiative_rid FROM tags WHERE code = ?", (code,))
        sets.append(np.fromiter((r[0] for r in rows), np.int64))
    if not sets:
        return None, total
    out = np.unique(sets[0])
    for other in sets[1:]:
        out = np.intersect1d(out, other)
    return out, total


def search(
    lib: Library,
    text: str,
    *,
    k: int = 10,
    year: int | Iterable[int] | None = None,
    category: str | None = None,
    collection: str | None = None,
) -> list[LibraryHit]:
    """See :meth:`yanreform.library.Library.search`."""
    from ..search.vector import topk
    from ..text.analysis import Analyzer, analyses_of

    if not isinstance(text, str):
        raise TypeError(f"search: text is {type(text).__name__}, expected str")
    if not text.strip():
        raise InputError("empty query")
    names = lib._names()
    code = resolve_category(category, names) if category is not None else None
    if year is not None and not isinstance(year, int):
        year = list(year)
    allowed, total = _allowed(lib, year, code, collection)
    if total == 0 or (allowed is not None and not len(allowed)):
        return []
    enc = lib.encoder
    rids, M = _matrix(lib, enc.model_id)
    if allowed is not None and len(rids):
        keep = np.isin(rids, allowed)
        rids, M = rids[keep], M[keep]
    pool = max(10 * k, 100)
    qgrams = _bigrams(text)
    cand: dict[int, float] = {}  # rid -> semantic
    if len(rids):
        q = Analyzer(encoder=enc).embed(analyses_of([text]))
        s, idx = topk(q, M, min(pool, len(rids)))
        cand = {int(rids[int(i)]): float(v) for v, i in zip(s[0], idx[0], strict=True)}
    n_scope = len(allowed) if allowed is not None else total
    conn = lib._reader()
    if len(rids) < n_scope:
        log.warning(
            "%d of %d initiatives have no embedding of %s: searched by characters only (run library retag)",
            n_scope - len(rids), n_scope, enc.model_id,
        )  # fmt: skip
        have = set(rids.tolist())
        rows = conn.execute("SELECT rid, text FROM initiatives").fetchall()
        scope = set(allowed.tolist()) if allowed is not None else None
        lex = [
            (bigram_cosine(qgrams, t), r) for r, t in rows if r not in have and (scope is None or r in scope)
        ]
        for _, r in sorted(lex, reverse=True)[:pool]:
            cand.setdefault(r, 0.0)
    if not cand:
        return []
    ph = ",".join("?" * len(cand))
    rows = conn.execute(
        "SELECT i.rid, i.id, i.heading, i.text, c.id, c.year, c.agency, c.title FROM initiatives i "
        f"JOIN cases c ON c.rid = i.case_rid WHERE i.rid IN ({ph})",
        list(cand),
    ).fetchall()
    scored = []
    for rid, iid, heading, itext, cid, yr, agency, title in rows:
        lexical = bigram_cosine(qgrams, itext)
        sem = cand[rid]
        scored.append(((1 - LEXICAL_WEIGHT) * sem + LEXICAL_WEIGHT * lexical, sem, lexical, rid, iid, heading,
                       itext, cid, yr, agency, title))  # fmt: skip
    scored.sort(key=lambda r: (-r[0], r[4]))
    best: dict[str, tuple[Any, ...]] = {}
    for r in scored:
        best.setdefault(r[7], r)
        if len(best) == k:
            break
    hits = list(best.values())
    codes: dict[int, list[str]] = {}
    ph = ",".join("?" * len(hits))
    for rid, c in conn.execute(
        f"SELECT initiative_rid, code FROM tags WHERE initiative_rid IN ({ph}) ORDER BY score DESC",
        [h[3] for h in hits],
    ):
        codes.setdefault(rid, []).append(c)
    return [
        LibraryHit(
            cid,
            iid,
            float(score),
            float(sem),
            float(lexical),
            int(yr),
            agency,
            title,
            heading,
            itext,
            codes.get(rid, []),
        )
        for score, sem, lexical, rid, iid, heading, itext, cid, yr, agency, title in hits
    ]
