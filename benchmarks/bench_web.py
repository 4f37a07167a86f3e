"""The web app under a bounded load, against 127.0.0.1 only.

    python benchmarks/bench_web.py            # 500 requests, 8 concurrent (half /api/tag, half /api/similar)
    python benchmarks/bench_web.py --quick    # 100 requests, 4 concurrent

Starts ``python -m yanreform serve --read-only`` (the real model) on a free loopback port in a subprocess,
waits for ``/healthz``, then sends a fixed number of requests from a fixed number of client threads (stdlib
``http.client``, keep-alive) and stops by itself (request count and a wall-clock cap). Texts are distinct
passages from the labelled corpora, and the server runs with ``YANREFORM_CACHE=0``, so every request encodes
its text: the latency of a new submission, not of a cache hit.

Reported: p50 / p95 / max latency per endpoint at concurrency 1 and under load, throughput, errors, and the
server's resident memory (after loading, peak under load). The peer, measured in the same run on the same
requests: the library calls themselves (``Tagger.tag_many``; ``CaseIndex.search`` + ``explain`` for the
reasons), timed inside the server on its worker thread and reported in each response's ``Server-Timing``
header (``work``). The ratio latency / work says what the web layer (HTTP, JSON, the worker hand-off and,
under load, the queue) adds to the library's own time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # never anything else: the load stays on this machine


def texts(n: int) -> list[str]:
    """``n`` distinct passages (devset, stress, longform), shortest-first order avoided (file order)."""
    out: list[str] = []
    seen: set[str] = set()
    for name in ("devset.jsonl", "stress.jsonl", "longform.jsonl"):
        for line in (REPO / "corpus" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                t = json.loads(line)["text"]
                if t not in seen:
                    seen.add(t)
                    out.append(t)
    if len(out) < n:
        out = (out * (n // len(out) + 1))[:n]
    return out[:n]


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


class Client:
    """One keep-alive connection per thread."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.local = threading.local()

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, float, float]:
        """``(status, seconds, seconds of library work in the server)``; status 0 when the request failed
        twice. A kept-alive connection the server closed meanwhile (uvicorn closes idle ones after 5 s) is
        reopened and the request sent once more."""
        data = json.dumps(body, ensure_ascii=False).encode()
        for attempt in (1, 2):
            conn = getattr(self.local, "conn", None)
            fresh = conn is None
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(HOST, self.port, timeout=300)
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                dt = time.perf_counter() - t0
                return resp.status, dt, work_of(resp.getheader("server-timing") or "")
            except (OSError, http.client.HTTPException):
                self.local.conn = None
                conn.close()
                if fresh or attempt == 2:
                    return 0, time.perf_counter() - t0, 0.0
        return 0, 0.0, 0.0  # pragma: no cover


def work_of(server_timing: str) -> float:
    """Seconds of ``work`` in a ``Server-Timing`` header (``work;dur=12.3, queue;dur=0.1``)."""
    for part in server_timing.split(","):
        name, _, dur = part.strip().partition(";dur=")
        if name == "work":
            try:
                return float(dur) / 1000.0
            except ValueError:
                return 0.0
    return 0.0


def rss_mb(pid: int) -> float:
    try:
        import psutil

        p = psutil.Process(pid)
        return (p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))) / 2**20
    except Exception:  # psutil missing or the process gone
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
    return float("nan")


def run_load(client: Client, jobs: list[tuple[str, dict[str, Any]]], concurrency: int, cap_s: float) -> dict:
    """Send ``jobs`` with ``concurrency`` threads; stop early after ``cap_s`` seconds. Returns latencies by
    path, errors and wall time."""
    lat: dict[str, list[float]] = {}
    work: dict[str, list[float]] = {}
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + cap_s

    def one(job: tuple[str, dict[str, Any]]) -> None:
        nonlocal errors
        if time.monotonic() > deadline:
            return
        status, dt, w = client.post(*job)
        with lock:
            if status == 200:
                lat.setdefault(job[0], []).append(dt)
                work.setdefault(job[0], []).append(w)
            else:
                errors += 1

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, jobs))
    return {"lat": lat, "work": work, "errors": errors, "wall": time.perf_counter() - t0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="60 requests, 4 concurrent")
    ap.add_argument("--requests", type=int, default=None, help="requests under load (default 500; quick 60)")
    ap.add_argument("--concurrency", type=int, default=None, help="client threads (default 8; quick 4)")
    ap.add_argument("--cap", type=float, default=600.0, help="stop sending after this many seconds (600)")
    args = ap.parse_args(argv)
    n = args.requests or (60 if args.quick else 500)
    conc = args.concurrency or (4 if args.quick else 8)
    n_single = 10 if args.quick else 30  # per endpoint, concurrency 1

    pool = texts(n + 2 * n_single)
    single_texts, load_texts = pool[: 2 * n_single], pool[2 * n_single :]

    with socket.socket() as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO), "YANREFORM_CACHE": "0"}
    tmp = tempfile.mkdtemp(prefix="bench-web-")
    cmd = [sys.executable, "-m", "yanreform", "serve", "--host", HOST, "--port", str(port), "--read-only",
           "--library", os.path.join(tmp, "none.sqlite")]  # fmt: skip
    t_start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        client = Client(port)
        while True:
            if proc.poll() is not None:
                print(proc.stderr.read() if proc.stderr else "", file=sys.stderr)
                raise SystemExit("the server exited before it was healthy")
            try:
                c = http.client.HTTPConnection(HOST, port, timeout=5)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.5)
            if time.perf_counter() - t_start > 600:
                raise SystemExit("the server did not become healthy in 600 s")
        startup = time.perf_counter() - t_start
        mem_idle = rss_mb(proc.pid)

        # concurrency 1: the web layer's overhead without queueing
        single: dict[str, list[float]] = {"/api/tag": [], "/api/similar": []}
        direct: dict[str, list[float]] = {"/api/tag": [], "/api/similar": []}
        for i, t in enumerate(single_texts):
            path = "/api/tag" if i % 2 == 0 else "/api/similar"
            body = {"text": t} if path == "/api/tag" else {"text": t, "k": 5}
            status, dt, w = client.post(path, body)
            if status == 200:
                single[path].append(dt)
                direct[path].append(w)

        # the load: alternating endpoints, bounded by count and time; memory sampled meanwhile
        jobs = [
            ("/api/tag", {"text": t}) if i % 2 == 0 else ("/api/similar", {"text": t, "k": 5})
            for i, t in enumerate(load_texts)
        ]
        peak = [mem_idle]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak.append(rss_mb(proc.pid))
                stop.wait(0.25)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        load = run_load(client, jobs, conc, args.cap)
        stop.set()
        sampler.join()
        mem_peak = max(x for x in peak if x == x)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()

    ms = 1000.0
    print(
        f"\nweb app: server ready in {startup:.1f} s (models loaded); YANREFORM_CACHE=0 (every text encoded)"
    )
    print(f"server memory (RSS): {mem_idle:,.0f} MiB after loading, {mem_peak:,.0f} MiB peak under load\n")
    head = (
        f"{'endpoint':<14}{'setting':<34}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'p50 vs work':>13}"
    )
    print(head)
    print("-" * len(head))
    for path in ("/api/tag", "/api/similar"):
        under = load["work"].get(path, [])
        rows = [
            ("library work (peer), 1 at a time", direct[path], direct[path]),
            ("HTTP, 1 at a time", single[path], direct[path]),
            (f"library work (peer), {conc} conc.", under, under),
            (f"HTTP, {conc} concurrent", load["lat"].get(path, []), under),
        ]
        for label, xs, ref in rows:
            p50 = pct(xs, 50)
            print(f"{path:<14}{label:<34}{len(xs):>5}{p50 * ms:>9.1f}{pct(xs, 95) * ms:>9.1f}"
                  f"{(max(xs) if xs else float('nan')) * ms:>9.1f}{p50 / pct(ref, 50):>12.2f}x")  # fmt: skip
    done = sum(len(v) for v in load["lat"].values())
    rate = done / load["wall"]
    print(f"\nunder load: {done} requests answered 200 in {load['wall']:.1f} s ({rate:.1f} req/s), "
          f"{load['errors']} errors, {len(jobs) - done - load['errors']} not sent (time cap)")  # fmt: skip
    print("(the model serves one request at a time: with c clients a request waits for about c-1 others)")
    return 0 if load["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
