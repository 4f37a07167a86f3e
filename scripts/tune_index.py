"""Evaluate (and choose) the case index configuration on every retrieval source, separately.

Importable (the quality report uses :func:`evaluate_sources`); each measure returns per-query values and a
:class:`Summary` (MRR, recall@5, nDCG@10, each with a bootstrap 95% interval):

* ``realdev`` (corpus/realdev.jsonl: 199 real passages, 21 clusters of the same practice in different
  places): every clustered passage queries an index of all 199 passages (``recommend``, itself excluded);
  relevant = the other passages of its cluster. Intervals resample clusters (queries of one cluster are not
  independent). :func:`realdev_cv` chooses among candidate configurations leave-cluster-out (choose on 20
  clusters, score the 21st, rotate): the honest figure for anything tuned on real-dev.
* ``topic/<split>`` (corpus/retrieval-dev.jsonl, self-written, tune/test splits): same-topic recommendation
  among the split's passages.
* ``rec/<split>``: retrieval-dev queries (and passages) with a ``case_id`` -> the bundled case
  (``CaseIndex.from_corpus(load_corpus())``).
* ``hard/<split>``: a bundled initiative -> the retrieval-dev topics about its case, among the other nine
  bundled cases and all the split's topics as pseudo-cases (:func:`hard_metrics`).

The category side uses the shipped tagger, which is trained on the bundled passages and on real-dev: its
profiles of those texts are in-sample. Judge the category side on ``topic``/``hard`` (texts the tagger never
saw) or with out-of-fold profiles (``--oof-profiles``, written by this script's ``--write-oof``).

    .venv/bin/python scripts/tune_index.py              # every source, default vs its ablations
    .venv/bin/python scripts/tune_index.py --cv         # plus the leave-cluster-out choice on real-dev
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from yanreform import load_corpus
from yanreform._resources import corpus_file
from yanreform.search.index import CaseIndex, IndexConfig

DATA = "retrieval-dev.jsonl"
REALDEV = "realdev.jsonl"
METRICS = ("mrr", "recall@5", "ndcg@10")

_OFF = {"category_weight": 0.0}
#: the configurations the table compares (changes to the default ``IndexConfig()``)
CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "lexical only (default's)": {"semantic_weight": 0.0, "category_weight": 0.0},
    "e5 only": {"semantic_weight": 1.0, "passage_weight": 0.0, "prf_depth": 0, "fusion": "raw", **_OFF},
    "tfidf char1-2 plain": {
        "semantic_weight": 0.0, "passage_weight": 0.0, "prf_depth": 0, "fusion": "raw", "token_weight": 0.0,
        "boilerplate_weight": 1.0, "ngram_max": 2, **_OFF,
    },
    "default +feedback": {"prf_depth": 3},
    "default -passages": {"passage_weight": 0.0},
    "default +categories cw=0.3": {"category_weight": 0.3},
}  # fmt: skip


# ---------------------------------------------------------------- metrics


@dataclass(frozen=True)
class Summary:
    """Mean and bootstrap 95% interval of each metric over ``n`` queries (``groups`` resampled units)."""

    n: int
    groups: int
    mean: dict[str, float]
    lo: dict[str, float]
    hi: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_queries": self.n,
            "n_groups": self.groups,
            **{m: round(self.mean[m], 4) for m in self.mean},
            **{f"{m}_ci95": [round(self.lo[m], 4), round(self.hi[m], 4)] for m in self.mean},
        }

    def cell(self, metric: str = "mrr") -> str:
        return f"{self.mean[metric]:.3f} [{self.lo[metric]:.3f}-{self.hi[metric]:.3f}]"


def rank_metrics(ranked_ids: Sequence[str], relevant: set[str]) -> dict[str, float]:
    """Reciprocal rank of the first relevant id, recall@5 (share of the relevant ids in the top 5) and
    binary nDCG@10 of one ranking (best first)."""
    rr = 0.0
    dcg = 0.0
    found5 = 0
    for i, x in enumerate(ranked_ids, 1):
        if x in relevant:
            if rr == 0.0:
                rr = 1.0 / i
            if i <= 5:
                found5 += 1
            if i <= 10:
                dcg += 1.0 / np.log2(i + 1)
        if i >= 10 and rr > 0:
            break
    ideal = sum(1.0 / np.log2(i + 1) for i in range(1, min(len(relevant), 10) + 1))
    return {
        "mrr": rr,
        "recall@5": found5 / max(len(relevant), 1),
        "ndcg@10": dcg / ideal if ideal else 0.0,
    }


def bootstrap(
    per_query: list[dict[str, float]],
    groups: Sequence[str] | None = None,
    *,
    n_boot: int = 2000,
    seed: int = 0,
) -> Summary:
    """Means and percentile 95% intervals, resampling ``groups`` (e.g. clusters) or queries with
    replacement."""
    keys = list(per_query[0]) if per_query else list(METRICS)
    vals = np.array([[q[k] for k in keys] for q in per_query], float).reshape(len(per_query), len(keys))
    g = list(groups) if groups is not None else [str(i) for i in range(len(per_query))]
    uniq = sorted(set(g))
    gi = np.array([uniq.index(x) for x in g])
    sums = np.zeros((len(uniq), len(keys)))
    np.add.at(sums, gi, vals)
    cnt = np.bincount(gi, minlength=len(uniq)).astype(float)
    rng = np.random.default_rng(seed)
    draw = rng.integers(0, len(uniq), size=(n_boot, len(uniq)))
    boot = sums[draw].sum(axis=1) / np.maximum(cnt[draw].sum(axis=1), 1)[:, None]
    mean = vals.mean(axis=0) if len(per_query) else np.zeros(len(keys))
    lo, hi = np.percentile(boot, [2.5, 97.5], axis=0)
    return Summary(
        len(per_query),
        len(uniq),
        {k: float(mean[j]) for j, k in enumerate(keys)},
        {k: float(lo[j]) for j, k in enumerate(keys)},
        {k: float(hi[j]) for j, k in enumerate(keys)},
    )


# ---------------------------------------------------------------- data


def load_rows(path: Path | None = None, name: str = DATA) -> list[dict[str, Any]]:
    """The rows of a JSONL file (default: the bundled corpus/retrieval-dev.jsonl)."""
    p = path or corpus_file(name)
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def _config(config: IndexConfig | dict[str, Any]) -> IndexConfig:
    return config if isinstance(config, IndexConfig) else IndexConfig().replace(**config)


# ---------------------------------------------------------------- real-dev


def realdev_index(
    rows: list[dict[str, Any]],
    config: IndexConfig | dict[str, Any],
    *,
    encoder: Any = None,
    tagger: Any = None,
) -> CaseIndex:
    """All real-dev passages indexed as plain texts (passages = their lines)."""
    return CaseIndex.from_texts(
        [r["text"] for r in rows],
        [r["id"] for r in rows],
        config=_config(config),
        encoder=encoder,
        tagger=tagger,
    )


def realdev_queries(
    rows: list[dict[str, Any]],
    config: IndexConfig | dict[str, Any],
    *,
    encoder: Any = None,
    tagger: Any = None,
    index: CaseIndex | None = None,
) -> tuple[list[dict[str, float]], list[str]]:
    """Per-query metrics of every clustered real-dev passage (recommend among all the others), and the
    query's cluster."""
    idx = index if index is not None else realdev_index(rows, config, encoder=encoder, tagger=tagger)
    cluster = {r["id"]: r.get("cluster") for r in rows}
    per, groups = [], []
    for r in rows:
        c = r.get("cluster")
        if not c:
            continue
        rel = {x for x, cx in cluster.items() if cx == c and x != r["id"]}
        hits = idx.recommend(r["id"], k=len(idx) - 1)
        per.append(rank_metrics([h.id for h in hits], rel))
        groups.append(c)
    return per, groups


def realdev_metrics(
    config: IndexConfig | dict[str, Any],
    *,
    encoder: Any = None,
    tagger: Any = None,
    rows: list[dict[str, Any]] | None = None,
) -> Summary:
    """Real-dev same-practice retrieval of one fixed configuration (cluster-bootstrap intervals).

    A configuration chosen on real-dev is only honestly scored by :func:`realdev_cv`.
    """
    rs = rows if rows is not None else load_rows(name=REALDEV)
    per, groups = realdev_queries(rs, config, encoder=encoder, tagger=tagger)
    return bootstrap(per, groups)


def realdev_cv(
    candidates: dict[str, IndexConfig | dict[str, Any]],
    *,
    encoder: Any = None,
    tagger: Any = None,
    rows: list[dict[str, Any]] | None = None,
    per_candidate: dict[str, list[dict[str, float]]] | None = None,
) -> tuple[Summary, dict[str, str]]:
    """Leave-cluster-out choice among ``candidates`` on real-dev: for each cluster, the candidate with the
    best MRR on the queries of the other clusters (ties: the earlier candidate) scores that cluster's queries.

    Returns the summary of those held-out scores (cluster-bootstrap intervals) and the choice made for each
    cluster. ``per_candidate`` caches per-query metrics by candidate name (as :func:`realdev_queries`
    returns them): filled in for the candidates it lacks.
    """
    rs = rows if rows is not None else load_rows(name=REALDEV)
    cache = per_candidate if per_candidate is not None else {}
    groups = [r["cluster"] for r in rs if r.get("cluster")]
    names = list(candidates)
    for name in names:
        if name not in cache:
            cache[name] = realdev_queries(rs, candidates[name], encoder=encoder, tagger=tagger)[0]
    mrr = np.array([[q["mrr"] for q in cache[name]] for name in names])  # (candidates, queries)
    g = np.array(groups)
    chosen: dict[str, str] = {}
    held: list[dict[str, float]] = [{} for _ in groups]
    for c in sorted(set(groups)):
        out = g != c
        best = names[int(np.argmax(mrr[:, out].mean(axis=1)))]
        chosen[c] = best
        for i in np.flatnonzero(~out):
            held[i] = cache[best][i]
    return bootstrap(held, groups), chosen


#: the leave-cluster-out grid: structural and fusion options of the index (category side with out-of-fold
#: profiles), each signal switchable
GRID = {
    "ngram_max": (2, 3),
    "semantic_weight": (0.0, 0.3, 0.4, 0.5, 0.6, 0.7),
    "passage_weight": (0.0, 0.5),
    "prf_depth": (0, 3),
    "category_weight": (0.0, 0.15, 0.3),
}

#: subsets of the grid for the "does each signal earn its place" table (a name -> a filter on the options)
ABLATIONS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "everything": lambda o: True,
    "without the semantic side": lambda o: o["semantic_weight"] == 0,
    "without the category side": lambda o: o["category_weight"] == 0,
    "without feedback": lambda o: o["prf_depth"] == 0,
    "without best passages": lambda o: o["passage_weight"] == 0,
    "character 1-2-grams only": lambda o: o["ngram_max"] == 2,
    "the shipped structure (1-3-grams, passages, no categories, no feedback)": lambda o: (
        o["ngram_max"] == 3 and o["passage_weight"] > 0 and o["category_weight"] == 0 and o["prf_depth"] == 0
    ),
}


def oof_category_profiles(encoder: Any = None, seed: int = 0) -> np.ndarray:
    """Out-of-fold category scores (199, K) of the real-dev passages: the tagger refitted five times by
    ``scripts/train_tagger.py``'s grouped folds (a cluster never in its own training fold). The shipped
    tagger is trained on real-dev, so its own profiles of these texts are in-sample. About a minute."""
    import importlib.util

    if "train_tagger" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "train_tagger", Path(__file__).with_name("train_tagger.py")
        )
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules["train_tagger"] = mod
        spec.loader.exec_module(mod)
    tt = sys.modules["train_tagger"]
    from yanreform._defaults import default_encoder

    trainer = tt.Trainer(encoder if encoder is not None else default_encoder(), tt.load_sources())
    _, profiles = tt.cv_realdev(trainer, "full", [seed])
    return np.asarray(profiles, np.float32)


def realdev_grid(
    profiles: np.ndarray | None = None, *, encoder: Any = None, rows: list[dict[str, Any]] | None = None
) -> tuple[dict[str, list[dict[str, float]]], dict[str, dict[str, Any]]]:
    """Per-query real-dev metrics of every option combination of :data:`GRID` (names -> per-query metrics,
    names -> options). The category side reads ``profiles`` (real-dev rows x categories; a passage of a
    text gets its text's profile); without them, the grid has no category side."""
    from yanreform.search.index.reps import unit_rows

    rs = rows if rows is not None else load_rows(name=REALDEV)
    per: dict[str, list[dict[str, float]]] = {}
    opts: dict[str, dict[str, Any]] = {}
    cws = GRID["category_weight"] if profiles is not None else (0.0,)
    for ng in GRID["ngram_max"]:
        idx = realdev_index(rs, IndexConfig(ngram_max=ng), encoder=encoder)
        if profiles is not None:
            idx._case_cat = unit_rows(profiles)
            idx._pass_cat = unit_rows(profiles[idx._owner])
        for sw in GRID["semantic_weight"]:
            for pw in GRID["passage_weight"]:
                for prf in GRID["prf_depth"]:
                    for cw in cws:
                        o = {"ngram_max": ng, "semantic_weight": sw, "passage_weight": pw, "prf_depth": prf,
                             "category_weight": cw}  # fmt: skip
                        name = " ".join(f"{k}={v}" for k, v in o.items())
                        idx.config = IndexConfig(**o)  # fusion options only: the built sides are shared
                        per[name] = realdev_queries(rs, idx.config, index=idx)[0]
                        opts[name] = o
    return per, opts


def ablation_table(
    per: dict[str, list[dict[str, float]]],
    opts: dict[str, dict[str, Any]],
    rows: list[dict[str, Any]] | None = None,
) -> dict[str, Summary]:
    """Leave-cluster-out MRR of choosing within each subset of :data:`ABLATIONS` (what a signal is worth when
    its weight is chosen without the query's cluster)."""
    rs = rows if rows is not None else load_rows(name=REALDEV)
    out = {}
    for label, keep in ABLATIONS.items():
        names = [n for n in per if keep(opts[n])]
        if names:
            out[label] = realdev_cv(
                {n: opts[n] for n in names}, rows=rs, per_candidate={n: per[n] for n in names}
            )[0]
    return out


# ---------------------------------------------------------------- Hit.similarity


def similarity_pairs(
    config: IndexConfig | dict[str, Any] | None = None,
    *,
    encoder: Any = None,
    rows: list[dict[str, Any]] | None = None,
) -> dict[str, np.ndarray]:
    """Every (clustered real-dev query, other passage) pair, best first per query: ``lexical``, ``semantic``
    (raw cosines as in :class:`Hit`), ``related`` (same cluster, bool), ``rank`` (1-based), ``query`` and
    ``query_cluster`` / ``cand_cluster`` (str, "" for none)."""
    rs = rows if rows is not None else load_rows(name=REALDEV)
    idx = realdev_index(rs, config if config is not None else {}, encoder=encoder)
    cl = {r["id"]: r.get("cluster") or "" for r in rs}
    cols: dict[str, list[Any]] = {k: [] for k in ("lexical", "semantic", "related", "rank", "query")}
    cols.update(query_cluster=[], cand_cluster=[])
    for r in rs:
        if not r.get("cluster"):
            continue
        for i, h in enumerate(idx.recommend(r["id"], k=len(idx) - 1), 1):
            cols["lexical"].append(h.lexical)
            cols["semantic"].append(h.semantic)
            cols["related"].append(cl[h.id] == r["cluster"])
            cols["rank"].append(i)
            cols["query"].append(r["id"])
            cols["query_cluster"].append(r["cluster"])
            cols["cand_cluster"].append(cl[h.id])
    return {k: np.asarray(v) for k, v in cols.items()}


def fit_similarity(
    lexical: np.ndarray, semantic: np.ndarray | None, related: np.ndarray
) -> tuple[float, ...]:
    """Logistic coefficients ``(b0, b_lexical[, b_semantic])`` of P(related | raw cosines) (nearly
    unregularised; the classes keep their real proportions, so the output is a probability)."""
    from sklearn.linear_model import LogisticRegression

    x = lexical[:, None] if semantic is None else np.c_[lexical, semantic]
    m = LogisticRegression(C=1e4, max_iter=1000).fit(x, related.astype(int))
    return (float(m.intercept_[0]), *(float(c) for c in m.coef_[0]))


def calibration_error(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over ``bins`` equal-width probability bins."""
    b = np.minimum((p * bins).astype(int), bins - 1)
    return float(
        sum(abs(p[b == j].mean() - y[b == j].mean()) * (b == j).sum() for j in np.unique(b)) / len(p)
    )


def similarity_cv(pairs: dict[str, np.ndarray], *, semantic: bool = True, top: int = 5) -> dict[str, float]:
    """Leave-cluster-out check of :func:`fit_similarity`: for each cluster, fit on the pairs that touch no
    passage of it and predict the pairs of its queries (capped down each ranking as :class:`Hit` is).
    Returns Brier score, ECE and log loss over all held-out pairs and ECE and mean similarity of the related
    and unrelated among the top ``top`` hits (what a reader sees)."""
    from yanreform.search.index.calibration import ranked_similarity

    y = pairs["related"].astype(float)
    p = np.zeros(len(y))
    qc, cc = pairs["query_cluster"], pairs["cand_cluster"]
    sem = pairs["semantic"] if semantic else None
    for c in np.unique(qc):
        train = (qc != c) & (cc != c)
        coef = fit_similarity(
            pairs["lexical"][train], None if sem is None else sem[train], pairs["related"][train]
        )
        for q in np.unique(pairs["query"][qc == c]):
            m = pairs["query"] == q  # rows of one query, best first
            p[m] = ranked_similarity(pairs["lexical"][m], None if sem is None else sem[m], coef)
    t = pairs["rank"] <= top
    eps = 1e-9
    return {
        "brier": float(np.mean((p - y) ** 2)),
        "ece": calibration_error(p, y),
        "log_loss": float(-np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))),
        f"ece@top{top}": calibration_error(p[t], y[t]),
        f"mean_sim_related@top{top}": float(p[t & (y == 1)].mean()),
        f"mean_sim_unrelated@top{top}": float(p[t & (y == 0)].mean()),
        f"related_share@top{top}": float(y[t].mean()),
    }


# ---------------------------------------------------------------- retrieval-dev and the bundled cases


def topic_metrics(
    rows: list[dict[str, Any]], split: str, config: IndexConfig | dict[str, Any], encoder: Any = None
) -> Summary:
    """Same-topic recommendation among the retrieval-dev passages of ``split`` (topic-bootstrap intervals)."""
    ps = [r for r in rows if r["kind"] == "passage" and r["split"] == split]
    topic = {r["id"]: r["topic"] for r in ps}
    idx = CaseIndex.from_texts(
        [r["text"] for r in ps], [r["id"] for r in ps], encoder=encoder, config=_config(config)
    )
    per = []
    for r in ps:
        rel = {x for x, t in topic.items() if t == r["topic"] and x != r["id"]}
        per.append(rank_metrics([h.id for h in idx.recommend(r["id"], k=len(ps) - 1)], rel))
    return bootstrap(per, [r["topic"] for r in ps])


def rec_metrics(
    rows: list[dict[str, Any]],
    split: str,
    config: IndexConfig | dict[str, Any],
    encoder: Any = None,
    kinds: tuple[str, ...] = ("query",),
) -> Summary:
    """Retrieval-dev texts with a ``case_id`` (of ``kinds``) -> that bundled case, among the bundled cases."""
    qs = [r for r in rows if r.get("case_id") and r["split"] == split and r["kind"] in kinds]
    idx = CaseIndex.from_corpus(load_corpus(), encoder=encoder, config=_config(config))
    hits = idx.search([r["text"] for r in qs], k=len(idx))
    per = [rank_metrics([h.id for h in hl], {r["case_id"]}) for r, hl in zip(qs, hits, strict=True)]
    return bootstrap(per)


def hard_metrics(
    rows: list[dict[str, Any]], split: str, config: IndexConfig | dict[str, Any], encoder: Any = None
) -> Summary:
    """Initiative -> related case among look-alikes: for each bundled case X with a topic of ``split`` mapped
    to it, index the other nine bundled cases plus every topic of the split as a pseudo-case (its passages,
    one per line); each initiative of X is a query; relevant = the pseudo-cases of topics mapped to X.
    Intervals resample the bundled cases."""
    corpus = load_corpus()
    ps = [r for r in rows if r["kind"] == "passage" and r["split"] == split]
    topics: dict[str, list[dict[str, Any]]] = {}
    for r in ps:
        topics.setdefault(r["topic"], []).append(r)
    per, groups = [], []
    for case in corpus:
        rel = {f"topic-{t}" for t, m in topics.items() if m[0].get("case_id") == case.id}
        if not rel:
            continue
        idx = CaseIndex.from_corpus(
            [c for c in corpus if c.id != case.id], encoder=encoder, config=_config(config)
        )
        idx.add(["\n".join(r["text"] for r in m) for m in topics.values()], [f"topic-{t}" for t in topics])
        for hl in idx.search([i.text for i in case.initiatives], k=len(idx)):
            per.append(rank_metrics([h.id for h in hl], rel))
            groups.append(case.id)
    return bootstrap(per, groups)


#: the sources of :func:`evaluate_sources` scored per configuration by the table
SOURCE_NAMES = (
    "realdev",
    *(f"{kind}/{split}" for split in ("tune", "test") for kind in ("topic", "rec", "rec+p", "hard")),
)


def evaluate_sources(
    config: IndexConfig | dict[str, Any] | None = None,
    *,
    encoder: Any = None,
    hard: bool = True,
    sources: Sequence[str] | None = None,
) -> dict[str, Summary]:
    """Every retrieval source scored separately for one configuration (None = the default): ``realdev``,
    ``realdev/loco``, ``topic/tune``, ``topic/test``, ``rec/tune``, ``rec/test`` (queries -> bundled case),
    ``rec+p/...`` (queries and passages) and ``hard/...``. ``sources`` picks a subset of those names.

    ``realdev`` scores the configuration as it is; ``realdev/loco`` is the honest figure for a configuration
    whose semantic weight is chosen on real-dev: :func:`realdev_cv` over the configuration with each semantic
    weight of :data:`GRID` (choose on 20 clusters, score the 21st)."""
    cfg = _config(config if config is not None else {})
    rows = load_rows()
    jobs: dict[str, Callable[[], Summary]] = {
        "realdev": lambda: realdev_metrics(cfg, encoder=encoder),
        "realdev/loco": lambda: realdev_cv(
            {f"sw={w}": cfg.replace(semantic_weight=w) for w in GRID["semantic_weight"]}, encoder=encoder
        )[0],
    }
    for split in ("tune", "test"):
        jobs[f"topic/{split}"] = lambda s=split: topic_metrics(rows, s, cfg, encoder)  # type: ignore[misc]
        jobs[f"rec/{split}"] = lambda s=split: rec_metrics(rows, s, cfg, encoder)  # type: ignore[misc]
        jobs[f"rec+p/{split}"] = lambda s=split: rec_metrics(  # type: ignore[misc]
            rows, s, cfg, encoder, kinds=("query", "passage")
        )
        if hard:
            jobs[f"hard/{split}"] = lambda s=split: hard_metrics(rows, s, cfg, encoder)  # type: ignore[misc]
    wanted = list(jobs) if sources is None else list(sources)
    unknown = set(wanted) - set(jobs)
    if unknown:
        raise ValueError(f"unknown source(s) {sorted(unknown)}; known: {list(jobs)}")
    return {name: jobs[name]() for name in wanted}


# ---------------------------------------------------------------- command line


def print_table(results: dict[str, dict[str, Summary]], metric: str = "mrr") -> None:
    cols = list(next(iter(results.values())))
    print(f"{metric}: {'config':32s}" + "".join(f"{c:>24s}" for c in cols))
    for name, res in results.items():
        print(f"{'':{len(metric) + 2}s}{name:32s}" + "".join(f"{res[c].cell(metric):>24s}" for c in cols))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="real-dev and topic/test only")
    ap.add_argument("--json", type=Path, default=None, help="also write every summary to this JSON file")
    ap.add_argument(
        "--cv",
        action="store_true",
        help="leave-cluster-out choice on real-dev over the option grid, with out-of-fold category profiles",
    )
    ap.add_argument(
        "--fit-similarity", action="store_true", help="fit Hit.similarity's coefficients on real-dev and stop"
    )
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if args.cv:
        rows = load_rows(name=REALDEV)
        per, opts = realdev_grid(oof_category_profiles(), rows=rows)
        print(f"real-dev, leave-cluster-out choice among {len(per)} option sets (MRR, cluster bootstrap CI):")
        for label, summ in ablation_table(per, opts, rows).items():
            print(f"  {label:76s} {summ.cell()}")
        groups = [r["cluster"] for r in rows if r.get("cluster")]
        print("fixed option sets (not chosen per fold):")
        for name in sorted(per, key=lambda n: -np.mean([q["mrr"] for q in per[n]]))[:10]:
            print(f"  {name:76s} {bootstrap(per[name], groups).cell()}")
        for label, cfg in (
            ("default", IndexConfig()),
            ("its lexical-only", IndexConfig(semantic_weight=0.0)),
        ):
            name = " ".join(f"{k}={getattr(cfg, k)}" for k in GRID)
            print(f"  {label + ': ' + name:76s} {bootstrap(per[name], groups).cell()}")
        return 0
    if args.fit_similarity:
        for side, cfg in (("hybrid", IndexConfig()), ("lexical", IndexConfig(semantic_weight=0.0))):
            pairs = similarity_pairs(cfg)
            sem = pairs["semantic"] if side == "hybrid" else None
            coef = fit_similarity(pairs["lexical"], sem, pairs["related"])
            cv = similarity_cv(pairs, semantic=side == "hybrid")
            print(
                f"{side}: coef {tuple(round(c, 3) for c in coef)}; leave-cluster-out "
                + ", ".join(f"{k} {v:.4f}" for k, v in cv.items())
            )
        return 0
    # realdev/loco re-chooses the semantic weight: printed once, for the default, not per configuration
    sources = ["realdev", "topic/test"] if args.quick else [*SOURCE_NAMES]
    loco = evaluate_sources(sources=["realdev/loco"])["realdev/loco"]
    print(f"default on real-dev, semantic weight chosen leave-cluster-out: {loco.cell()}\n")
    results = {name: evaluate_sources(cfg, sources=sources) for name, cfg in CONFIGS.items()}
    for m in METRICS:
        print_table(results, m)
        print()
    if args.json:
        args.json.write_text(
            json.dumps({n: {s: x.to_dict() for s, x in r.items()} for n, r in results.items()}, indent=1),
            encoding="utf-8",
        )
    print(f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
