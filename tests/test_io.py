"""Streaming readers and writers of yanreform.io (no model needed)."""

from __future__ import annotations

import csv
import io
import json
import os
import tracemalloc
from pathlib import Path

import pytest

from yanreform.errors import InputError, MissingColumnError
from yanreform.io import (
    decode_bytes,
    input_kind,
    open_input,
    output_format,
    read_text_file,
    write_output,
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
    with pytest.raises(InputError, match=r"unknown file type '\.odt'.*\.pdf.*\.xls"):
        input_kind("a.odt")
    assert [input_kind(f"a{x}") for x in (".pdf", ".doc", ".WPS", ".xls", ".docx")] == [
        "pdf",
        "doc",
        "doc",
        "xls",
        "docx",
    ]
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


def test_jsonl_without_the_text_field_is_refused_when_opened(tmp_path: Path) -> None:
    p = tmp_path / "w.jsonl"
    p.write_text("\n".join(json.dumps({"id": i, "body": "甲"}) for i in range(80)) + "\n", encoding="utf-8")
    with pytest.raises(MissingColumnError) as ei:
        open_input(str(p))
    assert str(ei.value) == (
        f"{p}: no text field 'text' in its first 50 records (fields: 'id', 'body'); "
        "name it with --text-column"
    )
    assert len(list(open_input(str(p), text_column="body"))) == 80
    # present in some of the first records: the others become error records, as before
    q = tmp_path / "q.jsonl"
    q.write_text('{"id": 1, "body": "x"}\n{"id": 2, "text": "乙"}\n', encoding="utf-8")
    recs = list(open_input(str(q)))
    assert [r.ok for r in recs] == [False, True] and recs[0].error == f"missing 'text' ({q}:1)"
    # stdin: the lines read for the check are not lost
    data = b'{"id": "a", "text": "\xe4\xb8\x80"}\n{"id": "b", "text": "\xe4\xba\x8c"}\n'
    assert [r.text for r in open_input("-", stdin=io.BytesIO(data))] == ["一", "二"]
    with pytest.raises(MissingColumnError, match="<stdin>: no text field 'body'"):
        open_input("-", stdin=io.BytesIO(data), text_column="body")


def test_csv_title_row_and_header_row(tmp_path: Path) -> None:
    p = tmp_path / "汇总表.csv"
    p.write_text(
        "2024年政法改革案例汇总表,,\n序号,单位,简介\n1,盐城市公安局,建设执法办案中心。\n", "utf-8-sig"
    )
    (r,) = list(open_input(str(p), text_column="简介", id_column="序号"))
    assert (r.id, r.text, r.where, r.fields["单位"]) == ("1", "建设执法办案中心。", f"{p}:3", "盐城市公安局")
    (r,) = list(open_input(str(p), text_column="简介", header_row=2))
    assert r.text == "建设执法办案中心。"
    with pytest.raises(InputError, match="no text column '简介'"):
        open_input(str(p), text_column="简介", header_row=1)


FORMAT_CASES = [
    ("out.jsonl", None, "jsonl"),
    ("out.CSV", None, "csv"),
    ("out.tsv", None, "tsv"),
    ("out.xlsx", None, "xlsx"),
    ("out.dat", "csv", "csv"),
    (None, None, "jsonl"),
    (None, "tsv", "tsv"),
]


@pytest.mark.parametrize(("path", "fmt", "expected"), FORMAT_CASES)
def test_output_format_by_suffix(path, fmt, expected) -> None:
    assert output_format(path, fmt) == expected


def test_output_format_errors() -> None:
    with pytest.raises(InputError, match=r"result\.xlsx: --format csv does not match the suffix \.xlsx"):
        output_format("result.xlsx", "csv")
    with pytest.raises(
        InputError, match=r"unknown output suffix '\.txt'; use \.jsonl, \.csv, \.tsv or \.xlsx"
    ):
        output_format("result.txt")
    with pytest.raises(InputError, match=r"needs -o OUT\.xlsx"):
        output_format(None, "xlsx")


OUT_RECORDS = [
    {
        "id": "x1",
        "agency": "盐城市公安局",
        "n": 3,
        "tags": [
            {
                "code": "digitalisation",
                "name": "数字赋能",
                "score": 0.9312,
                "evidence": [
                    {"start": 0, "end": 3, "text": "大数据", "source": "lexicon", "term": "大数据"},
                    {"start": 5, "end": 7, "text": "平台", "source": "lexicon", "term": "平台"},
                    {"start": 9, "end": 12, "text": "大数据", "source": "lexicon", "term": "大数据"},
                ],
            },
            {"code": "coordination", "name": "协同联动", "score": 0.7, "evidence": [], "evidence_omitted": 4},
        ],
        "text": "大数据……",
    },
    {"id": 2, "agency": "法院", "error": "empty 'text' (f:2)"},
]
CODES = ["digitalisation", "coordination", "supervision"]
HEADER = ["id", "agency", "n", "categories", "类别", *CODES, "evidence", "text", "error"]
ROW1 = [
    "x1",
    "盐城市公安局",
    "3",
    "digitalisation;coordination",
    "数字赋能、协同联动",
    "0.9312",
    "0.7",
    "0.0",
]
EVIDENCE1 = "数字赋能：大数据、平台；协同联动：等4处"


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_csv_and_tsv_output_read_back(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"o.{fmt}"
    n = write_output(out, iter(OUT_RECORDS), fmt, codes=CODES, fields=["agency", "n"], with_text=True)
    assert n == 2
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (fmt == "csv")  # Excel on Chinese Windows needs the BOM
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter="," if fmt == "csv" else "\t"))
    assert rows[0] == HEADER
    assert rows[1] == [*ROW1, EVIDENCE1, "大数据……", ""]
    assert rows[2] == ["2", "法院", "", "", "", "0.0", "0.0", "0.0", "", "", "empty 'text' (f:2)"]
    assert len(rows) == 3


def test_xlsx_output_read_back(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "o.xlsx"
    long_text = "甲" * 40_000
    recs = [OUT_RECORDS[0], OUT_RECORDS[1], {"id": "t", "text": long_text + "\x01", "tags": []}]
    assert write_output(out, recs, "xlsx", codes=CODES, fields=["agency", "n"], with_text=True) == 3
    wb = openpyxl.load_workbook(out)
    ws = wb.active
    assert wb.sheetnames == ["结果"] and ws.freeze_panes == "B2"
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0] == HEADER
    assert rows[1][:8] == [
        "x1",
        "盐城市公安局",
        3,
        "digitalisation;coordination",
        "数字赋能、协同联动",
        0.9312,
        0.7,
        0,
    ]
    assert rows[1][8] == EVIDENCE1
    assert rows[2][0] == 2 and rows[2][-1] == "empty 'text' (f:2)"
    assert len(rows[3][9]) == 32_767 and rows[3][9].endswith("characters per cell)")
    assert ws.column_dimensions["A"].width == 26 and ws.column_dimensions["I"].width == 60
    assert len(rows) == 4


def test_write_output_is_atomic_and_follows_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")

    def boom():
        yield {"id": "a", "tags": []}
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_output(out, boom(), "jsonl")
    assert out.read_text(encoding="utf-8") == "old\n" and list(tmp_path.glob(".*.tmp")) == []
    old = os.umask(0o027)
    try:
        write_output(out, [{"id": "a", "tags": [], "note": "中文"}], "jsonl")
    finally:
        os.umask(old)
    assert json.loads(out.read_text(encoding="utf-8")) == {"id": "a", "tags": [], "note": "中文"}
    assert out.stat().st_mode & 0o777 == 0o640
    with pytest.raises(InputError, match="is a folder"):
        write_output(tmp_path, [], "jsonl")
    with pytest.raises(InputError, match="does not exist"):
        write_output(tmp_path / "no" / "o.csv", [], "csv")


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
        recs = (
            {"id": r.id, "error": r.error} if r.error else {"id": r.id, "n": len(r.text)}
            for r in open_input(str(p))
        )
        n = write_output(out, recs, "jsonl")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 40_000 + 41
    assert peak < 2_000_000, f"peak traced memory {peak:,} B for a {size:,} B file"
    with out.open(encoding="utf-8") as f:
        assert sum(1 for _ in f) == n
