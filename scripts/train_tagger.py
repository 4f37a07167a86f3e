"""Train the shipped reform-category tagger head (models/tagger/) from the labelled data in corpus/.

Usage:  python scripts/train_tagger.py [--out models/tagger] [--no-save] [--skip-cv] [--longform]

Training data: corpus/devset.jsonl (split "train") + the labelled leads and initiatives of the bundled
collection (corpus/yancheng-2024-labels.jsonl, texts taken from load_corpus() by id). ``--longform`` adds
corpus/longform.jsonl (148 long official-style passages, training only) everywhere; it is not the shipped
recipe: measured, it lifted supervision on the bundled text (F1 0.60 -> 0.69) but cost precision on
outside-taxonomy passages and digitalisation/one-stop on the bundled text, so it failed the keep rule
(stress and leave-bundled-out must not get worse) and stays opt-in for comparisons. The script then reports

1. the shipped head on the devset "dev" split (never trained on),
2. the shipped head on the stress set (corpus/stress.jsonl: long, florid, multi-sentence passages from other
   places, traditional script and ASCII punctuation, outside-work passages with tempting words). Evaluation
   only: the stress set is never trained on, nor used to pick thresholds,
3. a leave-bundled-out run (trained on the whole devset [+ longform], evaluated on the 44 bundled passages:
   real published text, the closest proxy we have for other cities' collections),
4. 5-fold cross-validation over the devset and bundled passages (the same folds as without longform; the
   longform passages join every fold's training part and are never scored, so the figure stays comparable),
5. calibration: expected calibration error (10 bins over all (passage, category) pairs) of the scores on the
   cross-validation's out-of-fold predictions, the dev split and the stress set, and the mean score of the
   emitted tags next to their precision,

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
from yanreform.embed.encoder import Encoder
from yanreform.tagging import EvalReport, Tagger, evaluate_sets, expected_calibration_error


def load_stress() -> list[dict]:
    """The stress set (corpus/stress.jsonl): held-out evaluation passages, never trained on."""
    path = corpus_file("stress.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def label_matrix(rows: list[dict], codes: tuple[str, ...] | list[str]) -> np.ndarray:
    """0/1 int8 (n, k) matrix of the rows' labels in ``codes`` order."""
    Y = np.zeros((len(rows), len(codes)), np.int8)
    for i, r in enumerate(rows):
        for c in r["labels"]:
            Y[i, list(codes).index(c)] = 1
    return Y


def calibration(P: np.ndarray, D: np.ndarray, Y: np.ndarray) -> dict:
    """ECE over all pairs, ECE over pairs scored above 0.05, and the emitted tags' mean score vs precision."""
    above = P > 0.05
    emitted = D.astype(bool)
    return {
        "ece": round(expected_calibration_error(P, Y), 4),
        "ece_above_0.05": round(expected_calibration_error(P[above], Y[above]), 4),
        "emitted": int(emitted.sum()),
        "emitted_mean_score": round(float(P[emitted].mean()), 4) if emitted.any() else None,
        "emitted_precision": round(float(Y[emitted].mean()), 4) if emitted.any() else None,
    }


def calibration_text(name: str, c: dict) -> str:
    return (
        f"{name:<22} ECE {c['ece']:.4f}  ECE(score>0.05) {c['ece_above_0.05']:.4f}  "
        f"emitted {c['emitted']}: mean score {c['emitted_mean_score']:.3f}, "
        f"precision {c['emitted_precision']:.3f}"
    )


def load_longform() -> list[dict]:
    """corpus/longform.jsonl: long official-style training passages (every row is split "train")."""
    path = corpus_file("longform.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    bad = [r["id"] for r in rows if r.get("split") != "train"]
    if bad:
        raise SystemExit(f"{path}: rows not in split 'train': {bad[:5]}")
    return rows


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


def cross_validate(
    rows: list[dict], encoder: Encoder, folds: int = 5, seed: int = 0, extra: list[dict] | None = None
) -> tuple[EvalReport, np.ndarray, np.ndarray]:
    """k-fold CV: (report, out-of-fold scores (n, k) float32, out-of-fold decisions (n, k) bool).

    ``extra`` rows are added to the training part of every fold and never scored (the folds over ``rows`` are
    the same with or without them).
    """
    extra = extra or []
    from sklearn.model_selection import KFold

    texts = [r["text"] for r in rows]
    labels = [r["labels"] for r in rows]
    pred: list[list[str]] = [[] for _ in rows]
    codes: tuple[str, ...] = ()
    P = D = np.zeros((0, 0))
    for tr, te in KFold(n_splits=folds, shuffle=True, random_state=seed).split(texts):
        tg = Tagger(encoder=encoder).fit(
            [texts[i] for i in tr] + [r["text"] for r in extra],
            [labels[i] for i in tr] + [r["labels"] for r in extra],
        )
        codes = tg.taxonomy_.codes
        if P.size == 0:
            P = np.zeros((len(rows), len(codes)), np.float32)
            D = np.zeros((len(rows), len(codes)), bool)
        te_texts = [texts[i] for i in te]
        P[te] = tg.predict_proba(te_texts)
        D[te] = tg.predict(te_texts)
        for i, row in zip(te, D[te], strict=True):
            pred[i] = [codes[j] for j in np.flatnonzero(row)]
    return evaluate_sets(labels, pred, codes), P, D


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--out", default=str(models_dir() / "tagger"), help="output folder (default: models/tagger)"
    )
    ap.add_argument("--no-save", action="store_true", help="report only, write nothing")
    ap.add_argument("--skip-cv", action="store_true", help="skip the 5-fold cross-validation")
    ap.add_argument(
        "--longform",
        action="store_true",
        help="also train on corpus/longform.jsonl (not the shipped recipe; for comparisons)",
    )
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    encoder = Encoder.default()
    train, dev, bundled = load_labelled()
    longform = load_longform() if args.longform else []
    print(
        f"data: devset train {len(train)}, dev {len(dev)}; longform {len(longform)}; bundled {len(bundled)}; "
        f"encoder {encoder.model_id}"
    )

    fit_rows = train + longform + bundled
    tagger = Tagger(encoder=encoder).fit([r["text"] for r in fit_rows], [r["labels"] for r in fit_rows])
    codes = tagger.taxonomy_.codes
    rep_dev = tagger.evaluate([r["text"] for r in dev], [r["labels"] for r in dev])
    print("\n== shipped head (train + longform + bundled) on the dev split ==")
    print(rep_dev.to_text())
    cal: dict[str, dict] = {}
    dev_texts = [r["text"] for r in dev]
    cal["dev"] = calibration(
        tagger.predict_proba(dev_texts), tagger.predict(dev_texts), label_matrix(dev, codes)
    )

    stress = load_stress()
    st_texts = [r["text"] for r in stress]
    rep_stress = tagger.evaluate(st_texts, [r["labels"] for r in stress])
    print(f"\n== shipped head on the stress set ({len(stress)} passages, held out: never trained on) ==")
    print(rep_stress.to_text())
    cal["stress"] = calibration(
        tagger.predict_proba(st_texts), tagger.predict(st_texts), label_matrix(stress, codes)
    )

    lbo_rows = train + dev + longform
    lbo = Tagger(encoder=encoder).fit([r["text"] for r in lbo_rows], [r["labels"] for r in lbo_rows])
    rep_lbo = lbo.evaluate([r["text"] for r in bundled], [r["labels"] for r in bundled])
    print(
        "\n== leave-bundled-out (trained on devset train + dev + longform, "
        "evaluated on the 44 bundled passages) =="
    )
    print(rep_lbo.to_text())

    info = {
        "trained_on": {"devset_train": len(train), "longform": len(longform), "bundled": len(bundled)},
        "data_sha256": {
            name: hashlib.sha256(corpus_file(name).read_bytes()).hexdigest()[:16]
            for name in ("devset.jsonl", "longform.jsonl", "yancheng-2024-labels.jsonl", "stress.jsonl")
        },
        "dev": summary(rep_dev),
        "stress": summary(rep_stress),
        "leave_bundled_out": summary(rep_lbo),
    }
    if not args.skip_cv:
        all_rows = train + dev + bundled
        rep_cv, P_cv, D_cv = cross_validate(all_rows, encoder, extra=longform)
        print("\n== 5-fold CV over the devset and bundled passages (longform in every training part) ==")
        print(rep_cv.to_text())
        info["cv5_all"] = summary(rep_cv)
        cal["cv5_out_of_fold"] = calibration(P_cv, D_cv, label_matrix(all_rows, codes))
    print("\n== calibration (10 bins over all passage x category pairs) ==")
    for name, c in cal.items():
        print(calibration_text(name, c))
    info["calibration"] = cal

    print("\nthresholds:", ", ".join(f"{c}={t:.2f}" for c, t in zip(codes, tagger.thresholds_, strict=True)))
    if not args.no_save:
        tagger.info_ = info
        out = tagger.save(args.out)
        print(f"\nwrote {out} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
