"""Reform-category tagger: lexicon + prototype similarity + a supervised head, with evidence for every tag.

Pipeline for a batch of passages (every step is batched; each passage is analysed once,
:mod:`yanreform.text.analysis`):

1. analysis: each text is normalised once (NFKC, traditional -> simplified, punctuation), so traditional input
   is analysed exactly like its simplified form; a caller may pass :class:`~yanreform.text.Analysis` values
   it already holds, and their matches and embeddings are reused;
2. lexicon: one Aho-Corasick scan per passage finds every seed / weak seed of every category
   (:mod:`yanreform.tagging.lexicon`);
3. embedding of the normalised passage through the encoder; cosine similarity to the category prototypes
   (definition + exemplar embeddings, shipped with the head), to the "outside" exemplars, and to the labelled
   training passages (nearest positive / negative per category);
4. head: one logistic regression over per-(passage, category) features
   (:data:`~yanreform.tagging.features.PAIR_FEATURES`) with a learned bias per category, i.e. a one-vs-rest
   decision per category whose weights are shared across categories (the labelled data has a few dozen
   positives per category: shared weights transfer to other cities' text, where separate per-category models
   over the raw embedding overfit). Scores are Platt-calibrated on out-of-fold predictions; each category has
   its own threshold chosen by cross-validation (F1 on out-of-fold scores, shrunk towards the pooled
   threshold), never a fixed 0.5. A tag also needs a seed or weak seed of its category in the text
   (``require_evidence="lexicon"``); outside-work cues (drills, awards, Party meetings, funding, staffing) are
   a feature with a learned negative weight.
5. evidence: the seed spans (offsets into the original text); when the category has no strong seed in the
   text, also the exemplar closest to the passage and the input sentence closest to that exemplar.

``Tagger.default()`` loads the head shipped in ``models/tagger/`` (trained by ``scripts/train_tagger.py``).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, ModelError, TaggerFormatError, check_batch_size
from ..text.analysis import Analysis, Analyzer, TextLike, analyses_of
from . import features as ft
from . import persist
from .evaluate import EvalReport, check_labels, evaluate_sets
from .evidence import tag_lists
from .lexicon import Lexicon, Match
from .ngrams import CharNgrams, ridge_fit, ridge_scores
from .records import CaseTags, CategorySummary, TagList
from .taxonomy import Taxonomy, as_taxonomy

if TYPE_CHECKING:
    from ..corpus import Case
    from ..embed.encoder import Encoder
    from ..text.segment import Segmenter

__all__ = ["Tagger"]


class Tagger:
    """Multi-label reform-category tagger (sklearn-style: the constructor only stores configuration).

    The head scores every (passage, category) pair with one logistic regression over category-relative
    features (seed hits, outside-work cues, prototype similarity, and the category's score from two ridge
    models trained on the labelled passages: one on character n-gram TF-IDF, one on the passage embedding)
    plus a learned bias per category. Sharing the weights across categories pools the few labelled passages of
    each category, which is what lets it transfer to text written elsewhere; calibration and per-category
    thresholds (chosen on out-of-fold scores) then adapt it to each category. The ridge scores it learns from
    are out-of-fold too, so the head weighs them as they behave on unseen text.

    ``features="fast"`` leaves out everything that needs the neural encoder (prototype similarity and the
    embedding ridge): lexicon and n-gram features only, no torch, thousands of passages a second.

    Args:
        taxonomy: a :class:`Taxonomy`, a path to a taxonomy TOML file, or None for the shipped taxonomy.
        encoder: a :class:`yanreform.Encoder`; None uses the shared default encoder (``Encoder.default()``).
        segmenter: optional :class:`yanreform.Segmenter`; when given, a seed counts only where it starts
            and ends on token boundaries (more precise on ambiguous short seeds, slower). None: plain
            substring matching.
        features: ``"full"`` (default) or ``"fast"`` (no encoder; see above).
        C: inverse L2 regularisation strength of the logistic regression (small = strong).
        ngram_lambda, embedding_lambda: ridge regularisation of the n-gram and embedding models (chosen by
            grouped cross-validation on real passages: ``scripts/train_tagger.py``).
        ngram_max: longest character n-gram of the TF-IDF.
        class_weight: passed to ``LogisticRegression`` (``"balanced"``: positives are rare).
        cv: folds for the out-of-fold scores that calibrate scores and choose thresholds.
        require_evidence: ``"lexicon"`` (default; also ``True``): a tag needs a seed or weak seed of its
            category in the text on top of a score over threshold, so every tag has a lexical reason;
            ``"seed"``: a (strong) seed is required (higher precision, lower recall); ``False``/``"none"``:
            the score alone decides (tags without a seed are explained by their closest exemplar).
        context: drop seeds lying in an incidental context (a venue, a unit's name before a title, a quoted
            motto given as a theme, where participants come from, a list of duties: see
            :mod:`yanreform.tagging.context`), so that they are neither features nor evidence (default True).
        random_state: seed of the fold shuffling (training is deterministic).

    Learned attributes (after :meth:`fit` or :meth:`load`) end in ``_``: ``coef_`` (f,) float32 and
    ``intercept_`` (k,) of the pair model, ``mean_``/``scale_`` (f,) feature standardisation, ``platt_``
    (k, 2) calibration, ``thresholds_`` (k,), ``proto_mean_``/``proto_std_`` (k,), ``proto_emb_`` (m, d) and
    ``proto_cat_`` (m,) prototypes (definition + exemplars), ``outside_emb_`` (o, d), ``ngrams_`` (the
    n-gram TF-IDF), ``ngram_W_`` (V, k) / ``ngram_mu_`` (k,) and ``embedding_W_`` (d, k) / ``embedding_mu_``
    (k,) ridge weights, ``model_id_`` (None for a fast tagger), ``taxonomy_``.
    """

    taxonomy_: Taxonomy
    model_id_: str | None
    require_evidence_: str
    ngrams_: CharNgrams
    info_: dict[str, Any]

    def __init__(
        self,
        taxonomy: Taxonomy | str | Path | None = None,
        *,
        encoder: Encoder | None = None,
        segmenter: Segmenter | None = None,
        features: str = "full",
        C: float = 1.0,
        ngram_lambda: float = 0.3,
        embedding_lambda: float = 0.3,
        ngram_max: int = 3,
        class_weight: str | None = "balanced",
        cv: int = 5,
        require_evidence: bool | str = "lexicon",
        context: bool = True,
        random_state: int = 0,
    ) -> None:
        self.taxonomy = taxonomy
        self.encoder = encoder
        self.segmenter = segmenter
        self.features = features
        self.C = C
        self.ngram_lambda = ngram_lambda
        self.embedding_lambda = embedding_lambda
        self.ngram_max = ngram_max
        self.class_weight = class_weight
        self.cv = cv
        self.require_evidence = require_evidence
        self.context = context
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
        """Set constructor parameters (sklearn protocol); unknown names raise InputError."""
        valid = set(self._param_names())
        for k, v in params.items():
            if k not in valid:
                raise InputError(f"invalid parameter {k!r} for Tagger; valid: {', '.join(sorted(valid))}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        fitted = "fitted" if hasattr(self, "coef_") else "not fitted"
        tax = getattr(self, "taxonomy_", None)
        k = len(tax) if tax is not None else "?"
        return f"Tagger({k} categories, features={self.features!r}, C={self.C}, {fitted})"

    @property
    def fast(self) -> bool:
        """True for a tagger that needs no encoder (``features="fast"``)."""
        return self.features == "fast"

    @property
    def codes(self) -> tuple[str, ...]:
        """Category codes in taxonomy order (of the fitted taxonomy; ModelError before fitting)."""
        self._check_fitted()
        return self.taxonomy_.codes

    @property
    def names(self) -> dict[str, str]:
        """Category code -> Chinese name, in taxonomy order."""
        self._check_fitted()
        return {c.code: c.name for c in self.taxonomy_}

    # -- components ------------------------------------------------------------------------------------------
    def _get_encoder(self) -> Encoder:
        enc = self.encoder
        if enc is None:
            from .._defaults import default_encoder

            enc = default_encoder()
        want = getattr(self, "model_id_", None)
        if want is not None and enc.model_id != want:
            raise ModelError(
                f"this tagger was trained on embeddings of {want!r} but the encoder is {enc.model_id!r}; "
                "pass encoder= with that model or retrain the tagger (Tagger.fit / scripts/train_tagger.py)"
            )
        return enc

    def analyzer(self) -> Analyzer:
        """The analyser this tagger reads passages through (its segmenter; its encoder unless fast)."""
        return Analyzer(segmenter=self.segmenter, encoder=None if self.fast else self._get_encoder())

    def _lexicon(self) -> Lexicon:
        lex: Lexicon | None = getattr(self, "_lexicon_cache", None)
        if lex is None or lex.taxonomy is not self.taxonomy_ or lex.context != bool(self.context):
            lex = Lexicon(self.taxonomy_, context=bool(self.context))
            self._lexicon_cache = lex
        return lex

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise ModelError(
                "this Tagger is not fitted: call fit(texts, labels), or use Tagger.default()/load()"
            )

    # -- signals ---------------------------------------------------------------------------------------------
    def matches(self, analysis: Analysis) -> list[Match]:
        """The lexicon matches of one analysed passage (kept with the analysis), offsets into its normalised
        text; with a segmenter, only those on token boundaries."""
        lex = self._lexicon()

        def find() -> list[Match]:
            return lex.find(analysis.text)

        ms = analysis.memo("matches", lex, find)
        seg = self.segmenter
        if seg is None or not ms:
            return ms
        bounds = analysis.boundaries(seg)
        return [m for m in ms if m.start in bounds and m.end in bounds]

    def _embed(
        self, analyses: Sequence[Analysis], batch_size: int = 256, show_progress: bool | None = None
    ) -> np.ndarray:
        return self.analyzer().embed(analyses, batch_size=batch_size, show_progress=show_progress)

    def _prototype_signals(self, E: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, cat_max, out_max = ft.prototype_similarities(
            E, self.proto_emb_, self.proto_cat_, self.outside_emb_, len(self.taxonomy_)
        )
        return cat_max, out_max

    def _lexicon_arrays(self, analyses: Sequence[Analysis]) -> dict[str, np.ndarray]:
        return ft.lexicon_arrays(
            [a.text for a in analyses], [self.matches(a) for a in analyses], len(self.taxonomy_)
        )

    # -- fitting ---------------------------------------------------------------------------------------------
    def _build_prototypes(self, tax: Taxonomy) -> None:
        rows: list[str] = []
        cats: list[int] = []
        for ci, cat in enumerate(tax):
            items = [cat.definition or cat.name, *cat.exemplars]
            rows.extend(items)
            cats.extend([ci] * len(items))
        self.proto_text_ = rows
        self.proto_emb_ = self._embed(analyses_of(rows))
        self.proto_cat_ = np.asarray(cats, dtype=np.int64)
        outs = list(tax.outside_exemplars)
        self.outside_emb_ = (
            self._embed(analyses_of(outs)) if outs else np.zeros((0, self.proto_emb_.shape[1]), np.float32)
        )

    def fit(
        self,
        texts: Sequence[TextLike],
        labels: Sequence[Sequence[str]],
        *,
        threshold_rows: Sequence[bool] | None = None,
        show_progress: bool | None = None,
    ) -> Tagger:
        """Train the head on labelled passages.

        Args:
            texts: passages (str, or Analysis values).
            labels: one list of category codes per passage (an empty list = no category).
            threshold_rows: optional mask (one bool per passage) of the passages whose out-of-fold scores
                choose the calibration and the thresholds (default: all). The shipped head uses the real
                passages only, since that is what it will meet.

        Returns:
            self.

        Raises:
            TypeError: ``texts``/``labels`` of the wrong type (the message names the argument and index).
            InputError (a ValueError): an unknown code (naming the code and the record index), fewer than
                two texts, no positive label, a length mismatch, or an unknown ``features`` value.
        """
        from sklearn.model_selection import KFold

        if self.features not in ("full", "fast"):
            raise InputError(f"features must be 'full' or 'fast', got {self.features!r}")
        analyses = analyses_of(texts)
        tax = as_taxonomy(self.taxonomy)
        labels = check_labels(labels, tax.codes, len(analyses))
        n = len(analyses)
        if n < 2:
            raise InputError(f"fit needs at least two labelled texts, got {n}")
        sel = np.ones(n, bool) if threshold_rows is None else np.asarray(list(threshold_rows), bool)
        if sel.shape != (n,) or not sel.any():
            raise InputError(f"threshold_rows must hold {n} bools with at least one True")
        for name in ("model_id_", "coef_"):  # a refit must not check against the previous model
            self.__dict__.pop(name, None)
        self.taxonomy_ = tax
        self.require_evidence_ = persist.evidence_mode(self.require_evidence)
        k = len(tax)
        Y = np.zeros((n, k), dtype=np.int8)
        for i, lab in enumerate(labels):
            for c in lab:
                Y[i, tax.index(c)] = 1
        if Y.sum() == 0:
            raise InputError("fit needs at least one positive label")

        lexa_all = self._lexicon_arrays(analyses)
        self.ngrams_ = CharNgrams(int(self.ngram_max), min_df=2).fit([a.text for a in analyses])
        X = self.ngrams_.transform([a.text for a in analyses])
        E = cat_max = out_max = None
        if self.fast:
            self.model_id_ = None
        else:
            enc = self._get_encoder()
            self.model_id_ = str(enc.model_id)
            self._build_prototypes(tax)
            E = self._embed(analyses, show_progress=show_progress)
            cat_max, out_max = self._prototype_signals(E)

        def ridge(M: Any, rows: np.ndarray, ref: np.ndarray, same: bool, lam: float) -> np.ndarray:
            """Ridge scores of ``rows``: fitted on ``ref``, or out-of-fold within ``rows`` when ``same``."""
            if not same:
                return ridge_scores(M[rows], *ridge_fit(M[ref], Y[ref], lam))
            out = np.zeros((len(rows), k), np.float32)
            if len(rows) < 2:  # nothing to fit on: no ridge signal
                return out
            inner = KFold(n_splits=min(5, len(rows)), shuffle=True, random_state=self.random_state + 1)
            for a, b in inner.split(rows):
                out[b] = ridge_scores(M[rows[b]], *ridge_fit(M[rows[a]], Y[rows[a]], lam))
            return out

        def features(rows: np.ndarray, ref: np.ndarray, same: bool) -> np.ndarray:
            lexa = {key: v[rows] for key, v in lexa_all.items()}
            ngram = ridge(X, rows, ref, same, float(self.ngram_lambda))
            if E is None or cat_max is None or out_max is None:
                return ft.pair_features(lexa, ngram)
            return ft.pair_features(
                lexa,
                ngram,
                cat_max=cat_max[rows],
                out_max=out_max[rows],
                proto_mean=cat_max[ref].mean(axis=0),
                proto_std=cat_max[ref].std(axis=0) + 1e-6,
                embedding_score=ridge(E, rows, ref, same, float(self.embedding_lambda)),
            )

        def fit_pairs(F: np.ndarray, Yp: np.ndarray) -> tuple[np.ndarray, ...]:
            return ft.fit_pairs(F, Yp, C=self.C, class_weight=self.class_weight)

        # Out-of-fold logits: every passage scored by a model that never saw it (its ridge scores out-of-fold
        # too), so calibration and thresholds see the head as it behaves on new text.
        folds = max(2, min(int(self.cv), n))
        oof = np.zeros((n, k), dtype=np.float64)
        for tr, te in KFold(n_splits=folds, shuffle=True, random_state=self.random_state).split(np.arange(n)):
            coef, icpt, mean, scale = fit_pairs(features(tr, tr, True), Y[tr])
            oof[te] = ft.pair_logits(features(te, tr, False), coef, icpt, mean, scale)

        self.platt_, self.thresholds_ = ft.calibrate(
            oof, Y, sel, ft.evidence_mask(lexa_all, self.require_evidence_), tax.codes
        )

        allr = np.arange(n)
        self.coef_, self.intercept_, self.mean_, self.scale_ = fit_pairs(features(allr, allr, True), Y)
        self.ngram_W_, self.ngram_mu_ = ridge_fit(X, Y, float(self.ngram_lambda))
        if E is not None and cat_max is not None:
            self.proto_mean_ = cat_max.mean(axis=0).astype(np.float32)
            self.proto_std_ = (cat_max.std(axis=0) + 1e-6).astype(np.float32)
            self.embedding_W_, self.embedding_mu_ = ridge_fit(E, Y, float(self.embedding_lambda))
        self.n_train_ = n
        self.oof_logits_ = oof.astype(np.float32)
        return self

    # -- inference -------------------------------------------------------------------------------------------
    def score(
        self,
        texts: Sequence[TextLike],
        *,
        batch_size: int = 256,
        show_progress: bool | None = None,
    ) -> tuple[list[Analysis], np.ndarray, np.ndarray]:
        """Analyse and score passages: ``(analyses, P, D)`` with calibrated scores P float32 (n, k) and tag
        decisions D bool (n, k) in taxonomy order (thresholds and evidence rule applied; "" scores 0).

        The analyses keep their matches and embeddings: pass them on to reuse the work. A fast tagger never
        touches the encoder.
        """
        self._check_fitted()
        analyses = analyses_of(texts)
        check_batch_size(batch_size)
        k = len(self.taxonomy_)
        if not analyses:
            return analyses, np.zeros((0, k), np.float32), np.zeros((0, k), bool)
        lexa = self._lexicon_arrays(analyses)
        ngram = ridge_scores(
            self.ngrams_.transform([a.text for a in analyses]), self.ngram_W_, self.ngram_mu_
        )
        if self.fast:
            F = ft.pair_features(lexa, ngram)
        else:
            E = self._embed(analyses, batch_size=batch_size, show_progress=show_progress)
            cat_max, out_max = self._prototype_signals(E)
            F = ft.pair_features(
                lexa,
                ngram,
                cat_max=cat_max,
                out_max=out_max,
                proto_mean=self.proto_mean_,
                proto_std=self.proto_std_,
                embedding_score=ridge_scores(E, self.embedding_W_, self.embedding_mu_),
            )
        logits = ft.pair_logits(F, self.coef_, self.intercept_, self.mean_, self.scale_)
        P = ft.sigmoid(self.platt_[:, 0] * logits + self.platt_[:, 1]).astype(np.float32)
        empty = np.array([a.empty for a in analyses])
        P[empty] = 0.0
        D = (self.thresholds_[None, :] <= P) & ~empty[:, None]
        D &= ft.evidence_mask(lexa, self.require_evidence_)
        return analyses, P, D

    def predict_proba(self, texts: Sequence[TextLike], *, batch_size: int = 256) -> np.ndarray:
        """Calibrated scores, float32 (n, k) in taxonomy order (``self.codes``); "" scores 0."""
        return self.score(texts, batch_size=batch_size)[1]

    def predict(self, texts: Sequence[TextLike], *, batch_size: int = 256) -> np.ndarray:
        """Tag decisions, bool (n, k) in taxonomy order (thresholds and evidence rule applied)."""
        return self.score(texts, batch_size=batch_size)[2]

    def tag(self, text: TextLike) -> TagList:
        """Tag one passage.

        Returns:
            A :class:`TagList` (list of :class:`Tag`, best score first); ``""`` gives an empty list.

        Raises:
            TypeError: ``text`` is not a str.
        """
        if not isinstance(text, str | Analysis):
            raise TypeError(f"text must be str, got {type(text).__name__}")
        return self.tag_many([text])[0]

    def tag_many(
        self,
        texts: Sequence[TextLike],
        *,
        batch_size: int = 256,
        show_progress: bool | None = None,
    ) -> list[TagList]:
        """Tag many passages: one :class:`TagList` per input, in input order.

        Encoding goes through the encoder in batches of ``batch_size``; the lexicon and the head run
        vectorised over the whole batch.

        Raises:
            TypeError: ``texts`` is not a sequence of str (the message names the offending index).
            InputError (a ValueError): ``batch_size`` is not an integer >= 1.
        """
        analyses, P, D = self.score(texts, batch_size=batch_size, show_progress=show_progress)
        return tag_lists(self, analyses, P, D, batch_size=batch_size)

    def tag_case(self, case: Case, *, batch_size: int = 256) -> CaseTags:
        """Tag every initiative of a :class:`yanreform.Case` (and its lead) and summarise at case level."""
        inits = list(case.initiatives)
        lead = case.lead or ""
        if not isinstance(lead, str):
            raise TypeError(f"case.lead must be str, got {type(lead).__name__}")
        results = self.tag_many([x.text for x in inits] + [lead], batch_size=batch_size)
        per = {x.id: tl for x, tl in zip(inits, results[:-1], strict=True)}
        lead_tags = results[-1]
        agg: dict[str, list[Any]] = {}
        source = per.items() if inits else [(f"{case.id}-lead", lead_tags)]
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
        return CaseTags(case_id=str(case.id), initiatives=per, lead=lead_tags, summary=summary)

    def evaluate(
        self,
        texts: Sequence[TextLike],
        labels: Sequence[Sequence[str]],
        *,
        batch_size: int = 256,
        bootstrap: int = 0,
    ) -> EvalReport:
        """Tag ``texts`` and compare with ``labels`` (one list of codes per text); ``bootstrap > 0`` adds 95%
        bootstrap intervals over that many resamples (``report.intervals``).

        Raises:
            TypeError / InputError: as for :meth:`fit` (unknown code -> InputError naming the code and index);
                InputError for a ``batch_size`` below 1.
        """
        self._check_fitted()
        analyses = analyses_of(texts)
        labels = check_labels(labels, self.taxonomy_.codes, len(analyses))
        D = self.score(analyses, batch_size=batch_size)[2]
        codes = self.taxonomy_.codes
        pred = [[codes[j] for j in np.flatnonzero(row)] for row in D]
        return evaluate_sets(labels, pred, codes, bootstrap=bootstrap)

    # -- persistence -----------------------------------------------------------------------------------------
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
        params = {k: v for k, v in self.get_params().items() if k not in ("taxonomy", "encoder", "segmenter")}
        return persist.write(path, *persist.state_of(self, params))

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        taxonomy: Taxonomy | str | Path | None = None,
        encoder: Encoder | None = None,
        segmenter: Segmenter | None = None,
    ) -> Tagger:
        """Load a tagger written by :meth:`save`.

        Args:
            path: the folder (or its ``tagger.json``).
            taxonomy: if given, must be the taxonomy the tagger was trained with (checked by content hash);
                None uses the copy stored with the tagger.
            encoder: encoder to use; its ``model_id`` must match the one recorded at training (checked here if
                given, else when the default encoder is first used).

        Raises:
            TaggerFormatError: missing/corrupt files, unknown format or version, or a taxonomy that differs.
            ModelError: the encoder's model differs from the one the tagger was trained with.
        """
        saved = persist.read(path, taxonomy=None if taxonomy is None else as_taxonomy(taxonomy))
        params = {k: v for k, v in saved.params.items() if k in cls._param_names()}
        params.setdefault("context", False)  # heads saved before incidental contexts existed
        params["features"] = saved.features
        self = cls(saved.taxonomy, encoder=encoder, segmenter=segmenter, **params)
        persist.restore(self, saved)
        if encoder is not None and not self.fast:
            self._get_encoder()  # raises ModelError on a model mismatch
        return self

    @classmethod
    def default(cls, *, fast: bool = False, encoder: Encoder | None = None) -> Tagger:
        """The tagger shipped in ``models/tagger/`` (``fast=True``: the encoder-free head in
        ``models/tagger-fast/``), loaded once per process and handed out as a copy.

        The copy shares the (read-only) learned arrays; changing its parameters (``set_params``) changes only
        this copy. ``encoder``: the encoder to use (its model must be the one the head was trained on); None
        uses the shared default encoder, whose embedding cache is on unless ``YANREFORM_CACHE=0``.

        Raises:
            ModelError: the shipped head is missing, or was trained with a taxonomy other than the shipped
                ``models/taxonomy.toml`` (retrain with ``scripts/train_tagger.py``), or ``encoder`` has
                another model.
        """
        from .._defaults import default_taxonomy, shared

        def load_shipped() -> Tagger:
            from .._resources import models_dir

            folder = models_dir() / ("tagger-fast" if fast else "tagger")
            if not (folder / persist.JSON_NAME).is_file():
                raise ModelError(f"no shipped tagger in {folder}; train one with scripts/train_tagger.py")
            try:
                return cls.load(folder, taxonomy=default_taxonomy())
            except TaggerFormatError as exc:
                raise ModelError(f"shipped tagger does not match the shipped taxonomy: {exc}") from exc

        base = shared(("tagger", cls, fast), load_shipped)
        tagger = copy.copy(base)
        if encoder is not None and not fast:
            tagger.encoder = encoder
            tagger._get_encoder()  # raises ModelError on a model mismatch
        return tagger
