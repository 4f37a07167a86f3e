"""Fast mode benchmark: the encoder-free head against the full one, cold, on real-length passages.

Usage: python benchmarks/bench_fast.py [--quick] [--n N] [--e2e-mb MB] [--workers N]

Passages: about 240 characters each (the length of a real initiative paragraph), made of whole sentences
drawn at random (seeded) from every text in corpus/ (realdev.jsonl, devset.jsonl, longform.jsonl,
stress.jsonl, retrieval-dev.jsonl, dupes-dev.jsonl): every passage is distinct, real prose.

Measured in one run, each in a fresh process (cold: nothing loaded, no embedding cache):

1. ``Tagger.default(fast=True).tag_many`` vs ``Tagger.default().tag_many`` (the full head, e5 encoder,
   ``YANREFORM_CACHE=0``; fewer passages, it is ~100x slower): passages/s with and without the load, ratio.
2. Memory over a long fast run: RSS after each chunk of passages (flat = no growth with the count).
3. ``yanreform tag BIG.jsonl -o OUT.jsonl --fast`` end to end on a generated JSONL of ``--e2e-mb`` MB
   (1 process, and ``--workers N``): records/s, MB/s, peak RSS, and the time a 1 GB file takes at that rate.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS_FILES = (
    "realdev.jsonl",
    "devset.jsonl",
    "longform.jsonl",
    "stress.jsonl",
    "retrieval-dev.jsonl",
    "dupes-dev.jsonl",
)
_SENT = re.compile(r"[^。！？；!?;]+[。！？；!?;]?")


def sentences() -> list[str]:
    """Every sentence of every corpus text (stripped, at least 8 characters), de-duplicated, in order."""
    seen: dict[str, None] = {}
    for name in CORPUS_FILES:
        for line in (REPO / "corpus" / name).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            text = json.loads(line).get("text") or ""
            for s in _SENT.findall(text):
                s = s.strip()
                if len(s) >= 8:
                    seen.setdefault(s, None)
    return list(seen)


def passages(n: int, *, chars: int = 240, seed: int = 0) -> list[str]:
    """``n`` distinct passages of ``chars`` characters (random whole sentences, the last one cut)."""
    pool = sentences()
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        parts: list[str] = []
        size = 0
        while size < chars:
            s = pool[rng.randrange(len(pool))]
            parts.append(s)
            size += len(s)
        p = "".join(parts)[:chars]
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


_CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
import resource
from yanreform.tagging.tagger import Tagger
texts = json.load(open(sys.argv[1], encoding="utf-8"))
fast = sys.argv[2] == "fast"
chunk = int(sys.argv[3])
t1 = time.perf_counter()
tagger = Tagger.default(fast=fast)
rss = []
tagged = 0
t2 = None
for i in range(0, len(texts), chunk):
    res = tagger.tag_many(texts[i : i + chunk])
    if t2 is None:
        t2 = time.perf_counter()  # after the first chunk: the model is loaded
    tagged += sum(1 for r in res if len(r))
    with open("/proc/self/status") as f:
        rss.append(next(int(x.split()[1]) for x in f if x.startswith("VmRSS")) / 1024)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load_and_tag": t3 - t1, "after_first_chunk": t3 - t2,
    "first_chunk": t2 - t1, "n": len(texts), "tagged": tagged, "rss_mb": rss,
    "torch": "torch" in sys.modules}))
"""


def _child(texts: list[str], mode: str, chunk: int, tmp: Path) -> dict:
    data = tmp / f"texts-{mode}-{len(texts)}.json"
    data.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "YANREFORM_CACHE": "0", "PYTHONPATH": str(REPO)}
    r = subprocess.run(
        [sys.executable, "-c", _CHILD, str(data), mode, str(chunk)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if r.returncode != 0:
        raise SystemExit(f"child failed: {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def write_big_jsonl(path: Path, mb: float, *, seed: int = 1) -> int:
    """A JSONL of at least ``mb`` MB of distinct passages (``{"id", "text", "source"}``); returns records."""
    base = passages(20_000, seed=seed)
    target = int(mb * 1024 * 1024)
    n = 0
    size = 0
    with path.open("w", encoding="utf-8") as f:
        while size < target:
            # distinct texts without a 1 GB pool: rotate a passage and add its number
            p = base[n % len(base)]
            k = (n // len(base)) % len(p)
            rec = {"id": f"p{n}", "text": f"{p[k:]}{p[:k]}（{n}）", "source": "bench"}
            line = json.dumps(rec, ensure_ascii=False)
            f.write(line + "\n")
            size += len(line.encode("utf-8")) + 1
            n += 1
    return n


def _peak_rss_mb(proc: subprocess.Popen) -> tuple[int, float]:
    """Wait for ``proc``; return (exit code, the peak of the summed RSS of it and its children, in MB)."""
    import psutil

    peak = 0.0
    p = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            procs = [p, *p.children(recursive=True)]
            peak = max(peak, sum(q.memory_info().rss for q in procs) / 2**20)
        except psutil.Error:
            pass
        time.sleep(0.2)
    return proc.returncode, peak


def end_to_end(big: Path, records: int, workers: int, tmp: Path) -> dict:
    out = tmp / f"out-{workers}.jsonl"
    cmd = [sys.executable, "-m", "yanreform", "tag", str(big), "-o", str(out), "--fast", "-q", "--restart"]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
    code, peak = _peak_rss_mb(proc)
    wall = time.perf_counter() - t0
    if code != 0:
        msg = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        raise SystemExit(f"yanreform tag failed ({code}): {msg}")
    with out.open("rb") as f:
        n_out = sum(1 for _ in f)
    mb_in = big.stat().st_size / 2**20
    res = {"workers": workers, "wall": wall, "records_out": n_out, "rps": records / wall}
    res["mbps"] = mb_in / wall
    res["peak_rss_mb"] = peak
    res["gb_minutes"] = 1024 / res["mbps"] / 60
    out.unlink()
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    ap.add_argument("--n", type=int, default=None, help="fast-head passages (default 20000; quick 3000)")
    ap.add_argument("--n-full", type=int, default=None, help="full-head passages (default 300; quick 60)")
    ap.add_argument("--e2e-mb", type=float, default=None, help="end-to-end JSONL MB (default 1024; quick 5)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes for the second end-to-end run")
    args = ap.parse_args(argv)
    n = args.n or (3000 if args.quick else 20_000)
    n_full = args.n_full or (60 if args.quick else 300)
    e2e_mb = args.e2e_mb if args.e2e_mb is not None else (5 if args.quick else 1024)

    texts = passages(n)
    mean = sum(map(len, texts)) / len(texts)
    n_sent = len(sentences())
    print(f"passages: {len(texts):,} distinct, mean {mean:.0f} characters, from {n_sent:,} corpus sentences")
    print(f"machine: {os.cpu_count()} cores; every run in a fresh process, YANREFORM_CACHE=0\n")
    with tempfile.TemporaryDirectory(prefix="bench-fast-") as d:
        tmp = Path(d)
        fast = _child(texts, "fast", 2000, tmp)
        full = _child(texts[:n_full], "full", 64, tmp)
        rate_fast = fast["n"] / fast["load_and_tag"]
        rate_full = full["n"] / full["load_and_tag"]
        steady_fast = (fast["n"] - 2000) / fast["after_first_chunk"] if fast["n"] > 2000 else rate_fast
        print(
            "| head | passages | load + tag (s) | passages/s cold (incl. load) | passages/s after load "
            "| torch imported |"
        )
        print("|---|---:|---:|---:|---:|---|")
        print(
            f"| fast | {fast['n']:,} | {fast['load_and_tag']:.2f} | {rate_fast:,.0f} | {steady_fast:,.0f} | "
            f"{fast['torch']} |"
        )
        steady_full = (full["n"] - 64) / full["after_first_chunk"] if full["n"] > 64 else rate_full
        print(
            f"| full (e5) | {full['n']:,} | {full['load_and_tag']:.2f} | {rate_full:,.1f} | "
            f"{steady_full:,.1f} | {full['torch']} |"
        )
        print(f"\nfast / full, passages/s cold: {rate_fast / rate_full:,.0f}x")
        share_fast, share_full = fast["tagged"] / fast["n"], full["tagged"] / full["n"]
        print(f"passages given a category: fast {share_fast:.1%}, full {share_full:.1%}")
        rss = fast["rss_mb"]
        print(
            f"\nRSS of the fast run after each chunk of 2,000 passages (MB): first {rss[0]:.0f}, "
            f"max {max(rss):.0f}, last {rss[-1]:.0f}; growth from chunk 2 to the end "
            f"{(rss[-1] - rss[min(1, len(rss) - 1)]):+.1f} MB over {len(rss) - 2:,} chunks"
        )

        if e2e_mb > 0:
            big = tmp / "big.jsonl"
            t0 = time.perf_counter()
            records = write_big_jsonl(big, e2e_mb)
            print(
                f"\nend to end: {big.stat().st_size / 2**20:,.0f} MB JSONL, {records:,} records "
                f"(generated in {time.perf_counter() - t0:.0f} s)"
            )
            print(
                "| run | wall (s) | records/s | MB/s | peak RSS, all processes (MB) "
                "| 1 GB at this rate (min) |"
            )
            print("|---|---:|---:|---:|---:|---:|")
            for w in (1, args.workers) if args.workers > 1 else (1,):
                r = end_to_end(big, records, w, tmp)
                assert r["records_out"] == records, r
                name = "--fast" if w == 1 else f"--fast --workers {w}"
                print(
                    f"| `{name}` | {r['wall']:,.1f} | {r['rps']:,.0f} | {r['mbps']:.2f} | "
                    f"{r['peak_rss_mb']:,.0f} | {r['gb_minutes']:,.1f} |"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
