"""PDF inputs (reportlab writes real PDFs here, with a Chinese CID font; pypdf reads them): a collection over
two pages with page-number footers, a single submission, a scanned PDF (no text layer), a broken file."""

from __future__ import annotations

from pathlib import Path

import pytest

from yanreform.errors import InputError
from yanreform.io import open_input, read_document_text

pytest.importorskip("pypdf")
canvas_mod = pytest.importorskip("reportlab.pdfgen.canvas")

PAGE_1 = [
    "2024年某市政法改革案例简介",
    "",
    "某市公安局",
    "打造“智慧法鹰”持续深化法治公安建设",
    "该局以数据赋能执法监督，推进执法规范化建设。",
    "搭建综合支撑平台。全面整合警综平台、执法公示平台，实现各类系统的一键登录。",
]
PAGE_2 = [
    "强化执法监督管理。依托执法办案管理中心，对案件办理全流程实时监督。",
    "",
    "某县人民法院",
    "推进诉前调解",
    "该院配强专业调解团队，开展诉前调解，化解矛盾纠纷。",
    "建立府院联动机制。与政府部门定期会商，共同化解行政争议。",
]


def make_pdf(p: Path, pages: list[list[str]], *, footer: bool = True) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas_mod.Canvas(str(p))
    for n, lines in enumerate(pages, 1):
        c.setFont("STSong-Light", 11)
        y = 780
        for line in lines:
            if line:
                c.drawString(60, y, line)
            y -= 22
        if footer:
            c.drawString(290, 40, f"- {n} -")
        c.showPage()
    c.save()


def test_collection_pdf_with_page_numbers(tmp_path: Path) -> None:
    p = tmp_path / "汇编.pdf"
    make_pdf(p, [PAGE_1, PAGE_2])
    recs = list(open_input(str(p)))
    assert [r.id for r in recs] == ["汇编-01-i1", "汇编-01-i2", "汇编-02-i1"]
    assert [r.meta["agency"] for r in recs] == ["某市公安局", "某市公安局", "某县人民法院"]
    assert recs[0].meta["heading"] == "搭建综合支撑平台。" and recs[1].meta["heading"] == "强化执法监督管理。"
    assert all("- 1 -" not in r.text and "- 2 -" not in r.text for r in recs)
    assert recs[2].text.startswith("建立府院联动机制。")
    text = read_document_text(str(p))
    assert "- 2 -" not in text and "某县人民法院" in text


def test_single_submission_pdf(tmp_path: Path) -> None:
    p = tmp_path / "one.pdf"
    make_pdf(p, [[PAGE_2[4], PAGE_2[5]]], footer=False)
    (r,) = list(open_input(str(p)))
    assert r.id == f"{p}:1" and r.text == f"{PAGE_2[4]}\n{PAGE_2[5]}"


def test_scanned_pdf_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "scan.pdf"
    c = canvas_mod.Canvas(str(p))
    for _ in range(2):  # pages that are pictures: drawn shapes, no text
        c.rect(50, 50, 400, 600, fill=1)
        c.showPage()
    c.save()
    with pytest.raises(InputError) as ei:
        open_input(str(p))
    msg = str(ei.value)
    assert msg.startswith(f"{p}: no text layer in its 2 pages (a scanned PDF?)") and "OCR" in msg


def test_broken_pdf(tmp_path: Path) -> None:
    p = tmp_path / "bad.pdf"
    p.write_bytes(b"%PDF-1.4\n garbage")
    with pytest.raises(InputError, match=r"bad\.pdf: (not a readable PDF|the PDF has no pages)"):
        open_input(str(p))
