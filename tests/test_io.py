"""Streaming readers and writers of yanreform.io (no model needed)."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from pathlib import Path

import pytest

from yanreform.errors import InputError
from yanreform.io import (
    decode_bytes,
    input_kind,
    open_input,
    open_output,
    read_done_ids,
    read_text_file,
)

TEXT = "搭建综合支撑平台。全面整合警综平台、执法公示平台,实现各类系统的一键登录。"


def write_broken_jsonl(path: Path, n_good: int = 20) -> tuple[int, int]:
    """A JSONL file with good records and every kind of bad one; returns (records, bad records)."""
    lines: list[bytes] = []
    for i in range(n_good):
        lines.append(json.dumps({"id": f"g{i}", "text": f"{TEXT}{i}"}, ensure_ascii=False).encode())
    bad = [
        b'{"id": "b1", "text": "unterminated',  # invalid JSON
        b"[1, 2, 3]",  # not an object
        b'{"id": "b3"}',  # missing text
        b'{"id": "b4", "text": "   "}',  # empty text
        b'{"id": "b5", "text": 42}',  # non-str text
        b'{"id": "b6", "text": "\xff\xfe bad bytes"}',  # undecodable line
        b'{"id": {"x": 1}, "text": "ok text"}',  # unusable id
        b'{"id": "b8", "text": null}',  # null text
    ]
    # interleave the bad ones among the good ones, plus blank lines that are not records
    out: list[bytes] = []
    for i, line in enumerate(lines):
        out.append(line)
        if i < len(bad):
            out.append(bad[i])
        if i % 7 == 0:
            out.append(b"   ")
    path.write_bytes(b"\n".join(out) + b"\n")
    return n_good + len(bad), len(bad)


def test_jsonl_broken_records_become_error_records(tmp_path: Path) -> None:
    p = tmp_path / "in.jsonl"
    n, n_bad = write_broken_jsonl(p)
    recs = list(open_input(str(p)))
    assert len(recs) == n
    errors = [r for r in recs if r.error]
    assert len(errors) == n_bad
    assert all(r.text is None for r in errors)
    # every error says where (file:line); lines are 1-based and count blank lines
    for r in errors:
        assert f"{p}:" in r.error and r.where in r.error
    by_id = {r.id: r for r in recs}
    assert "invalid JSON" in recs[1].error and recs[1].id == f"{p}:2"  # no id: generated from the line
    assert "not a JSON object" in recs[3].error
    assert "missing 'text'" in by_id["b3"].error
    assert "empty 'text'" in by_id["b4"].error
    assert "not text" in by_id["b5"].error
    assert "undecodable" in recs[11].error
    assert "'id' must be a string or a number" in next(r for r in errors if "'id'" in r.error).error
    assert "missing 'text'" in by_id["b8"].error
    good = [r for r in recs if r.ok]
    assert [r.id for r in good] == [f"g{i}" for i in range(20)]
    assert good[0].text == TEXT + "0"


def test_jsonl_columns_bom_and_generated_ids(tmp_path: Path) -> None:
    p = tmp_path / "c.jsonl"
    rows = [{"body": "甲乙丙", "key": 7}, {"body": "丁戊"}, {"text": "x", "key": "k3"}]
    p.write_bytes(b"\xef\xbb\xbf" + "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode())
    recs = list(open_input(str(p), text_column="body", id_column="key"))
    assert [r.id for r in recs] == [7, f"{p}:2", "k3"]
    assert recs[0].text == "甲乙丙" and recs[1].text == "丁戊"
    assert recs[2].error == f"missing 'body' ({p}:3)"


def test_stdin_jsonl() -> None:
    data = b'{"id": "a", "text": "\xe4\xb8\x80"}\nnot json\n'
    recs = list(open_input("-", stdin=io.BytesIO(data)))
    assert [r.id for r in recs] == ["a", "<stdin>:2"]
    assert recs[0].text == "一" and "invalid JSON" in recs[1].error and "<stdin>:2" in recs[1].error


def test_csv_utf8_and_gb18030_with_bad_cells(tmp_path: Path) -> None:
    header = "id,text,other\n"
    body = '1,"第一条,含逗号",x\n2,,y\n\n3,"多行\n文本",z\n4\n'
    p = tmp_path / "u.csv"
    p.write_text(header + body, encoding="utf-8-sig")
    recs = list(open_input(str(p)))
    assert [r.id for r in recs] == ["1", "2", "3", "4"]
    assert recs[0].text == "第一条,含逗号"
    assert recs[1].error == f"empty 'text' ({p}:3)"
    assert recs[2].text == "多行\n文本" and recs[2].where == f"{p}:5"
    assert recs[3].error == f"missing 'text' ({p}:7)"

    g = tmp_path / "g.csv"
    g.write_bytes((header + "7,執法辦案管理中心,x\n").encode("gb18030"))
    (r,) = list(open_input(str(g)))
    assert (r.id, r.text) == ("7", "執法辦案管理中心")

    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"id,text\n1,good\n2,\xff\xfe\xfd broken\n3,also good\n")
    recs = list(open_input(str(bad)))
    assert [r.ok for r in recs] == [True, False, True]
    assert recs[1].error == f"undecodable bytes in 'text' ({bad}:3)"


def test_tsv_and_text_column(tmp_path: Path) -> None:
    p = tmp_path / "t.tsv"
    p.write_text("内容\t编号\n甲\tA\n", encoding="utf-8")
    (r,) = list(open_input(str(p), text_column="内容", id_column="编号"))
    assert (r.id, r.text) == ("A", "甲")


def test_csv_cell_over_the_default_field_limit_keeps_its_id(tmp_path: Path) -> None:
    # csv's default limit is 131,072 characters: a longer cell used to become a "malformed CSV row", id lost
    long_text = ("执法办案管理中心" * 25_000)[:200_000]
    p = tmp_path / "long.csv"
    with p.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["id", "text"], ["short", "甲"], ["long", long_text], ["after", "乙"]])
    limit = csv.field_size_limit()
    recs = list(open_input(str(p)))
    assert [(r.id, r.ok) for r in recs] == [("short", True), ("long", True), ("after", True)]
    assert recs[1].text == long_text and recs[2].where == f"{p}:4"
    assert csv.field_size_limit() == limit  # the process-wide limit is restored
    # a reader suspended mid-file leaves the limit as it found it too
    it = iter(open_input(str(p)))
    next(it)
    assert csv.field_size_limit() == limit
    assert next(it).text == long_text


def test_missing_column_names_it_and_lists_available(tmp_path: Path) -> None:
    p = tmp_path / "m.csv"
    p.write_text("id,body\n1,x\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        open_input(str(p))
    assert str(ei.value) == f"{p}: no text column 'text' (columns: 'id', 'body')"
    with pytest.raises(InputError, match="no id column 'key'"):
        open_input(str(p), text_column="body", id_column="key")


def test_xlsx_streams_rows(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["编号", "text"])
    ws.append([1, "推行“N+辅助”集约化工作模式"])
    ws.append([2, None])
    ws.append([None, None])  # blank row: not a record
    ws.append([3, 12.5])
    ws.append([None, "无编号"])
    p = tmp_path / "x.xlsx"
    wb.save(p)
    with pytest.raises(InputError, match=r"no text column 'body' \(columns: '编号', 'text'\)"):
        open_input(str(p), text_column="body")
    recs = list(open_input(str(p), id_column="编号"))
    assert [r.id for r in recs] == [1, 2, 3, f"{p}:6"]
    assert recs[0].text == "推行“N+辅助”集约化工作模式"
    assert recs[1].error == f"missing 'text' ({p}:3)"
    assert recs[2].error == f"'text' is a number, not text ({p}:5)"


def test_unknown_type_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown file type '\.pdf'.*\.jsonl"):
        input_kind("a.pdf")
    with pytest.raises(InputError, match="no file suffix"):
        open_input(str(tmp_path / "noext"))
    with pytest.raises(InputError, match="no such file"):
        open_input(str(tmp_path / "gone.jsonl"))
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        open_input(str(tmp_path / "d.csv"))
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InputError, match=r"broken\.xlsx: not a readable \.xlsx"):
        open_input(str(bad))


def test_decode_bytes_encodings() -> None:
    s = "盐城市公安局\r\n執法"
    assert decode_bytes(s.encode("utf-8")) == s
    assert decode_bytes(b"\xef\xbb\xbf" + s.encode("utf-8")) == s
    assert decode_bytes(s.encode("utf-16")) == s  # with BOM
    assert decode_bytes(s.encode("gb18030")) == s
    with pytest.raises(InputError, match=r"f\.txt: line 2: undecodable"):
        decode_bytes(b"ok\n\x81\x20\xff", where="f.txt")


def test_read_text_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_text_file(tmp_path / "none.txt")
    p = tmp_path / "q.txt"
    p.write_bytes("查询".encode("gb18030"))
    assert read_text_file(p) == "查询"


def test_atomic_output_commit_and_abort(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")
    w = open_output(out, "jsonl")
    w.write({"id": "a", "tags": []})
    # nothing replaced yet: the old file is intact, a temp file sits beside it
    assert out.read_text(encoding="utf-8") == "old\n"
    assert len(list(tmp_path.glob(".out.jsonl.*.tmp"))) == 1
    w.abort()
    assert out.read_text(encoding="utf-8") == "old\n"
    assert list(tmp_path.glob("*.tmp")) == []

    with open_output(out, "jsonl") as w:
        w.write({"id": "a", "tags": [], "note": "中文"})
    assert json.loads(out.read_text(encoding="utf-8")) == {"id": "a", "tags": [], "note": "中文"}
    assert list(tmp_path.glob("*.tmp")) == []

    with pytest.raises(KeyboardInterrupt), open_output(out, "jsonl") as w:
        w.write({"id": "b"})
        raise KeyboardInterrupt
    assert list(tmp_path.glob("*.tmp")) == []
    assert json.loads(out.read_text(encoding="utf-8"))["id"] == "a"


def test_csv_output_rows(tmp_path: Path) -> None:
    out = tmp_path / "o.csv"
    with open_output(out, "csv", codes=["digitalisation", "coordination"], meta_fields=["case_id"]) as w:
        w.write({"id": "x1", "case_id": "c1", "tags": [{"code": "coordination", "score": 0.7}]})
        w.write({"id": "x2", "error": "empty 'text' (f:2)"})
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows == [
        ["id", "case_id", "categories", "digitalisation", "coordination", "error"],
        ["x1", "c1", "coordination", "0.0", "0.7", ""],
        ["x2", "", "", "0.0", "0.0", "empty 'text' (f:2)"],
    ]


def test_resume_drops_truncated_tail(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    full = "".join(json.dumps({"id": f"r{i}", "tags": []}) + "\n" for i in range(5))
    out.write_text(full[:-9], encoding="utf-8")  # a crash cut the last record in half
    done = read_done_ids(out, "jsonl")
    assert done == {"r0", "r1", "r2", "r3"}
    assert out.read_text(encoding="utf-8") == full[: full.index('{"id": "r4"')]
    with open_output(out, "jsonl", resume=True) as w:
        w.write({"id": "r4", "tags": []})
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == [
        f"r{i}" for i in range(5)
    ]
    assert read_done_ids(tmp_path / "absent.jsonl", "jsonl") == set()


def test_resume_bad_middle_line_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    out.write_text('{"id": "a"}\ngarbage\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"r\.jsonl:2: cannot resume"):
        read_done_ids(out, "jsonl")


def test_resume_csv(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    out.write_text(
        "id,categories,digitalisation,error\na,,0.0,\nb,digitalisation,0.9,\nc,dig", encoding="utf-8"
    )
    assert read_done_ids(out, "csv") == {"a", "b"}
    with open_output(out, "csv", codes=["digitalisation"], resume=True) as w:
        w.write({"id": "c", "tags": []})
    assert out.read_text(encoding="utf-8").splitlines()[-1] == "c,,0.0,"
    with pytest.raises(InputError, match="cannot resume: its columns differ"):
        open_output(out, "csv", codes=["digitalisation", "coordination"], resume=True)


@pytest.mark.slow
def test_streaming_memory_is_flat(tmp_path: Path) -> None:
    """~16 MB of JSONL through reader and writer: traced memory stays far below the file size."""
    p = tmp_path / "big.jsonl"
    line = json.dumps({"id": "", "text": TEXT * 4}, ensure_ascii=False)
    with p.open("w", encoding="utf-8") as f:
        for i in range(40_000):
            f.write(line.replace('"id": ""', f'"id": "r{i}"') + "\n")
            if i % 997 == 0:
                f.write("{broken\n")
    size = p.stat().st_size
    assert size > 15_000_000
    out = tmp_path / "big.out.jsonl"
    tracemalloc.start()
    try:
        n = 0
        with open_output(out, "jsonl") as w:
            for r in open_input(str(p)):
                w.write({"id": r.id, "error": r.error} if r.error else {"id": r.id, "n": len(r.text)})
                n += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 40_000 + 41
    assert peak < 2_000_000, f"peak traced memory {peak:,} B for a {size:,} B file"
    with out.open(encoding="utf-8") as f:
        assert sum(1 for _ in f) == n
