"""Tests for yanreform.corpus: the bundled collection, a collection written for the tests in several
encodings and layouts, structural variants, bad input and a small fuzz run."""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path

import pytest

import yanreform
from yanreform import InputError, ParseError
from yanreform.corpus import Case, Corpus, Initiative, load_corpus, parse_collection, read_collection

DATA = Path(__file__).parent / "data"
SAMPLE = (DATA / "yunxi-2025-sample.txt").read_text(encoding="utf-8")

BUNDLED_AGENCIES = [
    "盐城市公安局",
    "阜宁县人民法院",
    "建湖县人民检察院",
    "射阳县公安局",
    "亭湖区司法局",
    "盐都区司法局",
    "盐都区人民法院",
    "东台市公安局",
    "大丰区人民检察院",
    "盐都区人民法院、大丰区司法局",
]
BUNDLED_TITLES = [
    "打造“智慧法鹰”持续深化法治公安建设",
    "打造“N+辅助”集约化新模式",
    "创新探索轻罪治理机制",
    "健全受立案改革“4×3”机制",
    "构建“法治好参谋”数字平台",
    "一体化推进镇域法治建设",
    "打造“童叟无忧”执行直通平台",
    "升级大数据联合指挥中心",
    "综合履职护航绿色“智造”",
    "坚持“四项联动”赋能溯源治理",
]
BUNDLED_HEADINGS = [
    ["搭建综合支撑平台。", "深化智慧执法办案。", "完善智慧管理机制。", "推进智慧监督建设。"],
    ["该模式实现服务群众优质便捷。", "该模式助力法官办案提速增效。", "该模式推动执行工作高效运转。"],
    ["一体推进组织保障建设。", "创新构建轻罪治理新质态。", "探索轻罪记录淡化处理。"],
    [
        "落实“三个保障”,支撑受立案改革。",
        "紧盯“三个环节”,纵推受立案改革。",
        "压实“三个责任”,共管受立案改革。",
        "实施“三元监督”,规范受立案改革。",
    ],
    ["开通在线履责述评窗口。", "推动部门示范项目建设。", "开展日常履责动态监测。"],
    [
        "在“统”字上下功夫,建强法治建设组织领导机制。",
        "在“融”字上作文章,推出依法治镇分析研判机制。",
        "在“新”字上求突破,建立基层法治观察闭环机制。",
    ],
    ["专班保障,在“点”上强基固本。", "创新机制,在“线”上提档加速。", "统筹联动,在“网”上凝聚智力。"],
    [
        "聚力主动创稳,打造安保维稳新格局。",
        "聚力破案打击,打造合成作战新格局。",
        "聚力社区警务,打造基础管控新格局。",
        "聚力公共安全,打造智慧交管新格局。",
    ],
    ["搭平台,构建保护体系。", "建机制,提升办案质效。", "优服务,凝聚检企合力。"],
    [
        "联动推进行政争议实质化解。",
        "联动推进溯源治理研究。",
        "联动推进精准普法宣传。",
        "联动规范涉企执法行为。",
    ],
]
BUNDLED_OUTCOME_STARTS = {
    "yc2024-03": "该项制度实施以来",
    "yc2024-05": "该数字平台项目被",
    "yc2024-06": "根据试点镇",
}

SAMPLE_AGENCIES = [
    ["云溪市公安局"],
    ["松陵县人民法院", "松陵县司法局"],
    ["湖桥区人民检察院"],
    ["柳塘镇司法所"],
]
SAMPLE_HEADINGS = [
    ["整合线上服务入口。", "优化线下服务网点。", "强化数据安全管理。"],
    ["建强县级调解中心。", "完善乡镇调解站点。", "做实村居调解网格。"],
    [""],
    ["分类开展培训。", "", "建立积分激励机制。"],
]


def assert_invariants(corpus: Corpus) -> None:
    """Offsets slice exactly, headings are prefixes, ids follow the scheme, and no body character is lost."""
    for n, case in enumerate(corpus, start=1):
        assert isinstance(case, Case)
        assert case.agencies and all(case.agencies)
        assert case.initiatives, f"{case.id} has no initiative"
        for k, ini in enumerate(case.initiatives, start=1):
            assert isinstance(ini, Initiative)
            assert ini.id == f"{case.id}-i{k}" and ini.case_id == case.id
            assert case.text[ini.start : ini.end] == ini.text
            assert ini.text.startswith(ini.heading)
            assert ini.text == ini.text.strip() and ini.text
        # Every non-whitespace body character belongs to exactly one passage, in order.
        pieces = [case.lead, *(i.text for i in case.initiatives), case.outcome]
        assert re.sub(r"\s", "", "".join(pieces)) == re.sub(r"\s", "", case.text), case.id
        starts = [i.start for i in case.initiatives]
        assert starts == sorted(starts)
        assert not case.lead or case.text.startswith(case.lead)
        assert not case.outcome or case.text.endswith(case.outcome)
        assert case.id.endswith(f"-{n:02d}")


def signature(corpus: Corpus) -> list[tuple]:
    return [
        (
            c.agency,
            c.agencies,
            c.title,
            c.lead,
            [(i.heading, i.text) for i in c.initiatives],
            c.outcome,
            c.text,
        )
        for c in corpus
    ]


# --------------------------------------------------------------------------------------------------
# The bundled collection
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled() -> Corpus:
    return load_corpus()


def test_bundled_cases(bundled: Corpus) -> None:
    assert len(bundled) == 10
    assert bundled.ids == [f"yc2024-{n:02d}" for n in range(1, 11)]
    assert [c.agency for c in bundled] == BUNDLED_AGENCIES
    assert [c.title for c in bundled] == BUNDLED_TITLES
    assert bundled["yc2024-10"].agencies == ["盐都区人民法院", "大丰区司法局"]
    assert all(c.agencies == [c.agency] for c in bundled[:9])
    assert [c.line for c in bundled] == [7, 21, 33, 47, 61, 71, 81, 89, 103, 115]
    assert bundled.name == "yancheng-2024"
    assert bundled.meta["id_prefix"] == "yc2024" and bundled.meta["encoding"] == "utf-8"
    assert bundled.meta["header"] == [
        "标杆引领促改革 守正创新立品牌",
        "——2024年盐城市政法改革培育类入库项目案例简介",
    ]
    assert_invariants(bundled)


def test_bundled_initiatives(bundled: Corpus) -> None:
    assert [len(c.initiatives) for c in bundled] == [4, 3, 3, 4, 3, 3, 3, 4, 3, 4]
    assert sum(1 for _ in bundled.initiatives()) == 34
    assert [[i.heading for i in c.initiatives] for c in bundled] == BUNDLED_HEADINGS
    # Sub-points stay inside their measure.
    shooting = bundled["yc2024-04"].initiatives[0].text
    assert "硬件建设保障,坚持便民导向。" in shooting and "人员充实保障" in shooting
    assert "创新诉前鉴定模式。" in bundled["yc2024-02"].initiatives[0].text
    # Three measures in one paragraph: each runs up to the next headline.
    tinghu = bundled["yc2024-05"].initiatives
    assert tinghu[0].text.endswith("述法全覆盖。") and tinghu[1].text.startswith("推动部门示范项目建设。")
    assert bundled["yc2024-07"].initiatives[2].text.endswith("协助执行80余件。")


def test_bundled_lead_and_outcome(bundled: Corpus) -> None:
    for case in bundled:
        assert case.lead, case.id
        assert case.text.startswith(case.lead)
        if case.id in BUNDLED_OUTCOME_STARTS:
            assert case.outcome.startswith(BUNDLED_OUTCOME_STARTS[case.id])
            assert "\n" not in case.outcome
        else:
            assert case.outcome == "", case.id
    assert bundled["yc2024-01"].lead.startswith("近年来,盐城市公安局")
    assert bundled["yc2024-09"].initiatives[-1].text.endswith("典型案例。")  # headline-led last paragraph


def test_bundled_text_is_exact_slice(bundled: Corpus) -> None:
    raw = (yanreform._resources.corpus_file("yancheng-2024-reform-cases.txt")).read_text(encoding="utf-8")
    pos = 0
    for case in bundled:
        pos = raw.index(case.text, pos)  # the case body appears verbatim, in order
        assert raw.splitlines()[case.line - 1] == case.agency
    assert bundled["yc2024-01"].text.count("\n\n") == 4  # paragraph separators kept as written


def test_passages_and_records(bundled: Corpus) -> None:
    case = bundled["yc2024-03"]
    passages = list(case.passages())
    assert [p[1] for p in passages] == ["lead", "initiative", "initiative", "initiative", "outcome"]
    assert passages[0][0] == "yc2024-03-lead" and passages[-1][0] == "yc2024-03-outcome"
    assert passages[1] == ("yc2024-03-i1", "initiative", case.initiatives[0].text)
    assert [p[1] for p in bundled["yc2024-01"].passages()] == ["lead"] + ["initiative"] * 4
    records = bundled.to_records()
    assert len(records) == 34
    assert records[0] == {
        "case_id": "yc2024-01",
        "agency": "盐城市公安局",
        "title": BUNDLED_TITLES[0],
        "initiative_id": "yc2024-01-i1",
        "heading": "搭建综合支撑平台。",
        "text": bundled[0].initiatives[0].text,
        "start": bundled[0].initiatives[0].start,
        "end": bundled[0].initiatives[0].end,
    }


def test_corpus_access(bundled: Corpus) -> None:
    assert bundled[0] is bundled["yc2024-01"] and bundled[-1].id == "yc2024-10"
    assert [c.id for c in bundled] == bundled.ids
    assert "yc2024-05" in bundled and "yc2024-99" not in bundled
    assert bundled.get("nope") is None
    sub = bundled[2:4]
    assert isinstance(sub, Corpus) and sub.ids == ["yc2024-03", "yc2024-04"]
    with pytest.raises(KeyError, match="yc2024-01"):
        bundled["yc2024-1"]  # close match suggested
    with pytest.raises(IndexError):
        bundled[10]
    with pytest.raises(TypeError):
        bundled[1.5]  # type: ignore[index]
    assert repr(bundled) == "Corpus(name='yancheng-2024', cases=10, initiatives=34)"
    assert "yc2024-08" in repr(bundled[7]) and "东台市公安局" in repr(bundled[7])
    assert repr(bundled[0].initiatives[0]).startswith(
        "Initiative(id='yc2024-01-i1', heading='搭建综合支撑平台。'"
    )
    html_case, html_corpus = bundled[0]._repr_html_(), bundled._repr_html_()
    assert isinstance(html_case, str) and "盐城市公安局" in html_case
    assert isinstance(html_corpus, str) and "东台市公安局" in html_corpus
    assert hash(bundled[0]) == hash(load_corpus()[0]) and bundled[0] == load_corpus()[0]


def test_top_level_names() -> None:
    assert yanreform.load_corpus is load_corpus
    assert yanreform.parse_collection is parse_collection and yanreform.read_collection is read_collection
    assert issubclass(yanreform.ParseError, ValueError)


def test_unknown_corpus_name() -> None:
    with pytest.raises(InputError, match="yancheng-2024"):
        load_corpus("nanjing-2030")


# --------------------------------------------------------------------------------------------------
# A collection written for the tests: header with an issuing body, multi-measure paragraph, single-paragraph
# case, a paragraph without headline, an outcome; several encodings and layouts
# --------------------------------------------------------------------------------------------------


def check_sample(corpus: Corpus) -> None:
    assert_invariants(corpus)
    assert len(corpus) == 4
    assert corpus.meta["header"] == [
        "法治护航促发展 改革创新谱新篇",
        "——2025年云溪市政法领域改革创新案例选编",
        "云溪市委政法委员会",
    ]
    assert [c.agencies for c in corpus] == SAMPLE_AGENCIES
    assert [c.title for c in corpus] == [
        "打造“云端警务”一体化服务平台",
        "构建诉调对接“三级网络”",
        "守护未成年人健康成长",
        "探索“法律明白人”培养新路径",
    ]
    assert [[i.heading for i in c.initiatives] for c in corpus] == SAMPLE_HEADINGS
    assert [bool(c.lead) for c in corpus] == [True, True, False, True]
    assert [c.outcome[:5] for c in corpus] == ["目前,平台", "", "", ""]
    single = corpus[2]
    assert single.initiatives[0].text == single.text and single.text.endswith("无一再犯。")
    # The inner short sentence 健全调解规程,统一流程。 has another shape: it stays inside its measure.
    assert "健全调解规程,统一流程。" in corpus[1].initiatives[0].text
    for c in corpus:
        assert "\r" not in c.text and "\ufeff" not in c.agency


def test_sample_plain() -> None:
    corpus = parse_collection(SAMPLE, id_prefix="yx", name="yunxi")
    check_sample(corpus)
    assert corpus.ids == ["yx-01", "yx-02", "yx-03", "yx-04"] and corpus.name == "yunxi"
    assert [c.line for c in corpus] == [4, 11, 15, 18]


@pytest.mark.parametrize(
    ("encoding", "bom", "newline"),
    [
        ("utf-8", b"\xef\xbb\xbf", "\r\n"),
        ("utf-8", b"", "\n"),
        ("gb18030", b"", "\r\n"),
        ("gbk", b"", "\n"),
        ("utf-16-le", b"\xff\xfe", "\r\n"),
        ("utf-16-be", b"\xfe\xff", "\n"),
        ("utf-16-le", b"", "\n"),
    ],
)
def test_sample_encodings(tmp_path: Path, encoding: str, bom: bytes, newline: str) -> None:
    path = tmp_path / "sample.txt"
    path.write_bytes(bom + SAMPLE.replace("\n", newline).encode(encoding))
    corpus = read_collection(path, id_prefix="yx")
    check_sample(corpus)
    assert signature(corpus) == signature(parse_collection(SAMPLE))
    assert corpus.name == "sample" and corpus.meta["path"] == str(path)
    assert [c.line for c in corpus] == [4, 11, 15, 18]


def test_blank_lines_and_cr_only() -> None:
    spaced = "\n\n".join(SAMPLE.splitlines()) + "\n"
    ref = signature(parse_collection(SAMPLE))
    assert [s[:6] for s in signature(parse_collection(spaced))] == [s[:6] for s in ref]
    assert signature(parse_collection(SAMPLE.replace("\n", "\r"))) == ref
    # Indented paragraphs (full-width spaces) and trailing spaces: stored strings are the stripped slices.
    indented = "\n".join("\u3000\u3000" + ln + "  " for ln in SAMPLE.splitlines())
    corpus = parse_collection(indented)
    check_sample(corpus)
    assert corpus[0].agency == "云溪市公安局"


def test_traditional_agency_lines() -> None:
    trad = (
        SAMPLE.replace("云溪市公安局\n", "雲溪市公安局\n")
        .replace("松陵县人民法院、松陵县司法局", "松陵縣人民法院、松陵縣司法局")
        .replace("湖桥区人民检察院\n", "湖橋區人民檢察院\n")
        .replace("柳塘镇司法所\n", "柳塘鎮司法所\n")
        .replace("云溪市委政法委员会", "雲溪市委政法委員會")
    )
    corpus = parse_collection(trad)
    assert [c.agency for c in corpus] == [
        "雲溪市公安局",
        "松陵縣人民法院、松陵縣司法局",
        "湖橋區人民檢察院",
        "柳塘鎮司法所",
    ]
    assert corpus[1].agencies == ["松陵縣人民法院", "松陵縣司法局"]
    assert [[i.heading for i in c.initiatives] for c in corpus] == SAMPLE_HEADINGS


def test_fully_traditional_bundled_text() -> None:
    import opencc

    raw = yanreform._resources.corpus_file("yancheng-2024-reform-cases.txt").read_text(encoding="utf-8")
    trad = opencc.OpenCC("s2t").convert(raw)
    corpus = parse_collection(trad)
    assert_invariants(corpus)
    assert [len(c.initiatives) for c in corpus] == [4, 3, 3, 4, 3, 3, 3, 4, 3, 4]
    assert corpus[0].agency == "鹽城市公安局" and corpus[9].agencies == ["鹽都區人民法院", "大豐區司法局"]
    assert [bool(c.outcome) for c in corpus] == [
        False,
        False,
        True,
        False,
        True,
        True,
        False,
        False,
        False,
        False,
    ]


def test_bundled_without_blank_lines_crlf() -> None:
    raw = yanreform._resources.corpus_file("yancheng-2024-reform-cases.txt").read_text(encoding="utf-8")
    dense = "\ufeff" + "\r\n".join(ln for ln in raw.splitlines() if ln.strip())
    corpus = parse_collection(dense)
    assert_invariants(corpus)
    assert [[i.heading for i in c.initiatives] for c in corpus] == BUNDLED_HEADINGS
    assert [c.title for c in corpus] == BUNDLED_TITLES


@pytest.mark.parametrize(("columns", "separator"), [(48, "\n"), (72, "\n"), (60, "\n\n"), (96, "\n\n")])
def test_hard_wrapped_text(columns: int, separator: str) -> None:
    """Text wrapped at a fixed display width (as copied from a PDF) parses like the original."""
    raw = yanreform._resources.corpus_file("yancheng-2024-reform-cases.txt").read_text(encoding="utf-8")

    def wrap(line: str) -> str:
        rows, row = [], ""
        for ch in line:
            wide = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
            if sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in row) + wide > columns:
                rows.append(row)
                row = ""
            row += ch
        return "\n".join([*rows, row])

    corpus = parse_collection(separator.join(wrap(ln) for ln in raw.splitlines() if ln.strip()))
    assert_invariants(corpus)
    assert [c.agency for c in corpus] == BUNDLED_AGENCIES and [c.title for c in corpus] == BUNDLED_TITLES
    headings = [[re.sub(r"\s", "", i.heading) for i in c.initiatives] for c in corpus]
    assert headings == BUNDLED_HEADINGS
    assert [bool(c.outcome) for c in corpus] == [c.id in BUNDLED_OUTCOME_STARTS for c in load_corpus()]


# --------------------------------------------------------------------------------------------------
# Layout variants
# --------------------------------------------------------------------------------------------------

VARIANTS = """青石县公安局
推行“警民通”服务模式
青石县公安局围绕群众急难愁盼,推行“警民通”服务模式,打通服务群众“最后一公里”。
一、搭建线上平台
开发“警民通”小程序,提供业务预约、进度查询等服务。
二、建强线下阵地
在社区设立警务工作站,民警定期驻站服务。
白沙县人民检察院与白沙县人民法院
推行清单式监督
白沙县人民检察院以数字检察为牵引,推动类案监督提质增效。
一是搭建监督模型。依托大数据,筛查类案线索。二是健全移送机制。与行政机关建立线索移送制度。三是强化跟踪问效。定期回访,确保整改到位。
"""


def test_heading_lines_and_enumerations() -> None:
    corpus = parse_collection(VARIANTS)
    assert_invariants(corpus)
    first, second = corpus
    assert [i.heading for i in first.initiatives] == ["一、搭建线上平台", "二、建强线下阵地"]
    assert first.initiatives[0].text == "一、搭建线上平台\n开发“警民通”小程序,提供业务预约、进度查询等服务。"
    assert second.agencies == ["白沙县人民检察院", "白沙县人民法院"]
    assert [i.heading for i in second.initiatives] == [
        "一是搭建监督模型。",
        "二是健全移送机制。",
        "三是强化跟踪问效。",
    ]


def test_agency_and_title_on_one_line() -> None:
    text = (
        "金湖县司法局：推行公证“最多跑一次”\n"
        "金湖县司法局推行公证服务改革,群众办证更便捷。\n"
        "精简证明材料。取消不必要的证明材料12项。\n"
    )
    (case,) = parse_collection(text)
    assert case.agency == "金湖县司法局" and case.title == "推行公证“最多跑一次”"
    assert [i.heading for i in case.initiatives] == ["精简证明材料。"]


def test_title_first_layout() -> None:
    lines = SAMPLE.split("\n")
    for agency_line in (3, 10, 14, 17):
        lines[agency_line], lines[agency_line + 1] = lines[agency_line + 1], lines[agency_line]
    corpus = parse_collection("\n".join(lines))
    check_sample(corpus)
    assert [c.line for c in corpus] == [5, 12, 16, 19]


@pytest.mark.parametrize(
    "layout",
    [
        "{a}：{t}",
        "【{a}】{t}",
        "{t}（{a}）",
        "{t}——{a}",
        "{a}\u3000{t}",
        "{t}\n——{a}",
        "{a}\n{t}\n——记{a}的做法",
    ],
)
def test_case_head_layouts(layout: str) -> None:
    lines = SAMPLE.split("\n")
    for at in (17, 14, 10, 3):  # agency line indices, bottom up so indices stay valid
        lines[at : at + 2] = [layout.format(a=lines[at], t=lines[at + 1])]
    corpus = parse_collection("\n".join(lines))
    check_sample(corpus)
    assert [c.agency for c in corpus][:2] == ["云溪市公安局", "松陵县人民法院、松陵县司法局"]


def test_numbered_cases_and_case_subtitles() -> None:
    lines = SAMPLE.split("\n")
    lines[10] = "二、" + lines[10]  # numbered agency line
    lines[4] += "\n——记云溪市公安局“云端警务”改革"  # subtitle under a case title
    for at, label in ((17, "案例四"), (14, "案例三"), (10, "案例二"), (3, "案例一")):
        lines.insert(at, label)
    corpus = parse_collection("\n".join(lines))
    check_sample(corpus)
    assert corpus[1].agency == "松陵县人民法院、松陵县司法局"
    assert all("案例" not in c.text for c in corpus)
    assert not corpus[0].lead.startswith("——")


def test_separator_lines_and_agency_without_title() -> None:
    lines = SAMPLE.split("\n")
    lines.insert(10, "* * *")  # separator closing case 1
    text = "\n".join(lines).replace("守护未成年人健康成长\n", "")  # case 3 has no title line
    corpus = parse_collection(text)
    assert_invariants(corpus)
    assert [c.agency for c in corpus] == [a[0] if len(a) == 1 else "、".join(a) for a in SAMPLE_AGENCIES]
    assert corpus[0].outcome.endswith("99.2%。") and "*" not in corpus[0].text
    assert corpus[2].title == "" and len(corpus[2].initiatives) == 1


OUTCOME_CASE = """河口区公安分局
深化“枫桥式”派出所创建
河口区公安分局以创建“枫桥式”派出所为抓手,推动矛盾纠纷源头化解。
建强调解阵地。在各派出所设立警民联调室,吸纳人民调解员常驻。
健全联动机制。与司法所、综治中心建立纠纷分流移交机制。
{last}
"""


@pytest.mark.parametrize(
    ("last", "is_outcome"),
    [
        ("该做法得到省公安厅肯定。相关经验在全市推广。", True),  # short, headline-like, but a result
        ("通过联调联处,辖区纠纷调处成功率提升至98%。", True),
        (
            "辖区群众安全感、满意度持续提升,矛盾纠纷总量逐年下降。",
            True,
        ),  # contrast with headline-led measures
        ("通过数字赋能实现精准调处。研发纠纷调处平台,实时跟踪调处进度。", False),  # a headline-led measure
        ("三、强化考核督导\n将调解成效纳入派出所绩效考核。", False),  # a numbered heading line
    ],
)
def test_outcome_rules(last: str, is_outcome: bool) -> None:
    (case,) = parse_collection(OUTCOME_CASE.format(last=last))
    assert_invariants(case_corpus := Corpus([case]))
    assert case_corpus[0].lead.startswith("河口区公安分局以")
    assert bool(case.outcome) is is_outcome
    assert len(case.initiatives) == (2 if is_outcome else 3)
    assert [i.heading for i in case.initiatives[:2]] == ["建强调解阵地。", "健全联动机制。"]


def test_paragraphs_without_headlines() -> None:
    text = (
        "梅山市司法局\n深化公共法律服务\n"
        "梅山市司法局围绕群众需求,完善公共法律服务体系,推动服务资源向基层延伸,取得良好效果。\n"
        "全市建成村居法律顾问微信群全覆盖,律师在线解答群众咨询,及时回应群众关切。\n"
        "此外,该局还依托融媒体平台开设普法专栏,每周推送以案释法内容,引导群众依法维权。\n"
    )
    (case,) = parse_collection(text)
    assert case.lead.startswith("梅山市司法局围绕") and case.outcome == ""
    assert [i.heading for i in case.initiatives] == [
        "",
        "",
    ]  # headline-less final paragraph stays an initiative


# --------------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\r\n\t\u3000\n"])
def test_empty_input(text: str) -> None:
    with pytest.raises(ParseError, match=r"line 1.*empty"):
        parse_collection(text)


@pytest.mark.parametrize(
    "text",
    [
        "盐城市公安局",  # a single line
        "近年来,各地积极推进改革。\n改革取得明显成效,群众满意度不断提升。\n",  # prose without case heads
        "盐城市公安局\n打造平台\n",  # heads but no body
    ],
)
def test_no_case_structure(text: str) -> None:
    with pytest.raises(ParseError, match=r"lines? \d+.*no case structure"):
        parse_collection(text)


def test_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "broken.txt"
    path.write_bytes("盐城市公安局\n".encode() + b"\xff\xfe\xff\n")
    with pytest.raises(ParseError) as info:
        read_collection(path)
    msg = str(info.value)
    assert "broken.txt" in msg and "line 2" in msg and "byte offset 19" in msg
    assert isinstance(info.value, ValueError)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"\xef\xbb\xbf\r\n")
    with pytest.raises(ParseError, match=r"empty\.txt"):
        read_collection(path)


def test_wrong_type() -> None:
    with pytest.raises(TypeError, match="read_collection"):
        parse_collection(b"abc")  # type: ignore[arg-type]


def test_fuzz_never_escapes() -> None:
    raw = yanreform._resources.corpus_file("yancheng-2024-reform-cases.txt").read_text(encoding="utf-8")
    lines = raw.split("\n") + SAMPLE.split("\n")
    alphabet = "盐城市公安局法院检察院司法局打造推进建设机制平台创新。，,、“”一二三是（）：\n 　0123"
    rng = random.Random(20240101)
    parsed = 0
    for trial in range(600):
        mode = trial % 4
        if mode == 0:
            a = rng.randrange(len(lines))
            text = "\n".join(lines[a : rng.randrange(a, len(lines) + 1)])
        elif mode == 1:
            shuffled = lines[:]
            rng.shuffle(shuffled)
            text = "\r\n".join(shuffled[: rng.randrange(1, len(shuffled))])
        elif mode == 2:
            text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 300)))
        else:
            a = rng.randrange(len(raw))
            text = raw[a : a + rng.randrange(0, 2000)]
        try:
            corpus = parse_collection(text)
        except ParseError:
            continue
        assert_invariants(corpus)
        parsed += 1
    assert parsed > 100  # most slices still hold cases
