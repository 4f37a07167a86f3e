"""Why two texts are related: the domain terms they share (for :meth:`CaseIndex.explain`).

:func:`shared_terms` ranks the words of both texts: reform mechanisms, quoted project names, platform and
programme names over common words; agency and place names, agency roles and genre words left out.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from ...corpus.agency import AGENCY_ROLE_WORDS, is_boilerplate
from ...errors import ModelError
from ...text.analysis import Analysis
from ...text.keywords import domain_idf, keyword_candidates
from .fusion import fuse
from .records import Explanation

if TYPE_CHECKING:
    from ...tagging.tagger import Tagger
    from ...text.segment import Segmenter
    from .case_index import CaseIndex, _Reps

__all__ = ["explain_pair", "shared_terms"]

log = logging.getLogger("yanreform")

# strings with CJK characters are always texts; digit runs are ignored when comparing id shapes
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
_DIGITS_RE = re.compile(r"\d+")

_QUOTED_RE = re.compile(r"“([^“”]{2,16})”")
# the suffixes of platform / mechanism / programme names
_NAMED_RE = re.compile(r"(?:平台|系统|中心|机制|模式|工作法|经验|工作室|联盟|专线|热线|驿站|App|app)$")
# words under this domain IDF are the genre's boilerplate (工作, 机制, 案件 ...)
_MIN_TERM_IDF = 5.0


def _label(text: str) -> str:
    t = " ".join(text.split())
    return t if len(t) <= 16 else t[:15] + "…"


def shared_terms(a: Analysis, b: Analysis, segmenter: Segmenter, k: int) -> list[str]:
    """Up to ``k`` words of both texts, strongest first.

    Strength = domain IDF (``models/idf.txt`` over jieba's table) x bonus (quoted in either text: 3;
    domain-dictionary term or platform/mechanism name: 1.5) x (1 + ln of the smaller count); words under
    IDF 5 (the genre's boilerplate) are kept only with a bonus.
    """
    ca = Counter(keyword_candidates(a.words(segmenter)))
    cb = Counter(keyword_candidates(b.words(segmenter)))
    idf, default = domain_idf()
    tags = segmenter.user_words
    quoted = {q for t in (a.text, b.text) for q in _QUOTED_RE.findall(t)}
    scored = []
    for order, w in enumerate(ca):
        if w not in cb or w in AGENCY_ROLE_WORDS or is_boilerplate(w, tags):
            continue
        entry = tags.get(w)
        if any(w in q for q in quoted):
            bonus = 3.0
        elif (entry is not None and entry[1] not in ("nt", "ns")) or (len(w) >= 3 and _NAMED_RE.search(w)):
            bonus = 1.5
        else:
            bonus = 1.0
        weight = idf.get(w, default)
        if weight < _MIN_TERM_IDF and bonus == 1.0:
            continue
        scored.append((-(weight * bonus * (1.0 + np.log(min(ca[w], cb[w])))), order, w))
    scored.sort()
    return [w for _, _, w in scored[:k]]


def _analysis_of_case(index: CaseIndex, row: int) -> Analysis:
    """The analysis of an indexed case's text, with its stored embedding (nothing to encode again)."""
    a = Analysis.of(index._texts[row])
    if index._case_emb is not None and index._model_id is not None:
        a.set_embedding(index._model_id, index._case_emb[row])
    return a


def explain_pair(index: CaseIndex, a: str, b: str, *, k: int = 20) -> Explanation:
    """:meth:`CaseIndex.explain` (see there)."""
    for name, x in (("a", a), ("b", b)):
        if not isinstance(x, str):
            raise TypeError(f"explain: {name} is {type(x).__name__}, expected a case id or a text")
        if x not in index._pos and _looks_like_id(index, x):
            index._row(x)  # raises UnknownCaseError with a hint
    ra, rb = index._pos.get(a), index._pos.get(b)
    aa = _analysis_of_case(index, ra) if ra is not None else Analysis.of(a)
    ab = _analysis_of_case(index, rb) if rb is not None else Analysis.of(b)
    qa = index._case_vectors(np.array([ra])) if ra is not None else index._query_reps([aa])
    if rb is not None and len(index):
        lex, sem, cat = index._sides(qa)
        valid = np.ones(lex.shape, bool)
        if ra is not None:
            valid[0, ra] = False
        fused = fuse(lex, sem, cat, valid, index.config)
        lexical, semantic, score = float(lex[0, rb]), float(sem[0, rb]), float(fused[0, rb])
    else:
        # b is a free text: compare with its whole text, score relative to the index's cases
        qb = index._query_reps([ab])
        lexical = float((qa.lex @ qb.lex.T).toarray()[0, 0])
        semantic = float((qa.sem @ qb.sem.T)[0, 0]) if qa.sem is not None and qb.sem is not None else 0.0
        category = float((qa.cat @ qb.cat.T)[0, 0]) if qa.cat is not None and qb.cat is not None else 0.0
        score = _relative(index, qa, lexical, semantic, category, ra)

    cats: list[str] = []
    names: dict[str, str] = {}
    tagger = _tagger_for(index)
    if tagger is not None:
        tags_a, tags_b = tagger.tag_many([aa, ab])
        in_b = {t.code for t in tags_b}
        cats = [t.code for t in tags_a if t.code in in_b]
        names = {t.code: t.name for t in tags_a if t.code in in_b}
    seg = index.segmenter
    if seg is None:
        from ..._defaults import default_segmenter

        seg = default_segmenter()
    return Explanation(
        a=a if ra is not None else _label(a),
        b=b if rb is not None else _label(b),
        shared_terms=shared_terms(aa, ab, seg, k),
        shared_categories=cats,
        lexical=lexical,
        semantic=semantic,
        score=score,
        category_names=names,
    )


def _tagger_for(index: CaseIndex) -> Tagger | None:
    """The tagger that names shared categories: the index's (category side), one given to it, else the shipped
    one for its encoder (the encoder-free fast head when there is no encoder or the full head can't read its
    vectors), loaded on the first explanation; None, with a log line, when none can be loaded."""
    if index.tagger is not None:
        return index.tagger
    if index._explain_tagger is None:
        from ...tagging.tagger import Tagger

        try:
            if index.encoder is None:
                raise ModelError("no encoder")
            index._explain_tagger = Tagger.default(encoder=index.encoder)
        except ModelError:
            try:
                index._explain_tagger = Tagger.default(fast=True)
            except ModelError as exc:
                log.info("explain: no shared categories (%s)", exc)
                index._explain_tagger = False  # type: ignore[assignment]
    return index._explain_tagger or None


def _looks_like_id(index: CaseIndex, s: str) -> bool:
    """Whether ``s`` (not an indexed id) has the shape of this index's ids (see :meth:`explain`)."""
    if not s or len(s) > 64 or _CJK_RE.search(s) or any(c.isspace() for c in s):
        return False
    prefix, shape = (s.rsplit("-", 1)[0] if "-" in s else None), _DIGITS_RE.sub("0", s)
    for x in index._ids:
        if _DIGITS_RE.sub("0", x) == shape or (
            prefix is not None and "-" in x and x.rsplit("-", 1)[0] == prefix
        ):
            return True
    return False


def _relative(
    index: CaseIndex, qa: _Reps, lexical: float, semantic: float, category: float, ra: int | None
) -> float:
    if len(index) < 2:
        ws, wc = index.config.semantic_weight, index.config.category_weight
        return (1 - ws) * lexical + ws * semantic + wc * category
    sides = [
        np.concatenate([x, [[v]]], axis=1)
        for x, v in zip(index._sides(qa), (lexical, semantic, category), strict=True)
    ]
    valid = np.ones(sides[0].shape, bool)
    if ra is not None:
        valid[0, ra] = False
    return float(fuse(sides[0], sides[1], sides[2], valid, index.config)[0, -1])
