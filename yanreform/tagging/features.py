"""The tagger's signals and its pair model, as pure functions over arrays.

For a batch of n passages and k categories: lexicon statistics per (passage, category)
(:func:`lexicon_arrays`), similarity to the category prototypes (:func:`prototype_similarities`), and the
scores of two ridge models trained on the labelled passages (character n-gram TF-IDF and, for the full tagger,
the sentence embedding; :mod:`yanreform.tagging.ngrams`), stacked into pair features (:data:`PAIR_FEATURES`,
:data:`FAST_FEATURES`, :func:`pair_features`), scored by one logistic regression shared across categories with
a bias per category (:func:`fit_pairs`, :func:`pair_logits`). Nothing here knows about texts or models.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from .lexicon import OUTSIDE, STRONG, Match

log = logging.getLogger("yanreform")

__all__ = [
    "FAST_FEATURES",
    "PAIR_FEATURES",
    "THRESHOLD_PRIOR",
    "best_threshold",
    "evidence_mask",
    "fit_pairs",
    "lexicon_arrays",
    "pair_features",
    "pair_logits",
    "prototype_similarities",
    "sentences",
    "sigmoid",
]

#: Features of one (passage, category) pair of the full tagger, in the order of ``Tagger.coef_``.
PAIR_FEATURES = (
    "seed_any",  # a seed of the category occurs
    "seed_count",  # log1p(number of seed matches)
    "weak_any",  # a weak seed occurs
    "weak_count",  # log1p(number of weak-seed matches)
    "seed_in_first_sentence",  # a seed in the first sentence (the heading of an initiative)
    "distinct_seeds",  # log1p(number of distinct seeds)
    "outside_cues",  # log1p(number of outside-work cues: drills, awards, Party meetings, funding, staffing)
    "ngram_ridge",  # the category's score from the ridge model on character n-gram TF-IDF
    # outside-work cues dampen each kind of evidence (a contest among mediators is not mediation work)
    "outside_x_seed",  # outside_cues x seed_any
    "outside_x_ngram",  # outside_cues x ngram_ridge
    "prototype_z",  # category prototype similarity, z-scored per category, centred over categories
    "prototype_minus_outside",  # (best prototype sim - best outside-exemplar sim) x 10
    "embedding_ridge",  # the category's score from the ridge model on the passage embedding
    "outside_x_embedding",  # outside_cues x embedding_ridge
)
#: Features of the fast tagger (no neural encoder): the lexical ones.
FAST_FEATURES = PAIR_FEATURES[:10]

# Pseudo-positives pulling a category's threshold towards the pooled one (see Tagger.fit). 50 rather than 20:
# with 20-60 positives per category the own threshold is noisy; stronger shrinkage scored better on 5-fold CV,
# on the bundled passages held out and on the stress set (corpus/stress.jsonl), the dev split unchanged.
THRESHOLD_PRIOR = 50.0

# Sentence ends for exemplar evidence: Chinese and ASCII terminators, semicolons and line breaks.
_SENT_RE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*")
_FIRST_SENT_RE = re.compile(r"[^。！？!?；;\n]*[。！？!?；;\n]?")


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))


def sentences(text: str) -> list[tuple[int, int]]:
    """Half-open spans of the sentences of ``text`` (surrounding whitespace trimmed, empty ones dropped)."""
    spans = []
    for m in _SENT_RE.finditer(text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def best_threshold(y: np.ndarray, p: np.ndarray, *, tol: float = 0.005) -> float:
    """Threshold on scores ``p`` that maximises F1 for labels ``y``.

    Cuts are only made between distinct scores, at the midpoint; when several cuts are within ``tol`` of the
    best F1, the median of those is taken (a plateau's middle is stabler than its edge on a few dozen
    positives).
    """
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order].astype(np.float64)
    tp = np.cumsum(ys)
    k = np.arange(1, len(ps) + 1)
    f1 = 2 * tp / (k + ys.sum())
    valid = np.r_[ps[1:] < ps[:-1], True]
    f1 = np.where(valid, f1, -1.0)
    near = np.flatnonzero(f1 >= f1.max() - tol)
    idx = int(near[len(near) // 2])
    lower = ps[idx + 1] if idx + 1 < len(ps) else max(ps[idx] - 0.05, 0.0)
    return float((ps[idx] + lower) / 2)


def lexicon_arrays(norms: Sequence[str], matches: Sequence[list[Match]], k: int) -> dict[str, np.ndarray]:
    """Per (text, category) lexicon statistics, float32 (n, k) each (``outside``: (n, 1))."""
    n = len(matches)
    strong = np.zeros((n, k), np.float32)
    weak = np.zeros((n, k), np.float32)
    first = np.zeros((n, k), np.float32)
    distinct = np.zeros((n, k), np.float32)
    outside = np.zeros((n, 1), np.float32)
    for i, ms in enumerate(matches):
        if not ms:
            continue
        # The first sentence is usually the initiative's heading: a seed there is the strongest cue.
        m0 = _FIRST_SENT_RE.match(norms[i])
        fe = m0.end() if m0 else len(norms[i])
        seen: set[tuple[int, str]] = set()
        for m in ms:
            if m.category == OUTSIDE:
                outside[i, 0] += 1.0
            elif m.kind == STRONG:
                strong[i, m.category] += 1.0
                if m.start < fe:
                    first[i, m.category] = 1.0
                if (m.category, m.term) not in seen:
                    seen.add((m.category, m.term))
                    distinct[i, m.category] += 1.0
            else:
                weak[i, m.category] += 1.0
    return {"strong": strong, "weak": weak, "first": first, "distinct": distinct, "outside": outside}


def prototype_similarities(
    E: np.ndarray, proto_emb: np.ndarray, proto_cat: np.ndarray, outside_emb: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sims to every prototype row (n, m), per-category max (n, k), outside max (n, 1)); float32.

    ``proto_cat`` (m,) is the category of each prototype row, sorted.
    """
    S = E @ proto_emb.T
    starts = np.searchsorted(proto_cat, np.arange(k))
    cat_max = np.maximum.reduceat(S, starts, axis=1)
    if len(outside_emb):
        out_max = (E @ outside_emb.T).max(axis=1, keepdims=True)
    else:
        out_max = np.zeros((len(E), 1), np.float32)
    return S, cat_max.astype(np.float32), out_max.astype(np.float32)


def pair_features(
    lexa: dict[str, np.ndarray],
    ngram_score: np.ndarray,
    *,
    cat_max: np.ndarray | None = None,
    out_max: np.ndarray | None = None,
    proto_mean: np.ndarray | None = None,
    proto_std: np.ndarray | None = None,
    embedding_score: np.ndarray | None = None,
) -> np.ndarray:
    """Raw pair features, float32 (n, k, f): :data:`FAST_FEATURES` when no embedding signal is given, else
    :data:`PAIR_FEATURES` (then ``cat_max``, ``out_max``, ``proto_mean``, ``proto_std`` and
    ``embedding_score`` are all needed)."""
    s, w = lexa["strong"], lexa["weak"]
    outside = np.broadcast_to(np.log1p(lexa["outside"]), s.shape)
    cols = [
        (s > 0),
        np.log1p(s),
        (w > 0),
        np.log1p(w),
        lexa["first"],
        np.log1p(lexa["distinct"]),
        outside,
        ngram_score,
        outside * (s > 0),
        outside * ngram_score,
    ]
    if embedding_score is not None:
        if cat_max is None or out_max is None or proto_mean is None or proto_std is None:
            raise ValueError("the full pair features need cat_max, out_max, proto_mean and proto_std")
        pz = (cat_max - proto_mean) / proto_std
        cols += [
            pz - pz.mean(axis=1, keepdims=True),
            (cat_max - out_max) * 10.0,
            embedding_score,
            outside * embedding_score,
        ]
    return np.stack([np.asarray(c).astype(np.float32) for c in cols], axis=-1)


def evidence_mask(lexa: dict[str, np.ndarray], mode: str) -> np.ndarray:
    """Where the evidence rule allows a tag, bool (n, k): ``"seed"``, ``"lexicon"`` or ``"none"`` (all)."""
    if mode == "seed":
        return lexa["strong"] > 0
    if mode == "lexicon":
        return (lexa["strong"] > 0) | (lexa["weak"] > 0)
    return np.ones_like(lexa["strong"], dtype=bool)


def fit_pairs(
    F: np.ndarray, Y: np.ndarray, *, C: float, class_weight: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit the shared logistic regression on pair features F (n, k, f) and labels Y (n, k).

    Returns (coef (f,), intercept (k,), mean (f,), scale (f,)).
    """
    from sklearn.linear_model import LogisticRegression

    n, k, f = F.shape
    X = F.reshape(n * k, f).astype(np.float64)
    mean = X.mean(axis=0)
    sd = X.std(axis=0)
    scale = np.where(sd > 1e-6, sd, 1.0)
    Xs = (X - mean) / scale
    # One-hot category columns give each category its own bias (shrunk towards the shared one by C).
    onehot = np.tile(np.eye(k), (n, 1))
    y = Y.reshape(-1)
    model = LogisticRegression(C=C, class_weight=class_weight, max_iter=5000, solver="lbfgs")
    model.fit(np.hstack([Xs, onehot]), y)
    coef = model.coef_[0]
    intercept = model.intercept_[0] + coef[f:]
    return (
        coef[:f].astype(np.float32),
        intercept.astype(np.float32),
        mean.astype(np.float32),
        scale.astype(np.float32),
    )


def pair_logits(
    F: np.ndarray, coef: np.ndarray, intercept: np.ndarray, mean: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """Logits (n, k) of the pair model: one matrix product over all pairs."""
    return ((F - mean) / scale) @ coef + intercept


def calibrate(
    oof: np.ndarray, Y: np.ndarray, sel: np.ndarray, allowed: np.ndarray, codes: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Platt scaling and per-category thresholds from out-of-fold logits ``oof`` (n, k).

    One Platt scaling pooled over all categories (per-category Platt on a few dozen positives turns
    near-separable categories into 0/1 scores), then per-category thresholds on the calibrated out-of-fold
    scores of the rows in ``sel``. ``allowed`` (n, k): pairs the evidence rule lets through (the others can
    never be tagged and score 0 here). Per-category thresholds from a few dozen positives are noisy: each is
    shrunk towards the threshold best over all categories pooled, with the weight of
    :data:`THRESHOLD_PRIOR` pseudo-positives.

    Returns (platt (k, 2) of (a, b), thresholds (k,)), float32.
    """
    from sklearn.linear_model import LogisticRegression

    k = Y.shape[1]
    platt = LogisticRegression(C=1.0, max_iter=1000).fit(oof[sel].reshape(-1, 1), Y[sel].reshape(-1))
    a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    if a <= 0:  # the head learned nothing useful: keep raw scores rather than invert them
        a, b = 1.0, 0.0
    P_oof = np.where(allowed, sigmoid(a * oof + b), 0.0)
    Ys, Ps = Y[sel], P_oof[sel]
    pooled = best_threshold(Ys.reshape(-1), Ps.reshape(-1))
    thresholds = np.full(k, pooled, dtype=np.float32)
    for j, code in enumerate(codes):
        npos = int(Ys[:, j].sum())
        if npos < 2 or npos == len(Ys):
            log.warning("category %r has %d positives of %d: pooled threshold used", code, npos, len(Ys))
            continue
        own = best_threshold(Ys[:, j], Ps[:, j])
        thresholds[j] = (npos * own + THRESHOLD_PRIOR * pooled) / (npos + THRESHOLD_PRIOR)
    return np.tile(np.array([a, b], np.float32), (k, 1)), thresholds
