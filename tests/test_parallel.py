"""``--workers N`` / :func:`yanreform.batch.parallel.run_parallel`: local worker processes give the
single-process output (ids in input order, tags, scores, evidence, error records, counts), survive a killed
worker, and leave what they committed for ``--resume``.

The workers build the shipped fast head (real lexicon and n-gram model, no torch): spawning processes takes
a few seconds, so the tests that start workers are in the slow tier.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from batch_inputs import REPO, make_input, read_jsonl, records

from yanreform.batch import PartStore, run_partitions, tag_records
from yanreform.batch.parallel import TaggerSpec, run_parallel, worker_tagger
from yanreform.errors import InputError


@pytest.fixture(scope="module")
def inp(tmp_path_factory) -> Path:
    return make_input(tmp_path_factory.mktemp("par") / "in.jsonl")


@pytest.fixture(scope="module")
def single(inp, tmp_path_factory) -> tuple[list[dict], object]:
    """The single-process reference: output records and counts."""
    out: list[dict] = []
    stats = tag_records(records(inp), worker_tagger(TaggerSpec(fast=True)), out.append, batch_size=40)
    return out, stats


def test_run_parallel_rejects_bad_arguments(tmp_path, inp):
    with pytest.raises(InputError, match="workers must be at least 1"):
        run_parallel(records(inp), workers=0, write=lambda r: None)
    with pytest.raises(InputError, match="exactly one of store= or write="):
        run_parallel(records(inp), workers=2)
    with pytest.raises(InputError, match="batch_size"):
        run_parallel(records(inp), workers=2, write=lambda r: None, batch_size=0)


def test_cli_rejects_negative_workers(tmp_path, inp):
    from yanreform.apps.cli import main

    assert main(["tag", str(inp), "--workers", "-1", "--fast", "-q"]) == 2


@pytest.mark.slow
def test_streamed_output_equals_single_process(inp, single):
    ref, ref_stats = single
    out: list[dict] = []
    flushes = []
    stats = run_parallel(
        records(inp),
        workers=2,
        spec=TaggerSpec(fast=True),
        write=out.append,
        batch_size=40,
        after_batch=lambda: flushes.append(len(out)),
    )
    assert out == ref
    assert len(out) == 300
    assert (stats.records, stats.tagged, stats.errors) == (
        ref_stats.records,
        ref_stats.tagged,
        ref_stats.errors,
    )
    assert stats.errors >= 15  # the broken records came out as error records
    assert flushes == sorted(flushes) and flushes[-1] == 300 and len(flushes) == 8  # one per partition


@pytest.mark.slow
def test_store_output_equals_single_process_and_survives_a_killed_worker(tmp_path, inp, single):
    ref, _ = single
    store = PartStore.create(tmp_path / "out.jsonl", {"t": 1}, 40)
    killed: list[int] = []
    before = set(multiprocessing.active_children())  # children other tests in this process left running

    class KillOnce:
        """Progress that SIGKILLs one worker process after the first committed partition."""

        def update(self, n: int) -> None:
            if not killed:
                kids = [p for p in multiprocessing.active_children() if p not in before]
                assert kids, "no worker processes"
                os.kill(kids[0].pid, signal.SIGKILL)
                killed.append(kids[0].pid)

    stats = run_parallel(
        records(inp), workers=2, spec=TaggerSpec(fast=True), store=store, progress=KillOnce()
    )
    assert killed
    assert stats.records == 300 and stats.skipped == 0
    store.finish("jsonl")
    assert read_jsonl(tmp_path / "out.jsonl") == ref  # nothing lost, nothing duplicated


@pytest.mark.slow
def test_resume_after_interrupted_coordinator(tmp_path, inp, single):
    ref, _ = single
    out = tmp_path / "out.jsonl"
    store = PartStore.create(out, {"t": 1}, 40)
    seen = []

    class StopAfterTwo:
        def update(self, n: int) -> None:
            seen.append(n)
            if len(seen) == 2:
                raise KeyboardInterrupt

    before = set(multiprocessing.active_children())  # children other tests in this process left running
    with pytest.raises(KeyboardInterrupt):
        run_parallel(
            records(inp), workers=2, spec=TaggerSpec(fast=True), store=store, progress=StopAfterTwo()
        )
    assert set(multiprocessing.active_children()) <= before  # this run's workers were stopped
    reopened = PartStore.open(out)
    assert reopened is not None
    kept = reopened.committed_records
    assert 80 <= kept < 300
    # resume in one process: the partitions are the same whatever runner made them
    stats = run_partitions(records(inp), worker_tagger(TaggerSpec(fast=True)), reopened)
    assert stats.skipped == kept and stats.records == 300
    reopened.finish("jsonl")
    assert read_jsonl(out) == ref


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_cli_workers_equal_single_process(tmp_path, inp, fmt):
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}.{fmt}"
        cmd = [sys.executable, "-m", "yanreform", "tag", str(inp), "-o", str(out), "--fast"]
        cmd += ["--workers", workers, "--batch-size", "40"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
        assert r.returncode == 0, r.stderr
        assert "300 records:" in r.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    # streamed to stdout, too
    cmd = [
        sys.executable,
        "-m",
        "yanreform",
        "tag",
        str(inp),
        "--fast",
        "--workers",
        "2",
        "--batch-size",
        "40",
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    if fmt == "jsonl":
        assert r.stdout.encode("utf-8") == outs[0]


def test_tagger_spec_is_small_and_built_once_per_process():
    import pickle

    spec = TaggerSpec(fast=True)
    assert len(pickle.dumps(spec)) < 200  # what travels to a worker instead of a model
    assert worker_tagger(spec) is worker_tagger(spec)
    assert worker_tagger(spec).fast
