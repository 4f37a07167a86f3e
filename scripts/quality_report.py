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

Retrieval figures come from `scripts/tune_index.py` (leave-cluster-out on real-dev, and the other sets).
"""

from __future__ import annotations

import argparse
import json
import sys
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print JSON instead of Markdown tables")
    args = ap.parse_args(argv)
    # the heads are loaded without an encoder call: only their metadata is read
    heads = {"full": Tagger.default(), "fast": Tagger.default(fast=True)}
    rep = report(heads)
    if args.json:
        print(json.dumps(rep, ensure_ascii=False, indent=2))
    else:
        print(markdown(rep, heads["full"].codes, heads["full"].names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
