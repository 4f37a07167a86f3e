"""Re-submissions and near-duplicates: MinHash/LSH candidates, confirmed by character alignment.

The method, per level (whole cases, then initiatives):

1. *Key text.* Each text is normalised (:func:`yanreform.normalize`: script, width, punctuation) and reduced
   to its CJK characters, letters and digits, every digit run collapsed to one ``0`` (a re-submission updates
   its numbers). Texts with fewer than :data:`MIN_CHARS` key characters take no part.
2. *Boilerplate.* Character 5-gram shingles are hashed (vectorised over thousands of texts at a time). A
   shingle found in more than ``max(8, 0.5 %)`` of the texts (counted over a seeded sample of 20,000 in larger
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

The functions below work on plain arrays and strings; :func:`library_near_duplicates` feeds them from a
library. ``tests/test_dupes.py`` holds the vectorised signature equal to a per-text reference.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError, check_fraction
from .records import NearDuplicate, SharedSpan

if TYPE_CHECKING:
    from ..text.normalize import Normalized
    from .core import Library
    from .records import LibraryCase

__all__ = [
    "DEFAULT_THRESHOLD",
    "Unit",
    "align",
    "candidate_pairs",
    "find_near_duplicates",
    "key_text",
    "library_near_duplicates",
    "near_duplicates_of",
    "pair_kind",
    "signatures",
]

log = logging.getLogger("yanreform")

#: default minimum score of a reported pair
DEFAULT_THRESHOLD = 0.5
#: shingle length (key characters)
SHINGLE = 5
#: MinHash bins (a power of two) and LSH rows per band
BINS = 128
ROWS = 2
#: texts shorter than this many key characters are not compared
MIN_CHARS = 30
#: candidates under this estimated Jaccard resemblance are dropped before alignment
MIN_JACCARD = 0.04
#: alignment: seed length, largest gap inside a chained block, shortest block kept (key characters)
SEED = 6
GAP = 6
MIN_BLOCK = 16
#: embedding cosine under which the score is scaled down (``score *= cosine / SEMANTIC_FLOOR``)
SEMANTIC_FLOOR = 0.8
#: LSH buckets larger than this (texts agreeing on one band) are skipped with a warning
MAX_BUCKET = 2000
#: texts per chunk of the signature pass (memory is bounded by a chunk)
CHUNK = 5000
#: boilerplate shingles are counted over at most this many texts (a seeded sample of larger sets)
DF_SAMPLE = 20000

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_BASE = np.uint64(0x100000001B3)
_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)


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


@dataclass
class _Keyed:
    """A key text (uint32 code points) and, per key character, the span of the original it came from."""

    key: np.ndarray
    start: np.ndarray
    end: np.ndarray
    norm: Normalized | None = field(default=None, repr=False)


def _keep_mask(cps: np.ndarray) -> np.ndarray:
    """Code points that make a key: CJK (BMP, extension A, supplementary planes), ASCII letters, digits."""
    low = cps | 0x20
    return (
        ((cps >= 0x4E00) & (cps <= 0x9FFF))
        | ((cps >= 0x3400) & (cps <= 0x4DBF))
        | ((cps >= 0x20000) & (cps <= 0x3FFFF))
        | ((cps >= 0x30) & (cps <= 0x39))
        | ((low >= 0x61) & (low <= 0x7A))
    )


def _collapse(c: np.ndarray, doc: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Letters case-folded, digit runs (within one text) collapsed to one ``0``; returns (key, heads): the
    kept positions of ``c``."""
    c = np.where((c >= 0x41) & (c <= 0x5A), c | 0x20, c)
    digit = (c >= 0x30) & (c <= 0x39)
    first = np.ones(len(c), bool)
    if len(c) > 1:
        cont = digit[1:] & digit[:-1]
        if doc is not None:
            cont &= doc[1:] == doc[:-1]
        first[1:] = ~cont
    heads = np.flatnonzero(first)
    return np.where(digit[heads], 0x30, c[heads]).astype(np.uint32), heads


def key_text(text: str) -> _Keyed:
    """The key text of ``text``: normalised, only CJK / letters / digits, digit runs collapsed to ``0``;
    ``start``/``end`` (int64, one per key character) are its offsets in ``text``."""
    from ..text.normalize import normalize

    nt = normalize(text)
    cps = np.frombuffer(nt.text.encode("utf-32-le"), dtype="<u4").astype(np.uint32)
    idx = np.flatnonzero(_keep_mask(cps))
    key, heads = _collapse(cps[idx], None)
    lasts = np.append(heads[1:] - 1, len(idx) - 1) if len(heads) else heads
    ns, ne = idx[heads], idx[lasts] + 1
    if nt.starts is None or nt.ends is None:
        start, end = ns.astype(np.int64), ne.astype(np.int64)
    else:
        start, end = nt.starts[ns], nt.ends[ne - 1]
    return _Keyed(key, start, end, nt)


def batch_keys(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Key texts of many texts at once (no offset maps): ``(keys (m,) uint32 concatenated, lens (n,) int64)``;
    text ``i``'s key is ``keys[offs[i]:offs[i] + lens[i]]`` and equals ``key_text(texts[i]).key``."""
    from ..text.normalize import normalize_text

    norm = [normalize_text(t) for t in texts]
    nl = np.fromiter(map(len, norm), np.int64, len(norm))
    cps = np.frombuffer("".join(norm).encode("utf-32-le"), dtype="<u4")
    doc = np.repeat(np.arange(len(norm), dtype=np.int32), nl)
    keep = _keep_mask(cps)
    key, heads = _collapse(cps[keep].astype(np.uint32), doc[keep])
    lens = np.bincount(doc[keep][heads], minlength=len(norm)).astype(np.int64)
    return key, lens


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (uint64 in, uint64 out): spreads the rolling hash over all 64 bits."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(30))
        h = h * np.uint64(0xBF58476D1CE4E5B9)
        h = h ^ (h >> np.uint64(27))
        h = h * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def shingles(
    keys: np.ndarray, lens: np.ndarray, k: int = SHINGLE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hashed k-gram shingles of concatenated key texts (``keys``, ``lens`` as from :func:`batch_keys`).

    Returns ``(hashes (m,) uint64, doc (m,) int32, pos (m,) int32)``: every shingle of every text, in order,
    with the text it belongs to and its start in that text's key.
    """
    n = len(keys) - k + 1
    if n <= 0:
        z = np.zeros(0, np.int32)
        return np.zeros(0, np.uint64), z, z
    cat = keys.astype(np.uint64)
    h = cat[:n].copy()
    with np.errstate(over="ignore"):
        for j in range(1, k):
            h *= _BASE
            h += cat[j : j + n]
    offs = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    doc = np.repeat(np.arange(len(lens), dtype=np.int32), lens)[:n]
    pos = (np.arange(n, dtype=np.int64) - offs[doc]).astype(np.int32)
    valid = pos <= (lens[doc] - k)
    return _mix(h[valid]), doc[valid], pos[valid]


def boilerplate_limit(n_texts: int) -> int:
    """Document frequency above which a shingle is boilerplate: ``max(8, 0.5 % of the texts)``."""
    return max(8, math.ceil(0.005 * n_texts))


def boilerplate(h: np.ndarray, doc: np.ndarray, limit: float) -> np.ndarray:
    """Sorted unique hashes of the shingles found in more than ``limit`` distinct texts."""
    if not len(h):
        return np.zeros(0, np.uint64)
    # one entry per (text, shingle): a phrase repeated inside one text counts once
    _, first = np.unique(_mix(h ^ (doc.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))), return_index=True)
    values, counts = np.unique(h[first], return_counts=True)
    return values[counts > limit]


def informative(h: np.ndarray, doc: np.ndarray, n_texts: int, common: np.ndarray) -> np.ndarray:
    """Mask (m,) of the shingles that count: not in ``common`` (sorted boilerplate hashes), except in texts
    where fewer than a third of the shingles (or under 20) would remain: those keep all theirs."""
    if len(common):
        at = np.searchsorted(common, h).clip(0, len(common) - 1)
        ok = common[at] != h
    else:
        ok = np.ones(len(h), bool)
    total = np.bincount(doc, minlength=n_texts)
    kept = np.bincount(doc, weights=ok, minlength=n_texts)
    thin = (kept < 20) | (kept * 3 < total)
    return ok | thin[doc]


def signatures(h: np.ndarray, doc: np.ndarray, n_texts: int, *, bins: int = BINS) -> np.ndarray:
    """One-permutation MinHash signatures ``(n_texts, bins)`` uint64 of the shingles ``h`` of texts ``doc``.

    Bin = the top bits of a shingle's hash, value = the rest; empty bins are filled from the next non-empty
    bin to the right (circularly), offset by the distance (rotation densification), so two texts agree in a
    bin with probability equal to the Jaccard resemblance of their shingle sets. A text without shingles
    gets a row of ``2**64 - 1`` (never a candidate).
    """
    if bins & (bins - 1):
        raise InputError(f"bins must be a power of two, got {bins}")
    shift = np.uint64(64 - int(math.log2(bins)))
    flat = np.full(n_texts * bins, _EMPTY, np.uint64)
    if len(h):
        b = (h >> shift).astype(np.int64)
        v = h & (_MASK64 >> np.uint64(int(math.log2(bins))))
        np.minimum.at(flat, doc * bins + b, v)
    sig = flat.reshape(n_texts, bins)
    empty = sig == _EMPTY
    if empty.any():
        has = ~empty.all(axis=1)
        # index of the next non-empty bin at or after each bin, circularly (on a doubled row)
        idx = np.where(np.concatenate([~empty, ~empty], axis=1), np.arange(2 * bins), 4 * bins)
        nxt = np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1][:, :bins]
        dist = (nxt - np.arange(bins)).astype(np.uint64)
        src = np.take_along_axis(sig, nxt % bins, axis=1)
        with np.errstate(over="ignore"):
            filled = src + dist * np.uint64(0x9E3779B97F4A7C15)
        sig = np.where(empty & has[:, None], filled, sig)
    return sig


def candidate_pairs(sig: np.ndarray, *, rows: int = ROWS, valid: np.ndarray | None = None) -> np.ndarray:
    """Pairs ``(p, 2)`` int64 (i < j, unique) of signature rows that agree in at least one band of ``rows``
    consecutive bins. ``valid`` (n,) bool leaves rows out (short texts). Buckets of more than
    :data:`MAX_BUCKET` rows are skipped with a warning."""
    n, bins = sig.shape
    keep = np.arange(n) if valid is None else np.flatnonzero(valid)
    if len(keep) < 2:
        return np.zeros((0, 2), np.int64)
    s = sig[keep]
    out: list[np.ndarray] = []
    skipped = 0
    for b0 in range(0, bins - rows + 1, rows):
        band = s[:, b0]
        with np.errstate(over="ignore"):
            for r in range(1, rows):
                band = _mix(band * _BASE + s[:, b0 + r])
        order = np.argsort(band, kind="stable")
        bs = band[order]
        brk = np.flatnonzero(bs[1:] != bs[:-1]) + 1
        starts = np.concatenate([[0], brk])
        sizes = np.diff(np.concatenate([starts, [len(bs)]]))
        two = starts[sizes == 2]
        if len(two):
            out.append(np.stack([order[two], order[two + 1]], axis=1))
        for st, sz in zip(starts[sizes > 2].tolist(), sizes[sizes > 2].tolist(), strict=True):
            if sz > MAX_BUCKET:
                skipped += 1
                continue
            members = order[st : st + sz]
            iu, ju = np.triu_indices(sz, 1)
            out.append(np.stack([members[iu], members[ju]], axis=1))
    if skipped:
        log.warning("near-duplicates: %d LSH buckets of more than %d texts skipped", skipped, MAX_BUCKET)
    if not out:
        return np.zeros((0, 2), np.int64)
    pairs = keep[np.concatenate(out)]
    pairs.sort(axis=1)
    code = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack([code // n, code % n], axis=1)


def estimate_jaccard(sig: np.ndarray, pairs: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Share of agreeing bins (the MinHash estimate of Jaccard resemblance) of each pair, (p,) float64."""
    out = np.empty(len(pairs), np.float64)
    for s in range(0, len(pairs), chunk):
        p = pairs[s : s + chunk]
        out[s : s + chunk] = (sig[p[:, 0]] == sig[p[:, 1]]).mean(axis=1)
    return out


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


def text_signatures(texts: Sequence[str], *, chunk: int = CHUNK) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MinHash signatures of many texts, ``chunk`` texts at a time (memory bounded by the chunk).

    Boilerplate shingles are counted first over the texts (a seeded sample of :data:`DF_SAMPLE` when there
    are more). Returns ``(signatures (n, BINS) uint64, key lengths (n,) int64, boilerplate hashes (sorted))``.
    """
    n = len(texts)
    if n <= chunk:  # one pass: the counts and the signatures from the same shingles
        keys, lens = batch_keys(texts)
        h, doc, _ = shingles(keys, lens)
        common = boilerplate(h, doc, boilerplate_limit(n))
        info = informative(h, doc, n, common)
        return signatures(h[info], doc[info], n), lens, common
    sample = np.arange(n) if n <= DF_SAMPLE else np.sort(np.random.default_rng(0).choice(n, DF_SAMPLE, False))
    hs, ds = [], []
    for s in range(0, len(sample), chunk):
        keys, lens = batch_keys([texts[int(i)] for i in sample[s : s + chunk]])
        h, doc, _ = shingles(keys, lens)
        hs.append(h)
        ds.append(doc + s)
    common = boilerplate(np.concatenate(hs), np.concatenate(ds), boilerplate_limit(n) * len(sample) / n)
    del hs, ds
    sig = np.empty((n, BINS), np.uint64)
    all_lens = np.empty(n, np.int64)
    for s in range(0, n, chunk):
        keys, lens = batch_keys(texts[s : s + chunk])
        h, doc, _ = shingles(keys, lens)
        info = informative(h, doc, len(lens), common)
        sig[s : s + len(lens)] = signatures(h[info], doc[info], len(lens))
        all_lens[s : s + len(lens)] = lens
    return sig, all_lens, common


def _informative_chars(key: np.ndarray, common: np.ndarray) -> np.ndarray:
    """Mask over one key text: characters covered by an informative shingle (see :func:`informative`)."""
    h, doc, pos = shingles(key, np.array([len(key)]))
    info = informative(h, doc, 1, common)
    marked = np.zeros(len(key), bool)
    for j in range(SHINGLE):
        marked[pos[info] + j] = True
    return marked


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
            keyed[i] = (kt, _informative_chars(kt.key, common))
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
