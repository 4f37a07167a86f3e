"""Query-side representations of the case index and small numeric helpers shared by its parts."""

from __future__ import annotations

import contextlib
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

__all__ = ["Reps", "blas_threads", "unit_rows"]

# Query-time products are small (a few queries x the index): with a multi-threaded BLAS each one wakes the
# BLAS threads, which on a busy machine costs milliseconds (measured: 10 ms for 1 x 1200 x 384 under load,
# 0.02 ms on one thread). Below this many (query, row) pairs the scoring runs on one BLAS thread.
_SINGLE_THREAD_PAIRS = 1_000_000
_blas_controller: Any = None


def blas_threads(pairs: int) -> contextlib.AbstractContextManager[Any]:
    """Context limiting BLAS to one thread for small products (a no-op without threadpoolctl)."""
    global _blas_controller
    if pairs > _SINGLE_THREAD_PAIRS:
        return contextlib.nullcontext()
    if _blas_controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - comes with scikit-learn
            _blas_controller = False
        else:
            _blas_controller = ThreadpoolController().select(user_api="blas")
    if _blas_controller is False:
        return contextlib.nullcontext()
    return _blas_controller.limit(limits=1)


class Reps(NamedTuple):
    """Query-side representations of q texts or cases: lexical (q, V) CSR, semantic (q, d) and category
    (q, K) float32 (None when that side is off)."""

    lex: sp.csr_matrix
    sem: np.ndarray | None
    cat: np.ndarray | None

    def rows(self, sl: slice) -> Reps:
        return Reps(
            self.lex[sl],
            None if self.sem is None else self.sem[sl],
            None if self.cat is None else self.cat[sl],
        )

    def row(self, i: int) -> Reps:
        return self.rows(slice(i, i + 1))


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows L2-normalised, float32; all-zero rows stay zero."""
    x = np.asarray(x, np.float32)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(np.where(n > 0, x / np.maximum(n, 1e-12), 0.0), dtype=np.float32)
