"""Segmentation throughput: raw jieba / rjieba against yanreform's Segmenter, on the same text in one run.

Builds a ~2 MB collection of paragraphs (the bundled corpus, sentences shuffled and recombined, plus generated
sentences with numbers, dates, model formulas, Latin words, traditional characters and full-width forms), then
measures characters per second for:

- ``jieba.lcut``       the peer a user would pick (global tokenizer, HMM on, default dictionary)
- ``rjieba.cut``       jieba-rs, the fast engine under the default backend
- ``Segmenter(backend="jieba").cut_many``  reference backend with all domain handling
- ``Segmenter().cut_many``                 the default batch path (rjieba when installed)

and prints a table with ratios against raw jieba. Targets: default path >= 10x jieba, reference >= 0.8x.
Timings exclude one-off start-up (dictionary loading), which is reported separately.

Usage: ``python benchmarks/bench_segment.py [--quick] [--size CHARS] [--repeat N] [--seed N]``
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
_CORPUS = _ROOT / "corpus" / "yancheng-2024-reform-cases.txt"

_EXTRA = [
    "2023年11月17日，在全省法治江苏建设监测评价工作座谈会上进行经验介绍。",
    "累计化解矛盾纠纷1,286件，调解成功率达98.5%，群众满意度明显提升。",
    "坚持和发展新时代“枫桥经验”，推进诉源治理，构建“1+2+N”多元解纷体系。",
    "該院深化執法辦案管理中心建設，推動「輕案快辦」機制落地見效。",
    "依托ＡＰＰ和12345热线受理群众诉求，平均办理时长缩短至３.５天。",
    "The court launched an online mediation platform (v2.1) with COVID-19 measures.",
    "全市法院受理各类案件15.6万件，审执结14.9万件，同比分别增长3.2%和4.1%。",
    "建立“府院联动”机制，推动破产审判与企业合规改革协同发展，优化法治化营商环境。",
    "开展补植复绿、增殖放流等生态修复工作，护航长江大保护。",
    "为一老一少群体提供法律援助和司法救助服务，落实认罪认罚从宽制度。",
]


def build_texts(size: int, seed: int = 0) -> list[str]:
    """Paragraphs totalling about ``size`` characters (deterministic for a seed)."""
    rng = random.Random(seed)
    raw = _CORPUS.read_text(encoding="utf-8")
    sents: list[str] = []
    for para in raw.split("\n"):
        para = para.strip()
        if para:
            sents += [s + "。" for s in para.split("。") if s.strip()]
    texts: list[str] = []
    total = 0
    while total < size:
        n = rng.randint(2, 8)
        parts = [rng.choice(sents) for _ in range(n)]
        if rng.random() < 0.4:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(_EXTRA))
        para = "".join(parts)
        texts.append(para)
        total += len(para)
    return texts


def _time(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table; returns 0 (1 if a target is missed)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="~300 kB text instead of ~2 MB")
    ap.add_argument("--size", type=int, default=None, help="text size in characters")
    ap.add_argument("--repeat", type=int, default=None, help="best of N runs (default 3, 1 with --quick)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    size = args.size or (300_000 if args.quick else 2_000_000)
    repeat = args.repeat or (1 if args.quick else 3)

    import jieba
    import rjieba

    from yanreform.text.segment import Segmenter

    texts = build_texts(size, args.seed)
    n_chars = sum(map(len, texts))
    print(f"text: {len(texts)} paragraphs, {n_chars:,} characters; best of {repeat}")

    jieba.setLogLevel(60)
    t0 = time.perf_counter()
    jieba.initialize()
    rj = rjieba.Jieba()
    t_peer = time.perf_counter() - t0
    t0 = time.perf_counter()
    seg_ref = Segmenter(backend="jieba")
    t_ref = time.perf_counter() - t0
    t0 = time.perf_counter()
    seg = Segmenter()
    t_def = time.perf_counter() - t0
    seg.cut("预热")  # builds the normalisation tables (one-off, ~0.3 s)
    print(
        f"start-up: jieba+rjieba {t_peer:.2f} s, Segmenter(jieba) {t_ref:.2f} s, "
        f"Segmenter() [{seg.backend}] {t_def:.2f} s"
    )

    cases: list[tuple[str, Callable[[], object], int]] = [
        ("jieba.lcut (raw)", lambda: [jieba.lcut(t) for t in texts], max(1, repeat - 1)),
        ("rjieba.cut (raw)", lambda: [rj.cut(t) for t in texts], repeat),
        ('Segmenter(backend="jieba").cut_many', lambda: seg_ref.cut_many(texts), max(1, repeat - 1)),
        (f"Segmenter().cut_many [{seg.backend}]", lambda: seg.cut_many(texts), repeat),
        (f"Segmenter().tokenize [{seg.backend}]", lambda: [seg.tokenize(t) for t in texts], repeat),
    ]
    # Rounds interleave the cases (each round times every case once; the best round counts) so that load from
    # other processes on a shared machine hits all of them alike instead of skewing one ratio.
    best = [float("inf")] * len(cases)
    for r in range(repeat):
        for j, (_, fn, rep) in enumerate(cases):
            if r < rep:
                best[j] = min(best[j], _time(fn, 1))
    rows = [(name, n_chars / t) for (name, _, _), t in zip(cases, best, strict=True)]

    base = rows[0][1]
    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  {'chars/s':>12}  {'vs jieba':>8}")
    for name, rate in rows:
        print(f"{name:{width}}  {rate:12,.0f}  {rate / base:7.2f}x")
    ok_default = rows[3][1] / base >= 10
    ok_ref = rows[2][1] / base >= 0.8
    print(
        f"targets: default batch path >= 10x: {'met' if ok_default else 'MISSED'}; "
        f"reference >= 0.8x: {'met' if ok_ref else 'MISSED'}"
    )
    return 0 if ok_default and ok_ref else 1


if __name__ == "__main__":
    sys.exit(main())
