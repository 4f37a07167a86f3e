"""Multi-label evaluation: per-category precision / recall / F1, micro and macro averages, calibration error.

:func:`evaluate_sets` compares gold and predicted code sets; :func:`expected_calibration_error` measures how
well scores match observed frequencies.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import InputError

__all__ = [
    "EvalReport",
    "bootstrap_intervals",
    "check_labels",
    "evaluate_sets",
    "expected_calibration_error",
    "label_matrix",
]


@dataclass(frozen=True)
class EvalReport:
    """Multi-label evaluation: per-category precision/recall/F1/support, micro and macro averages.

    ``per_category``: ``{code: {"precision", "recall", "f1", "support", "predicted", "tp"}}``. Macro
    averages are taken over categories with support > 0 or at least one prediction (a category absent from
    both the gold labels and the predictions says nothing). ``none_accuracy``: share of passages with no gold
    label that also got no tag (``nan`` if there are none).
    """

    per_category: dict[str, dict[str, float]]
    micro: dict[str, float]
    macro: dict[str, float]
    n: int
    exact_match: float
    none_accuracy: float
    #: bootstrap 95% intervals ``{"micro_f1": (lo, hi), "macro_f1": ..., "f1/<code>": ...}`` (or empty)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "per_category": self.per_category,
            "micro": self.micro,
            "macro": self.macro,
            "n": self.n,
            "exact_match": self.exact_match,
            "none_accuracy": self.none_accuracy,
            "intervals": {k: list(v) for k, v in self.intervals.items()},
        }

    def to_text(self) -> str:
        """A fixed-width table: one row per category, then micro and macro."""
        w = max([len(c) for c in self.per_category] + [len("micro avg")])
        lines = [f"{'category':<{w}}  precision  recall     f1  support  predicted"]
        for code, r in self.per_category.items():
            lines.append(
                f"{code:<{w}}  {r['precision']:9.3f}  {r['recall']:6.3f}  {r['f1']:5.3f}  "
                f"{int(r['support']):7d}  {int(r['predicted']):9d}"
            )
        for name, r in (("micro avg", self.micro), ("macro avg", self.macro)):
            lines.append(
                f"{name:<{w}}  {r['precision']:9.3f}  {r['recall']:6.3f}  {r['f1']:5.3f}  "
                f"{int(self.micro['support']):7d}  {int(self.micro['predicted']):9d}"
            )
        if self.intervals:
            ci = self.intervals
            lines.append(
                "95% bootstrap intervals: micro F1 "
                + "-".join(f"{x:.3f}" for x in ci["micro_f1"])
                + ", macro F1 "
                + "-".join(f"{x:.3f}" for x in ci["macro_f1"])
            )
        na = "n/a" if math.isnan(self.none_accuracy) else f"{self.none_accuracy:.3f}"
        lines.append(
            f"passages: {self.n}  exact match: {self.exact_match:.3f}  no-label passages left untagged: {na}"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _prf(tp: float, pred: float, gold: float) -> tuple[float, float, float]:
    p = tp / pred if pred else 0.0
    r = tp / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def label_matrix(sets: Sequence[Iterable[str]], codes: Sequence[str]) -> np.ndarray:
    """Bool (n, k) matrix of code sets in ``codes`` order (codes outside ``codes`` are ignored)."""
    pos = {c: j for j, c in enumerate(codes)}
    M = np.zeros((len(sets), len(codes)), bool)
    for i, s in enumerate(sets):
        for c in s:
            j = pos.get(c)
            if j is not None:
                M[i, j] = True
    return M


def bootstrap_intervals(
    gold: np.ndarray, pred: np.ndarray, codes: Sequence[str], *, n_boot: int = 1000, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """95% percentile-bootstrap intervals of micro F1, macro F1 and each category's F1.

    Passages are resampled with replacement ``n_boot`` times (vectorised: one (n_boot, n) weight matrix).
    ``gold``/``pred``: bool (n, k) in ``codes`` order. Macro F1 averages the categories present (in gold or
    pred) in each resample, as :func:`evaluate_sets` does. Returns ``{"micro_f1": (lo, hi), "macro_f1": ...,
    "f1/<code>": ...}``; empty for no passages.
    """
    G = np.asarray(gold, bool)
    P = np.asarray(pred, bool)
    n = G.shape[0]
    if n == 0:
        return {}
    rng = np.random.default_rng(seed)
    W = np.zeros((n_boot, n), np.float64)
    idx = rng.integers(0, n, size=(n_boot, n))
    np.add.at(W, (np.repeat(np.arange(n_boot), n), idx.reshape(-1)), 1.0)
    tp = W @ (G & P).astype(np.float64)  # (B, k)
    pp = W @ P.astype(np.float64)
    gg = W @ G.astype(np.float64)
    denom = pp + gg
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(denom > 0, 2 * tp / denom, np.nan)
        micro = 2 * tp.sum(1) / np.maximum(denom.sum(1), 1e-12)
    macro = np.nanmean(np.where(denom > 0, f1, np.nan), axis=1)

    def ci(x: np.ndarray) -> tuple[float, float]:
        x = x[~np.isnan(x)]
        if not x.size:
            return (float("nan"), float("nan"))
        lo, hi = np.percentile(x, [2.5, 97.5])
        return (round(float(lo), 4), round(float(hi), 4))

    out = {"micro_f1": ci(micro), "macro_f1": ci(macro)}
    for j, c in enumerate(codes):
        out[f"f1/{c}"] = ci(f1[:, j])
    return out


def evaluate_sets(
    gold: Sequence[Iterable[str]],
    pred: Sequence[Iterable[str]],
    codes: Sequence[str],
    *,
    bootstrap: int = 0,
    seed: int = 0,
) -> EvalReport:
    """Compare gold and predicted code sets (one per passage) and build an :class:`EvalReport`.

    ``bootstrap > 0`` adds 95% percentile-bootstrap intervals over that many resamples of the passages
    (:func:`bootstrap_intervals`) as ``report.intervals``.
    """
    if len(gold) != len(pred):
        raise InputError(f"gold has {len(gold)} records but pred has {len(pred)}")
    G = [set(g) for g in gold]
    P = [set(p) for p in pred]
    per: dict[str, dict[str, float]] = {}
    for c in codes:
        tp = sum(1 for g, p in zip(G, P, strict=True) if c in g and c in p)
        npred = sum(1 for p in P if c in p)
        ngold = sum(1 for g in G if c in g)
        p_, r_, f_ = _prf(tp, npred, ngold)
        per[c] = {"precision": p_, "recall": r_, "f1": f_, "support": ngold, "predicted": npred, "tp": tp}
    tp = sum(int(r["tp"]) for r in per.values())
    npred = sum(int(r["predicted"]) for r in per.values())
    ngold = sum(int(r["support"]) for r in per.values())
    mp, mr, mf = _prf(tp, npred, ngold)
    active = [r for r in per.values() if r["support"] or r["predicted"]]
    macro = {
        k: (float(np.mean([r[k] for r in active])) if active else 0.0) for k in ("precision", "recall", "f1")
    }
    none_idx = [i for i, g in enumerate(G) if not g]
    none_acc = (sum(1 for i in none_idx if not P[i]) / len(none_idx)) if none_idx else float("nan")
    exact = (sum(1 for g, p in zip(G, P, strict=True) if g == p) / len(G)) if G else 0.0
    report = EvalReport(
        per_category=per,
        micro={"precision": mp, "recall": mr, "f1": mf, "support": ngold, "predicted": npred, "tp": tp},
        macro=macro,
        n=len(G),
        exact_match=exact,
        none_accuracy=none_acc,
    )
    if bootstrap > 0:
        ci = bootstrap_intervals(
            label_matrix(G, codes), label_matrix(P, codes), codes, n_boot=bootstrap, seed=seed
        )
        report = replace(report, intervals=ci)
    return report


def expected_calibration_error(scores: Any, labels: Any, *, bins: int = 10) -> float:
    """Expected calibration error of probability scores against 0/1 labels.

    The (passage, category) pairs are put into ``bins`` equal-width score bins over [0, 1]; the ECE is the
    pair-weighted mean of |mean score - share of positives| over the non-empty bins.

    Args:
        scores: array-like of floats in [0, 1], any shape (e.g. ``predict_proba`` output, (n, k)).
        labels: array-like of 0/1 (or bool) of the same shape.
        bins: number of bins (>= 1).

    Returns:
        The ECE in [0, 1]; 0.0 for empty input.

    Raises:
        ValueError: shapes differ, ``bins < 1``, or a score outside [0, 1].
    """
    p = np.asarray(scores, dtype=np.float64).reshape(-1)
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    if np.shape(scores) != np.shape(labels):
        raise ValueError(f"scores have shape {np.shape(scores)} but labels have shape {np.shape(labels)}")
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    if p.size == 0:
        return 0.0
    if np.nanmin(p) < 0.0 or np.nanmax(p) > 1.0 or np.isnan(p).any():
        raise ValueError("scores must be probabilities in [0, 1]")
    idx = np.minimum((p * bins).astype(np.int64), bins - 1)
    n = np.bincount(idx, minlength=bins).astype(np.float64)
    sp = np.bincount(idx, weights=p, minlength=bins)
    sy = np.bincount(idx, weights=y, minlength=bins)
    nz = n > 0
    return float(np.sum(np.abs(sp[nz] - sy[nz])) / p.size)


def check_labels(labels: Any, codes: Sequence[str], n: int, name: str = "labels") -> list[list[str]]:
    """``labels`` as ``n`` lists of known category codes. Raises TypeError (not a sequence of lists) or
    InputError (wrong count, unknown code, naming the record)."""
    if isinstance(labels, str) or not isinstance(labels, Iterable):
        raise TypeError(f"{name} must be a sequence of lists of category codes, got {type(labels).__name__}")
    out = list(labels)
    if len(out) != n:
        raise InputError(f"{name} has {len(out)} records but texts has {n}")
    known = set(codes)
    clean: list[list[str]] = []
    for i, lab in enumerate(out):
        if isinstance(lab, str) or not isinstance(lab, Iterable):
            raise TypeError(f"{name}[{i}] must be a list of category codes, got {type(lab).__name__}")
        lab = list(lab)
        for c in lab:
            if not isinstance(c, str) or c not in known:
                raise InputError(f"{name}[{i}]: unknown category code {c!r} (known: {', '.join(codes)})")
        clean.append(lab)
    return clean
