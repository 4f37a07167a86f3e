"""Multi-pattern seed matching for the tagger (Aho-Corasick over normalised text).

Seeds (and weak seeds) of every category go into one automaton, so one C-level scan of a passage finds every
occurrence of every term. Matching runs on the *normalised* text (NFKC width folding, traditional ->
simplified, ASCII letters lower-cased), so a seed in traditional or full-width input matches like its
simplified form; evidence spans are mapped back to the original string with
:meth:`yanreform.text.Normalized.span`.

Within one category a match contained in a longer match of the same category is dropped (``智慧`` inside
``智慧法院`` counts once), so nested seeds do not inflate the counts. A seed inside a *non-qualifying phrase*
of its category (:data:`NOT_QUALIFYING`: ``智慧`` in ``凝聚智慧``, ``监督`` in ``第三方监督评估``, ``联建`` in
``党建联建``) is dropped too: those are the senses corpus/LABELLING.md rules out.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any, NamedTuple

import ahocorasick
import numpy as np

from .taxonomy import Taxonomy

__all__ = ["NOT_QUALIFYING", "OUTSIDE", "OUTSIDE_TERMS", "Lexicon", "Match", "fold_ascii"]

STRONG, WEAK = 0, 1
_MASK = 2  # payload kind of a non-qualifying phrase (never returned as a match)
#: ``Match.category`` of an outside-work cue (not a taxonomy category).
OUTSIDE = -1

#: Cues of work outside any reform category (training and drills, contests, awards, Party building and
#: meetings, funding and equipment, structure and staffing, team discipline). A passage built around them
#: usually gets no tag even when it mentions a category word ("调解技能比武", "信息化经费"); the tagger learns
#: how much they weigh against the seeds.
# fmt: off
OUTSIDE_TERMS: tuple[str, ...] = (
    "练兵", "大练兵", "比武", "竞赛", "技能大赛", "演练", "实战化训练", "轮训", "培训班", "业务培训",
    "荣获", "称号", "表彰", "先进集体", "先进个人", "荣立", "一等功", "二等功", "三等功", "集体功",
    "评选", "获评", "被评为", "党建", "党组会议", "党组", "主题教育", "理论学习", "中心组", "党课",
    "党支部", "经费", "预算", "专项资金", "资金保障", "拨付", "装备", "购置", "采购", "编制",
    "招录", "员额", "内设机构", "机构改革", "人员调配", "队伍建设", "从严治警", "作风建设", "纪律教育",
    "教育整顿", "导师制", "述职", "工作总结", "部署会", "推进会", "会议精神",
)

#: Non-qualifying senses, per category code: a seed or weak seed of that category lying inside one of these
#: phrases is not evidence for it (corpus/LABELLING.md, sections 2-3: metaphorical 智慧/生态, slogans of
#: cooperation, Party-building links and joint drills, third-party evaluation of a company's compliance,
#: contests with a mediation event). Codes missing from a user's taxonomy are ignored.
NOT_QUALIFYING: dict[str, tuple[str, ...]] = {
    "digitalisation": (
        "凝聚智慧", "汇聚智慧", "集聚智慧", "群众智慧", "干警智慧", "各方智慧", "智慧和力量", "智慧与力量",
        "智慧与担当", "智慧和担当", "贡献智慧", "中国智慧", "法治智慧", "练兵平台", "比武平台", "党建平台",
        "交流平台", "培训平台",
    ),
    "coordination": (
        "党建联建", "党建联盟", "联学联建", "结对共建", "支部共建", "联合演练", "协同作战能力", "沟通协调",
        "密切配合", "形成合力", "加强协作", "强化协作", "加强部门协作", "强化部门协作", "协调发展",
    ),
    "supervision": ("第三方监督评估", "第三方监督", "接受监督", "警容风纪", "绩效考核", "年度考核"),
    "dispute_resolution": ("调解技能", "模拟调解", "调解员技能"),
    "ecological_protection": ("法治生态", "政治生态", "营商生态", "生态检察模式", "绿色低碳", "绿色智造"),
}
# fmt: on

# Lower-casing only ASCII keeps the string length (str.lower() can change it, e.g. "İ"): offsets stay valid.
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def fold_ascii(text: str) -> str:
    """Lower-case ASCII letters only (length-preserving)."""
    return text.translate(_ASCII_LOWER)


def _normalize_text(text: str) -> str:
    from ..text.normalize import normalize_text

    return fold_ascii(normalize_text(text))


class Match(NamedTuple):
    """One seed occurrence. ``start``/``end``: offsets into the text that was scanned (half-open)."""

    start: int
    end: int
    category: int  # index into the taxonomy's categories
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
    """All seeds of a taxonomy in one Aho-Corasick automaton.

    Args:
        taxonomy: the categories whose ``seeds``/``weak_seeds`` are matched.
        outside_terms: cues of out-of-taxonomy work, reported with ``category == OUTSIDE``.
    """

    def __init__(
        self,
        taxonomy: Taxonomy,
        outside_terms: Sequence[str] = OUTSIDE_TERMS,
        not_qualifying: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.taxonomy = taxonomy
        self.n_categories = len(taxonomy)
        entries: dict[str, list[tuple[int, int, str]]] = {}
        for ci, cat in enumerate(taxonomy):
            for kind, terms in ((STRONG, cat.seeds), (WEAK, cat.weak_seeds)):
                for term in terms:
                    key = _normalize_text(term).strip()
                    if not key:
                        continue
                    payload = entries.setdefault(key, [])
                    # A term listed as both strong and weak for one category counts as strong only.
                    if any(c == ci and k == STRONG for c, k, _ in payload):
                        continue
                    payload[:] = [p for p in payload if not (p[0] == ci and kind == STRONG)]
                    payload.append((ci, kind, term))
        for term in outside_terms:
            key = _normalize_text(term).strip()
            if key:
                entries.setdefault(key, []).append((OUTSIDE, STRONG, term))
        masks = NOT_QUALIFYING if not_qualifying is None else not_qualifying
        codes = {c.code: ci for ci, c in enumerate(taxonomy)}
        for code, phrases in masks.items():
            if code not in codes:
                continue
            for term in phrases:
                key = _normalize_text(term).strip()
                if key:
                    entries.setdefault(key, []).append((codes[code], _MASK, term))
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
        for end_idx, (length, payload) in self._automaton.iter(fold_ascii(norm_text)):
            start = end_idx + 1 - length
            for ci, kind, term in payload:
                if kind == _MASK:
                    masks.append((ci, start, end_idx + 1))
                else:
                    raw.append(Match(start, end_idx + 1, ci, kind, term))
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
