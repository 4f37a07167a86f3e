"""Vectorised MinHash / LSH over Chinese texts (numpy only): key texts, shingles, signatures, candidates.

The candidate side of :mod:`yanreform.library.dupes`. Everything works on many texts at once: key texts are
made for a chunk of texts in one pass over their concatenated code points, shingles hashed with a rolling
polynomial plus the splitmix64 finaliser, one-permutation MinHash signatures filled with ``np.minimum.at``
and densified by rotation, LSH bands sorted to find agreeing texts. Memory is bounded by a chunk
(:data:`CHUNK` texts) plus the signatures (``n x BINS`` uint64). ``tests/test_dupes.py`` holds the
signatures equal to a per-text reference written with Python integers.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:
    from ..text.normalize import Normalized

__all__ = [
    "BINS",
    "CHUNK",
    "DF_SAMPLE",
    "MIN_CHARS",
    "ROWS",
    "SHINGLE",
    "batch_keys",
    "boilerplate",
    "boilerplate_limit",
    "candidate_pairs",
    "estimate_jaccard",
    "informative",
    "informative_chars",
    "key_text",
    "shingle_counts",
    "shingles",
    "signatures",
    "text_signatures",
]

log = logging.getLogger("yanreform")

#: shingle length (key characters)
SHINGLE = 5
#: MinHash bins (a power of two) and LSH rows per band
BINS = 128
ROWS = 2
#: texts shorter than this many key characters are not compared
MIN_CHARS = 30
#: LSH buckets larger than this (texts agreeing on one band) are skipped with a warning
MAX_BUCKET = 2000
#: texts per chunk of the signature pass (memory is bounded by a chunk)
CHUNK = 5000
#: boilerplate shingles are counted over at most this many texts (a seeded sample of larger sets)
DF_SAMPLE = 10000

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_BASE = np.uint64(0x100000001B3)
_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)


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


def shingle_counts(h: np.ndarray, doc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(sorted unique hashes, number of distinct texts holding each)``: a phrase repeated inside one text
    counts once."""
    if not len(h):
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    _, first = np.unique(_mix(h ^ (doc.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))), return_index=True)
    values, counts = np.unique(h[first], return_counts=True)
    return values, counts.astype(np.int64)


def _merge_counts(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Sum the counts of several :func:`shingle_counts` tables (texts of different chunks are distinct)."""
    values = np.concatenate([v for v, _ in parts])
    counts = np.concatenate([c for _, c in parts])
    order = np.argsort(values, kind="stable")
    values, counts = values[order], counts[order]
    starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
    return values[starts], np.add.reduceat(counts, starts) if len(counts) else counts


def boilerplate(h: np.ndarray, doc: np.ndarray, limit: float) -> np.ndarray:
    """Sorted unique hashes of the shingles found in more than ``limit`` distinct texts."""
    values, counts = shingle_counts(h, doc)
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
    parts = []
    for s in range(0, len(sample), chunk):
        keys, lens = batch_keys([texts[int(i)] for i in sample[s : s + chunk]])
        h, doc, _ = shingles(keys, lens)
        parts.append(shingle_counts(h, doc))
    values, counts = _merge_counts(parts)
    common = values[counts > boilerplate_limit(n) * len(sample) / n]
    del parts, values, counts
    sig = np.empty((n, BINS), np.uint64)
    all_lens = np.empty(n, np.int64)
    for s in range(0, n, chunk):
        keys, lens = batch_keys(texts[s : s + chunk])
        h, doc, _ = shingles(keys, lens)
        info = informative(h, doc, len(lens), common)
        sig[s : s + len(lens)] = signatures(h[info], doc[info], len(lens))
        all_lens[s : s + len(lens)] = lens
    return sig, all_lens, common


def informative_chars(key: np.ndarray, common: np.ndarray) -> np.ndarray:
    """Mask over one key text: characters covered by an informative shingle (see :func:`informative`)."""
    h, doc, pos = shingles(key, np.array([len(key)]))
    info = informative(h, doc, 1, common)
    marked = np.zeros(len(key), bool)
    for j in range(SHINGLE):
        marked[pos[info] + j] = True
    return marked
