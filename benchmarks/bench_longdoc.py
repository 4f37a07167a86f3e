"""Long-document tagging: passages + aggregation (``tag_documents``) against tagging the whole text at once.

Usage: python benchmarks/bench_longdoc.py [--quick] [--docs N] [--parts K]

Multi-topic documents are built from held-out labelled passages (``corpus/stress.jsonl`` and
``corpus/longform.jsonl``, never in the shipped head's training data): K passages with different labels,
joined (a) as paragraphs (one per line) and (b) run together in one paragraph. Measured in one run, with the
shipped tagger:

- the peer: ``Tagger.tag_many`` on the whole document (what ``yanreform tag`` did before);
- ``tag_documents`` (passages, one ``tag_many`` call, union with the best score);
- the reference: each part tagged alone, categories united ("the categories its parts get").

Printed: recall and precision against the union of the parts' labels, recall of the parts' own tags,
evidence spans per document, and time per document as a ratio to the peer.
"""

from __future__ import annotations

import argparse
import json
import random
import time


def _rows() -> list[dict]:
    from yanreform._resources import corpus_file

    rows = []
    for name in ("stress.jsonl", "longform.jsonl"):
        for line in corpus_file(name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                if r.get("labels"):
                    rows.append(r)
    return rows


def _docs(rows: list[dict], n: int, k: int, seed: int = 7) -> list[list[dict]]:
    rng = random.Random(seed)
    docs = []
    for _ in range(n):
        picked: list[dict] = []
        used: set[str] = set()
        for r in rng.sample(rows, len(rows)):
            if not set(r["labels"]) & used:
                picked.append(r)
                used |= set(r["labels"])
            if len(picked) == k:
                break
        docs.append(picked)
    return docs


def _score(pred: list[set[str]], gold: list[set[str]]) -> tuple[float, float]:
    tp = sum(len(p & g) for p, g in zip(pred, gold, strict=True))
    n_pred = sum(len(p) for p in pred)
    n_gold = sum(len(g) for g in gold)
    return tp / max(n_gold, 1), tp / max(n_pred, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer documents (about a minute)")
    ap.add_argument("--docs", type=int, default=None, help="documents per layout (default 40; quick 12)")
    ap.add_argument("--parts", type=int, default=6, help="passages per document (default 6)")
    args = ap.parse_args(argv)
    n = args.docs or (12 if args.quick else 40)

    from yanreform import Tagger
    from yanreform.tagging.documents import LONG_THRESHOLD, tag_documents

    tagger = Tagger.default()
    docs = _docs(_rows(), n, args.parts)
    gold = [set().union(*(set(p["labels"]) for p in d)) for d in docs]
    parts = [p["text"] for d in docs for p in d]
    t0 = time.perf_counter()
    part_tags = tagger.tag_many(parts)
    t_parts = time.perf_counter() - t0
    ref, i = [], 0
    for d in docs:
        ref.append(set().union(*({t.code for t in part_tags[i + j]} for j in range(len(d)))))
        i += len(d)
    r_ref, p_ref = _score(ref, gold)
    print(f"{n} documents of {args.parts} held-out passages; threshold {LONG_THRESHOLD} characters")
    print(f"reference, parts tagged alone: recall {r_ref:.3f}  precision {p_ref:.3f}  ({t_parts:.1f} s)")
    print()
    print(
        f"{'layout':<12} {'method':<22} {'chars':>6} {'recall':>7} {'precision':>9} {'parts-tag recall':>16} "
        f"{'evidence':>8} {'time':>7}"
    )
    for layout, sep in (("paragraphs", "\n"), ("one block", "")):
        texts = [sep.join(p["text"] for p in d) for d in docs]
        chars = sum(map(len, texts)) // len(texts)
        # warm the embedding cache for both methods' pieces, so the timing compares the work, not encoding
        t0 = time.perf_counter()
        whole = tagger.tag_many(texts)
        t_whole = time.perf_counter() - t0
        t0 = time.perf_counter()
        ours = tag_documents(tagger, texts)
        t_ours = time.perf_counter() - t0
        for name, res, t in (("whole text (peer)", whole, t_whole), ("tag_documents", ours, t_ours)):
            pred = [{x.code for x in tl} for tl in res]
            rec, prec = _score(pred, gold)
            agree = _score(pred, ref)[0]
            ev = sum(len(x.evidence) for tl in res for x in tl) / len(res)
            ratio = t / t_whole if t_whole > 0 else float("nan")
            print(
                f"{layout:<12} {name:<22} {chars:>6} {rec:>7.3f} {prec:>9.3f} {agree:>16.3f} {ev:>8.1f} "
                f"{ratio:>6.2f}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
