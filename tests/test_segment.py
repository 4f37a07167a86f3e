"""Domain-aware segmentation (yanreform.text.segment).

Domain terms, protected spans, offsets, backends, dictionaries, keywords, bad input, and isolation from
jieba's global tokenizer.
"""

from __future__ import annotations

import pickle
import random
import time
import unicodedata
from pathlib import Path

import pytest

from yanreform import _resources
from yanreform.errors import InputError
from yanreform.text.normalize import normalize_text
from yanreform.text.segment import (
    Segmenter,
    Token,
    _protect_re,
    _protect_re_plain,
    _protect_split_re,
    _rjieba_available,
    parse_userdict,
)

needs_rjieba = pytest.mark.skipif(not _rjieba_available(), reason="rjieba not installed")


@pytest.fixture(scope="session")
def seg() -> Segmenter:
    """The default segmenter (fast backend when installed), shared by the session; tests never mutate it."""
    return Segmenter()


@pytest.fixture(scope="session")
def ref() -> Segmenter:
    """The reference (pure-Python jieba) backend."""
    return Segmenter(backend="jieba")


@pytest.fixture(scope="session")
def corpus_text() -> str:
    return _resources.corpus_file("yancheng-2024-reform-cases.txt").read_text(encoding="utf-8")


def _mixed_text(n_chars: int, seed: int = 0) -> str:
    """Corpus sentences mixed with Latin, digits, emoji, full-width, traditional, rare ideographs, etc."""
    rng = random.Random(seed)
    base = _resources.corpus_file("yancheng-2024-reform-cases.txt").read_text(encoding="utf-8")
    sents = [s for s in base.replace("\n", "。").split("。") if s.strip()]
    extras = [
        "App",
        "C++",
        "#标签",
        "a-b-c",
        "x_y",
        "3.5亿元",
        "99.9%",
        "www.court.gov.cn",
        "2023-11-17",
        "10:30",
        "😀",
        "👨\u200d👩\u200d👧",
        "ＡＢＣ１２３",
        "①②③",
        "㎡",
        "執法辦案",
        "楓橋經驗",
        "「智慧法鷹」",
        "㐀㐁",
        "\u9fea\u9fe0",
        "𠀀𠀁",
        "カタカナ",
        "한국어",
        "\x00\x07",
        "\t",
        "\r\n",
        "  ",
        "Hello, world!",
        "e\u0301",
        "…",
        "——",
        "iPhone15",
        "COVID-19",
        "5G",
        "AI赋能",
        "1+3+11",
        "N+辅助",
        "4×3",
        "12345热线",
        "(1)",
        "\"中文\"",
        "'abc'",
        "第3次",
        "3个月",
        "2023年度",
        "二〇二三年",
        "0x1F",
        "1,000",
        "3.14159",
        "v1.2.3",
        "a..b",
        "x%y",
        "中3.5.6中",
        "Ｑ＆Ａ",
        "〇",
        "々",
        "乾隆",
        "著作",
        "email@x.com",
    ]  # fmt: skip
    soup = "abcXYZ0123456789._-+#&%@/:,;!?'\"()[] "
    out: list[str] = []
    size = 0
    while size < n_chars:
        s = rng.choice(sents)
        if rng.random() < 0.5:
            i = rng.randrange(len(s) + 1)
            s = s[:i] + rng.choice(extras) + s[i:]
        if rng.random() < 0.2:
            s += "".join(rng.choice(soup) for _ in range(rng.randint(1, 8)))
        s += rng.choice(["。", "，", ",", "；", "\n", " ", "！"])
        out.append(s)
        size += len(s)
    return "".join(out)


# ---------------------------------------------------------------------------------------------- domain terms

DOMAIN_SENTENCES = [
    ("坚持和发展新时代枫桥经验，推进诉源治理。", ["枫桥经验", "诉源治理"]),
    ("2023年持续深入推进府院联动工作机制。", ["府院联动"]),
    ("建湖县人民检察院打造了轻案快办办案机制。", ["轻案快办", "人民检察院"]),
    ("建立一站式轻罪治理中心，深化繁简分流改革。", ["一站式", "轻罪治理中心", "繁简分流"]),
    ("各执法办案管理中心实现涉案财物统一管理。", ["执法办案管理中心", "涉案财物"]),
    ("对符合条件的适用认罪认罚和速裁程序，依法作出相对不起诉决定。", ["认罪认罚", "速裁程序", "相对不起诉"]),
    ("当事人可以申请行政复议，也可以选择诉前调解或司法鉴定。", ["行政复议", "诉前调解", "司法鉴定"]),
    ("为困难群众提供法律援助和司法救助，关爱一老一少。", ["法律援助", "司法救助", "一老一少"]),
    ("加强知识产权保护，推进企业合规，优化营商环境。", ["知识产权保护", "企业合规", "营商环境"]),
    (
        "网格员、法律明白人和村居法律顾问共同参与，人民调解员就地化解纠纷。",
        ["网格员", "法律明白人", "村居法律顾问", "人民调解员"],
    ),
    ("检察机关督促开展补植复绿，推动生态修复。", ["补植复绿", "生态修复"]),
    ("推进轻罪治理，探索刑事和解与非刑罚处罚措施。", ["轻罪治理", "刑事和解", "非刑罚处罚措施"]),
    ("派出所、司法所和人民法庭联合设立调解室，政法委统筹协调。", ["派出所", "司法所", "人民法庭", "政法委"]),
    ("公安局与司法局共建警调对接机制。", ["公安局", "司法局", "警调对接"]),
    # mined from real text (scripts/mine_terms.py; more in tests/test_terms.py): 警调衔接 was cut 警调/衔接
    ("公安局与司法局首创警调衔接机制，接报案中心归口管理。", ["公安局", "司法局", "警调衔接", "接报案中心"]),
    ("将受立案工作作为重中之重，受案中心由法制大队牵头。", ["受立案", "受案中心", "法制大队"]),
    ("盐都区人民法院、大丰区司法局跨区合作。", ["盐都区", "人民法院", "大丰区", "司法局", "跨区合作"]),
]


@pytest.mark.parametrize(("sentence", "terms"), DOMAIN_SENTENCES)
def test_domain_terms_are_single_tokens_in_context(seg: Segmenter, sentence: str, terms: list[str]) -> None:
    toks = seg.cut(sentence)
    for term in terms:
        assert term in toks, (term, toks)


def test_raw_jieba_breaks_what_we_keep() -> None:
    # The reason the dictionary exists (issue text): raw jieba splits these.
    import jieba

    raw = jieba.Tokenizer()
    raw.tmp_dir = str(_resources.cache_dir())
    assert "枫桥经验" not in raw.lcut("坚持发展枫桥经验")
    assert "府院联动" not in raw.lcut("推进府院联动工作")


def test_every_dictionary_entry_stays_whole_in_sentence_context(seg: Segmenter) -> None:
    entries = parse_userdict(_resources.model_file("userdict.txt"))
    assert len(entries) >= 400
    templates = ["全面推进{w}。", "关于{w}的意见", "他们开展{w}，取得成效", "通过{w}提升群众满意度"]
    broken = [(w, t) for w, _, _ in entries for t in templates if w not in seg.cut(t.format(w=w))]
    assert broken == []


def test_dictionary_does_not_over_glue_ordinary_text(seg: Segmenter) -> None:
    plain = Segmenter(builtin_dict=False, backend=seg.backend)  # type: ignore[arg-type]
    for s in [
        "今天天气很好，我们一起去公园散步吧。",
        "公司召开会议研究下一步工作安排，要求各部门做好准备。",
        "这是一个涉案金额巨大的案件。",
    ]:
        assert seg.cut(s) == plain.cut(s), s
    # domain words must not steal characters from an ordinary neighbour (受立案 vs 接受, 诉前 vs 起诉)
    assert {"接受", "立案"} <= set(seg.cut("他走完全程后接受立案调查。"))
    assert {"起诉", "诉前调解"} <= set(seg.cut("诉前调解成功的案件不需要再起诉前的准备。"))


def test_dictionary_file_format(seg: Segmenter) -> None:
    path = _resources.model_file("userdict.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 400
    words = set()
    for line in lines:
        word, freq, tag = line.split(" ")  # plain jieba format: word freq tag
        assert int(freq) > 0 and tag.isalpha() and word not in words
        words.add(word)
    assert {"枫桥经验", "府院联动", "轻案快办", "诉源治理", "一站式", "繁简分流", "执法办案管理中心"} <= words
    assert set(seg.user_words) >= words


# ---------------------------------------------------------------------------------------------- protected
# spans


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("建设应用“智慧法鹰”执法大数据平台", "智慧法鹰"),
        ("建设应用「智慧法鹰」执法大数据平台", "智慧法鹰"),
        ('建设应用"智慧法鹰"执法大数据平台', "智慧法鹰"),
        ("建设应用‘智慧法鹰’执法大数据平台", "智慧法鹰"),
        ("设立“我述你评”直通车栏目", "我述你评"),
        ("发挥“都诉服·都满意”诉讼服务中心作用", "都诉服·都满意"),
        ("平台采取“1+3+11”的模式建设", "1+3+11"),
        ("平台采取1+3+11的模式建设", "1+3+11"),
        ("健全受立案改革“4×3”机制", "4×3"),
        ("创新建立4×3受立案工作机制", "4×3"),
        ("按照1+1+N模式配备案管室人员", "1+1+N"),
        ("推行N+辅助集约化工作模式", "N+辅助"),
        ("整合各类专门监督职能的1+2+N日常监督体系", "1+2+N"),
        ("建立四类重大警情“1326”应急处置机制", "1326"),
        ("2023年11月17日，在全省座谈会上介绍", "2023年11月17日"),
        ("2023年在盐都区郭猛镇试点", "2023年"),
        ("11月17日召开座谈会", "11月17日"),
        ("被表彰为2023年度全省优秀案例", "2023年度"),
        ("研发556个功能模块", "556个"),
        ("对725人责令其具结悔过", "725人"),
        ("统一出口率均达100%", "100%"),
        ("累计筛查入库案件370余件", "370余件"),
        ("聘用28名社会化服务人员", "28名"),
        ("提供服务35人次", "35人次"),
        ("涉案金额3.5亿元", "3.5亿元"),
        ("访问www.court.gov.cn查询", "www.court.gov.cn"),
    ],
)
def test_protected_spans_are_single_tokens(seg: Segmenter, text: str, token: str) -> None:
    toks = seg.cut(text)
    assert token in toks, toks


def test_quoted_name_quotes_are_separate_tokens_and_offsets_exact(seg: Segmenter) -> None:
    s = "打造“智慧法鹰”平台"
    toks = seg.tokenize(s)
    i = [t.norm for t in toks].index("智慧法鹰")
    assert toks[i - 1].norm == "“" and toks[i + 1].norm == "”"
    assert toks[i] == Token("智慧法鹰", "智慧法鹰", 3, 7)
    # the same name in corner quotes and traditional script: same token, original slice
    s2 = "打造「智慧法鷹」平台"
    tok = seg.tokenize(s2)[i]
    assert tok == Token("智慧法鷹", "智慧法鹰", 3, 7)


def test_long_quoted_passages_are_not_glued(seg: Segmenter) -> None:
    s = "构建“专业化监督+恢复性司法+社会化治理”相结合的生态检察模式"
    toks = seg.cut(s)
    assert "恢复性司法" in toks
    assert not any(len(t) > 12 for t in toks)
    s2 = "实现“只进一扇门、走完全流程”"  # sentence punctuation inside: not a name
    assert "只进一扇门、走完全流程" not in seg.cut(s2)
    narrow = Segmenter(quote_max_len=3, backend=seg.backend)  # type: ignore[arg-type]
    assert "线索管家平台" in seg.cut("升级“线索管家平台”")
    assert "线索管家平台" not in narrow.cut("升级“线索管家平台”")
    assert "诉累" in narrow.cut("减少“诉累”")


def test_fast_protect_pattern_equals_readable_one(corpus_text: str) -> None:
    t = normalize_text(_mixed_text(200_000, seed=5) + corpus_text)
    for q in (12, 0):
        fast = [m.span() for m in _protect_re(q).finditer(t)]
        plain = [m.span() for m in _protect_re_plain(q).finditer(t)]
        assert fast == plain and len(fast) > 1000
        parts = _protect_split_re(q).split(t)
        assert parts[1::2] == [t[a:b] for a, b in plain]
        assert "".join(parts) == t


# ---------------------------------------------------------------------------------------------- traditional


@pytest.mark.parametrize(
    ("trad", "simp"),
    [
        ("各執法辦案管理中心實現涉案財物統一管理。", "各执法办案管理中心实现涉案财物统一管理。"),
        ("堅持和發展新時代「楓橋經驗」，推進訴源治理。", "坚持和发展新时代“枫桥经验”，推进诉源治理。"),
        ("建立「府院聯動」機制，推動輕案快辦、繁簡分流。", "建立“府院联动”机制，推动轻案快办、繁简分流。"),
        ("為困難群眾提供法律援助，共計２８名律師參與。", "为困难群众提供法律援助，共计28名律师参与。"),
    ],
)
def test_traditional_cuts_like_simplified(seg: Segmenter, ref: Segmenter, trad: str, simp: str) -> None:
    assert seg.cut(trad) == seg.cut(simp)
    assert ref.cut(trad) == ref.cut(simp)
    assert "执法办案管理中心" in seg.cut("執法辦案管理中心") and "枫桥经验" in seg.cut("楓橋經驗")


# ---------------------------------------------------------------------------------------------- offsets


@pytest.mark.parametrize(
    "text",
    [
        "盐城市公安局打造“智慧法鹰”平台,研发556个功能模块。",
        "执法😀办案👨\u200d👩\u200d👧中心\x00\x07控制\u200b字符\r\n下一行\t制表",
        "ＡＢＣ１２３全角，面积１２０㎡，见①条，Cafe\u0301 法院……",
        "\ufeff各執法辦案管理中心「楓橋經驗」𠀀㐀\u9fea",
        "   ",
        "x",
    ],
)
def test_tokens_slice_the_original_exactly(seg: Segmenter, ref: Segmenter, text: str) -> None:
    for s in (seg, ref):
        toks = s.tokenize(text)
        assert [t.norm for t in toks] == s.cut(text)
        prev_end = 0
        for t in toks:
            assert text[t.start : t.end] == t.text
            assert t.start >= prev_end - 1 and t.end > t.start  # ordered (an NFKC expansion may share a char)
            assert not t.norm.isspace()
            prev_end = t.end


def test_tokenize_on_corpus_reconstructs_the_text(seg: Segmenter, corpus_text: str) -> None:
    toks = seg.tokenize(corpus_text)
    rebuilt = []
    pos = 0
    for t in toks:
        rebuilt.append(corpus_text[pos : t.start])
        assert corpus_text[pos : t.start].isspace() or pos == t.start
        rebuilt.append(t.text)
        pos = t.end
    rebuilt.append(corpus_text[pos:])
    assert "".join(rebuilt) == corpus_text


# ---------------------------------------------------------------------------------------------- backends


@needs_rjieba
def test_backends_agree_on_bundled_corpus(seg: Segmenter, ref: Segmenter, corpus_text: str) -> None:
    assert seg.backend == "rjieba" and ref.backend == "jieba"
    assert seg.cut(corpus_text) == ref.cut(corpus_text)
    assert seg.tokenize(corpus_text) == ref.tokenize(corpus_text)
    paras = [p for p in corpus_text.split("\n") if p.strip()]
    assert seg.cut_many(paras) == ref.cut_many(paras)


@needs_rjieba
def test_backends_agree_on_constructs_they_treat_differently(seg: Segmenter, ref: Segmenter) -> None:
    # raw jieba and jieba-rs differ on these (joined Latin runs, rare ideographs); our pre-splitting aligns
    # them
    for s in [
        "盐城x_y推进",
        "email@x.com推",
        "v1.2.3",
        "中3.5.6中",
        "COVID-19",
        "法院㐀㐁审判",
        "𠀀𠀁案件",
        "鿪鿠",
    ]:
        assert seg.cut(s) == ref.cut(s), s


@needs_rjieba
@pytest.mark.slow
def test_backends_agree_on_generated_1mb_text(seg: Segmenter, ref: Segmenter) -> None:
    text = _mixed_text(1_000_000, seed=11)
    assert len(text) >= 1_000_000
    a = seg.cut(text)
    b = ref.cut(text)
    assert len(a) > 300_000
    assert a == b


def test_backend_choice_and_errors() -> None:
    with pytest.raises(InputError, match="backend"):
        Segmenter(backend="spacy")  # type: ignore[arg-type]
    assert Segmenter(backend="auto", builtin_dict=False).backend == (
        "rjieba" if _rjieba_available() else "jieba"
    )


# ---------------------------------------------------------------------------------------------- batches


def test_cut_many_equals_cut(seg: Segmenter, ref: Segmenter) -> None:
    rng = random.Random(3)
    text = _mixed_text(60_000, seed=3)
    texts = []
    for line in text.split("\n"):
        while line:
            k = rng.randint(0, 90)
            texts.append(line[:k])
            line = line[k:]
    texts += [
        "",
        " ",
        "\n",
        "a\r",
        "\r\n",
        "中文\n",
        "\n中文",
        "(中",
        "文)",
        '"中',
        '文"',
        "㎡",
        "\u0301x",
        "\u3000",
    ]
    rng.shuffle(texts)
    expected = [seg.cut(t) for t in texts]
    assert seg.cut_many(texts) == expected
    assert seg.cut_many(texts, batch_size=7) == expected
    assert seg.cut_many(iter(texts[:20])) == expected[:20]
    assert ref.cut_many(texts[:200]) == [ref.cut(t) for t in texts[:200]]
    assert seg.cut_many([]) == []


def test_batch_fast_path_equals_cutting_text_by_text(seg: Segmenter, ref: Segmenter) -> None:
    # The batch path splits newline separators off with the protected spans and marks them with NUL, and
    # filters whitespace tokens only in the texts that hold whitespace: it must equal cut() text by text.
    rng = random.Random(5)
    pieces = [
        "坚持发展新时代“枫桥经验”",
        "“智慧法鹰”",
        "‘一站式’",
        "「輕案快辦」",
        "2023年11月17日",
        "1+3+11",
        "556个",
        "COVID-19",
        "www.court.gov.cn",
        "㐀",
        " ",
        "\t",
        "\u3000",
        "\u1680",
        "\u2028",
        "\u00a0",
        "\x00",
        "online mediation",
        "近年来,盐城",
        "结束.",
        "(街道)",
        "“”",
        "“ ”",
        "x“1+3+11”y",
        "１２３",
        "㎡",
    ]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 6))) for _ in range(600)]
    assert all("\n" not in t and not t.endswith("\r") for t in texts)  # so the fast path runs
    for s in (seg, ref):
        assert s._cut_batch(texts) == [s.cut(t) for t in texts]
        assert s.cut_many(texts, batch_size=50) == [s.cut(t) for t in texts]


def test_newline_split_pattern_only_adds_newline_spans(corpus_text: str) -> None:
    t = normalize_text(_mixed_text(100_000, seed=8) + corpus_text)
    for q in (12, 0):
        parts = _protect_split_re(q, newline=True).split(t)
        assert "".join(parts) == t
        expected: list[str] = []
        for line in t.split("\n"):
            expected += [*_protect_split_re(q).split(line)[1::2], "\n"]
        assert parts[1::2] == expected[:-1]


def test_marked_single_backend_call_equals_cutting_gaps_one_by_one(seg: Segmenter, ref: Segmenter) -> None:
    # _cut_norm replaces spans by NUL (quoted names: their quotes around a NUL) and cuts once; by definition
    # it must equal cutting every gap between protected spans on its own.
    t = normalize_text(_mixed_text(40_000, seed=12) + "“甲乙”“丙丁”‘戊’“”x“1”")
    for s in (seg, ref):
        parts = s._protect_split.split(t)
        expected: list[str] = []
        for k, part in enumerate(parts):
            if k % 2 == 0:
                expected += s._backend.cut(part) if part else []
            elif part[0] in "“‘":
                expected += [part[0], part[1:-1], part[-1]]
            else:
                expected.append(part)
        assert s._cut_norm(t) == expected


def test_whitespace_in_normalised_text_is_only_what_the_batch_path_looks_for() -> None:
    from yanreform.text.segment import _NORM_SPACES

    allowed = set(_NORM_SPACES + "\n")
    for cp in range(0x110000):
        ch = chr(cp)
        if 0xD800 <= cp < 0xE000:
            continue
        nfkc = unicodedata.normalize("NFKC", ch)
        if ch.isspace() or any(c.isspace() for c in nfkc):
            assert {c for c in normalize_text(ch) if c.isspace()} <= allowed, hex(cp)


@pytest.mark.slow
def test_cut_many_in_worker_processes(seg: Segmenter) -> None:
    texts = ["坚持发展新时代枫桥经验", "推进府院联动", "打造“智慧法鹰”平台"] * 10
    s = Segmenter(words=[("童叟无忧直通平台", 5000, "nz")], backend=seg.backend)  # type: ignore[arg-type]
    texts.append("打造童叟无忧直通平台")
    assert s.cut_many(texts, n_jobs=2, batch_size=4) == [s.cut(t) for t in texts]


# ---------------------------------------------------------------------------------------------- bad input


def test_bad_input(seg: Segmenter) -> None:
    for bad in (None, b"x", 1):
        with pytest.raises(TypeError, match="text"):
            seg.cut(bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="text"):
            seg.tokenize(bad)  # type: ignore[arg-type]
    assert seg.cut("") == [] and seg.tokenize("") == [] and seg.cut("  \n\t") == []
    with pytest.raises(TypeError, match="texts"):
        seg.cut_many("一个字符串")
    with pytest.raises(TypeError, match="texts"):
        seg.cut_many(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        seg.cut_many(["好", None])  # type: ignore[list-item]
    with pytest.raises(InputError, match="n_jobs"):
        seg.cut_many(["好"], n_jobs=0)
    with pytest.raises(TypeError, match="text_or_texts"):
        seg.keywords(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"text_or_texts\[0\]"):
        seg.keywords([3])  # type: ignore[list-item]
    with pytest.raises(InputError, match="k must"):
        seg.keywords("好", k=0)


def test_control_chars_and_emoji(seg: Segmenter) -> None:
    s = "\x00执法办案\x01管理中心😀\u200b枫桥经验\x7f"
    assert seg.cut(s) == ["执法办案", "管理中心", "😀", "枫桥经验"]


@pytest.mark.slow
def test_large_text_scales_linearly(seg: Segmenter, corpus_text: str) -> None:
    small = corpus_text * 70  # ~1 MB
    big = small * 4  # ~4 MB
    seg.cut(corpus_text)
    t0 = time.perf_counter()
    n_small = len(seg.cut(small))
    t1 = time.perf_counter()
    n_big = len(seg.cut(big))
    t2 = time.perf_counter()
    assert n_big == 4 * n_small
    # linear: 4x the text takes about 4x the time (generous bound for noisy shared machines)
    assert (t2 - t1) < 8 * (t1 - t0) + 0.5


# ---------------------------------------------------------------------------------------------- dictionaries


def test_load_userdict_is_tolerant(tmp_path: Path, seg: Segmenter) -> None:
    p = tmp_path / "user.txt"
    content = "\r\n".join(
        [
            "# comment line",
            "童叟无忧直通平台",  # only a word
            "",
            "   ",
            "研交办督结 3000",  # word + freq
            "四检合一工作法 2000 nz",  # word + freq + tag
            "线索管家平台 nz",  # word + tag
            "  法治好参谋平台   500   nz  ",  # extra whitespace
            "執法辦案一體化 800",  # traditional entry: normalised
        ]
    )
    p.write_bytes(b"\xef\xbb\xbf" + content.encode("utf-8") + b"\r\n")  # UTF-8 BOM + CRLF
    s = Segmenter(user_dicts=[p], backend=seg.backend)  # type: ignore[arg-type]
    assert s.user_words["研交办督结"] == (3000, None)
    assert s.user_words["四检合一工作法"] == (2000, "nz")
    assert s.user_words["线索管家平台"][1] == "nz"
    assert "执法办案一体化" in s.user_words
    assert "\ufeff童叟无忧直通平台" not in s.user_words and "童叟无忧直通平台" in s.user_words
    assert "童叟无忧直通平台" in s.cut("打造童叟无忧直通平台机制")
    assert "执法办案一体化" in s.cut("推进執法辦案一體化建设")
    assert s.load_userdict(p) == 6


@pytest.mark.parametrize("bad", ["词语 abc 123", "词语 0", "词语 12 nz extra", "词语 -5"])
def test_load_userdict_bad_line_names_file_and_line(tmp_path: Path, bad: str) -> None:
    p = tmp_path / "bad.txt"
    p.write_text("好词\n" + bad + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.txt:2"):
        parse_userdict(p)


def test_load_userdict_missing_and_undecodable(tmp_path: Path, seg: Segmenter) -> None:
    with pytest.raises(FileNotFoundError):
        seg.load_userdict(tmp_path / "nope.txt")
    p = tmp_path / "gbk.txt"
    p.write_bytes("枫桥经验".encode("gbk"))
    with pytest.raises(InputError, match="UTF-8"):
        parse_userdict(p)


def test_add_word_and_words_argument(seg: Segmenter) -> None:
    s = Segmenter(
        words=["线索管家平台", ("红链赋能行动", 4000), ("研交办督结", None, "nz")], backend=seg.backend
    )  # type: ignore[arg-type]
    assert "线索管家平台" in s.cut("升级线索管家平台")
    assert s.user_words["红链赋能行动"] == (4000, None)
    assert s.add_word("數魔法模型") >= 3000  # default frequency; traditional word normalised
    assert "数魔法模型" in s.cut("利用数魔法模型监督")
    with pytest.raises(TypeError):
        s.add_word(None)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="whitespace"):
        s.add_word("两个 词")
    with pytest.raises(InputError, match="empty"):
        s.add_word("  ")
    with pytest.raises(InputError, match="positive"):
        s.add_word("好词", 0)
    with pytest.raises(TypeError, match="freq"):
        s.add_word("好词", "12")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="tag"):
        s.add_word("好词", 10, "n z")
    # the shared fixture is untouched
    assert "线索管家平台" not in seg.user_words


def test_pickle_round_trip_keeps_user_words(seg: Segmenter) -> None:
    s = Segmenter(backend=seg.backend)  # type: ignore[arg-type]
    s.add_word("童叟无忧直通平台", 5000, "nz")
    s2 = pickle.loads(pickle.dumps(s))
    text = "打造童叟无忧直通平台机制"
    assert s2.cut(text) == s.cut(text) and "童叟无忧直通平台" in s2.cut(text)
    assert s2.backend == s.backend


# ---------------------------------------------------------------------------------------------- isolation


def test_segmenter_leaves_global_jieba_untouched(tmp_path: Path) -> None:
    import jieba

    jieba.initialize()
    before_len, before_total = len(jieba.dt.FREQ), jieba.dt.total
    sample = "坚持发展枫桥经验，推进府院联动和轻案快办。"
    before_cut = jieba.lcut(sample)
    for backend in ("jieba", "auto"):
        s = Segmenter(backend=backend, words=[("府院联动新机制", 9000)])  # type: ignore[arg-type]
        s.add_word("轻案快办", 99999)
        s.cut(sample)
    assert len(jieba.dt.FREQ) == before_len and jieba.dt.total == before_total
    assert "枫桥经验" not in jieba.dt.FREQ
    assert jieba.lcut(sample) == before_cut


def test_reference_backend_caches_in_yanreform_cache_dir(ref: Segmenter) -> None:
    assert (_resources.cache_dir() / "jieba.cache").is_file()


def test_default_instance_is_shared() -> None:
    assert Segmenter.default() is Segmenter.default()


# ---------------------------------------------------------------------------------------------- keywords


def test_keywords_put_domain_terms_first(seg: Segmenter) -> None:
    para = (
        "随着轻罪案件不断增多，建湖县人民检察院打造了“轻案快办”办案机制，建立“一站式”轻罪治理中心，"
        "深化检察官训诫，拓展非刑罚措施，健全刑行衔接，将自愿参与公益服务等作为相对不起诉决定的考量因素，"
        "推进轻罪治理，有效提升诉讼效率，对725人责令其具结悔过并进行训诫。"
    )
    kws = seg.keywords(para, k=8)
    assert len(kws) == 8
    words = [w for w, _ in kws]
    scores = [s for _, s in kws]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    domain = set(seg.user_words)
    assert words[0] in domain and sum(w in domain for w in words[:5]) >= 4, kws
    assert {"轻案快办", "轻罪治理", "训诫"} & set(words[:5])
    # stopwords, numbers, counts and punctuation never appear
    assert not {"的", "725人", "，", "“", "推进", "有效"} & set(words)


def test_keywords_list_input_and_edge_cases(seg: Segmenter) -> None:
    out = seg.keywords(["推进府院联动工作机制", "", "的了和"], k=3)
    assert isinstance(out, list) and len(out) == 3
    assert out[0][0][0] == "府院联动"
    assert out[1] == [] and out[2] == []
    assert seg.keywords([]) == []
