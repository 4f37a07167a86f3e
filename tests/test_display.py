"""HTML rendering for notebooks (yanreform.apps.display); no model needed."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from yanreform.apps import display
from yanreform.corpus import parse_collection
from yanreform.tagging import Evidence, Tag

NASTY = '<script>alert("x")</script>&'

COLLECTION = f"""盐城市某某局{NASTY}

打造<b>“智慧”</b>平台

近年来,某某局建设执法大数据平台。

搭建综合支撑平台。整合各类办案平台,实现一键登录<i>。

深化执法办案。提供远程提审等信息化支撑。
"""


class _Collect(HTMLParser):
    """Collects tags and text, and fails on malformed nesting of the tags we emit."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    p.close()
    assert p.stack == [], f"unclosed tags {p.stack}"
    return p


def test_case_html_escapes_and_lists_initiatives() -> None:
    case = parse_collection(COLLECTION)[0]
    html = display.case_html(case)
    assert "<script>" not in html and "<b>“" not in html and "<i>。" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in html
    p = parse(html)
    assert "script" not in p.tags
    assert p.tags.count("li") == len(case.initiatives) == 2
    text = "".join(p.text)
    assert case.title in text and case.lead in text
    assert all(ini.heading in text for ini in case.initiatives)
    # the record keeps a plain fallback; the notebook formatter gets the renderer from display
    assert case._repr_html_() != html and "<table>" in case._repr_html_()
    from IPython.core.formatters import HTMLFormatter

    fmt = HTMLFormatter()
    assert display.register_formatters(fmt) is True
    assert fmt(case) == html


def test_corpus_html_table(corpus) -> None:
    html = display.corpus_html(corpus)
    p = parse(html)
    assert p.tags.count("tr") == len(corpus) + 1  # header + one row per case
    text = "".join(p.text)
    assert "10 cases, 34 initiatives" in text
    assert all(c.id in text and c.agency in text for c in corpus)
    small = display.corpus_html(corpus, max_rows=3)
    assert "… 7 more" in small and parse(small).tags.count("tr") == 5
    from IPython.core.formatters import HTMLFormatter

    fmt = HTMLFormatter()
    display.register_formatters(fmt)
    assert fmt(corpus) == html and corpus.name in corpus._repr_html_()


def _tags(text: str) -> list[Tag]:
    a = text.index("大数据平台")
    b = text.index("平台")
    c = text.index("协同")
    return [
        Tag(
            "digitalisation",
            "数字赋能",
            "Digitalisation",
            0.91,
            (
                Evidence(a, a + 5, text[a : a + 5], "lexicon", "大数据平台"),
                Evidence(b, b + 2, text[b : b + 2], "lexicon", "平台"),
            ),
        ),
        Tag(
            "coordination", "协同联动", "Coordination", 0.55, (Evidence(c, c + 2, "协同", "lexicon", "协同"),)
        ),
        Tag("mystery", "<未知>", "", 0.2, (Evidence(999, 1005, "", "lexicon", "out of range"),)),
    ]


def test_tags_html_chips_and_marks_by_offset() -> None:
    text = "建设<大数据平台>,推动部门协同 & 共享。"
    tags = _tags(text)
    html = display.tags_html(text, tags)
    p = parse(html)
    # one chip per tag, coloured by the fixed palette; unknown codes get a stable fallback colour
    assert html.count('data-code="digitalisation" style="display:inline-block;background:#1f77b4') == 1
    assert display.category_color("coordination") == display.PALETTE["coordination"]
    assert display.category_color("mystery") == display.category_color("mystery")
    assert display.category_color("mystery")[0] in html
    assert "&lt;未知&gt;" in html and "0.91" in html
    # the text is reproduced exactly (escaped) with the evidence inside <mark>
    marks = re.findall(r"<mark[^>]*>(.*?)</mark>", html)
    assert "".join(marks) == "大数据平台协同"
    assert "".join(p.text).endswith(text)
    assert "&lt;" in html and "&amp; 共享" in html
    # a mark carries the colour of the first (best) category covering it and names the terms
    assert 'data-code="digitalisation" style="background:#cfe3f5' in html
    assert 'title="digitalisation: 大数据平台; digitalisation: 平台"' in html


def test_tags_html_empty() -> None:
    html = display.tags_html("没有类别的<文本>", [])
    assert "no category" in html and "&lt;文本&gt;" in html and "<mark" not in html


def test_hits_html() -> None:
    from yanreform.search.index import Hit

    hits = [Hit("yc2024-03", 0.8123, "<标题>", 0.7, 0.9, 0.876), Hit("yc2024-07", 0.5, None, None, None)]
    html = display.hits_html(hits)
    p = parse(html)
    assert p.tags.count("tr") == 3
    text = "".join(p.text)
    assert "yc2024-03" in text and "0.812" in text and "&lt;标题&gt;" in html and "–" in text
    # the 0-1 similarity is shown (and drives the bar: 0.876 * 60 px); a hit without one shows "–"
    assert "similarity" in text and "0.88" in text and "width:53px" in html
    assert "no hits" in display.hits_html([])
