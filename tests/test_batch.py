"""The batch engine and crash-safe output (yanreform.batch): partitions, committed parts, resume, duplicates,
long documents. Fast tier: the fake tagger; one slow test checks long documents with the real model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from yanreform.batch import (
    PartStore,
    TagOptions,
    fingerprint_inputs,
    mark_duplicates,
    partial_dir,
    run_partitions,
    tag_partition,
    tag_records,
    write_part,
)
from yanreform.errors import InputError
from yanreform.io import Record
from yanreform.tagging.documents import DocumentTags, aggregate, passages, tag_documents

REPO = Path(__file__).resolve().parent.parent

TEXTS = [
    "依托大数据平台,研发移动警务终端App,实现网上立案、远程视频庭审、电子卷宗在线流转。",
    "配强专业调解团队,按照“1名专职调解员+1名辅助人员”模式开展诉前调解,化解矛盾纠纷。",
    "与市场监管、税务等部门建立联动协作机制,定期会商,共享涉企案件信息。",
    "组织全体民警开展体能训练和实战演练。",
]


def records(n: int, *, dup_every: int = 0, bad_every: int = 0) -> list[Record]:
    out = []
    for i in range(n):
        rid = f"r{i % dup_every}" if dup_every and i >= dup_every else f"r{i}"
        where = f"in.jsonl:{i + 1}"
        if bad_every and i % bad_every == bad_every - 1:
            out.append(Record(rid, None, where, f"empty 'text' ({where})", fields={"agency": f"a{i}"}))
        else:
            out.append(
                Record(rid, f"{TEXTS[i % 4]}第{i}项。", where, fields={"agency": f"a{i}", "text": "x"})
            )
    return out


# ------------------------------------------------------------------------------------------ engine


def test_tag_partition_one_output_per_record(fake_tagger) -> None:
    recs = records(13, bad_every=5)
    opts = TagOptions(exclude=("text", "id"), with_text=True)
    out, stats = tag_partition(recs, fake_tagger, options=opts)
    assert [o["id"] for o in out] == [r.id for r in recs]
    assert (stats.records, stats.tagged, stats.errors) == (13, 11, 2)
    assert out[4] == {"id": "r4", "agency": "a4", "text": None, "error": "empty 'text' (in.jsonl:5)"}
    direct = fake_tagger.tag_many([r.text for r in recs if r.ok])
    good = [o for o in out if "tags" in o]
    assert [[t["code"] for t in o["tags"]] for o in good] == [[t.code for t in d] for d in direct]
    assert good[0]["agency"] == "a0" and good[0]["text"] == recs[0].text and "x" not in good[0].values()
    # keep=() carries no input field; keep=("agency",) only that one
    out2, _ = tag_partition(recs[:2], fake_tagger, options=TagOptions(keep=()))
    assert set(out2[0]) == {"id", "tags"}
    out3, _ = tag_partition(recs[:1], fake_tagger, options=TagOptions(keep=("agency",)))
    assert list(out3[0]) == ["id", "agency", "tags"]


def test_reserved_field_names_are_renamed(fake_tagger) -> None:
    r = Record("a", TEXTS[0], "f:1", fields={"tags": "mine", "error": "none", "id": "a", "x": 1})
    (out,), _ = tag_partition([r], fake_tagger, options=TagOptions(exclude=("text", "id")))
    assert out["input_tags"] == "mine" and out["input_error"] == "none" and out["x"] == 1
    assert isinstance(out["tags"], list) and "error" not in out


def test_duplicate_ids_are_error_records_naming_the_first() -> None:
    recs = [
        Record("a", "x", "f.csv:2"),
        Record(7, "y", "f.csv:3"),
        Record("a", "z", "g.csv:9"),
        Record("7", "w", "g:4"),
    ]
    out = list(mark_duplicates(recs))
    assert len(out) == 4 and out[0] is recs[0] and out[1] is recs[1]
    assert out[2].error == "duplicate id 'a': first at f.csv:2 (g.csv:9)" and out[2].text is None
    assert out[3].error == "duplicate id '7': first at f.csv:3 (g:4)"


def test_tag_records_streams_with_duplicates(fake_tagger) -> None:
    written: list[dict] = []
    stats = tag_records(records(10, dup_every=4), fake_tagger, written.append, batch_size=3)
    assert len(written) == 10 and stats.records == 10 and stats.errors == 6
    assert [w["id"] for w in written] == [f"r{i}" for i in range(4)] + [f"r{i % 4}" for i in range(4, 10)]
    assert "first at in.jsonl:1 (in.jsonl:5)" in written[4]["error"]
    assert "1 record:" in stats.summary().replace("10 records:", "1 record:")  # plural helper in use
    from yanreform.batch import plural

    assert plural(1, "record") == "1 record" and plural(1234, "record") == "1,234 records"


# ------------------------------------------------------------------------------------------ part store


def full_run(
    tmp_path: Path, fake_tagger, recs: list[Record], size: int, name: str = "full.jsonl"
) -> list[dict]:
    store = PartStore.create(tmp_path / name, {"inputs": []}, size)
    run_partitions(recs, fake_tagger, store)
    store.finish("jsonl", codes=fake_tagger.codes)
    return [json.loads(x) for x in (tmp_path / name).read_text(encoding="utf-8").splitlines()]


def test_parts_resume_in_any_order_nothing_lost_or_duplicated(tmp_path: Path, fake_tagger) -> None:
    recs = records(23, dup_every=9, bad_every=7)
    expected = full_run(tmp_path, fake_tagger, recs, 5)
    assert len(expected) == 23 and not partial_dir(tmp_path / "full.jsonl").exists()

    out = tmp_path / "out.jsonl"
    store = PartStore.create(out, {"inputs": []}, 5)
    # a distributed runner committed partitions 0, 2 and 4 (of 0..4) before it died
    for start in (0, 10, 20):
        part, _ = tag_partition(list(mark_duplicates(recs))[start : start + 5], fake_tagger)
        store.commit(start, part)
    # ... and a worker had written partition 1 but was killed before it was journalled; a temp file too
    write_part(store.folder, 5, [{"id": "stale"}])
    (store.folder / ".part-000000000015.jsonl.abc.tmp").write_text("half", encoding="utf-8")
    del store

    store = PartStore.open(out)
    assert store is not None and sorted(store.parts) == [0, 10, 20] and store.committed_records == 13
    assert sorted(p.name for p in store.folder.iterdir()) == [
        "journal.jsonl",
        "part-000000000000.jsonl",
        "part-000000000010.jsonl",
        "part-000000000020.jsonl",
    ]
    stats = run_partitions(recs, fake_tagger, store)
    assert (stats.records, stats.skipped) == (23, 13)
    n = store.finish("jsonl", codes=fake_tagger.codes)
    assert n == 23 and not store.folder.exists()
    got = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert got == expected
    assert sum("duplicate id" in g.get("error", "") for g in got) == sum(
        "duplicate id" in e.get("error", "") for e in expected
    )


def test_resume_refuses_an_input_that_shrank_under_a_committed_part(tmp_path: Path, fake_tagger) -> None:
    recs = records(12)
    out = tmp_path / "o.jsonl"
    store = PartStore.create(out, {"inputs": []}, 5)
    for start in (0, 5):
        part, _ = tag_partition(recs[start : start + 5], fake_tagger)
        store.commit(start, part)
    # the input now ends inside the second committed part: its 5 records cannot be matched
    with pytest.raises(InputError, match=r"cannot resume .*record 5 holds 5 records, the input now 3"):
        run_partitions(recs[:8], fake_tagger, store)
    stats = run_partitions(recs, fake_tagger, store)  # the unchanged input resumes
    assert (stats.records, stats.skipped) == (12, 10)


def test_journal_cut_mid_line_and_damaged_part(tmp_path: Path, fake_tagger) -> None:
    recs = records(12)
    out = tmp_path / "o.jsonl"
    store = PartStore.create(out, {"inputs": []}, 4)
    for start in (0, 4, 8):
        part, _ = tag_partition(recs[start : start + 4], fake_tagger)
        store.commit(start, part)
    journal = store.folder / "journal.jsonl"
    data = journal.read_bytes()
    journal.write_bytes(data[:-20])  # a power cut while appending the last line
    (store.folder / "part-000000000004.jsonl").write_bytes(b'{"id": "r4"}\n')  # damaged part
    store = PartStore.open(out)
    assert store is not None and sorted(store.parts) == [0]
    assert journal.read_bytes().endswith(b"\n") and journal.read_bytes().count(b"\n") == 2
    run_partitions(recs, fake_tagger, store)
    store.finish("jsonl", codes=fake_tagger.codes)
    assert [json.loads(x)["id"] for x in out.read_text(encoding="utf-8").splitlines()] == [r.id for r in recs]


def test_gaps_are_refused_and_fingerprints_checked(tmp_path: Path, fake_tagger) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "甲"}\n', encoding="utf-8")
    fp = {"inputs": fingerprint_inputs([str(src)]), "level": "initiative"}
    store = PartStore.create(tmp_path / "o.csv", fp, 2)
    store.commit(2, [{"id": "x", "tags": []}])
    with pytest.raises(InputError, match="records 0-1 are missing"):
        store.finish("csv")
    with pytest.raises(InputError, match="already exists"):
        PartStore.create(tmp_path / "o.csv", fp, 2)
    reopened = PartStore.open(tmp_path / "o.csv")
    assert reopened is not None
    reopened.check(fp)
    with pytest.raises(InputError, match="level was 'initiative' in the interrupted run, now 'case'"):
        reopened.check({**fp, "level": "case"})
    src.write_text('{"text": "甲乙"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"in\.jsonl changed since the interrupted run"):
        reopened.check({**fp, "inputs": fingerprint_inputs([str(src)])})
    (tmp_path / "bad.jsonl.partial").mkdir()
    (tmp_path / "bad.jsonl.partial" / "journal.jsonl").write_text("nonsense\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a yanreform journal"):
        PartStore.open(tmp_path / "bad.jsonl")
    assert PartStore.open(tmp_path / "none.jsonl") is None


def test_part_files_follow_the_umask(tmp_path: Path, fake_tagger) -> None:
    old = os.umask(0o022)
    try:
        store = PartStore.create(tmp_path / "o.tsv", {}, 3)
        store.commit(0, [{"id": "a", "tags": []}])
        assert (store.folder / "part-000000000000.jsonl").stat().st_mode & 0o777 == 0o644
        store.finish("tsv", codes=["digitalisation"])
        assert (tmp_path / "o.tsv").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)


# ------------------------------------------------------------------------------------------ kill -9


DRIVER = textwrap.dedent(
    """
    import sys
    from yanreform.apps.cli import cmd_tag, main
    from yanreform.embed import Encoder, HashingModel
    from yanreform.tagging import Tagger

    tagger = Tagger.load(sys.argv[1], encoder=Encoder(HashingModel(dim=64)))
    cmd_tag._load_tagger = lambda: tagger
    sys.exit(main(sys.argv[2:]))
    """
)


@pytest.fixture(scope="module")
def saved_fake_tagger(tmp_path_factory, fake_tagger) -> Path:
    return fake_tagger.save(tmp_path_factory.mktemp("fake") / "tagger")


def run_driver(tmp_path: Path, tagger_dir: Path, *argv: str, wait: bool = True):
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    cmd = [sys.executable, str(driver), str(tagger_dir), *argv]
    if wait:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def write_input(p: Path, n: int) -> None:
    with p.open("w", encoding="utf-8") as f:
        for i in range(n):
            rid = f"r{i}" if i % 50 != 49 else "r0"  # duplicates: records in == records out with resume too
            f.write(
                json.dumps({"id": rid, "text": f"{TEXTS[i % 4]}第{i}号。", "agency": f"单位{i % 3}"}) + "\n"
            )


def journal_parts(folder: Path) -> int:
    try:
        return max(0, (folder / "journal.jsonl").read_bytes().count(b"\n") - 1)
    except OSError:
        return 0


@pytest.mark.parametrize("sig", [signal.SIGKILL, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)])
def test_killed_run_resumes_to_the_same_output(
    tmp_path: Path, saved_fake_tagger: Path, fake_tagger, monkeypatch, capsys, sig
) -> None:
    """kill -9 (or SIGTERM) in the middle of `yanreform tag`, then --resume: the output is byte for byte the
    output of an uninterrupted run; nothing duplicated or lost (duplicate ids included), no temp file left."""
    from yanreform.apps.cli import cmd_tag, main

    monkeypatch.setattr(cmd_tag, "_load_tagger", lambda: fake_tagger)
    src = tmp_path / "in.jsonl"
    write_input(src, 1500)
    ref = tmp_path / "ref.csv"
    assert main(["tag", str(src), "-o", str(ref), "--batch-size", "40", "-q"]) == 0
    out = tmp_path / "out.csv"
    p = run_driver(
        tmp_path, saved_fake_tagger, "tag", str(src), "-o", str(out), "--batch-size", "10", wait=False
    )
    folder = partial_dir(out)
    deadline = time.monotonic() + 120
    while journal_parts(folder) < 5 and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.02)
    assert p.poll() is None, "the run finished before it could be interrupted"
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert not out.exists() and folder.is_dir()
    capsys.readouterr()
    if sig == signal.SIGKILL:
        assert p.returncode == -signal.SIGKILL
    else:
        assert p.returncode == 143, err
        assert "Traceback" not in err
        store = PartStore.open(out)
        assert store is not None and store.committed_records >= 50
        assert f"terminated: {store.committed_records:,} records kept in {folder}; continue with:" in err
        assert err.strip().splitlines()[-1].endswith(f"tag {src} -o {out} --batch-size 10 --resume")
        assert not list(folder.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))
    # the same command without --resume refuses to throw the work away
    assert main(["tag", str(src), "-o", str(out), "--batch-size", "10"]) == 2
    assert "add --resume to continue it, or --restart to discard it" in capsys.readouterr().err
    assert main(["tag", str(src), "-o", str(out), "--batch-size", "10", "--resume"]) == 0
    err = capsys.readouterr().err
    assert "kept from the interrupted run" in err and "1,500 records" in err
    assert out.read_bytes() == ref.read_bytes()
    assert not folder.exists() and not list(tmp_path.glob(".*.tmp")) and not list(folder.parent.glob("*.tmp"))
    assert main(["tag", str(src), "-o", str(out), "--resume"]) == 0
    assert "nothing to resume" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ long documents


def test_passage_windows() -> None:
    head = "二、加强协同联动"
    body = "与法院、检察院建立联席会议制度,定期会商重大案件," * 6  # 150 characters
    text = f"  {head}\n{body}\n\n{'短句。' * 10}\n" + "一句话说完这件事情。" * 60
    spans = passages(text, passage_chars=400, min_chars=120)
    assert text[spans[0][0] : spans[0][1]] == f"{head}\n{body}"  # the heading joins its paragraph
    assert all(e - s <= 400 for s, e in spans)
    assert all(text[s:e] == text[s:e].strip() and text[s:e] for s, e in spans)
    covered = "".join(text[s:e] for s, e in spans)
    assert covered.replace("\n", "") == text.replace("\n", "").replace(" ", "")
    assert passages("   \n ") == []
    with pytest.raises(InputError, match="passage_chars"):
        passages("x", passage_chars=5)


def test_aggregate_offsets_cap_and_best_score(fake_tagger) -> None:
    from yanreform.tagging.records import Evidence, Tag

    text = "甲乙丙丁戊己庚辛壬癸" * 3
    spans = [(0, 10), (10, 20), (20, 30)]

    def ev(s: int, e: int, term: str) -> Evidence:
        return Evidence(s, e, text[s : s + (e - s)], "lexicon", term)

    lists = [
        [Tag("a", "甲类", "A", 0.6, (ev(0, 2, "甲乙"), ev(2, 4, "丙丁")))],
        [
            Tag("a", "甲类", "A", 0.9, (ev(0, 2, "甲乙"), ev(4, 6, "戊己"), ev(6, 8, "庚辛"))),
            Tag("b", "乙类", "B", 0.7, ()),
        ],
        [Tag("a", "甲类", "A", 0.8, (ev(8, 10, "壬癸"),))],
    ]
    # evidence offsets of each passage are relative to the passage: the aggregate maps them back
    agg = aggregate(text, spans, lists, evidence_cap=3)
    assert isinstance(agg, DocumentTags) and [t.code for t in agg] == ["a", "b"]
    a = agg[0]
    assert a.score == 0.9 and len(a.evidence) == 3 and agg.omitted == {"a": 3}
    assert all(text[e.start : e.end] == e.text for e in a.evidence)
    # the best passage's evidence first, distinct terms first
    assert {e.start for e in a.evidence} == {10, 14, 16}
    assert agg.passages == spans and agg.text == text


def test_tag_documents_one_call_and_short_texts_unchanged(fake_tagger) -> None:
    class Counting:
        def __init__(self, inner) -> None:
            self.inner, self.calls, self.sizes = inner, 0, []

        def tag_many(self, texts, **kw):
            self.calls += 1
            self.sizes.append(len(texts))
            return self.inner.tag_many(texts, **kw)

    long_text = "\n".join(TEXTS[i % 3] * 3 for i in range(9))  # nine paragraphs of ~100-130 characters
    short = TEXTS[3]
    spy = Counting(fake_tagger)
    out = tag_documents(spy, [short, long_text, TEXTS[0]], threshold=600)
    assert spy.calls == 1
    n_pass = len(passages(long_text))
    assert spy.sizes == [2 + n_pass] and n_pass >= 4
    assert [t.code for t in out[0]] == [t.code for t in fake_tagger.tag(short)]
    assert [t.code for t in out[2]] == [t.code for t in fake_tagger.tag(TEXTS[0])]
    doc = out[1]
    assert isinstance(doc, DocumentTags) and doc.text == long_text
    parts = fake_tagger.tag_many([long_text[s:e] for s, e in doc.passages])
    assert {t.code for t in doc} == {t.code for tl in parts for t in tl}
    for t in doc:
        assert t.score == max(x.score for tl in parts for x in tl if x.code == t.code)
        assert len(t.evidence) <= 5
        assert all(long_text[e.start : e.end] == e.text for e in t.evidence)


def test_output_record_of_a_long_text_counts_omitted_evidence(fake_tagger) -> None:
    text = "\n".join(f"{TEXTS[0]}第{i}段。" for i in range(40))
    (out,), _ = tag_partition([Record("long", text, "f:1")], fake_tagger)
    assert out["passages"] == len(passages(text)) > 1
    dig = next(t for t in out["tags"] if t["code"] == "digitalisation")
    assert len(dig["evidence"]) == 5 and dig["evidence_omitted"] > 100
    assert len(json.dumps(out, ensure_ascii=False)) < 20_000


@pytest.mark.slow
def test_long_multi_topic_document_gets_the_categories_of_its_parts(tagger) -> None:
    """A document of held-out passages on different topics gets (nearly) every category its parts get."""
    rows = [
        json.loads(x) for x in (REPO / "corpus" / "stress.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    picked: list[dict] = []
    used: set[str] = set()
    for r in rows:
        if r["labels"] and not set(r["labels"]) & used and len(picked) < 6:
            picked.append(r)
            used |= set(r["labels"])
    assert len(picked) == 6
    parts = [r["text"] for r in picked]
    part_codes = set().union(*({t.code for t in tl} for tl in tagger.tag_many(parts)))
    whole = "\n".join(parts)
    assert len(whole) > 600
    (doc,) = tag_documents(tagger, [whole])
    got = {t.code for t in doc}
    assert got == part_codes, (sorted(got), sorted(part_codes))
    # (whole-text tagging loses about half of them on such documents: benchmarks/bench_longdoc.py)
    for t in doc:
        assert all(whole[e.start : e.end] == e.text for e in t.evidence)


def test_a_broken_tagger_stops_the_run_instead_of_failing_every_record() -> None:
    class Broken:  # a tagger whose set-up is broken (e.g. YANREFORM_HOME is a file): every call fails alike
        def tag_many(self, texts, **kw):
            raise InputError("YANREFORM_HOME=/x is a file, not a folder")

    class Picky:  # a tagger that fails on one text only
        def tag_many(self, texts, **kw):
            if any("坏" in t for t in texts):
                raise ValueError("bad text")
            return [[] for _ in texts]

    with pytest.raises(InputError, match="YANREFORM_HOME"):
        tag_partition([Record("a", "甲", "f:1"), Record("b", "乙", "f:2")], Broken())
    out, stats = tag_partition([Record("a", "甲", "f:1"), Record("b", "坏", "f:2")], Picky())
    assert out[0]["tags"] == [] and out[1]["error"] == "tagging failed: ValueError: bad text (f:2)"
    assert (stats.tagged, stats.errors) == (1, 1)
