"""Result records of the case index: :class:`Hit`, :class:`HitList`, :class:`Explanation`."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Explanation", "Hit", "HitList"]


@dataclass(frozen=True)
class Hit:
    """One search result.

    ``score``: fused score (float, z units relative to the index for this query; higher is more related: for
    ranking, not for reading); ``lexical`` / ``semantic``: raw cosine of each side (whole/passage mix, in
    [0, 1] for real text); ``title``: the case title, or None for texts indexed without titles;
    ``similarity``: for display, the probability in [0, 1] that the case is related to the query (calibrated
    on real text, see :mod:`yanreform.search.index.calibration`; never higher than the hit ranked above it),
    or None for a hit made without one.
    """

    id: str
    score: float
    title: str | None
    lexical: float
    semantic: float
    similarity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (floats rounded to 4 places)."""
        return {
            "id": self.id,
            "title": self.title,
            "score": round(self.score, 4),
            "lexical": round(self.lexical, 4),
            "semantic": round(self.semantic, 4),
            "similarity": None if self.similarity is None else round(self.similarity, 4),
        }


class HitList(list[Hit]):
    """The hits of one query, best first: a plain list that also renders itself in notebooks."""

    def _repr_html_(self) -> str:
        # A plain fallback; in a notebook yanreform.apps.display registers the richer renderer.
        rows = "".join(
            f"<tr><td>{i}</td><td>{html.escape(h.id)}</td><td>{html.escape(h.title or '')}</td>"
            f"<td>{h.score:.2f}</td></tr>"
            for i, h in enumerate(self, 1)
        )
        return f"<table><tr><th>#</th><th>id</th><th>title</th><th>score</th></tr>{rows}</table>"


@dataclass(frozen=True)
class Explanation:
    """Why two cases (or texts) are related.

    ``shared_terms``: domain key terms of both (segmenter keywords present in both normalised texts),
    strongest first; ``shared_categories``: reform-category codes a tagger assigns to both (the index's
    category side, else a tagger given to the index, else the shipped one; empty when none can be loaded);
    ``lexical`` / ``semantic``: raw cosine of each side (whole/passage mix, as in :class:`Hit`); ``score``:
    the fused score of b for query a against this index (as :attr:`Hit.score`, without feedback).
    """

    a: str
    b: str
    shared_terms: list[str]
    shared_categories: list[str]
    lexical: float
    semantic: float
    score: float
    category_names: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __str__(self) -> str:
        cats = ", ".join(
            f"{c} {self.category_names[c]}" if c in self.category_names else c for c in self.shared_categories
        )
        return (
            f"{self.a} ~ {self.b}: score {self.score:.2f} (lexical {self.lexical:.3f}, "
            f"semantic {self.semantic:.3f})\n"
            f"  shared terms: {'、'.join(self.shared_terms) or '(none)'}\n"
            f"  shared categories: {cats or '(none)'}"
        )

    def reason(self, n_terms: int = 5) -> str:
        """One line a reader can use: ``"shared categories: …; key terms: …"`` (or ``"similar wording"``)."""
        parts = []
        if self.shared_categories:
            names = [self.category_names.get(c, c) for c in self.shared_categories]
            parts.append("shared categories: " + "、".join(names))
        if self.shared_terms:
            parts.append("key terms: " + "、".join(self.shared_terms[:n_terms]))
        return "; ".join(parts) or "similar wording"
