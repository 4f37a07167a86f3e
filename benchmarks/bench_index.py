"""CaseIndex: retrieval quality and speed against the peers a user would reach for.

    python benchmarks/bench_index.py            # full: 2,000-case index, 200 distinct synthetic cases
    python benchmarks/bench_index.py --quick    # small sizes, same tables

Quality (MRR, as in ``scripts/tune_index.py``): real-dev (``corpus/realdev.jsonl``: each clustered real
passage ranks all 198 others), and on ``corpus/retrieval-dev.jsonl`` (self-written; tune and test splits)
same-topic MRR (each passage ranks the others of its split) and recommendation MRR (each labelled query ranks
the ten bundled cases); ours: the default, its lexical-only configuration and the default plus the category
side. Peers, all on the same texts:

* scikit-learn ``TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)`` + cosine;
* e5 only: the same default model's embeddings ranked by ``sentence_transformers.util.semantic_search``;
* BM25 (k1=1.5, b=0.75) over the same character 1-2-grams (``rank_bm25`` is not installed: implemented here).

Speed: build throughput (cold: every text through the model; warm: embeddings from the cache) and search
latency on an index of ``--cases`` synthetic cases (each 4 dev passages, one per line, so each case has
passages), queries' embeddings cached: what remains is the index's own work. One uncached query encoding is
timed separately (the rest of a real search's cost).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEV = REPO / "corpus" / "retrieval-dev.jsonl"


# ------------------------------------------------------------------------------------------------ peers


class SklearnTfidf:
    name = "sklearn tfidf char1-2"

    def __init__(self, docs: Sequence[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.v = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
        self.m = self.v.fit_transform(docs)

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        return (self.v.transform(queries) @ self.m.T).toarray()


class BM25:
    name = "bm25 char1-2"

    def __init__(self, docs: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.tf = [self._grams(d) for d in docs]
        self.len = np.array([sum(t.values()) for t in self.tf], float)
        self.avg = float(self.len.mean()) if len(docs) else 1.0
        df: Counter[str] = Counter()
        for t in self.tf:
            df.update(t.keys())
        n = len(docs)
        self.idf = {g: math.log(1 + (n - c + 0.5) / (c + 0.5)) for g, c in df.items()}
        self.post: dict[str, list[tuple[int, float]]] = {}
        for i, t in enumerate(self.tf):
            norm = self.k1 * (1 - self.b + self.b * self.len[i] / self.avg)
            for g, c in t.items():
                self.post.setdefault(g, []).append((i, c * (self.k1 + 1) / (c + norm)))
        self.n = n

    @staticmethod
    def _grams(text: str) -> Counter[str]:
        t = "".join(text.split())
        return Counter(list(t) + [t[i : i + 2] for i in range(len(t) - 1)])

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(queries), self.n))
        for qi, q in enumerate(queries):
            for g in self._grams(q):
                w = self.idf.get(g)
                if w is None:
                    continue
                for i, v in self.post[g]:
                    out[qi, i] += w * v
        return out


class E5SemanticSearch:
    name = "e5 semantic_search"

    def __init__(self, docs: Sequence[str], encoder: Any) -> None:
        import torch

        self.enc = encoder
        self.m = torch.from_numpy(encoder.encode(list(docs)))

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        import torch
        from sentence_transformers.util import semantic_search

        q = torch.from_numpy(self.enc.encode(list(queries)))
        res = semantic_search(q, self.m, top_k=self.m.shape[0])
        out = np.full((len(queries), self.m.shape[0]), -np.inf)
        for i, hits in enumerate(res):
            for h in hits:
                out[i, h["corpus_id"]] = h["score"]
        return out


# ------------------------------------------------------------------------------------------------ quality

#: our configurations: the default, its lexical-only configuration and the default plus the category side
OURS: dict[str, dict[str, Any]] = {
    "yanreform CaseIndex": {},
    "CaseIndex, lexical only": {"semantic_weight": 0.0},
    "CaseIndex +categories": {"category_weight": 0.3},
}
REALDEV = REPO / "corpus" / "realdev.jsonl"


def _mrr(ranks: list[int | None]) -> float:
    return float(np.mean([1.0 / r if r else 0.0 for r in ranks]))


def _rank_first(order: Sequence[str], ok: Callable[[str], bool]) -> int | None:
    return next((i for i, x in enumerate(order, 1) if ok(x)), None)


def quality(rows: list[dict[str, Any]], encoder: Any) -> dict[str, dict[str, float]]:
    from yanreform import CaseIndex, IndexConfig, load_corpus

    corpus = load_corpus()
    case_docs = ["\n".join(x for x in (c.agency, c.title, c.text) if x) for c in corpus]
    case_ids = corpus.ids
    peers: list[Callable[[Sequence[str]], Any]] = [
        SklearnTfidf,
        BM25,
        lambda docs: E5SemanticSearch(docs, encoder),
    ]
    res: dict[str, dict[str, float]] = {}
    # real passages (corpus/realdev.jsonl): each clustered passage ranks the others; relevant = its cluster
    # (the shipped tagger is trained on these texts: '+categories' is in-sample here)
    real = [json.loads(x) for x in REALDEV.read_text(encoding="utf-8").splitlines() if x.strip()]
    rtexts = [r["text"] for r in real]
    rcl = [r.get("cluster") for r in real]
    qrows = [i for i, c in enumerate(rcl) if c]
    for name, opts in OURS.items():
        idx = CaseIndex.from_texts(
            rtexts, [str(i) for i in range(len(real))], encoder=encoder, config=IndexConfig().replace(**opts)
        )
        ranks = []
        for i in qrows:
            order = [h.id for h in idx.recommend(str(i), k=len(real) - 1)]
            ranks.append(_rank_first(order, lambda j, i=i: rcl[int(j)] == rcl[i]))
        res.setdefault(name, {})["realdev"] = _mrr(ranks)
    for make in peers:
        peer = make(rtexts)
        s = peer.scores(rtexts)
        np.fill_diagonal(s, -np.inf)
        ranks = []
        for i in qrows:
            order = [str(j) for j in np.argsort(-s[i], kind="stable") if j != i]
            ranks.append(_rank_first(order, lambda j, i=i: rcl[int(j)] == rcl[i]))
        res.setdefault(peer.name, {})["realdev"] = _mrr(ranks)
    for split in ("tune", "test"):
        ps = [r for r in rows if r["kind"] == "passage" and r["split"] == split]
        qs = [r for r in rows if r["kind"] == "query" and r["split"] == split]
        texts = [r["text"] for r in ps]
        topic = [r["topic"] for r in ps]

        for name, opts in OURS.items():
            idx = CaseIndex.from_texts(
                texts, [str(i) for i in range(len(ps))], encoder=encoder, config=IndexConfig().replace(**opts)
            )
            ranks = []
            for i in range(len(ps)):
                order = [h.id for h in idx.recommend(str(i), k=len(ps) - 1)]
                ranks.append(_rank_first(order, lambda j, i=i, t=topic: t[int(j)] == t[i]))
            res.setdefault(name, {})[f"topic/{split}"] = _mrr(ranks)
            cidx = CaseIndex.from_corpus(corpus, encoder=encoder, config=IndexConfig().replace(**opts))
            hits = cidx.search([r["text"] for r in qs], k=len(corpus))
            ranks = [
                _rank_first([h.id for h in hl], lambda x, r=r: x == r["case_id"])
                for r, hl in zip(qs, hits, strict=True)
            ]
            res[name][f"rec/{split}"] = _mrr(ranks)

        for make in peers:
            peer = make(texts)
            s = peer.scores(texts)
            np.fill_diagonal(s, -np.inf)
            ranks = []
            for i in range(len(ps)):
                order = [str(j) for j in np.argsort(-s[i], kind="stable") if j != i]
                ranks.append(_rank_first(order, lambda j, i=i, t=topic: t[int(j)] == t[i]))
            res.setdefault(peer.name, {})[f"topic/{split}"] = _mrr(ranks)
            peer = make(case_docs)
            s = peer.scores([r["text"] for r in qs])
            ranks = []
            for qi, r in enumerate(qs):
                order = [case_ids[j] for j in np.argsort(-s[qi], kind="stable")]
                ranks.append(_rank_first(order, lambda x, r=r: x == r["case_id"]))
            res[peer.name][f"rec/{split}"] = _mrr(ranks)
    return res


# ------------------------------------------------------------------------------------------------ speed


def _timeit(fn: Callable[[], Any], repeat: int) -> float:
    """Best-of-``repeat`` wall time of ``fn()`` in seconds."""
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def synthetic_cases(rows: list[dict[str, Any]], n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    pool = [r["text"] for r in rows]
    return ["\n".join(rng.sample(pool, 4)) for _ in range(n)]


def speed(
    rows: list[dict[str, Any]], encoder: Any, n_cases: int, n_distinct: int, n_cold: int, quick: bool
) -> list[tuple]:
    from yanreform import CaseIndex, Encoder, IndexConfig

    out: list[tuple] = []
    distinct = synthetic_cases(rows, n_distinct)
    n_texts = n_cold * 5  # the whole case + 4 passages
    cold_enc = Encoder(cache=False) if encoder.is_default else encoder
    t = time.perf_counter()
    CaseIndex.from_texts(distinct[:n_cold], encoder=cold_enc)
    cold = time.perf_counter() - t
    out.append(("build, cold (model encodes)", f"{n_cold} cases", cold, f"{n_texts / cold:.1f} texts/s"))
    encoder.encode(distinct)  # fill the cache once (not timed)
    texts = [distinct[i % n_distinct] for i in range(n_cases)]
    t = time.perf_counter()
    big = CaseIndex.from_texts(texts, encoder=encoder)
    warm = time.perf_counter() - t
    out.append(("build, warm (cached embeddings)", f"{n_cases} cases", warm, f"{n_cases / warm:.0f} cases/s"))

    queries = [r["text"] for r in rows if r["kind"] == "query"]
    encoder.encode(queries)  # cached: the timings below are the index's own work
    big.search(queries[0])
    rep = 3 if quick else 5
    one = _timeit(lambda: [big.search(q, k=10) for q in queries[:20]], rep) / 20
    out.append(("search, one query", f"N={n_cases}", one, "per query"))
    # the optional category side's cost: the tagger scores the query (its embedding cached), one more product
    cat = CaseIndex.from_texts(texts, encoder=encoder, config=IndexConfig(category_weight=0.3))
    cat.search(queries[0])
    one0 = _timeit(lambda: [cat.search(q, k=10) for q in queries[:20]], rep) / 20
    out.append(("search, one query, +categories", f"N={n_cases}", one0, "per query"))
    batch = _timeit(lambda: big.search(queries, k=10), rep) / len(queries)
    out.append(("search, batch of 60", f"N={n_cases}", batch, "per query"))
    rec = _timeit(lambda: [big.recommend(str(i), k=10) for i in range(20)], rep) / 20
    out.append(("recommend", f"N={n_cases}", rec, "per case"))

    sk = SklearnTfidf(texts)
    t1 = _timeit(lambda: [np.argpartition(-sk.scores([q])[0], 10)[:10] for q in queries[:20]], rep) / 20
    out.append(("peer: sklearn tfidf search", f"N={n_cases}", t1, "per query"))
    e5 = E5SemanticSearch(texts, encoder)
    t2 = _timeit(lambda: [e5.scores([q]) for q in queries[:20]], rep) / 20
    out.append(("peer: e5 semantic_search", f"N={n_cases}", t2, "per query (encode cached)"))

    fresh = [f"第{i}个新问题：{q}" for i, q in enumerate(queries[:5])]
    t3 = _timeit(lambda: cold_enc.encode(fresh), 1) / len(fresh)
    out.append(("query encoding (uncached)", "1 text", t3, "per query"))
    return out


# ------------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="CaseIndex quality and speed vs peers")
    ap.add_argument("--quick", action="store_true", help="small sizes (CI smoke run)")
    ap.add_argument(
        "--cases", type=int, default=None, help="cases in the speed index (default 2000; quick 300)"
    )
    ap.add_argument(
        "--distinct", type=int, default=None, help="distinct synthetic cases (default 200; quick 30)"
    )
    ap.add_argument("--cold", type=int, default=None, help="cases for the cold build (default 40; quick 10)")
    ap.add_argument("--skip-quality", action="store_true")
    args = ap.parse_args(argv)
    n_cases = args.cases or (300 if args.quick else 2000)
    n_distinct = args.distinct or (30 if args.quick else 200)
    n_cold = min(args.cold or (10 if args.quick else 40), n_distinct)

    from yanreform import Encoder

    encoder = Encoder.default()
    rows = [json.loads(x) for x in DEV.read_text(encoding="utf-8").splitlines() if x.strip()]

    if not args.skip_quality:
        q = quality(rows, encoder)
        cols = list(next(iter(q.values())))
        ours = q["yanreform CaseIndex"]
        print("retrieval quality (MRR; ratio = yanreform / peer)")
        print(f"{'method':26s}" + "".join(f"{c:>12s}" for c in cols) + "   ratio (per column)")
        for name, r in q.items():
            ratio = "" if name == "yanreform CaseIndex" else "  ".join(f"{ours[c] / r[c]:.2f}x" for c in cols)
            print(f"{name:26s}" + "".join(f"{r[c]:12.3f}" for c in cols) + f"   {ratio}")
        print()

    s = speed(rows, encoder, n_cases, n_distinct, n_cold, args.quick)
    base = {name: t for name, _, t, _ in s}
    print("speed (best of repeats; ms unless noted)")
    for name, size, t, note in s:
        extra = ""
        if name == "search, one query":
            extra = (
                f"   (yanreform / peer time: {t / base['peer: sklearn tfidf search']:.1f}x sklearn tfidf, "
                f"{t / base['peer: e5 semantic_search']:.1f}x semantic_search)"
            )
        print(f"{name:34s} {size:>12s} {t * 1e3:10.2f} ms  {note}{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
