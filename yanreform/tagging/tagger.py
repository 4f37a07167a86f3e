"""Reform-category tagger: lexicon + prototype similarity + a supervised head, with evidence for every tag.

Pipeline for a batch of passages (every step is batched; nothing per text is heavier than one C-level scan):

1. normalise (:func:`yanreform.text.normalize_text`: NFKC, traditional -> simplified, punctuation), so
   traditional input is analysed exactly like its simplified form;
2. lexicon: one Aho-Corasick scan per passage finds every seed / weak seed of every category
   (:mod:`yanreform._lexicon`);
3. embedding of the normalised passage through the encoder (cached); cosine similarity to the category
   prototypes (definition + exemplar embeddings, shipped with the head), to the "outside" exemplars, and to
   the labelled training passages (nearest positive / negative per category);
4. head: one logistic regression over per-(passage, category) features (:data:`PAIR_FEATURES`) with a learned
   bias per category, i.e. a one-vs-rest decision per category whose weights are shared across categories (the
   labelled data has a few dozen positives per category: shared weights transfer to other cities' text, where
   separate per-category models over the raw embedding overfit). Scores are Platt-calibrated on out-of-fold
   predictions; each category has its own threshold chosen by cross-validation (F1 on out-of-fold scores,
   shrunk towards the pooled threshold), never a fixed 0.5. A tag also needs a seed or weak seed of its
   category in the text (``require_evidence="lexicon"``); outside-work cues (drills, awards, Party meetings,
   funding, staffing) are a feature with a learned negative weight.
5. evidence: the seed spans (offsets into the original text); when the category has no strong seed in the
   text, also the exemplar closest to the passage and the input sentence closest to that exemplar.

``Tagger.default()`` loads the head shipped in ``models/tagger/`` (trained by ``scripts/train_tagger.py``).
"""

from __future__ import annotations

import hashlib
import html
import inspect
import io
import json
import logging
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexFormatError, InputError, ModelError
from .lexicon import OUTSIDE, STRONG, Lexicon, Match
from .taxonomy import Category, Taxonomy, _as_taxonomy

__all__ = [
    "CaseTags",
    "CategorySummary",
    "EvalReport",
    "Evidence",
    "Tag",
    "TagList",
    "Tagger",
    "evaluate_sets",
    "expected_calibration_error",
]

log = logging.getLogger("yanreform")

FORMAT = "yanreform-tagger"
FORMAT_VERSION = 1
_JSON = "tagger.json"
_NPZ = "tagger.npz"
_ARRAYS = (
    "coef",
    "intercept",
    "mean",
    "scale",
    "platt",
    "thresholds",
    "proto_mean",
    "proto_std",
    "proto_emb",
    "proto_cat",
    "outside_emb",
    "ref_emb",
    "ref_labels",
)
#: Features of one (passage, category) pair, in the order of ``Tagger.coef_``.
PAIR_FEATURES = (
    "seed_any",  # a seed of the category occurs
    "seed_count",  # log1p(number of seed matches)
    "weak_any",  # a weak seed occurs
    "weak_count",  # log1p(number of weak-seed matches)
    "seed_in_first_sentence",  # a seed in the first sentence (the heading of an initiative)
    "distinct_seeds",  # log1p(number of distinct seeds)
    "prototype_z",  # category prototype similarity, z-scored per category, centred over categories
    "prototype_minus_outside",  # (best prototype sim - best outside-exemplar sim) x 10
    "knn_margin",  # (nearest labelled positive - nearest labelled negative) x 10
    "knn_positive",  # nearest labelled positive x 10
    "outside_cues",  # log1p(number of outside-work cues: drills, awards, Party meetings, funding, staffing)
)

# Sentence ends for exemplar evidence: Chinese and ASCII terminators, semicolons and line breaks.
_SENT_RE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*")
# Pseudo-positives pulling a category's threshold towards the pooled one (see Tagger.fit). 50 rather than 20:
# with 20-60 positives per category the own threshold is noisy; stronger shrinkage scored better on 5-fold CV,
# on the bundled passages held out and on the stress set (corpus/stress.jsonl), the dev split unchanged.
_THRESHOLD_PRIOR = 50.0
_FIRST_SENT_RE = re.compile(r"[^。！？!?；;\n]*[。！？!?；;\n]?")


# ------------------------------------------------------------------------------------------------------------
# Result records
# ------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a tag was given.

    Attributes:
        start, end: half-open character offsets into the *original* text (``text == original[start:end]``).
        text: the original slice.
        source: ``"lexicon"`` (a seed of the category occurs there) or ``"exemplar"`` (the sentence of
            the input most similar to the category's best-matching exemplar).
        term: the seed as written in the taxonomy, or the exemplar sentence.
    """

    start: int
    end: int
    text: str
    source: str
    term: str


@dataclass(frozen=True, slots=True)
class Tag:
    """One reform category assigned to a passage; ``score`` is a calibrated probability in [0, 1]."""

    code: str
    name: str
    name_en: str
    score: float
    evidence: tuple[Evidence, ...] = ()


class TagList(list):  # list[Tag]
    """The tags of one passage, best first; a plain list that also renders itself in notebooks."""

    def __init__(self, tags: Iterable[Tag] = (), text: str = "") -> None:
        super().__init__(tags)
        self.text = text

    @property
    def codes(self) -> list[str]:
        """The category codes, in score order."""
        return [t.code for t in self]

    def _repr_html_(self) -> str:
        try:
            from ..apps.display import tags_html
        except ImportError:  # display.py is optional for the tagger; fall back to a bare list
            items = "".join(f"<li>{html.escape(t.name)} ({t.code}) {t.score:.2f}</li>" for t in self)
            return f"<ul>{items}</ul>" if items else "<p>(no tag)</p>"
        return tags_html(self.text, list(self))


@dataclass(frozen=True, slots=True)
class CategorySummary:
    """Case-level view of one category: best score and which initiatives carry it."""

    code: str
    name: str
    name_en: str
    score: float  # max over the case's initiatives
    count: int  # number of initiatives tagged with it
    initiative_ids: tuple[str, ...]


@dataclass(frozen=True)
class CaseTags:
    """Tags of one case: per initiative (``{initiative_id: TagList}``), the lead, and a case-level summary.

    ``summary`` is the union of the initiatives' tags (score = max, count = number of initiatives), sorted by
    count then score; when a case has no initiatives the lead's tags stand in.
    """

    case_id: str
    initiatives: dict[str, TagList]
    lead: TagList
    summary: list[CategorySummary] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        """Case-level category codes (summary order)."""
        return [s.code for s in self.summary]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""

        def tags(tl: TagList) -> list[dict[str, Any]]:
            return [
                {
                    "code": t.code,
                    "name": t.name,
                    "score": round(t.score, 4),
                    "evidence": [
                        {"start": e.start, "end": e.end, "text": e.text, "source": e.source, "term": e.term}
                        for e in t.evidence
                    ],
                }
                for t in tl
            ]

        return {
            "case_id": self.case_id,
            "initiatives": {k: tags(v) for k, v in self.initiatives.items()},
            "lead": tags(self.lead),
            "summary": [
                {
                    "code": s.code,
                    "name": s.name,
                    "score": round(s.score, 4),
                    "count": s.count,
                    "initiative_ids": list(s.initiative_ids),
                }
                for s in self.summary
            ],
        }


@dataclass(frozen=True)
class EvalReport:
    """Multi-label evaluation: per-category precision/recall/F1/support, micro and macro averages.

    ``per_category``: ``{code: {"precision", "recall", "f1", "support", "predicted", "tp"}}``. Macro
    averages are taken over categories with support > 0 or at least one prediction (a category absent from
    both the gold labels and the predictions says nothing). ``none_accuracy``: share of passages with no gold
    label that also got no tag (``nan`` if there are none).
    """

    per_category: dict[str, dict[str, float]]
    micro: dict[str, float]
    macro: dict[str, float]
    n: int
    exact_match: float
    none_accuracy: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "per_category": self.per_category,
            "micro": self.micro,
            "macro": self.macro,
            "n": self.n,
            "exact_match": self.exact_match,
            "none_accuracy": self.none_accuracy,
        }

    def to_text(self) -> str:
        """A fixed-width table: one row per category, then micro and macro."""
        w = max([len(c) for c in self.per_category] + [len("micro avg")])
        lines = [f"{'category':<{w}}  precision  recall     f1  support  predicted"]
        for code, r in self.per_category.items():
            lines.append(
                f"{code:<{w}}  {r['precision']:9.3f}  {r['recall']:6.3f}  {r['f1']:5.3f}  "
                f"{int(r['support']):7d}  {int(r['predicted']):9d}"
            )
        for name, r in (("micro avg", self.micro), ("macro avg", self.macro)):
            lines.append(
                f"{name:<{w}}  {r['precision']:9.3f}  {r['recall']:6.3f}  {r['f1']:5.3f}  "
                f"{int(self.micro['support']):7d}  {int(self.micro['predicted']):9d}"
            )
        na = "n/a" if math.isnan(self.none_accuracy) else f"{self.none_accuracy:.3f}"
        lines.append(
            f"passages: {self.n}  exact match: {self.exact_match:.3f}  no-label passages left untagged: {na}"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _prf(tp: float, pred: float, gold: float) -> tuple[float, float, float]:
    p = tp / pred if pred else 0.0
    r = tp / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def evaluate_sets(
    gold: Sequence[Iterable[str]], pred: Sequence[Iterable[str]], codes: Sequence[str]
) -> EvalReport:
    """Compare gold and predicted code sets (one per passage) and build an :class:`EvalReport`."""
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} records but pred has {len(pred)}")
    G = [set(g) for g in gold]
    P = [set(p) for p in pred]
    per: dict[str, dict[str, float]] = {}
    for c in codes:
        tp = sum(1 for g, p in zip(G, P, strict=True) if c in g and c in p)
        npred = sum(1 for p in P if c in p)
        ngold = sum(1 for g in G if c in g)
        p_, r_, f_ = _prf(tp, npred, ngold)
        per[c] = {"precision": p_, "recall": r_, "f1": f_, "support": ngold, "predicted": npred, "tp": tp}
    tp = sum(r["tp"] for r in per.values())
    npred = sum(r["predicted"] for r in per.values())
    ngold = sum(r["support"] for r in per.values())
    mp, mr, mf = _prf(tp, npred, ngold)
    active = [r for r in per.values() if r["support"] or r["predicted"]]
    macro = {
        k: (float(np.mean([r[k] for r in active])) if active else 0.0) for k in ("precision", "recall", "f1")
    }
    none_idx = [i for i, g in enumerate(G) if not g]
    none_acc = (sum(1 for i in none_idx if not P[i]) / len(none_idx)) if none_idx else float("nan")
    exact = (sum(1 for g, p in zip(G, P, strict=True) if g == p) / len(G)) if G else 0.0
    return EvalReport(
        per_category=per,
        micro={"precision": mp, "recall": mr, "f1": mf, "support": ngold, "predicted": npred, "tp": tp},
        macro=macro,
        n=len(G),
        exact_match=exact,
        none_accuracy=none_acc,
    )


def expected_calibration_error(scores: Any, labels: Any, *, bins: int = 10) -> float:
    """Expected calibration error of probability scores against 0/1 labels.

    The (passage, category) pairs are put into ``bins`` equal-width score bins over [0, 1]; the ECE is the
    pair-weighted mean of |mean score - share of positives| over the non-empty bins.

    Args:
        scores: array-like of floats in [0, 1], any shape (e.g. ``predict_proba`` output, (n, k)).
        labels: array-like of 0/1 (or bool) of the same shape.
        bins: number of bins (>= 1).

    Returns:
        The ECE in [0, 1]; 0.0 for empty input.

    Raises:
        ValueError: shapes differ, ``bins < 1``, or a score outside [0, 1].
    """
    p = np.asarray(scores, dtype=np.float64).reshape(-1)
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    if np.shape(scores) != np.shape(labels):
        raise ValueError(f"scores have shape {np.shape(scores)} but labels have shape {np.shape(labels)}")
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    if p.size == 0:
        return 0.0
    if np.nanmin(p) < 0.0 or np.nanmax(p) > 1.0 or np.isnan(p).any():
        raise ValueError("scores must be probabilities in [0, 1]")
    idx = np.minimum((p * bins).astype(np.int64), bins - 1)
    n = np.bincount(idx, minlength=bins).astype(np.float64)
    sp = np.bincount(idx, weights=p, minlength=bins)
    sy = np.bincount(idx, weights=y, minlength=bins)
    nz = n > 0
    return float(np.sum(np.abs(sp[nz] - sy[nz])) / p.size)


# ------------------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------------------
def _check_texts(texts: Any, name: str = "texts") -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, Iterable):
        raise TypeError(f"{name} must be a sequence of str, got {type(texts).__name__}")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise TypeError(f"{name}[{i}] must be str, got {type(t).__name__}")
    return out


def _check_labels(labels: Any, codes: Sequence[str], n: int, name: str = "labels") -> list[list[str]]:
    if isinstance(labels, str) or not isinstance(labels, Iterable):
        raise TypeError(f"{name} must be a sequence of lists of category codes, got {type(labels).__name__}")
    out = list(labels)
    if len(out) != n:
        raise InputError(f"{name} has {len(out)} records but texts has {n}")
    known = set(codes)
    clean: list[list[str]] = []
    for i, lab in enumerate(out):
        if isinstance(lab, str) or not isinstance(lab, Iterable):
            raise TypeError(f"{name}[{i}] must be a list of category codes, got {type(lab).__name__}")
        lab = list(lab)
        for c in lab:
            if not isinstance(c, str) or c not in known:
                raise InputError(f"{name}[{i}]: unknown category code {c!r} (known: {', '.join(codes)})")
        clean.append(lab)
    return clean


def _check_batch_size(batch_size: Any) -> int:
    """``batch_size`` as an int >= 1 (like :class:`yanreform.embed.Encoder`); InputError otherwise."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, Integral) or batch_size < 1:
        raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))


def _sentences(text: str) -> list[tuple[int, int]]:
    """Half-open spans of the sentences of ``text`` (surrounding whitespace trimmed, empty ones dropped)."""
    spans = []
    for m in _SENT_RE.finditer(text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def _best_threshold(y: np.ndarray, p: np.ndarray, *, tol: float = 0.005) -> float:
    """Threshold on scores ``p`` that maximises F1 for labels ``y``.

    Cuts are only made between distinct scores, at the midpoint; when several cuts are within ``tol`` of the
    best F1, the median of those is taken (a plateau's middle is stabler than its edge on a few dozen
    positives).
    """
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order].astype(np.float64)
    tp = np.cumsum(ys)
    k = np.arange(1, len(ps) + 1)
    f1 = 2 * tp / (k + ys.sum())
    valid = np.r_[ps[1:] < ps[:-1], True]
    f1 = np.where(valid, f1, -1.0)
    near = np.flatnonzero(f1 >= f1.max() - tol)
    idx = int(near[len(near) // 2])
    lower = ps[idx + 1] if idx + 1 < len(ps) else max(ps[idx] - 0.05, 0.0)
    return float((ps[idx] + lower) / 2)


# ------------------------------------------------------------------------------------------------------------
# Tagger
# ------------------------------------------------------------------------------------------------------------
class Tagger:
    """Multi-label reform-category tagger (sklearn-style: the constructor only stores configuration).

    The head scores every (passage, category) pair with one logistic regression over category-relative
    features (:data:`PAIR_FEATURES`: seed hits, prototype similarity, nearest labelled passages) plus a
    learned bias per category. Sharing the weights across categories pools the few labelled passages of each
    category, which is what lets it transfer to text written elsewhere; calibration and per-category
    thresholds (chosen on out-of-fold scores) then adapt it to each category.

    Args:
        taxonomy: a :class:`Taxonomy`, a path to a taxonomy TOML file, or None for the shipped taxonomy.
        encoder: a :class:`yanreform.Encoder`; None uses ``Encoder.default()`` when first needed.
        segmenter: optional :class:`yanreform.Segmenter`; when given, a seed counts only where it starts
            and ends on token boundaries (more precise on ambiguous short seeds, slower). None: plain
            substring matching.
        C: inverse L2 regularisation strength of the logistic regression (small = strong).
        knn_weight: weight of the nearest-labelled-passage features relative to the others (below 1 shrinks
            them harder; 0 switches them off).
        class_weight: passed to ``LogisticRegression`` (``"balanced"``: positives are rare).
        cv: folds for the out-of-fold scores that calibrate scores and choose thresholds.
        require_evidence: ``"lexicon"`` (default; also ``True``): a tag needs a seed or weak seed of its
            category in the text on top of a score over threshold, so every tag has a lexical reason;
            ``"seed"``: a (strong) seed is required (higher precision, lower recall); ``False``/``"none"``:
            the score alone decides (tags without a seed are explained by their closest exemplar).
        random_state: seed of the fold shuffling (training is deterministic).

    Learned attributes (after :meth:`fit` or :meth:`load`) end in ``_``: ``coef_`` (f,) float32 and
    ``intercept_`` (k,) of the pair model, ``mean_``/``scale_`` (f,) feature standardisation, ``platt_`` (k,
    2)
    calibration, ``thresholds_`` (k,), ``proto_mean_``/``proto_std_`` (k,), ``proto_emb_`` (m, d) and
    ``proto_cat_`` (m,) prototypes (definition + exemplars), ``outside_emb_`` (o, d), ``ref_emb_`` (n, d) and
    ``ref_labels_`` (n, k) labelled training passages, ``model_id_``, ``taxonomy_``.
    """

    def __init__(
        self,
        taxonomy: Taxonomy | str | Path | None = None,
        *,
        encoder: Any = None,
        segmenter: Any = None,
        C: float = 1.0,
        knn_weight: float = 1.0,
        class_weight: str | None = "balanced",
        cv: int = 5,
        require_evidence: bool | str = "lexicon",
        random_state: int = 0,
    ) -> None:
        self.taxonomy = taxonomy
        self.encoder = encoder
        self.segmenter = segmenter
        self.C = C
        self.knn_weight = knn_weight
        self.class_weight = class_weight
        self.cv = cv
        self.require_evidence = require_evidence
        self.random_state = random_state

    # -- sklearn protocol ------------------------------------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters as a dict (sklearn protocol)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Tagger:
        """Set constructor parameters (sklearn protocol); unknown names raise ValueError."""
        valid = set(self._param_names())
        for k, v in params.items():
            if k not in valid:
                raise ValueError(f"invalid parameter {k!r} for Tagger; valid: {', '.join(sorted(valid))}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        fitted = "fitted" if hasattr(self, "coef_") else "not fitted"
        tax = getattr(self, "taxonomy_", None)
        k = len(tax) if tax is not None else "?"
        return f"Tagger({k} categories, C={self.C}, knn_weight={self.knn_weight}, {fitted})"

    # -- components ------------------------------------------------------------------------------------------
    def _get_encoder(self) -> Any:
        enc = self.encoder
        if enc is None:
            from ..embed.encoder import Encoder

            enc = Encoder.default()
        want = getattr(self, "model_id_", None)
        if want is not None and enc.model_id != want:
            raise ModelError(
                f"this tagger was trained on embeddings of {want!r} but the encoder is {enc.model_id!r}; "
                "pass encoder= with that model or retrain the tagger (Tagger.fit / scripts/train_tagger.py)"
            )
        return enc

    def _lexicon(self) -> Lexicon:
        lex = getattr(self, "_lexicon_cache", None)
        if lex is None or lex.taxonomy is not self.taxonomy_:
            lex = Lexicon(self.taxonomy_)
            self._lexicon_cache = lex
        return lex

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise ModelError(
                "this Tagger is not fitted: call fit(texts, labels), or use Tagger.default()/load()"
            )

    # -- signals ---------------------------------------------------------------------------------------------
    def _normalize(self, texts: Sequence[str]) -> list[str]:
        from ..text.normalize import normalize_text

        return [normalize_text(t) for t in texts]

    def _matches(self, norms: Sequence[str]) -> list[list[Match]]:
        lex = self._lexicon()
        out = [lex.find(t) for t in norms]
        if self.segmenter is not None:
            out = [self._on_boundaries(t, ms) for t, ms in zip(norms, out, strict=True)]
        return out

    def _on_boundaries(self, norm: str, matches: list[Match]) -> list[Match]:
        if not matches:
            return matches
        bounds = {0, len(norm)}
        for tok in self.segmenter.tokenize(norm):
            bounds.add(tok.start)
            bounds.add(tok.end)
        return [m for m in matches if m.start in bounds and m.end in bounds]

    def _encode(
        self, norms: Sequence[str], batch_size: int = 256, show_progress: bool | None = None
    ) -> np.ndarray:
        """Embeddings (n, d) float32 of the non-empty texts (zero rows for empty ones), in batches."""
        enc = self._get_encoder()
        d = int(enc.dim)
        E = np.zeros((len(norms), d), dtype=np.float32)
        idx = [i for i, t in enumerate(norms) if t.strip()]
        step = _check_batch_size(batch_size)
        starts: Iterable[int] = range(0, len(idx), step)
        if show_progress:
            from tqdm import tqdm  # text bar on stderr; tqdm.auto warns in notebooks without ipywidgets

            starts = tqdm(starts, desc="encoding", unit="batch")
        for s in starts:
            chunk = idx[s : s + step]
            X = np.asarray(enc.encode([norms[i] for i in chunk]), dtype=np.float32)
            if X.ndim != 2 or X.shape[1] != d:
                raise ModelError(f"encoder returned shape {X.shape}, expected (n, {d})")
            E[chunk] = X
        return E

    def _lex_arrays(self, norms: Sequence[str], matches: Sequence[list[Match]]) -> dict[str, np.ndarray]:
        """Per (text, category) lexicon statistics, each float32 (n, k)."""
        n, k = len(matches), len(self.taxonomy_)
        strong = np.zeros((n, k), np.float32)
        weak = np.zeros((n, k), np.float32)
        first = np.zeros((n, k), np.float32)
        distinct = np.zeros((n, k), np.float32)
        outside = np.zeros((n, 1), np.float32)
        for i, ms in enumerate(matches):
            if not ms:
                continue
            # The first sentence is usually the initiative's heading: a seed there is the strongest cue.
            m0 = _FIRST_SENT_RE.match(norms[i])
            fe = m0.end() if m0 else len(norms[i])
            seen: set[tuple[int, str]] = set()
            for m in ms:
                if m.category == OUTSIDE:
                    outside[i, 0] += 1.0
                elif m.kind == STRONG:
                    strong[i, m.category] += 1.0
                    if m.start < fe:
                        first[i, m.category] = 1.0
                    if (m.category, m.term) not in seen:
                        seen.add((m.category, m.term))
                        distinct[i, m.category] += 1.0
                else:
                    weak[i, m.category] += 1.0
        return {"strong": strong, "weak": weak, "first": first, "distinct": distinct, "outside": outside}

    def _proto_sims(self, E: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sims to every prototype row (n, m), per-category max (n, k), outside max (n, 1)); float32."""
        S = E @ self.proto_emb_.T
        k = len(self.taxonomy_)
        starts = np.searchsorted(self.proto_cat_, np.arange(k))
        cat_max = np.maximum.reduceat(S, starts, axis=1)
        if len(self.outside_emb_):
            out_max = (E @ self.outside_emb_.T).max(axis=1, keepdims=True)
        else:
            out_max = np.zeros((len(E), 1), np.float32)
        return S, cat_max.astype(np.float32), out_max.astype(np.float32)

    def _knn(
        self, E: np.ndarray, ref_E: np.ndarray, ref_Y: np.ndarray, exclude_self: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per category, the highest similarity to a labelled positive and to a labelled negative (n, k)."""
        n, k = len(E), ref_Y.shape[1]
        pos = np.full((n, k), -1.0, np.float32)
        neg = np.full((n, k), -1.0, np.float32)
        if not len(ref_E):
            return pos, neg
        S = E @ ref_E.T
        if exclude_self:
            np.fill_diagonal(S, -1.0)
        for j in range(k):
            yj = ref_Y[:, j] > 0
            if yj.any():
                pos[:, j] = S[:, yj].max(axis=1)
            if (~yj).any():
                neg[:, j] = S[:, ~yj].max(axis=1)
        return pos, neg

    def _pair_features(
        self,
        lexa: dict[str, np.ndarray],
        cat_max: np.ndarray,
        out_max: np.ndarray,
        kpos: np.ndarray,
        kneg: np.ndarray,
        proto_mean: np.ndarray,
        proto_std: np.ndarray,
    ) -> np.ndarray:
        """Raw pair features, float32 (n, k, len(PAIR_FEATURES))."""
        s, w = lexa["strong"], lexa["weak"]
        pz = (cat_max - proto_mean) / proto_std
        cols = [
            (s > 0),
            np.log1p(s),
            (w > 0),
            np.log1p(w),
            lexa["first"],
            np.log1p(lexa["distinct"]),
            pz - pz.mean(axis=1, keepdims=True),
            (cat_max - out_max) * 10.0,
            (kpos - kneg) * 10.0,
            kpos * 10.0,
            np.broadcast_to(np.log1p(lexa["outside"]), s.shape),
        ]
        return np.stack([c.astype(np.float32) for c in cols], axis=-1)

    def _evidence_mask(self, lexa: dict[str, np.ndarray], j: int | None = None) -> np.ndarray:
        """Where the evidence rule allows a tag: bool (n, k), or (n,) for column ``j`` (all True when off)."""
        mode = self.require_evidence_
        if mode == "seed":
            m = lexa["strong"] > 0
        elif mode == "lexicon":
            m = (lexa["strong"] > 0) | (lexa["weak"] > 0)
        else:
            m = np.ones_like(lexa["strong"], dtype=bool)
        return m if j is None else m[:, j]

    # -- the pair model --------------------------------------------------------------------------------------
    def _fit_pairs(
        self, F: np.ndarray, Y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Fit the shared logistic regression on pair features F (n, k, f) and labels Y (n, k).

        Returns (coef (f,), intercept (k,), mean (f,), scale (f,)).
        """
        from sklearn.linear_model import LogisticRegression

        n, k, f = F.shape
        X = F.reshape(n * k, f).astype(np.float64)
        mean = X.mean(axis=0)
        sd = X.std(axis=0)
        scale = np.where(sd > 1e-6, sd, 1.0)
        # Column weights after standardisation act as per-block regularisation: a weight w scales the L2
        # penalty on that coefficient by 1/w^2 (0 switches the column off).
        colw = np.ones(f)
        colw[[PAIR_FEATURES.index("knn_margin"), PAIR_FEATURES.index("knn_positive")]] = float(
            self.knn_weight
        )
        Xs = (X - mean) / scale * colw
        # One-hot category columns give each category its own bias (shrunk towards the shared one by C).
        onehot = np.tile(np.eye(k), (n, 1))
        y = Y.reshape(-1)
        model = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=5000, solver="lbfgs")
        model.fit(np.hstack([Xs, onehot]), y)
        coef = model.coef_[0]
        intercept = model.intercept_[0] + coef[f:]
        return (
            (coef[:f] * colw).astype(np.float32),
            intercept.astype(np.float32),
            mean.astype(np.float32),
            scale.astype(np.float32),
        )

    @staticmethod
    def _pair_logits(
        F: np.ndarray, coef: np.ndarray, intercept: np.ndarray, mean: np.ndarray, scale: np.ndarray
    ) -> np.ndarray:
        """Logits (n, k) of the pair model: one matrix product over all pairs."""
        return ((F - mean) / scale) @ coef + intercept

    def _signals(
        self, norms: Sequence[str], E: np.ndarray, matches: Sequence[list[Match]]
    ) -> dict[str, np.ndarray]:
        lexa = self._lex_arrays(norms, matches)
        _, cat_max, out_max = self._proto_sims(E)
        return {"lex": lexa, "cat_max": cat_max, "out_max": out_max}  # type: ignore[dict-item]

    # -- fitting ---------------------------------------------------------------------------------------------
    def _build_prototypes(self, enc: Any, tax: Taxonomy) -> None:
        from ..text.normalize import normalize_text

        rows: list[str] = []
        cats: list[int] = []
        for ci, cat in enumerate(tax):
            items = [cat.definition or cat.name, *cat.exemplars]
            rows.extend(items)
            cats.extend([ci] * len(items))
        self.proto_text_ = rows
        self.proto_emb_ = np.asarray(enc.encode([normalize_text(t) for t in rows]), dtype=np.float32)
        self.proto_cat_ = np.asarray(cats, dtype=np.int64)
        outs = list(tax.outside_exemplars)
        self.outside_emb_ = (
            np.asarray(enc.encode([normalize_text(t) for t in outs]), dtype=np.float32)
            if outs
            else np.zeros((0, self.proto_emb_.shape[1]), np.float32)
        )

    def fit(
        self, texts: Sequence[str], labels: Sequence[Sequence[str]], *, show_progress: bool | None = None
    ) -> Tagger:
        """Train the head on labelled passages.

        Args:
            texts: passages (str).
            labels: one list of category codes per passage (an empty list = no category).

        Returns:
            self.

        Raises:
            TypeError: ``texts``/``labels`` of the wrong type (the message names the argument and index).
            InputError (a ValueError): an unknown code (naming the code and the record index), fewer than
                two texts, no positive label, or a length mismatch.
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import KFold

        texts = _check_texts(texts)
        tax = _as_taxonomy(self.taxonomy)
        labels = _check_labels(labels, tax.codes, len(texts))
        if len(texts) < 2:
            raise InputError(f"fit needs at least two labelled texts, got {len(texts)}")
        self.taxonomy_ = tax
        self.require_evidence_ = _evidence_mode(self.require_evidence)
        enc = self._get_encoder()
        self.model_id_ = str(enc.model_id)
        self._build_prototypes(enc, tax)

        norms = self._normalize(texts)
        matches = self._matches(norms)
        E = self._encode(norms, show_progress=show_progress)
        sig = self._signals(norms, E, matches)
        k = len(tax)
        Y = np.zeros((len(texts), k), dtype=np.int8)
        for i, lab in enumerate(labels):
            for c in lab:
                Y[i, tax.index(c)] = 1
        if Y.sum() == 0:
            raise InputError("fit needs at least one positive label")
        cat_max = sig["cat_max"]

        def features(rows: np.ndarray, ref: np.ndarray, same: bool) -> np.ndarray:
            pm, ps = cat_max[ref].mean(axis=0), cat_max[ref].std(axis=0) + 1e-6
            kp, kn = self._knn(E[rows], E[ref], Y[ref], exclude_self=same)
            lexa = {key: v[rows] for key, v in sig["lex"].items()}
            return self._pair_features(lexa, cat_max[rows], sig["out_max"][rows], kp, kn, pm, ps)

        # Out-of-fold logits: every passage scored by a model that never saw it (nor used it as a neighbour).
        n = len(texts)
        folds = max(2, min(int(self.cv), n))
        oof = np.zeros((n, k), dtype=np.float64)
        for tr, te in KFold(n_splits=folds, shuffle=True, random_state=self.random_state).split(np.arange(n)):
            coef, icpt, mean, scale = self._fit_pairs(features(tr, tr, True), Y[tr])
            oof[te] = self._pair_logits(features(te, tr, False), coef, icpt, mean, scale)

        # Calibration: one Platt scaling pooled over all categories (per-category Platt on a few dozen
        # positives turns near-separable categories into 0/1 scores), then per-category thresholds on the
        # calibrated out-of-fold scores.
        platt = LogisticRegression(C=1.0, max_iter=1000).fit(oof.reshape(-1, 1), Y.reshape(-1))
        a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
        if a <= 0:  # the head learned nothing useful: keep raw scores rather than invert them
            a, b = 1.0, 0.0
        self.platt_ = np.tile(np.array([a, b], np.float32), (k, 1))
        # Passages the evidence rule blocks can never be tagged: score them 0 when choosing thresholds.
        P_oof = np.where(self._evidence_mask(sig["lex"]), _sigmoid(a * oof + b), 0.0)
        # Per-category thresholds from a few dozen positives are noisy: shrink each towards the threshold that
        # is best over all categories pooled, with the weight of _THRESHOLD_PRIOR pseudo-positives.
        pooled = _best_threshold(Y.reshape(-1), P_oof.reshape(-1))
        self.thresholds_ = np.full(k, pooled, dtype=np.float32)
        for j, code in enumerate(tax.codes):
            y = Y[:, j]
            npos = int(y.sum())
            if npos < 2 or npos == n:
                log.warning("category %r has %d positives of %d: pooled threshold used", code, npos, n)
                continue
            own = _best_threshold(y, P_oof[:, j])
            self.thresholds_[j] = (npos * own + _THRESHOLD_PRIOR * pooled) / (npos + _THRESHOLD_PRIOR)

        allr = np.arange(n)
        self.proto_mean_ = cat_max.mean(axis=0).astype(np.float32)
        self.proto_std_ = (cat_max.std(axis=0) + 1e-6).astype(np.float32)
        self.coef_, self.intercept_, self.mean_, self.scale_ = self._fit_pairs(features(allr, allr, True), Y)
        self.ref_emb_ = E
        self.ref_labels_ = Y
        self.n_train_ = n
        self.oof_logits_ = oof.astype(np.float32)
        return self

    # -- inference -------------------------------------------------------------------------------------------
    def _score(self, texts: list[str], batch_size: int, show_progress: bool | None) -> dict[str, Any]:
        norms = self._normalize(texts)
        matches = self._matches(norms)
        E = self._encode(norms, batch_size=batch_size, show_progress=show_progress)
        sig = self._signals(norms, E, matches)
        kp, kn = self._knn(E, self.ref_emb_, self.ref_labels_, exclude_self=False)
        F = self._pair_features(
            sig["lex"], sig["cat_max"], sig["out_max"], kp, kn, self.proto_mean_, self.proto_std_
        )
        logits = self._pair_logits(F, self.coef_, self.intercept_, self.mean_, self.scale_)
        P = _sigmoid(self.platt_[:, 0] * logits + self.platt_[:, 1]).astype(np.float32)
        empty = np.array([not t.strip() for t in norms])
        P[empty] = 0.0
        D = (self.thresholds_[None, :] <= P) & ~empty[:, None]
        D &= self._evidence_mask(sig["lex"])
        return {"norms": norms, "matches": matches, "E": E, "P": P, "D": D}

    def predict_proba(self, texts: Sequence[str], *, batch_size: int = 256) -> np.ndarray:
        """Calibrated scores, float32 (n, k) in taxonomy order (``self.taxonomy_.codes``); "" scores 0."""
        self._check_fitted()
        texts = _check_texts(texts)
        _check_batch_size(batch_size)
        if not texts:
            return np.zeros((0, len(self.taxonomy_)), np.float32)
        return self._score(texts, batch_size, None)["P"]

    def predict(self, texts: Sequence[str], *, batch_size: int = 256) -> np.ndarray:
        """Tag decisions, bool (n, k) in taxonomy order (thresholds and evidence rule applied)."""
        self._check_fitted()
        texts = _check_texts(texts)
        _check_batch_size(batch_size)
        if not texts:
            return np.zeros((0, len(self.taxonomy_)), bool)
        return self._score(texts, batch_size, None)["D"]

    def tag(self, text: str) -> TagList:
        """Tag one passage.

        Returns:
            A :class:`TagList` (list of :class:`Tag`, best score first); ``""`` gives an empty list.

        Raises:
            TypeError: ``text`` is not a str.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be str, got {type(text).__name__}")
        return self.tag_many([text])[0]

    def tag_many(
        self, texts: Sequence[str], *, batch_size: int = 256, show_progress: bool | None = None
    ) -> list[TagList]:
        """Tag many passages: one :class:`TagList` per input, in input order.

        Encoding goes through the encoder in batches of ``batch_size`` (cached embeddings cost a lookup); the
        lexicon and the head run vectorised over the whole batch.

        Raises:
            TypeError: ``texts`` is not a sequence of str (the message names the offending index).
            InputError (a ValueError): ``batch_size`` is not an integer >= 1.
        """
        self._check_fitted()
        texts = _check_texts(texts)
        _check_batch_size(batch_size)
        if not texts:
            return []
        r = self._score(texts, batch_size, show_progress)
        P, D, matches, E = r["P"], r["D"], r["matches"], r["E"]
        cats = self.taxonomy_.categories
        need_sent: list[tuple[int, int, int]] = []  # (text index, position in its tag list, prototype row)
        per_text: list[list[list[Any]]] = [[] for _ in texts]
        rows_i, rows_j = np.nonzero(D)
        if rows_i.size:
            tagged = np.unique(rows_i)
            S = E[tagged] @ self.proto_emb_.T
            srow = {int(i): n for n, i in enumerate(tagged.tolist())}
            by_text: dict[int, list[int]] = {}
            for i, j in zip(rows_i.tolist(), rows_j.tolist(), strict=True):
                by_text.setdefault(i, []).append(j)
            for i, js in by_text.items():
                text = texts[i]
                js.sort(key=lambda j, i=i: (-float(P[i, j]), j))
                lex_by_cat: dict[int, list[Match]] = {}
                for m in matches[i]:
                    lex_by_cat.setdefault(m.category, []).append(m)
                mapper = None
                items = per_text[i]
                for j in js:
                    ms = lex_by_cat.get(j, [])
                    shown = [m for m in ms if m.kind == STRONG] or ms
                    ev: list[Evidence] = []
                    if shown:
                        if mapper is None:
                            mapper = _span_mapper(text, r["norms"][i])
                        for m in shown:
                            s, e = mapper(m.start, m.end)
                            ev.append(Evidence(s, e, text[s:e], "lexicon", m.term))
                    if not any(m.kind == STRONG for m in ms):
                        # No seed of this category: explain by the closest exemplar and the sentence
                        # matching it.
                        cols = np.flatnonzero(self.proto_cat_ == j)
                        best = int(cols[np.argmax(S[srow[i], cols])])
                        need_sent.append((i, len(items), best))
                    items.append([cats[j], float(P[i, j]), ev])
        if need_sent:
            self._add_exemplar_evidence(texts, per_text, need_sent, batch_size)
        return [
            TagList((Tag(c.code, c.name, c.name_en, s, tuple(ev)) for c, s, ev in items), text=texts[i])
            for i, items in enumerate(per_text)
        ]

    def _add_exemplar_evidence(
        self,
        texts: Sequence[str],
        per_text: list[list[list[Any]]],
        need: list[tuple[int, int, int]],
        batch_size: int,
    ) -> None:
        from ..text.normalize import normalize_text

        spans_of: dict[int, list[tuple[int, int]]] = {}
        to_encode: list[str] = []
        offset: dict[int, int] = {}
        for i, _, _ in need:
            if i not in spans_of:
                spans = _sentences(texts[i]) or [(0, len(texts[i]))]
                spans_of[i] = spans
                if len(spans) > 1:
                    offset[i] = len(to_encode)
                    to_encode.extend(normalize_text(texts[i][s:e]) for s, e in spans)
        emb = self._encode(to_encode, batch_size=batch_size) if to_encode else None
        for i, slot, row in need:
            spans = spans_of[i]
            if len(spans) > 1 and emb is not None:
                sims = emb[offset[i] : offset[i] + len(spans)] @ self.proto_emb_[row]
                s, e = spans[int(np.argmax(sims))]
            else:
                s, e = spans[0]
            per_text[i][slot][2].append(Evidence(s, e, texts[i][s:e], "exemplar", self.proto_text_[row]))

    def tag_case(self, case: Any, *, batch_size: int = 256) -> CaseTags:
        """Tag every initiative of a :class:`yanreform.Case` (and its lead) and summarise at case level."""
        inits = list(getattr(case, "initiatives", ()))
        lead = getattr(case, "lead", "") or ""
        if not isinstance(lead, str):
            raise TypeError(f"case.lead must be str, got {type(lead).__name__}")
        results = self.tag_many([x.text for x in inits] + [lead], batch_size=batch_size)
        per = {x.id: tl for x, tl in zip(inits, results[:-1], strict=True)}
        lead_tags = results[-1]
        agg: dict[str, list[Any]] = {}
        source = per.items() if inits else [(f"{getattr(case, 'id', 'case')}-lead", lead_tags)]
        for iid, tl in source:
            for t in tl:
                a = agg.setdefault(t.code, [t, 0.0, []])
                a[1] = max(a[1], t.score)
                a[2].append(iid)
        summary = [
            CategorySummary(t.code, t.name, t.name_en, score, len(ids), tuple(ids))
            for t, score, ids in agg.values()
        ]
        summary.sort(key=lambda s: (-s.count, -s.score, s.code))
        return CaseTags(
            case_id=str(getattr(case, "id", "")), initiatives=per, lead=lead_tags, summary=summary
        )

    def evaluate(
        self, texts: Sequence[str], labels: Sequence[Sequence[str]], *, batch_size: int = 256
    ) -> EvalReport:
        """Tag ``texts`` and compare with ``labels`` (one list of codes per text).

        Raises:
            TypeError / InputError: as for :meth:`fit` (unknown code -> InputError naming the code and index);
                InputError for a ``batch_size`` below 1.
        """
        self._check_fitted()
        texts = _check_texts(texts)
        labels = _check_labels(labels, self.taxonomy_.codes, len(texts))
        _check_batch_size(batch_size)
        D = self.predict(texts, batch_size=batch_size) if texts else np.zeros((0, len(self.taxonomy_)), bool)
        codes = self.taxonomy_.codes
        pred = [[codes[j] for j in np.flatnonzero(row)] for row in D]
        return evaluate_sets(labels, pred, codes)

    # -- persistence -----------------------------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        return {name: np.ascontiguousarray(getattr(self, name + "_")) for name in _ARRAYS}

    def save(self, path: str | Path) -> Path:
        """Write the fitted tagger to the folder ``path`` (``tagger.json`` + ``tagger.npz``; no pickle).

        The folder is created if needed; an existing one must be empty or already hold a saved tagger
        (``tagger.json``), whose two files are then replaced.

        Returns:
            The folder path.

        Raises:
            InputError: ``path`` is a file, or a non-empty folder that is not a saved tagger.
        """
        self._check_fitted()
        p = Path(path)
        if p.exists() and not p.is_dir():
            raise InputError(f"{p} is a file; Tagger.save writes a folder")
        if p.exists() and not (p / _JSON).is_file() and any(p.iterdir()):
            raise InputError(f"{p} exists and is not a saved tagger; refusing to write into it")
        p.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.savez_compressed(buf, **self._arrays())
        blob = buf.getvalue()
        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "model_id": self.model_id_,
            "dim": int(self.proto_emb_.shape[1]),
            "taxonomy_hash": self.taxonomy_.hash,
            "taxonomy": self.taxonomy_.to_dict(),
            "params": {
                k: v for k, v in self.get_params().items() if k not in ("taxonomy", "encoder", "segmenter")
            },
            "pair_features": list(PAIR_FEATURES),
            "require_evidence": self.require_evidence_,
            "uses_segmenter": self.segmenter is not None,
            "proto_text": self.proto_text_,
            "n_train": int(getattr(self, "n_train_", 0)),
            "npz_sha256": hashlib.sha256(blob).hexdigest(),
            "info": getattr(self, "info_", {}),
        }
        (p / _NPZ).write_bytes(blob)
        (p / _JSON).write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return p

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        taxonomy: Taxonomy | str | Path | None = None,
        encoder: Any = None,
        segmenter: Any = None,
    ) -> Tagger:
        """Load a tagger written by :meth:`save`.

        Args:
            path: the folder (or its ``tagger.json``).
            taxonomy: if given, must be the taxonomy the tagger was trained with (checked by content hash);
                None uses the copy stored with the tagger.
            encoder: encoder to use; its ``model_id`` must match the one recorded at training (checked here if
                given, else when the default encoder is first used).

        Raises:
            IndexFormatError: missing/corrupt files, unknown format or version, or a taxonomy that differs.
            ModelError: the encoder's model differs from the one the tagger was trained with.
        """
        p = Path(path)
        if p.name == _JSON:
            p = p.parent
        jpath, npath = p / _JSON, p / _NPZ
        if not jpath.is_file() or not npath.is_file():
            raise IndexFormatError(f"{p}: not a saved tagger (expected {_JSON} and {_NPZ} in the folder)")
        try:
            meta = json.loads(jpath.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IndexFormatError(f"{jpath}: corrupt tagger metadata ({exc})") from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise IndexFormatError(f"{jpath}: field 'format' is not {FORMAT!r}; not a yanreform tagger")
        if meta.get("version") != FORMAT_VERSION:
            raise IndexFormatError(
                f"{jpath}: field 'version' is {meta.get('version')!r}; "
                f"this yanreform reads version {FORMAT_VERSION}"
            )
        if meta.get("pair_features") != list(PAIR_FEATURES):
            raise IndexFormatError(f"{jpath}: field 'pair_features' does not match this yanreform's features")
        blob = npath.read_bytes()
        if hashlib.sha256(blob).hexdigest() != meta.get("npz_sha256"):
            raise IndexFormatError(
                f"{npath}: checksum does not match {jpath.name} (file corrupt or replaced)"
            )
        try:
            with np.load(io.BytesIO(blob), allow_pickle=False) as z:
                arrays = {name: z[name] for name in _ARRAYS}
        except (KeyError, ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise IndexFormatError(f"{npath}: corrupt tagger arrays ({exc})") from exc
        for key in ("taxonomy", "params", "model_id", "proto_text", "dim"):
            if key not in meta:
                raise IndexFormatError(f"{jpath}: missing field {key!r}")
        try:
            stored = _taxonomy_from_dict(meta["taxonomy"], jpath)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise IndexFormatError(f"{jpath}: field 'taxonomy' is malformed ({exc})") from exc
        params = meta["params"]
        if not isinstance(params, dict):
            raise IndexFormatError(f"{jpath}: field 'params' is {type(params).__name__}, expected an object")
        model_id = meta["model_id"]
        if not isinstance(model_id, str) or not model_id:
            raise IndexFormatError(f"{jpath}: field 'model_id' is {model_id!r}, expected a non-empty string")
        proto_text = meta["proto_text"]
        if not isinstance(proto_text, list) or not all(isinstance(t, str) for t in proto_text):
            raise IndexFormatError(f"{jpath}: field 'proto_text' is not a list of strings")
        d = meta["dim"]
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise IndexFormatError(f"{jpath}: field 'dim' is {d!r}, expected an integer >= 1")
        n_train = meta.get("n_train", 0)
        if isinstance(n_train, bool) or not isinstance(n_train, int) or n_train < 0:
            raise IndexFormatError(f"{jpath}: field 'n_train' is {n_train!r}, expected an integer >= 0")
        info = meta.get("info", {})
        if not isinstance(info, dict):
            raise IndexFormatError(f"{jpath}: field 'info' is {type(info).__name__}, expected an object")
        try:
            require_evidence = _evidence_mode(meta.get("require_evidence", "lexicon"))
        except ValueError as exc:
            raise IndexFormatError(f"{jpath}: field 'require_evidence': {exc}") from exc
        if stored.hash != meta.get("taxonomy_hash"):
            raise IndexFormatError(f"{jpath}: field 'taxonomy_hash' does not match the stored taxonomy")
        tax = stored
        if taxonomy is not None:
            tax = _as_taxonomy(taxonomy)
            if tax.hash != stored.hash:
                raise IndexFormatError(
                    f"{jpath}: the tagger was trained with a different taxonomy "
                    f"(hash {stored.hash[:12]}, given "
                    f"{tax.hash[:12]} from {tax.source}); retrain it or load without taxonomy="
                )
        k, f, m = len(tax), len(PAIR_FEATURES), len(proto_text)
        nref = arrays["ref_emb"].shape[0] if arrays["ref_emb"].ndim == 2 else -1
        shapes = {
            "coef": (f,),
            "intercept": (k,),
            "mean": (f,),
            "scale": (f,),
            "platt": (k, 2),
            "thresholds": (k,),
            "proto_mean": (k,),
            "proto_std": (k,),
            "proto_emb": (m, d),
            "proto_cat": (m,),
            "outside_emb": (arrays["outside_emb"].shape[0], d),
            "ref_emb": (nref, d),
            "ref_labels": (nref, k),
        }
        for name, shape in shapes.items():
            if arrays[name].shape != shape:
                raise IndexFormatError(
                    f"{npath}: array {name!r} has shape {arrays[name].shape}, expected {shape}"
                )
        self = cls(
            tax,
            encoder=encoder,
            segmenter=segmenter,
            **{k_: v for k_, v in params.items() if k_ in cls._param_names()},
        )
        self.taxonomy_ = tax
        self.model_id_ = model_id
        self.require_evidence_ = require_evidence
        self.proto_text_ = proto_text
        self.n_train_ = n_train
        self.info_ = info
        for name in _ARRAYS:
            a = arrays[name]
            setattr(
                self,
                name + "_",
                a.astype(np.int64)
                if name == "proto_cat"
                else a.astype(np.int8)
                if name == "ref_labels"
                else a.astype(np.float32),
            )
        if encoder is not None:
            self._get_encoder()  # raises ModelError on a model mismatch
        return self

    @classmethod
    def default(cls) -> Tagger:
        """The tagger shipped in ``models/tagger/`` (loaded, never trained, at call time; shared instance).

        Raises:
            ModelError: the shipped head is missing, or was trained with a taxonomy other than the shipped
                ``models/taxonomy.toml`` (retrain with ``scripts/train_tagger.py``).
        """
        global _DEFAULT
        if _DEFAULT is None:
            from .._resources import models_dir

            folder = models_dir() / "tagger"
            if not (folder / _JSON).is_file():
                raise ModelError(f"no shipped tagger in {folder}; train one with scripts/train_tagger.py")
            try:
                _DEFAULT = cls.load(folder, taxonomy=Taxonomy.load())
            except IndexFormatError as exc:
                raise ModelError(f"shipped tagger does not match the shipped taxonomy: {exc}") from exc
        return _DEFAULT


_DEFAULT: Tagger | None = None


def _evidence_mode(value: bool | str) -> str:
    if value is True or value == "lexicon":
        return "lexicon"
    if value is False or value in ("none", None):
        return "none"
    if value == "seed":
        return "seed"
    raise ValueError(f"require_evidence must be True/'lexicon', 'seed' or False/'none', got {value!r}")


def _taxonomy_from_dict(d: dict[str, Any], where: Path) -> Taxonomy:
    cats = tuple(
        Category(
            code=c["code"],
            name=c["name"],
            name_en=c.get("name_en", ""),
            definition=c.get("definition", ""),
            definition_en=c.get("definition_en", ""),
            seeds=tuple(c.get("seeds", ())),
            weak_seeds=tuple(c.get("weak_seeds", ())),
            exemplars=tuple(c.get("exemplars", ())),
        )
        for c in d["category"]
    )
    out = d.get("outside", {})
    return Taxonomy(
        cats,
        outside_definition=out.get("definition", ""),
        outside_exemplars=tuple(out.get("exemplars", ())),
        version=int(d.get("version", 1)),
        source=f"{where} (stored taxonomy)",
    )


def _span_mapper(original: str, norm: str) -> Any:
    """Map half-open spans of the normalised text back to the original (identity when nothing changed)."""
    if original == norm:
        return lambda s, e: (s, e)
    from ..text.normalize import normalize

    n = normalize(original)
    return n.span
