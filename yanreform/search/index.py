"""Hybrid case index: recommend related reform cases by fusing lexical and semantic similarity.

Each indexed case is represented twice on each side: as its whole text and as its passages (lead,
initiatives, outcome for a :class:`~yanreform.corpus.Case`; lines for a plain text). A query is compared with
both, and a case's similarity on one side is ``(1 - passage_weight) * whole + passage_weight * best_passage``:
a case matched by a single initiative is not drowned by the rest of its text.

Three sides, fused per query:

* **lexical**: TF-IDF over character 1-2-grams of the normalised text (NFKC, traditional -> simplified,
  punctuation and digits dropped), sublinear tf, L2-normalised, cosine. Character n-grams need no segmenter
  and are robust to domain terms the dictionary lacks; in this domain they rank same-topic passages about as
  well as the embedding model. IDF is recomputed from the indexed texts after every :meth:`CaseIndex.add`.
  Optional (off by default: no robust gain measured): ``token_weight`` mixes in a cosine over Segmenter
  words (domain terms and quoted names whole, domain IDF from ``models/idf.txt``), and ``boilerplate_weight``
  < 1 discounts agency and place names (人民法院, 公安分局, 吴兴区 ...) on both lexical blocks.
* **semantic**: the encoder's L2-normalised embeddings (default multilingual-e5-small, ``query:`` prompt on
  both sides), cosine.
* **category** (``category_weight``, default 0.3): cosine of the tagger's calibrated category scores
  (``Tagger.predict_proba``, 11 reform categories, L2-normalised), computed for cases and passages at index
  time and stored, and for queries at search time. Topics in this domain align with categories; the profile
  matches two texts that share a kind of reform in different words and different agencies.

Fusion: each side's scores are z-scored over the cases of the index for that query (the sides live on very
different scales: e5 cosines crowd into 0.75-0.95, TF-IDF cosines spread over 0-0.6), the lexical and
semantic sides mixed with ``semantic_weight``, and the category side added with ``category_weight``.
With ``prf_depth > 0`` the query is then expanded once with its best few cases (pseudo
relevance feedback, as Rocchio): each case's score gains ``prf_weight`` times its mean fused similarity to
those cases, which pulls in same-topic cases that share little wording with the query itself.
``scripts/tune_index.py`` measures each choice on ``corpus/retrieval-dev.jsonl``.

Scores: :attr:`Hit.score` is the fused score in z units relative to the index (0 = an average case of this
index for this query; 2 or more = clearly related), :attr:`Hit.lexical` / :attr:`Hit.semantic` are the raw
cosines (whole/passage mix) of each side.

Saved format (a directory), version 2: ``index.json`` (format name and version, model id, dimension, config,
ids, titles, texts, passage ids, lexical vocabulary, category codes) + ``lexical.npz`` (term-count matrices as
CSR arrays, passage owners) + ``embeddings.npy`` and ``passage_embeddings.npy`` (float32) +
``categories.npy`` and ``passage_categories.npy`` (float32 profiles, with a category side). All read with
``allow_pickle=False``. Version-1 directories (before the token and category options) load with their own
behaviour: character n-grams, no category side.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, overload

import numpy as np
import scipy.sparse as sp

from ..errors import IndexFormatError, InputError, ModelError

if TYPE_CHECKING:  # pragma: no cover
    from ..corpus import Case, Corpus
    from ..embed.encoder import Encoder
    from ..tagging.tagger import Tagger
    from ..text.segment import Segmenter

__all__ = ["CaseIndex", "Explanation", "Hit", "HitList", "UnknownCaseError"]

log = logging.getLogger("yanreform")

FORMAT = "yanreform-case-index"
FORMAT_VERSION = 2  # 2: token/boilerplate/category options, category profiles; 1 is still read
_READ_VERSIONS = (1, 2)
# options a version-1 file predates: loading one keeps its behaviour (characters only, no category side)
_V1_CONFIG = {"token_weight": 0.0, "boilerplate_weight": 1.0, "category_weight": 0.0}
_JSON = "index.json"
_LEX = "lexical.npz"
_EMB = "embeddings.npy"
_PEMB = "passage_embeddings.npy"
_CAT = "categories.npy"
_PCAT = "passage_categories.npy"

#: Default fusion configuration (see the module docstring and ``scripts/tune_index.py``).
DEFAULT_CONFIG: dict[str, Any] = {
    # share of the semantic side in the fused score (0 = lexical only, no encoder loaded by the index; the
    # category side's tagger embeds with the default encoder: add category_weight=0 for no model at all)
    "semantic_weight": 0.5,
    # case similarity on each side = (1 - w) * whole text + w * best passage
    "passage_weight": 0.5,
    # "zscore": z-normalise each side per query over the index, then mix; "raw": mix the raw cosines
    "fusion": "zscore",
    # longest character n-gram of the lexical side
    "ngram_max": 2,
    # share of the lexical side given to domain tokens (Segmenter words of 2+ characters, domain terms and
    # quoted names kept whole) rather than character n-grams: lexical = (1 - w) * cos_char + w * cos_token
    "token_weight": 0.0,
    # IDF multiplier of boilerplate tokens (agency names such as 人民法院/公安分局, place names): shared
    # agency wording says little about the reform itself; with < 1 their characters also leave the n-grams
    "boilerplate_weight": 1.0,
    # weight of the category side (cosine of the tagger's calibrated category-score profiles, z-scored like
    # the others) added to the fused score; 0 = no tagger loaded
    "category_weight": 0.3,
    # pseudo relevance feedback: expand with the best `prf_depth` cases, weight `prf_weight`; only on indexes
    # of at least `prf_min_cases` cases (on a handful of cases the "best few" is most of the index: noise)
    "prf_depth": 3,
    "prf_weight": 0.5,
    "prf_min_cases": 20,
    # above this many cases, search scores only candidates (dense top-k via yanreform.topk + lexical top-k),
    # z-normalises with statistics of a fixed reference sample of cases, and skips the feedback step
    "exact_limit": 20000,
    "candidates": 256,
}

# Runs of letters (CJK included) between punctuation, digits, whitespace and symbols: n-grams never span them.
_RUN_RE = re.compile(r"[^\W\d_]+")
_STAT_SAMPLE = 4096
_QUERY_BLOCK = 256
# Query-time products are small (a few queries x the index): with a multi-threaded BLAS each one wakes the
# BLAS threads, which on a busy machine costs milliseconds (measured: 10 ms for 1 x 1200 x 384 under load,
# 0.02 ms on one thread). Below this many (query, row) pairs the scoring runs on one BLAS thread.
_SINGLE_THREAD_PAIRS = 1_000_000
_blas_controller: Any = None


def _blas_threads(pairs: int) -> contextlib.AbstractContextManager[Any]:
    """Context limiting BLAS to one thread for small products (a no-op without threadpoolctl)."""
    global _blas_controller
    if pairs > _SINGLE_THREAD_PAIRS:
        return contextlib.nullcontext()
    if _blas_controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - comes with scikit-learn
            _blas_controller = False
        else:
            _blas_controller = ThreadpoolController().select(user_api="blas")
    if _blas_controller is False:
        return contextlib.nullcontext()
    return _blas_controller.limit(limits=1)


# ------------------------------------------------------------------------------------------------ records


class UnknownCaseError(InputError, KeyError):
    """A case id that is not in the index (an InputError, so a ValueError, and also a KeyError)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Hit:
    """One search result.

    ``score``: fused score (float, z units relative to the index for this query; higher is more related);
    ``lexical`` / ``semantic``: raw cosine of each side (whole/passage mix, in [0, 1] for real text);
    ``title``: the case title, or None for texts indexed without titles.
    """

    id: str
    score: float
    title: str | None
    lexical: float
    semantic: float


class HitList(list):  # list[Hit]
    """The hits of one query, best first: a plain list that also renders itself in notebooks."""

    def _repr_html_(self) -> str:
        try:
            from ..apps.display import hits_html
        except ImportError:  # display.py is optional for the index
            return "<pre>" + "\n".join(map(repr, self)) + "</pre>"
        return hits_html(self)


@dataclass(frozen=True)
class Explanation:
    """Why two cases (or texts) are related.

    ``shared_terms``: domain key terms of both (segmenter keywords present in both normalised texts),
    strongest first; ``shared_categories``: reform-category codes the tagger assigns to both (empty if no
    tagger is available); ``lexical`` / ``semantic``: raw cosine of each side (whole/passage mix, as in
    :class:`Hit`); ``score``: the fused score of b for query a against this index (as :attr:`Hit.score`,
    without feedback).
    """

    a: str
    b: str
    shared_terms: list[str]
    shared_categories: list[str]
    lexical: float
    semantic: float
    score: float
    category_names: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __str__(self) -> str:
        cats = ", ".join(
            f"{c} {self.category_names[c]}" if c in self.category_names else c for c in self.shared_categories
        )
        return (
            f"{self.a} ~ {self.b}: score {self.score:.2f} (lexical {self.lexical:.3f}, "
            f"semantic {self.semantic:.3f})\n"
            f"  shared terms: {'、'.join(self.shared_terms) or '(none)'}\n"
            f"  shared categories: {cats or '(none)'}"
        )


# ------------------------------------------------------------------------------------------------ lexical


def _normalize(text: str) -> str:
    from ..text.normalize import normalize_text

    return normalize_text(text)


# Vocabulary keys: character n-grams are letters only (see _RUN_RE), so these prefixes never collide.
_TOK = "#"  # a domain token (Segmenter word of 2+ characters)
_BOIL = "!"  # a boilerplate token (agency or place name): IDF scaled by boilerplate_weight
_CHAR, _TOKEN, _BOILER = 0, 1, 2

# Agency names: the wording every case of one agency type shares (人民法院, 公安分局 ...), not its reform.
_AGENCY_RE = re.compile(
    r"(?:人民法院|人民检察院|检察院|检察分院|法院|人民法庭|法庭|公安局|公安分局|分局|公安厅|公安处|公安机关|"
    r"司法局|司法厅|司法所|派出所|检察室|政法委|政法委员会|党委政法委|交警大队|刑警大队|支队|大队)$"
)
# Place names: 2-6 characters ending in an administrative suffix, minus the common words of that shape.
_PLACE_RE = re.compile(r"^[\u4e00-\u9fff]{2,6}(?:省|市|县|区|州|镇|乡|街道)$")
_NOT_PLACE_RE = re.compile(
    r"(?:开发区|示范区|试验区|实验区|保护区|自贸区|高新区|先行区|核心区|功能区|服务区|生活区|城区|辖区|社区|园区|"
    r"景区|片区|小区|街区|市区|地区|山区|库区|矿区|新区|管理区|商业区|工业区|城市|超市|都市|门市|上市|集市|"
    r"夜市|楼市|股市|全市|全区|全县|本市|本区|本县|该市|该区|该县|各区|各县|各市|城乡|乡镇|村镇|集镇|城镇)$"
)
# explain(): agency roles and branches (shared by every case of an agency type), quoted names, and the
# suffixes of platform / mechanism / programme names; words under this domain IDF are the genre's boilerplate
# fmt: off
_AGENCY_WORDS = frozenset([
    "警种", "民警", "辅警", "干警", "法官", "检察官", "法官助理", "书记员", "公安", "检察", "审判",
    "司法机关", "政法机关", "政法", "公安机关", "政法单位", "政法部门", "检察机关", "审判机关",
    "警力", "警务",
])
# fmt: on
# explain(): strings with CJK characters are always texts; digit runs are ignored when comparing id shapes
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
_DIGITS_RE = re.compile(r"\d+")
_QUOTED_RE = re.compile(r"“([^“”]{2,16})”")
_NAMED_RE = re.compile(r"(?:平台|系统|中心|机制|模式|工作法|经验|工作室|联盟|专线|热线|驿站|App|app)$")
_MIN_TERM_IDF = 5.0
_GENERIC_PLACE = frozenset({"全省", "全市", "全区", "全县", "本省", "本市", "本区", "本县", "城乡", "乡镇"})


def _is_boilerplate(token: str, tags: Any = None) -> bool:
    """True for agency names (人民法院, 公安分局 ...) and place names (吴兴区, 湖州市, dictionary ``ns``)."""
    if _AGENCY_RE.search(token):
        return True
    if tags is not None:
        entry = tags.get(token)
        if entry is not None and entry[1] == "ns":
            return True
    return bool(_PLACE_RE.match(token)) and token not in _GENERIC_PLACE and not _NOT_PLACE_RE.search(token)


def _ngrams(text: str, n_max: int) -> Counter[str]:
    """Character 1..n_max-grams of the normalised text, within runs of letters (CJK included)."""
    return _char_grams(_normalize(text).lower(), n_max)


def _char_grams(normalised: str, n_max: int) -> Counter[str]:
    """Character 1..n_max-grams of an already normalised text."""
    grams: Counter[str] = Counter()
    for run in _RUN_RE.findall(normalised):
        for n in range(1, n_max + 1):
            grams.update(run[i : i + n] for i in range(len(run) - n + 1))
    return grams


# the character side drops the characters of boilerplate tokens when boilerplate_weight < 1
_STRIP_BOILERPLATE_CHARS = True


class _Lexical:
    """Growable term-count store (character n-grams, and domain tokens when a segmenter is given) with
    TF-IDF weighting recomputed from the current counts."""

    def __init__(self, n_max: int, vocab: Sequence[str] = ()) -> None:
        self.n_max = n_max
        self.vocab: dict[str, int] = {t: i for i, t in enumerate(vocab)}
        self.kinds: list[int] = [_kind(t) for t in vocab]

    def _token_features(self, tokens: list[str], seg: Any, strip: bool) -> Counter[str]:
        """Character n-grams plus ``#token`` / ``!token`` features from the segmenter's words of 2+ characters
        (stopwords, numbers and dates left out); with ``strip`` the characters of boilerplate tokens leave the
        n-grams."""
        tokens = [t.lower() for t in tokens]
        tags = seg.user_words
        boiler = [_is_boilerplate(t, tags) for t in tokens]
        # n-grams never span a dropped token: it becomes a separator
        chars = "".join(" " if (b and strip) else t for t, b in zip(tokens, boiler, strict=True))
        feats = _char_grams(chars, self.n_max)
        keep = set(seg._keyword_candidates(tokens))
        for t, b in zip(tokens, boiler, strict=True):
            if t in keep:
                feats[(_BOIL if b else _TOK) + t] += 1
        return feats

    def counts(
        self, texts: Sequence[str], *, grow: bool, seg: Segmenter | None = None, strip: bool = False
    ) -> sp.csr_matrix:
        """(len(texts), V) float32 count matrix; unknown terms are added (grow) or dropped (queries)."""
        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        tokenised = seg.cut_many(list(texts)) if seg is not None else None
        for i, t in enumerate(texts):
            feats = (
                _ngrams(t, self.n_max)
                if tokenised is None
                else self._token_features(tokenised[i], seg, strip)
            )
            for g, c in feats.items():
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
            shape=(len(texts), len(self.vocab)),
        )
        m.sort_indices()
        return m

    @staticmethod
    def weight(
        counts: sp.csr_matrix, idf: np.ndarray, kinds: np.ndarray | None = None, token_weight: float = 0.0
    ) -> sp.csr_matrix:
        """Sublinear tf (1 + ln tf) times idf; float32 CSR.

        Without token features (``kinds`` None or all characters) rows are L2-normalised. Otherwise the
        character block and the token block are L2-normalised separately and scaled by ``sqrt(1 - w)`` and
        ``sqrt(w)`` (``w = token_weight``), so that the product of two rows is ``(1 - w) * cos_char + w *
        cos_token``.
        """
        m = counts.astype(np.float32, copy=True)
        if m.shape[1] < idf.shape[0]:
            m.resize((m.shape[0], idf.shape[0]))
        m.data = (1.0 + np.log(m.data)) * idf[m.indices]
        n = m.shape[0]
        rows = np.repeat(np.arange(n), np.diff(m.indptr))
        tok = np.zeros(m.data.shape, bool) if kinds is None else kinds[m.indices] != _CHAR
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


def _kind(term: str) -> int:
    return _TOKEN if term.startswith(_TOK) else _BOILER if term.startswith(_BOIL) else _CHAR


# ------------------------------------------------------------------------------------------------ index


def _check_config(config: dict[str, Any]) -> dict[str, Any]:
    unknown = set(config) - set(DEFAULT_CONFIG)
    if unknown:
        raise InputError(f"unknown CaseIndex option(s): {sorted(unknown)}; known: {sorted(DEFAULT_CONFIG)}")
    cfg = {**DEFAULT_CONFIG, **config}
    for key in ("semantic_weight", "passage_weight", "token_weight", "boilerplate_weight"):
        v = cfg[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= float(v) <= 1.0:
            raise InputError(f"{key} must be a number in [0, 1], got {v!r}")
        cfg[key] = float(v)
    if cfg["fusion"] not in ("zscore", "raw"):
        raise InputError(f"fusion must be 'zscore' or 'raw', got {cfg['fusion']!r}")
    for key in ("ngram_max", "prf_depth", "prf_min_cases", "exact_limit", "candidates"):
        v = cfg[key]
        if (
            isinstance(v, bool)
            or not isinstance(v, int)
            or v < 0
            or (key in ("ngram_max", "candidates") and v < 1)
        ):
            raise InputError(f"{key} must be a non-negative int (ngram_max, candidates >= 1), got {v!r}")
    for key in ("prf_weight", "category_weight"):
        v = cfg[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or float(v) < 0:
            raise InputError(f"{key} must be a non-negative number, got {v!r}")
        cfg[key] = float(v)
    return cfg


def _paragraphs(text: str) -> list[str]:
    """Passages of a plain text: its non-empty lines (one passage = no passage split)."""
    paras = [p.strip() for p in text.splitlines() if p.strip()]
    return paras if len(paras) > 1 else []


def _zscore(s: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """Row-wise z-score of ``s`` (q, n) over the ``valid`` entries (bool (q, n) or None = all)."""
    if valid is None:
        mu = s.mean(axis=1, keepdims=True)
        sd = s.std(axis=1, keepdims=True)
    else:
        cnt = np.maximum(valid.sum(axis=1, keepdims=True), 1)
        mu = np.where(valid, s, 0).sum(axis=1, keepdims=True) / cnt
        sd = np.sqrt(np.where(valid, (s - mu) ** 2, 0).sum(axis=1, keepdims=True) / cnt)
    # a side that cannot tell the cases apart for this query contributes nothing (not a division by ~0)
    return np.where(sd > 1e-6, (s - mu) / np.maximum(sd, 1e-6), 0.0)


class CaseIndex:
    """Hybrid (lexical + semantic + category) index of reform cases or plain texts.

    Build with :meth:`from_corpus` or :meth:`from_texts`; grow with :meth:`add`; query with :meth:`search`
    (free text), :meth:`recommend` (an indexed case) and :meth:`explain`; persist with :meth:`save` /
    :meth:`load`. Options (keyword arguments of the constructors, stored in :attr:`config`) are listed in
    :data:`DEFAULT_CONFIG`. ``encoder``, ``segmenter`` and ``tagger`` default to the shared default instances,
    loaded only when a side needs them. With the default options and no tagger given, an index whose shipped
    tagger can't be loaded is built without its category side (logged as a warning); an explicit
    ``category_weight > 0`` raises ModelError instead.
    """

    def __init__(
        self,
        *,
        encoder: Encoder | None = None,
        segmenter: Segmenter | None = None,
        tagger: Tagger | None = None,
        **config: Any,
    ) -> None:
        self.config: dict[str, Any] = _check_config(config)
        self._encoder = encoder
        self._segmenter = segmenter
        self._tagger = tagger
        # a default category side (no tagger, no category_weight given) steps aside, with a warning, when the
        # shipped tagger can't be loaded; one asked for explicitly raises instead
        self._category_optional = tagger is None and "category_weight" not in config
        self._category_codes: list[str] | None = None
        self._model_id: str | None = encoder.model_id if encoder is not None else None
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._titles: list[str | None] = []
        self._texts: list[str] = []
        self._pids: list[str] = []
        self._owner = np.zeros(0, np.int64)  # passage -> case row, non-decreasing
        self._lex = _Lexical(self.config["ngram_max"])
        self._case_counts = sp.csr_matrix((0, 0), dtype=np.float32)
        self._pass_counts = sp.csr_matrix((0, 0), dtype=np.float32)
        self._case_emb: np.ndarray | None = None
        self._pass_emb: np.ndarray | None = None
        # L2-normalised category-score profiles (n, K) / (P, K) float32, when category_weight > 0
        self._case_cat: np.ndarray | None = None
        self._pass_cat: np.ndarray | None = None
        self._weighted: (
            tuple[np.ndarray, sp.csr_matrix, sp.csr_matrix, sp.csr_matrix, sp.csr_matrix] | None
        ) = None

    # ---------------------------------------------------------------- construction

    @classmethod
    def from_corpus(
        cls,
        corpus: Corpus | Iterable[Case],
        *,
        encoder: Encoder | None = None,
        segmenter: Segmenter | None = None,
        tagger: Tagger | None = None,
        **config: Any,
    ) -> CaseIndex:
        """Index the cases of ``corpus`` (ids, titles from the cases; passages = lead, initiatives, outcome).

        ``tagger`` (used when ``category_weight > 0``) defaults to ``Tagger.default()``. Raises InputError
        for duplicate case ids or unknown options; ModelError if the encoder or tagger can't be built.
        """
        index = cls(encoder=encoder, segmenter=segmenter, tagger=tagger, **config)
        index.add(corpus)
        return index

    @classmethod
    def from_texts(
        cls,
        texts: Sequence[str],
        ids: Sequence[str] | None = None,
        *,
        titles: Sequence[str | None] | None = None,
        encoder: Encoder | None = None,
        segmenter: Segmenter | None = None,
        tagger: Tagger | None = None,
        **config: Any,
    ) -> CaseIndex:
        """Index plain texts; ``ids`` default to ``"0", "1", ...``; passages = the non-empty lines of a text.

        Raises InputError (a ValueError) for duplicate ids or mismatched lengths, TypeError for non-str texts.
        """
        index = cls(encoder=encoder, segmenter=segmenter, tagger=tagger, **config)
        index.add(texts, ids, titles=titles)
        return index

    def add(
        self,
        texts_or_corpus: Corpus | Iterable[Case] | Sequence[str] | str,
        ids: Sequence[str] | None = None,
        *,
        titles: Sequence[str | None] | None = None,
    ) -> CaseIndex:
        """Add cases (a Corpus or Case objects) or plain texts; returns ``self``.

        New texts are encoded in one batch (the encoder shows a progress bar for long inputs). Plain texts get
        ``ids`` (default: their row numbers as str, continuing the index). Raises InputError for duplicate ids
        (within the batch or against the index) or when ``ids``/``titles`` and texts differ in length.
        """
        from ..corpus import Case

        if isinstance(texts_or_corpus, str):
            texts_or_corpus = [texts_or_corpus]
        items = list(texts_or_corpus)
        if not items:
            return self
        wholes: list[str] = []
        passages: list[list[tuple[str, str]]] = []
        new_titles: list[str | None] = []
        if all(isinstance(x, Case) for x in items):
            if ids is not None or titles is not None:
                raise InputError("ids/titles apply to plain texts only; cases carry their own")
            new_ids = [c.id for c in items]
            for c in items:
                # agency and title carry topic signal ("…公安局", "受立案改革") the body may only imply
                wholes.append("\n".join(x for x in (c.agency, c.title, c.text) if x))
                ps = [(pid, t) for pid, _kind, t in c.passages() if t.strip()]
                passages.append(ps if len(ps) > 1 else [])
                new_titles.append(c.title or None)
        else:
            for i, t in enumerate(items):
                if not isinstance(t, str):
                    raise TypeError(f"texts[{i}] is {type(t).__name__}, expected str (or pass Case objects)")
            start = len(self._ids)
            new_ids = [str(start + i) for i in range(len(items))] if ids is None else [str(x) for x in ids]
            if len(new_ids) != len(items):
                raise InputError(f"got {len(new_ids)} ids for {len(items)} texts")
            if titles is not None and len(titles) != len(items):
                raise InputError(f"got {len(titles)} titles for {len(items)} texts")
            new_titles = list(titles) if titles is not None else [None] * len(items)
            wholes = list(items)
            passages = [
                [(f"{new_ids[i]}-p{j + 1}", p) for j, p in enumerate(_paragraphs(t))]
                for i, t in enumerate(items)
            ]
        seen: dict[str, int] = {}
        for i, cid in enumerate(new_ids):
            if cid in self._pos:
                raise InputError(f"duplicate id {cid!r}: already in the index")
            if cid in seen:
                raise InputError(f"duplicate id {cid!r} at positions {seen[cid]} and {i}")
            seen[cid] = i

        flat = [t for ps in passages for _, t in ps]
        if self.config["semantic_weight"] > 0:
            enc = self._get_encoder()
            emb = enc.encode(wholes + flat)
            emb = np.ascontiguousarray(emb, dtype=np.float32)
            ce, pe = emb[: len(wholes)], emb[len(wholes) :].reshape(len(flat), emb.shape[1])
            self._case_emb = ce if self._case_emb is None else np.vstack([self._case_emb, ce])
            self._pass_emb = pe if self._pass_emb is None else np.vstack([self._pass_emb, pe])
        if self.config["category_weight"] > 0 and self._category_optional and not self._ids:
            try:
                self._get_tagger()
            except ModelError as exc:
                log.warning("CaseIndex: no category side (%s)", exc)
                self.config["category_weight"] = 0.0
        if self.config["category_weight"] > 0:
            cat = _unit_rows(self._get_tagger().predict_proba(wholes + flat))
            self._case_cat = _stack(self._case_cat, cat[: len(wholes)])
            self._pass_cat = _stack(self._pass_cat, cat[len(wholes) :])
        seg, strip = self._lex_segmenter()
        cc = self._lex.counts(wholes, grow=True, seg=seg, strip=strip)
        pc = self._lex.counts(flat, grow=True, seg=seg, strip=strip)
        v = len(self._lex.vocab)
        self._case_counts = sp.vstack([_widen(self._case_counts, v), cc], format="csr")
        self._pass_counts = sp.vstack([_widen(self._pass_counts, v), pc], format="csr")
        base = len(self._ids)
        owner = [base + i for i, ps in enumerate(passages) for _ in ps]
        self._owner = np.concatenate([self._owner, np.asarray(owner, np.int64)])
        self._pids += [pid for ps in passages for pid, _ in ps]
        for i, cid in enumerate(new_ids):
            self._pos[cid] = base + i
        self._ids += new_ids
        self._titles += new_titles
        self._texts += wholes
        self._weighted = None
        log.debug(
            "CaseIndex: added %d items (%d passages); %d in all", len(new_ids), len(flat), len(self._ids)
        )
        return self

    # ---------------------------------------------------------------- properties

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, case_id: object) -> bool:
        return case_id in self._pos

    def __repr__(self) -> str:
        return (
            f"CaseIndex({len(self)} cases, {len(self._pids)} passages, model={self._model_id!r}, "
            f"semantic_weight={self.config['semantic_weight']}, "
            f"category_weight={self.config['category_weight']})"
        )

    @property
    def ids(self) -> list[str]:
        """Case ids in index order (a copy)."""
        return list(self._ids)

    @property
    def model_id(self) -> str | None:
        """Id of the embedding model (None for a lexical-only index)."""
        return self._model_id

    def text(self, case_id: str) -> str:
        """The indexed text of ``case_id`` (agency, title and body for cases). Raises UnknownCaseError."""
        return self._texts[self._row(case_id)]

    def _row(self, case_id: str) -> int:
        try:
            return self._pos[case_id]
        except (KeyError, TypeError):
            near = [x for x in self._ids if isinstance(case_id, str) and case_id[:4] in x][:3]
            hint = (
                f"; similar ids: {near}"
                if near
                else (f"; ids look like {self._ids[:3]}" if self._ids else "")
            )
            raise UnknownCaseError(
                f"unknown case id {case_id!r}: not in this index of {len(self)} cases{hint}"
            ) from None

    def _get_encoder(self) -> Encoder:
        if self._encoder is None:
            from ..embed.encoder import Encoder

            enc = Encoder.default()
            if self._model_id is not None and enc.model_id != self._model_id:
                raise ModelError(
                    f"this index was built with embedding model {self._model_id!r} but the default encoder "
                    f"is {enc.model_id!r}; pass encoder=Encoder({self._model_id!r}) to CaseIndex.load"
                )
            self._encoder = enc
        if self._model_id is None:
            self._model_id = self._encoder.model_id
        return self._encoder

    def _lex_segmenter(self) -> tuple[Segmenter | None, bool]:
        """The segmenter of the lexical side (None: character n-grams only) and whether boilerplate characters
        leave the n-grams."""
        bw = self.config["boilerplate_weight"]
        if self.config["token_weight"] == 0 and bw == 1:
            return None, False
        return self._get_segmenter(), bw < 1 and _STRIP_BOILERPLATE_CHARS

    def _get_tagger(self) -> Tagger:
        if self._tagger is None:
            from ..tagging.tagger import Tagger

            try:
                self._tagger = Tagger.default()
            except ModelError as exc:
                raise ModelError(
                    f"{exc}; the index's category side needs a tagger: pass tagger=... or category_weight=0"
                ) from exc
        codes = list(self._tagger.taxonomy_.codes)
        if self._category_codes is None:
            self._category_codes = codes
        elif codes != self._category_codes:
            raise ModelError(
                f"the tagger's categories {codes} differ from the index's {self._category_codes}; use the "
                "tagger the index was built with (or rebuild the index)"
            )
        return self._tagger

    def _get_segmenter(self) -> Segmenter:
        if self._segmenter is None:
            from ..text.segment import Segmenter

            self._segmenter = Segmenter.default()
        return self._segmenter

    # ---------------------------------------------------------------- scoring

    def _weights(self) -> tuple[np.ndarray, sp.csr_matrix, sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
        """(idf (V,), weighted cases (n, V), weighted passages (P, V), and both transposed as CSR (V, n) and
        (V, P), so that query products need no format conversion); cached until add()."""
        if self._weighted is None:
            v = len(self._lex.vocab)
            cc, pc = _widen(self._case_counts, v), _widen(self._pass_counts, v)
            # document frequency over all units (whole cases and passages): finer-grained than 10 cases alone
            units = cc.shape[0] + pc.shape[0]
            df = np.bincount(cc.indices, minlength=v) + np.bincount(pc.indices, minlength=v)
            idf = (np.log((1.0 + units) / (1.0 + df)) + 1.0).astype(np.float32)
            kinds = np.asarray(self._lex.kinds, np.int8)
            tok = np.flatnonzero(kinds != _CHAR)
            if tok.size:
                # tokens take the domain IDF (models/idf.txt over jieba's table: mechanisms and programmes
                # >= 11.5, genre words <= 4): measured better than the index's own IDF on the hard check
                from .._resources import model_file
                from ..text.segment import _load_idf

                table, unknown = _load_idf(str(model_file("idf.txt")))
                terms = list(self._lex.vocab)
                idf[tok] = [table.get(terms[j][1:], unknown) for j in tok]
            idf[kinds == _BOILER] *= self.config["boilerplate_weight"]
            tw = self.config["token_weight"]
            cw, pw = _Lexical.weight(cc, idf, kinds, tw), _Lexical.weight(pc, idf, kinds, tw)
            self._weighted = (idf, cw, pw, sp.csr_matrix(cw.T), sp.csr_matrix(pw.T))
        return self._weighted

    def _mix(
        self, whole: np.ndarray, per_passage: np.ndarray, owner: np.ndarray, cols: np.ndarray | None
    ) -> np.ndarray:
        """Case scores = (1 - w) * whole + w * best passage; cases without passages use the whole.

        ``whole``: (q, n) over all cases, or over the case rows ``cols``; ``per_passage``: (q, p) over
        passages whose case rows are ``owner`` (non-decreasing).
        """
        w = self.config["passage_weight"]
        if w == 0 or per_passage.shape[1] == 0:
            return whole
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        best_rows = np.maximum.reduceat(per_passage, starts, axis=1)
        case_rows = owner[starts]
        best = whole.copy()
        if cols is None:
            best[:, case_rows] = best_rows
        else:  # cols is sorted and holds every case row that has a selected passage
            best[:, np.searchsorted(cols, case_rows)] = best_rows
        return (1.0 - w) * whole + w * best

    def _query_vectors(self, texts: Sequence[str]) -> _Reps:
        idf, kinds = self._weights()[0], np.asarray(self._lex.kinds, np.int8)
        seg, strip = self._lex_segmenter()
        counts = self._lex.counts(texts, grow=False, seg=seg, strip=strip)
        ql = _Lexical.weight(counts, idf, kinds, self.config["token_weight"])
        qs = qc = None
        if self.config["semantic_weight"] > 0:
            qs = np.ascontiguousarray(self._get_encoder().encode(list(texts)), dtype=np.float32).reshape(
                len(texts), -1
            )
            if self._case_emb is not None and qs.shape[1] != self._case_emb.shape[1]:
                raise ModelError(
                    f"encoder dimension {qs.shape[1]} differs from the index's {self._case_emb.shape[1]}"
                )
        if self.config["category_weight"] > 0:
            qc = _unit_rows(self._get_tagger().predict_proba(list(texts)))
        return _Reps(ql, qs, qc)

    def _case_vectors(self, rows: np.ndarray) -> _Reps:
        cw = self._weights()[1]
        qs = self._case_emb[rows] if self._case_emb is not None else None
        qc = self._case_cat[rows] if self._case_cat is not None else None
        return _Reps(cw[rows], qs, qc)

    def _sides(self, q: _Reps, cols: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw side scores (q, n), or (q, len(cols)) for the sorted case rows ``cols``: lexical, semantic and
        category whole/passage mixes (float64; a side that is off scores 0)."""
        _, cw, pw, cwt, pwt = self._weights()
        owner = self._owner
        sel = None
        if cols is None:
            lw = (q.lex @ cwt).toarray()
            lp = (q.lex @ pwt).toarray()
        else:
            sel = np.flatnonzero(np.isin(owner, cols))
            owner = owner[sel]
            lw = (q.lex @ cw[cols].T).toarray()
            lp = (q.lex @ pw[sel].T).toarray()
        lex = self._mix(lw.astype(np.float64), lp.astype(np.float64), owner, cols)
        out = [lex]
        for qv, ce, pe in ((q.sem, self._case_emb, self._pass_emb), (q.cat, self._case_cat, self._pass_cat)):
            if qv is None or ce is None or pe is None:
                out.append(np.zeros_like(lex))
                continue
            if cols is not None:
                ce, pe = ce[cols], pe[sel]
            sw = (qv @ ce.T).astype(np.float64)
            spp = (qv @ pe.T).astype(np.float64)
            out.append(self._mix(sw, spp, owner, cols))
        return out[0], out[1], out[2]

    def _fuse(
        self, lex: np.ndarray, sem: np.ndarray, cat: np.ndarray, valid: np.ndarray | None, stats: Any = None
    ) -> np.ndarray:
        """Fused scores: ``(1 - ws) * lex + ws * sem + wc * cat`` on z-scored sides (``fusion="zscore"``, over
        the ``valid`` cases of each query or with the reference ``stats``) or on raw cosines."""
        ws, wc = self.config["semantic_weight"], self.config["category_weight"]
        if self.config["fusion"] == "raw":
            fused = (1.0 - ws) * lex + ws * sem
            return fused + wc * cat if wc > 0 else fused
        if stats is None:
            zl, zs = _zscore(lex, valid), _zscore(sem, valid)
            zc = _zscore(cat, valid) if wc > 0 else None
        else:
            zl, zs, zc = (
                np.where(sd > 1e-6, (x - mu) / np.maximum(sd, 1e-6), 0.0)
                for x, (mu, sd) in zip((lex, sem, cat), stats, strict=True)
            )
        fused = zl if ws == 0 else zs if ws == 1 else (1.0 - ws) * zl + ws * zs
        return fused + wc * zc if wc > 0 and zc is not None else fused

    def _score_all(
        self, q: _Reps, exclude: np.ndarray | None, *, prf: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact scores over all cases: (fused, lexical, semantic), each (q, n) float64; excluded -> -inf."""
        n = len(self)
        lex, sem, cat = self._sides(q)
        valid = None
        if exclude is not None and (exclude >= 0).any():
            valid = np.ones(lex.shape, bool)
            r = np.flatnonzero(exclude >= 0)
            valid[r, exclude[r]] = False
        fused = self._fuse(lex, sem, cat, valid)
        m, beta = self.config["prf_depth"], self.config["prf_weight"]
        if prf and m > 0 and beta > 0 and n >= max(self.config["prf_min_cases"], m + 2):
            f0 = fused if valid is None else np.where(valid, fused, -np.inf)
            top = np.argpartition(-f0, m - 1, axis=1)[:, :m]
            uniq, inv = np.unique(top, return_inverse=True)
            # as in Rocchio expansion (q + mean of the neighbours' vectors), a neighbour keeps its similarity
            # to itself: the feedback reinforces the neighbours and what resembles them
            nf, _, _ = self._score_all(self._case_vectors(uniq), None, prf=False)
            fused = fused + beta * nf[inv.reshape(top.shape)].mean(axis=1)
        if valid is not None:
            fused = np.where(valid, fused, -np.inf)
        return fused, lex, sem

    def _score_candidates(
        self, q: _Reps, exclude: np.ndarray | None, k: int
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Large-index path: per query (cols, fused, lexical, semantic) over candidate cases only.

        Candidates: dense top-k of whole-case and passage embeddings (yanreform.topk) and lexical top-k of the
        whole-case and passage TF-IDF products; z statistics come from a fixed reference sample of cases. No
        feedback step here: at this size the exact expansion would cost ``prf_depth`` more full passes.
        """
        from .vector import topk

        n = len(self)
        c = max(self.config["candidates"], 4 * k)
        _, _, pw, cwt, pwt = self._weights()
        ref = np.linspace(0, n - 1, min(n, _STAT_SAMPLE)).astype(np.int64)
        out = []
        for i in range(q.lex.shape[0]):
            q1 = q.row(i)
            cand = [np.argpartition(-(q1.lex @ cwt).toarray()[0], min(c, n) - 1)[: min(c, n)]]
            if pw.shape[0]:
                lp = (q1.lex @ pwt).toarray()[0]
                cp = min(c, lp.shape[0])
                cand.append(self._owner[np.argpartition(-lp, cp - 1)[:cp]])
            if q1.sem is not None and self._case_emb is not None:
                cand.append(topk(q1.sem, self._case_emb, c)[1][0])
                if self._pass_emb is not None and self._pass_emb.shape[0]:
                    cand.append(self._owner[topk(q1.sem, self._pass_emb, c)[1][0]])
            cols = np.unique(np.concatenate(cand))
            if exclude is not None and exclude[i] >= 0:
                cols = cols[cols != exclude[i]]
            sides = self._sides(q1, ref[ref != (exclude[i] if exclude is not None else -1)])
            stats = [(x.mean(), x.std()) for x in sides]
            lex, sem, cat = self._sides(q1, cols)
            out.append((cols, self._fuse(lex, sem, cat, None, stats)[0], lex[0], sem[0]))
        return out

    def _hits(self, q: _Reps, k: int, exclude: np.ndarray | None) -> list[HitList]:
        k = _check_k(k)
        results: list[HitList] = []
        nq = q.lex.shape[0]
        if len(self) == 0:
            return [HitList() for _ in range(nq)]
        if len(self) > self.config["exact_limit"]:
            with _blas_threads(self.config["candidates"] * 8):
                for cols, fused, lex, sem in self._score_candidates(q, exclude, k):
                    results.append(self._select(fused, lex, sem, k, cols))
            return results
        rows = len(self) + len(self._pids)
        for b in range(0, nq, _QUERY_BLOCK):
            sl = slice(b, b + _QUERY_BLOCK)
            with _blas_threads(min(_QUERY_BLOCK, nq - b) * rows * (1 + self.config["prf_depth"])):
                fused, lex, sem = self._score_all(q.rows(sl), None if exclude is None else exclude[sl])
            for i in range(fused.shape[0]):
                results.append(self._select(fused[i], lex[i], sem[i], k, None))
        return results

    def _select(
        self, fused: np.ndarray, lex: np.ndarray, sem: np.ndarray, k: int, cols: np.ndarray | None
    ) -> HitList:
        ok = np.flatnonzero(np.isfinite(fused))
        kk = min(k, ok.size)
        if kk == 0:
            return HitList()
        part = ok[np.argpartition(-fused[ok], kk - 1)[:kk]] if kk < ok.size else ok
        rowid = part if cols is None else cols[part]
        # best first; ties by index order (deterministic)
        order = np.lexsort((rowid, -fused[part]))
        hits = HitList()
        for j in part[order]:
            r = int(j if cols is None else cols[j])
            hits.append(Hit(self._ids[r], float(fused[j]), self._titles[r], float(lex[j]), float(sem[j])))
        return hits

    # ---------------------------------------------------------------- queries

    @overload
    def search(self, text_or_texts: str, k: int = 5) -> HitList: ...
    @overload
    def search(self, text_or_texts: Sequence[str], k: int = 5) -> list[HitList]: ...

    def search(self, text_or_texts: str | Sequence[str], k: int = 5) -> HitList | list[HitList]:
        """The ``k`` cases most related to a text (a :class:`HitList`), or one HitList per text for a list.

        Scores are sorted descending; fewer than ``k`` hits only when the index is smaller. Raises TypeError
        for non-str input, InputError for k < 1 and for an empty or whitespace-only query (naming its
        position in a list).
        """
        single = isinstance(text_or_texts, str)
        texts = [text_or_texts] if single else list(text_or_texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"search: texts[{i}] is {type(t).__name__}, expected str")
            if not t.strip():
                raise InputError(
                    "empty query" if single else f"empty query: texts[{i}] is empty or whitespace"
                )
        _check_k(k)
        if not texts:
            return []
        res = self._hits(self._query_vectors(texts), k, None)
        return res[0] if single else res

    def recommend(self, case_id: str, k: int = 5) -> HitList:
        """The ``k`` cases most related to the indexed case ``case_id``, never the case itself.

        Raises UnknownCaseError (an InputError and a KeyError) naming the id if it is not in the index.
        """
        r = self._row(case_id)
        _check_k(k)
        return self._hits(self._case_vectors(np.array([r])), k, np.array([r]))[0]

    def explain(self, a: str, b: str, *, k: int = 20) -> Explanation:
        """Why ``a`` and ``b`` (case ids of this index, or texts) are related.

        Shared terms come from the segmenter's top-``k`` keywords of each side; shared categories from
        ``Tagger.default()`` when a tagger is available (otherwise empty, with a log message). Raises
        TypeError for non-str arguments.

        A string that is an id of this index is that case; any other string is a free text, except one that
        looks like a mistyped id: at most 64 characters, no CJK characters or whitespace, and either the same
        prefix before its last ``-`` as an indexed id (``yc2024-99``) or the same shape once digit runs are
        ignored (``yc2099-01``, or ``7`` in an index of ids ``0`` ... ``9``). That raises UnknownCaseError (an
        InputError and a KeyError) naming it.
        """
        for name, x in (("a", a), ("b", b)):
            if not isinstance(x, str):
                raise TypeError(f"explain: {name} is {type(x).__name__}, expected a case id or a text")
            if x not in self._pos and self._looks_like_id(x):
                self._row(x)  # raises UnknownCaseError with a hint
        ra, rb = self._pos.get(a), self._pos.get(b)
        ta = self._texts[ra] if ra is not None else a
        tb = self._texts[rb] if rb is not None else b
        qa = self._case_vectors(np.array([ra])) if ra is not None else self._query_vectors([ta])
        if rb is not None and len(self):
            lex, sem, cat = self._sides(qa)
            valid = np.ones(lex.shape, bool)
            if ra is not None:
                valid[0, ra] = False
            fused = self._fuse(lex, sem, cat, valid)
            lexical, semantic, score = float(lex[0, rb]), float(sem[0, rb]), float(fused[0, rb])
        else:
            # b is a free text: compare with its whole text, score relative to the index's cases
            qb = self._query_vectors([tb])
            lexical = float((qa.lex @ qb.lex.T).toarray()[0, 0])
            semantic = float((qa.sem @ qb.sem.T)[0, 0]) if qa.sem is not None and qb.sem is not None else 0.0
            category = float((qa.cat @ qb.cat.T)[0, 0]) if qa.cat is not None and qb.cat is not None else 0.0
            score = self._relative(qa, lexical, semantic, category, ra)

        cats, names = self._shared_categories(ta, tb)
        return Explanation(
            a=a if ra is not None else _label(a),
            b=b if rb is not None else _label(b),
            shared_terms=self._shared_terms(ta, tb, k),
            shared_categories=cats,
            lexical=lexical,
            semantic=semantic,
            score=score,
            category_names=names,
        )

    def _looks_like_id(self, s: str) -> bool:
        """Whether ``s`` (not an indexed id) has the shape of this index's ids (see :meth:`explain`)."""
        if not s or len(s) > 64 or _CJK_RE.search(s) or any(c.isspace() for c in s):
            return False
        prefix, shape = (s.rsplit("-", 1)[0] if "-" in s else None), _DIGITS_RE.sub("0", s)
        for x in self._ids:
            if _DIGITS_RE.sub("0", x) == shape or (
                prefix is not None and "-" in x and x.rsplit("-", 1)[0] == prefix
            ):
                return True
        return False

    def _relative(self, qa: _Reps, lexical: float, semantic: float, category: float, ra: int | None) -> float:
        if len(self) < 2:
            ws, wc = self.config["semantic_weight"], self.config["category_weight"]
            return (1 - ws) * lexical + ws * semantic + wc * category
        sides = [
            np.concatenate([x, [[v]]], axis=1)
            for x, v in zip(self._sides(qa), (lexical, semantic, category), strict=True)
        ]
        valid = np.ones(sides[0].shape, bool)
        if ra is not None:
            valid[0, ra] = False
        return float(self._fuse(*sides, valid)[0, -1])

    def _shared_terms(self, ta: str, tb: str, k: int) -> list[str]:
        """Up to ``k`` words of both texts, strongest first: reform mechanisms, quoted project names, platform
        and programme names over common words; agency and place names, agency roles and genre words left out.

        Strength = domain IDF (``models/idf.txt`` over jieba's table) x bonus (quoted in either text: 3;
        domain-dictionary term or platform/mechanism name: 1.5) x (1 + ln of the smaller count); words under
        IDF 5 (the genre's boilerplate: 工作, 机制, 案件 ...) are kept only with a bonus.
        """
        from .._resources import model_file
        from ..text.segment import _load_idf

        seg = self._get_segmenter()
        toks_a, toks_b = seg.cut_many([ta, tb])
        ca = Counter(seg._keyword_candidates(toks_a))
        cb = Counter(seg._keyword_candidates(toks_b))
        idf, default = _load_idf(str(model_file("idf.txt")))
        tags = seg.user_words
        na, nb = _normalize(ta), _normalize(tb)
        quoted = {q for t in (na, nb) for q in _QUOTED_RE.findall(t)}
        scored = []
        for order, w in enumerate(ca):
            if w not in cb or w in _AGENCY_WORDS or _is_boilerplate(w, tags):
                continue
            entry = tags.get(w)
            if any(w in q for q in quoted):
                bonus = 3.0
            elif (entry is not None and entry[1] not in ("nt", "ns")) or (
                len(w) >= 3 and _NAMED_RE.search(w)
            ):
                bonus = 1.5
            else:
                bonus = 1.0
            weight = idf.get(w, default)
            if weight < _MIN_TERM_IDF and bonus == 1.0:
                continue
            scored.append((-(weight * bonus * (1.0 + np.log(min(ca[w], cb[w])))), order, w))
        scored.sort()
        return [w for _, _, w in scored[:k]]

    def _shared_categories(self, ta: str, tb: str) -> tuple[list[str], dict[str, str]]:
        try:
            tagger = self._get_tagger()
        except (ImportError, FileNotFoundError, ModelError, IndexFormatError) as exc:
            log.info("explain: no tagger available (%s); shared_categories left empty", exc)
            return [], {}
        tags_a, tags_b = tagger.tag(ta), tagger.tag(tb)
        in_b = {t.code for t in tags_b}
        cats = [t.code for t in tags_a if t.code in in_b]
        return cats, {t.code: t.name for t in tags_a if t.code in in_b}

    # ---------------------------------------------------------------- persistence

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the index to the directory ``path`` (created or replaced atomically); returns the path.

        Files: ``index.json``, ``lexical.npz``, ``embeddings.npy``, ``passage_embeddings.npy`` (with a
        semantic side), ``categories.npy``, ``passage_categories.npy`` (with a category side). No pickle.
        """
        target = Path(path)
        if target.exists() and not target.is_dir():
            raise InputError(f"{target} is a file; CaseIndex.save writes a directory")
        if target.exists() and not (target / _JSON).is_file() and any(target.iterdir()):
            raise InputError(f"{target} exists and is not a saved CaseIndex; refusing to overwrite it")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            meta = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "model_id": self._model_id,
                "dim": None if self._case_emb is None else int(self._case_emb.shape[1]),
                "config": self.config,
                "ids": self._ids,
                "titles": self._titles,
                "texts": self._texts,
                "passage_ids": self._pids,
                "vocab": list(self._lex.vocab),
                "category_codes": self._category_codes if self._case_cat is not None else None,
            }
            (tmp / _JSON).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            v = len(self._lex.vocab)
            cc, pc = _widen(self._case_counts, v), _widen(self._pass_counts, v)
            np.savez(
                tmp / _LEX,
                case_data=cc.data, case_indices=cc.indices, case_indptr=cc.indptr,
                pass_data=pc.data, pass_indices=pc.indices, pass_indptr=pc.indptr,
                owner=self._owner,
            )  # fmt: skip
            if self._case_emb is not None:
                np.save(tmp / _EMB, self._case_emb, allow_pickle=False)
                np.save(tmp / _PEMB, self._pass_emb, allow_pickle=False)
            if self._case_cat is not None:
                np.save(tmp / _CAT, self._case_cat, allow_pickle=False)
                np.save(tmp / _PCAT, self._pass_cat, allow_pickle=False)
            if target.exists():
                old = target.with_name(f".{target.name}.old-{os.getpid()}")
                os.replace(target, old)
                os.replace(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        encoder: Encoder | None = None,
        segmenter: Segmenter | None = None,
        tagger: Tagger | None = None,
    ) -> CaseIndex:
        """Read an index written by :meth:`save` (format version 2, or 1: read with its own behaviour, i.e.
        character n-grams only and no category side).

        Raises IndexFormatError (naming the path) if a file is missing, corrupt, inconsistent or of an
        unknown format version; ModelError if ``encoder`` (or, when searching new text, the default encoder)
        is not the model the index was built with, or if ``tagger`` (or the default tagger) has other
        categories than the index's profiles.
        """
        root = Path(path)
        jpath = root / _JSON
        try:
            meta = json.loads(jpath.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IndexFormatError(f"{root}: not a saved CaseIndex (no {_JSON})") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IndexFormatError(f"{jpath}: corrupt index metadata ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise IndexFormatError(
                f"{jpath}: not a yanreform case index "
                f"(format {meta.get('format') if isinstance(meta, dict) else None!r})"
            )
        version = meta.get("version")
        if version not in _READ_VERSIONS:
            raise IndexFormatError(
                f"{jpath}: unknown index format version {version!r} (this yanreform reads versions "
                f"{', '.join(map(str, _READ_VERSIONS))}); rebuild the index or upgrade yanreform"
            )
        if "model_id" not in meta:
            raise IndexFormatError(
                f"{jpath}: missing field 'model_id' (null for an index without embeddings)"
            )
        model_id = meta["model_id"]
        if model_id is not None and not isinstance(model_id, str):
            raise IndexFormatError(
                f"{jpath}: malformed field 'model_id' ({model_id!r}, expected a string or null)"
            )
        if encoder is not None and model_id is not None and encoder.model_id != model_id:
            raise ModelError(
                f"{root}: index built with embedding model {model_id!r}, but the encoder given is "
                f"{encoder.model_id!r}; load it with that model or rebuild the index"
            )
        try:
            cfg = dict(meta["config"])
            if version == 1:
                cfg.update(_V1_CONFIG)
            index = cls(
                encoder=encoder,
                segmenter=segmenter,
                tagger=tagger,
                **{k: v for k, v in cfg.items() if k in DEFAULT_CONFIG},
            )
            index._model_id = model_id
            ids = [str(x) for x in meta["ids"]]
            titles = list(meta["titles"])
            texts = [str(x) for x in meta["texts"]]
            pids = [str(x) for x in meta["passage_ids"]]
            vocab = [str(x) for x in meta["vocab"]]
            codes = meta.get("category_codes")
            codes = None if codes is None else [str(x) for x in codes]
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexFormatError(f"{jpath}: missing or malformed field ({exc})") from None
        n, p, v = len(ids), len(pids), len(vocab)
        if model_id is None and n and index.config["semantic_weight"] > 0:
            # add() always embeds when semantic_weight > 0: a null model_id here would silently drop that side
            raise IndexFormatError(
                f"{jpath}: field 'model_id' is null but semantic_weight is {index.config['semantic_weight']} "
                f"for {n} cases (an index with a semantic side names its embedding model)"
            )
        try:
            with np.load(root / _LEX, allow_pickle=False) as z:
                cc = sp.csr_matrix((z["case_data"], z["case_indices"], z["case_indptr"]), shape=(n, v))
                pc = sp.csr_matrix((z["pass_data"], z["pass_indices"], z["pass_indptr"]), shape=(p, v))
                owner = np.asarray(z["owner"], np.int64)
            # the saved matrices carry no shape: their widest column must be a term of the vocabulary
            cols = max((int(m.indices.max()) + 1 for m in (cc, pc) if m.indices.size), default=0)
            case_emb = pass_emb = None
            # dim is null exactly when the index was saved without embeddings (semantic_weight=0), even if an
            # encoder (and so a model id) was attached
            if model_id is not None and meta.get("dim") is not None:
                case_emb = np.load(root / _EMB, allow_pickle=False)
                pass_emb = np.load(root / _PEMB, allow_pickle=False)
            case_cat = pass_cat = None
            if index.config["category_weight"] > 0:
                if codes is None:
                    raise IndexFormatError(f"{jpath}: category_weight > 0 but no category_codes")
                case_cat = np.load(root / _CAT, allow_pickle=False)
                pass_cat = np.load(root / _PCAT, allow_pickle=False)
        except FileNotFoundError as exc:
            raise IndexFormatError(f"{root}: incomplete index, missing {Path(exc.filename).name}") from None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
            raise IndexFormatError(f"{root}: corrupt index arrays ({type(exc).__name__}: {exc})") from None
        dim = meta.get("dim")
        bad = None
        if len(titles) != n or len(texts) != n or owner.shape != (p,):
            bad = "ids, titles, texts and passage owners disagree in length"
        elif cols > v:
            bad = f"index.json field 'vocab' has {v} terms but {_LEX} has {cols} columns"
        elif p and (owner.min() < 0 or owner.max() >= n or (np.diff(owner) < 0).any()):
            bad = "passage owners out of range"
        elif case_emb is not None and (
            case_emb.shape != (n, dim)
            or pass_emb is None
            or pass_emb.shape != (p, dim)
            or case_emb.dtype != np.float32
        ):
            pshape = None if pass_emb is None else pass_emb.shape
            bad = f"embedding shapes {case_emb.shape} / {pshape} != {n} cases, {p} passages, dim {dim}"
        elif case_cat is not None and (
            case_cat.shape != (n, len(codes or ()))
            or pass_cat is None
            or pass_cat.shape != (p, len(codes or ()))
            or case_cat.dtype != np.float32
        ):
            bad = f"category profiles {case_cat.shape} != {n} cases x {len(codes or ())} categories"
        elif len(set(ids)) != n:
            bad = "duplicate ids"
        if bad:
            raise IndexFormatError(f"{root}: inconsistent index ({bad})")
        if encoder is not None and dim is not None and encoder.dim != dim:
            raise ModelError(
                f"{root}: index dimension {dim} but encoder {encoder.model_id!r} gives {encoder.dim}"
            )
        index._ids, index._titles, index._texts, index._pids = ids, titles, texts, pids
        index._pos = {x: i for i, x in enumerate(ids)}
        index._owner = owner
        index._lex = _Lexical(index.config["ngram_max"], vocab)
        index._case_counts, index._pass_counts = cc, pc
        index._case_emb, index._pass_emb = case_emb, pass_emb
        index._case_cat, index._pass_cat = case_cat, pass_cat
        index._category_codes = codes
        return index


class _Reps(NamedTuple):
    """Query-side representations of q texts or cases: lexical (q, V) CSR, semantic (q, d) and category
    (q, K) float32 (None when that side is off)."""

    lex: sp.csr_matrix
    sem: np.ndarray | None
    cat: np.ndarray | None

    def rows(self, sl: slice) -> _Reps:
        return _Reps(
            self.lex[sl],
            None if self.sem is None else self.sem[sl],
            None if self.cat is None else self.cat[sl],
        )

    def row(self, i: int) -> _Reps:
        return self.rows(slice(i, i + 1))


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows L2-normalised, float32; all-zero rows stay zero."""
    x = np.asarray(x, np.float32)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(np.where(n > 0, x / np.maximum(n, 1e-12), 0.0), dtype=np.float32)


def _stack(a: np.ndarray | None, b: np.ndarray) -> np.ndarray:
    return b if a is None else np.vstack([a, b])


def _widen(m: sp.csr_matrix, v: int) -> sp.csr_matrix:
    """``m`` with its column count grown to ``v`` (the vocabulary only grows)."""
    if m.shape[1] == v:
        return m
    return sp.csr_matrix((m.data, m.indices, m.indptr), shape=(m.shape[0], v))


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k must be a positive int, got {k!r}")
    return int(k)


def _label(text: str) -> str:
    t = " ".join(text.split())
    return t if len(t) <= 16 else t[:15] + "…"
