"""Encoder backends of the default model, measured in one run: torch fp32 (the reference) against ONNX
Runtime int8 on the CPU, and torch fp16 on a GPU when CUDA is present.

Usage: python benchmarks/bench_encode.py [--quick] [--no-sts] [--no-tags] [--rounds R] [--json OUT]

- Throughput: passages of 240 characters (the real-dev texts joined and cut, so every passage is distinct and
  real), encoded cold (no cache) by each backend, alternating rounds so load from other processes hits both
  alike; the best round of each is kept and the ratio int8 / fp32 printed. On a GPU: fp16 with batches of 256
  against CPU fp32 of the same run.
- Agreement: cosine between each backend's vector and torch fp32's for the same passages (mean, min).
- STS-B (Chinese, test split, ``../shared/data/sts/sts-b-zh-test.tsv``): Spearman x100 of each backend
  (``benchmarks/bench_sts.py`` does the same for one backend).
- Tags: ``Tagger.default(encoder=...)`` with each backend on ``corpus/realdev.jsonl`` (199 real passages):
  passages whose tag sets differ, listed with the scores of the categories that flipped; micro-F1 of each
  against the gold labels (real-dev is part of the head's training data: compare the two, not the level).

The int8 copy is built first if absent (about a minute, printed). ``--quick`` encodes 64 passages in one
round, skips STS-B and compares tags on the first 40 real-dev passages.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PASSAGE_CHARS = 240


def passages(n: int | None = None) -> list[str]:
    """Distinct 240-character passages cut from the real-dev texts (joined in file order)."""
    rows = [json.loads(x) for x in (REPO / "corpus" / "realdev.jsonl").read_text("utf-8").splitlines() if x]
    joined = "".join(r["text"] for r in rows)
    out = [joined[i : i + PASSAGE_CHARS] for i in range(0, len(joined) - PASSAGE_CHARS + 1, PASSAGE_CHARS)]
    return out[:n] if n else out


def throughput(encoders: dict[str, Any], texts: list[str], rounds: int) -> dict[str, dict[str, float]]:
    """Best passages/s of each encoder over ``rounds`` alternating rounds (fresh encodes, no cache)."""
    best: dict[str, float] = dict.fromkeys(encoders, 0.0)
    for enc in encoders.values():
        enc.encode(texts[:8])  # load the model and warm the runtime outside the timing
    for _ in range(rounds):
        for name, enc in encoders.items():
            t0 = time.perf_counter()
            enc._encode_uncached(texts, batch_size=enc.batch_size, show_progress=False)
            rate = len(texts) / (time.perf_counter() - t0)
            best[name] = max(best[name], rate)
    return {name: {"passages_per_s": round(r, 2)} for name, r in best.items()}


def cosines(encoders: dict[str, Any], texts: list[str], ref: str) -> dict[str, dict[str, float]]:
    base = encoders[ref]._encode_uncached(texts, batch_size=32, show_progress=False)
    out = {}
    for name, enc in encoders.items():
        if name == ref:
            continue
        v = enc._encode_uncached(texts, batch_size=enc.batch_size, show_progress=False)
        c = np.sum(v * base, axis=1)
        out[name] = {"cos_mean": round(float(c.mean()), 4), "cos_min": round(float(c.min()), 4)}
    return out


def sts(encoders: dict[str, Any]) -> dict[str, float]:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_sts import DEFAULT_PATH, evaluate, load_pairs

    if not DEFAULT_PATH.is_file():
        print(f"  STS-B file not found: {DEFAULT_PATH} (skipped)")
        return {}
    a, b, gold = load_pairs(DEFAULT_PATH)
    out = {}
    for name, enc in encoders.items():
        rho, secs, n = evaluate(
            lambda ts, enc=enc: enc._encode_uncached(ts, batch_size=enc.batch_size, show_progress=False),
            a,
            b,
            gold,
        )
        out[name] = round(rho, 2)
        print(f"  STS-B {name:12s} Spearman x100 = {rho:6.2f}   ({n} sentences, {n / secs:.1f}/s)")
    return out


def _micro_f1(pred: list[set[str]], gold: list[set[str]]) -> float:
    tp = sum(len(p & g) for p, g in zip(pred, gold, strict=True))
    fp = sum(len(p - g) for p, g in zip(pred, gold, strict=True))
    fn = sum(len(g - p) for p, g in zip(pred, gold, strict=True))
    return 2 * tp / max(1, 2 * tp + fp + fn)


def tags(encoders: dict[str, Any], ref: str, limit: int | None = None) -> dict[str, Any]:
    from yanreform import Tagger

    rows = [json.loads(x) for x in (REPO / "corpus" / "realdev.jsonl").read_text("utf-8").splitlines() if x]
    rows = rows[:limit] if limit else rows
    texts = [r["text"] for r in rows]
    gold = [set(r.get("labels") or ()) for r in rows]
    results = {name: Tagger.default(encoder=enc).tag_many(texts) for name, enc in encoders.items()}
    # every category's score too, to show how close to its threshold a flipped category was
    out: dict[str, Any] = {}
    base = [set(t.codes) for t in results[ref]]
    out["micro_f1"] = {ref: round(_micro_f1(base, gold), 4)}
    for name, tl in results.items():
        if name == ref:
            continue
        got = [set(t.codes) for t in tl]
        out["micro_f1"][name] = round(_micro_f1(got, gold), 4)
        diffs = []
        for i, (p, q) in enumerate(zip(base, got, strict=True)):
            if p != q:
                sa = {t.code: round(float(t.score), 3) for t in results[ref][i]}
                sb = {t.code: round(float(t.score), 3) for t in tl[i]}
                diffs.append(
                    {"id": rows[i]["id"], ref: sorted(p), name: sorted(q), "gold": sorted(gold[i]),
                     f"scores_{ref}": sa, f"scores_{name}": sb}
                )  # fmt: skip
        out[name] = {"passages": len(rows), "different_tag_sets": len(diffs), "differences": diffs}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="64 passages, one round, no STS-B, tags on 40")
    ap.add_argument("--n", type=int, default=None, help="passages for the throughput runs (default: all)")
    ap.add_argument("--rounds", type=int, default=None, help="alternating timing rounds (default 3; quick 1)")
    ap.add_argument("--no-sts", action="store_true", help="skip STS-B")
    ap.add_argument("--no-tags", action="store_true", help="skip the real-dev tag agreement")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    import os

    from yanreform.embed.encoder import Encoder
    from yanreform.embed.onnx import INT8_NAME

    texts = passages(args.n or (64 if args.quick else None))
    rounds = args.rounds or (1 if args.quick else 3)
    print(
        f"{len(texts)} passages of {PASSAGE_CHARS} characters; {rounds} round(s); {os.cpu_count()} CPUs seen"
    )
    encoders: dict[str, Any] = {"torch-fp32": Encoder(device="cpu")}
    t0 = time.perf_counter()
    int8 = Encoder(backend="onnx-int8")
    int8.model  # noqa: B018  (build the int8 copy now if absent, outside the timings)
    print(f"int8 copy ready in {time.perf_counter() - t0:.1f}s ({int8.model.folder.parent / INT8_NAME})")
    encoders["onnx-int8"] = int8
    import torch

    if torch.cuda.is_available():
        encoders["cuda-fp16"] = Encoder(device="cuda")
        print(f"GPU: {torch.cuda.get_device_name(0)}")
    else:
        print("GPU: none (CUDA not available): fp16 throughput not measured")

    report: dict[str, Any] = {"passages": len(texts), "chars": PASSAGE_CHARS, "rounds": rounds}
    report["throughput"] = tp = throughput(encoders, texts, rounds)
    ref = tp["torch-fp32"]["passages_per_s"]
    for name, r in tp.items():
        r["ratio_vs_torch_fp32"] = round(r["passages_per_s"] / ref, 2)
        print(
            f"  {name:12s} {r['passages_per_s']:8.1f} passages/s   "
            f"x{r['ratio_vs_torch_fp32']:.2f} vs torch fp32"
        )
    report["cosine_vs_torch_fp32"] = cos = cosines(encoders, texts, "torch-fp32")
    for name, c in cos.items():
        print(f"  cosine {name:12s} mean {c['cos_mean']:.4f}  min {c['cos_min']:.4f}")
    if not (args.quick or args.no_sts):
        report["sts_b_spearman100"] = sts(encoders)
    if not args.no_tags:
        report["tags_realdev"] = tg = tags(encoders, "torch-fp32", 40 if args.quick else None)
        print(f"  real-dev micro-F1 against gold: {tg['micro_f1']}")
        for name, d in tg.items():
            if name == "micro_f1":
                continue
            print(
                f"  real-dev: {d['different_tag_sets']} of {d['passages']} passages tagged differently "
                f"by {name}"
            )
            for x in d["differences"]:
                print(f"    {json.dumps(x, ensure_ascii=False)}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
