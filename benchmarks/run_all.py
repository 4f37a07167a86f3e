"""Run every benchmark in this folder, one after another, in one process tree.

Usage: python benchmarks/run_all.py [--quick] [--only NAME[,NAME]]

Each bench_*.py exposes ``main(argv=None) -> int`` and prints its own table with ratios against
peers measured in the same run. Benchmarks are never part of the test suite: timings on shared
machines are noisy, so only ratios measured side by side mean anything.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load benchmark {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (minutes instead of tens of minutes)")
    ap.add_argument("--only", default="", help="comma-separated names, e.g. segment,topk")
    args = ap.parse_args(argv)
    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    scripts = sorted(HERE.glob("bench_*.py"))
    failures = 0
    for path in scripts:
        name = path.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        print(f"\n=== {name} ({path.name}) ===", flush=True)
        t0 = time.perf_counter()
        rc = _load(path).main(["--quick"] if args.quick else [])
        print(f"--- {name}: exit {rc}, {time.perf_counter() - t0:.1f} s", flush=True)
        failures += bool(rc)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
