"""Dump (or compare) what the tagger and the case index output on fixed texts (held across refactors).

    python scripts/snapshot_outputs.py dump OUT.json        # tags of the 604 labelled texts, index results
    python scripts/snapshot_outputs.py compare A.json B.json

The 604 texts are every labelled passage in corpus/ (devset 323, longform 148, stress 89, bundled 44).
The index part: same-topic recommendations over each retrieval-dev split, query -> bundled case searches,
and explanations of the demo's pairs. Only public names are used, so it runs on any version of the library.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yanreform as yr
from yanreform._resources import corpus_file


def _rows(name: str) -> list[dict[str, Any]]:
    text = corpus_file(name).read_text(encoding="utf-8")
    return [json.loads(x) for x in text.splitlines() if x.strip()]


def texts_604() -> list[tuple[str, str]]:
    out = []
    for name in ("devset.jsonl", "longform.jsonl", "stress.jsonl"):
        out += [(r["id"], r["text"]) for r in _rows(name)]
    passages = {pid: t for case in yr.load_corpus() for pid, _k, t in case.passages()}
    out += [(r["id"], passages[r["id"]]) for r in _rows("yancheng-2024-labels.jsonl")]
    return out


def _tags(tl: Any) -> list[Any]:
    return [
        [t.code, round(float(t.score), 5), [[e.start, e.end, e.source, e.term] for e in t.evidence]]
        for t in tl
    ]


def dump(path: str) -> None:
    items = texts_604()
    tagger = yr.Tagger.default()
    tags = tagger.tag_many([t for _, t in items])
    out: dict[str, Any] = {"tags": {i: _tags(tl) for (i, _), tl in zip(items, tags, strict=True)}}
    rows = _rows("retrieval-dev.jsonl")
    ix_out: dict[str, Any] = {}
    for split in ("tune", "test"):
        ps = [r for r in rows if r["kind"] == "passage" and r["split"] == split]
        idx = yr.CaseIndex.from_texts([r["text"] for r in ps], [r["id"] for r in ps])
        for r in ps:
            ix_out[f"rec/{r['id']}"] = [[h.id, round(h.score, 4)] for h in idx.recommend(r["id"], k=10)]
    corpus = yr.load_corpus()
    idx = yr.CaseIndex.from_corpus(corpus)
    qs = [r for r in rows if r.get("case_id")]
    for r, hl in zip(qs, idx.search([r["text"] for r in qs], k=10), strict=True):
        ix_out[f"search/{r['id']}"] = [[h.id, round(h.score, 4)] for h in hl]
    for case in corpus:
        for h in idx.recommend(case.id, k=3):
            e = idx.explain(case.id, h.id)
            ix_out[f"explain/{case.id}/{h.id}"] = [e.shared_terms, e.shared_categories, round(e.score, 4)]
    out["index"] = ix_out
    Path(path).write_text(json.dumps(out, ensure_ascii=False, indent=0), encoding="utf-8")
    print(f"wrote {path}: {len(out['tags'])} tagged texts, {len(ix_out)} index entries")


def compare(a: str, b: str) -> int:
    A = json.loads(Path(a).read_text(encoding="utf-8"))
    B = json.loads(Path(b).read_text(encoding="utf-8"))
    bad = 0
    for part in ("tags", "index"):
        for k in sorted(set(A[part]) | set(B[part])):
            if A[part].get(k) != B[part].get(k):
                bad += 1
                if bad <= 20:
                    print(f"{part} {k}:\n  {A[part].get(k)}\n  {B[part].get(k)}")
    n = len(A["tags"]) + len(A["index"])
    print(f"{bad} of {n} entries differ")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "dump":
        dump(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        raise SystemExit(compare(sys.argv[2], sys.argv[3]))
    else:
        raise SystemExit(__doc__)
