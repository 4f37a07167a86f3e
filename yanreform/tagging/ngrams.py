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
        return self._grams_of(self._prep(text))

    def _grams_of(self, t: str) -> list[str]:
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

        The n-grams of the whole batch are looked up and counted in vectorised passes (code points packed
        21 bits each into int64 codes, found by binary search in the sorted vocabulary codes; one
        ``np.unique`` over ``row * V + column``);
        each row's weights and norm are those of :meth:`_transform_row`, in the same order, so the result
        is identical to transforming the passages one by one (tests hold them equal).
        """
        n = len(texts)
        V = len(self.vocab)
        rows, cols = self._lookup([self._prep(t) for t in texts])
        if not len(cols):
            return sp.csr_matrix((n, V), dtype=np.float32)
        keys, counts = np.unique(rows * V + cols, return_counts=True)
        row_of, col = np.divmod(keys, V)
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

    def _lookup(self, prepped: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) int64 pairs of every n-gram occurrence of the prepared texts found in the
        vocabulary (unknown n-grams dropped), in no particular order."""
        if self.n_max > 3:  # 21 bits per code point: only n <= 3 fits an int64 code
            get = self.vocab.get
            rws: list[int] = []
            cls: list[int] = []
            for i, t in enumerate(prepped):
                found = [j for j in map(get, self._grams_of(t)) if j is not None]
                cls += found
                rws += [i] * len(found)
            return np.asarray(rws, np.int64), np.asarray(cls, np.int64)
        lens = np.fromiter(map(len, prepped), np.int64, len(prepped))
        joined = "".join(prepped).encode("utf-32-le", "surrogatepass")
        cp = np.frombuffer(joined, np.uint32).astype(np.int64)
        row_at = np.repeat(np.arange(len(prepped), dtype=np.int64), lens)
        left = np.repeat(lens, lens) - (np.arange(len(cp)) - np.repeat(np.cumsum(lens) - lens, lens))
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        code = cp
        for n, (table, table_cols) in enumerate(self._code_tables(), 1):
            if n > 1:
                code = (code[:-1] << 21) | cp[n - 1 :]
            ok = left[: len(code)] >= n  # the n-gram starting here stays inside its text
            q = code[ok]
            if not len(table) or not len(q):
                continue
            idx = np.searchsorted(table, q)
            np.minimum(idx, len(table) - 1, out=idx)
            hit = table[idx] == q
            rows.append(row_at[: len(code)][ok][hit])
            cols.append(table_cols[idx[hit]])
        if not rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(rows), np.concatenate(cols)

    def _code_tables(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per n-gram length 1..n_max: (sorted int64 codes, their columns); rebuilt if vocab changes."""
        cached: tuple[int, int, list[tuple[np.ndarray, np.ndarray]]] | None = getattr(self, "_tables", None)
        if cached is not None and cached[0] == id(self.vocab) and cached[1] == len(self.vocab):
            return cached[2]
        by_len: list[tuple[list[int], list[int]]] = [([], []) for _ in range(self.n_max)]
        for g, j in self.vocab.items():
            if 1 <= len(g) <= self.n_max:
                code = 0
                for ch in g:
                    code = (code << 21) | ord(ch)
                by_len[len(g) - 1][0].append(code)
                by_len[len(g) - 1][1].append(j)
        tables = []
        for codes, js in by_len:
            c = np.asarray(codes, np.int64)
            order = np.argsort(c, kind="stable")
            tables.append((c[order], np.asarray(js, np.int64)[order]))
        self._tables = (id(self.vocab), len(self.vocab), tables)
        return tables

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
