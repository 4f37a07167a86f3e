"""Multi-pattern seed matching for the tagger (Aho-Corasick over normalised text).

Seeds (and weak seeds) of every category go into one automaton, so one C-level scan of a passage finds every
occurrence of every term. Matching runs on the *normalised* text (NFKC width folding, traditional ->
simplified, ASCII letters lower-cased), so a seed in traditional or full-width input matches like its
simplified form; evidence spans are mapped back to the original string with
:meth:`yanreform.text.Normalized.span`.

Within one category a match contained in a longer match of the same category is dropped (``智慧`` inside
``智慧法院`` counts once), so nested seeds do not inflate the counts. A seed inside a *non-qualifying phrase*
of its category (the category's ``not_qualifying`` list in the taxonomy: ``智慧`` in ``凝聚智慧``, ``监督`` in
``第三方监督评估``, ``联建`` in ``党建联建``) is dropped too: those are the senses corpus/LABELLING.md rules
out. The taxonomy's ``[outside] terms`` (练兵, 表彰, 党建 ...) are reported as matches of category
:data:`OUTSIDE`.

With ``context=True`` (the tagger's default) a seed of any category lying inside an *incidental context* is
dropped as well: a venue (在…中心举行), a unit's name before a title (检察监督部主任), a quoted motto given as
a theme (以“…多方联动…”为主题), where participants come from (来自各乡镇的…), a list of duties; see
:mod:`yanreform.tagging.context`. Outside cues are kept there (a contest held in a centre is still a contest).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any, NamedTuple

import ahocorasick
import numpy as np

from ..text.normalize import normalize_text
from .context import incidental_spans
from .taxonomy import Taxonomy

__all__ = ["OUTSIDE", "STRONG", "WEAK", "Lexicon", "Match", "fold_ascii"]

STRONG, WEAK = 0, 1
_MASK = 2  # payload kind of a non-qualifying phrase (never returned as a match)
#: ``Match.category`` of an outside-work cue (not a taxonomy category).
OUTSIDE = -1

# Lower-casing only ASCII keeps the string length (str.lower() can change it, e.g. "İ"): offsets stay valid.
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


_ASCII_UPPER_RE = re.compile("[A-Z]+")


def _lower_run(m: re.Match[str]) -> str:
    return m.group(0).lower()


def fold_ascii(text: str) -> str:
    """Lower-case ASCII letters only (length-preserving)."""
    # str.translate with a dict costs a lookup per character; Chinese text rarely has A-Z: find runs
    if _ASCII_UPPER_RE.search(text) is None:
        return text
    return _ASCII_UPPER_RE.sub(_lower_run, text)


def _key(term: str) -> str:
    return fold_ascii(normalize_text(term)).strip()


class Match(NamedTuple):
    """One seed occurrence. ``start``/``end``: offsets into the text that was scanned (half-open)."""

    start: int
    end: int
    category: int  # index into the taxonomy's categories, or OUTSIDE
    kind: int  # STRONG (seed) or WEAK (weak seed)
    term: str  # the seed as written in the taxonomy


def _unmasked(raw: list[Match], masks: list[tuple[int, int, int]]) -> list[Match]:
    """``raw`` without the matches lying inside a mask span ``(category, start, end)`` of their category.

    Per category the masks are sorted by start with a running maximum of their ends, so each match is one
    bisect: it is masked iff some mask starting at or before it ends at or after it. O((M + K) log K).
    """
    by_cat: dict[int, tuple[list[int], list[int]]] = {}
    masks.sort()
    for ci, s, e in masks:
        starts, max_end = by_cat.setdefault(ci, ([], []))
        starts.append(s)
        max_end.append(max(e, max_end[-1]) if max_end else e)
    out: list[Match] = []
    for m in raw:
        cm = by_cat.get(m.category)
        if cm is not None:
            i = bisect_right(cm[0], m.start)
            if i and cm[1][i - 1] >= m.end:
                continue
        out.append(m)
    return out


class Lexicon:
    """All seeds, non-qualifying phrases and outside cues of a taxonomy in one Aho-Corasick automaton.

    Args:
        taxonomy: the categories whose ``seeds``/``weak_seeds``/``not_qualifying`` are matched, and whose
            ``outside_terms`` are reported with ``category == OUTSIDE``.
        context: drop seeds lying in an incidental context
            (:func:`yanreform.tagging.context.incidental_spans`).
    """

    def __init__(self, taxonomy: Taxonomy, *, context: bool = True) -> None:
        self.taxonomy = taxonomy
        self.context = bool(context)
        self.n_categories = len(taxonomy)
        entries: dict[str, list[tuple[int, int, str]]] = {}
        for ci, cat in enumerate(taxonomy):
            for kind, terms in ((STRONG, cat.seeds), (WEAK, cat.weak_seeds)):
                for term in terms:
                    key = _key(term)
                    if not key:
                        continue
                    payload = entries.setdefault(key, [])
                    # A term listed as both strong and weak for one category counts as strong only.
                    if any(c == ci and k == STRONG for c, k, _ in payload):
                        continue
                    payload[:] = [p for p in payload if not (p[0] == ci and kind == STRONG)]
                    payload.append((ci, kind, term))
        for term in taxonomy.outside_terms:
            key = _key(term)
            if key:
                entries.setdefault(key, []).append((OUTSIDE, STRONG, term))
        for ci, cat in enumerate(taxonomy):
            for term in cat.not_qualifying:
                key = _key(term)
                if key:
                    entries.setdefault(key, []).append((ci, _MASK, term))
        self._automaton: Any = ahocorasick.Automaton()
        for key, payload in entries.items():
            self._automaton.add_word(key, (len(key), tuple(payload)))
        self._automaton.make_automaton()
        self.n_terms = len(entries)

    def find(self, norm_text: str) -> list[Match]:
        """All maximal seed matches in an already normalised text, sorted by (start, category).

        Args:
            norm_text: text as produced by ``normalize_text`` (ASCII case is folded here).
        """
        raw: list[Match] = []
        masks: list[tuple[int, int, int]] = []
        if not self.n_terms:
            return raw
        for end_idx, (length, payload) in self._automaton.iter(fold_ascii(norm_text)):
            start = end_idx + 1 - length
            for ci, kind, term in payload:
                if kind == _MASK:
                    masks.append((ci, start, end_idx + 1))
                else:
                    raw.append(Match(start, end_idx + 1, ci, kind, term))
        if self.context and raw:
            for s, e, _kind in incidental_spans(norm_text):
                for ci in range(self.n_categories):
                    masks.append((ci, s, e))
        if masks and raw:
            raw = _unmasked(raw, masks)
        if len(raw) < 2:
            return raw
        # Per category, drop matches nested inside a longer one (sweep by start, longest first).
        raw.sort(key=lambda m: (m.category, m.start, -m.end, m.kind))
        kept: list[Match] = []
        last_cat, last_end = -1, -1
        for m in raw:
            if m.category == last_cat and m.end <= last_end:
                continue
            kept.append(m)
            if m.category != last_cat or m.end > last_end:
                last_cat, last_end = m.category, m.end
        kept.sort(key=lambda m: (m.start, m.category))
        return kept

    def counts(self, norm_texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per-category match counts for a batch of normalised texts.

        Returns:
            ``(strong, weak)``: two float32 arrays of shape (n_texts, n_categories) with the number of maximal
            seed / weak-seed matches per category (outside cues are not counted here).
        """
        n, k = len(norm_texts), self.n_categories
        out = np.zeros((2, n, k), dtype=np.float32)
        for i, t in enumerate(norm_texts):
            for m in self.find(t):
                if m.category >= 0:
                    out[m.kind, i, m.category] += 1.0
        return out[STRONG], out[WEAK]
