"""Pipeline benchmark, before/after: cached and cold ``tag_many``, search latency and model calls per query.

Usage: python benchmarks/bench_pipeline.py [--quick] [--n N] [--ref CHECKOUT] [--rounds R]

Measures this checkout and, with ``--ref``, another checkout of yanreform (for example the commit before a
refactor: ``git worktree add /tmp/before <commit>``) in the same run: each side runs in its own subprocess
with its own code on ``PYTHONPATH``, the sides alternate round by round, and the best round of each is kept,
so that both see the same machine load. Only public API is used, so any version since the first release runs.

Per side: cold ``tag_many`` (every embedding computed, into a fresh cache), cached ``tag_many`` (best of 3),
search latency over an index of the same texts with queries new to the encoder (median), and the number of
texts the model encodes per uncached search query.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, statistics, sys, tempfile, time
from pathlib import Path
import yanreform as yr
from yanreform._resources import corpus_file, models_dir
n, n_cold = int(sys.argv[1]), int(sys.argv[2])
rows = [json.loads(x) for x in corpus_file("devset.jsonl").read_text(encoding="utf-8").splitlines() if x]
pool = [r["text"] for r in rows]
salt = sys.argv[3]
texts = [f"{pool[i % len(pool)]}(第{i}项{salt})" for i in range(n)]
qs = [f"{pool[i]}（查询{i}{salt}）" for i in range(25)]
out = {}
with tempfile.TemporaryDirectory() as tmp:
    enc = yr.Encoder(cache=Path(tmp) / "emb.sqlite3")
    tg = yr.Tagger.load(models_dir() / "tagger", encoder=enc)
    enc.encode(["预热模型"])
    t0 = time.perf_counter(); tg.tag_many(texts[:n_cold])
    out["cold_per_s"] = n_cold / (time.perf_counter() - t0)
    tg.tag_many(texts)
    best = 1e9
    for _ in range(3):
        t0 = time.perf_counter(); tg.tag_many(texts); best = min(best, time.perf_counter() - t0)
    out["cached_per_s"] = n / best
    ix = yr.CaseIndex.from_texts(texts, encoder=enc, tagger=tg)
    ix.search(qs[0], k=5)
    lat = []
    for q in qs[1:]:
        t0 = time.perf_counter(); ix.search(q, k=5); lat.append(time.perf_counter() - t0)
    out["search_new_query_ms"] = 1000 * statistics.median(lat)
    lat = []
    for q in qs[1:]:
        t0 = time.perf_counter(); ix.search(q, k=5); lat.append(time.perf_counter() - t0)
    out["search_seen_query_ms"] = 1000 * statistics.median(lat)
# model work per query with no embedding cache anywhere (a cache would hide a second encoding of the query)
enc_nc = yr.Encoder(cache=False)
tg_nc = yr.Tagger.load(models_dir() / "tagger", encoder=enc_nc)
ix_nc = yr.CaseIndex.from_texts(texts[:100], encoder=enc_nc, tagger=tg_nc)
ix_nc.search(qs[0], k=5)
before = enc_nc.n_encoded
for q in qs[1:11]:
    ix_nc.search(q, k=5)
out["model_texts_per_query"] = (enc_nc.n_encoded - before) / 10
print(json.dumps(out))
"""


def run_side(checkout: Path, n: int, n_cold: int, salt: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), str(n_cold), salt],
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"benchmark side {checkout} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes")
    ap.add_argument("--n", type=int, default=None, help="texts (default 2000; quick 300)")
    ap.add_argument("--ref", type=Path, default=None, help="another yanreform checkout to compare with")
    ap.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 2; quick 1)")
    args = ap.parse_args(argv)
    n = args.n or (300 if args.quick else 2000)
    n_cold = min(n, 100 if args.quick else 300)
    rounds = args.rounds or (1 if args.quick else 2)
    here = Path(__file__).resolve().parents[1]
    sides = {"this checkout": here}
    if args.ref is not None:
        if not (args.ref / "yanreform" / "__init__.py").is_file():
            raise SystemExit(f"--ref {args.ref}: not a yanreform checkout (no yanreform/__init__.py)")
        sides = {f"ref {args.ref}": args.ref.resolve(), **sides}
    best: dict[str, dict[str, float]] = {}
    for r in range(rounds):
        for name, path in sides.items():
            res = run_side(path, n, n_cold, salt=f"r{r}")  # a new salt: nothing cached from the last round
            b = best.setdefault(name, res)
            for k, v in res.items():
                better = max if k.endswith("per_s") else min
                b[k] = better(b[k], v)
    keys = (
        "cold_per_s",
        "cached_per_s",
        "search_new_query_ms",
        "search_seen_query_ms",
        "model_texts_per_query",
    )
    print(f"pipeline benchmark: {n} texts, {n_cold} cold, best of {rounds} alternating round(s)")
    print(f"{'side':<40} " + " ".join(f"{k:>22}" for k in keys))
    for name, res in best.items():
        print(f"{name[-40:]:<40} " + " ".join(f"{res[k]:22.2f}" for k in keys))
    if len(best) == 2:
        ref, cur = best.values()
        print(
            "this / ref: "
            + ", ".join(f"{k} {cur[k] / ref[k]:.2f}x" for k in keys if ref[k])
            + " (per_s: higher is better; ms and texts per query: lower is better)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
