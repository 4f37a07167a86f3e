"""Result records of the tagger: :class:`Evidence`, :class:`Tag`, :class:`TagList`, :class:`CaseTags`.

Plain frozen records with one JSON form each (``to_dict``), used by every output path.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CaseTags", "CategorySummary", "Evidence", "Tag", "TagList"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a tag was given.

    Attributes:
        start, end: half-open character offsets into the *original* text (``text == original[start:end]``).
        text: the original slice.
        source: ``"lexicon"`` (a seed of the category occurs there) or ``"exemplar"`` (the sentence of
            the input most similar to the category's best-matching exemplar).
        term: the seed as written in the taxonomy, or the exemplar sentence.
    """

    start: int
    end: int
    text: str
    source: str
    term: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: ``{"start", "end", "text", "source", "term"}``."""
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "source": self.source,
            "term": self.term,
        }


@dataclass(frozen=True, slots=True)
class Tag:
    """One reform category assigned to a passage; ``score`` is a calibrated probability in [0, 1]."""

    code: str
    name: str
    name_en: str
    score: float
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self, *, evidence: bool = True) -> dict[str, Any]:
        """Plain-JSON form, the one every output uses (batch files, the web API, ``CaseTags.to_dict``):
        ``{"code", "name", "score" (rounded to 4 places), "evidence": [Evidence.to_dict(), ...]}``."""
        d: dict[str, Any] = {"code": self.code, "name": self.name, "score": round(float(self.score), 4)}
        if evidence:
            d["evidence"] = [e.to_dict() for e in self.evidence]
        return d


class TagList(list):  # list[Tag]
    """The tags of one passage, best first; a plain list that also renders itself in notebooks."""

    def __init__(self, tags: Iterable[Tag] = (), text: str = "") -> None:
        super().__init__(tags)
        self.text = text

    @property
    def codes(self) -> list[str]:
        """The category codes, in score order."""
        return [t.code for t in self]

    def _repr_html_(self) -> str:
        try:
            from ..apps.display import tags_html
        except ImportError:  # display.py is optional for the tagger; fall back to a bare list
            items = "".join(f"<li>{html.escape(t.name)} ({t.code}) {t.score:.2f}</li>" for t in self)
            return f"<ul>{items}</ul>" if items else "<p>(no tag)</p>"
        return tags_html(self.text, list(self))


@dataclass(frozen=True, slots=True)
class CategorySummary:
    """Case-level view of one category: best score and which initiatives carry it."""

    code: str
    name: str
    name_en: str
    score: float  # max over the case's initiatives
    count: int  # number of initiatives tagged with it
    initiative_ids: tuple[str, ...]


@dataclass(frozen=True)
class CaseTags:
    """Tags of one case: per initiative (``{initiative_id: TagList}``), the lead, and a case-level summary.

    ``summary`` is the union of the initiatives' tags (score = max, count = number of initiatives), sorted by
    count then score; when a case has no initiatives the lead's tags stand in.
    """

    case_id: str
    initiatives: dict[str, TagList]
    lead: TagList
    summary: list[CategorySummary] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        """Case-level category codes (summary order)."""
        return [s.code for s in self.summary]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""

        def tags(tl: TagList) -> list[dict[str, Any]]:
            return [t.to_dict() for t in tl]

        return {
            "case_id": self.case_id,
            "initiatives": {k: tags(v) for k, v in self.initiatives.items()},
            "lead": tags(self.lead),
            "summary": [
                {
                    "code": s.code,
                    "name": s.name,
                    "score": round(s.score, 4),
                    "count": s.count,
                    "initiative_ids": list(s.initiative_ids),
                }
                for s in self.summary
            ],
        }
