"""What the web app computes, free of any web framework: submissions tagged and related to model cases.

:class:`Analyst` owns the injected :class:`~yanreform.tagging.tagger.Tagger` and
:class:`~yanreform.search.index.CaseIndex` (and the corpus whose cases the index holds, for case pages) and
turns a pasted text or an uploaded file into a :class:`Submission`: groups of passages (one group per case of
a collection, or one group holding the whole text), each passage with its tags and evidence, each group with
a category summary and related model cases with reasons. The JSON API serialises these records with their
``to_dict`` methods and the HTML pages render the same records, so the two always agree.

Uploads are read by :mod:`.uploads` (whatever ``yanreform tag`` reads; no request value reaches a filesystem
path); its names are re-exported here.

Every method is synchronous and may take seconds with the real model: the app runs them on its worker thread
(:class:`Worker`), one at a time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ...errors import InputError, ParseError, UnknownCaseError
from .uploads import Limits, TooLarge, UnsupportedType, display_name, read_upload

if TYPE_CHECKING:
    from ...corpus import Case, Corpus
    from ...search.index import CaseIndex, Hit
    from ...tagging.records import Tag
    from ...tagging.tagger import Tagger

log = logging.getLogger("yanreform")

T = TypeVar("T")

__all__ = [
    "LEVELS",
    "Analyst",
    "CaseGroup",
    "Limits",
    "Passage",
    "Related",
    "Submission",
    "TooLarge",
    "UnsupportedType",
    "Worker",
    "display_name",
    "read_upload",
    "related_level",
    "similarity_level",
]


#: bands of the fused related-case score (z units for this query): (lower bound, code, label)
LEVELS: tuple[tuple[float, str, str], ...] = (
    (2.0, "very_close", "高度相似"),
    (1.0, "close", "相似"),
    (0.3, "related", "相关"),
    (-math.inf, "weak", "关联较弱"),
)

#: bands of :attr:`~yanreform.Hit.similarity` (probability that the case is related): (lower bound, code,
#: label)
SIMILARITY_LEVELS: tuple[tuple[float, str, str], ...] = (
    (0.8, "very_close", "高度相似"),
    (0.5, "close", "相似"),
    (0.2, "related", "相关"),
    (-math.inf, "weak", "关联较弱"),
)


def similarity_level(score: float) -> tuple[str, str, int]:
    """A readable form of a fused score (z units: 0 = an average indexed case for this query):
    ``(code, Chinese label, bar percent 0..100)``; the bar maps z = -1 .. 3 onto 0 .. 100. For hits without a
    :attr:`~yanreform.Hit.similarity` (see :func:`related_level`)."""
    s = float(score) if math.isfinite(score) else -math.inf
    code, label = next((c, lab) for lo, c, lab in LEVELS if s >= lo)
    bar = 0 if not math.isfinite(s) else round(min(1.0, max(0.0, (s + 1.0) / 4.0)) * 100)
    return code, label, bar


def related_level(similarity: float) -> tuple[str, str, int]:
    """A readable form of a hit's similarity (probability in [0, 1] that the case is related):
    ``(code, Chinese label, bar percent 0..100)`` by :data:`SIMILARITY_LEVELS`; the bar is the percentage."""
    s = float(similarity) if math.isfinite(similarity) else 0.0
    s = min(1.0, max(0.0, s))
    code, label = next((c, lab) for lo, c, lab in SIMILARITY_LEVELS if s >= lo)
    return code, label, round(s * 100)


@dataclass(frozen=True)
class Related:
    """One related model case. ``score``: the index's fused score (z units, see :class:`~yanreform.Hit`);
    ``lexical`` / ``semantic``: cosines in [0, 1]; ``similarity``: the hit's 0-1 display value (the
    probability that the case is related; :attr:`~yanreform.Hit.similarity`); ``level``/``label``/``bar``:
    see :func:`related_level`; ``reason``: shared categories and key terms, or "" when not computed."""

    id: str
    title: str | None
    score: float
    lexical: float
    semantic: float
    level: str
    label: str
    bar: int
    reason: str = ""
    similarity: float | None = None

    @classmethod
    def of(cls, hit: Hit, reason: str = "") -> Related:
        sim = hit.similarity
        level, label, bar = similarity_level(hit.score) if sim is None else related_level(sim)
        return cls(hit.id, hit.title, hit.score, hit.lexical, hit.semantic, level, label, bar, reason, sim)

    def to_dict(self) -> dict[str, Any]:
        """``{"id", "title", "score", "lexical", "semantic", "similarity", "level", "label", "reason"}``
        (floats to 4 places)."""
        return {
            "id": self.id,
            "title": self.title,
            "score": round(self.score, 4),
            "lexical": round(self.lexical, 4),
            "semantic": round(self.semantic, 4),
            "similarity": None if self.similarity is None else round(self.similarity, 4),
            "level": self.level,
            "label": self.label,
            "reason": self.reason,
        }


@dataclass
class Passage:
    """One tagged passage: an initiative, a lead, an outcome, a record of an upload or a whole text.
    ``tags`` is empty and ``error`` set for a record that could not be read; evidence offsets index into
    ``text``."""

    id: str
    kind: str  # "text", "lead", "initiative", "outcome", "record"
    heading: str
    text: str
    tags: list[Tag] = field(default_factory=list)
    where: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "kind": self.kind, "heading": self.heading, "text": self.text}
        d["tags"] = [t.to_dict() for t in self.tags]
        if self.where:
            d["where"] = self.where
        if self.error is not None:
            d["error"] = self.error
        return d


@dataclass
class CaseGroup:
    """A case of a submission (or the whole submission when it has no case structure): its passages, a
    category summary (per code: best score and the number of tagged passages) and related model cases."""

    id: str
    agency: str
    title: str
    passages: list[Passage]
    summary: list[dict[str, Any]] = field(default_factory=list)
    related: list[Related] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.passages if p.error is None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "agency": self.agency,
            "title": self.title,
            "summary": self.summary,
            "passages": [p.to_dict() for p in self.passages],
            "related": [r.to_dict() for r in self.related],
        }


@dataclass
class Submission:
    """A pasted text or an uploaded file, analysed. ``kind``: ``"text"`` (no case structure: one group of one
    passage), ``"collection"`` (one group per case) or ``"records"`` (a file of records); ``source``: what
    to call it ("pasted text" or the file's display name)."""

    source: str
    kind: str
    groups: list[CaseGroup]
    chars: int
    tags: list[Tag] = field(default_factory=list)  # of the whole text, when asked for

    @property
    def n_passages(self) -> int:
        return sum(len(g.passages) for g in self.groups)

    @property
    def n_errors(self) -> int:
        return sum(1 for g in self.groups for p in g.passages if p.error is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "chars": self.chars,
            "passages": self.n_passages,
            "errors": self.n_errors,
            "cases": [g.to_dict() for g in self.groups],
        }


def summarise(passages: Sequence[Passage]) -> list[dict[str, Any]]:
    """Per category code over ``passages``: ``{"code", "name", "score" (max), "count", "passage_ids"}``,
    sorted by count then score (as :meth:`Tagger.tag_case` summarises a case)."""
    agg: dict[str, dict[str, Any]] = {}
    for p in passages:
        for t in p.tags:
            a = agg.setdefault(t.code, {"code": t.code, "name": t.name, "score": 0.0, "count": 0, "ids": []})
            a["score"] = max(a["score"], float(t.score))
            a["count"] += 1
            a["ids"].append(p.id)
    rows = [
        {"code": a["code"], "name": a["name"], "score": round(a["score"], 4), "count": a["count"],
         "passage_ids": a["ids"]}
        for a in agg.values()
    ]  # fmt: skip
    rows.sort(key=lambda r: (-r["count"], -r["score"], r["code"]))
    return rows


# ------------------------------------------------------------------------------------------------ worker


#: per request: seconds of work on the worker thread and of waiting for it (the app's ``Server-Timing``)
TIMING: ContextVar[dict[str, float] | None] = ContextVar("yanreform_web_timing", default=None)


class Worker:
    """One background thread that runs blocking calls in order (the models, or the library's connection,
    stay on one thread); :meth:`run` awaits a call from async code and adds its work and queue time to the
    request's :data:`TIMING`."""

    def __init__(self, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"yanreform-{name}")

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        spent = [0.0]

        def timed() -> T:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] = time.perf_counter() - t

        t0 = time.perf_counter()
        try:
            return await asyncio.wrap_future(self._pool.submit(timed))
        finally:
            timing = TIMING.get()
            if timing is not None:
                timing["work"] = timing.get("work", 0.0) + spent[0]
                timing["queue"] = timing.get("queue", 0.0) + max(0.0, time.perf_counter() - t0 - spent[0])

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` on the worker thread and wait for it (from synchronous code)."""
        return self._pool.submit(fn, *args, **kwargs).result()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


# ------------------------------------------------------------------------------------------------ analyst


class Analyst:
    """Tags submissions and finds related model cases with one tagger and one case index.

    Args:
        tagger: a fitted :class:`~yanreform.tagging.tagger.Tagger`.
        index: a :class:`~yanreform.search.index.CaseIndex` of model cases.
        corpus: the corpus the index was built from, for case pages (None: case pages show the indexed text
            only).
        limits: the app's :class:`Limits`.
    """

    def __init__(self, tagger: Tagger, index: CaseIndex, *, corpus: Corpus | None = None,
                 limits: Limits | None = None) -> None:  # fmt: skip
        self.tagger = tagger
        self.index = index
        self.corpus = corpus
        self.limits = limits or Limits()
        self._case_cache: dict[str, CaseGroup] = {}

    # -- checks ------------------------------------------------------------------------------------------
    def check_text(self, text: Any, field_name: str = "text") -> str:
        """``text`` if it is a non-empty str within ``limits.max_chars``; InputError (422) otherwise."""
        if not isinstance(text, str):
            raise InputError(f"{field_name} must be a string")
        if not text.strip():
            raise InputError(f"{field_name} is empty: paste or upload a submission")
        if len(text) > self.limits.max_chars:
            raise InputError(
                f"{field_name} has {len(text):,} characters; the limit is {self.limits.max_chars:,} "
                "(split the text, or use `yanreform tag` for batch work)"
            )
        return text

    def check_k(self, k: Any) -> int:
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= self.limits.max_k:
            raise InputError(f"k must be an integer from 1 to {self.limits.max_k}, got {k!r}")
        return k

    # -- tagging -----------------------------------------------------------------------------------------
    def tag(self, text: str) -> list[Tag]:
        """The tags of one whole text (best first)."""
        return list(self.tagger.tag_many([self.check_text(text)])[0])

    def _tag_passages(self, passages: list[Passage], extra: Sequence[str] = ()) -> list[list[Tag]]:
        """Tag ``passages`` in place (one batch, with the ``extra`` texts); returns the tags of ``extra``."""
        todo = [p for p in passages if p.error is None]
        results = self.tagger.tag_many([p.text for p in todo] + list(extra))
        for p, tags in zip(todo, results, strict=False):
            p.tags = list(tags)
        return [list(t) for t in results[len(todo) :]]

    def analyse_text(
        self, text: str, *, k: int = 5, source: str = "pasted text", whole: bool = False
    ) -> Submission:
        """A pasted text: a collection (agency line, title, body) is split into cases and initiatives, each
        initiative tagged; any other text is tagged whole. Each group gets ``k`` related cases (0: none).
        ``whole``: also tag the whole text (``Submission.tags``; free for a text without case structure).

        Raises InputError for an empty text or one over ``limits.max_chars``."""
        text = self.check_text(text)
        from ...corpus import parse_collection

        try:
            corpus = parse_collection(text, id_prefix="submission", name=source)
        except ParseError:
            groups = [CaseGroup("submission", "", "", [Passage("submission", "text", "", text)])]
            kind = "text"
        else:
            groups = [self._case_group(case) for case in corpus]
            kind = "collection"
        extra = [text] if whole and kind == "collection" else []
        return self._finish(Submission(source, kind, groups, len(text)), k, extra)

    def analyse_upload(self, data: bytes, filename: str | None, *, k: int = 5) -> Submission:
        """An uploaded file (see :func:`read_upload`): records grouped by their case (collections, .docx),
        one group per record otherwise; bad records are kept with their error."""
        name, kind, records = read_upload(data, filename, limits=self.limits)
        groups: list[CaseGroup] = []
        by_case: dict[str, CaseGroup] = {}
        for rec in records:
            rid = str(rec.id)
            p = Passage(rid, "record", str(rec.meta.get("heading") or ""), rec.text or "",
                        where=rec.where, error=rec.error)  # fmt: skip
            if rec.error is None and rec.text is None:
                p.error = f"no text ({rec.where})"
            case_id = rec.meta.get("case_id")
            if case_id:
                g = by_case.get(str(case_id))
                if g is None:
                    g = CaseGroup(str(case_id), str(rec.meta.get("agency") or ""),
                                  str(rec.meta.get("title") or ""), [])  # fmt: skip
                    by_case[str(case_id)] = g
                    groups.append(g)
                p.kind = "initiative"
                g.passages.append(p)
            else:
                groups.append(CaseGroup(rid, "", "", [p]))
        shape = "collection" if by_case else ("text" if len(records) == 1 else "records")
        chars = sum(len(r.text) for r in records if r.text is not None)
        log.debug("upload %s (%s): %d records, %d characters", name, kind, len(records), chars)
        return self._finish(Submission(name, shape, groups, chars), k)

    def _case_group(self, case: Case) -> CaseGroup:
        ps: list[Passage] = []
        if case.lead:
            ps.append(Passage(f"{case.id}-lead", "lead", "", case.lead))
        ps += [Passage(ini.id, "initiative", ini.heading, ini.text) for ini in case.initiatives]
        if case.outcome:
            ps.append(Passage(f"{case.id}-outcome", "outcome", "", case.outcome))
        return CaseGroup(case.id, case.agency, case.title, ps)

    def analyse_case_dict(self, d: dict[str, Any], *, k: int = 5) -> CaseGroup:
        """A case from the library (a dict of :meth:`LibraryGateway.case`): passages from its lead,
        initiatives and outcome (else its whole text), tagged, summarised, with ``k`` related model cases."""
        cid = str(d.get("id", ""))
        ps: list[Passage] = []
        if d.get("lead"):
            ps.append(Passage(f"{cid}-lead", "lead", "", str(d["lead"])))
        for ini in d.get("initiatives") or ():
            if ini.get("text"):
                ps.append(
                    Passage(str(ini.get("id", "")), "initiative", str(ini.get("heading", "")), ini["text"])
                )
        if d.get("outcome"):
            ps.append(Passage(f"{cid}-outcome", "outcome", "", str(d["outcome"])))
        if not any(p.kind == "initiative" for p in ps) and d.get("text"):
            ps = [Passage(cid, "text", "", str(d["text"]))]
        g = CaseGroup(cid, str(d.get("agency", "")), str(d.get("title", "")), ps)
        return self._finish(Submission(cid, "collection", [g], len(g.text)), k).groups[0]

    def _finish(self, sub: Submission, k: int, extra: Sequence[str] = ()) -> Submission:
        passages = [p for g in sub.groups for p in g.passages]
        extra_tags = self._tag_passages(passages, extra)
        if extra_tags:
            sub.tags = extra_tags[0]
        elif sub.kind == "text" and passages:
            sub.tags = list(passages[0].tags)
        for g in sub.groups:
            # the case summary counts initiatives (as tag_case does); lead and outcome only stand in
            inis = [p for p in g.passages if p.kind in ("initiative", "record", "text")]
            g.summary = summarise(inis or g.passages)
        queries = [(g, g.text) for g in sub.groups if g.text.strip()]
        if queries and k > 0:
            hit_lists = self.index.search([q for _, q in queries], k=min(k, max(1, len(self.index))))
            for (g, q), hits in zip(queries, hit_lists, strict=True):
                g.related = [Related.of(h, self.reason(q, h.id)) for h in hits]
        return sub

    # -- related cases -----------------------------------------------------------------------------------
    def reason(self, a: str, b: str) -> str:
        """Why ``a`` (a text or an indexed id) relates to the indexed case ``b``; "" when it can't be said."""
        try:
            return self.index.explain(a, b).reason()
        except (InputError, TypeError):  # a free text that looks like an id, or an id gone from the index
            return ""

    def similar(self, text: str, k: int = 5, *, reasons: bool = True) -> list[Related]:
        """The ``k`` indexed cases most related to ``text``, best first."""
        text, k = self.check_text(text), self.check_k(k)
        hits = self.index.search(text, k=k)
        return [Related.of(h, self.reason(text, h.id) if reasons else "") for h in hits]

    def search(self, query: str, k: int = 10) -> list[Related]:
        """Search box: as :meth:`similar`, reasons included."""
        return self.similar(query, k)

    # -- cases -------------------------------------------------------------------------------------------
    def case(self, case_id: str, *, k: int = 5) -> CaseGroup:
        """An indexed case with per-passage tags, a summary and ``k`` related cases (never itself).

        Raises UnknownCaseError (404) when the id is neither in the corpus nor in the index.
        """
        cached = self._case_cache.get(case_id)
        if cached is not None:
            return cached
        case = self.corpus.get(case_id) if self.corpus is not None else None
        if case is not None:
            g = self._case_group(case)
        elif case_id in self.index:
            g = CaseGroup(case_id, "", self.index.title(case_id) or "",
                          [Passage(case_id, "text", "", self.index.text(case_id))])  # fmt: skip
        else:
            raise UnknownCaseError(f"no case {case_id!r} among the {len(self.index)} model cases")
        self._tag_passages(g.passages)
        inis = [p for p in g.passages if p.kind in ("initiative", "text")]
        g.summary = summarise(inis or g.passages)
        if case_id in self.index and len(self.index) > 1:
            hits = self.index.recommend(case_id, k=min(k, len(self.index) - 1))
            g.related = [Related.of(h, self.reason(case_id, h.id)) for h in hits]
        if len(self._case_cache) >= 256:
            self._case_cache.pop(next(iter(self._case_cache)))
        self._case_cache[case_id] = g
        return g

    def case_list(self) -> list[dict[str, Any]]:
        """The model cases: ``{"id", "agency", "title", "initiatives"}`` in index order."""
        rows = []
        for cid in self.index.ids:
            c = self.corpus.get(cid) if self.corpus is not None else None
            rows.append({
                "id": cid,
                "agency": c.agency if c is not None else "",
                "title": c.title if c is not None else (self.index.title(cid) or ""),
                "initiatives": len(c.initiatives) if c is not None else 0,
            })  # fmt: skip
        return rows

    def warm_up(self) -> None:
        """Load every model now (the first tag and search would otherwise pay for it)."""
        self.tagger.tag_many(["建设执法办案管理中心，实现一站式办案。"])
        if len(self.index):
            hits = self.index.search("运用大数据平台开展智慧监督", k=1)
            self.reason("运用大数据平台开展智慧监督", hits[0].id)  # explain loads the keyword model
