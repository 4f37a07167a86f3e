"""Spreadsheet inputs: .xlsx (openpyxl) and .xls (xlwt writes the file here, xlrd reads it): every sheet or
one, a title row above the header, --header-row, dates, records in == records out."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from yanreform.errors import InputError, MissingColumnError
from yanreform.io import open_input

TITLE = "2024年政法改革案例汇总表"
HEADER = ["序号", "单位", "案例名称", "简介", "申报日期"]
ROWS_A = [
    [1, "盐城市公安局", "打造“智慧法鹰”", "建设执法办案管理中心，实现一站式办案。", dt.datetime(2024, 3, 1)],
    [
        2,
        "盐城市中级人民法院",
        "推进府院联动",
        "与政府部门建立联动机制，化解行政争议。",
        dt.datetime(2024, 3, 2),
    ],
    [None, None, None, None, None],  # an empty row: not a record
    [3, "滨海县司法局", "普法宣传进万家", None, None],  # no text: an error record
]
ROWS_B = [[4, "射阳县人民检察院", "公益诉讼", "开展生态环境保护公益诉讼，修复受损湿地。", None]]


def make_xlsx(p: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "市直单位"
    ws.append([TITLE])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws.append(HEADER)
    for r in ROWS_A:
        ws.append(r)
    ws2 = wb.create_sheet("县区")
    ws2.append(HEADER)  # no title row on this sheet
    for r in ROWS_B:
        ws2.append(r)
    ws3 = wb.create_sheet("填表说明")
    ws3.append(["说明"])
    ws3.append(["请按要求填写。"])
    wb.create_sheet("空白")
    wb.save(p)


def make_xls(p: Path) -> None:
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    ws = wb.add_sheet("市直单位")
    ws.write_merge(0, 0, 0, len(HEADER) - 1, TITLE)
    for c, h in enumerate(HEADER):
        ws.write(1, c, h)
    for r, row in enumerate(ROWS_A, 2):
        for c, v in enumerate(row):
            if v is None:
                continue
            ws.write(r, c, v, date_style) if isinstance(v, dt.datetime) else ws.write(r, c, v)
    ws2 = wb.add_sheet("县区")
    for c, h in enumerate(HEADER):
        ws2.write(0, c, h)
    for r, row in enumerate(ROWS_B, 1):
        for c, v in enumerate(row):
            if v is not None:
                ws2.write(r, c, v)
    ws3 = wb.add_sheet("填表说明")
    ws3.write(0, 0, "说明")
    ws3.write(1, 0, "请按要求填写。")
    wb.save(str(p))


@pytest.fixture(params=["xlsx", "xls"])
def workbook(request, tmp_path: Path) -> Path:
    p = tmp_path / f"汇总表.{request.param}"
    (make_xlsx if request.param == "xlsx" else make_xls)(p)
    return p


def test_all_sheets_title_row_and_fields(workbook: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="yanreform"):
        src = open_input(str(workbook), text_column="简介", id_column="序号")
    assert "sheet '填表说明' has no column '简介': skipped" in caplog.text
    recs = list(src)
    assert [r.id for r in recs] == [1, 2, 3, 4]
    assert [r.ok for r in recs] == [True, True, False, True]
    assert recs[0].text == ROWS_A[0][3] and recs[3].text == ROWS_B[0][3]
    assert recs[0].where == f"{workbook}[市直单位]:3" and recs[3].where == f"{workbook}[县区]:2"
    assert recs[2].error == f"missing '简介' ({workbook}[市直单位]:6)"
    assert recs[0].fields["单位"] == "盐城市公安局" and recs[0].fields["sheet"] == "市直单位"
    assert recs[0].fields["申报日期"].startswith("2024-03-01")
    assert recs[3].fields["sheet"] == "县区"
    assert src.columns == HEADER


def test_one_sheet_and_header_row(workbook: Path) -> None:
    recs = list(open_input(str(workbook), text_column="简介", sheet="县区"))
    assert [r.text for r in recs] == [ROWS_B[0][3]]
    recs = list(open_input(str(workbook), text_column="简介", sheet="市直单位", header_row=2))
    assert len(recs) == 3
    with pytest.raises(InputError, match=r"no sheet '其他' \(sheets: '市直单位', '县区', '填表说明'"):
        open_input(str(workbook), text_column="简介", sheet="其他")
    with pytest.raises(MissingColumnError, match=r"no text column '简介' .*in sheet '填表说明'"):
        open_input(str(workbook), text_column="简介", sheet="填表说明")
    with pytest.raises(
        MissingColumnError, match=r"no sheet has the column 'text' \('市直单位': '序号', '单位'"
    ):
        open_input(str(workbook))


def test_single_sheet_names_keep_file_line(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["全省汇总"])
    ws.append(["id", "text"])
    ws.append(["a", "设立一站式诉讼服务中心。"])
    p = tmp_path / "one.xlsx"
    wb.save(p)
    (r,) = list(open_input(str(p)))
    assert (r.id, r.where, "sheet" in r.fields) == ("a", f"{p}:3", False)
    with pytest.raises(MissingColumnError) as ei:
        open_input(str(p), text_column="内容")
    assert str(ei.value) == f"{p}: no text column '内容' in header row 2 (columns: 'id', 'text')"


def test_broken_xls(tmp_path: Path) -> None:
    pytest.importorskip("xlrd")
    p = tmp_path / "bad.xls"
    p.write_bytes(b"not an excel file at all")
    with pytest.raises(InputError, match=r"bad\.xls: not a readable \.xls workbook"):
        open_input(str(p))
