"""Re-submissions and near-duplicates: MinHash/LSH candidates, confirmed by character alignment.

The method, per level (whole cases, then initiatives):

1. *Key text.* Each text is normalised (:func:`yanreform.normalize`: script, width, punctuation) and reduced
   to its CJK characters, letters and digits, every digit run collapsed to one ``0`` (a re-submission updates
   its numbers). Texts with fewer than :data:`MIN_CHARS` key characters take no part.
2. *Boilerplate.* Character 5-gram shingles are hashed (vectorised over thousands of texts at a time). A
   shingle found in more than ``max(8, 0.5 %)`` of the texts (counted over a seeded sample of 10,000 in larger
   sets) is boilerplate (近年来，面对…新形势新任务): it proposes no candidate and counts for nothing in the
   coverage below (a text made almost only of such shingles keeps them all, so a template re-used by many
   agencies is still found).
3. *Candidates.* One-permutation MinHash (128 bins, empty bins densified by rotation: Shrivastava & Li 2014)
   gives each text a signature whose bins agree with probability equal to the Jaccard resemblance of the
   shingle sets; LSH with 64 bands of 2 bins proposes every pair that agrees in a whole band (a pair of
   resemblance 0.25 is proposed with probability 0.98, 0.15 with 0.77, an unrelated pair of 0.005 with
   0.0016). Pairs whose estimated resemblance is under :data:`MIN_JACCARD` are dropped.
4. *Confirmation.* The two key texts are aligned: exact common runs of at least :data:`SEED` characters,
   found left to right, chained when they follow each other in both texts with gaps of at most
   :data:`GAP` characters (a reworded phrase), kept when a chain spans at least :data:`MIN_BLOCK` characters.
   ``coverage`` is the share of each text's informative (non-boilerplate) characters inside those blocks,
   averaged over the two sides. Two places that describe the same practice share names and phrases
   (林长+检察长, 侦查监督与协作配合办公室) but not long chained passages, so their coverage stays low.
5. *Score.* ``score = coverage``, lowered when the stored embeddings disagree: with both embeddings present
   and a cosine under :data:`SEMANTIC_FLOOR`, the score is multiplied by ``cosine / SEMANTIC_FLOOR``.
   Pairs at or above the threshold (default :data:`DEFAULT_THRESHOLD`) are reported, with the aligned
   blocks mapped back to the original texts (:class:`~yanreform.library.records.SharedSpan`).

Kinds: ``resubmission`` (same agency or same place, another year), ``duplicate`` (same agency or place, same
year), ``reuse`` (different agencies and places). An initiative pair is reported only when its two cases are
not already a case pair (and never within one case).

The candidate side (steps 1-3) is :mod:`yanreform.library.minhash` (numpy only); alignment, scores and kinds
are here; :func:`library_near_duplicates` feeds them from a library.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError, check_fraction
from .minhash import (
    MIN_CHARS,
    _Keyed,
    candidate_pairs,
    estimate_jaccard,
    informative_chars,
    key_text,
    text_signatures,
)
from .records import NearDuplicate, SharedSpan

if TYPE_CHECKING:
    from .core import Library
    from .records import LibraryCase

__all__ = [
    "DEFAULT_THRESHOLD",
    "Unit",
    "align",
    "find_near_duplicates",
    "library_near_duplicates",
    "near_duplicates_of",
    "pair_kind",
]

log = logging.getLogger("yanreform")

#: default minimum score of a reported pair
DEFAULT_THRESHOLD = 0.5
#: candidates under this estimated Jaccard resemblance are dropped before alignment
MIN_JACCARD = 0.04
#: alignment: seed length, largest gap inside a chained block, shortest block kept (key characters)
SEED = 6
GAP = 6
MIN_BLOCK = 16
#: embedding cosine under which the score is scaled down (``score *= cosine / SEMANTIC_FLOOR``)
SEMANTIC_FLOOR = 0.8


@dataclass
class Unit:
    """One text to compare: ``id``, ``text`` (original), ``agency``, ``place``, ``year``, ``case_id`` (for
    initiatives: pairs inside one case are skipped), ``vector`` (an L2-normalised embedding, or None)."""

    id: str
    text: str
    agency: str = ""
    place: str = ""
    year: int = 0
    case_id: str = ""
    vector: np.ndarray | None = None


def align(
    a: np.ndarray, b: np.ndarray, *, seed: int = SEED, gap: int = GAP, min_block: int = MIN_BLOCK
) -> list[tuple[int, int, int, int]]:
    """Aligned blocks ``(a_start, a_end, b_start, b_end)`` (key offsets) of two key texts, in the order of a.

    Exact common runs of at least ``seed`` characters are found left to right in ``a`` (the longest run at
    each point); runs that follow each other in both texts with gaps of at most ``gap`` are chained into one
    block; blocks shorter than ``min_block`` (on the shorter side) are dropped.
    """
    if len(a) < seed or len(b) < seed:
        return []
    sa, sb = a.tobytes(), b.tobytes()
    grams: dict[bytes, list[int]] = {}
    w = 4 * seed
    for j in range(len(b) - seed + 1):
        grams.setdefault(sb[4 * j : 4 * j + w], []).append(j)
    runs: list[tuple[int, int, int]] = []  # (a_start, b_start, length)
    i = 0
    na, nb = len(a), len(b)
    while i <= na - seed:
        hits = grams.get(sa[4 * i : 4 * i + w])
        if not hits:
            i += 1
            continue
        best_len, best_j = 0, -1
        for j in hits[:16]:
            n = seed
            while i + n < na and j + n < nb and a[i + n] == b[j + n]:
                n += 1
            if n > best_len:
                best_len, best_j = n, j
        runs.append((i, best_j, best_len))
        i += best_len
    blocks: list[list[int]] = []
    for ai, bj, n in runs:
        if blocks:
            a1, b1 = blocks[-1][1], blocks[-1][3]
            if 0 <= ai - a1 <= gap and 0 <= bj - b1 <= gap:
                blocks[-1][1], blocks[-1][3] = ai + n, bj + n
                continue
        blocks.append([ai, ai + n, bj, bj + n])
    return [(a0, a1, b0, b1) for a0, a1, b0, b1 in blocks if min(a1 - a0, b1 - b0) >= min_block]


def _coverage(blocks: list[tuple[int, int, int, int]], info_a: np.ndarray, info_b: np.ndarray) -> float:
    """Mean over both sides of the share of informative key characters inside the blocks."""
    ma = np.zeros(len(info_a), bool)
    mb = np.zeros(len(info_b), bool)
    for a0, a1, b0, b1 in blocks:
        ma[a0:a1] = True
        mb[b0:b1] = True
    ca = (ma & info_a).sum() / max(1, info_a.sum())
    cb = (mb & info_b).sum() / max(1, info_b.sum())
    return float((ca + cb) / 2)


def pair_kind(a: Unit, b: Unit) -> str:
    """``resubmission`` (same agency or place, another year), ``duplicate`` (same agency or place, same year)
    or ``reuse`` (different agencies and places)."""
    from ..text.normalize import normalize_text

    same_agency = bool(a.agency) and normalize_text(a.agency) == normalize_text(b.agency)
    same_place = bool(a.place) and a.place == b.place
    if same_agency or same_place:
        return "resubmission" if a.year != b.year else "duplicate"
    return "reuse"


def find_near_duplicates(
    units: Sequence[Unit],
    *,
    threshold: float | None = None,
    level: str = "case",
    exclude: set[tuple[str, str]] | None = None,
) -> list[NearDuplicate]:
    """Near-duplicate pairs among ``units`` (see the module docstring), best first.

    ``level`` is recorded in the results (``"case"`` or ``"initiative"``; for initiatives, ``Unit.case_id``
    names the case); ``exclude``: pairs of case ids (sorted) not to report at this level.
    """
    thr = DEFAULT_THRESHOLD if threshold is None else check_fraction(threshold, "threshold")
    n = len(units)
    if n < 2:
        return []
    sig, lens, common = text_signatures([u.text for u in units])
    pairs = candidate_pairs(sig, valid=lens >= MIN_CHARS)
    if len(pairs):
        jac = estimate_jaccard(sig, pairs)
        pairs, jac = pairs[jac >= MIN_JACCARD], jac[jac >= MIN_JACCARD]
    else:
        jac = np.zeros(0)
    log.debug("near-duplicates (%s): %d texts, %d candidate pairs", level, n, len(pairs))
    keyed: dict[int, tuple[_Keyed, np.ndarray]] = {}

    def key_of(i: int) -> tuple[_Keyed, np.ndarray]:
        if i not in keyed:
            kt = key_text(units[i].text)
            keyed[i] = (kt, informative_chars(kt.key, common))
        return keyed[i]

    out: list[NearDuplicate] = []
    for (i, j), jc in zip(pairs.tolist(), jac.tolist(), strict=True):
        ua, ub = units[i], units[j]
        if ua.case_id and ua.case_id == ub.case_id:
            continue
        if exclude and tuple(sorted((ua.case_id or ua.id, ub.case_id or ub.id))) in exclude:
            continue
        if (ub.year, ub.id) < (ua.year, ua.id):
            i, j, ua, ub = j, i, ub, ua
        (ka, ma), (kb, mb) = key_of(i), key_of(j)
        blocks = align(ka.key, kb.key)
        if not blocks:
            continue
        cov = _coverage(blocks, ma, mb)
        sem = None
        if ua.vector is not None and ub.vector is not None and ua.vector.shape == ub.vector.shape:
            sem = float(np.clip(ua.vector @ ub.vector, -1.0, 1.0))
        score = cov if sem is None or sem >= SEMANTIC_FLOOR else cov * max(0.0, sem) / SEMANTIC_FLOOR
        if score < thr:
            continue
        spans = []
        for a0, a1, b0, b1 in blocks:
            sa, ea, sb, eb = int(ka.start[a0]), int(ka.end[a1 - 1]), int(kb.start[b0]), int(kb.end[b1 - 1])
            spans.append(SharedSpan(sa, ea, sb, eb, ua.text[sa:ea], ub.text[sb:eb]))
        out.append(
            NearDuplicate(
                a=ua.id,
                b=ub.id,
                score=min(1.0, score),
                kind=pair_kind(ua, ub),
                level=level,
                case_a=ua.case_id or ua.id,
                case_b=ub.case_id or ub.id,
                year_a=ua.year,
                year_b=ub.year,
                coverage=cov,
                semantic=sem,
                jaccard=float(jc),
                spans=spans,
            )
        )
    out.sort(key=lambda d: (-d.score, d.a, d.b))
    return out


def _levels(
    case_units: list[Unit], ini_units: list[Unit], *, threshold: float, level: str
) -> list[NearDuplicate]:
    """Case pairs, then initiative pairs of cases not already paired (``level``: case, initiative, both)."""
    if level not in ("case", "initiative", "both"):
        raise InputError(f"level must be 'case', 'initiative' or 'both', got {level!r}")
    found: list[NearDuplicate] = []
    if level in ("case", "both"):
        found += find_near_duplicates(case_units, threshold=threshold, level="case")
    if level in ("initiative", "both"):
        paired = {(min(d.case_a, d.case_b), max(d.case_a, d.case_b)) for d in found}
        found += find_near_duplicates(ini_units, threshold=threshold, level="initiative", exclude=paired)
    found.sort(key=lambda d: (-d.score, d.level != "case", d.a, d.b))
    return found


def _case_vector(vs: list[np.ndarray]) -> np.ndarray | None:
    """A case's embedding: the normalised mean of its initiatives' (None without any)."""
    if not vs:
        return None
    m = np.mean(vs, axis=0)
    return m / (np.linalg.norm(m) or 1.0)


def near_duplicates_of(
    cases: Sequence[LibraryCase],
    *,
    threshold: float | None = None,
    level: str = "both",
    vectors: dict[str, np.ndarray] | None = None,
) -> list[NearDuplicate]:
    """Near-duplicate pairs among ``cases`` (library cases, or any objects of that shape), best first;
    ``vectors``: initiative id -> embedding (optional; cases get the mean of theirs)."""
    thr = DEFAULT_THRESHOLD if threshold is None else check_fraction(threshold, "threshold")
    vec = vectors or {}
    case_units, ini_units = [], []
    for c in cases:
        vs = [vec[i.id] for i in c.initiatives if i.id in vec]
        case_units.append(Unit(c.id, c.text, c.agency, c.place, c.year, "", _case_vector(vs)))
        ini_units += [
            Unit(i.id, i.text, c.agency, c.place, c.year, c.id, vec.get(i.id)) for i in c.initiatives
        ]
    return _levels(case_units, ini_units, threshold=thr, level=level)


def library_near_duplicates(
    lib: Library, *, year: int | None = None, threshold: float | None = None, level: str = "both"
) -> list[NearDuplicate]:
    """:meth:`Library.near_duplicates`: cases, then initiatives of case pairs not already reported; the
    stored embeddings of the library's most used model confirm the pairs."""
    from .ingest import check_year
    from .store import vectors

    y = None if year is None else check_year(year)
    thr = DEFAULT_THRESHOLD if threshold is None else check_fraction(threshold, "threshold")
    conn = lib._reader()
    cases = conn.execute("SELECT rid, id, text, agency, place, year FROM cases ORDER BY rid").fetchall()
    inis = conn.execute(
        "SELECT i.rid, i.id, i.text, c.agency, c.place, c.year, c.id, i.case_rid FROM initiatives i "
        "JOIN cases c ON c.rid = i.case_rid ORDER BY i.rid"
    ).fetchall()
    model = conn.execute(
        "SELECT model_id, COUNT(*) FROM vectors GROUP BY model_id ORDER BY 2 DESC"
    ).fetchone()
    vec_of: dict[int, np.ndarray] = {}
    if model is not None:
        rids, M = vectors(conn, model[0])
        vec_of = {int(r): M[k] for k, r in enumerate(rids.tolist())}
    by_case: dict[int, list[np.ndarray]] = {}
    for row in inis:
        v = vec_of.get(row[0])
        if v is not None:
            by_case.setdefault(row[7], []).append(v)
    case_units = [
        Unit(cid, text, agency, place, int(yr), "", _case_vector(by_case.get(rid, [])))
        for rid, cid, text, agency, place, yr in cases
    ]
    ini_units = [
        Unit(iid, text, agency, place, int(yr), cid, vec_of.get(rid))
        for rid, iid, text, agency, place, yr, cid, _ in inis
    ]
    found = _levels(case_units, ini_units, threshold=thr, level=level)
    if y is not None:
        found = [d for d in found if y in (d.year_a, d.year_b)]
    return found
