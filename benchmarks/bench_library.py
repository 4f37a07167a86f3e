"""Benchmark the case library: import throughput and memory, search latency, near-duplicate candidates.

Usage: python benchmarks/bench_library.py [--quick] [--import-n 50000] [--search-n 100000] [--dupes-n 100000]
                                          [--peer-n 10000] [--keep DIR]

Texts are generated (fixed seed): words drawn from the vocabulary of the repository's corpora with their
frequencies, sentences closed by 。, plus boilerplate sentences of the genre shared by many documents; so
documents share words and stock phrases but not passages, like submissions from different places. Tagging uses
the real tagger head (lexicon, prototypes, pair model) fitted on the devset with a deterministic hashing
encoder (384 dimensions, no neural model): the numbers measure the library, not the sentence model. (With the
real e5 model, encoding bounds imports: 300 new initiatives of ~120 characters took 35 CPU s, about 8.5 per
CPU second, on the shared 2-core development machine.)

1. Import: a generated collection (.txt, ``--import-n`` initiatives, ~3 per case) and a JSONL file of as many
   records, each imported in one ``Library.add``. Reported: initiatives/s, and peak RSS above the level before
   the import (sampled every 20 ms), for the full size and a tenth of it: flat memory means the peak does not
   grow with the number of initiatives (beyond the parsed .txt, which is held in memory). Peer, same file,
   same tagger: the batch engine of ``yanreform tag`` writing JSONL (tagging with no database).
2. Search at ``--search-n`` initiatives (the library of step 1, topped up with JSONL imports): latency of
   ``Library.search`` (first query, which reads the vector matrix, then the median of 20 queries; with a year
   and a category filter too). Peers in the same database: SQLite FTS5 (trigram tokenizer) over the same
   texts, and a ``LIKE '%…%'`` scan: what a plain SQLite store offers.
3. Near-duplicate candidates at ``--dupes-n`` cases (``--dupes-sentences`` 20: ~650 characters each) with
   1% planted rewrites (15% of the words replaced, two sentences swapped, numbers changed): time of key
   texts, shingles + signatures, LSH candidates, and the whole ``find_near_duplicates``; candidate pairs
   per text; recall of the planted pairs. Peer: datasketch (``MinHash`` 128 permutations + ``MinHashLSH``
   at threshold 0.2, the library a user would pick) on ``--peer-n`` texts, extrapolated linearly to the
   full size (marked ~).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SEED = 7
_BOILERPLATE = [
    "近年来，面对新形势新任务，该单位坚持问题导向、目标导向、结果导向，主动求变、大胆探索。",
    "下一步，将持续总结经验、完善制度，推动改革成果制度化、长效化。",
    "该项工作得到上级领导批示肯定，相关做法被多家媒体宣传报道。",
    "改革以来，群众满意度持续提升，社会效果和法律效果有机统一。",
    "工作中，注重加强沟通协调、密切配合，形成工作合力。",
]
_AGENCIES = ["市公安局", "县人民法院", "区人民检察院", "市司法局", "县委政法委", "区公安分局"]
_PLACES = ["盐城", "南通", "扬州", "泰州", "淮安", "宿迁", "镇江", "常州", "无锡", "苏州", "徐州", "连云港"]


# ---------------------------------------------------------------------------------------------- helpers


class PeakRSS:
    """Peak resident memory above the level at start, sampled every 20 ms in a thread (psutil)."""

    def __init__(self) -> None:
        import psutil

        self._proc = psutil.Process()
        self.base = self._proc.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __enter__(self) -> PeakRSS:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)

    @property
    def mib(self) -> float:
        return (self.peak - self.base) / 2**20


class Words:
    """Word sampler with the corpora's word frequencies (segmented once)."""

    def __init__(self, seed: int = SEED) -> None:
        import yanreform as yr

        texts: list[str] = []
        for name in ("devset", "longform", "stress", "retrieval-dev"):
            for line in (REPO / "corpus" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
                texts.append(json.loads(line)["text"])
        seg = yr.Segmenter()
        counts: dict[str, int] = {}
        for words in seg.cut_many(texts):
            for w in words:
                if re.fullmatch(r"[\u4e00-\u9fff]+", w):
                    counts[w] = counts.get(w, 0) + 1
        self.vocab = np.array(list(counts))
        p = np.array(list(counts.values()), dtype=np.float64)
        self.p = p / p.sum()
        self.rng = np.random.default_rng(seed)

    def sentences(self, n: int, lo: int = 8, hi: int = 20) -> list[str]:
        """``n`` sentences of lo..hi words; one in five holds a number."""
        lens = self.rng.integers(lo, hi, n)
        ids = self.rng.choice(len(self.vocab), size=int(lens.sum()), p=self.p)
        out, pos = [], 0
        nums = self.rng.integers(2, 900, n)
        for i, m in enumerate(lens.tolist()):
            words = self.vocab[ids[pos : pos + m]].tolist()
            pos += m
            if i % 5 == 0:
                words.insert(len(words) // 2, f"{nums[i]}件")
            out.append("".join(words) + "。")
        return out


def _doc(words: Words, n_sent: int, rng: random.Random) -> list[str]:
    sents = words.sentences(n_sent)
    if rng.random() < 0.5:
        sents.insert(rng.randrange(len(sents) + 1), rng.choice(_BOILERPLATE))
    return sents


def write_collection(path: Path, words: Words, n_initiatives: int, rng: random.Random) -> int:
    """A collection .txt of ~n initiatives (3 per case); returns the number of cases."""
    heads = ["一是", "二是", "三是"]
    n_cases = max(1, n_initiatives // 3)
    with open(path, "w", encoding="utf-8") as f:
        f.write("政法改革案例汇编\n\n")
        for c in range(n_cases):
            place = rng.choice(_PLACES)
            f.write(f"{place}{rng.choice(_AGENCIES)}\n\n打造改革品牌第{c + 1}号\n\n")
            f.write("".join(words.sentences(2)) + "\n\n")
            for h in heads:
                f.write(f"{h}{''.join(words.sentences(1, 3, 5))}" + "".join(words.sentences(2)) + "\n\n")
    return n_cases


def write_jsonl(path: Path, words: Words, n: int, rng: random.Random, prefix: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            agency = rng.choice(_PLACES) + rng.choice(_AGENCIES)
            text = "".join(_doc(words, 3, rng))
            f.write(
                json.dumps({"id": f"{prefix}{i}", "text": text, "agency": agency}, ensure_ascii=False) + "\n"
            )


def fake_tagger(dim: int = 384) -> Any:
    from yanreform.embed import Encoder, HashingModel
    from yanreform.tagging import Tagger

    rows = [
        json.loads(x) for x in (REPO / "corpus" / "devset.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    rows = [r for r in rows if r.get("split") == "train"]
    return Tagger(encoder=Encoder(HashingModel(dim=dim))).fit(
        [r["text"] for r in rows], [r["labels"] for r in rows]
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(wall seconds, result)."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def cpu_timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, result): CPU time is what ratios use on a shared machine,
    where other people's load stretches wall time but not the work done."""
    c0 = time.process_time()
    wall, out = timed(fn)
    return wall, time.process_time() - c0, out


# ---------------------------------------------------------------------------------------------- 1. import


def bench_import(tmp: Path, words: Words, tagger: Any, n: int) -> Path:
    from yanreform.batch import tag_records
    from yanreform.io import open_input
    from yanreform.library import Library

    rng = random.Random(SEED)
    lib_path = tmp / "bench.sqlite"
    print(f"\n1. import ({n:,} initiatives; peak RSS above the level before the import)")
    print(
        f"{'input':<20}{'initiatives':>12}{'wall s':>9}{'CPU s':>8}{'init/CPU s':>12}{'peak MiB':>10}"
        f"{'CPU vs tag':>12}"
    )
    for size in (n // 10, n):
        txt = tmp / f"collection-{size}.txt"
        write_collection(txt, words, size, rng)
        jl = tmp / f"records-{size}.jsonl"
        write_jsonl(jl, words, size, rng, prefix=f"r{size}-")
        for src in (txt, jl):
            peer_cpu = _peer_tag(src, tagger, open_input, tag_records)
            with Library(lib_path, tagger=tagger) as lib, PeakRSS() as mem:
                wall, cpu, cid = cpu_timed(lambda src=src: lib.add(src, year=2024, batch_size=256))
                got = next(c.n_initiatives for c in lib.collections() if c.id == cid)
            label = f"{src.suffix[1:]} {src.stat().st_size / 2**20:.1f} MiB"
            print(
                f"{label:<20}{got:>12,}{wall:>9.1f}{cpu:>8.1f}{got / cpu:>12.0f}{mem.mib:>10.0f}"
                f"{cpu / peer_cpu:>11.2f}x"
            )
    print("peer: yanreform tag's batch engine (-> JSONL) on the same file with the same tagger, CPU time")
    return lib_path


def _peer_tag(src: Path, tagger: Any, open_input: Any, tag_records: Any) -> float:
    """CPU seconds of tagging ``src`` with the batch engine (output discarded)."""
    out = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    try:
        _, cpu, _ = cpu_timed(
            lambda: tag_records(open_input(str(src)), tagger, lambda r: out.write(json.dumps(r) + "\n"))
        )
    finally:
        out.close()
    return cpu


# ---------------------------------------------------------------------------------------------- 2. search


def bench_search(lib_path: Path, words: Words, tagger: Any, n_target: int, tmp: Path) -> None:
    import sqlite3

    from yanreform.library import Library

    rng = random.Random(SEED + 1)
    with Library(lib_path, tagger=tagger) as lib:
        have = lib._reader().execute("SELECT COUNT(*) FROM initiatives").fetchone()[0]
        k = 0
        while have < n_target:
            add = min(50_000, n_target - have)
            jl = tmp / f"topup-{k}.jsonl"
            write_jsonl(jl, words, add, rng, prefix=f"t{k}-")
            lib.add(jl, year=2023 + k % 2)
            have += add
            k += 1
        queries = ["".join(words.sentences(1)) for _ in range(21)]
        code = "digitalisation"
        print(f"\n2. search at {have:,} initiatives (milliseconds)")
        cold, _ = timed(lambda: lib.search(queries[0], k=10))
        warm = [timed(lambda q=q: lib.search(q, k=10))[0] for q in queries[1:]]
        filt = [timed(lambda q=q: lib.search(q, k=10, year=2024, category=code))[0] for q in queries[1:]]
    conn = sqlite3.connect(lib_path)
    t_build, _ = timed(lambda: _fts_build(conn))
    terms = [re.sub(r"[^\u4e00-\u9fff]", "", q)[:4] for q in queries[1:]]
    fts_sql = "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT 10"
    fts = [timed(lambda t=t: conn.execute(fts_sql, (f'"{t}"',)).fetchall())[0] for t in terms]
    like = [timed(lambda t=t: conn.execute("SELECT rid FROM initiatives WHERE text LIKE ? LIMIT 10",
                                           (f"%{t}%",)).fetchall())[0] for t in terms[:5]]  # fmt: skip
    conn.close()
    med = statistics.median(warm)
    print(f"{'Library.search, first query (reads the vectors)':<58}{cold * 1000:>9.0f}")
    print(f"{'Library.search, median of 20':<58}{med * 1000:>9.1f}")
    print(f"{'Library.search + year + category filter, median':<58}{statistics.median(filt) * 1000:>9.1f}")
    fts_med = statistics.median(fts)
    print(f"{'peer: FTS5 trigram MATCH of a 4-character term, bm25, median':<58}{fts_med * 1000:>9.1f}"
          f"   ratio search/FTS5 {med / fts_med:.1f}x (build {t_build:.0f} s, not counted)")  # fmt: skip
    print(f"{'peer: LIKE %term% scan, median':<58}{statistics.median(like) * 1000:>9.1f}"
          f"   ratio search/LIKE {med / statistics.median(like):.2f}x")  # fmt: skip


def _fts_build(conn: Any) -> None:
    conn.execute("DROP TABLE IF EXISTS fts")
    conn.execute("CREATE VIRTUAL TABLE fts USING fts5(text, tokenize='trigram', content='')")
    conn.execute("INSERT INTO fts(rowid, text) SELECT rid, text FROM initiatives")
    conn.commit()


# ---------------------------------------------------------------------------------------------- 3. dupes


def _planted(
    words: Words, n: int, rng: random.Random, sentences: int
) -> tuple[list[str], list[tuple[int, int]]]:
    docs = ["".join(_doc(words, sentences, rng)) for _ in range(n)]
    pairs = []
    for i in rng.sample(range(n - n // 100), n // 100):
        sents = re.findall(r"[^。]*。", docs[i])
        if len(sents) > 3:
            a, b = rng.sample(range(len(sents)), 2)
            sents[a], sents[b] = sents[b], sents[a]
        text = "".join(sents)
        chars = list(re.sub(r"\d+", lambda m: str(int(m.group()) + 7), text))
        for _ in range(len(chars) * 15 // 100 // 2):  # ~15% of the words (2 characters each) replaced
            j = rng.randrange(len(chars) - 1)
            w = words.vocab[rng.randrange(len(words.vocab))]
            chars[j : j + 2] = list((w + w)[:2])
        docs.append("".join(chars))
        pairs.append((i, len(docs) - 1))
    return docs, pairs


def bench_dupes(words: Words, n: int, peer_n: int, sentences: int = 20) -> None:
    from yanreform.library import dupes as D
    from yanreform.library import minhash as M

    rng = random.Random(SEED + 2)
    docs, planted = _planted(words, n - n // 100, rng, sentences)
    mean_len = np.mean([len(d) for d in docs])
    print(f"\n3. near-duplicate candidates at {len(docs):,} texts (mean {mean_len:.0f} "
          f"characters, {len(planted)} planted rewrites)")  # fmt: skip
    with PeakRSS() as mem:
        t_key, _ = timed(lambda: M.batch_keys(docs[: M.CHUNK]))
        t_key *= len(docs) / min(
            len(docs), M.CHUNK
        )  # key texts alone, from one chunk (they are redone below)
        t_sig, c_sig, (S, lens, _) = cpu_timed(lambda: M.text_signatures(docs))
        t_lsh, c_lsh, pairs = cpu_timed(lambda: M.candidate_pairs(S, valid=lens >= M.MIN_CHARS))
        jac = M.estimate_jaccard(S, pairs)
        kept = pairs[jac >= D.MIN_JACCARD]
    got = {tuple(p) for p in kept.tolist()}
    rec = sum(1 for p in planted if tuple(sorted(p)) in got) / len(planted)
    total = t_sig + t_lsh
    print(f"{'  of which key texts (normalise, filter) ~':<44}{t_key:>8.1f} s")
    print(f"{'key texts + shingles + boilerplate + MinHash':<44}{t_sig:>8.1f} s   (chunks of {M.CHUNK:,})")
    print(f"{'LSH candidates + Jaccard estimate':<44}{t_lsh:>8.1f} s")
    cpu = c_sig + c_lsh
    print(f"{'candidate generation, total':<44}{total:>8.1f} s   ({cpu:.1f} CPU s: {len(docs) / cpu:,.0f} "
          f"texts per CPU s, peak {mem.mib:.0f} MiB)")  # fmt: skip
    print(f"candidates: {len(pairs):,} proposed, {len(kept):,} kept (>= {D.MIN_JACCARD} estimated Jaccard), "
          f"{len(kept) / len(docs):.3f} per text; planted pairs among them: {rec:.1%}")  # fmt: skip
    units = [D.Unit(str(i), d) for i, d in enumerate(docs)]
    t_all, c_all, found = cpu_timed(lambda: D.find_near_duplicates(units))
    fp = {(int(d.a), int(d.b)) for d in found}
    tp = sum(1 for p in planted if tuple(sorted(p)) in {tuple(sorted(x)) for x in fp})
    print(f"{'find_near_duplicates (candidates + alignment)':<44}{t_all:>8.1f} s   ({c_all:.1f} CPU s) "
          f"{len(found)} pairs, {tp} of {len(planted)} planted")  # fmt: skip
    try:
        from datasketch import MinHash, MinHashLSH
    except ImportError:
        print("peer: datasketch not installed (pip install datasketch); skipped")
        return
    m = min(peer_n, len(docs))
    cat, lens_m = M.batch_keys(docs[:m])
    sub = np.split(cat, np.cumsum(lens_m)[:-1])

    def peer() -> int:
        lsh = MinHashLSH(threshold=0.2, num_perm=128)
        mhs = []
        for i, k in enumerate(sub):
            s = k.tobytes()
            mh = MinHash(num_perm=128)
            mh.update_batch([s[4 * j : 4 * j + 20] for j in range(len(k) - 4)])
            lsh.insert(str(i), mh)
            mhs.append(mh)
        return sum(len(lsh.query(mh)) - 1 for mh in mhs)

    t_peer, c_peer, n_peer = cpu_timed(peer)
    est = c_peer * len(docs) / m
    ratio = (c_sig + c_lsh) / est
    print(f"{'peer: datasketch MinHash+LSH, ' + format(m, ',') + ' texts':<44}{t_peer:>8.1f} s   "
          f"~{est:.0f} CPU s at {len(docs):,} (linear); CPU ratio ours/peer {ratio:.3f}x")  # fmt: skip
    print(f"{'':<44}{'':>8}   datasketch proposed {n_peer:,} pairs on its {m:,} texts")


# ---------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="5k import, 20k search, 20k dupes")
    ap.add_argument("--import-n", type=int, default=50_000)
    ap.add_argument("--search-n", type=int, default=100_000)
    ap.add_argument("--dupes-n", type=int, default=100_000)
    ap.add_argument("--peer-n", type=int, default=10_000)
    ap.add_argument(
        "--dupes-sentences", type=int, default=20, help="sentences per text (20: ~650 characters)"
    )
    ap.add_argument(
        "--only", choices=("import", "search", "dupes"), help="run one part (search needs import)"
    )
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep the files (default: a temp dir)")
    args = ap.parse_args(argv)
    if args.quick:
        args.import_n, args.search_n, args.dupes_n, args.peer_n = 5_000, 20_000, 20_000, 3_000
    print(f"bench_library: python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    words = Words()
    if args.only != "dupes":
        tagger = fake_tagger()
        with tempfile.TemporaryDirectory(prefix="bench-library-") as d:
            tmp = Path(args.keep) if args.keep else Path(d)
            tmp.mkdir(parents=True, exist_ok=True)
            lib_path = bench_import(tmp, words, tagger, args.import_n)
            if args.only != "import":
                bench_search(lib_path, words, tagger, args.search_n, tmp)
    if args.only in (None, "dupes"):
        bench_dupes(words, args.dupes_n, args.peer_n, args.dupes_sentences)
    return 0


if __name__ == "__main__":
    sys.exit(main())
