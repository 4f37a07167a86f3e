"""Collection .txt inputs: the one id rule (file stem), page-number lines, single submissions, empty files."""

from __future__ import annotations

from pathlib import Path

import pytest

from yanreform.corpus import is_page_number, parse_collection, read_collection
from yanreform.io import open_input

CASE = """某市公安局
打造“智慧法鹰”持续深化法治公安建设
该局以数据赋能执法监督，推进执法规范化建设，打造“智慧法鹰”执法监督体系。
搭建综合支撑平台。全面整合警综平台、执法公示平台，实现各类系统的一键登录。
强化执法监督管理。依托执法办案管理中心，对案件办理全流程实时监督。
该局相关做法被省公安厅推广，执法质量考评连续三年位居全省前列。
"""


@pytest.mark.parametrize(
    "line", ["- 2 -", "—2—", "－ 12 －", "第 2 页", "第2页 共10页", "2/10", "Page 3 of 9", "7"]
)
def test_page_number_lines(line: str) -> None:
    assert is_page_number(line)


@pytest.mark.parametrize("line", ["1.", "一、", "2024年", "第二部分", "- 主要做法 -"])
def test_not_page_number_lines(line: str) -> None:
    assert not is_page_number(line)


def test_page_number_is_not_in_the_outcome_or_any_text() -> None:
    plain = parse_collection(CASE)
    paged = parse_collection(CASE.replace("强化执法", "- 2 -\n强化执法") + "\n- 3 -\n")
    assert plain[0].outcome.startswith("该局相关做法") and paged[0].outcome == plain[0].outcome
    assert paged[0].initiatives[0].text == plain[0].initiatives[0].text
    assert "- 3 -" not in paged[0].text and all("- 3 -" not in i.text for i in paged[0].initiatives)
    assert paged[0].initiatives[1].heading == "强化执法监督管理。"


def test_one_id_rule_for_files(tmp_path: Path) -> None:
    p = tmp_path / "盐城 2025.txt"
    p.write_text(CASE, encoding="utf-8")
    corpus = read_collection(p)
    assert corpus[0].id == "盐城_2025-01" and corpus[0].initiatives[0].id == "盐城_2025-01-i1"
    recs = list(open_input(str(p)))
    assert [r.id for r in recs] == [i.id for i in corpus[0].initiatives]
    assert recs[0].fields == {
        "case_id": "盐城_2025-01",
        "agency": "某市公安局",
        "title": corpus[0].title,
        "heading": "搭建综合支撑平台。",
    }
    assert read_collection(p, id_prefix="sz").ids == ["sz-01"]
    assert parse_collection(CASE).ids == ["case-01"]  # a string has no file name
    (case,) = list(open_input(str(p), level="case"))
    assert case.id == "盐城_2025-01" and case.text == corpus[0].text and "heading" not in case.fields


def test_single_submission_and_empty_text_files(tmp_path: Path) -> None:
    flat = tmp_path / "one.txt"
    flat.write_text("建立府院联动机制，与政府部门定期会商，共同化解行政争议。", encoding="gb18030")
    (r,) = list(open_input(str(flat)))
    assert (r.id, r.text) == (f"{flat}:1", "建立府院联动机制，与政府部门定期会商，共同化解行政争议。")
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n\n", encoding="utf-8")
    (r,) = list(open_input(str(empty)))
    assert not r.ok and r.error == f"empty document ({empty})"
