"""Evaluate (and re-tune) the case index fusion on corpus/retrieval-dev.jsonl.

Two measures, each on the fixed ``tune`` and ``test`` splits of the file:

* same-topic MRR: index the split's passages with ``CaseIndex.from_texts``; for each passage,
  ``recommend(id)`` ranks all the others; reciprocal rank of the first passage of the same topic.
* recommendation MRR: ``CaseIndex.from_corpus(load_corpus())``; each labelled text (the held-out style
  queries, and the passages of topics mapped to a bundled case) is searched; reciprocal rank of its labelled
  case.
  ``rec(q)`` counts the query passages only, ``rec(all)`` both kinds.

Configurations: TF-IDF only (character 1-2-grams, whole texts), e5 only (whole texts), a plain 50/50 mix of
the raw cosines, ablations of the default, and the default (``yanreform.index.DEFAULT_CONFIG``). ``--grid``
adds a small sweep over the main weights on the tune split; pick from it only what also holds on test.

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
from yanreform.index import CaseIndex

DATA = "retrieval-dev.jsonl"

CONFIGS: dict[str, dict[str, Any]] = {
    "tfidf char1-2": {"semantic_weight": 0.0, "passage_weight": 0.0, "prf_depth": 0, "fusion": "raw"},
    "e5": {"semantic_weight": 1.0, "passage_weight": 0.0, "prf_depth": 0, "fusion": "raw"},
    "50/50 raw": {"semantic_weight": 0.5, "passage_weight": 0.0, "prf_depth": 0, "fusion": "raw"},
    "50/50 z": {"passage_weight": 0.0, "prf_depth": 0},
    "50/50 z +passages": {"prf_depth": 0},
    "default": {},
}


def load_rows(path: Path | None = None) -> list[dict[str, Any]]:
    p = path or corpus_file(DATA)
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def same_topic_mrr(
    rows: list[dict[str, Any]], split: str, config: dict[str, Any], encoder: Any = None
) -> float:
    ps = [r for r in rows if r["kind"] == "passage" and r["split"] == split]
    topic = {r["id"]: r["topic"] for r in ps}
    idx = CaseIndex.from_texts([r["text"] for r in ps], [r["id"] for r in ps], encoder=encoder, **config)
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
    idx = CaseIndex.from_corpus(load_corpus(), encoder=encoder, **config)
    hits = idx.search([r["text"] for r in qs], k=len(idx))
    rr = []
    for r, hl in zip(qs, hits, strict=True):
        rank = next((i for i, h in enumerate(hl, 1) if h.id == r["case_id"]), None)
        rr.append(1.0 / rank if rank else 0.0)
    return float(np.mean(rr))


def evaluate(rows: list[dict[str, Any]], config: dict[str, Any], encoder: Any = None) -> dict[str, float]:
    out = {}
    for split in ("tune", "test"):
        out[f"topic/{split}"] = same_topic_mrr(rows, split, config, encoder)
        out[f"rec(q)/{split}"] = rec_mrr(rows, split, config, encoder)
        out[f"rec(all)/{split}"] = rec_mrr(rows, split, config, encoder, kinds=("query", "passage"))
    return out


def print_table(results: dict[str, dict[str, float]]) -> None:
    cols = list(next(iter(results.values())))
    print(f"{'config':28s}" + "".join(f"{c:>15s}" for c in cols))
    for name, res in results.items():
        print(f"{name:28s}" + "".join(f"{res[c]:15.3f}" for c in cols))


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
        for sw in (0.3, 0.4, 0.5, 0.6, 0.7):
            for pw in (0.0, 0.5):
                for prf in (0, 3):
                    cfg = {"semantic_weight": sw, "passage_weight": pw, "prf_depth": prf}
                    grid[f"sw={sw} pw={pw} prf={prf}"] = evaluate(rows, cfg)
        print("\ngrid (choose on tune, confirm on test):")
        print_table(grid)
    print(f"\n({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
