"""Fusion of the index's sides, as pure functions over score arrays.

Each side scores a case as ``(1 - w) * whole + w * best passage`` (:func:`mix`); the sides live on very
different scales (e5 cosines crowd into 0.75-0.95, TF-IDF cosines spread over 0-0.6), so each is z-scored per
query over the cases of the index (:func:`zscore`) before they are mixed (:func:`fuse`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .config import IndexConfig

__all__ = ["fuse", "mix", "zscore"]


def zscore(s: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """Row-wise z-score of ``s`` (q, n) over the ``valid`` entries (bool (q, n) or None = all)."""
    if valid is None:
        mu = s.mean(axis=1, keepdims=True)
        sd = s.std(axis=1, keepdims=True)
    else:
        cnt = np.maximum(valid.sum(axis=1, keepdims=True), 1)
        mu = np.where(valid, s, 0).sum(axis=1, keepdims=True) / cnt
        sd = np.sqrt(np.where(valid, (s - mu) ** 2, 0).sum(axis=1, keepdims=True) / cnt)
    # a side that cannot tell the cases apart for this query contributes nothing (not a division by ~0)
    return np.where(sd > 1e-6, (s - mu) / np.maximum(sd, 1e-6), 0.0)


def mix(
    whole: np.ndarray, per_passage: np.ndarray, owner: np.ndarray, cols: np.ndarray | None, w: float
) -> np.ndarray:
    """Case scores = (1 - w) * whole + w * best passage; cases without passages use the whole.

    ``whole``: (q, n) over all cases, or over the sorted case rows ``cols``; ``per_passage``: (q, p) over
    passages whose case rows are ``owner`` (non-decreasing).
    """
    if w == 0 or per_passage.shape[1] == 0:
        return whole
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    best_rows = np.maximum.reduceat(per_passage, starts, axis=1)
    case_rows = owner[starts]
    best = whole.copy()
    if cols is None:
        best[:, case_rows] = best_rows
    else:  # cols is sorted and holds every case row that has a selected passage
        best[:, np.searchsorted(cols, case_rows)] = best_rows
    out: np.ndarray = (1.0 - w) * whole + w * best
    return out


def fuse(
    lex: np.ndarray,
    sem: np.ndarray,
    cat: np.ndarray,
    valid: np.ndarray | None,
    config: IndexConfig,
    stats: Sequence[tuple[float, float]] | None = None,
) -> np.ndarray:
    """Fused scores: ``(1 - ws) * lex + ws * sem + wc * cat`` on z-scored sides (``fusion="zscore"``: over the
    ``valid`` cases of each query, or with the reference ``stats`` (mean, sd) per side) or on raw cosines."""
    ws, wc = config.semantic_weight, config.category_weight
    if config.fusion == "raw":
        fused = (1.0 - ws) * lex + ws * sem
        return fused + wc * cat if wc > 0 else fused
    zc: np.ndarray | None
    if stats is None:
        zl, zs = zscore(lex, valid), zscore(sem, valid)
        zc = zscore(cat, valid) if wc > 0 else None
    else:
        zl, zs, zc = (
            np.where(sd > 1e-6, (x - mu) / np.maximum(sd, 1e-6), 0.0)
            for x, (mu, sd) in zip((lex, sem, cat), stats, strict=True)
        )
    fused = zl if ws == 0 else zs if ws == 1 else (1.0 - ws) * zl + ws * zs
    return fused + wc * zc if wc > 0 and zc is not None else fused
