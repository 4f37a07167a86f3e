"""Normalisation for analysis (yanreform.text.normalize): folding, offset maps, bad input, speed screens."""

from __future__ import annotations

import random
import unicodedata

import numpy as np
import pytest

from yanreform import _resources
from yanreform.text.normalize import _KEEP, _STABLE, Normalized, normalize, normalize_text


def _check_map(nz: Normalized) -> None:
    """Structural invariants of the offset map."""
    n = len(nz.text)
    starts, ends = nz.char_map()
    assert starts.shape == ends.shape == (n,)
    assert starts.dtype == ends.dtype == np.int64
    if n:
        assert starts[0] == 0
        assert ends[-1] == len(nz.original)
        assert np.all(np.diff(starts) >= 0) and np.all(np.diff(ends) >= 0)
        assert np.all(ends > starts)
        # consecutive characters either share a source span or are adjacent (no gaps, nothing lost)
        assert np.all((starts[1:] == starts[:-1]) | (starts[1:] == ends[:-1]))
    for i in range(n):
        a, b = nz.span(i, i + 1)
        assert (a, b) == (starts[i], ends[i])


def test_plain_simplified_text_is_unchanged_with_identity_map() -> None:
    s = "盐城市公安局聚焦问题导向，建设应用执法大数据平台。"
    nz = normalize(s)
    assert nz.text == s
    assert nz.original is s
    assert nz.identity
    assert nz.span(3, 6) == (3, 6)
    assert normalize_text(s) == s


def test_width_folding_and_length_changing_nfkc_keep_exact_offsets() -> None:
    s = "面积１２０㎡，见①条ＡＢＣ"
    nz = normalize(s)
    assert nz.text == "面积120m2，见1条ABC"
    assert not nz.identity
    _check_map(nz)
    i = nz.text.index("m2")
    assert s[slice(*nz.span(i, i + 2))] == "㎡"  # the two expanded characters map to the one source character
    assert s[slice(*nz.span(i, i + 1))] == "㎡"
    j = nz.text.index("ABC")
    assert s[slice(*nz.span(j, j + 3))] == "ＡＢＣ"
    assert nz.span(len(nz.text), len(nz.text)) == (len(s), len(s))  # empty span at the end


def test_composition_maps_back_to_whole_source_cluster() -> None:
    s = "Cafe\u0301 法院"  # e + combining acute composes to é under NFKC
    nz = normalize(s)
    assert nz.text == "Café 法院"
    _check_map(nz)
    k = nz.text.index("é")
    assert s[slice(*nz.span(k, k + 1))] == "e\u0301"


def test_ellipsis_and_fullwidth_chinese_punctuation_are_kept() -> None:
    s = "案件（共3件）办结……下一步：推进！？；"
    assert normalize_text(s) == s


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("近年来,盐城市公安局", "近年来，盐城市公安局"),
        ("近年来，盐城市公安局", "近年来，盐城市公安局"),
        ("措施:一是;二是!好?", "措施：一是；二是！好？"),
        ("乡镇(街道)法治建设", "乡镇（街道）法治建设"),
        ("(1)推进改革", "（1）推进改革"),
        ('打造"智慧法鹰"平台', "打造“智慧法鹰”平台"),
        ("称为'轻案快办'机制", "称为‘轻案快办’机制"),
        ("「智慧法鹰」『一站式』", "“智慧法鹰”‘一站式’"),
        ("平台建设.下一步", "平台建设。下一步"),
        ("结束.", "结束。"),
        # ASCII context stays ASCII
        ("1,000人 10:30", "1,000人 10:30"),
        ("Hello, world! (v1.2) 'quoted' \"x\"", "Hello, world! (v1.2) 'quoted' \"x\""),
        ("3.5亿元 www.court.gov.cn", "3.5亿元 www.court.gov.cn"),
    ],
)
def test_punctuation_rules(src: str, expected: str) -> None:
    nz = normalize(src)
    assert nz.text == expected
    assert normalize_text(src) == expected
    assert len(nz.text) == len(src)  # punctuation rules never change the length


def test_traditional_to_simplified() -> None:
    assert normalize_text("執法辦案管理中心") == "执法办案管理中心"
    assert normalize_text("堅持和發展新時代「楓橋經驗」") == "坚持和发展新时代“枫桥经验”"
    # simplified text is left alone by t2s (phrase-aware: 著作, 干部 stay)
    assert normalize_text("著作权保护和干部队伍建设") == "著作权保护和干部队伍建设"


def test_bundled_corpus_changes_only_punctuation() -> None:
    s = _resources.corpus_file("yancheng-2024-reform-cases.txt").read_text(encoding="utf-8")
    nz = normalize(s)
    assert nz.identity and len(nz.text) == len(s)
    diffs = {(a, b) for a, b in zip(s, nz.text, strict=True) if a != b}
    assert diffs <= {
        (",", "，"),
        (":", "："),
        (";", "；"),
        ("(", "（"),
        (")", "）"),
        ("!", "！"),
        ("?", "？"),
    }
    assert (",", "，") in diffs


def test_controls_zero_width_and_emoji_keep_offsets() -> None:
    s = "\ufeff执法\x00办案\u200b😀👨\u200d👩\u200d👧\x07中心\r\n"
    nz = normalize(s)
    assert len(nz.text) == len(s) and nz.identity
    assert nz.text == " 执法 办案 😀👨 👩 👧 中心\r\n"
    assert nz.text[7] == "😀" and s[7] == "😀"


def test_fuzzed_text_maps_are_consistent() -> None:
    rng = random.Random(7)
    pieces = [
        "执法",
        "辦案",
        "，",
        ",",
        "①",
        "㎡",
        "½",
        "Ａ",
        "e\u0301",
        "\u0301",
        "😀",
        "\x00",
        "…",
        "「",
        "」",
        "(",
        ")",
        '"',
        " ",
        "\n",
        "ﬁ",
        "㈠",
        "Ⅻ",
        "ｶ",
        "ﾞ",
        "가",
        "\u1100\u1161",
        "\u3000",
        ".",
    ]
    for _ in range(200):
        s = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        nz = normalize(s)
        assert nz.text == normalize_text(s)
        _check_map(nz)
        # every normalised character is accounted for by the source span it maps to
        for i in range(len(nz.text)):
            a, b = nz.span(i, i + 1)
            assert 0 <= a < b <= len(s)


def test_normalisation_is_idempotent() -> None:
    # Downstream modules normalise once and may hand the result to functions that normalise again.
    s = _resources.corpus_file("yancheng-2024-reform-cases.txt").read_text(encoding="utf-8")
    s += "執法辦案「智慧法鷹」ＡＢＣ１２３①㎡……(街道)\"中文\"'中文'平台.下一步,是;吗?好!Cafe\u0301"
    once = normalize_text(s)
    assert normalize_text(once) == once


def test_spans_vectorised_matches_span() -> None:
    s = "①②执法㎡办案"
    nz = normalize(s)
    starts = [0, 2, 4]
    ends = [2, 4, len(nz.text)]
    got = nz.spans(starts, ends)
    assert got == ([nz.span(a, b)[0] for a, b in zip(starts, ends, strict=True)],
                   [nz.span(a, b)[1] for a, b in zip(starts, ends, strict=True)])  # fmt: skip


def test_bad_input() -> None:
    for bad in (None, b"bytes", 3):
        with pytest.raises(TypeError, match="text must be str"):
            normalize(bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="text must be str"):
            normalize_text(bad)  # type: ignore[arg-type]
    nz = normalize("")
    assert nz.text == "" and nz.span(0, 0) == (0, 0)
    with pytest.raises(IndexError):
        normalize("abc").span(2, 5)
    with pytest.raises(IndexError):
        normalize("abc").span(2, 1)


def test_stable_screen_characters_really_are_stable() -> None:
    # The slow path trusts that these characters never change or compose under NFKC.
    import re

    cls = re.compile(f"[{_STABLE}]")
    for cp in range(0x110000):
        ch = chr(cp)
        if 0xD800 <= cp < 0xE000 or ch in _KEEP or not cls.match(ch):
            continue
        assert unicodedata.normalize("NFKC", ch) == ch, hex(cp)
        assert unicodedata.combining(ch) == 0, hex(cp)


def test_large_text_is_fast_and_identity_when_length_kept() -> None:
    import time

    s = _resources.corpus_file("yancheng-2024-reform-cases.txt").read_text(encoding="utf-8") * 70  # ~1 MB
    normalize_text("预热")
    t0 = time.perf_counter()
    nz = normalize(s)
    elapsed = time.perf_counter() - t0
    assert nz.identity and len(nz.text) == len(s)
    assert elapsed < 2.0  # ~0.03 s on an idle core; generous for shared CI machines


def test_marks_in_and_out_of_chinese_context_match_the_per_mark_rule() -> None:
    # _punct replaces every mark and puts back the few outside Chinese context (or, when those are the
    # majority, converts only the ones in context): both must equal the rule read mark by mark.
    from yanreform.text.normalize import _PUNCT_MAP, _RE_PUNCT, _punct

    def per_mark(s: str) -> str:
        return _RE_PUNCT.sub(lambda m: _PUNCT_MAP[m.group()], s)

    rng = random.Random(11)
    pieces = ["中", "文", "a", "1", " ", "\n", ",", ";", ":", "!", "?", "“", "”", "，", "、", "x,y", "1,000"]
    for _ in range(3000):
        s = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        if "(" not in s and '"' not in s and "'" not in s and "." not in s:
            assert _punct(s) == per_mark(s), repr(s)
    mostly_ascii = "Hello, world; yes: ok! why? " * 50 + "中,文"
    assert _punct(mostly_ascii) == per_mark(mostly_ascii)
    mostly_chinese = "近年来,盐城;措施:好!吗?" * 50 + " 1,000 a:b "
    assert _punct(mostly_chinese) == per_mark(mostly_chinese)


def test_supplementary_plane_screen_agrees_with_a_scan() -> None:
    # _has_smp reads the storage width CPython chose for the string instead of scanning it.
    from yanreform.text.normalize import _RE_SMP, _has_smp

    rng = random.Random(3)
    alphabet = ["a", "é", "ÿ", "Ā", "中", "\uffff", "😀", "\U00020000", "\U0010ffff", "\x00"]
    for _ in range(5000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        assert _has_smp(s) == (_RE_SMP.search(s) is not None), repr(s)
        s.encode("utf-8")
        assert _has_smp(s[1:] + s[:1]) == (_RE_SMP.search(s) is not None)
    big = "中" * 100_000
    assert not _has_smp(big) and _has_smp(big + "😀") and _has_smp("😀" + big)


def test_unpaired_surrogate_is_a_clear_input_error() -> None:
    from yanreform.errors import InputError

    for fn in (normalize, normalize_text):
        with pytest.raises(InputError, match="unpaired surrogate U\\+D800 at position 2"):
            fn("推进\ud800建设")
