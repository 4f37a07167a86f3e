"""Quality report: tagging on every labelled source, full and fast heads side by side (README table).

    python scripts/quality_report.py [--json]

The figures are the ones `scripts/train_tagger.py` measured when it trained the shipped heads, recorded in
their metadata (`models/tagger*/tagger.json` → `info`): nothing is re-fitted here; the report is what
ships.
Each source is scored separately and never on a head that saw it:

- real-dev (199 real passages, ../shared/data/real-dev; also training data): grouped 5-fold
  cross-validation, passages of one topic cluster in one fold, mean over 3 fold seeds; the interval is the
  bootstrap 95% interval of seed 0;
- stress (89 long official-style passages): held out, never trained on;
- bundled (44 Yancheng passages): leave-bundled-out (a head trained on everything else);
- devset and longform (self-written): 5-fold cross-validation.

With ``--retrieval`` it also scores the related-case index (default configuration and its lexical-only
configuration) on every retrieval source through `scripts/tune_index.py`'s ``evaluate_sources``:
real-dev same-practice retrieval (every clustered passage against all 199), ``realdev/loco`` (the semantic
weight chosen leave-cluster-out), the self-written topic sets, queries to the bundled case, and the harder
recommendation; MRR, recall@5 and nDCG@10 with bootstrap 95% intervals over clusters or topics (a few
minutes: it builds the indexes; embeddings come from the cache).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from yanreform.tagging import Tagger

SOURCES = (
    ("realdev_cv", "real-dev, grouped 5-fold CV (3 seeds)"),
    ("stress", "stress set (held out)"),
    ("leave_bundled_out", "bundled Yancheng, leave-bundled-out"),
    ("devset_cv", "devset (self-written), 5-fold CV"),
    ("longform_cv", "longform (self-written), 5-fold CV"),
)


def source_summary(info: dict[str, Any], key: str) -> dict[str, Any] | None:
    """``{micro_f1, macro_f1, micro_f1_ci95, macro_f1_ci95, none_accuracy, n, per_category_f1}`` of one source
    (real-dev: the mean over seeds, with seed 0's intervals), or None when the head does not record it."""
    s = info.get(key)
    if not isinstance(s, dict):
        return None
    if key != "realdev_cv":
        return s
    first = s["per_seed"][0]
    return {
        **first,
        "micro_f1": s["mean"]["micro_f1"],
        "macro_f1": s["mean"]["macro_f1"],
        "per_category_f1": s["mean"]["per_category_f1"],
        "seeds": s["seeds"],
        "per_seed_micro_f1": [p["micro_f1"] for p in s["per_seed"]],
    }


def fmt_ci(v: float, ci: list[float] | tuple[float, ...]) -> str:
    return f"{v:.3f} [{ci[0]:.3f}–{ci[1]:.3f}]" if len(ci) == 2 else f"{v:.3f}"


def report(heads: dict[str, Tagger]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for head, tg in heads.items():
        info = getattr(tg, "info_", {}) or {}
        out[head] = {key: source_summary(info, key) for key, _ in SOURCES}
    return out


def markdown(rep: dict[str, Any], codes: tuple[str, ...], names: dict[str, str]) -> str:
    lines = [
        "| source | passages | head | micro-F1 [95% CI] | macro-F1 [95% CI] | negatives untagged |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for key, label in SOURCES:
        for head in rep:
            s = rep[head][key]
            if s is None:
                continue
            na = "n/a" if s.get("none_accuracy") is None else f"{s['none_accuracy']:.3f}"
            lines.append(
                f"| {label} | {s['n']} | {head} | {fmt_ci(s['micro_f1'], s['micro_f1_ci95'])} | "
                f"{fmt_ci(s['macro_f1'], s['macro_f1_ci95'])} | {na} |"
            )
    lines += [
        "",
        "| category (real-dev CV F1) | " + " | ".join(rep) + " |",
        "|---|" + "---:|" * len(rep),
    ]
    for c in codes:
        vals = []
        for head in rep:
            s = rep[head]["realdev_cv"]
            vals.append("—" if s is None else f"{s['per_category_f1'][c]:.3f}")
        lines.append(f"| {c} {names[c]} | " + " | ".join(vals) + " |")
    return "\n".join(lines)


RETRIEVAL_SOURCES = ("realdev", "realdev/loco", "topic/test", "rec/test", "hard/test")


def retrieval(sources: tuple[str, ...] = RETRIEVAL_SOURCES) -> dict[str, dict[str, Any]]:
    """``{configuration: {source: Summary.to_dict()}}`` for the default index and its lexical-only one."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import tune_index  # scripts/tune_index.py

    from yanreform.search.index import IndexConfig

    configs = {
        "default": IndexConfig(),
        "lexical only": IndexConfig().replace(semantic_weight=0.0, category_weight=0.0),
    }
    out: dict[str, dict[str, Any]] = {}
    for name, cfg in configs.items():
        wanted = [s for s in sources if not (s == "realdev/loco" and name != "default")]
        res = tune_index.evaluate_sources(cfg, sources=wanted)
        out[name] = {src: summ.to_dict() for src, summ in res.items()}
    return out


def retrieval_markdown(rep: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| source | configuration | queries | MRR [95% CI] | recall@5 | nDCG@10 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for src in RETRIEVAL_SOURCES:
        for name, res in rep.items():
            d = res.get(src)
            if d is None:
                continue
            lines.append(
                f"| {src} | {name} | {d['n_queries']} | {fmt_ci(d['mrr'], d['mrr_ci95'])} | "
                f"{d['recall@5']:.3f} | {d['ndcg@10']:.3f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print JSON instead of Markdown tables")
    ap.add_argument("--retrieval", action="store_true", help="also score the related-case index (minutes)")
    args = ap.parse_args(argv)
    # the heads are loaded without an encoder call: only their metadata is read
    heads = {"full": Tagger.default(), "fast": Tagger.default(fast=True)}
    rep: dict[str, Any] = report(heads)
    ret = retrieval() if args.retrieval else None
    if args.json:
        print(json.dumps({"tagging": rep, "retrieval": ret}, ensure_ascii=False, indent=2))
        return 0
    print(markdown(rep, heads["full"].codes, heads["full"].names))
    if ret is not None:
        print()
        print(retrieval_markdown(ret))
    return 0


if __name__ == "__main__":
    sys.exit(main())
