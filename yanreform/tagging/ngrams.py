"""Character n-gram TF-IDF of normalised text, and the ridge models the tagger fits on it and on embeddings.

:class:`CharNgrams` turns normalised passages into L2-normalised TF-IDF rows over character 1..n-grams
(the whole string, punctuation included, whitespace runs collapsed to one space; sublinear tf; smooth idf
``ln((1 + N) / (1 + df)) + 1``; a vocabulary of the n-grams found in at least ``min_df`` training passages).
It needs no segmenter and no model, so the fast tagger runs on it alone.

:func:`ridge_fit` fits a multi-output ridge regression to ±1 category targets through its dual (an n x n
solve, whatever the feature dimension), and returns the primal weights, so scoring a passage is one sparse
or dense product.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from operator import add as _add
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["CharNgrams", "ridge_fit", "ridge_scores"]

_WS_RE = re.compile(r"\s\s+")


class CharNgrams:
    """Character 1..``n_max``-gram TF-IDF with a fixed vocabulary (fit on training passages).

    Attributes (after :meth:`fit` or :meth:`from_state`): ``vocab`` (n-gram -> column), ``idf`` float32 (V,).
    """

    def __init__(self, n_max: int = 3, min_df: int = 2) -> None:
        self.n_max = n_max
        self.min_df = min_df
        self.vocab: dict[str, int] = {}
        self.idf = np.zeros(0, np.float32)

    @staticmethod
    def _prep(text: str) -> str:
        t = text.lower()
        return _WS_RE.sub(" ", t) if "  " in t or "\n" in t or "\t" in t else t

    def _grams(self, text: str) -> list[str]:
        t = self._prep(text)
        out: list[str] = list(t)
        # n-grams by adding shifted strings in C (map over str.__add__), not by slicing in a Python loop
        prev: Any = t
        for n in range(2, self.n_max + 1):
            prev = list(map(_add, prev, t[n - 1 :]))
            out += prev
        return out

    def fit(self, texts: Sequence[str]) -> CharNgrams:
        """Learn the vocabulary (n-grams in at least ``min_df`` texts) and the idf from ``texts``."""
        df: dict[str, int] = {}
        for t in texts:
            for g in set(self._grams(t)):
                df[g] = df.get(g, 0) + 1
        kept = sorted(g for g, c in df.items() if c >= self.min_df)
        self.vocab = {g: i for i, g in enumerate(kept)}
        n = len(texts)
        counts = np.array([df[g] for g in kept], np.float64)
        self.idf = (np.log((1.0 + n) / (1.0 + counts)) + 1.0).astype(np.float32)
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """(len(texts), V) float32 CSR: sublinear tf x idf, rows L2-normalised (all-zero rows stay zero).

        The whole batch is counted in one vectorised pass (``np.unique`` over ``row * (V + 1) + column``);
        each row's weights and norm are those of :meth:`_transform_row`, in the same order, so the result
        is identical to transforming the passages one by one (tests hold them equal).
        """
        get = self._shifted_vocab().get
        V = len(self.vocab)
        lengths: list[int] = []
        cols: list[int] = []
        for t in texts:
            before = len(cols)
            cols += filter(None, map(get, self._grams(t)))  # 1-based columns, unknown n-grams dropped
            lengths.append(len(cols) - before)
        n = len(texts)
        if not cols:
            return sp.csr_matrix((n, V), dtype=np.float32)
        rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
        keys, counts = np.unique(rows * (V + 1) + np.asarray(cols, np.int64), return_counts=True)
        row_of, col = np.divmod(keys, V + 1)
        col -= 1
        w = (1.0 + np.log(counts)) * self.idf[col]
        indptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(row_of, minlength=n), out=indptr[1:])
        for a, b in zip(indptr[:-1].tolist(), indptr[1:].tolist(), strict=True):
            if b > a:
                seg = w[a:b]
                seg /= np.sqrt(float(seg @ seg))
        return sp.csr_matrix((w.astype(np.float32), col, indptr), shape=(n, V))

    def _transform_row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The reference for one passage: ``(columns int64 sorted, weights float64)``."""
        cols = [j for j in map(self.vocab.get, self._grams(text)) if j is not None]
        if not cols:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        u, c = np.unique(np.asarray(cols, np.int64), return_counts=True)
        w = (1.0 + np.log(c)) * self.idf[u]
        w /= np.sqrt(float(w @ w))
        return u, w

    def _shifted_vocab(self) -> dict[str, int]:
        # n-gram -> column + 1, so filter(None, ...) drops unknown n-grams in C; rebuilt if vocab changes
        cached: tuple[int, dict[str, int]] | None = getattr(self, "_vocab1", None)
        if cached is None or cached[0] != id(self.vocab) or len(cached[1]) != len(self.vocab):
            cached = (id(self.vocab), {g: j + 1 for g, j in self.vocab.items()})
            self._vocab1 = cached
        return cached[1]

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(json_part, arrays)`` to save: the settings and vocabulary (JSON) and the idf (an array)."""
        return {"n_max": self.n_max, "min_df": self.min_df, "vocab": list(self.vocab)}, {"idf": self.idf}

    @classmethod
    def from_state(cls, meta: dict[str, Any], idf: np.ndarray) -> CharNgrams:
        """Rebuild from :meth:`state`. Raises ValueError when the parts disagree."""
        vocab = meta["vocab"]
        if not isinstance(vocab, list) or len(vocab) != len(idf):
            raise ValueError(f"n-gram vocabulary has {len(vocab)} terms but idf has {len(idf)}")
        out = cls(int(meta["n_max"]), int(meta["min_df"]))
        out.vocab = {str(g): i for i, g in enumerate(vocab)}
        out.idf = np.asarray(idf, np.float32)
        return out


def _gram(X: Any, Z: Any) -> np.ndarray:
    G = X @ Z.T
    return np.asarray(G.toarray() if sp.issparse(G) else G, np.float64)


def ridge_fit(X: Any, Y: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Multi-output ridge on ±1 targets, fitted in its dual: ``(W (d, k) float32, mu (k,) float32)`` with
    scores ``X @ W + mu``.

    ``X``: (n, d) dense or sparse rows; ``Y``: (n, k) 0/1 labels. The targets are centred per category (``mu``
    is their mean) and ``alpha = (X X^T + lam I)^-1 (T - mu)``, ``W = X^T alpha``.
    """
    T = Y.astype(np.float64) * 2.0 - 1.0
    mu = T.mean(axis=0)
    G = _gram(X, X)
    alpha = np.linalg.solve(G + lam * np.eye(G.shape[0]), T - mu)
    W = X.T @ alpha
    W = np.asarray(W.toarray() if sp.issparse(W) else W)
    return W.astype(np.float32), mu.astype(np.float32)


def ridge_scores(X: Any, W: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Scores (n, k) float32 of rows ``X`` under ridge weights from :func:`ridge_fit`."""
    S = X @ W
    return (np.asarray(S, np.float32) + mu).astype(np.float32)
