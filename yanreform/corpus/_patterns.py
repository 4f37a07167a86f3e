"""Character classes, patterns and line-shape helpers of the collection parser (agency lines, titles,
section labels, case-number lines). Private to :mod:`yanreform.corpus`."""

from __future__ import annotations

import re

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
