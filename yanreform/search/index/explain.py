"""Why two texts are related: the domain terms they share (for :meth:`CaseIndex.explain`).

:func:`shared_terms` ranks the words of both texts: reform mechanisms, quoted project names, platform and
programme names over common words; agency and place names, agency roles and genre words left out.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from ...corpus.agency import AGENCY_ROLE_WORDS, is_boilerplate
from ...text.keywords import domain_idf, keyword_candidates

if TYPE_CHECKING:
    from ...text.analysis import Analysis
    from ...text.segment import Segmenter

__all__ = ["shared_terms"]

_QUOTED_RE = re.compile(r"“([^“”]{2,16})”")
# the suffixes of platform / mechanism / programme names
_NAMED_RE = re.compile(r"(?:平台|系统|中心|机制|模式|工作法|经验|工作室|联盟|专线|热线|驿站|App|app)$")
# words under this domain IDF are the genre's boilerplate (工作, 机制, 案件 ...)
_MIN_TERM_IDF = 5.0


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
