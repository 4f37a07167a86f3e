"""Word .docx inputs (python-docx writes the files here): paragraphs as a collection, a 申报表 whose content
sits in a table (merged cells), a list table, mixed documents, empty ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from yanreform.errors import InputError
from yanreform.io import open_input, read_document_text

docx = pytest.importorskip("docx")

LEAD = "该局深入推进执法规范化建设，打造“智慧法鹰”执法监督体系。"
MEASURE_1 = "搭建综合支撑平台。全面整合警综平台、执法公示平台等办案相关平台，实现各类系统的一键登录。"
MEASURE_2 = "配强专业调解团队。按照“1名专职调解员+1名辅助人员”模式开展诉前调解，化解矛盾纠纷。"
INTRO = "近年来，该院聚焦群众诉讼需求，建设一站式诉讼服务中心，实现立案、调解、送达一站通办。"
RESULT = "2024年以来，诉前化解纠纷1200余件，群众满意度明显提升。"


def form_document(p: Path, *, title_paragraph: bool = True) -> None:
    """A 申报表: a heading paragraph, then a table of labelled cells (some merged), the text in cells."""
    d = docx.Document()
    if title_paragraph:
        d.add_paragraph("2024年度政法改革项目申报表")
    t = d.add_table(rows=6, cols=4)
    t.cell(0, 0).text = "申报单位"
    t.cell(0, 1).merge(t.cell(0, 3)).text = "某某县人民法院"  # one value across three columns
    t.cell(1, 0).text = "项目名称"
    t.cell(1, 1).merge(t.cell(1, 3)).text = "打造一站式诉讼服务新模式"
    t.cell(2, 0).text = "联系人"
    t.cell(2, 1).text = "张三"
    t.cell(2, 2).text = "电话"
    t.cell(2, 3).text = "0515-12345678"
    t.cell(3, 0).merge(t.cell(4, 0)).text = "项目简介（300字以内）"  # a label spanning two rows
    t.cell(3, 1).merge(t.cell(3, 3)).text = INTRO
    t.cell(4, 1).merge(t.cell(4, 3)).text = MEASURE_2
    t.cell(5, 0).text = "工作成效"
    t.cell(5, 1).merge(t.cell(5, 3)).text = RESULT
    d.save(p)


def test_form_table_gives_agency_title_and_text(tmp_path: Path) -> None:
    p = tmp_path / "申报表.docx"
    form_document(p)
    (r,) = list(open_input(str(p)))
    assert r.ok and r.id == f"{p}:t1" and r.where == f"{p}:table 1"
    assert r.meta == {"agency": "某某县人民法院", "title": "打造一站式诉讼服务新模式"}
    assert r.text == "\n".join([INTRO, MEASURE_2, RESULT])  # each merged cell read once
    assert r.fields["联系人"] == "张三" and r.fields["电话"] == "0515-12345678"
    assert r.text.count(INTRO) == 1


def test_list_table_gives_a_record_per_row(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_paragraph("附件：案例汇总表")
    t = d.add_table(rows=3, cols=3)
    for c, h in enumerate(["单位", "案例名称", "主要做法"]):
        t.cell(0, c).text = h
    t.cell(1, 0).text, t.cell(1, 1).text, t.cell(1, 2).text = "盐城市公安局", "智慧法鹰", MEASURE_1
    t.cell(2, 0).text, t.cell(2, 1).text, t.cell(2, 2).text = "某某县人民法院", "诉前调解", ""
    p = tmp_path / "list.docx"
    d.save(p)
    recs = list(open_input(str(p)))
    assert [r.id for r in recs] == [f"{p}:t1r2", f"{p}:t1r3"]
    assert recs[0].text == MEASURE_1 and recs[0].meta == {"agency": "盐城市公安局", "title": "智慧法鹰"}
    assert recs[1].error == f"empty '主要做法' ({p}:table 1, row 3)"


def test_paragraph_collection_and_flat_and_empty_documents(tmp_path: Path) -> None:
    d = docx.Document()
    for para in ["某某县公安局", "打造“智慧法鹰”", LEAD, MEASURE_1, MEASURE_2]:
        d.add_paragraph(para)
    col = tmp_path / "case.docx"
    d.save(col)
    recs = list(open_input(str(col)))
    assert [r.id for r in recs] == ["case-01-i1", "case-01-i2"]
    assert recs[0].meta["agency"] == "某某县公安局" and recs[0].meta["heading"] == "搭建综合支撑平台。"
    assert recs[0].fields == recs[0].meta
    (case,) = list(open_input(str(col), level="case"))
    assert case.id == "case-01" and LEAD in case.text and MEASURE_2 in case.text

    flat = tmp_path / "flat.docx"
    d = docx.Document()
    d.add_paragraph(INTRO)
    d.save(flat)
    (r,) = list(open_input(str(flat)))
    assert (r.id, r.text) == (f"{flat}:1", INTRO)

    empty = tmp_path / "empty.docx"
    docx.Document().save(empty)
    (r,) = list(open_input(str(empty)))
    assert not r.ok and r.error == f"empty document ({empty})"


def test_document_with_body_text_and_a_form_gives_both(tmp_path: Path) -> None:
    p = tmp_path / "mixed.docx"
    form_document(p, title_paragraph=False)
    d = docx.Document(str(p))
    d.add_paragraph(INTRO + MEASURE_1)
    d.save(p)
    recs = list(open_input(str(p)))
    assert [r.id for r in recs] == [f"{p}:1", f"{p}:t1"]
    assert recs[0].text.startswith(INTRO)
    text = read_document_text(str(p))
    assert INTRO in text and MEASURE_2 in text


def test_plain_table_is_read_as_text(tmp_path: Path) -> None:
    d = docx.Document()
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text = INTRO
    t.cell(0, 1).text = MEASURE_1
    p = tmp_path / "t.docx"
    d.save(p)
    (r,) = list(open_input(str(p)))
    assert r.text == f"{INTRO}\t{MEASURE_1}"


def test_broken_docx(tmp_path: Path) -> None:
    p = tmp_path / "bad.docx"
    p.write_bytes(b"PK not really")
    with pytest.raises(InputError, match=r"bad\.docx: not a readable \.docx document"):
        open_input(str(p))
