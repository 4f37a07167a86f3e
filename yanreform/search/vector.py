"""Vectorised exact top-k search over embedding matrices (numpy only); approx.py holds the approximate one.

This module imports numpy and, of yanreform, only the dependency-free error family: not torch, so it stays
cheap to import and usable on its own. Every error raised on purpose is a :class:`ValueError` (an
:class:`~yanreform.errors.InputError` for a bad ``k``) whose message names the offending argument.

Conventions shared by :func:`topk`, :func:`topk_reference` and :meth:`ApproxIndex.search`:

* Inputs are assumed L2-normalised, so the inner product *is* the cosine similarity. Nothing is normalised or
  checked for norm here (that would cost a pass over the corpus); un-normalised inputs are ranked by raw inner
  product.
* Scores are computed in float32. A float16 (or float64) corpus is converted chunk by chunk (as a whole only
  when the float32 copy fits the memory budget, i.e. for small corpora).
  The conversion is numpy's cast at about 1 ns per stored value: float16 storage halves the memory, not the
  time (measured at N=100k, d=384: ~1.3x the float32 time for 256 queries, ~10x for a single query, whose
  float32 product is only a memory-bound pass).
* Results are ``(scores, indices)``: ``scores`` float32 sorted descending, ``indices`` int64 row numbers into
  the corpus. Ties are broken deterministically: higher score first, then lower corpus index.
* ``k`` larger than the number of eligible corpus rows is clamped (no padding, no error): with ``n`` corpus
  rows and exclusions the result has ``min(k, n - e)`` columns, ``e`` being the largest number of distinct
  rows excluded for any one query.
* A 1-D query ``(d,)`` gives 1-D results ``(k,)``; a 2-D ``(q, d)`` batch gives ``(q, k)``.

Cost (benchmarks/bench_topk.py --cpu-time, d=384, k=10, one thread, CPU time), as a multiple of the bare
product ``Q @ D.T``: 256 queries 1.13x at N=10k, 1.03x at 100k, 1.00x at 1M, with at most the memory budget
(64 MiB) of scratch at any N, where ``np.argpartition`` on the full matrix costs 1.3-2.6x and q x N x 16
bytes, and faiss ``IndexFlatIP`` 2.4-7.7x; a single query 1.13x at 10k (a fixed ~20 us of validation and
selection on a 0.16 ms product), 1.03x at 100k, 1.01x at 1M (faiss: 1.1-1.4x).

"Exact" means the same result as sorting the full float32 score matrix. BLAS may round the same dot product
differently (by an ulp or so) depending on the shape of the product it sits in, so two rows whose scores
differ only by rounding can swap places between this function and a full ``Q @ D.T``; with real embeddings
such near-ties are rare and meaningless.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt

# the vector core's only import from yanreform: the dependency-free error family (same error, same type)
from ..errors import check_k

__all__ = ["DEFAULT_MEMORY_BUDGET", "topk", "topk_reference"]

logger = logging.getLogger("yanreform.vector")

#: Default scratch budget of :func:`topk` in bytes (score chunk + comparison mask + partition copy + any
#: float16 -> float32 conversion of a corpus chunk). Independent of the corpus size.
DEFAULT_MEMORY_BUDGET = 64 * 1024 * 1024

# Bytes of scratch per (query, corpus row) pair in one chunk: float32 score + bool mask + float32 copy used by
# np.partition in the dense selection step.
_BYTES_PER_SCORE = 9
# Fewer corpus rows than this per chunk makes the matrix product inefficient; queries are split into blocks
# instead when the budget cannot hold this many columns for all of them.
_MIN_CHUNK = 1024
# Chunks hold at most this many scores (32 MiB of float32, about the L3 cache here), or
# _MIN_MAX_CHUNK rows for many queries. Wider chunks buy nothing for many queries; for few queries they mean
# fewer BLAS calls (each one a thread hand-off, which costs on a busy machine).
_MAX_CHUNK_SCORES = 1 << 23
_MIN_MAX_CHUNK = 8192
# Problems with at most this many scores (or a single query) whose score matrix fits the budget skip the chunk
# loop: one product, one partition, one small sort.
_WHOLE_MAX_SCORES = 1 << 18
# Sentinel index for "no result yet"; sorts after every real index.
_NO_INDEX = np.iinfo(np.int64).max


# ------------------------------------------------------------------------------------------------- validation


def _as_matrix(x: Any, name: str, *, allow_1d: bool) -> tuple[np.ndarray, bool]:
    """Return ``(array, was_1d)``; the array keeps its floating dtype (no copy for float16/float32 input)."""
    arr = np.asarray(x)
    if arr.dtype.kind != "f":
        raise ValueError(
            f"{name} must be a floating-point array (float32 or float16), got dtype {arr.dtype}"
            + ("; convert explicitly if integer vectors are really meant" if arr.dtype.kind in "iu" else "")
        )
    if arr.ndim == 1 and allow_1d:
        return arr[None, :], True
    if arr.ndim != 2:
        want = "a 1-D (d,) or 2-D (q, d) array" if allow_1d else "a 2-D (n, d) array"
        raise ValueError(f"{name} must be {want}, got shape {arr.shape}")
    return arr, False


def _check_k(k: Any) -> int:
    return check_k(k)


def _check_finite(x: np.ndarray, name: str) -> None:
    finite = np.isfinite(x)
    if not finite.all():
        row = int(np.flatnonzero(~finite.all(axis=1))[0])
        raise ValueError(f"{name} contains NaN or infinite values (first in row {row})")


def _prepare_exclude(exclude: Any, q: int, n: int, was_1d: bool) -> np.ndarray | None:
    """Validate ``exclude``; return a (q, m) int64 array (-1 = nothing) or None."""
    if exclude is None:
        return None
    ex = np.asarray(exclude)
    if ex.size == 0:
        return None
    if ex.dtype.kind not in "iu":
        raise ValueError(f"exclude must be an integer array of corpus row numbers, got dtype {ex.dtype}")
    two_d = ex.ndim == 2 and not was_1d
    if was_1d:
        # One query: a scalar or a flat list of rows to drop.
        if ex.ndim > 1:
            raise ValueError(f"exclude for a 1-D query must be an int or a 1-D array, got shape {ex.shape}")
        ex = ex.reshape(1, -1)
    elif ex.ndim == 1:
        if ex.shape[0] != q:
            raise ValueError(f"exclude must have one entry per query ({q}), got shape {ex.shape}")
        ex = ex[:, None]
    elif ex.ndim == 2:
        if ex.shape[0] != q:
            raise ValueError(f"exclude must have one row per query ({q}), got shape {ex.shape}")
    else:
        raise ValueError(f"exclude must be None, (q,) or (q, m), got shape {ex.shape}")
    ex = ex.astype(np.int64, copy=False)
    bad = (ex < -1) | (ex >= n)
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        where = f"[{r}, {c}]" if two_d else f"[{c}]" if was_1d else f"[{r}]"
        raise ValueError(
            f"exclude{where} = {ex[r, c]} is not a corpus row (valid: 0..{n - 1}, or -1 for none)"
        )
    return ex


def _max_excluded(ex: np.ndarray | None) -> int:
    """Largest number of distinct valid rows excluded for one query."""
    if ex is None:
        return 0
    s = np.sort(ex, axis=1)
    distinct = s >= 0
    distinct[:, 1:] &= s[:, 1:] != s[:, :-1]
    return int(distinct.sum(axis=1).max(initial=0))


def _validate(
    queries: Any, corpus: Any, k: Any, exclude: Any
) -> tuple[np.ndarray, np.ndarray, int, np.ndarray | None, bool]:
    """Shared checks. Returns (queries float32 (q, d), corpus (n, d), k_eff, exclude (q, m) or None, 1-D?)."""
    k = _check_k(k)
    Q, was_1d = _as_matrix(queries, "queries", allow_1d=True)
    D, _ = _as_matrix(corpus, "corpus", allow_1d=False)
    if Q.shape[1] != D.shape[1]:
        raise ValueError(
            f"dimension mismatch: queries have dimension {Q.shape[1]} but corpus rows have {D.shape[1]}"
        )
    Q = np.ascontiguousarray(Q, dtype=np.float32)
    _check_finite(Q, "queries")
    ex = _prepare_exclude(exclude, Q.shape[0], D.shape[0], was_1d)
    k_eff = max(0, min(k, D.shape[0] - _max_excluded(ex)))
    return Q, D, k_eff, ex, was_1d


def _finish(scores: np.ndarray, idx: np.ndarray, was_1d: bool) -> tuple[np.ndarray, np.ndarray]:
    if was_1d:
        return scores[0], idx[0]
    return scores, idx


# ------------------------------------------------------------------------------------------------- reference


def topk_reference(
    queries: npt.ArrayLike, corpus: npt.ArrayLike, k: int, *, exclude: npt.ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Obvious implementation of :func:`topk`: full score matrix, stable argsort. For tests and benchmarks.

    Same arguments, conventions and errors as :func:`topk`, but uses ``O(q * n)`` memory and a full sort.
    """
    Q, D, k_eff, ex, was_1d = _validate(queries, corpus, k, exclude)
    D32 = np.asarray(D, dtype=np.float32)
    _check_finite(D32, "corpus")
    S = Q @ D32.T
    if ex is not None:
        rows, cols = np.nonzero(ex >= 0)
        S[rows, ex[rows, cols]] = -np.inf
    # Stable sort of the negated scores: descending score, ties keep ascending index order.
    order = np.argsort(-S, axis=1, kind="stable")[:, :k_eff]
    scores = np.take_along_axis(S, order, axis=1).astype(np.float32, copy=False)
    return _finish(scores, order.astype(np.int64, copy=False), was_1d)


# -------------------------------------------------------------------------------------------------- fast path


def _plan(
    q: int, n: int, d: int, k: int, convert: bool, chunk_size: int | None, budget: int
) -> tuple[int, int]:
    """Choose (query block size, corpus chunk size) so that the scratch stays within ``budget`` bytes.

    Scratch ~= block * chunk * _BYTES_PER_SCORE + chunk * conv + block * merge, where ``conv`` is the float32
    copy of a converted corpus row and ``merge`` the per-query merge space (running top-k plus candidates).
    """
    conv = 4 * d if convert else 0
    merge = 160 * k
    if chunk_size is not None:
        chunk = min(int(chunk_size), n)
    else:
        # Widest chunk (up to the cap) that fits with all queries in one block.
        cap = max(_MIN_MAX_CHUNK, _MAX_CHUNK_SCORES // q)
        chunk = min(n, cap, max(0, budget - merge * q) // (_BYTES_PER_SCORE * q + conv))
        if chunk < min(n, _MIN_CHUNK):
            # Too many queries for the budget: keep chunks efficient and split the queries instead.
            chunk = min(n, _MIN_CHUNK, max(1, budget // (_BYTES_PER_SCORE + conv + merge)))
    block = min(q, max(1, max(0, budget - conv * chunk) // (_BYTES_PER_SCORE * chunk + merge)))
    return block, max(1, chunk)


def _chunks(n: int, chunk: int, k: int, q: int) -> list[tuple[int, int]]:
    """Row ranges of the corpus chunks: a small first chunk, then doubling up to ``chunk`` rows.

    The first chunk goes through the dense selection (np.partition, ~1 ns per score); every later one only
    through the threshold comparison (~0.3 ns per score). Starting small makes the threshold available early,
    and doubling keeps the expected number of candidates per chunk near ``k`` per query. The first chunk holds
    about 64k scores (at least 512 rows): fewer would only add per-chunk overhead, which dominates for few
    queries.
    """
    out = []
    size = min(chunk, max(8 * k, 512, 65536 // max(q, 1)))
    lo = 0
    while lo < n:
        hi = min(n, lo + size)
        out.append((lo, hi))
        lo = hi
        size = min(chunk, 2 * size)
    return out


def _trim_ties(
    S: np.ndarray, M: np.ndarray, kth: np.ndarray, k: int, scratch: np.ndarray | None = None
) -> None:
    """In rows of ``M`` with over ``2k`` candidates, keep those above ``kth`` and only the first equal ones.

    Happens only with massive score ties (e.g. many identical corpus rows): every entry equal to a row's k-th
    best beyond the first ``k - (number above it)`` (in index order) has k better entries, so dropping it is
    exact, and it keeps the merge's memory bounded by O(q * k). Fewer than ``k`` entries of a row exceed
    ``kth`` (at least its k-th best); the equal ones are found block by block, so the extra memory is one bool
    per score of a row (``scratch``, when given, provides it).
    """
    for r in np.flatnonzero(np.count_nonzero(M, axis=1) > 2 * k):
        row = S[r]
        above = np.greater(row, kth[r], out=None if scratch is None else scratch[: row.size])
        above = np.flatnonzero(above)
        equal = _first_equal(row, kth[r], k - above.size, where=M[r])
        M[r] = False
        M[r, above] = True
        M[r, equal] = True


def _merge(
    top_s: np.ndarray,
    top_i: np.ndarray,
    rows: np.ndarray,
    cand_s: np.ndarray,
    cand_i: np.ndarray,
    *,
    fresh: bool = False,
) -> None:
    """Merge candidates into the running per-row top-k, in place. Only rows that received candidates change.

    ``fresh``: the running top-k is still empty and every row has at least k candidates (skip the merge).

    ``rows``/``cand_s``/``cand_i`` are ordered by row, then by index (as np.flatnonzero yields them), and
    every candidate index is larger than every index already in ``top_i`` (chunks come in corpus order). So
    one *stable* sort by (row, score descending) applies the tie rule by itself: among equal scores the
    running entries (smaller indices, placed first) and then candidates in index order keep their relative
    order. The key packs row and an order-preserving integer image of the float32 score into one int64; the
    running block is already sorted by it, so the sort is mostly a merge of presorted runs.
    """
    qb, k = top_s.shape
    counts = np.bincount(rows, minlength=qb)
    if fresh:
        # Nothing to merge with: every row has at least k candidates (first dense chunk).
        touched: slice | np.ndarray = slice(None)
        t, run = qb, 0
        all_rows, all_s, all_i = rows, cand_s + np.float32(0.0), cand_i
    else:
        touched = np.flatnonzero(counts)
        t, run = touched.size, k
        if t == qb:
            pos_rows, run_s, run_i = rows, top_s, top_i
        else:
            pos_rows = (np.cumsum(counts > 0) - 1)[rows]
            run_s, run_i = top_s[touched], top_i[touched]
        all_s = np.concatenate([run_s.ravel(), cand_s])
        all_s += np.float32(0.0)  # -0.0 -> +0.0: equal as floats, so they must get the same key
        all_rows = np.concatenate([np.repeat(np.arange(t, dtype=np.int64), k), pos_rows])
        all_i = np.concatenate([run_i.ravel(), cand_i])
    bits = all_s.view(np.int32).astype(np.int64)
    key = bits ^ ((bits >> 31) & 0x7FFFFFFF)  # monotone in the float value (no NaN here)
    order = np.argsort((all_rows << 32) + (0x7FFFFFFF - key), kind="stable")
    starts = np.zeros(t, dtype=np.int64)
    np.cumsum(counts[touched][:-1] + run, out=starts[1:])
    take = order[(starts[:, None] + np.arange(k)).ravel()]
    top_s[touched] = all_s[take].reshape(t, k)
    top_i[touched] = all_i[take].reshape(t, k)


def _whole_fits(q: int, n: int, d: int, k: int, convert: bool, budget: int) -> bool:
    """Whether :func:`_topk_whole` applies: a small problem whose whole score matrix fits the budget.

    Its scratch is the score matrix, its partitioned copy and a mask (``_BYTES_PER_SCORE`` per score), a
    float32 copy of a converted corpus, and O(q * k) for the result. For several queries and over
    ``_WHOLE_MAX_SCORES`` scores the chunk loop is cheaper: its later chunks need only a comparison per
    score, not a partition. A single query is selected without a full partition (:func:`_select_one`), so it
    takes this path whenever its score row fits.
    """
    scores = q * n
    if scores > _WHOLE_MAX_SCORES and q > 1:
        return False
    return scores * _BYTES_PER_SCORE + (4 * n * d if convert else 0) + 160 * q * k <= budget


def _topk_whole(Q: np.ndarray, D: np.ndarray, k: int, ex: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Top-k from the whole score matrix: one product, one selection, one small sort (no chunk loop).

    Same result as the chunked loop of :func:`topk`: the candidates are every entry >= the row's k-th best, in
    index order, so a stable sort by descending score resolves ties at the k-th best by index exactly like the
    chunked merge. Requires ``0 < k <= n`` and finite queries.
    """
    q, n = Q.shape[0], D.shape[0]
    S = Q @ (D if D.dtype == np.float32 else D.astype(np.float32)).T
    # A non-finite corpus row gives a non-finite score for every (finite) query: one row checks all.
    if not np.isfinite(S[0]).all():
        _raise_corpus_row(S[0], 0)
    if ex is not None:
        er, ec = np.nonzero(ex >= 0)
        S[er, ex[er, ec]] = -np.inf
    if q == 1:
        s, i = _select_one(S[0], k)
        return s[None], i[None]
    if k < n:
        kth = np.partition(S, n - k, axis=1)[:, n - k].copy()  # frees the partitioned copy
        M = np.greater_equal(S, kth[:, None])
        if np.count_nonzero(M) > 4 * q * k + q:  # massive ties: keep the memory bounded
            _trim_ties(S, M, kth, k)
        flat = np.flatnonzero(M)
    else:
        flat = np.arange(q * n)
    vals = S.ravel()[flat]
    if flat.size == q * k:
        # The usual case: exactly k candidates per row (every row has at least k).
        order = np.argsort(-vals.reshape(q, k), axis=1, kind="stable")
        order += np.arange(0, q * k, k)[:, None]  # positions in vals
        return vals[order], (flat - np.repeat(np.arange(0, q * n, n), k))[order]
    # Ties at the k-th best: some rows have more than k candidates.
    rows, cols = np.divmod(flat, n)
    top_s = np.empty((q, k), dtype=np.float32)
    top_i = np.empty((q, k), dtype=np.int64)
    _merge(top_s, top_i, rows, vals, cols, fresh=True)
    return top_s, top_i


def _select_one(s: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k of one finite score vector (``0 < k <= n``): scores descending, ties by ascending index.

    The k-th best of a prefix of ``m`` scores is a lower bound of the k-th best overall, so every entry >= it
    is a candidate (about ``k * n / m`` of them in random order): one partition of the prefix and one
    comparison instead of a partition of everything. A poor bound (a corpus sorted by score) or massive ties
    fall back to the exact k-th best, keeping only the first entries equal to it; the scratch stays within 5
    bytes per score (plus the score row itself).
    """
    n = s.size
    if k == n:
        cand = np.arange(n)
    else:
        m = min(n, max(1024, 4 * k, (k * n) >> 8))
        mask = s >= np.partition(s[:m], m - k)[m - k]
        if np.count_nonzero(mask) <= max(4 * k, 512):
            cand = np.flatnonzero(mask)
        else:
            del mask
            kth = np.partition(s, n - k)[n - k]
            above = np.flatnonzero(s > kth)  # fewer than k entries
            cand = np.sort(np.concatenate([above, _first_equal(s, kth, k - above.size)]))
    v = s[cand]
    order = np.argsort(-v, kind="stable")[:k]
    return v[order], cand[order]


def _first_equal(
    s: np.ndarray, value: Any, count: int, *, where: np.ndarray | None = None, block: int = 8192
) -> np.ndarray:
    """The first ``count`` positions (fewer if there are not so many) of ``value`` in ``s`` where ``where``
    is true, found block by block so that the scratch stays small."""
    found = [np.empty(0, dtype=np.int64)]
    for lo in range(0, s.size, block):
        if count <= 0:
            break
        hit = s[lo : lo + block] == value
        if where is not None:
            hit &= where[lo : lo + block]
        idx = np.flatnonzero(hit)[:count]
        found.append(idx + lo)
        count -= idx.size
    return np.concatenate(found)


def _raise_corpus_row(scores: np.ndarray, offset: int) -> None:
    """Name the first non-finite entry of a score row of a finite query (corpus rows ``offset...``)."""
    bad = offset + int(np.flatnonzero(~np.isfinite(scores))[0])
    raise ValueError(f"corpus row {bad} contains NaN or infinite values (or overflows float32 when scored)")


def topk(
    queries: npt.ArrayLike,
    corpus: npt.ArrayLike,
    k: int,
    *,
    exclude: npt.ArrayLike | None = None,
    chunk_size: int | None = None,
    memory_budget: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` inner-product (cosine, for L2-normalised inputs) search of ``queries`` in ``corpus``.

    Args:
        queries: ``(q, d)`` or ``(d,)`` float32 (or float16) array, L2-normalised.
        corpus: ``(n, d)`` float32 or float16 array (a ``np.memmap`` works), L2-normalised. Non-float32
            storage is converted to float32 one chunk at a time.
        k: number of results per query, ``>= 1``; clamped to the number of eligible corpus rows (see the
            module docstring), so ``k > n`` returns ``n`` results.
        exclude: corpus rows to leave out per query: ``None``; an int array ``(q,)`` with one row per query
            (``-1`` = none), e.g. ``np.arange(q)`` when the queries are the first ``q`` corpus rows; or an int
            array ``(q, m)`` for several rows per query (``-1`` entries ignored). For a 1-D query: an int or a
            1-D array of rows.
        chunk_size: corpus rows per chunk; by default derived from ``q`` and ``memory_budget``.
        memory_budget: scratch bytes to aim for (default :data:`DEFAULT_MEMORY_BUDGET`, 64 MiB), whatever
            ``n``. Scratch beyond it grows only with the output, ``O(q * k)``, and with ``d`` for tiny
            budgets.

    Returns:
        ``(scores, indices)``: float32 and int64 arrays of shape ``(q, k')`` (``(k',)`` for a 1-D query),
        scores sorted descending, ties by ascending index. Identical to :func:`topk_reference` (up to BLAS
        rounding of near-ties, see the module docstring).

    Raises:
        ValueError: ``k`` not a positive integer; ``queries``/``corpus`` of the wrong rank or dtype,
            mismatched dimensions, or containing NaN/inf; a malformed ``exclude``; a non-positive
            ``chunk_size`` or ``memory_budget``.

    How: a small problem (a single query whose score row fits the budget, or up to 2**18 scores for several
    queries), when no ``chunk_size`` below ``n`` is given, is scored with one product and selected directly:
    for one query, the k-th best of a prefix of the row bounds the k-th best overall, so one comparison
    leaves a few dozen candidates to sort; for several, one partition per row. Otherwise the corpus is
    processed in row chunks. Each chunk's scores ``S = Q @ C.T`` are computed with one BLAS call; after the
    first chunk every query has a running k-th best score, and in later chunks only entries strictly above
    it can enter the top-k (a tie loses to the earlier, lower index). Those few entries are found with one
    vectorised comparison and merged into the running top-k; a chunk with too many of them (e.g. the first
    one) is reduced with ``np.partition`` first. Both ways give the same result; the selection costs a few
    percent of the product.
    """
    Q, D, k_eff, ex, was_1d = _validate(queries, corpus, k, exclude)
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size <= 0
    ):
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget <= 0:
        raise ValueError(f"memory_budget must be a positive number of bytes, got {memory_budget!r}")

    q, d = Q.shape
    n = D.shape[0]
    convert = D.dtype != np.float32
    if (
        q
        and k_eff
        and (chunk_size is None or chunk_size >= n)
        and _whole_fits(q, n, d, k_eff, convert, int(budget))
    ):
        scores, indices = _topk_whole(Q, D, k_eff, ex)
        return _finish(scores, indices, was_1d)
    scores = np.empty((q, k_eff), dtype=np.float32)
    indices = np.empty((q, k_eff), dtype=np.int64)
    if q == 0 or k_eff == 0:
        return _finish(scores, indices, was_1d)

    block, chunk = _plan(q, n, d, k_eff, convert, chunk_size, int(budget))
    logger.debug("topk: q=%d n=%d d=%d k=%d -> query block %d, chunk %d", q, n, d, k_eff, block, chunk)

    # Exclusions as (query, corpus row) pairs sorted by corpus row, so each chunk takes a contiguous slice.
    if ex is not None:
        er, ec = np.nonzero(ex >= 0)
        ex_cols = ex[er, ec]
        order = np.argsort(ex_cols, kind="stable")
        ex_rows, ex_cols = er[order], ex_cols[order]

    # Scratch buffers, allocated once; chunk views are contiguous prefixes of them.
    s_buf = np.empty(block * chunk, dtype=np.float32)
    p_buf = np.empty(block * chunk, dtype=np.float32)
    m_buf = np.empty(block * chunk, dtype=np.bool_)
    c_buf = np.empty((chunk, d), dtype=np.float32) if convert else None
    # Above this many candidates a chunk is first reduced with np.partition (bounded merge cost and memory).
    cand_limit = 4 * block * k_eff + block

    for q0 in range(0, q, block):
        q1 = min(q, q0 + block)
        qb = q1 - q0
        Qb = Q[q0:q1]
        top_s = np.full((qb, k_eff), -np.inf, dtype=np.float32)
        top_i = np.full((qb, k_eff), _NO_INDEX, dtype=np.int64)
        filled = 0  # corpus rows seen so far (the running top-k is complete once filled >= k_eff + excluded)
        thr = None
        if ex is not None:
            in_block = (ex_rows >= q0) & (ex_rows < q1)
            b_rows, b_cols = ex_rows[in_block] - q0, ex_cols[in_block]
        for lo, hi in _chunks(n, chunk, k_eff, qb):
            c = hi - lo
            if c_buf is not None:
                C = c_buf[:c]
                np.copyto(C, D[lo:hi], casting="unsafe")
            else:
                C = D[lo:hi]
            S = s_buf[: qb * c].reshape(qb, c)
            np.matmul(Qb, C.T, out=S)
            # A non-finite corpus row gives a non-finite score for every (finite) query: one row checks all.
            M = m_buf[: qb * c].reshape(qb, c)
            if not np.isfinite(S[0], out=M[0]).all():
                _raise_corpus_row(S[0], lo)
            if ex is not None:
                a, b = np.searchsorted(b_cols, [lo, hi])
                if a < b:
                    S[b_rows[a:b], b_cols[a:b] - lo] = -np.inf
            flat = None
            if thr is not None:
                np.greater(S, thr[:, None], out=M)
                if np.count_nonzero(M) <= cand_limit:
                    flat = np.flatnonzero(M)
            if flat is None:
                # Dense step: per row, keep the entries >= its k-th best in this chunk (ties included, so the
                # candidate set is a superset of what can enter the top-k).
                if c > k_eff:
                    P = p_buf[: qb * c].reshape(qb, c)
                    np.copyto(P, S)
                    P.partition(c - k_eff, axis=1)
                    kth = P[:, c - k_eff].copy()
                    np.greater_equal(S, kth[:, None], out=M)
                    if thr is not None:
                        np.maximum(kth, thr, out=kth)
                        T = p_buf.view(np.bool_)[: qb * c].reshape(qb, c)  # P is free again: reuse it
                        np.greater(S, thr[:, None], out=T)
                        M &= T
                    if np.count_nonzero(M) > cand_limit:
                        _trim_ties(S, M, kth, k_eff, p_buf.view(np.bool_))
                    flat = np.flatnonzero(M)
                else:
                    flat = np.arange(qb * c)
            if flat.size:
                rows, cols = np.divmod(flat, c)
                fresh = lo == 0 and c > k_eff
                _merge(top_s, top_i, rows, S.ravel()[flat], cols + lo, fresh=fresh)
            filled += c
            if filled >= k_eff:
                # None while some query still has fewer than k eligible rows (exclusions): stay dense.
                thr = None if np.isneginf(top_s[:, -1]).any() else top_s[:, -1].copy()
        scores[q0:q1] = top_s
        indices[q0:q1] = top_i
    return _finish(scores, indices, was_1d)
