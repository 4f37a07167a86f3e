"""Inputs shared by the runner tests (test_parallel, test_dask): real passages, broken records mixed in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from yanreform.io import open_input
from yanreform.io.records import Record

REPO = Path(__file__).resolve().parent.parent


def corpus_texts() -> list[str]:
    """The texts of the labelled corpus files (real-dev, devset, stress), in file order."""
    out = []
    for name in ("realdev.jsonl", "devset.jsonl", "stress.jsonl"):
        for line in (REPO / "corpus" / name).read_text(encoding="utf-8").splitlines():
            out.append(json.loads(line)["text"])
    return out


def make_input(path: Path, n: int = 300) -> Path:
    """``n`` records of real passages with broken ones mixed in: blank, blank but for spaces, a number, a
    line that is not JSON, a repeated id."""
    texts = corpus_texts()
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            if i % 37 == 5:
                f.write(json.dumps({"id": f"x{i}", "text": "" if i % 2 else "  "}) + "\n")
            elif i % 53 == 7:
                f.write(json.dumps({"id": f"x{i}", "text": 42}) + "\n")
            elif i % 61 == 9:
                f.write("{not json at all\n")
            elif i % 71 == 11:
                f.write(json.dumps({"id": "r0", "text": "重复的编号。"}) + "\n")
            else:
                f.write(json.dumps({"id": f"r{i}", "text": texts[i % len(texts)], "src": i % 3}) + "\n")
    return path


def records(path: Path) -> Iterator[Record]:
    return iter(open_input(str(path)))


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
