"""The case index's options: one frozen, validated :class:`IndexConfig`.

Every option is a field with its default; a config is immutable (``config.replace(semantic_weight=0)`` makes a
new one) and validated when made (InputError naming the field). Saved indexes store it (``to_dict``) and
loading rebuilds it (``from_dict``; files written before an option existed get the value that keeps their
behaviour).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any, Literal

from ...errors import InputError, check_fraction
from .calibration import SHIPPED

__all__ = ["IndexConfig"]

# options a version-1 file predates: loading one keeps its behaviour (characters only, no category side)
_V1 = {"token_weight": 0.0, "boilerplate_weight": 1.0, "category_weight": 0.0}
# defaults before they were chosen on real text: a file that lacks one of these keys gets the old value
_OLD_DEFAULTS = {"ngram_max": 2, "category_weight": 0.3, "prf_depth": 3}


@dataclass(frozen=True)
class IndexConfig:
    """Fusion options of :class:`~yanreform.search.index.CaseIndex` (``scripts/tune_index.py`` measures them).

    Attributes:
        semantic_weight: share of the semantic side in the fused score (0 = lexical only: no encoder).
        passage_weight: case similarity on each side = (1 - w) * whole text + w * best passage.
        fusion: ``"zscore"`` (z-normalise each side per query over the index, then mix) or ``"raw"``.
        ngram_max: longest character n-gram of the lexical side.
        token_weight: share of the lexical side given to domain tokens (segmenter words of 2+ characters)
            rather than character n-grams.
        boilerplate_weight: IDF multiplier of agency and place names (< 1 also drops their characters from
            the n-grams).
        category_weight: weight of the category side (cosine of the tagger's category-score profiles); 0 = no
            tagger.
        prf_depth, prf_weight, prf_min_cases: pseudo relevance feedback with the best ``prf_depth`` cases,
            weight ``prf_weight``, on indexes of at least ``prf_min_cases`` cases.
        exact_limit: above this many cases, search scores candidates only (dense and lexical top-k), with z
            statistics from a fixed reference sample, and no feedback step.
        candidates: candidates per side and query on that path.
        similarity_coef: coefficients of :attr:`Hit.similarity` (see :mod:`.calibration`): ``(b0, b_lexical)``
            or ``(b0, b_lexical, b_semantic)``; None = the shipped ones for this configuration's sides (fitted
            for the default options; refit with ``scripts/tune_index.py --fit-similarity`` after changing
            them much).

    The defaults were chosen on real text (``corpus/realdev.jsonl``, leave-cluster-out; docs/index.md):
    character 1-3-grams, the e5 side at half weight, best-passage matching; the category side and the feedback
    step stay available but are off, since neither earned its place on real text.
    """

    semantic_weight: float = 0.5
    passage_weight: float = 0.5
    fusion: Literal["zscore", "raw"] = "zscore"
    ngram_max: int = 3
    token_weight: float = 0.0
    boilerplate_weight: float = 1.0
    category_weight: float = 0.0
    prf_depth: int = 0
    prf_weight: float = 0.5
    prf_min_cases: int = 20
    exact_limit: int = 20000
    candidates: int = 256
    similarity_coef: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        for key in ("semantic_weight", "passage_weight", "token_weight", "boilerplate_weight"):
            object.__setattr__(self, key, check_fraction(getattr(self, key), key))
        for key in ("prf_weight", "category_weight"):
            object.__setattr__(self, key, check_fraction(getattr(self, key), key, upper=None))
        if self.fusion not in ("zscore", "raw"):
            raise InputError(f"fusion must be 'zscore' or 'raw', got {self.fusion!r}")
        for key in ("ngram_max", "prf_depth", "prf_min_cases", "exact_limit", "candidates"):
            v = getattr(self, key)
            low = 1 if key in ("ngram_max", "candidates") else 0
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise InputError(f"{key} must be an int >= {low}, got {v!r}")

        coef = self.similarity_coef
        if coef is not None:
            try:
                coef = tuple(float(x) for x in coef)
            except (TypeError, ValueError):
                raise InputError(f"similarity_coef must be a sequence of numbers, got {coef!r}") from None
            if len(coef) not in (2, 3) or not all(math.isfinite(x) for x in coef):
                raise InputError(f"similarity_coef must be 2 or 3 finite numbers, got {coef!r}")
            object.__setattr__(self, "similarity_coef", coef)

    @property
    def similarity_coefficients(self) -> tuple[float, ...]:
        """The coefficients :attr:`Hit.similarity` uses: ``similarity_coef`` or the shipped ones."""
        if self.similarity_coef is not None:
            return self.similarity_coef
        return SHIPPED["hybrid" if self.semantic_weight > 0 else "lexical"]

    def replace(self, **changes: Any) -> IndexConfig:
        """A copy with ``changes`` applied (validated); InputError for an unknown option."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise InputError(f"unknown index option(s) {sorted(unknown)}; known: {self.names()}")
        return dataclasses.replace(self, **changes)

    @classmethod
    def names(cls) -> list[str]:
        """The option names."""
        return [f.name for f in fields(cls)]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, version: int = 2) -> IndexConfig:
        """The config of a saved index (unknown keys ignored; a version-1 file keeps its behaviour)."""
        known = {k: v for k, v in d.items() if k in cls.names()}
        for k, v in _OLD_DEFAULTS.items():
            known.setdefault(k, v)
        if version == 1:
            known.update(_V1)
        return cls(**known)

    @property
    def lexical_only(self) -> bool:
        """True when neither the semantic nor the category side is on (no model needed)."""
        return self.semantic_weight == 0 and self.category_weight == 0
