"""Searching the library: stored initiative embeddings first, character bigrams to re-rank.

:func:`search` embeds the query once with the library's encoder, scores every stored initiative of that
encoder's model with one matrix-vector product (exact), keeps the best
``max(10 k, 100)``, re-scores them with the cosine of character bigram counts (so exact names and terms
count), and returns the best initiative of each of the ``k`` best cases. Filters (year, category, collection)
are applied before the top-k. The vector matrix is read once and kept until the library changes.
Initiatives without an embedding of the current model (imported with ``tag=False``, or by another model
before :meth:`~yanreform.library.Library.retag`) are searched by the bigram side alone, with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from .records import LibraryHit

if TYPE_CHECKING:
    from .core import Library

__all__ = ["LEXICAL_WEIGHT", "bigram_cosines", "resolve_category", "search"]

log = logging.getLogger("yanreform")

#: share of the bigram side in the score
LEXICAL_WEIGHT = 0.3
#: the "model" of a fast search: no stored vectors are read
_NO_MODEL = "(none: fast search)"


def _bigram_table(keys: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(doc, bigram code, count)`` rows of the character bigrams of concatenated key texts, sorted by doc
    then code."""
    n = len(keys)
    if n < 2:
        z = np.zeros(0, np.int64)
        return z, z, z
    doc = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
    same = doc[1:] == doc[:-1]
    k = keys.astype(np.int64)
    codes = (k[:-1] << 22) | k[1:]
    combo = (doc[:-1][same] << 44) | codes[same]
    uniq, counts = np.unique(combo, return_counts=True)
    return uniq >> 44, uniq & ((1 << 44) - 1), counts.astype(np.int64)


def bigram_cosines(query: str, texts: list[str]) -> np.ndarray:
    """Cosine (0..1) of the character bigram counts of ``query`` and each text, (len(texts),) float64.

    Bigrams are taken over the key texts (normalised script and width, punctuation and spaces dropped, every
    number one symbol; see :func:`yanreform.library.minhash.batch_keys`), all texts at once.
    """
    from .minhash import batch_keys

    keys, lens = batch_keys([query, *texts])
    doc, code, cnt = _bigram_table(keys, lens)
    out = np.zeros(len(texts), np.float64)
    q = doc == 0
    qcode, qcnt = code[q], cnt[q]
    if not len(qcode):
        return out
    norms = np.sqrt(np.bincount(doc, weights=cnt.astype(np.float64) ** 2, minlength=len(texts) + 1))
    at = np.searchsorted(qcode, code).clip(0, len(qcode) - 1)
    hit = (qcode[at] == code) & ~q
    dots = np.bincount(
        doc[hit], weights=(cnt[hit] * qcnt[at[hit]]).astype(np.float64), minlength=len(texts) + 1
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = dots[1:] / (norms[1:] * norms[0])
    return np.nan_to_num(cos)


def resolve_category(category: str, names: dict[str, tuple[str, str]]) -> str:
    """The code of ``category`` given as a code, a Chinese name or an English name (case-insensitive);
    InputError listing the codes when it is none of them."""
    if category in names:
        return category
    for code, (name, name_en) in names.items():
        if category == name or category.lower() == (name_en or "").lower():
            return code
    raise InputError(f"unknown category {category!r}; known: {', '.join(names)}")


@dataclass(frozen=True)
class _Scope:
    """What a search reads before any SQL: every initiative's rid (sorted), year and collection, the rids
    tagged with each code, and the vectors of one model (their rids, sorted, and the matrix)."""

    rids: np.ndarray
    years: np.ndarray
    collections: np.ndarray
    collection_ids: dict[str, int]
    tagged: dict[str, np.ndarray]
    vec_rids: np.ndarray
    M: np.ndarray

    def allowed(self, year: Any, code: str | None, collection: str | None) -> np.ndarray | None:
        """Sorted rids passing the filters (None: no filter)."""
        if year is None and code is None and collection is None:
            return None
        mask = np.ones(len(self.rids), bool)
        if year is not None:
            mask &= np.isin(self.years, [year] if isinstance(year, int) else list(year))
        if collection is not None:
            mask &= self.collections == self.collection_ids.get(collection, -1)
        out = self.rids[mask]
        if code is not None:
            out = np.intersect1d(out, self.tagged.get(code, np.zeros(0, np.int64)), assume_unique=True)
        return out


def _scope(lib: Library, model_id: str) -> _Scope:
    """The library's :class:`_Scope` for ``model_id``, cached until the library changes."""
    from .store import vectors

    conn = lib._reader()
    stamp = (conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes, model_id, id(conn))
    cache = lib._vec_cache
    if cache is not None and cache[0] == stamp:
        return cache[1]
    rows = conn.execute(
        "SELECT i.rid, c.year, c.collection_id FROM initiatives i JOIN cases c ON c.rid = i.case_rid "
        "ORDER BY i.rid"
    ).fetchall()
    names: dict[str, int] = {}
    rids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    years = np.fromiter((r[1] for r in rows), np.int64, len(rows))
    colls = np.fromiter((names.setdefault(r[2], len(names)) for r in rows), np.int64, len(rows))
    tagged: dict[str, list[int]] = {}
    for rid, code in conn.execute("SELECT initiative_rid, code FROM tags ORDER BY initiative_rid"):
        tagged.setdefault(code, []).append(rid)
    vec_rids, M = vectors(conn, model_id)
    scope = _Scope(
        rids, years, colls, names, {c: np.asarray(v, np.int64) for c, v in tagged.items()}, vec_rids, M
    )
    lib._vec_cache = (stamp, scope)
    return scope


def search(
    lib: Library,
    text: str,
    *,
    k: int = 10,
    year: int | Iterable[int] | None = None,
    category: str | None = None,
    collection: str | None = None,
    fast: bool = False,
) -> list[LibraryHit]:
    """See :meth:`yanreform.library.Library.search`. ``fast``: the bigram side alone over every initiative
    in scope (no encoder, no torch; scores are the bigram cosines)."""
    from ..text.analysis import Analyzer, analyses_of

    if not isinstance(text, str):
        raise TypeError(f"search: text is {type(text).__name__}, expected str")
    if not text.strip():
        raise InputError("empty query")
    names = lib._names()
    code = resolve_category(category, names) if category is not None else None
    if year is not None and not isinstance(year, int):
        year = list(year)
    enc = None if fast else lib.encoder
    sc = _scope(lib, enc.model_id if enc is not None else _NO_MODEL)
    allowed = sc.allowed(year, code, collection)
    n_scope = len(allowed) if allowed is not None else len(sc.rids)
    if n_scope == 0:
        return []
    keep = np.isin(sc.vec_rids, allowed, assume_unique=True) if allowed is not None else None
    n_vec = int(keep.sum()) if keep is not None else len(sc.vec_rids)
    pool = max(10 * k, 100)
    cand: dict[int, float] = {}  # rid -> semantic
    if n_vec and enc is not None:
        q = Analyzer(encoder=enc).embed(analyses_of([text]))[0]
        sims = sc.M @ q  # exact: one matrix-vector product over every stored initiative
        if keep is not None:
            sims = np.where(keep, sims, -np.inf)
        m = min(pool, n_vec)
        top = np.argpartition(-sims, m - 1)[:m] if len(sims) > m else np.arange(len(sims))
        cand = {int(sc.vec_rids[i]): float(sims[i]) for i in top.tolist() if np.isfinite(sims[i])}
    conn = lib._reader()
    if n_vec < n_scope:
        if enc is not None:
            log.warning(
                "%d of %d initiatives have no embedding of %s: searched by characters only (run library "
                "retag)", n_scope - n_vec, n_scope, enc.model_id,
            )  # fmt: skip
        scope_rids = allowed if allowed is not None else sc.rids
        missing = np.setdiff1d(scope_rids, sc.vec_rids, assume_unique=True).tolist()
        plain: list[tuple[int, str]] = []
        for s0 in range(0, len(missing), 900):
            part = missing[s0 : s0 + 900]
            plain += conn.execute(
                f"SELECT rid, text FROM initiatives WHERE rid IN ({','.join('?' * len(part))})", part
            ).fetchall()
        lex = bigram_cosines(text, [t for _, t in plain])
        for j in np.argsort(-lex, kind="stable")[:pool].tolist():
            cand.setdefault(plain[j][0], 0.0)
    if not cand:
        return []
    ph = ",".join("?" * len(cand))
    rows = conn.execute(
        "SELECT i.rid, i.id, i.heading, i.text, c.id, c.year, c.agency, c.title FROM initiatives i "
        f"JOIN cases c ON c.rid = i.case_rid WHERE i.rid IN ({ph})",
        list(cand),
    ).fetchall()
    scored = []
    lexicals = bigram_cosines(text, [r[3] for r in rows])
    for (rid, iid, heading, itext, cid, yr, agency, title), lexical in zip(
        rows, lexicals.tolist(), strict=True
    ):
        sem = cand[rid]
        score = lexical if enc is None else (1 - LEXICAL_WEIGHT) * sem + LEXICAL_WEIGHT * lexical
        scored.append((score, sem, lexical, rid, iid, heading, itext, cid, yr, agency, title))
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
