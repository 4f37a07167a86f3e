"""Evaluate (and re-tune) the case index fusion on corpus/retrieval-dev.jsonl.

Two measures, each on the fixed ``tune`` and ``test`` splits of the file:

* same-topic MRR: index the split's passages with ``CaseIndex.from_texts``; for each passage,
  ``recommend(id)`` ranks all the others; reciprocal rank of the first passage of the same topic.
* recommendation MRR: ``CaseIndex.from_corpus(load_corpus())``; each labelled text (the held-out style
  queries, and the passages of topics mapped to a bundled case) is searched; reciprocal rank of its labelled
  case.
  ``rec(q)`` counts the query passages only, ``rec(all)`` both kinds.

* hard recommendation (``hard``): a bundled initiative -> the retrieval-dev topics about its case, among the
  other nine bundled cases and all the split's topics as pseudo-cases (see :func:`hard_rec_mrr`). The ten
  bundled cases are easy to tell apart (``rec`` saturates near 1); this one separates configurations.

Configurations: TF-IDF only (character 1-2-grams, whole texts), e5 only (whole texts), a plain 50/50 mix of
the raw cosines, ablations of the default, and the default (``yanreform.IndexConfig()``).
``--grid`` adds a small sweep over the main weights on the tune split; pick from it what also holds on test.

The category side uses the shipped tagger, trained on the bundled passages (their profiles are near perfect):
judge it on ``topic`` and ``hard`` (retrieval-dev passages, never seen by the tagger), not on ``rec``.

    .venv/bin/python scripts/tune_index.py            # the table
    .venv/bin/python scripts/tune_index.py --grid     # plus the sweep
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from yanreform import load_corpus
from yanreform._resources import corpus_file
from yanreform.search.index import CaseIndex, IndexConfig

DATA = "retrieval-dev.jsonl"

_OFF = {"category_weight": 0.0}
CONFIGS: dict[str, dict[str, Any]] = {
    "tfidf char1-2": {"semantic_weight": 0.0, "passage_weight": 0.0, "prf_depth": 0, "fusion": "raw", **_OFF},
    "e5": {"semantic_weight": 1.0, "passage_weight": 0.0, "prf_depth": 0, "fusion": "raw", **_OFF},
    "50/50 raw": {"semantic_weight": 0.5, "passage_weight": 0.0, "prf_depth": 0, "fusion": "raw", **_OFF},
    "50/50 z": {"passage_weight": 0.0, "prf_depth": 0, **_OFF},
    "50/50 z +passages": {"prf_depth": 0, **_OFF},
    "old default (+feedback)": {**_OFF},
    "old default +tokens tw=0.3": {**_OFF, "token_weight": 0.3},
    "old default +tokens tw=0.5": {**_OFF, "token_weight": 0.5},
    "old default boilerplate bw=0": {**_OFF, "boilerplate_weight": 0.0},
    "default -feedback": {"prf_depth": 0},
    "default +tokens tw=0.3": {"token_weight": 0.3},
    "default cw=0.15": {"category_weight": 0.15},
    "default cw=0.5": {"category_weight": 0.5},
    "default (+categories cw=0.3)": {},
}


def load_rows(path: Path | None = None) -> list[dict[str, Any]]:
    p = path or corpus_file(DATA)
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def same_topic_mrr(
    rows: list[dict[str, Any]], split: str, config: dict[str, Any], encoder: Any = None
) -> float:
    ps = [r for r in rows if r["kind"] == "passage" and r["split"] == split]
    topic = {r["id"]: r["topic"] for r in ps}
    idx = CaseIndex.from_texts(
        [r["text"] for r in ps],
        [r["id"] for r in ps],
        encoder=encoder,
        config=IndexConfig().replace(**config),
    )
    rr = []
    for r in ps:
        hits = idx.recommend(r["id"], k=len(ps) - 1)
        rank = next((i for i, h in enumerate(hits, 1) if topic[h.id] == r["topic"]), None)
        rr.append(1.0 / rank if rank else 0.0)
    return float(np.mean(rr))


def rec_mrr(
    rows: list[dict[str, Any]], split: str, config: dict[str, Any], encoder: Any = None, kinds=("query",)
) -> float:
    qs = [r for r in rows if r.get("case_id") and r["split"] == split and r["kind"] in kinds]
    idx = CaseIndex.from_corpus(load_corpus(), encoder=encoder, config=IndexConfig().replace(**config))
    hits = idx.search([r["text"] for r in qs], k=len(idx))
    rr = []
    for r, hl in zip(qs, hits, strict=True):
        rank = next((i for i, h in enumerate(hl, 1) if h.id == r["case_id"]), None)
        rr.append(1.0 / rank if rank else 0.0)
    return float(np.mean(rr))


def hard_rec_mrr(
    rows: list[dict[str, Any]], split: str, config: dict[str, Any], encoder: Any = None
) -> float:
    """Initiative -> related case among look-alikes: for each bundled case X with a topic of ``split`` mapped
    to it, index the other nine bundled cases plus every topic of the split as a pseudo-case (its passages,
    one per line); each initiative of X is a query; relevant = the pseudo-cases of topics mapped to X."""
    corpus = load_corpus()
    ps = [r for r in rows if r["kind"] == "passage" and r["split"] == split]
    topics: dict[str, list[dict[str, Any]]] = {}
    for r in ps:
        topics.setdefault(r["topic"], []).append(r)
    rr = []
    for case in corpus:
        rel = {f"topic-{t}" for t, m in topics.items() if m[0].get("case_id") == case.id}
        if not rel:
            continue
        idx = CaseIndex.from_corpus(
            [c for c in corpus if c.id != case.id], encoder=encoder, config=IndexConfig().replace(**config)
        )
        idx.add(["\n".join(r["text"] for r in m) for m in topics.values()], [f"topic-{t}" for t in topics])
        hits = idx.search([i.text for i in case.initiatives], k=len(idx))
        for hl in hits:
            rank = next((i for i, h in enumerate(hl, 1) if h.id in rel), None)
            rr.append(1.0 / rank if rank else 0.0)
    return float(np.mean(rr))


def evaluate(
    rows: list[dict[str, Any]], config: dict[str, Any], encoder: Any = None, *, hard: bool = True
) -> dict[str, float]:
    out = {}
    for split in ("tune", "test"):
        out[f"topic/{split}"] = same_topic_mrr(rows, split, config, encoder)
        out[f"rec(q)/{split}"] = rec_mrr(rows, split, config, encoder)
        out[f"rec(all)/{split}"] = rec_mrr(rows, split, config, encoder, kinds=("query", "passage"))
        if hard:
            out[f"hard/{split}"] = hard_rec_mrr(rows, split, config, encoder)
    return out


def print_table(results: dict[str, dict[str, float]]) -> None:
    cols = list(next(iter(results.values())))
    print(f"{'config':34s}" + "".join(f"{c:>14s}" for c in cols))
    for name, res in results.items():
        print(f"{name:34s}" + "".join(f"{res[c]:14.3f}" for c in cols))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help=f"evaluation file (default: corpus/{DATA})")
    ap.add_argument("--grid", action="store_true", help="also sweep the main weights")
    args = ap.parse_args(argv)
    rows = load_rows(args.data)
    n_p = sum(r["kind"] == "passage" for r in rows)
    n_q = sum(r["kind"] == "query" for r in rows)
    n_t = len({r["topic"] for r in rows if r["topic"]})
    print(f"{DATA}: {n_p} passages in {n_t} topics, {n_q} queries; splits tune/test")
    t0 = time.perf_counter()
    results = {name: evaluate(rows, cfg) for name, cfg in CONFIGS.items()}
    print_table(results)
    if args.grid:
        grid: dict[str, dict[str, float]] = {}
        for sw in (0.4, 0.5, 0.6):
            for pw in (0.0, 0.5):
                for prf in (0, 3):
                    for cw in (0.0, 0.3):
                        for tw in (0.0, 0.3):
                            cfg = {
                                "semantic_weight": sw,
                                "passage_weight": pw,
                                "prf_depth": prf,
                                "category_weight": cw,
                                "token_weight": tw,
                            }
                            name = f"sw={sw} pw={pw} prf={prf} cw={cw} tw={tw}"
                            grid[name] = evaluate(rows, cfg)
        print("\ngrid (choose on tune, confirm on test):")
        print_table(grid)
    print(f"\n({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
