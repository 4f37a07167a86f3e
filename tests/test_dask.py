"""Dask: ``yanreform tag --dask``, :func:`yanreform.batch.tag_dask` and ``tag_frame`` on a dask dataframe
give the single-process output, also when a worker process is killed mid-run and when the client is
interrupted and the run resumed.

The workers build the shipped fast head (real model, no torch). Tests that start a ``LocalCluster`` are in
the slow tier (a cluster takes seconds to start); the collection tests run on Dask's synchronous scheduler.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

import dask.bag as db
import dask.dataframe as dd
import pandas as pd
from batch_inputs import REPO, corpus_texts, make_input, read_jsonl, records

from yanreform.batch import PartStore, TagOptions, tag_dask, tag_records
from yanreform.batch.dask import DaskBackend, open_client
from yanreform.batch.parallel import TaggerSpec, coordinate, worker_tagger
from yanreform.errors import InputError

FAST = TaggerSpec(fast=True)
#: what ``yanreform tag`` uses: input fields carried, except the text and the id
CLI_OPTS = TagOptions(exclude=("text", "id"))


@pytest.fixture(scope="module")
def inp(tmp_path_factory) -> Path:
    return make_input(tmp_path_factory.mktemp("dask") / "in.jsonl")


@pytest.fixture(scope="module")
def single(inp) -> list[dict]:
    out: list[dict] = []
    tag_records(records(inp), worker_tagger(FAST), out.append, batch_size=40, options=CLI_OPTS)
    return out


# ----------------------------------------------------------------------------- collections (sync scheduler)


def test_tag_dask_bag_equals_single_process_records():
    texts = corpus_texts()[:50]
    items = [{"id": f"b{i}", "text": t, "src": "x"} for i, t in enumerate(texts)]
    items += [{"id": "blank", "text": ""}, {"text": None}, "not a dict"]
    bag = db.from_sequence(items, npartitions=4)
    out_bag = tag_dask(bag, fast=True)
    assert isinstance(out_bag, db.Bag)  # lazy: nothing computed yet
    out = out_bag.compute(scheduler="sync")
    assert len(out) == len(items)
    assert [r["id"] for r in out[:50]] == [f"b{i}" for i in range(50)]
    from yanreform.batch import output_record

    opts = TagOptions(exclude=("text", "id"))
    tags = worker_tagger(FAST).tag_many(texts)
    want = [output_record(r, tl, options=opts) for r, tl in zip(_recs(items[:50]), tags, strict=True)]
    assert out[:50] == want
    assert out[0]["src"] == "x" and "text" not in out[0]  # input fields carried, the text not
    assert out[50]["error"].startswith("empty 'text'") and out[50]["id"] == "blank"
    assert out[51]["error"].startswith("missing 'text'")
    assert "not a record" in out[52]["error"]


def _recs(items):
    from yanreform.io.records import Record

    return [Record(it["id"], it["text"], "", fields=it) for it in items]


def test_tag_dask_dataframe_equals_tag_frame():
    import yanreform

    texts = corpus_texts()[:45]
    pdf = pd.DataFrame({"id": [f"d{i}" for i in range(45)], "body": texts, "n": range(45)})
    ddf = dd.from_pandas(pdf, npartitions=3)
    lazy = yanreform.tag_frame(ddf, "body", id_column="id", fast=True)
    assert isinstance(lazy, dd.DataFrame)
    got = lazy.compute(scheduler="sync")
    want = yanreform.tag_frame(pdf, "body", id_column="id", fast=True)
    assert list(got.columns) == list(want.columns) == list(lazy.columns)
    assert got["tags"].tolist() == want["tags"].tolist()
    assert got["evidence"].tolist() == want["evidence"].tolist()
    for code in worker_tagger(FAST).codes:
        assert got[f"{code}_score"].tolist() == pytest.approx(want[f"{code}_score"].tolist())
    assert got["id"].tolist() == [f"d{i}" for i in range(45)]


def test_tag_dask_refuses_other_types_and_a_tagger_with_a_dask_frame():
    import yanreform

    with pytest.raises(TypeError, match=r"dask\.bag\.Bag or a dask\.dataframe\.DataFrame"):
        tag_dask([{"text": "a"}])
    ddf = dd.from_pandas(pd.DataFrame({"t": ["a"]}), npartitions=1)
    with pytest.raises(InputError, match="build their own tagger"):
        yanreform.tag_frame(ddf, "t", tagger=worker_tagger(FAST))


def test_open_client_rejects_a_bad_local_address():
    with pytest.raises(InputError, match="local:N needs a number of workers"), open_client("local:0"):
        pass


# ------------------------------------------------------------------------------------- a LocalCluster


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    c = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    yield c
    c.close()


@pytest.mark.slow
def test_local_cluster_output_equals_single_process(tmp_path, inp, single, cluster):
    with open_client(cluster.scheduler_address) as client:
        store = PartStore.create(tmp_path / "out.jsonl", {"t": 1}, 40)
        stats = coordinate(
            records(inp), DaskBackend(client, FAST), in_flight=4, store=store, options=CLI_OPTS
        )
        store.finish("jsonl")
    assert read_jsonl(tmp_path / "out.jsonl") == single
    assert stats.records == 300 and stats.errors >= 15


@pytest.mark.slow
def test_killed_worker_loses_and_duplicates_nothing(tmp_path, inp, single, cluster):
    with open_client(cluster.scheduler_address) as client:
        pids = list(client.run(os.getpid).values())
        killed: list[int] = []

        class KillOnce:
            def update(self, n: int) -> None:
                if not killed:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])

        store = PartStore.create(tmp_path / "out.jsonl", {"t": 1}, 20)
        stats = coordinate(
            records(inp),
            DaskBackend(client, FAST),
            in_flight=4,
            store=store,
            progress=KillOnce(),
            options=CLI_OPTS,
        )
        store.finish("jsonl")
        assert killed
    assert stats.records == 300
    assert read_jsonl(tmp_path / "out.jsonl") == single


@pytest.mark.slow
def test_cli_dask_resume_after_killed_client(tmp_path, inp, single, cluster):
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    cmd = [sys.executable, "-m", "yanreform", "tag", str(inp), "-o", str(out), "--fast", "-q"]
    cmd += ["--dask", cluster.scheduler_address, "--batch-size", "10"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    journal = Path(str(out) + ".partial") / "journal.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.is_file() and journal.read_bytes().count(b"\n") >= 4:  # header + 3 parts
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.kill()
    proc.wait()
    store = PartStore.open(out)
    assert store is not None and 30 <= store.committed_records < 300
    kept = store.committed_records
    resume = [c for c in cmd if c != "-q"] + ["--resume"]  # with the summary line
    r = subprocess.run(resume, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    got = read_jsonl(out)
    assert len(got) == len(single)
    for i, (a, b) in enumerate(zip(got, single, strict=True)):
        assert a == b, (i, json.dumps(a, ensure_ascii=False)[-300:], json.dumps(b, ensure_ascii=False)[-300:])
    assert f"{kept:,} kept from the interrupted run" in r.stderr


@pytest.mark.slow
def test_cli_dask_local_equals_single_process(tmp_path, inp, single):
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    out = tmp_path / "o.csv"
    ref = tmp_path / "r.csv"
    base = [sys.executable, "-m", "yanreform", "tag", str(inp), "--fast", "--batch-size", "40", "-q"]
    r1 = subprocess.run([*base, "-o", str(ref)], env=env, capture_output=True, text=True, timeout=300)
    r2 = subprocess.run([*base, "-o", str(out), "--dask", "local:2"], env=env, capture_output=True, text=True)
    assert r1.returncode == 0 and r2.returncode == 0, r2.stderr
    assert out.read_bytes() == ref.read_bytes()
    assert len(ref.read_text(encoding="utf-8-sig").splitlines()) == 301  # header + one row per record
