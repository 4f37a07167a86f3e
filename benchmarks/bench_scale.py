"""Scale-out benchmark: ``yanreform tag`` in one process, with ``--workers N`` and with ``--dask local:N``.

Usage: python benchmarks/bench_scale.py [--quick] [--n N] [--n-fast N] [--workers N] [--heads full,fast]

Measured in one run, on the same machine and the same input (distinct ~240-character passages of real corpus
sentences, see bench_fast.py), each run a fresh ``python -m yanreform tag IN.jsonl -o OUT.jsonl`` with
``YANREFORM_CACHE=0`` (cold: every passage through the model): wall time from process start to the output
written (model loading included), passages/s, the ratio to one process, whether the output is
byte-identical to one process's, CPU seconds (all processes of the run, and the main process alone), and
memory: the peak RSS of the main (coordinating) process and of its largest child process (sampled every
0.2 s over the process tree; with --dask the children are nannies and workers).

CPU seconds say what wall time cannot on a busy machine: with N workers the run needs about
max(CPU all / N, CPU main) seconds of wall time on N idle cores.

On a machine with other load the ratios are what is worth reading: every configuration runs on the same
machine within minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _bench_fast():
    spec = importlib.util.spec_from_file_location("bench_fast", HERE / "bench_fast.py")
    if spec is None or spec.loader is None:
        raise ImportError("cannot load bench_fast.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _watch(proc: subprocess.Popen) -> tuple[int, float, float, int, float]:
    """Wait for ``proc``: (exit code, peak RSS MB of the process itself, peak RSS MB of its largest
    descendant, number of descendants seen, CPU seconds of the process itself, last sampled)."""
    import psutil

    root = psutil.Process(proc.pid)
    peak_root = 0.0
    cpu_root = 0.0
    peak_child: dict[int, float] = {}
    while proc.poll() is None:
        try:
            peak_root = max(peak_root, root.memory_info().rss / 2**20)
            t = root.cpu_times()
            cpu_root = t.user + t.system
            for c in root.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    peak_child[c.pid] = max(peak_child.get(c.pid, 0.0), c.memory_info().rss / 2**20)
        except psutil.Error:
            pass
        time.sleep(0.2)
    return proc.returncode, peak_root, max(peak_child.values(), default=0.0), len(peak_child), cpu_root


def run_tag(inp: Path, out: Path, extra: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "YANREFORM_CACHE": "0"}
    cmd = [sys.executable, "-m", "yanreform", "tag", str(inp), "-o", str(out), "-q", "--restart", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
    code, rss_root, rss_child, n_child, cpu_root = _watch(proc)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # every process of the run (workers are joined by the command, the command by us)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if code != 0:
        msg = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {msg}")
    return {
        "wall": wall,
        "rss_root": rss_root,
        "rss_child": rss_child,
        "n_child": n_child,
        "cpu": cpu,
        "cpu_root": cpu_root,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (a few minutes)")
    ap.add_argument("--n", type=int, default=None, help="passages for the full head (default 400; quick 80)")
    ap.add_argument(
        "--n-fast", type=int, default=None, help="passages, fast head (default 40000; quick 8000)"
    )
    ap.add_argument("--workers", type=int, default=2, help="N for --workers N and --dask local:N (default 2)")
    ap.add_argument("--heads", default="full,fast", help="which heads to run (default full,fast)")
    args = ap.parse_args(argv)
    n_full = args.n or (80 if args.quick else 400)
    n_fast = args.n_fast or (8000 if args.quick else 40_000)
    w = args.workers
    heads = [h.strip() for h in args.heads.split(",") if h.strip()]
    bf = _bench_fast()
    print(f"machine: {os.cpu_count()} cores; load average now {os.getloadavg()[0]:.1f}; YANREFORM_CACHE=0\n")
    print(
        "| head | passages | run | wall (s) | passages/s | vs 1 process | same output | "
        "CPU s, all processes | CPU s, main process | peak RSS main process (MB) | "
        "peak RSS largest child (MB) |"
    )
    print("|---|---:|---|---:|---:|---:|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as d:
        tmp = Path(d)
        for head in heads:
            n = n_full if head == "full" else n_fast
            inp = tmp / f"{head}.jsonl"
            with inp.open("w", encoding="utf-8") as f:
                for i, p in enumerate(bf.passages(n, seed=7)):
                    f.write(json.dumps({"id": f"p{i}", "text": p}, ensure_ascii=False) + "\n")
            base = ["--fast"] if head == "fast" else []
            ref_bytes = None
            ref_rate = None
            for name, extra in (
                ("1 process", []),
                (f"--workers {w}", ["--workers", str(w)]),
                (f"--dask local:{w}", ["--dask", f"local:{w}"]),
            ):
                out = tmp / f"{head}-{len(extra)}.jsonl"
                r = run_tag(inp, out, base + extra)
                data = out.read_bytes()
                ref_bytes = data if ref_bytes is None else ref_bytes
                rate = n / r["wall"]
                ref_rate = rate if ref_rate is None else ref_rate
                worker = f"{r['rss_child']:,.0f} (of {r['n_child']})" if r["n_child"] else "-"
                same = "yes" if data == ref_bytes else "NO"
                print(
                    f"| {head} | {n:,} | `{name}` | {r['wall']:,.1f} | {rate:,.1f} | "
                    f"{rate / ref_rate:.2f}x | {same} | {r['cpu']:,.1f} | {r['cpu_root']:,.1f} | "
                    f"{r['rss_root']:,.0f} | {worker} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
