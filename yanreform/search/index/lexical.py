"""The lexical side of the case index: TF-IDF over character n-grams (and, optionally, domain tokens).

Character 1..n-grams of the normalised text (within runs of letters: n-grams never cross punctuation, digits
or whitespace), sublinear tf, IDF over the index's units (whole cases and passages), L2-normalised. With a
token weight, segmenter words of 2+ characters join as ``#word`` features weighted with the domain IDF
(``models/idf.txt`` over jieba's table), the character and token blocks normalised separately and mixed by
the weight; agency and place names become ``!word`` features whose IDF is scaled by the boilerplate weight.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from ...corpus.agency import is_boilerplate
from ...text.keywords import domain_idf, keyword_candidates

if TYPE_CHECKING:
    from ...text.analysis import Analysis
    from ...text.segment import Segmenter

__all__ = ["LexicalStore", "char_grams"]

# Runs of letters (CJK included) between punctuation, digits, whitespace and symbols: n-grams never span them.
_RUN_RE = re.compile(r"[^\W\d_]+")
# Vocabulary keys: character n-grams are letters only (see _RUN_RE), so these prefixes never collide.
_TOK = "#"  # a domain token (Segmenter word of 2+ characters)
_BOIL = "!"  # a boilerplate token (agency or place name): IDF scaled by boilerplate_weight
CHAR, TOKEN, BOILER = 0, 1, 2


def char_grams(normalised: str, n_max: int) -> Counter[str]:
    """Character 1..n_max-grams of an already normalised (and lower-cased) text, within runs of letters."""
    grams: Counter[str] = Counter()
    for run in _RUN_RE.findall(normalised):
        for n in range(1, n_max + 1):
            grams.update(run[i : i + n] for i in range(len(run) - n + 1))
    return grams


def _kind(term: str) -> int:
    return TOKEN if term.startswith(_TOK) else BOILER if term.startswith(_BOIL) else CHAR


def widen(m: sp.csr_matrix, v: int) -> sp.csr_matrix:
    """``m`` with its column count grown to ``v`` (the vocabulary only grows)."""
    if m.shape[1] == v:
        return m
    return sp.csr_matrix((m.data, m.indices, m.indptr), shape=(m.shape[0], v))


class LexicalStore:
    """Growable term-count store with TF-IDF weighting recomputed from the current counts.

    Args:
        n_max: longest character n-gram.
        vocab: the vocabulary of a saved index (term -> column in order).
        segmenter: with one, token features are added (see the module docstring); None: characters only.
        strip_boilerplate: drop the characters of agency and place names from the n-grams.
    """

    def __init__(
        self,
        n_max: int,
        vocab: Sequence[str] = (),
        *,
        segmenter: Segmenter | None = None,
        strip_boilerplate: bool = False,
    ) -> None:
        self.n_max = n_max
        self.vocab: dict[str, int] = {t: i for i, t in enumerate(vocab)}
        self.kinds: list[int] = [_kind(t) for t in vocab]
        self.segmenter = segmenter
        self.strip_boilerplate = strip_boilerplate

    def _features(self, a: Analysis) -> Counter[str]:
        seg = self.segmenter
        if seg is None:
            return char_grams(a.text.lower(), self.n_max)
        tokens = [t.lower() for t in a.words(seg)]
        tags = seg.user_words
        boiler = [is_boilerplate(t, tags) for t in tokens]
        # n-grams never span a dropped token: it becomes a separator
        strip = self.strip_boilerplate
        chars = "".join(" " if (b and strip) else t for t, b in zip(tokens, boiler, strict=True))
        feats = char_grams(chars, self.n_max)
        keep = set(keyword_candidates(tokens))
        for t, b in zip(tokens, boiler, strict=True):
            if t in keep:
                feats[(_BOIL if b else _TOK) + t] += 1
        return feats

    def counts(self, analyses: Sequence[Analysis], *, grow: bool) -> sp.csr_matrix:
        """(len(analyses), V) float32 count matrix; unknown terms are added (grow) or dropped (queries)."""
        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        for a in analyses:
            for g, c in self._features(a).items():
                j = self.vocab.get(g)
                if j is None:
                    if not grow:
                        continue
                    j = self.vocab[g] = len(self.vocab)
                    self.kinds.append(_kind(g))
                indices.append(j)
                data.append(c)
            indptr.append(len(indices))
        m = sp.csr_matrix(
            (np.asarray(data, np.float32), np.asarray(indices, np.int64), np.asarray(indptr, np.int64)),
            shape=(len(analyses), len(self.vocab)),
        )
        m.sort_indices()
        return m

    def idf(
        self, case_counts: sp.csr_matrix, pass_counts: sp.csr_matrix, boilerplate_weight: float
    ) -> np.ndarray:
        """IDF (V,) float32 over all units (whole cases and passages: finer-grained than a few cases alone);
        token features take the domain IDF; boilerplate features are scaled by ``boilerplate_weight``."""
        v = len(self.vocab)
        units = case_counts.shape[0] + pass_counts.shape[0]
        df = np.bincount(case_counts.indices, minlength=v) + np.bincount(pass_counts.indices, minlength=v)
        idf = (np.log((1.0 + units) / (1.0 + df)) + 1.0).astype(np.float32)
        kinds = np.asarray(self.kinds, np.int8)
        tok = np.flatnonzero(kinds != CHAR)
        if tok.size:
            # tokens take the domain IDF (models/idf.txt over jieba's table: mechanisms and programmes
            # >= 11.5, genre words <= 4): measured better than the index's own IDF on the hard check
            table, unknown = domain_idf()
            terms = list(self.vocab)
            idf[tok] = [table.get(terms[j][1:], unknown) for j in tok]
        idf[kinds == BOILER] *= boilerplate_weight
        return idf

    def weight(self, counts: sp.csr_matrix, idf: np.ndarray, token_weight: float = 0.0) -> sp.csr_matrix:
        """Sublinear tf (1 + ln tf) times idf; float32 CSR.

        Without token features rows are L2-normalised. Otherwise the character block and the token block are
        L2-normalised separately and scaled by ``sqrt(1 - w)`` and ``sqrt(w)`` (``w = token_weight``), so that
        the product of two rows is ``(1 - w) * cos_char + w * cos_token``.
        """
        kinds = np.asarray(self.kinds, np.int8)
        m = counts.astype(np.float32, copy=True)
        if m.shape[1] < idf.shape[0]:
            m.resize((m.shape[0], idf.shape[0]))
        m.data = (1.0 + np.log(m.data)) * idf[m.indices]
        n = m.shape[0]
        rows = np.repeat(np.arange(n), np.diff(m.indptr))
        tok = kinds[m.indices] != CHAR if kinds.size else np.zeros(m.data.shape, bool)
        sq = m.data.astype(np.float64) ** 2
        nt = np.sqrt(np.bincount(rows[tok], sq[tok], minlength=n))
        nc = np.sqrt(np.bincount(rows[~tok], sq[~tok], minlength=n))
        w = float(token_weight)
        with np.errstate(divide="ignore", invalid="ignore"):
            fac = np.where(
                tok,
                np.where(nt[rows] > 0, np.sqrt(w) / nt[rows], 0.0),
                np.where(nc[rows] > 0, np.sqrt(1.0 - w) / nc[rows], 0.0),
            )
        m.data = (m.data * fac).astype(np.float32)
        m.eliminate_zeros()
        return m
