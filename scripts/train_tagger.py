"""Train the shipped reform-category tagger head (models/tagger/) from the labelled data in corpus/.

Usage:  python scripts/train_tagger.py [--out models/tagger] [--no-save] [--skip-cv]

Training data: corpus/devset.jsonl (split "train") + the labelled leads and initiatives of the bundled
collection (corpus/yancheng-2024-labels.jsonl, texts taken from load_corpus() by id). The script then reports

1. the shipped head on the devset "dev" split (never trained on),
2. a leave-bundled-out run (trained on the whole devset, evaluated on the 44 bundled passages: real published
   text, the closest proxy we have for other cities' collections),
3. 5-fold cross-validation over all labelled passages,

and writes the head (JSON + npz, no pickle) with those figures recorded in tagger.json. Deterministic:
fixed fold seeds, deterministic solvers, embeddings from the default encoder (cached under $YANREFORM_HOME).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time

import numpy as np

from yanreform import load_corpus
from yanreform._resources import corpus_file, models_dir
from yanreform.embed import Encoder
from yanreform.tagger import EvalReport, Tagger, evaluate_sets


def load_labelled() -> tuple[list[dict], list[dict], list[dict]]:
    """(devset train rows, devset dev rows, bundled rows); each row has id, text, labels."""
    rows = [
        json.loads(line)
        for line in corpus_file("devset.jsonl").read_text(encoding="utf-8").splitlines()
        if line
    ]
    train = [r for r in rows if r["split"] == "train"]
    dev = [r for r in rows if r["split"] == "dev"]
    texts = {pid: text for case in load_corpus() for pid, _kind, text in case.passages()}
    bundled = []
    for line in corpus_file("yancheng-2024-labels.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        if r["id"] not in texts:
            raise SystemExit(f"label id {r['id']!r} has no passage in the bundled corpus")
        bundled.append({"id": r["id"], "text": texts[r["id"]], "labels": r["labels"]})
    return train, dev, bundled


def summary(r: EvalReport) -> dict:
    return {
        "micro_f1": round(r.micro["f1"], 4),
        "macro_f1": round(r.macro["f1"], 4),
        "micro_precision": round(r.micro["precision"], 4),
        "micro_recall": round(r.micro["recall"], 4),
        "none_accuracy": None if np.isnan(r.none_accuracy) else round(r.none_accuracy, 4),
        "n": r.n,
        "per_category_f1": {c: round(v["f1"], 4) for c, v in r.per_category.items()},
    }


def cross_validate(rows: list[dict], encoder: Encoder, folds: int = 5, seed: int = 0) -> EvalReport:
    from sklearn.model_selection import KFold

    texts = [r["text"] for r in rows]
    labels = [r["labels"] for r in rows]
    pred: list[list[str]] = [[] for _ in rows]
    codes: tuple[str, ...] = ()
    for tr, te in KFold(n_splits=folds, shuffle=True, random_state=seed).split(texts):
        tg = Tagger(encoder=encoder).fit([texts[i] for i in tr], [labels[i] for i in tr])
        codes = tg.taxonomy_.codes
        D = tg.predict([texts[i] for i in te])
        for i, row in zip(te, D, strict=True):
            pred[i] = [codes[j] for j in np.flatnonzero(row)]
    return evaluate_sets(labels, pred, codes)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--out", default=str(models_dir() / "tagger"), help="output folder (default: models/tagger)"
    )
    ap.add_argument("--no-save", action="store_true", help="report only, write nothing")
    ap.add_argument("--skip-cv", action="store_true", help="skip the 5-fold cross-validation")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    encoder = Encoder.default()
    train, dev, bundled = load_labelled()
    print(
        f"data: devset train {len(train)}, dev {len(dev)}; bundled {len(bundled)}; encoder {encoder.model_id}"
    )

    fit_rows = train + bundled
    tagger = Tagger(encoder=encoder).fit([r["text"] for r in fit_rows], [r["labels"] for r in fit_rows])
    rep_dev = tagger.evaluate([r["text"] for r in dev], [r["labels"] for r in dev])
    print("\n== shipped head (train + bundled) on the dev split ==")
    print(rep_dev.to_text())

    lbo = Tagger(encoder=encoder).fit([r["text"] for r in train + dev], [r["labels"] for r in train + dev])
    rep_lbo = lbo.evaluate([r["text"] for r in bundled], [r["labels"] for r in bundled])
    print("\n== leave-bundled-out (trained on devset train + dev, evaluated on the 44 bundled passages) ==")
    print(rep_lbo.to_text())

    info = {
        "trained_on": {"devset_train": len(train), "bundled": len(bundled)},
        "data_sha256": {
            name: hashlib.sha256(corpus_file(name).read_bytes()).hexdigest()[:16]
            for name in ("devset.jsonl", "yancheng-2024-labels.jsonl")
        },
        "dev": summary(rep_dev),
        "leave_bundled_out": summary(rep_lbo),
    }
    if not args.skip_cv:
        rep_cv = cross_validate(train + dev + bundled, encoder)
        print("\n== 5-fold cross-validation over all labelled passages ==")
        print(rep_cv.to_text())
        info["cv5_all"] = summary(rep_cv)

    codes = tagger.taxonomy_.codes
    print("\nthresholds:", ", ".join(f"{c}={t:.2f}" for c, t in zip(codes, tagger.thresholds_, strict=True)))
    if not args.no_save:
        tagger.info_ = info
        out = tagger.save(args.out)
        print(f"\nwrote {out} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
