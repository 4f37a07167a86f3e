"""The related-case index: :class:`CaseIndex` composes the lexical, semantic and category sides and fuses
them.

Each indexed case is represented on each side as its whole text and as its passages (lead, initiatives,
outcome for a :class:`~yanreform.corpus.Case`; lines for a plain text). A case's similarity on one side is
``(1 - passage_weight) * whole + passage_weight * best passage`` (:mod:`.fusion`).

* **lexical** (:mod:`.lexical`): TF-IDF over character 1-3-grams (``ngram_max``) of the normalised text.
* **semantic**: the encoder's embeddings of the normalised texts, cosine.
* **category** (``category_weight``, off by default): cosine of the tagger's calibrated category-score
  profiles (11 reform categories, L2-normalised), computed for cases and passages at index time and for
  queries at search time.

Fusion: each side's scores are z-scored over the cases of the index for that query, the lexical and semantic
sides mixed with ``semantic_weight``, the category side added with ``category_weight``; with ``prf_depth > 0``
(off by default) and at least ``prf_min_cases`` cases the query is then expanded once with its best few
cases (pseudo relevance feedback, as Rocchio). :attr:`Hit.score` is that fused score in z units (0 = an
average case of this index for this query); :attr:`Hit.similarity` is a 0-1 value for display
(:mod:`.calibration`).

Every text is analysed once (:mod:`yanreform.text.analysis`): a query is normalised once and encoded once, and
the tagger reads the same analysis (and embedding) for the category side.

Components are injected. ``CaseIndex(config=..., encoder=..., tagger=..., segmenter=...)`` takes exactly what
it is given and refuses a configuration whose side has no component; :meth:`from_corpus`, :meth:`from_texts`
and :meth:`load` fill in the shared defaults (``Encoder.default()``, ``Tagger.default()``) for the sides the
configuration turns on, and only those: a lexical-only index loads no model at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import scipy.sparse as sp

from ...errors import InputError, ModelError, UnknownCaseError, check_k
from ...text.analysis import Analysis, Analyzer
from .calibration import ranked_similarity
from .components import resolve_components
from .config import IndexConfig
from .fusion import fuse, mix
from .lexical import LexicalStore, widen
from .records import Explanation, Hit, HitList
from .reps import Reps as _Reps
from .reps import blas_threads as _blas_threads
from .reps import unit_rows

if TYPE_CHECKING:
    from ...corpus import Case, Corpus
    from ...embed.encoder import Encoder
    from ...tagging.tagger import Tagger
    from ...text.segment import Segmenter

__all__ = ["CaseIndex"]

log = logging.getLogger("yanreform")

_STAT_SAMPLE = 4096
_QUERY_BLOCK = 256


def _stack(a: np.ndarray | None, b: np.ndarray) -> np.ndarray:
    return b if a is None else np.vstack([a, b])


def _paragraphs(text: str) -> list[str]:
    """Passages of a plain text: its non-empty lines (one passage = no passage split)."""
    paras = [p.strip() for p in text.splitlines() if p.strip()]
    return paras if len(paras) > 1 else []


class CaseIndex:
    """Hybrid (lexical + semantic + category) index of reform cases or plain texts.

    Build with :meth:`from_corpus` or :meth:`from_texts`; grow with :meth:`add`; query with :meth:`search`
    (free text), :meth:`recommend` (an indexed case) and :meth:`explain`; persist with :meth:`save` /
    :meth:`load`.

    Args:
        config: the options (:class:`IndexConfig`; None = the defaults).
        encoder: the semantic side's encoder (required when ``semantic_weight > 0``).
        tagger: the category side's scorer (required when ``category_weight > 0``); its categories are the
            index's.
        segmenter: the token side's segmenter (required when ``token_weight > 0`` or ``boilerplate_weight <
            1``); :meth:`explain` also uses it for shared terms (None there: the shared default segmenter).

    Raises:
        InputError: a side the configuration turns on has no component.
    """

    def __init__(
        self,
        *,
        config: IndexConfig | None = None,
        encoder: Encoder | None = None,
        segmenter: Segmenter | None = None,
        tagger: Tagger | None = None,
    ) -> None:
        cfg = config if config is not None else IndexConfig()
        if not isinstance(cfg, IndexConfig):
            raise TypeError(f"config must be an IndexConfig, got {type(cfg).__name__}")
        needs = [
            ("semantic_weight > 0", "encoder", cfg.semantic_weight > 0, encoder),
            ("category_weight > 0", "tagger", cfg.category_weight > 0, tagger),
            ("token_weight > 0 or boilerplate_weight < 1", "segmenter",
             cfg.token_weight > 0 or cfg.boilerplate_weight < 1, segmenter),
        ]  # fmt: skip
        for cond, name, on, comp in needs:
            if on and comp is None:
                raise InputError(
                    f"{cond} needs a {name}: pass {name}=..., or build the index with CaseIndex.from_corpus, "
                    f"from_texts or load, which supply the default {name}"
                )
        self.config = cfg
        self.encoder = encoder if cfg.semantic_weight > 0 else None
        self.tagger = tagger if cfg.category_weight > 0 else None
        # a tagger given for an index without a category side still names the shared categories in explain()
        self._explain_tagger: Tagger | None = tagger
        self.segmenter = segmenter
        self._analyzer = Analyzer(segmenter=segmenter, encoder=self.encoder)
        self._model_id: str | None = self.encoder.model_id if self.encoder is not None else None
        self._category_codes: list[str] | None = list(self.tagger.codes) if self.tagger is not None else None
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._titles: list[str | None] = []
        self._texts: list[str] = []
        self._pids: list[str] = []
        self._owner = np.zeros(0, np.int64)  # passage -> case row, non-decreasing
        strip = cfg.boilerplate_weight < 1
        self._lex = LexicalStore(
            cfg.ngram_max,
            segmenter=segmenter if (cfg.token_weight > 0 or strip) else None,
            strip_boilerplate=strip,
        )
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
        config: IndexConfig | None = None,
        encoder: Encoder | None = None,
        segmenter: Segmenter | None = None,
        tagger: Tagger | None = None,
    ) -> CaseIndex:
        """Index the cases of ``corpus`` (ids, titles from the cases; passages = lead, initiatives, outcome).

        Components the configuration needs and that are not given are the shared defaults (see
        :func:`resolve_components`). Raises InputError for duplicate case ids; ModelError if a component
        can't be built.
        """
        cfg, enc, seg, tg = resolve_components(config, encoder, segmenter, tagger)
        index = cls(config=cfg, encoder=enc, segmenter=seg, tagger=tg)
        index.add(corpus)
        return index

    @classmethod
    def from_texts(
        cls,
        texts: Sequence[str],
        ids: Sequence[str] | None = None,
        *,
        titles: Sequence[str | None] | None = None,
        config: IndexConfig | None = None,
        encoder: Encoder | None = None,
        segmenter: Segmenter | None = None,
        tagger: Tagger | None = None,
    ) -> CaseIndex:
        """Index plain texts; ``ids`` default to ``"0", "1", ...``; passages = the non-empty lines of a text.

        Raises InputError (a ValueError) for duplicate ids or mismatched lengths, TypeError for non-str texts.
        """
        cfg, enc, seg, tg = resolve_components(config, encoder, segmenter, tagger)
        index = cls(config=cfg, encoder=enc, segmenter=seg, tagger=tg)
        index.add(texts, ids, titles=titles)
        return index

    def _units(
        self,
        items: list[Any],
        ids: Sequence[str] | None,
        titles: Sequence[str | None] | None,
    ) -> tuple[list[str], list[str], list[list[tuple[str, str]]], list[str | None]]:
        """(ids, whole texts, passages [(passage id, text)] per item, titles) of the items to add."""
        from ...corpus import Case

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
            return new_ids, wholes, passages, new_titles
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
        passages = [
            [(f"{new_ids[i]}-p{j + 1}", p) for j, p in enumerate(_paragraphs(t))] for i, t in enumerate(items)
        ]
        return new_ids, list(items), passages, new_titles

    def add(
        self,
        texts_or_corpus: Corpus | Iterable[Case] | Sequence[str] | str,
        ids: Sequence[str] | None = None,
        *,
        titles: Sequence[str | None] | None = None,
    ) -> CaseIndex:
        """Add cases (a Corpus or Case objects) or plain texts, with this index's configuration; returns self.

        New texts are analysed and encoded once, in batches. Plain texts get ``ids`` (default: their row
        numbers as str, continuing the index). Raises InputError for duplicate ids (within the batch or
        against the index) or when ``ids``/``titles`` and texts differ in length.
        """
        if isinstance(texts_or_corpus, str):
            texts_or_corpus = [texts_or_corpus]
        items = list(texts_or_corpus)
        if not items:
            return self
        new_ids, wholes, passages, new_titles = self._units(items, ids, titles)
        seen: dict[str, int] = {}
        for i, cid in enumerate(new_ids):
            if cid in self._pos:
                raise InputError(f"duplicate id {cid!r}: already in the index")
            if cid in seen:
                raise InputError(f"duplicate id {cid!r} at positions {seen[cid]} and {i}")
            seen[cid] = i

        flat = [t for ps in passages for _, t in ps]
        analyses = self._analyzer.analyze_many(wholes + flat)
        nw = len(wholes)
        if self.encoder is not None:
            emb = self._analyzer.embed(analyses)
            self._case_emb = _stack(self._case_emb, emb[:nw])
            self._pass_emb = _stack(self._pass_emb, emb[nw:].reshape(len(flat), emb.shape[1]))
        if self.tagger is not None:
            cat = unit_rows(self.tagger.score(analyses)[1])
            self._case_cat = _stack(self._case_cat, cat[:nw])
            self._pass_cat = _stack(self._pass_cat, cat[nw:])
        cc = self._lex.counts(analyses[:nw], grow=True)
        pc = self._lex.counts(analyses[nw:], grow=True)
        v = len(self._lex.vocab)
        # the passages may add terms after the wholes were counted: both blocks are widened to the vocabulary
        self._case_counts = sp.vstack([widen(self._case_counts, v), widen(cc, v)], format="csr")
        self._pass_counts = sp.vstack([widen(self._pass_counts, v), widen(pc, v)], format="csr")
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
            f"semantic_weight={self.config.semantic_weight}, category_weight={self.config.category_weight})"
        )

    @property
    def ids(self) -> list[str]:
        """Case ids in index order (a copy)."""
        return list(self._ids)

    @property
    def model_id(self) -> str | None:
        """Id of the embedding model (None for an index without a semantic side)."""
        return self._model_id

    @property
    def category_codes(self) -> list[str] | None:
        """The category side's codes (None without one)."""
        return None if self._category_codes is None else list(self._category_codes)

    def text(self, case_id: str) -> str:
        """The indexed text of ``case_id`` (agency, title and body for cases). Raises UnknownCaseError."""
        return self._texts[self._row(case_id)]

    def title(self, case_id: str) -> str | None:
        """The title of ``case_id`` (None when indexed without one). Raises UnknownCaseError."""
        return self._titles[self._row(case_id)]

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

    # ---------------------------------------------------------------- scoring

    def _weights(self) -> tuple[np.ndarray, sp.csr_matrix, sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
        """(idf (V,), weighted cases (n, V), weighted passages (P, V), and both transposed as CSR (V, n) and
        (V, P), so that query products need no format conversion); cached until add()."""
        if self._weighted is None:
            v = len(self._lex.vocab)
            cc, pc = widen(self._case_counts, v), widen(self._pass_counts, v)
            idf = self._lex.idf(cc, pc, self.config.boilerplate_weight)
            tw = self.config.token_weight
            cw, pw = self._lex.weight(cc, idf, tw), self._lex.weight(pc, idf, tw)
            self._weighted = (idf, cw, pw, sp.csr_matrix(cw.T), sp.csr_matrix(pw.T))
        return self._weighted

    def _query_reps(self, analyses: list[Analysis]) -> _Reps:
        """Representations of analysed queries: each is encoded at most once (the tagger reads the same
        embedding for the category side)."""
        idf = self._weights()[0]
        ql = self._lex.weight(self._lex.counts(analyses, grow=False), idf, self.config.token_weight)
        qs = qc = None
        if self.encoder is not None:
            qs = self._analyzer.embed(analyses)
            if self._case_emb is not None and qs.shape[1] != self._case_emb.shape[1]:
                raise ModelError(
                    f"encoder dimension {qs.shape[1]} differs from the index's {self._case_emb.shape[1]}"
                )
        if self.tagger is not None:
            qc = unit_rows(self.tagger.score(analyses)[1])
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
        w = self.config.passage_weight
        sel = None
        if cols is None:
            lw = (q.lex @ cwt).toarray()
            lp = (q.lex @ pwt).toarray()
        else:
            sel = np.flatnonzero(np.isin(owner, cols))
            owner = owner[sel]
            lw = (q.lex @ cw[cols].T).toarray()
            lp = (q.lex @ pw[sel].T).toarray()
        lex = mix(lw.astype(np.float64), lp.astype(np.float64), owner, cols, w)
        out = [lex]
        for qv, ce, pe in ((q.sem, self._case_emb, self._pass_emb), (q.cat, self._case_cat, self._pass_cat)):
            if qv is None or ce is None or pe is None:
                out.append(np.zeros_like(lex))
                continue
            if cols is not None:
                ce, pe = ce[cols], pe[sel]
            sw = (qv @ ce.T).astype(np.float64)
            spp = (qv @ pe.T).astype(np.float64)
            out.append(mix(sw, spp, owner, cols, w))
        return out[0], out[1], out[2]

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
        fused = fuse(lex, sem, cat, valid, self.config)
        m, beta = self.config.prf_depth, self.config.prf_weight
        if prf and m > 0 and beta > 0 and n >= max(self.config.prf_min_cases, m + 2):
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
        from ..vector import topk

        n = len(self)
        c = max(self.config.candidates, 4 * k)
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
            stats = [(float(x.mean()), float(x.std())) for x in sides]
            lex, sem, cat = self._sides(q1, cols)
            out.append((cols, fuse(lex, sem, cat, None, self.config, stats)[0], lex[0], sem[0]))
        return out

    def _hits(self, q: _Reps, k: int, exclude: np.ndarray | None) -> list[HitList]:
        k = check_k(k)
        results: list[HitList] = []
        nq = q.lex.shape[0]
        if len(self) == 0:
            return [HitList() for _ in range(nq)]
        if len(self) > self.config.exact_limit:
            with _blas_threads(self.config.candidates * 8):
                for cols, fused, lex, sem in self._score_candidates(q, exclude, k):
                    results.append(self._select(fused, lex, sem, k, cols))
            return results
        rows = len(self) + len(self._pids)
        for b in range(0, nq, _QUERY_BLOCK):
            sl = slice(b, b + _QUERY_BLOCK)
            with _blas_threads(min(_QUERY_BLOCK, nq - b) * rows * (1 + self.config.prf_depth)):
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
        order = part[np.lexsort((rowid, -fused[part]))]
        sim = ranked_similarity(
            lex[order], sem[order] if self.encoder is not None else None, self.config.similarity_coefficients
        )
        hits = HitList()
        for j, p in zip(order, sim, strict=True):
            r = int(j if cols is None else cols[j])
            hits.append(
                Hit(self._ids[r], float(fused[j]), self._titles[r], float(lex[j]), float(sem[j]), float(p))
            )
        return hits

    # ---------------------------------------------------------------- queries

    @overload
    def search(self, text_or_texts: str | Analysis, k: int = 5) -> HitList: ...  # type: ignore[overload-overlap]
    @overload
    def search(self, text_or_texts: Sequence[str | Analysis], k: int = 5) -> list[HitList]: ...

    def search(
        self, text_or_texts: str | Analysis | Sequence[str | Analysis], k: int = 5
    ) -> HitList | list[HitList]:
        """The ``k`` cases most related to a text (a :class:`HitList`), or one HitList per text for a list.

        Scores are sorted descending; fewer than ``k`` hits only when the index is smaller. Raises TypeError
        for non-str input, InputError for k < 1 and for an empty or whitespace-only query (naming its
        position in a list).
        """
        single = isinstance(text_or_texts, str | Analysis)
        items: list[str | Analysis] = (
            [text_or_texts] if isinstance(text_or_texts, str | Analysis) else list(text_or_texts)
        )
        for i, t in enumerate(items):
            if not isinstance(t, str | Analysis):
                raise TypeError(f"search: texts[{i}] is {type(t).__name__}, expected str")
            if not (t.original if isinstance(t, Analysis) else t).strip():
                raise InputError(
                    "empty query" if single else f"empty query: texts[{i}] is empty or whitespace"
                )
        check_k(k)
        if not items:
            return []
        res = self._hits(self._query_reps(self._analyzer.analyze_many(items)), k, None)
        return res[0] if single else res

    def recommend(self, case_id: str, k: int = 5) -> HitList:
        """The ``k`` cases most related to the indexed case ``case_id``, never the case itself.

        Raises UnknownCaseError (an InputError and a KeyError) naming the id if it is not in the index.
        """
        r = self._row(case_id)
        check_k(k)
        return self._hits(self._case_vectors(np.array([r])), k, np.array([r]))[0]

    def explain(self, a: str, b: str, *, k: int = 20) -> Explanation:
        """Why ``a`` and ``b`` (case ids of this index, or texts) are related.

        Shared terms come from the segmenter's words of each side (:func:`.explain.shared_terms`); shared
        categories are the codes a tagger assigns to both: the category side's, else a tagger given to the
        index, else the shipped one (``Tagger.default`` for the index's encoder, or the encoder-free fast
        head), loaded on first use; empty when none can be loaded. Raises TypeError for non-str arguments.

        A string that is an id of this index is that case; any other string is a free text, except one that
        looks like a mistyped id: at most 64 characters, no CJK characters or whitespace, and either the same
        prefix before its last ``-`` as an indexed id (``yc2024-99``) or the same shape once digit runs are
        ignored (``yc2099-01``, or ``7`` in an index of ids ``0`` ... ``9``). That raises UnknownCaseError (an
        InputError and a KeyError) naming it.
        """
        from .explain import explain_pair

        return explain_pair(self, a, b, k=k)

    # ---------------------------------------------------------------- persistence

    def save(self, path: str | Any) -> Any:
        """Write the index to the directory ``path`` (created or replaced atomically); returns the path.

        See :mod:`yanreform.search.index.store` for the files. No pickle.
        """
        from .store import save

        return save(self, path)

    @classmethod
    def load(
        cls,
        path: str | Any,
        *,
        encoder: Encoder | None = None,
        segmenter: Segmenter | None = None,
        tagger: Tagger | None = None,
    ) -> CaseIndex:
        """Read an index written by :meth:`save` (format version 2, or 1: read with its own behaviour, i.e.
        character n-grams only and no category side). Components its sides need and that are not given are
        the shared defaults.

        Raises IndexFormatError (naming the path) if a file is missing, corrupt, inconsistent or of an
        unknown format version; ModelError if ``encoder`` is not the model the index was built with, or if
        ``tagger`` has other categories than the index's profiles.
        """
        from .store import load

        return load(cls, path, encoder=encoder, segmenter=segmenter, tagger=tagger)
