"""Legacy Word .doc and Kingsoft .wps inputs through the converters found on the machine.

The .doc is made in the test by LibreOffice headless from a .docx written with python-docx (LibreOffice,
antiword and catdoc come from scripts/system-deps.sh office, which scripts/run.sh runs before the tests);
the tests that need a converter skip, naming it, where it is not installed. Kingsoft WPS Writer's .wps is
the Word 97 binary format under another suffix, so a copy of the .doc stands in for one.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from yanreform.errors import InputError
from yanreform.io import open_input
from yanreform.io.readers.word import available_converters, legacy_records

docx = pytest.importorskip("docx")

PARAS = [
    "某某县公安局",
    "打造“智慧法鹰”持续深化法治公安建设",
    "该局深入推进执法规范化建设，打造“智慧法鹰”执法监督体系，以数据赋能执法监督，"
    "推动执法办案从经验驱动向数据驱动转变，执法质量和执法公信力持续提升。",
    "搭建综合支撑平台。全面整合警综平台、执法公示平台等办案相关平台，实现各类系统的一键登录，"
    "打通数据壁垒，办案民警在一个界面即可完成受案、立案、审核、卷宗流转等全部环节。",
    "配强专业调解团队。按照“1名专职调解员+1名辅助人员”模式开展诉前调解，化解矛盾纠纷，"
    "对调解不成的案件及时转入诉讼程序，做到快立快审，当事人诉累明显减轻。",
]
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def test_no_converter_names_what_to_install(tmp_path: Path) -> None:
    p = tmp_path / "old.doc"
    p.write_bytes(b"\xd0\xcf\x11\xe0 not really")
    with pytest.raises(InputError) as ei:
        legacy_records(p, str(p), converters=[])
    assert str(ei.value) == (
        f"{p}: reading .doc files needs a converter: install LibreOffice (apt-get install "
        "libreoffice-writer-nogui), antiword or catdoc, or save the file as .docx"
    )


@pytest.mark.skipif(
    not shutil.which("antiword"), reason="antiword is not installed (scripts/system-deps.sh office)"
)
def test_a_converter_that_cannot_read_the_file_says_so(tmp_path: Path) -> None:
    p = tmp_path / "old.wps"
    p.write_bytes(b"plain bytes, not a Word file")
    with pytest.raises(InputError, match=r"old\.wps: antiword could not read it"):
        legacy_records(p, str(p), converters=["antiword"])


@pytest.fixture(scope="module")
def doc_file(tmp_path_factory) -> Path:
    if SOFFICE is None:
        pytest.skip(
            "LibreOffice is not installed (scripts/system-deps.sh office installs it): no .doc can be made"
        )
    folder = tmp_path_factory.mktemp("legacy")
    d = docx.Document()
    for para in PARAS:
        d.add_paragraph(para)
    src = folder / "案例.docx"
    d.save(src)
    profile = (folder / "profile").as_uri()
    r = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "doc",
            "--outdir",
            str(folder),
            str(src),
        ],
        capture_output=True,
        timeout=300,
    )
    out = folder / "案例.doc"
    assert r.returncode == 0 and out.exists(), r.stderr.decode(errors="replace")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["soffice", "antiword", "catdoc"])
def test_doc_through_each_converter(doc_file: Path, tool: str) -> None:
    if tool not in available_converters():
        pytest.skip(f"{tool} is not installed (scripts/system-deps.sh office)")
    recs = legacy_records(doc_file, str(doc_file), converters=[tool])
    assert [r.id for r in recs] == ["案例-01-i1", "案例-01-i2"]
    assert recs[0].meta["agency"] == "某某县公安局" and recs[0].meta["title"] == PARAS[1]
    assert recs[0].text.startswith("搭建综合支撑平台。") and recs[1].text.startswith("配强专业调解团队。")


@pytest.mark.slow
def test_doc_and_wps_through_open_input(doc_file: Path, tmp_path: Path) -> None:
    recs = list(open_input(str(doc_file)))
    assert len(recs) == 2 and all(r.ok for r in recs)
    wps = tmp_path / "申报.wps"
    shutil.copyfile(doc_file, wps)
    recs = list(open_input(str(wps)))
    assert [r.id for r in recs] == ["申报-01-i1", "申报-01-i2"]
