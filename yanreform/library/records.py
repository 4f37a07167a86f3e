"""Result records of the case library: what :class:`~yanreform.library.Library` returns.

Plain frozen records, each with one JSON form (``to_dict``): :class:`Collection`, :class:`LibraryCase` and
:class:`LibraryInitiative` (a stored case, convertible to a :class:`yanreform.Case`), :class:`LibraryHit`
(a search result), :class:`NearDuplicate` with its :class:`SharedSpan` s (a possible re-submission), and
:class:`RetagStats`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..corpus import Case
    from ..tagging.records import TagList

__all__ = [
    "Collection",
    "LibraryCase",
    "LibraryHit",
    "LibraryInitiative",
    "NearDuplicate",
    "RetagStats",
    "SharedSpan",
]


@dataclass(frozen=True)
class Collection:
    """One imported file.

    ``id``: the collection id (from the file name; case ids start with it); ``year``: the year given at
    import; ``source``: a free label (e.g. the submitting office); ``sha256``: hash of the file's bytes;
    ``kind``: ``collection`` (.txt), ``docx``, ``jsonl``, ``csv`` or ``xlsx``; ``imported_at``: UTC, ISO 8601;
    ``n_cases`` / ``n_initiatives``: what the import stored.
    """

    id: str
    year: int
    source: str | None
    name: str
    path: str
    sha256: str
    kind: str
    imported_at: str
    n_cases: int
    n_initiatives: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (every field)."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class LibraryInitiative:
    """One stored initiative: ``text == case.text[start:end]``; ``tags`` (a :class:`TagList`, best first;
    empty when not tagged yet); ``tagged_by``: the key of the tagger that made the tags (None: untagged)."""

    id: str
    case_id: str
    heading: str
    text: str
    start: int
    end: int
    tags: TagList
    tagged_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, tags as :meth:`yanreform.Tag.to_dict`."""
        return {
            "id": self.id,
            "case_id": self.case_id,
            "heading": self.heading,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "tags": [t.to_dict() for t in self.tags],
            "tagged_by": self.tagged_by,
        }


@dataclass(frozen=True)
class LibraryCase:
    """One stored case.

    ``id``: unique in the library (``<collection id>-NN``); ``collection``: the collection id; ``year``;
    ``agency`` (as written), ``agencies`` (split), ``agency_kind`` (court, procuratorate, police, justice,
    committee, joint, other; see :func:`yanreform.corpus.agency.agency_kind`), ``place`` (the place the agency
    name starts with, ``""`` if none); ``title``, ``lead``, ``outcome``; ``text``: the case body, which the
    initiatives' offsets index; ``line``: line of the agency line in the file (None for record inputs);
    ``initiatives``: in order (empty list only when the case was listed without them); ``source_id``: the
    case's id in its input file (the record id for .jsonl/.csv/.xlsx, the case number ``01`` … for
    collections).
    """

    id: str
    collection: str
    year: int
    agency: str
    agencies: list[str]
    agency_kind: str
    place: str
    title: str
    lead: str
    outcome: str
    text: str
    line: int | None
    initiatives: list[LibraryInitiative] = field(default_factory=list)
    source_id: str = ""

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def codes(self) -> list[str]:
        """Category codes of the case: the union of its initiatives' tags, most initiatives first."""
        count: dict[str, list[float]] = {}
        for ini in self.initiatives:
            for t in ini.tags:
                c = count.setdefault(t.code, [0, 0.0])
                c[0] += 1
                c[1] = max(c[1], float(t.score))
        return [k for k, _ in sorted(count.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))]

    def to_case(self) -> Case:
        """The :class:`yanreform.Case` of this stored case (for :class:`yanreform.CaseIndex`, the tagger)."""
        from ..corpus import Case, Initiative

        inis = [Initiative(i.id, i.heading, i.text, i.start, i.end, self.id) for i in self.initiatives]
        return Case(
            id=self.id,
            agency=self.agency,
            agencies=list(self.agencies),
            title=self.title,
            lead=self.lead,
            initiatives=inis,
            outcome=self.outcome,
            text=self.text,
            line=self.line or 0,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (initiatives with their tags)."""
        d = {k: v for k, v in self.__dict__.items() if k != "initiatives"}
        d["agencies"] = list(self.agencies)
        d["initiatives"] = [i.to_dict() for i in self.initiatives]
        return d

    def __repr__(self) -> str:
        return (
            f"LibraryCase(id={self.id!r}, year={self.year}, agency={self.agency!r}, title={self.title!r}, "
            f"initiatives={len(self.initiatives)})"
        )


@dataclass(frozen=True)
class LibraryHit:
    """One result of :meth:`Library.search`: a case, with the initiative of it that matched best.

    ``score``: ``(1 - w) * semantic + w * lexical`` (w = the search's lexical weight), in [0, 1] for real
    text; ``semantic``: cosine of the query and initiative embeddings; ``lexical``: cosine of their character
    bigram counts; ``categories``: the initiative's category codes.
    """

    case_id: str
    initiative_id: str
    score: float
    semantic: float
    lexical: float
    year: int
    agency: str
    title: str
    heading: str
    text: str
    categories: list[str]

    @property
    def id(self) -> str:
        """The case id (as :class:`yanreform.Hit` has it)."""
        return self.case_id

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (floats rounded to 4 places)."""
        d = dict(self.__dict__)
        for k in ("score", "semantic", "lexical"):
            d[k] = round(float(d[k]), 4)
        return d


@dataclass(frozen=True)
class SharedSpan:
    """One passage two texts share, aligned: ``a_text == text_a[a_start:a_end]`` and likewise for b (offsets
    into the original text of each side: the case text for case pairs, the initiative text for initiative
    pairs). The two slices are the same passage after normalisation (script, width, punctuation, numbers)
    and may differ in those respects."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    a_text: str
    b_text: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class NearDuplicate:
    """Two cases (or initiatives) that are one project submitted twice, or one text reused.

    ``a`` / ``b``: ids of the pair, earlier first (by year, then id); ``level``: ``"case"`` (whole cases) or
    ``"initiative"`` (one initiative inside otherwise different cases); ``case_a`` / ``case_b``: the cases
    they belong to (equal to ``a`` / ``b`` for case pairs); ``year_a`` / ``year_b``.

    ``kind``: ``"resubmission"`` (same agency or place, another year), ``"duplicate"`` (same agency or place,
    same year) or ``"reuse"`` (the text appears under different agencies).

    ``score`` in [0, 1]: the share of the two texts covered by shared passages (``coverage``), confirmed by
    ``semantic`` (cosine of the embeddings, None when either side has none); ``jaccard``: the MinHash estimate
    of their shingle-set resemblance (the candidate filter). ``spans``: the shared passages, aligned side by
    side, in the order of ``a``.
    """

    a: str
    b: str
    score: float
    kind: str
    level: str
    case_a: str
    case_b: str
    year_a: int
    year_b: int
    coverage: float
    semantic: float | None
    jaccard: float
    spans: list[SharedSpan] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (floats rounded to 4 places, spans as dicts)."""
        d = {k: v for k, v in self.__dict__.items() if k != "spans"}
        for k in ("score", "coverage", "semantic", "jaccard"):
            if d[k] is not None:
                d[k] = round(float(d[k]), 4)
        d["spans"] = [s.to_dict() for s in self.spans]
        return d


@dataclass
class RetagStats:
    """What :meth:`Library.retag` did: initiatives ``checked``, ``retagged``, ``skipped`` (already up to
    date), and the tagger ``key`` now recorded."""

    checked: int = 0
    retagged: int = 0
    skipped: int = 0
    key: str = ""

    def summary(self) -> str:
        """One line for a person."""
        return (
            f"{self.retagged:,} of {self.checked:,} initiatives retagged "
            f"({self.skipped:,} already up to date) "
            f"with tagger {self.key}"
        )
