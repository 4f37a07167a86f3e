"""Fast mode end to end: ``yanreform tag --fast``, ``tag_frame(fast=True)``, the batch engine and worker
processes run the shipped encoder-free head and never import torch or sentence-transformers.

"Never imported" is checked in child processes whose path starts with a folder holding decoy ``torch`` and
``sentence_transformers`` packages: importing one writes a marker file and raises, so any import — in the
command, in a worker process, behind a ``try`` — shows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

DECOY = """
import os, pathlib
pathlib.Path(os.environ["DECOY_MARK"]).joinpath("{name}-" + str(os.getpid())).write_text("imported")
raise ImportError("{name} must not be imported in fast mode")
"""


@pytest.fixture()
def decoy_env(tmp_path) -> tuple[dict[str, str], Path]:
    """Environment for a child process in which importing torch or sentence_transformers is recorded."""
    site = tmp_path / "decoys"
    marks = tmp_path / "marks"
    marks.mkdir()
    for name in ("torch", "sentence_transformers"):
        (site / name).mkdir(parents=True)
        (site / name / "__init__.py").write_text(DECOY.format(name=name), encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(REPO)]),
        "PYTHONIOENCODING": "utf-8",
        "DECOY_MARK": str(marks),
    }
    return env, marks


def write_input(path: Path, n: int = 60) -> Path:
    rows = [
        json.loads(x) for x in (REPO / "corpus" / "realdev.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(
                json.dumps({"id": f"p{i}", "text": rows[i % len(rows)]["text"]}, ensure_ascii=False) + "\n"
            )
        f.write('{"id": "blank", "text": "  "}\n')
    return path


def test_cli_fast_never_imports_torch(tmp_path, decoy_env):
    env, marks = decoy_env
    inp = write_input(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "yanreform", "tag", str(inp), "-o", str(out), "--fast", "--batch-size", "16"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name.split("-")[0] for p in marks.iterdir()) == []
    recs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in recs] == [f"p{i}" for i in range(60)] + ["blank"]
    assert "error" in recs[-1]
    tagged = [r for r in recs if r.get("tags")]
    assert len(tagged) >= 50  # real passages of reform work: nearly all get a category
    ev = tagged[0]["tags"][0]["evidence"]
    text = json.loads((tmp_path / "in.jsonl").read_text(encoding="utf-8").splitlines()[0])["text"]
    assert all(text[e["start"] : e["end"]] == e["text"] for e in ev)  # evidence spans are exact offsets


@pytest.mark.slow
def test_cli_fast_workers_never_import_torch(tmp_path, decoy_env):
    env, marks = decoy_env
    inp = write_input(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "yanreform", "tag", str(inp), "-o", str(out), "--fast", "--workers", "2"]
    r = subprocess.run([*cmd, "--batch-size", "16"], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert list(marks.iterdir()) == []
    assert len(out.read_text(encoding="utf-8").splitlines()) == 61


def test_decoy_would_catch_an_import(tmp_path, decoy_env):
    # the check above is only worth something if an import is caught: the full head needs torch
    env, marks = decoy_env
    code = "import yanreform; yanreform.Encoder.default().encode(['a'])"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode != 0
    assert {p.name.split("-")[0] for p in marks.iterdir()} & {"torch", "sentence_transformers"}


def test_tag_frame_fast_equals_fast_tagger():
    pd = pytest.importorskip("pandas")
    import yanreform
    from yanreform.tagging.tagger import Tagger

    rows = [
        json.loads(x) for x in (REPO / "corpus" / "realdev.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    texts = [r["text"] for r in rows[:40]]
    df = pd.DataFrame({"body": [*texts, None]})
    res = yanreform.tag_frame(df, "body", fast=True)
    want = Tagger.default(fast=True).tag_many(texts)
    assert res["tags"].tolist()[:40] == [[t.code for t in tl] for tl in want]
    for code in Tagger.default(fast=True).codes:
        got = res[f"{code}_score"].tolist()[:40]
        exp = [next((t.score for t in tl if t.code == code), 0.0) for tl in want]
        assert got == pytest.approx(exp)
    assert res["error"].iloc[-1].startswith("missing 'body'")


def test_tag_frame_fast_with_tagger_is_refused():
    pd = pytest.importorskip("pandas")
    import yanreform
    from yanreform.errors import InputError
    from yanreform.tagging.tagger import Tagger

    with pytest.raises(InputError, match="either tagger= or fast=True"):
        yanreform.tag_frame(pd.DataFrame({"t": ["a"]}), "t", tagger=Tagger.default(fast=True), fast=True)


def test_ngram_transform_equals_the_row_by_row_reference():
    """The vectorised batch transform (the fast head's hot path) gives bit-identical rows to the
    one-passage reference, on every corpus text and on edge cases (empty, blanks, full-width, newlines)."""
    import numpy as np

    from yanreform.tagging.tagger import Tagger

    ng = Tagger.default(fast=True).ngrams_
    texts = []
    for name in ("realdev.jsonl", "devset.jsonl", "longform.jsonl", "stress.jsonl"):
        for line in (REPO / "corpus" / name).read_text(encoding="utf-8").splitlines():
            texts.append(json.loads(line)["text"])
    texts += ["", "   ", "a", "ＡＢＣ  x\n\ny", "未登录的字符串☃☃☃"]
    X = ng.transform(texts)
    assert X.shape == (len(texts), len(ng.vocab)) and X.dtype == np.float32
    for i, t in enumerate(texts):
        cols, w = ng._transform_row(t)
        row = X[i]
        assert np.array_equal(row.indices, cols), i
        assert np.array_equal(row.data, w.astype(np.float32)), i
    assert X[len(texts) - 5].nnz == 0  # an empty passage is an all-zero row
    # a batch of one equals the same passage inside a batch
    one = ng.transform([texts[3]])
    assert (one != X[3]).nnz == 0


def test_fold_ascii_equals_the_translate_reference():
    """The lexicon's ASCII folding (looked up run by run now) lower-cases A-Z only and keeps the length."""
    from yanreform.tagging.lexicon import _ASCII_LOWER, fold_ascii

    lines = (REPO / "corpus" / "stress.jsonl").read_text("utf-8").splitlines()
    texts = [json.loads(x)["text"] for x in lines]
    texts += ["", "APP上线", "İstanbul ÀBC", "ＡＢＣ全角", "mixedCASE 12306 AI+政法", "ZZ"]
    for t in texts:
        assert fold_ascii(t) == t.translate(_ASCII_LOWER)
        assert len(fold_ascii(t)) == len(t)
    assert fold_ascii("APP上线ＡＢ") == "app上线ＡＢ"


@pytest.mark.slow
def test_similar_and_index_build_fast_never_import_torch(tmp_path, decoy_env):
    env, marks = decoy_env
    base = [sys.executable, "-m", "yanreform"]
    query = "涉案财物集中管理，执法办案管理中心"
    r = subprocess.run([*base, "similar", query, "--fast", "-k", "3", "--json"],
                       capture_output=True, text=True, timeout=120, env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr
    hits = json.loads(r.stdout)
    assert len(hits) == 3 and all(h["id"].startswith("yc2024-") for h in hits)
    assert hits[0]["semantic"] == 0.0 and hits[0]["similarity"] > 0
    inp = write_input(tmp_path / "in.jsonl", n=40)
    ix = tmp_path / "ix"
    r = subprocess.run([*base, "index", "build", str(inp), "--fast", "-o", str(ix)],
                       capture_output=True, text=True, timeout=120, env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "indexed 40 documents" in r.stderr and "1 bad record skipped" in r.stderr
    r = subprocess.run([*base, "similar", "--index", str(ix), "--fast", "--case", "p1", "-k", "2", "--json"],
                       capture_output=True, text=True, timeout=120, env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr
    found = [h["id"] for h in json.loads(r.stdout)]
    assert len(found) == 2 and "p1" not in found
    assert list(marks.iterdir()) == []


def test_similar_fast_refuses_an_index_with_a_semantic_side(tmp_path, fake_encoder, capsys):
    from yanreform.apps.cli import main
    from yanreform.search.index import CaseIndex, IndexConfig

    texts = [
        json.loads(x)["text"] for x in (REPO / "corpus" / "stress.jsonl").read_text("utf-8").splitlines()
    ]
    idx = CaseIndex.from_texts(texts[:10], encoder=fake_encoder, config=IndexConfig(category_weight=0.0))
    idx.save(tmp_path / "full")
    # refused with a one-line error before any model is loaded (this index's model is the fake one, so the
    # loader already refuses it; with the default model the --fast check names `index build --fast`)
    assert main(["similar", "--index", str(tmp_path / "full"), "--fast", "检察"]) == 2
    assert "yanreform: error:" in capsys.readouterr().err


def test_library_search_fast_uses_characters_only(tmp_path):
    from yanreform.library import Library

    with Library(tmp_path / "lib.sqlite") as lib:
        lib.add(REPO / "corpus" / "yancheng-2024-reform-cases.txt", year=2024, tag=False)
        hits = lib.search("涉案财物集中管理", k=3, fast=True)
    assert len(hits) == 3
    assert all(h.semantic == 0.0 for h in hits)
    assert hits[0].score == hits[0].lexical > 0 and hits[0].score >= hits[-1].score
    assert "涉案财物" in hits[0].text
