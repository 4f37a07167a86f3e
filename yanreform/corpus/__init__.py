"""Parse reform case collections into :class:`Case` / :class:`Initiative` records with exact offsets.

A collection (政法改革案例汇编) is plain text: an optional header block (collection title, a
subtitle such as ``——2024年…案例简介``, perhaps an issuing body or a preface), then per case an
agency line, a title line, an overview paragraph (the *lead*), initiative paragraphs and sometimes
a closing result paragraph (the *outcome*).

The only changes made to the text: bytes are decoded (:func:`read_collection`), a leading byte-order
mark is dropped and CRLF / CR line endings become ``\\n``. Every stored string (``agency``,
``title``, ``lead``, ``heading``, ``text``, ``outcome``) is an exact slice of that text; traditional
characters, full-width forms and ASCII punctuation stay as written (normalisation belongs to
:mod:`yanreform.text`, for analysis only).

How the structure is recovered (rules meant to carry over to collections from other cities):

* Lines. A *head candidate* is a non-blank line of at most 60 characters without sentence
  punctuation (。！？；) that does not end in a comma, colon or 、; other lines are *body-like*.
* Section labels. A line holding only a section label (【基本情况】, 二、主要做法, 工作成效：, in
  simplified or traditional script) or a paragraph opening with one (【工作成效】2024年…, 成效：…,
  取得成效。…) says which part of the case follows: the overview (基本情况, 背景, 案情…), the measures
  (主要做法, 具体做法, 举措…) or the outcome (成效, 成果, 典型意义, 经验启示, 下一步…). A label is never
  an agency, a title or a measure.
* Case heads. A run of head candidates followed by a body-like line ends in the case's agency and
  title lines (the run's last two lines, skipping a trailing ``——`` subtitle and section label lines;
  a one-line run counts only as ``agency：title``). A run is a case head only if one of the two has
  the shape of an agency (every 、-separated part ends in 公安局, 法院, 检察院, 司法局, 政法委(员会),
  监狱, ... or a generic 局/院/委/所/处/队/会/..., traditional forms too); otherwise it is a heading
  inside the current case. If no line of the text has an agency shape, the structure alone decides. The
  agency is recognised by its place: a title that ends like an agency (``升级大数据联合指挥中心``)
  right after an agency line stays the title. Title-first layouts are recognised by a vote over
  all pairs; a numbered title (``1.打造…``) counts as a head only when an agency line follows it.
  Case numbers (一、, 1., 案例3：, ——), a ``申报单位：`` label, enclosing brackets (【…】) and a
  contributor note (（…供稿）) are cut from the agency, case numbers from the title;
  case-number lines (案例二, 【典型案例一】) and a measures label right under the title (【主要做法】
  with no overview) belong to the head, not the body; lines before the first case are the header
  (``Corpus.meta["header"]``).
* Paragraphs. Consecutive body lines form one paragraph while a line does not end in sentence
  punctuation (a heading line such as ``一、搭建平台`` or ``推行“首接负责”``, or a hard wrap) or holds
  nothing but one headline sentence, unless the next line opens a measure of its own (an
  enumeration marker, or a headline with more text after it or of the same shape). Section labels
  stand alone or open a paragraph.
* Headlines. A *headline sentence* is short: one clause of at most 20 characters, or two
  comma-joined clauses of at most 18 each and 30 in all, ending in 。/！ (or ：, also as the head of a
  longer sentence: ``一是强化组织领导：成立…``), with no Arabic digits outside quotes and not opening
  with a narrative connective (近年来, 目前, 截至, 随着, ...以来); an enumeration marker (一是, （一）,
  1., 第一，) may lead. A paragraph is *headline-led* when its first sentence is a headline, or it
  starts with a heading line or an enumeration marker; the headline becomes the ``heading``.
* Several measures in one paragraph. A paragraph opening with enumeration marker n is cut at the
  markers n+1, n+2, ... of the same series wherever they open a sentence or a clause (after 。, ；
  or ：): ``一是…；二是…；三是…`` gives three measures. A list after a preface ending in ：
  (``具体做法包括：（1）…；（2）…``) is cut the same way when no other measure paragraph of the case
  is headline-led (the preface stays with the first item); after a measure's own headline
  (``强化队伍建设。一是…；二是…``) the items are its sub-points. A list item's heading is its first
  sentence when that is a headline with more text after it, else "". Without an enumeration, a
  later sentence of a headline-led paragraph starts a new measure only if it is a headline of the
  *same shape* as the paragraph's own first headline (same number of clauses, each within max(2,
  25 %) characters of the other's length, quotation marks in the same clauses), more text follows
  it in the paragraph, and the first headline does not announce a count of sub-points (落实“三个保障”:
  the parallel sentences after it are those sub-points).
* Roles with section labels. Everything before a measures label, the label included, is the lead
  (it may span several paragraphs; with nothing before it there is no lead); the paragraphs after
  it are measures; an outcome label opens the outcome, which runs to the end of the case (several
  paragraphs, 典型意义 and 下一步 included). An overview label makes the first paragraph the lead.
  Where the labels leave no measure, they are ignored.
* Roles without labels. A one-paragraph body is one initiative (no lead). Otherwise the first
  paragraph is the lead, unless it is headline-led with the same headline shape as another
  paragraph (or starts with an enumeration marker or heading line). The last paragraph, with an
  initiative paragraph before it and neither numbered nor under a heading line, is the outcome
  when its first sentence reads as a result (该…以来, 目前, 截至, 被…表彰/评为, 入选, 得到…肯定, 成效明显;
  通过…实现 only without a headline), or when it has no headline (a lone short sentence counts as
  none) while every initiative paragraph before it is headline-led: the closer then contrasts with
  the case's own style. So a headline-less final measure in a collection without headlines stays a
  measure. Every other paragraph gives one initiative per measure; one without a headline is an
  initiative with ``heading == ""``.

Text hard-wrapped at a fixed width (copied from a PDF) is first joined back into logical lines
(:func:`_unwrap`); a wrapped head keeps its line break in ``agency``/``title`` (exact slices), while
``agencies`` drop it. Where a full line ends a sentence and the next opens with a headline, an
enumeration marker, a result opener (目前, …以来) or a section label, the break is taken as a
paragraph end, which can be wrong in text with neither blank lines nor indentation; a head line
that happens to fill the width exactly is joined to the next line unless a blank line follows it,
and a collection too short to show its wrap width (fewer than 4 full lines) is not unwrapped.
"""

from __future__ import annotations

import difflib
import html
import logging
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, overload

from .._resources import corpus_dir
from ..errors import InputError, ParseError, UnknownCaseError

logger = logging.getLogger("yanreform")

__all__ = [
    "Case",
    "Corpus",
    "Initiative",
    "available_corpora",
    "collection_id_prefix",
    "decode_collection",
    "is_page_number",
    "load_corpus",
    "parse_collection",
    "read_collection",
]

# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Initiative:
    """One reform measure of a case.

    ``text == case.text[start:end]`` (character offsets into the case body, half-open);
    ``heading`` is the measure's headline sentence (a prefix of ``text``, closing punctuation
    included) or ``""`` when the measure has no recognisable headline. ``id`` is
    ``"{case_id}-i{n}"`` (1-based, file order).
    """

    id: str
    heading: str
    text: str
    start: int
    end: int
    case_id: str

    def __repr__(self) -> str:
        text = self.text if len(self.text) <= 30 else self.text[:29] + "…"
        return (
            f"Initiative(id={self.id!r}, heading={self.heading!r}, start={self.start}, end={self.end}, "
            f"text={text!r})"
        )


@dataclass(frozen=True)
class Case:
    """One case of a collection.

    Attributes:
        id: ``"{prefix}-{nn:02d}"`` in file order.
        agency: the agency line as written (several agencies joined with 、 stay joined).
        agencies: the agency line split into single agencies (list of str, at least one).
        title: the title line as written.
        lead: the overview paragraph, ``""`` if the case has none.
        initiatives: the measures, in order (at least one).
        outcome: the closing result paragraph, ``""`` if none.
        text: the case body (lead, initiatives, outcome and the line breaks between them), exact slice of the
            input; initiative offsets index into it.
        line: 1-based line number of the agency line in the (line-ending normalised) input.
    """

    id: str
    agency: str
    agencies: list[str]
    title: str
    lead: str
    initiatives: list[Initiative]
    outcome: str
    text: str
    line: int

    # Lists make the generated hash fail; (id, text) identifies a case and agrees with ==.
    def __hash__(self) -> int:
        return hash((self.id, self.text))

    def passages(self) -> Iterator[tuple[str, str, str]]:
        """Yield ``(passage_id, kind, text)``: the lead (``"{id}-lead"``, kind ``"lead"``) if any,
        each initiative (its id, kind ``"initiative"``), the outcome (``"{id}-outcome"``, kind
        ``"outcome"``) if any."""
        if self.lead:
            yield f"{self.id}-lead", "lead", self.lead
        for ini in self.initiatives:
            yield ini.id, "initiative", ini.text
        if self.outcome:
            yield f"{self.id}-outcome", "outcome", self.outcome

    def __repr__(self) -> str:
        return (
            f"Case(id={self.id!r}, agency={self.agency!r}, title={self.title!r}, "
            f"initiatives={len(self.initiatives)}, lead={bool(self.lead)}, outcome={bool(self.outcome)}, "
            f"line={self.line})"
        )

    def _repr_html_(self) -> str:
        # A plain table; in a notebook yanreform.apps.display registers the richer renderer for Case.
        rows = [("agency", self.agency), ("title", self.title), ("lead", self.lead)]
        rows += [(ini.id, ini.text) for ini in self.initiatives]
        if self.outcome:
            rows.append(("outcome", self.outcome))
        return _html_table(f"{self.id}", rows)


class Corpus:
    """An ordered collection of cases.

    Iterable (cases in file order), ``len()``, indexable by case id (``corpus["yc2024-01"]``), by position
    (``corpus[0]``) or by slice (a new :class:`Corpus`). ``name`` names the collection; ``meta`` holds its
    metadata (for :func:`load_corpus`, the metadata file; always ``meta["header"]``, the header lines).

    Raises:
        ValueError: two cases share an id.
    """

    def __init__(self, cases: Iterable[Case], name: str | None = None, meta: dict[str, Any] | None = None):
        self.cases: list[Case] = list(cases)
        self.name = name
        self.meta: dict[str, Any] = dict(meta) if meta else {}
        self._by_id: dict[str, Case] = {}
        for case in self.cases:
            if case.id in self._by_id:
                raise InputError(f"duplicate case id {case.id!r} in corpus {name!r}")
            self._by_id[case.id] = case

    @property
    def ids(self) -> list[str]:
        """Case ids in order."""
        return [c.id for c in self.cases]

    def __len__(self) -> int:
        return len(self.cases)

    def __iter__(self) -> Iterator[Case]:
        return iter(self.cases)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, Case):
            return self._by_id.get(key.id) is key
        return key in self._by_id

    @overload
    def __getitem__(self, key: str | int) -> Case: ...
    @overload
    def __getitem__(self, key: slice) -> Corpus: ...
    def __getitem__(self, key: str | int | slice) -> Case | Corpus:
        if isinstance(key, slice):
            return Corpus(self.cases[key], name=self.name, meta=self.meta)
        if isinstance(key, int) and not isinstance(key, bool):
            return self.cases[key]  # IndexError for an out-of-range position, as for a list
        if isinstance(key, str):
            try:
                return self._by_id[key]
            except KeyError:
                near = difflib.get_close_matches(key, self._by_id, n=3, cutoff=0.5)
                hint = f"; did you mean {', '.join(near)}?" if near else ""
                ids = self.ids
                span = f"{ids[0]} … {ids[-1]}" if ids else "none"
                msg = f"no case {key!r} in corpus {self.name!r} (ids: {span}){hint}"
                raise UnknownCaseError(msg) from None
        raise TypeError(
            f"Corpus indices are case ids (str), positions (int) or slices, not {type(key).__name__}"
        )

    def get(self, case_id: str, default: Case | None = None) -> Case | None:
        """The case with this id, or ``default``."""
        return self._by_id.get(case_id, default)

    def initiatives(self) -> Iterator[Initiative]:
        """All initiatives of all cases, in file order."""
        for case in self.cases:
            yield from case.initiatives

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per initiative: ``case_id, agency, title, initiative_id, heading, text, start, end``
        (``start``/``end`` are offsets into the case text)."""
        return [
            {
                "case_id": case.id,
                "agency": case.agency,
                "title": case.title,
                "initiative_id": ini.id,
                "heading": ini.heading,
                "text": ini.text,
                "start": ini.start,
                "end": ini.end,
            }
            for case in self.cases
            for ini in case.initiatives
        ]

    def __repr__(self) -> str:
        n_ini = sum(len(c.initiatives) for c in self.cases)
        return f"Corpus(name={self.name!r}, cases={len(self.cases)}, initiatives={n_ini})"

    def _repr_html_(self) -> str:
        # A plain table; in a notebook yanreform.apps.display registers the richer renderer for Corpus.
        rows = [(c.id, f"{c.agency} · {c.title} ({len(c.initiatives)} initiatives)") for c in self.cases]
        return _html_table(self.name or "corpus", rows)


_LEFT = "text-align:left"


def _html_table(caption: str, rows: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<tr><th style='{_LEFT}'>{html.escape(k)}</th><td style='{_LEFT}'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table><caption>{html.escape(caption)}</caption>{body}</table>"


# --------------------------------------------------------------------------------------------------
# Character classes and patterns
# --------------------------------------------------------------------------------------------------

_SENT_END = "。！？!?"
_CLOSERS = "”’」』）)】〕》\"'"
# A line ending in one of these closes its paragraph (a line ending in ： introduces the next one).
_TERMINAL = _SENT_END + "；;…" + _CLOSERS
_CLOSED = re.compile(r"[。！？!?][”’」』）)\"']*$")  # a line that ends a sentence (not just a quote)
_CLAUSE_SEP = re.compile(r"[，,；;]")
_HEAD_FORBIDDEN = re.compile(r"[。！？!?；;]")
_QUOTED = re.compile(r"“[^”]{0,20}”|「[^」]{0,20}」|『[^』]{0,20}』|《[^》]{0,30}》|\"[^\"]{0,20}\"")
_DIGIT = re.compile(r"[0-9０-９]")
_CN_NUM = "一二三四五六七八九十"
_ENUM = re.compile(
    r"^(?:"
    r"(?P<shi>[一二三四五六七八九十]{1,2})是"
    r"|[（(](?P<paren>[一二三四五六七八九十]{1,2})[）)]"
    r"|(?P<dun>[一二三四五六七八九十]{1,2})[、.．]"
    r"|(?P<arabic>[0-9]{1,2})(?:[、.．](?![0-9])|[）)])"
    r"|[（(](?P<aparen>[0-9]{1,2})[）)]"
    r"|(?P<circ>[①②③④⑤⑥⑦⑧⑨⑩])"
    r"|第(?P<di>[一二三四五六七八九十]{1,2})[，,、]"
    r")\s*"
)
# Narrative openings that never start a headline (overview, results, background).
_NOT_HEADLINE_START = re.compile(
    r"^(?:近年|近期|目前|當前|当前|截至|截止|随着|隨著|为了|為了|由于|由於|同时|同時|此外|另外|其中|累计|累計|"
    r"据统计|據統計|今年|去年|[^，,。]{0,12}以[来來])"
)
# A headline announcing a count of sub-points (落实“三个保障”): its parallel sentences are the sub-points.
_COUNT_WORD = re.compile(
    r"[两兩二三四五六七八九十]{1,2}(?:个|個|项|項|大|类|類|种|種|条|條|方面|位|化|张|張|级|級|环|環|心|联|聯|必)"
)
_OUTCOME_START = re.compile(
    r"^(?:(?:该|該|此|这|這|上述|以上|相关|相關)[^，,。]{0,16}?(?:以[来來]|之后|之後)|[^，,。]{0,12}以[来來][，,]|"
    r"目前|截至|截止|至今|迄今|据统计|據統計|经统计|經統計|数据显示|數據顯示|实践证明|實踐證明|累计|累計)"
)
# 通过…实现… opens results, but also measures (通过数字赋能实现精准监督。): only for headline-less paragraphs.
_OUTCOME_VIA = re.compile(
    r"^(?:通过|通過|经过|經過)[^。]{0,40}(?:实现|實現|取得|有效|提升|提高|下降|减少|減少|增长|增長)"
)
_OUTCOME_ANY = re.compile(
    r"被[^。]{1,30}(?:表彰|评为|評為|列为|列為|确定为|確定為|命名为|命名為|授予|推广|推廣|采用|採用|认定|認定)|"
    r"被[^。]{1,30}(?:报道|報道|刊发|刊發|转发|轉發)|(?:得到|獲得|获得)[^。]{1,30}(?:肯定|批示|表扬|表揚|点赞|點讚)|"
    r"入选|入選|获评|獲評|荣获|榮獲|"
    r"(?:成效|效果|成果)(?:明显|显著|突出|明顯|顯著)"
)
# Agency endings: specific forms score 2, generic unit endings 1 (simplified and traditional).
_AGENCY_SPECIFIC = (
    "公安局", "分局", "派出所", "交警大队", "交警大隊", "刑警大队", "刑警大隊", "人民法院", "法院", "法庭",
    "人民检察院", "人民檢察院", "检察院", "檢察院", "检察分院", "檢察分院", "司法局", "司法所", "司法厅",
    "司法廳", "政法委", "政法委员会", "政法委員會", "委员会", "委員會", "监狱", "監獄", "戒毒所", "看守所",
    "拘留所", "信访局", "信訪局", "律师协会", "律師協會", "法学会", "法學會", "公证处", "公證處", "仲裁委",
    "办公室", "辦公室", "人民政府", "办事处", "辦事處", "管理局", "公安厅", "公安廳", "检察署", "檢察署",
    "警察局", "警署", "法律援助中心", "矫正中心", "矯正中心", "调解中心", "調解中心", "综治中心", "綜治中心",
)  # fmt: skip
_AGENCY_GENERIC = "局院委所处處厅廳队隊会會办辦部庭狱獄站室署科"
_AGENCY_GENERIC_MULTI = ("中心", "政府", "街道", "法学会", "协会", "協會")
_NOT_AGENCY_END = ("格局", "布局", "大局", "结局", "新局", "开局", "開局", "破局", "全局", "当局", "院落")
_PLACE = re.compile(r"[省市县縣区區州旗镇鎮乡鄉盟]|中共")
_AGENCY_LABEL = re.compile(
    r"^(?:(?:申报|申報|报送|報送|推荐|推薦|实施|實施|牵头|牽頭|供稿)?单位|單位)[:：]\s*"
)
_AGENCY_SPLIT = re.compile(r"\s*(?:[、，,；;/／]|\s)\s*")
_AGENCY_CONJ = re.compile(r"[和与與及同暨]")
# A line that only numbers the next case (案例一, 案例 3, （二）): a separator, not body text.
_CASE_LABEL = re.compile(
    r"^[【〔\[]?(?:典型)?(?:案例|案例之)?\s*[（(]?[一二三四五六七八九十百0-9０-９]{1,3}[）)]?\s*[、.．:：]?[】〕\]]?$"
)
# Section labels (基本情况 / 主要做法 / 工作成效 ...) that published collections put before the parts of a
# case, alone on a line (【主要做法】, 二、主要做法, 主要做法：) or opening a paragraph (【工作成效】2024年…,
# 成效：…, 取得成效。…). They are neither agencies, titles nor measures: they say which part follows.
_LABEL_WORDS = {
    "lead": (
        "基本情况", "情况简介", "总体情况", "背景", "背景情况", "工作背景", "改革背景", "案例背景",
        "项目背景", "基本案情", "简要案情", "案情简介", "案例简介", "项目简介", "概况", "改革动因",
        "问题提出",
    ),
    "measures": (
        "主要做法", "具体做法", "经验做法", "工作做法", "创新做法", "做法", "主要举措", "具体举措",
        "工作举措", "改革举措", "创新举措", "举措", "主要措施", "具体措施", "工作措施", "改革内容",
        "主要内容", "做法与成效", "做法及成效", "主要做法及成效",
    ),
    "outcome": (
        "工作成效", "主要成效", "取得成效", "成效", "实践成效", "改革成效", "初步成效", "工作成果",
        "改革成果", "取得成果", "成果", "效果", "工作效果", "实施效果", "经验启示", "启示", "典型意义",
        "推广价值", "经验价值", "下一步打算", "下一步工作", "下一步计划", "专家点评", "案例点评", "点评",
    ),
}  # fmt: skip
_TRAD = str.maketrans(
    "况简总项举创内启义广价验经实践专点评划计体题", "況簡總項舉創內啟義廣價驗經實踐專點評劃計體題"
)
_LABEL_ROLE = {
    w2: role for role, words in _LABEL_WORDS.items() for w in words for w2 in (w, w.translate(_TRAD))
}
_LABEL_ALT = "|".join(sorted(map(re.escape, _LABEL_ROLE), key=len, reverse=True))
_SECTION_LABEL = re.compile(
    r"^(?:[一二三四五六七八九十]{1,2}[、.．]|[（(][一二三四五六七八九十]{1,2}[）)]|[0-9]{1,2}[、.．])?\s*"
    rf"(?:【(?P<b1>{_LABEL_ALT})】|〔(?P<b2>{_LABEL_ALT})〕|\[(?P<b3>{_LABEL_ALT})\]|(?P<plain>{_LABEL_ALT})"
    r"(?P<stop>[：:。]|$))\s*"
)


def _section_label(text: str) -> tuple[str, int] | None:
    """(role, prefix length) of a section label opening ``text`` (role "lead", "measures" or "outcome"),
    or None. A bare label word counts only alone on its line or closed by ：/。 (成效明显 is no label)."""
    m = _SECTION_LABEL.match(text)
    if not m:
        return None
    word = m.group("b1") or m.group("b2") or m.group("b3") or m.group("plain")
    return _LABEL_ROLE[word], m.end()


# Subtitles (——…), collection-title endings, and separator lines of symbols only (***, ——).
_SEPARATOR = re.compile(r"^[\W_]+$")
_HEADERISH = re.compile(r"^[—－\-–―~～]|(?:汇编|彙編|选编|選編|简介|簡介|目录|目錄)$|" + _SEPARATOR.pattern)


def _strip_notes(s: str) -> str:
    """Drop trailing bracketed notes (``盐城市公安局（牵头）``) before looking at the ending."""
    return re.sub(r"(?:[（(][^（()）]{0,20}[）)])+$", "", s).strip()


def _agency_score(part: str) -> int:
    """How much ``part`` looks like one agency name: 0 (not), 1 (generic unit ending), 2+ (specific
    ending); one more when a place name precedes the ending."""
    s = _strip_notes(part)
    if not s or len(s) > 40 or any(s.endswith(x) for x in _NOT_AGENCY_END):
        return 0
    if any(s.endswith(x) for x in _AGENCY_SPECIFIC):
        score = 2
    elif s[-1] in _AGENCY_GENERIC or any(s.endswith(x) for x in _AGENCY_GENERIC_MULTI):
        score = 1
    else:
        return 0
    if _PLACE.search(s[:-1]):
        score += 1
    return score


def _split_agencies(line: str) -> list[str]:
    """Split an agency line into agencies: on 、，/ and spaces, and on 和/与/及 only where every
    side is an agency."""
    # A line break inside a name is a hard wrap (the joined head of wrapped text), not a separator.
    body = re.sub(r"\s*\n\s*", "", _AGENCY_LABEL.sub("", line).strip())
    out: list[str] = []
    for part in _AGENCY_SPLIT.split(body):
        if not part:
            continue
        # 和/与 join agencies only when every side is one (盐都区人民法院与大丰区司法局); inside a name
        # (人力资源和社会保障局) a side is no agency.
        sides = _AGENCY_CONJ.split(part)
        ok = len(sides) > 1 and all(_agency_score(p) > 0 for p in sides)
        out.extend(sides if ok else [part])
    return out or [line]


def _agency_start(line: str) -> int:
    """Length of a case-number prefix on an agency line (``一、盐城市公安局``, ``案例3：…``), else 0."""
    m = (
        _ENUM.match(line)
        or _AGENCY_LABEL.match(line)  # 申报单位：盐城市公安局
        or re.match(r"^(?:典型)?案例\s*[一二三四五六七八九十百0-9]{1,3}\s*[、.．:：\s]\s*", line)
        or re.match(r"^[—－\-–―]+\s*", line)  # 打造…平台 / ——盐城市公安局
    )
    return m.end() if m and _agency_score(line[m.end() :]) >= 2 else 0


def _title_start(line: str) -> int:
    """Length of a case-number prefix on a title line (``1.打造…``, ``案例3：打造…``), else 0."""
    m = _ENUM.match(line) or re.match(
        r"^[【〔\[]?(?:典型)?案例\s*[一二三四五六七八九十百0-9]{1,3}[】〕\]]?\s*[、.．:：\s]?\s*", line
    )
    return m.end() if m and m.end() < len(line) else 0


def _is_label_line(line: str) -> bool:
    """A line holding nothing but a section label (【主要做法】, 二、主要做法, 工作成效：)."""
    lab = _section_label(line)
    return lab is not None and lab[1] == len(line)


def _is_subtitle(line: str) -> bool:
    """A subtitle (——记…), a collection-title line or a separator, but not ——盐城市公安局."""
    return bool(_HEADERISH.search(line)) and not _agency_start(line)


# One-line case heads: agency：title, 【agency】title, title（agency）, title——agency, agency title.
# (DOTALL: a logical line joined from a hard-wrapped head holds a line break.)
_ONE_LINE_HEADS = (
    re.compile(r"^【?(?P<agency>[^：:【】]{2,40}?)】?\s*[：:]\s*(?P<title>\S.{1,60})$", re.S),
    re.compile(r"^【(?P<agency>[^】]{2,40})】\s*(?P<title>\S.{1,60})$", re.S),
    re.compile(r"^(?P<title>.{2,60}?)\s*[（(](?P<agency>[^（）()]{2,40})[）)]$", re.S),
    re.compile(r"^(?P<title>.{2,60}?)\s*[—－]{1,2}\s*(?P<agency>[^—－]{2,40})$", re.S),
    re.compile(r"^(?P<agency>\S{2,40})[ \t\u3000]+(?P<title>\S.{1,60})$"),
)


def _split_head_line(line: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """(agency span, title span) of a one-line case head, or None (spans are offsets into ``line``)."""
    if _AGENCY_LABEL.match(line):
        return None
    for pattern in _ONE_LINE_HEADS:
        m = pattern.match(line)
        if not m or _line_agency_score(m.group("agency")) < 2:
            continue
        if pattern is _ONE_LINE_HEADS[-1] and _line_agency_score(m.group("title")) >= 2:
            continue  # 盐都区人民法院 大丰区司法局: two agencies, no title (…服务中心 is a title)
        return m.span("agency"), m.span("title")
    return None


_WRAPPED = re.compile(
    r"^(?:【(?P<a>[^【】]+)】|〔(?P<b>[^〔〕]+)〕|[（(](?P<c>[^（）()]+)[）)]|\[(?P<d>[^\[\]]+)\])$"
)
_CONTRIBUTED = re.compile(r"(?:供稿|报送|報送|推荐|推薦|申报|申報|提供)(?:单位|單位)?$")


def _agency_span(line: str) -> tuple[int, int]:
    """Span of the agency name in an agency line: without a case number, dash or 申报单位： label
    (``一、盐城市公安局``), enclosing brackets (``【盐城市公安局】``) or a contributor note
    (``（盐城市公安局供稿）``); the whole line when what is left is no agency."""
    start, end = 0, len(line)
    m = _WRAPPED.match(line)
    if m:
        start, end = m.start(m.lastgroup or "a"), m.end(m.lastgroup or "a")
    c = _CONTRIBUTED.search(line, start, end)
    if c and c.start() > start:
        end = c.start()
    start += _agency_start(line[start:end])
    if (start, end) != (0, len(line)) and not _agency_score(line[start:end]):
        return 0, len(line)
    return start, end


def _line_agency_score(line: str) -> int:
    """Agency-likeness of a whole line (every part must be an agency; the weakest part counts)."""
    s, e = _agency_span(line)
    line = line[s:e]
    if _HEADERISH.search(line) or _ENUM.match(line):
        return 0
    body = _AGENCY_LABEL.sub("", line).strip()
    if not body or re.search(r"[，,：:“”\"《》]", body):
        return 0
    parts = _split_agencies(line)
    return min((_agency_score(p) for p in parts), default=0)


# --------------------------------------------------------------------------------------------------
# Sentences and headlines
# --------------------------------------------------------------------------------------------------


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Half-open spans of the sentences of ``text[start:end]`` (split after 。！？ and any closing quotes;
    whitespace between sentences is left out of the spans)."""
    spans: list[tuple[int, int]] = []
    i = start
    n = end
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        j = i
        while j < n and text[j] not in _SENT_END:
            j += 1
        while j < n and text[j] in _SENT_END:
            j += 1
        while j < n and text[j] in _CLOSERS:
            j += 1
        k = j
        while k > i and text[k - 1].isspace():
            k -= 1
        spans.append((i, k))
        i = j
    return spans


@dataclass(frozen=True)
class _Shape:
    clauses: tuple[int, ...]  # clause lengths, quotation marks not counted
    quoted: tuple[bool, ...]  # which clauses hold a quotation
    counts: bool  # announces a count of sub-points (三个保障)
    enum: str | None  # enumeration series ("shi", "paren", ...) or None
    enum_n: int  # the marker's number (0 if none)


def _cn_int(s: str) -> int:
    if s.isdigit():
        return int(s)
    if s == "十":
        return 10
    if len(s) == 2 and s[0] == "十":
        return 10 + _CN_NUM.index(s[1]) + 1
    if len(s) == 2 and s[1] == "十":
        return (_CN_NUM.index(s[0]) + 1) * 10
    return _CN_NUM.index(s[0]) + 1 if s and s[0] in _CN_NUM else 0


def _enum_of(sentence: str) -> tuple[str | None, int, int]:
    """(series, number, marker length) of a leading enumeration marker, or (None, 0, 0)."""
    m = _ENUM.match(sentence)
    if not m:
        return None, 0, 0
    for key in ("shi", "paren", "dun", "arabic", "aparen", "circ", "di"):
        val = m.group(key)
        if val:
            num = "①②③④⑤⑥⑦⑧⑨⑩".index(val) + 1 if key == "circ" else _cn_int(val)
            return key, num, m.end()
    return None, 0, 0


def _headline_shape(sentence: str, *, allow_colon: bool = False) -> _Shape | None:
    """The shape of ``sentence`` if it is a headline sentence, else None (see the module docstring)."""
    s = sentence.strip()
    enum, enum_n, mlen = _enum_of(s)
    s = s[mlen:]
    enders = _SENT_END + ("：:" if allow_colon else "")
    trimmed = s.rstrip(_CLOSERS)  # 。” closes a sentence too
    if trimmed and trimmed[-1] in enders:
        s = trimmed
    if not s or s[-1] not in enders:
        return None
    core = s.rstrip(enders)
    if not core or _HEAD_FORBIDDEN.search(core) or _NOT_HEADLINE_START.match(core):
        return None
    if _DIGIT.search(_QUOTED.sub("", core)):
        return None
    parts = [p for p in _CLAUSE_SEP.split(core)]
    if any(not p.strip() for p in parts) or len(parts) > 2:
        return None
    lens = tuple(len(re.sub(r"[“”「」『』\"'‘’《》\s]", "", p)) for p in parts)
    if len(parts) == 1:
        if not 2 <= lens[0] <= 20:
            return None
    elif any(x < 2 or x > 18 for x in lens) or sum(lens) > 30:
        return None
    quoted = tuple(bool(re.search(r"[“「『《\"]", p)) for p in parts)
    return _Shape(lens, quoted, bool(_COUNT_WORD.search(core)), enum, enum_n)


def _same_shape(a: _Shape, b: _Shape) -> bool:
    """Whether two headlines are parallel (same clause count, similar clause lengths, same quoting)."""
    if len(a.clauses) != len(b.clauses) or a.quoted != b.quoted:
        return False
    return all(
        abs(x - y) <= max(2, round(0.25 * max(x, y))) for x, y in zip(a.clauses, b.clauses, strict=True)
    )


# --------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------


@dataclass
class _Line:
    no: int  # 1-based line number
    start: int  # offsets of the stripped content in the normalised text
    end: int
    text: str
    gap: bool = False  # a blank line precedes it

    @property
    def head(self) -> bool:
        """A head candidate: short, no sentence punctuation, not ending like an unfinished clause."""
        t = self.text
        return len(t) <= 60 and not _HEAD_FORBIDDEN.search(t) and t[-1] not in "，,、：:；;"

    @property
    def terminal(self) -> bool:
        """The line closes its paragraph: it ends a sentence (or clause list), or ends in a closing
        bracket or quote while being no heading candidate (推行“首接负责” heads the next line)."""
        t = self.text
        core = t.rstrip(_CLOSERS)
        if core and core[-1] in _SENT_END + "；;…":
            return True
        return t[-1] in _CLOSERS and (not self.head or _section_label(t) is not None)


@dataclass
class _Para:
    start: int  # offsets into the case text
    end: int
    lines: list[_Line] = field(default_factory=list)
    heading_line: bool = False  # the first line is a heading of its own (一、搭建平台)
    label: str | None = None  # role of a section label opening the paragraph ("lead", "measures", "outcome")
    label_end: int = 0  # end of that label (offset into the case text)


def _normalise(text: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


# A line holding only a page number, as printed in a footer and kept by a PDF or Word text export:
# "- 2 -", "—2—", "第 2 页", "第2页 共10页", "2 / 10", "Page 2 of 10", "·2·". Not content.
_PAGE_NUMBER = re.compile(
    r"^[-－—–―~～·•]\s*\d{1,4}\s*[-－—–―~～·•]$|^\d{1,4}$"
    r"|^第\s*\d{1,4}\s*页(?:\s*[/，,、]?\s*共\s*\d{1,4}\s*页)?$"
    r"|^\d{1,4}\s*/\s*\d{1,4}$"
    r"|^(?:page|p\.)\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$",
    re.IGNORECASE,
)


def is_page_number(line: str) -> bool:
    """True for a line that is only a page number (``- 2 -``, ``第2页 共10页``, ``2/10``)."""
    return _PAGE_NUMBER.match(line) is not None


def _lines(text: str) -> list[_Line]:
    """The non-blank lines of ``text``, page-number lines left out: a page number sits where a page ended,
    so it neither ends a paragraph (the lines around it join as if it were absent) nor is ever part of a
    case's lead, measures or outcome at the end of a case."""
    out: list[_Line] = []
    pos = 0
    gap = False
    for no, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        if stripped and is_page_number(stripped):
            pos += len(raw) + 1
            continue
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            out.append(_Line(no, pos + lead, pos + lead + len(stripped), stripped, gap))
        gap = not stripped
        pos += len(raw) + 1
    return out


def _width(s: str) -> int:
    """Display width in columns (wide and full-width characters count 2)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _unwrap(doc: str, lines: list[_Line]) -> list[_Line]:
    """Join lines of text hard-wrapped at a fixed width into logical lines (spans stay exact).

    Wrapping is detected when many lines (at least 4 and 15 %) fill the same width W of 20 columns or
    more (within 2 columns), almost none is wider and most of those full lines break mid-sentence. A
    full line then continues on the next line unless it closes a sentence and the next line is short
    and unpunctuated (an agency or title line) or opens with a headline, an enumeration marker, a
    result opener or a section label; a line opening with a bracketed section label (【工作成效】)
    always starts anew, and nothing joins across a blank line. When blank lines separate the
    paragraphs, only a blank line ends one.
    """
    if len(lines) < 8:
        return lines
    widths = [_width(ln.text) for ln in lines]
    best, wrap = 0, 0
    for w in {x for x in widths if x >= 20}:  # (short label or title lines are no wrap width)
        count = sum(1 for x in widths if w - 2 <= x <= w)
        if count > best or (count == best and w > wrap):
            best, wrap = count, w
    if wrap < 20 or best < max(4, 0.15 * len(lines)) or sum(x > wrap for x in widths) > 0.05 * len(lines):
        return lines
    # Wrapped lines break mid-sentence; lines of one width that mostly end a sentence are paragraphs
    # of similar length, not a wrap.
    full_lines = [ln for ln, x in zip(lines, widths, strict=True) if wrap - 2 <= x <= wrap]
    if 2 * sum(_CLOSED.search(ln.text) is not None for ln in full_lines) > len(full_lines):
        return lines
    # Blank lines after (nearly) every short line: paragraphs are blank-line separated, so only a blank
    # line ends a paragraph.
    short = [k for k, x in enumerate(widths[:-1]) if x < wrap - 2]
    gapped = bool(short) and sum(lines[k + 1].gap for k in short) >= 0.8 * len(short)
    out: list[_Line] = []
    cur: _Line | None = None
    for k, ln in enumerate(lines):
        cur = ln if cur is None else _Line(cur.no, cur.start, ln.end, doc[cur.start : ln.end], cur.gap)
        nxt = lines[k + 1] if k + 1 < len(lines) else None
        full = widths[k] >= wrap - 2
        # After a full line that closes a sentence, a short unpunctuated line (agency, title) or a
        # headline starts anew.
        closed = _CLOSED.search(ln.text) is not None
        starts_anew = nxt is not None and (
            (nxt.head and _width(nxt.text) < wrap - 2)
            or _para_headline_led(nxt.text)
            or _section_label(nxt.text) is not None
            or _OUTCOME_START.match(nxt.text) is not None
        )
        # A bracketed section label (【基本情况】…) or a label alone always opens a line of its own.
        labelled = nxt is not None and (
            _is_label_line(nxt.text) or (nxt.text[0] in "【〔[" and _section_label(nxt.text) is not None)
        )
        if nxt is None or nxt.gap or (not gapped and (not full or (closed and starts_anew) or labelled)):
            out.append(cur)
            cur = None
    return out


def _find_heads(lines: list[_Line]) -> list[tuple[int, int, int, int]]:
    """Case heads as (agency, title, first body line, head zone start) indices into ``lines``;
    title index -1 if none. The head zone also holds case-number lines (案例二) before the agency line; they
    belong to no case body."""
    runs: list[tuple[int, int]] = []  # [a, b) runs of head candidates followed by a body-like line
    i = 0
    n = len(lines)
    while i < n:
        if lines[i].head:
            j = i
            while j < n and lines[j].head:
                j += 1
            if j < n:
                runs.append((i, j))
            i = j
        else:
            i += 1

    def pair(a: int, b: int) -> tuple[int, int] | None:
        k = b
        while k > a and _is_subtitle(lines[k - 1].text):
            k -= 1  # a subtitle under the case title (——记…) is neither agency nor title
        if k - a < 2:
            return None
        x, y = lines[k - 2], lines[k - 1]
        if _is_subtitle(x.text) or _CASE_LABEL.match(x.text) or _CASE_LABEL.match(y.text):
            return None
        if _is_label_line(x.text):
            return None
        # Numbered headings (一、主要做法 / 1.搭建平台) are not case heads; a numbered agency line is, and so
        # is a numbered title followed by its agency line (1.打造… / ——西岭县人民法院).
        if _ENUM.match(y.text) or (
            _ENUM.match(x.text) and not _agency_start(x.text) and _line_agency_score(y.text) < 2
        ):
            return None
        return k - 2, k - 1

    # Agency and title on one line (盐城市公安局：打造…) when most runs end in such a line; otherwise a
    # preceding agency-shaped line (an issuer in the header) would pair with it.
    # Section label lines closing a run (一、基本情况 under the title) open the case body.
    label_runs: list[tuple[int, int]] = []
    for a, b in runs:
        while b > a and _is_label_line(lines[b - 1].text):
            b -= 1
        label_runs.append((a, b))
    runs = [(a, b) for a, b in label_runs if b > a]
    one_line = [_split_head_line(lines[b - 1].text) is not None for _, b in runs]
    one_line_style = 2 * sum(one_line) > len(runs)
    found: list[tuple[int, int, int, int, int]] = []  # (line x, line y, body, zone start, agency score)
    for (a, b), single in zip(runs, one_line, strict=True):
        p = pair(a, b)
        if single and (one_line_style or p is None or not _line_agency_score(lines[p[0]].text)):
            x, y, sx, sy = b - 1, -1, 2, 0
        elif p is not None:
            x, y = p
            sx, sy = _line_agency_score(lines[x].text), _line_agency_score(lines[y].text)
        elif _line_agency_score(lines[b - 1].text) >= 3:  # an agency line without a title line
            x, y, sx, sy = b - 1, -1, 3, 0
        else:
            continue
        zone = x
        while zone > a and (
            _CASE_LABEL.match(lines[zone - 1].text) or _SEPARATOR.match(lines[zone - 1].text)
        ):
            zone -= 1
        found.append((x, y, b, zone, max(sx, sy)))
    heads = [f for f in found if f[4] > 0]
    if not heads:
        # No line anywhere looks like an agency: the structure alone decides (two short lines, text).
        heads = [f for f in found if f[1] >= 0]
    # Agency first (the common layout) unless most pairs clearly put the title first.
    votes = 0
    for x, y, *_ in heads:
        if y >= 0:
            sx, sy = _line_agency_score(lines[x].text), _line_agency_score(lines[y].text)
            votes += (sy > sx) - (sx > sy)
    return [(y, x, b, z) if y >= 0 and votes > 0 else (x, y, b, z) for x, y, b, z, _ in heads]


def _paragraphs(lines: list[_Line], base: int) -> list[_Para]:
    """Group body lines into paragraphs (offsets relative to ``base``, the case text start)."""
    paras: list[_Para] = []
    cur: list[_Line] = []
    for k, ln in enumerate(lines):
        cur.append(ln)
        nxt = lines[k + 1] if k + 1 < len(lines) else None
        if nxt is not None and not _is_label_line(ln.text) and _section_label(nxt.text) is None:
            # (a section label stands alone or opens a paragraph)
            if not ln.terminal:
                continue  # hard wrap or a heading line: the paragraph goes on
            if len(cur) == 1 and _is_headline_only(ln.text) and not _opens_parallel(ln.text, nxt.text):
                continue  # a headline alone on its line heads the next line's text
        paras.append(_Para(cur[0].start - base, cur[-1].end - base, cur))
        cur = []
    for p in paras:
        first = p.lines[0]
        label = _section_label(first.text)
        if label is not None:
            p.label, p.label_end = label[0], p.start + label[1]
        p.heading_line = (
            len(p.lines) > 1
            and label is None
            and ((first.head and len(first.text) <= 40) or _is_headline_only(first.text))
        )
    return paras


def _opens_parallel(headline: str, line: str) -> bool:
    """Whether ``line`` opens a measure of its own next to the headline-only line ``headline``: it starts
    with an enumeration marker, or with a headline that more text follows or of the same shape (a lone
    long sentence after a headline is that headline's text)."""
    if _ENUM.match(line):
        return True
    spans = _sentences(line, 0, len(line))
    b = _headline_shape(line[spans[0][0] : spans[0][1]], allow_colon=True) if spans else None
    if b is None:
        return False
    a = _headline_shape(headline, allow_colon=True)
    return len(spans) > 1 or (a is not None and _same_shape(a, b))


def _is_headline_only(line: str) -> bool:
    spans = _sentences(line, 0, len(line))
    return len(spans) == 1 and _headline_shape(line, allow_colon=True) is not None


def _para_headline_led(line: str) -> bool:
    spans = _sentences(line, 0, len(line))
    if not spans:
        return False
    first = line[spans[0][0] : spans[0][1]]
    return _headline_shape(first, allow_colon=True) is not None or _ENUM.match(line) is not None


def _first_headline(case_text: str, p: _Para) -> tuple[int, _Shape | None]:
    """End offset (into the case text) of the paragraph's heading, and its shape; (start, None) if none."""
    if p.heading_line:
        first = p.lines[0]
        end = p.start + len(first.text)
        return end, _headline_shape(first.text, allow_colon=True) or _Shape(
            (len(first.text),), (False,), False, *_enum_of(first.text)[:2]
        )
    spans = _sentences(case_text, p.start, p.end)
    if not spans:
        return p.start, None
    s0, e0 = spans[0]
    e0, shape = _headline_at(case_text, s0, e0)
    if shape is not None:
        return e0, shape
    enum, num, _ = _enum_of(case_text[s0:e0])
    if enum is not None:
        return p.start, _Shape((), (), False, enum, num)  # numbered measure without a headline
    return p.start, None


def _headline_at(case_text: str, s: int, e: int) -> tuple[int, _Shape | None]:
    """The headline opening the sentence ``case_text[s:e]``: the whole sentence, or the part up to a
    colon (一是强化组织领导：成立…); returns (headline end, shape), or (e, None) if there is none."""
    shape = _headline_shape(case_text[s:e], allow_colon=True)
    if shape is not None:
        return e, shape
    m = _COLON.search(case_text, s, min(e, s + 32))
    if m is not None and m.end() < e:
        shape = _headline_shape(case_text[s : m.end()], allow_colon=True)
        if shape is not None:
            return m.end(), shape
    return e, None


_COLON = re.compile(r"[：:]")


def _enum_markers(case_text: str, start: int, end: int) -> list[tuple[int, str, int]]:
    """Enumeration markers (position, series, number) in ``case_text[start:end]`` at the start or
    right after sentence or clause punctuation (。；：), in order."""
    out: list[tuple[int, str, int]] = []
    pos = start
    while pos < end:
        i = pos
        while i < end and case_text[i].isspace():
            i += 1
        enum, num, _ = _enum_of(case_text[i : min(end, i + 8)])
        if enum is not None:
            out.append((i, enum, num))
        m = _MARKER_AFTER.search(case_text, i + 1, end)
        if m is None:
            break
        pos = m.end()
    return out


_MARKER_AFTER = re.compile(r"[。！？!?；;：:]")
_SENT_STOP = re.compile(r"[。！？!?]+")


def _close_end(text: str, i: int, end: int) -> int:
    """``i`` moved past closing quotes and brackets (a sentence ends after 。”)."""
    while i < end and text[i] in _CLOSERS:
        i += 1
    return i


def _enum_cuts(
    case_text: str, p: _Para, markers: list[tuple[int, str, int]], allow_preface: bool
) -> list[int] | None:
    """Where the paragraph's own enumeration starts its measures: the paragraph opens with marker n
    (or, with ``allow_preface``, a preface ending in ： is followed by marker 1) and markers n+1,
    n+2, ... of the same series follow at sentence or clause starts. None if there is no such run."""
    if not markers:
        return None
    first_pos, series, num = markers[0]
    lead_text = case_text[p.start : first_pos].strip()
    if lead_text and not (allow_preface and num == 1 and lead_text[-1] in "：:"):
        return None
    cuts = [first_pos]
    want = num + 1
    for pos, ser, n in markers[1:]:
        if ser == series and n == want:
            cuts.append(pos)
            want += 1
    return cuts


def _split_measures(case_text: str, p: _Para, *, allow_preface: bool = False) -> list[tuple[int, int, int]]:
    """Measures of a paragraph as (start, end, heading end) offsets into the case text.

    ``allow_preface``: a paragraph ``具体做法包括：（1）…；（2）…`` is split at its markers (its case has
    no other headline-led measure paragraph, so the list holds the measures, not sub-points)."""
    head_end, shape = _first_headline(case_text, p)
    cuts: list[tuple[int, int]] = [(p.start, head_end)]
    listed = False
    if not p.heading_line:
        enum = _enum_cuts(case_text, p, _enum_markers(case_text, p.start, p.end), allow_preface)
        listed = enum is not None and len(enum) > 1
        if enum is not None and listed:
            if enum[0] > p.start:  # a preface (具体做法包括：) opens the first measure: no headline
                cuts = [(p.start, p.start)]
            for pos in enum[1:]:
                # (only the first sentence: splitting the whole rest again per marker would be quadratic)
                m = _SENT_STOP.search(case_text, pos, p.end)
                e, inner = _headline_at(case_text, pos, _close_end(case_text, m.end(), p.end) if m else p.end)
                cuts.append((pos, e if inner is not None else pos))
        elif shape is not None and shape.clauses and not shape.counts and shape.enum is None:
            spans = _sentences(case_text, head_end, p.end)
            for s, e in spans[:-1]:  # a new measure needs text after its headline
                inner = _headline_shape(case_text[s:e])
                if inner is not None and _same_shape(shape, inner):
                    cuts.append((s, e))
    out = []
    for k, (s, h) in enumerate(cuts):
        e = cuts[k + 1][0] if k + 1 < len(cuts) else p.end
        while e > s and case_text[e - 1].isspace():
            e -= 1
        if listed and h >= e:
            h = s  # a list item that is one short sentence (三是处置融合，…。) is text, not a headline
        out.append((s, e, h))
    return out


def _auto_roles(
    case_text: str,
    paras: list[_Para],
    heads: list[tuple[int, _Shape | None]],
    *,
    lead: bool = True,
    outcome: bool = True,
) -> tuple[int | None, int | None]:
    """(lead index, outcome index) of paragraphs without section labels (see the module docstring);
    ``lead``/``outcome`` False: the paragraphs can have no lead / no outcome."""
    if len(paras) < 2:
        return None, None
    lead_idx: int | None = 0 if lead else None
    outcome_idx: int | None = None
    s0 = heads[0][1]
    if (
        lead_idx is not None
        and s0 is not None
        and (
            paras[0].heading_line
            or s0.enum is not None
            or any(h[1] is not None and h[1].clauses and _same_shape(s0, h[1]) for h in heads[1:])
        )
    ):
        lead_idx = None  # the first paragraph is already a measure: no overview
    if lead and paras[0].label == "lead":
        lead_idx = 0  # 【基本情况】…
    first_ini = 0 if lead_idx is None else 1
    last = len(paras) - 1
    if outcome and last > first_ini:
        sents = _sentences(case_text, paras[last].start, paras[last].end)
        opener = case_text[sents[0][0] : sents[0][1]]
        shape = heads[last][1]
        reads_as_result = bool(
            _OUTCOME_START.match(opener)
            or _OUTCOME_ANY.search(opener)
            or (shape is None and _OUTCOME_VIA.match(opener))
        )
        numbered = paras[last].heading_line or (shape is not None and shape.enum is not None)
        # A result opener wins even over a headline-like first sentence (该做法得到省委政法委肯定。);
        # a numbered or heading-line paragraph is always a measure.
        # A lone short sentence is a summary, not a headline: a measure's headline heads more text.
        headless = shape is None or (len(sents) == 1 and not numbered)
        contrast = headless and all(heads[k][1] is not None for k in range(first_ini, last))
        if not numbered and (reads_as_result or contrast):
            outcome_idx = last
    return lead_idx, outcome_idx


def _roles(case_text: str, paras: list[_Para], *, labels: bool = True) -> tuple[int, list[_Para], int, bool]:
    """Split the paragraphs into lead, measure paragraphs and outcome.

    Returns ``(lead end, measure paragraphs, outcome start, label_first)``: the lead is
    ``case_text[:lead end]``, the outcome ``case_text[outcome start:]``; ``label_first`` says the first
    measure paragraph opens with a section label (主要做法 with no lead before it), so it has no heading.

    Section labels decide where they are present: everything before a 主要做法-type label (the label
    included) is the lead, the paragraphs after it are measures, and a 工作成效-type label opens the
    outcome, which runs to the end of the case. Without labels the paragraphs' shapes decide."""
    n_end = len(case_text)
    m = next((k for k, p in enumerate(paras) if p.label == "measures"), None) if labels else None
    o_from = 1 if m is None else m + 1
    o = next((k for k in range(o_from, len(paras)) if paras[k].label == "outcome"), None) if labels else None
    out_start = paras[o].start if o is not None else n_end
    if m is not None:
        p = paras[m]
        alone = p.label_end >= p.end
        body = paras[m + 1 : o]
        label_first = False
        if not alone:
            rest = p.label_end
            while rest < p.end and case_text[rest].isspace():
                rest += 1
            if m == 0:
                body = [_Para(p.start, p.end, p.lines), *body]
                label_first = True
            else:
                body = [_Para(rest, p.end, p.lines), *body]
        elif m == 0 and body:
            first = body[0]
            body = [_Para(p.start, first.end, p.lines + first.lines), *body[1:]]
            label_first = True
        if not body:
            return _roles(case_text, paras, labels=False)
        lead_end = 0 if m == 0 else p.label_end
        if o is None:
            heads = [_first_headline(case_text, q) for q in body]
            _, outcome_idx = _auto_roles(case_text, body, heads, lead=False)
            if outcome_idx is not None and outcome_idx > 0:
                out_start = body[outcome_idx].start
                body = body[:outcome_idx]
        return lead_end, body, out_start, label_first
    pre = paras[:o] if o is not None else paras
    heads = [_first_headline(case_text, q) for q in pre]
    lead_idx, outcome_idx = _auto_roles(case_text, pre, heads, outcome=o is None)
    lead_end = pre[0].end if lead_idx == 0 else 0
    if outcome_idx is not None:
        out_start = pre[outcome_idx].start
    body = [q for k, q in enumerate(pre) if k not in (lead_idx, outcome_idx)]
    if not body:
        if labels and (o is not None or paras[0].label):
            return _roles(case_text, paras, labels=False)
        body = pre  # a single paragraph: one measure
    return lead_end, body, out_start, False


def _build_case(doc: str, agency: _Line, title: _Line | None, body: list[_Line], case_id: str) -> Case:
    base = body[0].start
    case_text = doc[base : body[-1].end]
    paras = _paragraphs(body, base)
    lead_end, ini_paras, out_start, label_first = _roles(case_text, paras)
    # An enumeration after a preface (具体做法包括：（1）…；（2）…) holds the measures when no other
    # measure paragraph is headline-led.
    led = sum(_first_headline(case_text, q)[1] is not None for q in ini_paras)
    initiatives: list[Initiative] = []
    for k, p in enumerate(ini_paras):
        if len(paras) == 1:
            measures = [(p.start, p.end, _first_headline(case_text, p)[0])]
        else:
            measures = _split_measures(case_text, p, allow_preface=led <= 1)
        if k == 0 and label_first:
            _, e0, _ = measures[0]
            measures[0] = (p.start, e0, p.start)  # the section label opens it: no headline
        for s, e, h in measures:
            n = len(initiatives) + 1
            initiatives.append(Initiative(f"{case_id}-i{n}", case_text[s:h], case_text[s:e], s, e, case_id))
    lead = case_text[:lead_end].rstrip()
    return Case(
        id=case_id,
        agency=agency.text,
        agencies=_split_agencies(agency.text),
        title=title.text if title is not None else "",
        lead=lead,
        initiatives=initiatives,
        outcome=case_text[out_start:].strip() if out_start < len(case_text) else "",
        text=case_text,
        line=agency.no,
    )


def parse_collection(
    text: str, *, id_prefix: str = "case", name: str | None = None, source: str | None = None
) -> Corpus:
    """Parse a collection string into a :class:`Corpus`.

    Args:
        text: the collection. A leading byte-order mark is dropped and CRLF/CR line endings become ``\\n``
            (the only changes; all stored strings are slices of the result).
        id_prefix: case ids are ``"{id_prefix}-{nn:02d}"`` in file order.
        name: the corpus name.
        source: what to call the input in error messages (a file name); default ``"<string>"``.

    Returns:
        The corpus; ``corpus.meta["header"]`` lists the header lines (collection title, subtitle,
        issuer, ...).

    Raises:
        TypeError: ``text`` is not a str.
        ParseError: the text is empty or whitespace only, or has no case structure (no agency line
            followed by a title line and body text); the message names the source and line.
    """
    if not isinstance(text, str):
        hint = " (use read_collection for files and bytes)" if isinstance(text, (bytes, bytearray)) else ""
        raise TypeError(f"parse_collection expects str, got {type(text).__name__}{hint}")
    where = source or "<string>"
    doc = _normalise(text)
    lines = _unwrap(doc, _lines(doc))
    if not lines:
        raise ParseError(f"{where}: line 1: empty collection (the text is empty or whitespace only)")
    heads = _find_heads(lines)
    if not heads:
        kind = "a single line" if len(lines) == 1 else f"{len(lines)} non-blank lines"
        raise ParseError(
            f"{where}: lines {lines[0].no}-{lines[-1].no}: no case structure found in {kind}: "
            "expected an agency line (e.g. 盐城市公安局) followed by a title line and body paragraphs "
            "ending in 。"
        )
    cases: list[Case] = []
    for k, (ai, ti, bi, _) in enumerate(heads):
        stop = heads[k + 1][3] if k + 1 < len(heads) else len(lines)
        agency = lines[ai]
        title = lines[ti] if ti >= 0 else None
        spans = _split_head_line(agency.text) if ti < 0 else None
        if spans is not None:  # agency and title on one line
            line = agency
            agency, title = (_Line(line.no, line.start + s, line.start + e, line.text[s:e]) for s, e in spans)
        a0, a1 = _agency_span(agency.text)
        # 一、盐城市公安局 / 【盐城市公安局】 / （盐城市公安局供稿）: only the name is the agency
        if (a0, a1) != (0, len(agency.text)):
            agency = _Line(agency.no, agency.start + a0, agency.start + a1, agency.text[a0:a1])
        cut = _title_start(title.text) if title is not None else 0
        if title is not None and cut:  # 1.打造… : the case number is not part of the title
            title = _Line(title.no, title.start + cut, title.end, title.text[cut:])
        body = lines[bi:stop]
        while len(body) > 1 and _section_label(body[0].text) == ("measures", len(body[0].text)):
            # 【主要做法】 right under the title (no overview): like a case-number line, it heads the case
            # and is no part of its body, so the first measure keeps its headline.
            body = body[1:]
        while len(body) > 1 and _SEPARATOR.match(body[-1].text):
            body.pop()  # a separator line closing the case is not body text
        case_id = f"{id_prefix}-{k + 1:02d}"
        cases.append(_build_case(doc, agency, title, body, case_id))
    header = [ln.text for ln in lines[: heads[0][3]]]
    logger.debug("parsed %s: %d cases, %d header lines", where, len(cases), len(header))
    return Corpus(cases, name=name, meta={"header": header})


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------

_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def decode_collection(data: bytes, *, source: str = "<bytes>") -> tuple[str, str]:
    """Decode collection bytes; return ``(text, encoding)``.

    A byte-order mark decides (UTF-8, UTF-16 LE/BE, UTF-32) and is dropped; without one, strict
    UTF-8 is tried, then strict GB18030 (a superset of GBK and GB2312). UTF-16 without a BOM is
    recognised by its zero bytes.

    Raises:
        ParseError: the bytes decode under none of these; the message gives the byte offset and
            line of the first undecodable byte.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(enc), enc
            except UnicodeDecodeError as exc:
                raise _decode_error(data, exc, source, enc, len(bom)) from None
    if b"\x00" in data and len(data) % 2 == 0:
        # Text in UTF-8 or GB18030 never holds a zero byte; BOM-less UTF-16 does (newlines, ASCII
        # punctuation), on the odd side for little-endian.
        enc = "utf-16-le" if data[1::2].count(b"\x00") > data[0::2].count(b"\x00") else "utf-16-be"
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_exc:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError as gb_exc:
            # Report the later failure point: the file got further as GB18030 if that is larger.
            worst = gb_exc if gb_exc.start > utf8_exc.start else utf8_exc
            raise _decode_error(data, worst, source, "UTF-8 or GB18030", 0) from None


def _decode_error(data: bytes, exc: UnicodeDecodeError, source: str, enc: str, offset: int) -> ParseError:
    pos = exc.start + offset
    line = data[:pos].count(b"\n") + 1
    bad = data[pos : pos + 4].hex(" ")
    return ParseError(
        f"{source}: line {line}: undecodable bytes at byte offset {pos} ({bad}) as {enc}: {exc.reason}"
    )


def read_collection(
    path: str | PathLike[str], *, id_prefix: str | None = None, name: str | None = None
) -> Corpus:
    """Read and parse a collection file (encoding detected as in :func:`decode_collection`).

    Args:
        path: the file.
        id_prefix: case id prefix (default: the file's stem, spaces replaced by ``_``, as
            :func:`collection_id_prefix` gives it). This is the one id rule for files: ``read_collection``,
            ``yanreform tag`` and ``yanreform index build`` all give ``<stem>-01``, ``<stem>-01-i1`` ...,
            so ids stay unique when several files are tagged or indexed together. Strings parsed by
            :func:`parse_collection` have no file name and use ``"case"``.
        name: corpus name (default: the file name without extension).

    Returns:
        The corpus; ``meta`` holds ``header``, ``path`` and ``encoding``.

    Raises:
        FileNotFoundError / OSError: the file cannot be read.
        ParseError: undecodable bytes, empty text or no case structure (message names the file and line).
    """
    p = Path(path)
    data = p.read_bytes()
    text, encoding = decode_collection(data, source=str(p))
    prefix = id_prefix or collection_id_prefix(p)
    corpus = parse_collection(text, id_prefix=prefix, name=name or p.stem, source=str(p))
    corpus.meta.update({"path": str(p), "encoding": encoding})
    return corpus


def collection_id_prefix(path: str | PathLike[str]) -> str:
    """The case-id prefix of a collection file: its stem with runs of whitespace replaced by ``_``
    (``"盐城 2024.txt"`` -> ``"盐城_2024"``); ``"case"`` for an empty stem."""
    return re.sub(r"\s+", "_", Path(path).stem.strip()) or "case"


def available_corpora() -> list[str]:
    """Names of the bundled collections (``corpus/<name>.toml``)."""
    try:
        return sorted(p.stem for p in corpus_dir().glob("*.toml"))
    except FileNotFoundError:
        return []


def load_corpus(name: str = "yancheng-2024") -> Corpus:
    """Load a bundled collection by name (its metadata ``corpus/<name>.toml`` names the text file and prefix).

    Returns:
        The corpus with ``name`` set and ``meta`` = the metadata file's fields plus ``header``, ``path``,
        ``encoding``.

    Raises:
        InputError: no bundled collection of that name (the message lists those available) or a broken
            metadata file.
        ParseError: the collection text does not parse.
    """
    available = available_corpora()
    if name not in available:
        raise InputError(f"unknown bundled corpus {name!r}; available: {', '.join(available) or 'none'}")
    meta_path = corpus_dir() / f"{name}.toml"
    try:
        meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{meta_path}: invalid corpus metadata: {exc}") from None
    file = meta.get("file")
    if not isinstance(file, str) or not file:
        raise InputError(f"{meta_path}: field 'file' (the collection text file) is missing or not a string")
    text_path = corpus_dir() / file
    if not text_path.is_file():
        raise InputError(f"{meta_path}: field 'file' names {file!r}, which is not in {corpus_dir()}")
    prefix = meta.get("id_prefix") or "case"
    corpus = read_collection(text_path, id_prefix=str(prefix), name=str(meta.get("name", name)))
    corpus.meta = {**meta, **corpus.meta}
    return corpus
