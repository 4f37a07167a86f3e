"""Collection layouts seen in published 政法改革案例 collections from other cities and provinces.

Each file under tests/data/layout-*.txt is a collection written for these tests (invented places and
agencies) in one of the layouts real collections use; the expectations below are what a careful human
reader takes from it: the header lines, and per case the agency line, the agencies, the title, the
initiative headings (one per measure, "" for a measure without a headline), and how the lead and the
outcome start ("" for none).
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

from yanreform import ParseError
from yanreform.corpus import Corpus, parse_collection, read_collection

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Expect:
    agency: str
    title: str
    headings: list[str]
    lead: str = ""  # how the lead starts ("" = no lead)
    outcome: str = ""  # how the outcome starts ("" = no outcome)
    agencies: list[str] | None = None  # default [agency]


LAYOUTS: dict[str, tuple[list[str], list[Expect]]] = {
    # 一、 before the agency line, a four-line header ending in a date line, full-width indentation,
    # 一是… measures inside one paragraph, on their own lines, and ；-separated after 主要做法：
    "layout-a-numbered-agencies.txt": (
        [
            "政法领域改革创新典型案例汇编",
            "——青川市2024年度政法改革项目成果选编",
            "中共青川市委政法委员会",
            "2024年12月",
        ],
        [
            Expect(
                "青川市委政法委",
                "构建“一网统管”基层社会治理新格局",
                ["一是建强指挥中枢。", "二是做实基础网格。", "三是强化数据赋能。"],
                lead="近年来，青川市委政法委",
                outcome="目前，全市",
            ),
            Expect(
                "青川市信访局",
                "推行信访事项“码上办”",
                ["一是一码受理。", "二是一码督办。", "三是一码评价。"],
                lead="青川市信访局聚焦",
                outcome="该机制运行以来",
            ),
            Expect(
                "青川市人民检察院、青川市公安局",
                "建立侦查监督与协作配合办公室",
                ["", "", ""],
                lead="青川市人民检察院与市公安局",
                agencies=["青川市人民检察院", "青川市公安局"],
            ),
        ],
    ),
    # 案例1 lines, title first with the agency in parentheses, 【基本情况】/【主要做法】/【工作成效】 labels,
    # （一） measures on their own lines; 公证处, 仲裁委员会, 律师协会 + 中级人民法院.
    "layout-b-case-labels-title-paren.txt": (
        ["平原省司法行政改革案例选编"],
        [
            Expect(
                "安平市安平公证处",
                "打造“公证+”便民服务新模式",
                ["（一）推行“一次办”。", "（二）推行“网上办”。", "（三）推行“上门办”。"],
                lead="【基本情况】安平公证处",
                outcome="【工作成效】2024年以来",
            ),
            Expect(
                "安平仲裁委员会",
                "推进商事仲裁与调解衔接",
                ["（一）建立调解员名册。", "（二）完善调裁对接程序。"],
                lead="【基本情况】安平仲裁委员会",
                outcome="【工作成效】全年",
            ),
            Expect(
                "安平市律师协会、安平市中级人民法院",
                "律师调解进驻诉讼服务中心",
                ["（一）组建律师调解团队。", "（二）规范调解工作流程。", "（三）落实经费保障。"],
                lead="【基本情况】安平市律师协会",
                agencies=["安平市律师协会", "安平市中级人民法院"],
            ),
        ],
    ),
    # 1. before the title, the agency after —— on the next line, bold-heading style (headline alone on a
    # line without 。, one of them ending like an agency), joint agencies joined by 与.
    "layout-c-numbered-title-dash-agency.txt": (
        ["2024年度河阳市基层法治建设优秀案例"],
        [
            Expect(
                "西岭县人民法院",
                "打造“无讼乡村”治理品牌",
                ["建立“法官+网格员”联动机制", "设立巡回审判点", "开展“以案说法”进村居"],
                lead="西岭县人民法院坚持",
                outcome="2024年，全县",
            ),
            Expect(
                "西岭县公安局城关派出所",
                "推进“警调联动”化解邻里纠纷",
                ["建立区级矛盾纠纷调处中心", "推行“首接负责”"],
                lead="城关派出所辖区",
            ),
            Expect(
                "西岭县司法局与西岭县工商业联合会",
                "以“三进”服务护航民营企业发展",
                ["（一）法律体检进企业", "（二）调解组织进商会", "（三）普法讲座进园区"],
                lead="西岭县司法局与县工商联",
                agencies=["西岭县司法局", "西岭县工商业联合会"],
            ),
        ],
    ),
    # Traditional script throughout, full-width indentation and blank lines everywhere; 監獄, 戒毒所 與
    # 醫院, 律師協會; three measures in one paragraph; a one-paragraph case.
    "layout-d-traditional-indented.txt": (
        ["監獄戒毒工作改革創新案例", "——澄海市司法行政系統2024年度案例彙編"],
        [
            Expect(
                "澄海市第一監獄",
                "推行罪犯分級處遇管理改革",
                ["科學評估分級。", "落實差別處遇。", "強化教育引導。"],
                lead="澄海市第一監獄堅持",
                outcome="改革實施以來",
            ),
            Expect(
                "澄海市強制隔離戒毒所與澄海市人民醫院",
                "共建戒毒醫療聯合體",
                ["建立遠程會診平臺。", "建立雙向轉診通道。", "建立醫護培訓制度。"],
                lead="澄海市強制隔離戒毒所與市人民醫院",
                agencies=["澄海市強制隔離戒毒所", "澄海市人民醫院"],
            ),
            Expect("澄海市律師協會", "組建刑事法律援助律師庫", [""]),
        ],
    ),
    # Hard-wrapped at 64 columns with no blank lines (copied from a PDF); 公证处, 仲裁委员会, a 人民法庭
    # of a court (one agency) whose case title ends like an agency.
    "layout-e-hard-wrapped.txt": (
        ["临江市法治化营商环境建设案例"],
        [
            Expect(
                "临江市公证处",
                "推行涉企公证“绿色通道”",
                ["设立企业服务专窗。", "开展上门延伸服务。"],
                lead="临江市公证处围绕",
                outcome="全年共为企业",
            ),
            Expect(
                "临江仲裁委员会",
                "打造商事纠纷“快裁”机制",
                ["简化快裁程序。", "推行线上仲裁。"],
                lead="临江仲裁委员会聚焦",
            ),
            Expect(
                "临江市人民法院滨江人民法庭",
                "建设“枫桥式”人民法庭",
                ["", ""],
                lead="滨江人民法庭立足",
            ),
        ],
    ),
    # agency：title on one line, 1. / （一） / 一是…；二是… measures, mixed blank and non-blank separation,
    # an outcome opening with 取得成效。, 司法所 and 派出所 under their parent agencies.
    "layout-f-one-line-heads-mixed-gaps.txt": (
        ["东湖区政法系统改革创新案例", "（2024年）"],
        [
            Expect(
                "东湖区委政法委",
                "建立“红色物业+综治”融合治理机制",
                ["1.组织融合。", "2.力量融合。", "3.机制融合。"],
                lead="东湖区委政法委针对",
            ),
            Expect(
                "东湖区司法局桃源司法所",
                "推行“司法所+人民调解+法律顾问”工作模式",
                ["（一）一线排查。", "（二）分级化解。", "（三）跟踪回访。"],
                lead="桃源司法所整合",
                outcome="取得成效。2024年",
            ),
            Expect(
                "东湖区公安分局湖滨派出所",
                "打造“警格+网格”双网融合治理模式",
                ["", "", ""],
                lead="湖滨派出所推动",
                outcome="实施以来",
            ),
        ],
    ),
    # 一、基本情况 / 二、主要做法 / 三、工作成效 section lines, bold （一） heading lines, a header with an
    # issuer line, a Chinese-numeral date line and an editor's note; a two-paragraph outcome.
    "layout-g-section-heading-lines.txt": (
        [
            "新港市政法改革优秀案例",
            "新港市委政法委员会 编",
            "二〇二四年十二月",
            "编者按：为总结推广全市政法领域改革创新经验，现将优秀案例汇编成册，供各地学习借鉴。",
        ],
        [
            Expect(
                "新港市中级人民法院",
                "推进执行工作“一体化”改革",
                ["（一）统一指挥调度", "（二）集约办理事务", "（三）强化联动惩戒"],
                lead="一、基本情况\n新港市中级人民法院",
                outcome="三、工作成效\n改革以来",
            ),
            Expect(
                "新港市人民检察院、新港市司法局",
                "深化认罪认罚从宽制度适用",
                ["（一）实现值班律师全覆盖", "（二）规范量刑建议"],
                lead="一、基本情况\n新港市人民检察院",
                outcome="三、取得成效\n全市",
                agencies=["新港市人民检察院", "新港市司法局"],
            ),
        ],
    ),
    # 【案例一】 lines, 政法委、信访局, （1）…；（2）… clause measures, outcomes opening with 成效： or
    # 取得成效。
    "layout-h-bracket-case-labels-clause-enums.txt": (
        [],
        [
            Expect(
                "南陵县委政法委、南陵县信访局",
                "构建“一站式”矛盾纠纷多元化解体系",
                ["", "", ""],
                lead="南陵县委政法委会同",
                outcome="成效：中心运行",
                agencies=["南陵县委政法委", "南陵县信访局"],
            ),
            Expect(
                "南陵县公安局交通警察大队",
                "推行轻微交通事故“快处快赔”",
                ["线上快处。", "保险快赔。"],
                lead="南陵县公安局交通警察大队针对",
                outcome="取得成效。机制运行以来",
            ),
        ],
    ),
    # Title first, then a 申报单位： agency line; headline sentences alone on their lines; a title ending
    # like an agency (…服务中心).
    "layout-i-title-first-declared-agency.txt": (
        ["北岭市法治护航营商环境典型案例"],
        [
            Expect(
                "北岭市市场监督管理局、北岭市人民检察院",
                "构建知识产权“大保护”格局",
                ["强化线索移送。", "开展联合培训。"],
                lead="北岭市市场监督管理局与",
                outcome="近两年",
                agencies=["北岭市市场监督管理局", "北岭市人民检察院"],
            ),
            Expect(
                "北岭市司法局",
                "推行涉企行政执法“观察员”制度",
                ["选聘观察员。", "畅通反馈渠道。"],
                lead="北岭市司法局从",
            ),
            Expect(
                "北岭市司法局、北岭市贸促会",
                "建设“一站式”涉外法律服务中心",
                [""],
                lead="北岭市司法局联合",
                agencies=["北岭市司法局", "北岭市贸促会"],
            ),
        ],
    ),
    # 【典型案例一】 lines, agency：title, 【基本情况】/【主要做法】/【典型意义】 labels alone on their
    # lines; a case whose body opens with 【主要做法】 (no lead).
    "layout-j-bracket-labels-alone.txt": (
        ["石门市政法领域改革典型案例"],
        [
            Expect(
                "石门市公安局",
                "推行户籍业务“跨省通办”",
                ["1.梳理通办事项。", "2.打通数据壁垒。", "3.设立专窗服务。"],
                lead="【基本情况】\n石门市公安局针对",
                outcome="【典型意义】\n“跨省通办”",
            ),
            Expect(
                "石门市人民检察院",
                "建立公益诉讼“益心为公”志愿者队伍",
                ["（一）广泛招募志愿者。", "（二）拓宽线索来源。", "（三）参与办案监督。"],
                outcome="【工作成效】\n志愿者",
            ),
        ],
    ),
    # 案例一：title before a line of three agencies, 一是…： headlines ending in a colon, 第一，… measures,
    # full-width indentation on every line.
    "layout-k-case-colon-title-joint-agencies.txt": (
        ["长岭县社会治理现代化试点案例"],
        [
            Expect(
                "长岭县委政法委、长岭县公安局、长岭县司法局",
                "构建“一中心四平台”社会治理体系",
                ["一是强化组织领导：", "二是整合平台资源：", "三是健全考核机制："],
                lead="长岭县委政法委牵头",
                outcome="试点工作开展以来",
                agencies=["长岭县委政法委", "长岭县公安局", "长岭县司法局"],
            ),
            Expect(
                "长岭县司法局与长岭县人民法院",
                "探索社区矫正“智慧监管”新模式",
                ["第一，推行电子定位监管。", "第二，建立审前调查协作机制。"],
                lead="长岭县司法局与县人民法院",
                agencies=["长岭县司法局", "长岭县人民法院"],
            ),
        ],
    ),
}


def assert_invariants(corpus: Corpus) -> None:
    """Exact slices, headings as prefixes, ids in order, and no body character lost."""
    for n, case in enumerate(corpus, start=1):
        assert case.id.endswith(f"-{n:02d}")
        assert case.agencies and all(case.agencies) and case.initiatives
        for k, ini in enumerate(case.initiatives, start=1):
            assert ini.id == f"{case.id}-i{k}"
            assert case.text[ini.start : ini.end] == ini.text and ini.text == ini.text.strip()
            assert ini.text.startswith(ini.heading)
        pieces = [case.lead, *(i.text for i in case.initiatives), case.outcome]
        assert re.sub(r"\s", "", "".join(pieces)) == re.sub(r"\s", "", case.text), case.id
        assert not case.lead or case.text.startswith(case.lead)
        assert not case.outcome or case.text.endswith(case.outcome)


def check(corpus: Corpus, header: list[str], expected: list[Expect]) -> None:
    assert_invariants(corpus)
    got = [
        (c.agency, c.agencies, c.title, [i.heading for i in c.initiatives], c.lead, c.outcome) for c in corpus
    ]
    want = [(e.agency, e.agencies or [e.agency], e.title, e.headings, e.lead, e.outcome) for e in expected]
    assert len(corpus) == len(expected), [g[:3] for g in got]
    for g, w in zip(got, want, strict=True):
        assert g[:4] == w[:4]
        # Lead and outcome: compared on their starts, whitespace-insensitive (indentation, blank lines).
        for have, start in ((g[4], w[4]), (g[5], w[5])):
            if start:
                assert re.sub(r"\s", "", have).startswith(re.sub(r"\s", "", start)), (g[2], have, start)
            else:
                assert have == "", have
    assert corpus.meta["header"] == header


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_layout(name: str) -> None:
    header, expected = LAYOUTS[name]
    check(read_collection(DATA / name), header, expected)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_layout_crlf_bom_and_indentation(name: str) -> None:
    """Line endings, a BOM and full-width indentation change nothing but offsets."""
    header, expected = LAYOUTS[name]
    text = (DATA / name).read_text(encoding="utf-8")
    check(parse_collection("\ufeff" + text.replace("\n", "\r\n")), header, expected)
    indented = "\n".join(
        "\u3000\u3000" + ln.lstrip("\u3000") if ln.strip() else ln for ln in text.split("\n")
    )
    check(parse_collection(indented), header, expected)


def test_section_labels_never_become_structure() -> None:
    """Section label lines are neither agencies, titles nor initiatives."""
    for name in ("layout-b-case-labels-title-paren.txt", "layout-g-section-heading-lines.txt"):
        corpus = read_collection(DATA / name)
        for case in corpus:
            for ini in case.initiatives:
                assert not re.search(r"基本情况|主要做法|工作成效|取得成效", ini.text), ini
            assert "做法" not in case.title and "案例" not in case.agency


def test_case_number_lines_are_not_body() -> None:
    for name in ("layout-b-case-labels-title-paren.txt", "layout-h-bracket-case-labels-clause-enums.txt"):
        corpus = read_collection(DATA / name)
        assert all("案例" not in c.text for c in corpus)


def test_lines_point_at_agency() -> None:
    for name in LAYOUTS:
        text = (DATA / name).read_text(encoding="utf-8")
        lines = text.split("\n")
        for case in read_collection(DATA / name):
            assert case.agency in lines[case.line - 1], (name, case.id)


@pytest.mark.parametrize(
    "text",
    [
        "【基本情况】\n【主要做法】\n【工作成效】\n",
        "一、基本情况\n二、主要做法\n（一）搭建平台\n（二）完善机制\n",
        "案例1\n案例2\n",
        "2024年12月\n",
    ],
)
def test_label_only_text_has_no_cases(text: str) -> None:
    with pytest.raises(ParseError, match=r"line"):
        parse_collection(text)


@pytest.mark.slow
def test_large_collection_parses_in_linear_time() -> None:
    texts = [(DATA / name).read_text(encoding="utf-8") for name in sorted(LAYOUTS) if "-e-" not in name]
    block = "\n".join(texts)
    small = block * 4
    big = block * 200  # about 1.8 MB
    t0 = time.perf_counter()
    n_small = len(parse_collection(small))
    t1 = time.perf_counter()
    n_big = len(parse_collection(big))
    t2 = time.perf_counter()
    assert n_big == 50 * n_small
    assert (t2 - t1) < max(4.0, 50 * (t1 - t0) * 3)  # linear within (shared-machine) noise


SUBPOINTS = """西山县人民法院
推进诉源治理
西山县人民法院坚持把非诉讼纠纷解决机制挺在前面，推进诉源治理。
强化队伍建设。一是加强业务培训，每季度组织一次调解技能培训；二是健全考核激励，将调解成效纳入绩效考核。
完善工作机制：一是建立诉前分流机制，适宜调解的案件一律引导诉前调解；二是建立司法确认快速通道。
拓展解纷渠道。与行业协会共建调解组织8个，实现行业纠纷专业化解。
"""


def test_enumerations_inside_a_headline_led_measure_are_sub_points() -> None:
    """一是/二是 after a measure's own headline are that measure's sub-points (its case has other
    headline-led measures), whether the headline ends in 。 or ：."""
    (case,) = parse_collection(SUBPOINTS)
    assert_invariants(Corpus([case]))
    assert [i.heading for i in case.initiatives] == ["强化队伍建设。", "完善工作机制：", "拓展解纷渠道。"]
    assert "二是健全考核激励" in case.initiatives[0].text


def test_enumeration_after_a_preface_holds_the_measures() -> None:
    text = SUBPOINTS.replace("强化队伍建设。", "主要做法包括：").split("完善工作机制")[0]
    (case,) = parse_collection(text)
    assert [i.text[:6] for i in case.initiatives] == ["主要做法包括", "二是健全考核"]
    assert [i.heading for i in case.initiatives] == ["", ""]


def test_labelled_outcome_runs_to_the_end_and_lead_may_span_paragraphs() -> None:
    text = (
        "南湖区司法局\n推行“援调对接”\n【基本情况】\n南湖区司法局推动法律援助与人民调解对接。\n"
        "该局此前已在全区设立法律援助工作站12个。\n【主要做法】\n建立转介机制。法律援助机构将适宜调解的"
        "纠纷转交调解组织。\n共享专家资源。调解组织可邀请援助律师参与调解。\n【工作成效】\n"
        "全年转介纠纷320件，调解成功率达92%。\n【下一步打算】\n将援调对接向乡镇延伸。\n"
    )
    (case,) = parse_collection(text)
    assert case.lead.startswith("【基本情况】") and case.lead.endswith("【主要做法】")
    assert "此前已在全区" in case.lead
    assert [i.heading for i in case.initiatives] == ["建立转介机制。", "共享专家资源。"]
    assert case.outcome.startswith("【工作成效】") and case.outcome.endswith("向乡镇延伸。")


def _wrap(line: str, columns: int) -> str:
    rows, row, width = [], "", 0
    for ch in line:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if width + w > columns:
            rows.append(row)
            row, width = "", 0
        row += ch
        width += w
    return "\n".join([*rows, row])


@pytest.mark.parametrize(
    "name",
    [
        "layout-a-numbered-agencies.txt",
        "layout-b-case-labels-title-paren.txt",
        "layout-d-traditional-indented.txt",
        "layout-g-section-heading-lines.txt",
        "layout-h-bracket-case-labels-clause-enums.txt",
        "layout-j-bracket-labels-alone.txt",
        "layout-k-case-colon-title-joint-agencies.txt",
    ],
)
@pytest.mark.parametrize(("columns", "separator"), [(48, "\n"), (64, "\n\n"), (80, "\n")])
def test_layout_hard_wrapped(name: str, columns: int, separator: str) -> None:
    """The same collections hard-wrapped at a fixed display width (as copied from a PDF)."""
    _, expected = LAYOUTS[name]
    lines = [ln.strip() for ln in (DATA / name).read_text(encoding="utf-8").splitlines() if ln.strip()]
    corpus = parse_collection(separator.join(_wrap(ln, columns) for ln in lines))
    assert_invariants(corpus)

    def flat(s: str) -> str:
        return re.sub(r"\s", "", s)

    assert [flat(c.agency) for c in corpus] == [e.agency for e in expected]
    assert [flat(c.title) for c in corpus] == [e.title for e in expected]
    assert [[flat(i.heading) for i in c.initiatives] for c in corpus] == [e.headings for e in expected]
    assert [c.agencies for c in corpus] == [e.agencies or [e.agency] for e in expected]
    assert [(bool(c.lead), bool(c.outcome)) for c in corpus] == [
        (bool(e.lead), bool(e.outcome)) for e in expected
    ]


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_layout_blank_lines_removed_or_doubled(name: str) -> None:
    """Paragraph separation by blank lines or by line breaks alone reads the same."""
    header, expected = LAYOUTS[name]
    lines = [ln for ln in (DATA / name).read_text(encoding="utf-8").splitlines() if ln.strip()]
    check(parse_collection("\n".join(lines)), header, expected)
    if name != "layout-e-hard-wrapped.txt":  # (blank lines inside wrapped paragraphs end them)
        check(parse_collection("\n\n".join(lines)), header, expected)


HEAD_BODY = "\n".join(
    [
        "{a}推行改革，群众办事更便捷。",
        "强化平台建设。整合各类平台，实现一网通办。",
        "完善工作机制。建立联席会议制度。",
        "",
    ]
)
HEAD_CASES = [
    ("石门市公安局", "打造“一网通办”服务平台"),
    ("石门县人民法院", "推行诉源治理改革"),
    ("石门区司法局", "建设公共法律服务中心"),  # a title ending like an agency
]


@pytest.mark.parametrize(
    "layout",
    [
        "【{a}】\n{t}",
        "一、{a}：{t}",
        "（一）{a}\n{t}",
        "{t}\n（{a}供稿）",
        "{t}\n报送单位：{a}",
        "案例一　{t}\n{a}",
        "{a}\n{t}\n——以“一网通办”改革为例",
        "{a}\u3000{t}",
    ],
)
def test_case_head_variants(layout: str) -> None:
    text = "石门市政法改革案例汇编\n\n" + "\n".join(
        layout.format(a=a, t=t) + "\n" + HEAD_BODY.format(a=a) for a, t in HEAD_CASES
    )
    corpus = parse_collection(text)
    assert_invariants(corpus)
    assert [(c.agency, c.title) for c in corpus] == HEAD_CASES
    assert [[i.heading for i in c.initiatives] for c in corpus] == [["强化平台建设。", "完善工作机制。"]] * 3
    assert corpus.meta["header"] == ["石门市政法改革案例汇编"]


def test_measures_label_without_outcome_label() -> None:
    """After a measures label with no outcome label, the last paragraph is still read as an outcome
    by its opener, and the first paragraph after the label is a measure even without a headline."""
    text = (
        "北湖县公安局\n推行“警保联动”\n北湖县公安局联合保安公司推行“警保联动”。\n主要做法：\n"
        "组建巡防队伍，保安员与民警混编巡逻，重点时段加密巡防。\n"
        "建立信息共享机制。保安公司发现的可疑线索实时推送派出所。\n"
        "目前，辖区盗窃案件同比下降35%。\n"
    )
    (case,) = parse_collection(text)
    assert case.lead.endswith("主要做法：")
    assert [i.heading for i in case.initiatives] == ["", "建立信息共享机制。"]
    assert case.outcome.startswith("目前，")
