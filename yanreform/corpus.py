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
* Case heads. A run of head candidates followed by a body-like line ends in the case's agency and
  title lines (the run's last two lines, skipping a trailing ``——`` subtitle; a one-line run counts
  only as ``agency：title``). A run is a case head only if one of the two has the shape of an
  agency (every 、-separated part ends in 公安局, 法院, 检察院, 司法局, 政法委(员会), 监狱, ... or a
  generic 局/院/委/所/处/队/会/..., traditional forms too); otherwise it is a heading inside the
  current case. If no line of the text has an agency shape, the structure alone decides. The
  agency is recognised by its place: a title that ends like an agency (``升级大数据联合指挥中心``)
  right after an agency line stays the title. Title-first layouts are recognised by a vote over
  all pairs. Case-number lines (案例二) are dropped; lines before the first case are the header
  (``Corpus.meta["header"]``).
* Paragraphs. Consecutive body lines form one paragraph while a line does not end in sentence
  punctuation (a heading line such as ``一、搭建平台`` or a hard wrap) or holds nothing but one
  headline sentence.
* Headlines. A *headline sentence* is short: one clause of at most 20 characters, or two
  comma-joined clauses of at most 18 each and 30 in all, ending in 。/！ (or ：), with no Arabic
  digits outside quotes and not opening with a narrative connective (近年来, 目前, 截至, 随着,
  ...以来); an enumeration marker (一是, （一）, 1.) may lead. A paragraph is *headline-led* when
  its first sentence is a headline, or it starts with a heading line or an enumeration marker;
  the headline becomes the initiative's ``heading``.
* Several measures in one paragraph. A later sentence of a headline-led paragraph starts a new
  measure only if it is a headline of the *same shape* as the paragraph's own first headline
  (same number of clauses, each within max(2, 25 %) characters of the other's length, quotation
  marks in the same clauses), more text follows it in the paragraph, and the first headline does
  not announce a count of sub-points (落实“三个保障”: the parallel sentences after it are those
  sub-points). The next marker of the paragraph's own enumeration (二是 after 一是) also starts a
  measure.
* Roles. A one-paragraph body is one initiative (no lead). Otherwise the first paragraph is the
  lead, unless it is headline-led with the same headline shape as another paragraph (or starts
  with an enumeration marker or heading line). The last paragraph, with an initiative paragraph
  before it and neither numbered nor under a heading line, is the outcome when its first sentence
  reads as a result (该…以来, 目前, 截至, 被…表彰/评为, 入选, 得到…肯定, 成效明显; 通过…实现 only
  without a headline), or when it has no headline (a lone short sentence counts as none) while
  every initiative paragraph before it is headline-led: the closer then contrasts with the case's
  own style. So a headline-less final measure in a collection without headlines stays a measure.
  Every other paragraph gives one initiative per measure; one without a headline is an initiative
  with ``heading == ""``.

Text hard-wrapped at a fixed width (copied from a PDF) is first joined back into logical lines
(:func:`_unwrap`); where a full line ends a sentence and the next opens with a headline, the break
is taken as a paragraph end, which can be wrong in text with neither blank lines nor indentation.
"""

from __future__ import annotations

import difflib
import html
import importlib
import logging
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, overload

from ._resources import corpus_dir
from .errors import InputError, ParseError

logger = logging.getLogger("yanreform")

__all__ = [
    "Case",
    "Corpus",
    "Initiative",
    "available_corpora",
    "decode_collection",
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
        fn = _display("case_html")
        if fn is not None:
            return str(fn(self))
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
                raise ValueError(f"duplicate case id {case.id!r} in corpus {name!r}")
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
                raise KeyError(f"no case {key!r} in corpus {self.name!r} (ids: {span}){hint}") from None
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
        fn = _display("corpus_html")
        if fn is not None:
            return str(fn(self))
        rows = [(c.id, f"{c.agency} · {c.title} ({len(c.initiatives)} initiatives)") for c in self.cases]
        return _html_table(self.name or "corpus", rows)


def _display(name: str) -> Any:
    """The display function ``name`` if :mod:`yanreform.display` exists and provides it, else None."""
    try:
        module = importlib.import_module(".display", __package__)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.display":
            raise
        return None
    return getattr(module, name, None)


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
    r"^(?:典型)?(?:案例|案例之)?\s*[（(]?[一二三四五六七八九十百0-9０-９]{1,3}[）)]?\s*[、.．:：]?$"
)
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
    body = _AGENCY_LABEL.sub("", line).strip()
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
        or re.match(r"^(?:典型)?案例\s*[一二三四五六七八九十百0-9]{1,3}\s*[、.．:：\s]\s*", line)
        or re.match(r"^[—－\-–―]+\s*", line)  # 打造…平台 / ——盐城市公安局
    )
    return m.end() if m and _agency_score(line[m.end() :]) >= 2 else 0


def _is_subtitle(line: str) -> bool:
    """A subtitle (——记…), a collection-title line or a separator, but not ——盐城市公安局."""
    return bool(_HEADERISH.search(line)) and not _agency_start(line)


# One-line case heads: agency：title, 【agency】title, title（agency）, title——agency, agency title.
_ONE_LINE_HEADS = (
    re.compile(r"^【?(?P<agency>[^：:【】]{2,40}?)】?\s*[：:]\s*(?P<title>\S.{1,60})$"),
    re.compile(r"^【(?P<agency>[^】]{2,40})】\s*(?P<title>\S.{1,60})$"),
    re.compile(r"^(?P<title>.{2,60}?)\s*[（(](?P<agency>[^（）()]{2,40})[）)]$"),
    re.compile(r"^(?P<title>.{2,60}?)\s*[—－]{1,2}\s*(?P<agency>[^—－]{2,40})$"),
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
        if pattern is _ONE_LINE_HEADS[-1] and _line_agency_score(m.group("title")):
            continue  # 盐都区人民法院 大丰区司法局: two agencies, no title
        return m.span("agency"), m.span("title")
    return None


def _line_agency_score(line: str) -> int:
    """Agency-likeness of a whole line (every part must be an agency; the weakest part counts)."""
    line = line[_agency_start(line) :]
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
        return self.text[-1] in _TERMINAL


@dataclass
class _Para:
    start: int  # offsets into the case text
    end: int
    lines: list[_Line] = field(default_factory=list)
    heading_line: bool = False  # the first line is a heading of its own (一、搭建平台)


def _normalise(text: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    pos = 0
    gap = False
    for no, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
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

    Wrapping is detected when most lines fill the same width W (within 2 columns) and almost none is
    wider; a full line then continues on the next line unless it closes a sentence and the next
    line is short and unpunctuated (an agency or title line) or opens with a headline, and never
    across a blank line. When blank lines separate the paragraphs, only a blank line ends one.
    """
    if len(lines) < 8:
        return lines
    widths = [_width(ln.text) for ln in lines]
    best, wrap = 0, 0
    for w in set(widths):
        count = sum(1 for x in widths if w - 2 <= x <= w)
        if count > best or (count == best and w > wrap):
            best, wrap = count, w
    if wrap < 20 or best < max(4, 0.3 * len(lines)) or sum(x > wrap for x in widths) > 0.05 * len(lines):
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
            (nxt.head and _width(nxt.text) < wrap - 2) or _para_headline_led(nxt.text)
        )
        if nxt is None or nxt.gap or (not gapped and (not full or (closed and starts_anew))):
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
        # Numbered headings (一、主要做法 / 1.搭建平台) are not case heads; a numbered agency line is.
        if _ENUM.match(y.text) or (_ENUM.match(x.text) and not _agency_start(x.text)):
            return None
        return k - 2, k - 1

    # Agency and title on one line (盐城市公安局：打造…) when most runs end in such a line; otherwise a
    # preceding agency-shaped line (an issuer in the header) would pair with it.
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
        if nxt is not None:
            if not ln.terminal:
                continue  # hard wrap or a heading line: the paragraph goes on
            if len(cur) == 1 and _is_headline_only(ln.text) and not _para_headline_led(nxt.text):
                continue  # a headline alone on its line heads the next line's text
        paras.append(_Para(cur[0].start - base, cur[-1].end - base, cur))
        cur = []
    for p in paras:
        first = p.lines[0]
        p.heading_line = len(p.lines) > 1 and (
            (first.head and len(first.text) <= 40) or _is_headline_only(first.text)
        )
    return paras


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
    shape = _headline_shape(case_text[s0:e0], allow_colon=True)
    if shape is not None:
        return e0, shape
    enum, num, _ = _enum_of(case_text[s0:e0])
    if enum is not None:
        return p.start, _Shape((), (), False, enum, num)  # numbered measure without a headline
    return p.start, None


def _split_measures(case_text: str, p: _Para) -> list[tuple[int, int, int]]:
    """Measures of a paragraph as (start, end, heading end) offsets into the case text."""
    head_end, shape = _first_headline(case_text, p)
    cuts: list[tuple[int, int]] = [(p.start, head_end)]
    if shape is not None and not p.heading_line:
        spans = _sentences(case_text, head_end, p.end)
        next_enum = shape.enum_n + 1
        for k, (s, e) in enumerate(spans):
            if k == len(spans) - 1:
                break  # a new measure needs text after its headline
            sent = case_text[s:e]
            enum, num, _ = _enum_of(sent)
            if shape.enum is not None and enum == shape.enum and num == next_enum:
                inner = _headline_shape(sent)
                cuts.append((s, e if inner is not None else s))
                next_enum += 1
                continue
            if not shape.clauses or shape.counts or shape.enum is not None:
                continue
            inner = _headline_shape(sent)
            if inner is not None and _same_shape(shape, inner):
                cuts.append((s, e))
    out = []
    for k, (s, h) in enumerate(cuts):
        e = cuts[k + 1][0] if k + 1 < len(cuts) else p.end
        while e > s and case_text[e - 1].isspace():
            e -= 1
        out.append((s, e, h))
    return out


def _build_case(doc: str, agency: _Line, title: _Line | None, body: list[_Line], case_id: str) -> Case:
    base = body[0].start
    case_text = doc[base : body[-1].end]
    paras = _paragraphs(body, base)
    heads = [_first_headline(case_text, p) for p in paras]

    def led(k: int) -> bool:
        return heads[k][1] is not None

    lead_idx: int | None = None
    outcome_idx: int | None = None
    if len(paras) > 1:
        lead_idx = 0
        s0 = heads[0][1]
        if s0 is not None and (
            paras[0].heading_line
            or s0.enum is not None
            or any(h[1] is not None and h[1].clauses and _same_shape(s0, h[1]) for h in heads[1:])
        ):
            lead_idx = None  # the first paragraph is already a measure: no overview
        first_ini = 0 if lead_idx is None else 1
        last = len(paras) - 1
        if last > first_ini:
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
            contrast = headless and all(led(k) for k in range(first_ini, last))
            if not numbered and (reads_as_result or contrast):
                outcome_idx = last

    initiatives: list[Initiative] = []
    for k, p in enumerate(paras):
        if k in (lead_idx, outcome_idx):
            continue
        measures = [(p.start, p.end, heads[k][0])] if len(paras) == 1 else _split_measures(case_text, p)
        for s, e, h in measures:
            n = len(initiatives) + 1
            initiatives.append(Initiative(f"{case_id}-i{n}", case_text[s:h], case_text[s:e], s, e, case_id))

    def para_text(idx: int | None) -> str:
        return "" if idx is None else case_text[paras[idx].start : paras[idx].end]

    return Case(
        id=case_id,
        agency=agency.text,
        agencies=_split_agencies(agency.text),
        title=title.text if title is not None else "",
        lead=para_text(lead_idx),
        initiatives=initiatives,
        outcome=para_text(outcome_idx),
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
        cut = _agency_start(agency.text)
        if cut:  # 一、盐城市公安局 / ——盐城市公安局: the number or dash is not part of the agency
            agency = _Line(agency.no, agency.start + cut, agency.end, agency.text[cut:])
        body = lines[bi:stop]
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
            exc = gb_exc if gb_exc.start > utf8_exc.start else utf8_exc
            raise _decode_error(data, exc, source, "UTF-8 or GB18030", 0) from None


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
        id_prefix: case id prefix (default ``"case"``).
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
    corpus = parse_collection(text, id_prefix=id_prefix or "case", name=name or p.stem, source=str(p))
    corpus.meta.update({"path": str(p), "encoding": encoding})
    return corpus


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
