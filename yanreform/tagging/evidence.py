"""Evidence for tags: the lexicon spans of a category's seeds, mapped to the original text, and (for a tag
without a seed of its category) the closest exemplar with the input sentence closest to it.

:func:`tag_lists` turns the scores and decisions of :meth:`Tagger.score` into :class:`TagList` s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..text.analysis import Analysis
from ..text.normalize import Normalized
from . import features as ft
from .lexicon import STRONG, Match
from .records import Evidence, Tag, TagList

if TYPE_CHECKING:
    from .tagger import Tagger

__all__ = ["tag_lists"]


def tag_lists(
    tagger: Tagger, analyses: list[Analysis], P: np.ndarray, D: np.ndarray, *, batch_size: int = 256
) -> list[TagList]:
    """TagLists with evidence from scored analyses (the embeddings are already with the analyses)."""
    if not analyses:
        return []
    cats = tagger.taxonomy_.categories
    mid = tagger.model_id_
    # a fast tagger has no embeddings: its tags are explained by their seeds and weak seeds only
    exemplars = mid is not None
    need_sent: list[tuple[int, int, int]] = []  # (text index, position in its tag list, prototype row)
    per_text: list[list[list[Any]]] = [[] for _ in analyses]
    rows_i, rows_j = np.nonzero(D)
    if rows_i.size:
        tagged = np.unique(rows_i)
        S = np.zeros((len(tagged), 0), np.float32)
        if mid is not None:
            Et = np.stack([analyses[int(i)].embedding(mid) for i in tagged])  # type: ignore[misc]
            S = Et @ tagger.proto_emb_.T
        srow = {int(i): n for n, i in enumerate(tagged.tolist())}
        by_text: dict[int, list[int]] = {}
        for i, j in zip(rows_i.tolist(), rows_j.tolist(), strict=True):
            by_text.setdefault(i, []).append(j)
        for i, js in by_text.items():
            a = analyses[i]
            text = a.original
            row = P[i]
            js.sort(key=lambda j: (-float(row[j]), j))
            lex_by_cat: dict[int, list[Match]] = {}
            for m in tagger.matches(a):
                lex_by_cat.setdefault(m.category, []).append(m)
            items = per_text[i]
            for j in js:
                ms = lex_by_cat.get(j, [])
                shown = [m for m in ms if m.kind == STRONG] or ms
                ev: list[Evidence] = []
                for m in shown:
                    s, e = a.span(m.start, m.end)
                    ev.append(Evidence(s, e, text[s:e], "lexicon", m.term))
                if exemplars and not any(m.kind == STRONG for m in ms):
                    # No seed of this category: explain by the closest exemplar and the sentence
                    # matching it.
                    cols = np.flatnonzero(tagger.proto_cat_ == j)
                    best = int(cols[np.argmax(S[srow[i], cols])])
                    need_sent.append((i, len(items), best))
                items.append([cats[j], float(P[i, j]), ev])
    if need_sent:
        _add_exemplar_evidence(tagger, analyses, per_text, need_sent, batch_size)
    return [
        TagList(
            (Tag(c.code, c.name, c.name_en, s, tuple(ev)) for c, s, ev in items),
            text=analyses[i].original,
        )
        for i, items in enumerate(per_text)
    ]


def _add_exemplar_evidence(
    tagger: Tagger,
    analyses: Sequence[Analysis],
    per_text: list[list[list[Any]]],
    need: list[tuple[int, int, int]],
    batch_size: int,
) -> None:
    """Add, for each (text, tag, prototype row) in ``need``, the sentence of the text closest to that
    exemplar. Sentences are cut from the normalised text and mapped back to the original."""
    spans_of: dict[int, list[tuple[int, int]]] = {}
    pieces: list[Analysis] = []
    offset: dict[int, int] = {}
    for i, _, _ in need:
        if i not in spans_of:
            a = analyses[i]
            spans = ft.sentences(a.text) or [(0, len(a.text))]
            spans_of[i] = spans
            if len(spans) > 1:
                offset[i] = len(pieces)
                # a sentence of a normalised text is already normalised: no second pass
                pieces.extend(Analysis(Normalized(a.text[s:e], a.text[s:e])) for s, e in spans)
    emb = tagger._embed(pieces, batch_size=batch_size) if pieces else None
    for i, slot, row in need:
        a = analyses[i]
        spans = spans_of[i]
        if len(spans) > 1 and emb is not None:
            sims = emb[offset[i] : offset[i] + len(spans)] @ tagger.proto_emb_[row]
            s, e = spans[int(np.argmax(sims))]
        else:
            s, e = spans[0]
        os_, oe = a.span(s, e)
        per_text[i][slot][2].append(
            Evidence(os_, oe, a.original[os_:oe], "exemplar", tagger.proto_text_[row])
        )
