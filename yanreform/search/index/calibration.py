"""The 0-1 similarity of a hit (:attr:`Hit.similarity`): the probability that a case is related to the query.

A logistic model over the raw side cosines of a hit (lexical, and semantic when the index has that side),
``sigmoid(b0 + b1 * lexical [+ b2 * semantic])``, fitted on real text: the real-dev passages
(``corpus/realdev.jsonl``), each clustered passage against every other, related = same cluster; the
constants below come from ``scripts/tune_index.py --fit-similarity`` (leave-cluster-out figures in
docs/index.md). Raw cosines do not depend on the size of the index, unlike the fused z-score.

A list of hits never shows a lower hit as more similar than a higher one: down the ranking the similarity is
capped by the one above (:func:`ranked_similarity`), so it never contradicts the order of :attr:`Hit.score`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SHIPPED", "ranked_similarity", "similarity"]

#: shipped coefficients per side set: (b0, b_lexical) without a semantic side, (b0, b_lexical, b_semantic)
#: with one; fitted for the default configuration on real-dev (scripts/tune_index.py --fit-similarity)
SHIPPED: dict[str, tuple[float, ...]] = {
    "lexical": (-9.332, 65.839),
    "hybrid": (-19.466, 63.922, 11.394),
}


def similarity(lexical: np.ndarray, semantic: np.ndarray | None, coef: tuple[float, ...]) -> np.ndarray:
    """Probability of being related, float64 in [0, 1], for raw cosines ``lexical`` (m,) and ``semantic``
    (m,) (None or ignored when ``coef`` has two entries)."""
    z = coef[0] + coef[1] * np.asarray(lexical, np.float64)
    if len(coef) > 2 and semantic is not None:
        z = z + coef[2] * np.asarray(semantic, np.float64)
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
    return out


def ranked_similarity(
    lexical: np.ndarray, semantic: np.ndarray | None, coef: tuple[float, ...]
) -> np.ndarray:
    """:func:`similarity` of hits given best first, capped down the ranking by the hit above (so
    non-increasing)."""
    return np.minimum.accumulate(similarity(lexical, semantic, coef)) if len(lexical) else np.zeros(0)
