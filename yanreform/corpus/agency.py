"""Agency and place names: the wording that every case of one kind of agency shares, not its reform.

One home for recognising agencies in text: :func:`is_agency_token` / :func:`is_place_token` (words the
related-case index and its explanations treat as boilerplate: 人民法院, 公安分局, 吴兴区),
:data:`AGENCY_ROLE_WORDS` (roles and branches: 民警, 检察官, 审判), and :func:`agency_kind` (court,
procuratorate, police, justice bureau, political-legal committee, or joint, from an agency line) and
:func:`agency_place` (the place an agency name starts with: 盐城市, 湖州市吴兴区). The
collection parser's line-shape scoring of agency lines lives beside it in :mod:`yanreform.corpus.parse`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "AGENCY_KINDS",
    "AGENCY_ROLE_WORDS",
    "agency_kind",
    "agency_place",
    "is_agency_token",
    "is_boilerplate",
    "is_place_token",
]

# Agency names ending a token: the wording every case of one agency type shares (人民法院, 公安分局 ...).
_AGENCY_TOKEN_RE = re.compile(
    r"(?:人民法院|人民检察院|检察院|检察分院|法院|人民法庭|法庭|公安局|公安分局|分局|公安厅|公安处|公安机关|"
    r"司法局|司法厅|司法所|派出所|检察室|政法委|政法委员会|党委政法委|交警大队|刑警大队|支队|大队)$"
)
# Place names: 2-6 characters ending in an administrative suffix, minus the common words of that shape.
_PLACE_RE = re.compile(r"^[\u4e00-\u9fff]{2,6}(?:省|市|县|区|州|镇|乡|街道)$")
_NOT_PLACE_RE = re.compile(
    r"(?:开发区|示范区|试验区|实验区|保护区|自贸区|高新区|先行区|核心区|功能区|服务区|生活区|城区|辖区|社区|园区|"
    r"景区|片区|小区|街区|市区|地区|山区|库区|矿区|新区|管理区|商业区|工业区|城市|超市|都市|门市|上市|集市|"
    r"夜市|楼市|股市|全市|全区|全县|本市|本区|本县|该市|该区|该县|各区|各县|各市|城乡|乡镇|村镇|集镇|城镇)$"
)
_GENERIC_PLACE = frozenset({"全省", "全市", "全区", "全县", "本省", "本市", "本区", "本县", "城乡", "乡镇"})

# fmt: off
#: Agency roles and branches (shared by every case of an agency type): never a reason two cases are related.
AGENCY_ROLE_WORDS = frozenset([
    "警种", "民警", "辅警", "干警", "法官", "检察官", "法官助理", "书记员", "公安", "检察", "审判",
    "司法机关", "政法机关", "政法", "公安机关", "政法单位", "政法部门", "检察机关", "审判机关",
    "警力", "警务",
])
# fmt: on

#: Kinds of agency, recognised from the end of an agency name (simplified and traditional forms), in the order
#: they are tried (longest, most specific endings first).
AGENCY_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("committee", ("政法委员会", "政法委員會", "政法委")),
    ("procuratorate", ("人民检察院", "人民檢察院", "检察院", "檢察院", "检察分院", "檢察分院", "检察室",
                       "檢察室")),
    ("court", ("人民法院", "法院", "人民法庭", "法庭")),
    (
        "police",
        ("公安局", "公安分局", "公安厅", "公安廳", "公安处", "公安處", "派出所", "交警大队", "交警大隊",
         "刑警大队", "刑警大隊", "警察局", "警署", "看守所", "拘留所", "分局", "支队", "支隊", "大队",
         "大隊"),
    ),
    ("justice", ("司法局", "司法厅", "司法廳", "司法所", "监狱", "監獄", "戒毒所", "公证处",
                 "公證處", "法律援助中心", "矫正中心", "矯正中心")),
)  # fmt: skip

_SPLIT_RE = re.compile(r"\s*(?:[、，,；;/／和与與及暨]|\s)\s*")


def is_agency_token(token: str) -> bool:
    """True for a word that ends in an agency name (人民法院, 公安分局, 派出所 ...)."""
    return _AGENCY_TOKEN_RE.search(token) is not None


def is_place_token(token: str, tags: Mapping[str, Any] | None = None) -> bool:
    """True for a place name: 2-6 characters ending in 省/市/县/区/州/镇/乡/街道 (not 开发区, 社区, 全市 ...),
    or a word the segmenter's dictionary tags ``ns`` (``tags``: word -> (freq, tag))."""
    if tags is not None:
        entry = tags.get(token)
        if entry is not None and entry[1] == "ns":
            return True
    return bool(_PLACE_RE.match(token)) and token not in _GENERIC_PLACE and not _NOT_PLACE_RE.search(token)


def is_boilerplate(token: str, tags: Mapping[str, Any] | None = None) -> bool:
    """True for agency names and place names (see :func:`is_agency_token`, :func:`is_place_token`)."""
    return is_agency_token(token) or is_place_token(token, tags)


def _kind_of(name: str) -> str | None:
    for kind, endings in AGENCY_KINDS:
        if name.endswith(endings):
            return kind
    return None


def agency_kind(agency: str) -> str:
    """The kind of agency an agency line names: ``"court"``, ``"procuratorate"``, ``"police"``, ``"justice"``
    (justice bureaus, prisons, legal aid), ``"committee"`` (political-legal committees), ``"joint"`` (several
    kinds named together) or ``"other"``. Traditional forms are recognised; notes in brackets are ignored."""
    text = re.sub(r"[（(【\[].*?[）)】\]]", "", agency or "").strip()
    kinds = {k for part in _SPLIT_RE.split(text) if part and (k := _kind_of(part)) is not None}
    if len(kinds) > 1:
        return "joint"
    return kinds.pop() if kinds else "other"


# One administrative level: 1-7 characters and a suffix (江苏省, 盐城市, 吴兴区, 大兴安岭地区, 阿拉善盟 ...).
# Names are matched lazily, so 盐城市公安局 gives 盐城市 and not a longer run ending in some later 区/市.
_PLACE_LEVEL = r"[\u4e00-\u9fff]{1,7}?(?:特别行政区|自治区|自治州|自治县|地区|省|市|州|盟|县|旗|区)"
_PLACE_PREFIX_RE = re.compile(rf"^(?:{_PLACE_LEVEL})+")
_LEVEL_RE = re.compile(_PLACE_LEVEL)


def agency_place(agency: str) -> str:
    """The place an agency name starts with (``"盐城市公安局"`` -> ``"盐城市"``, ``"湖州市吴兴区公安分局"`` ->
    ``"湖州市吴兴区"``), normalised to simplified script; ``""`` when the name starts with no place.

    For a line naming several agencies the first one's place is given; notes in brackets and case numbers are
    ignored. Words of the place shape that are not places (开发区, 全市 ...) end the match.
    """
    from ..text.normalize import normalize_text

    text = re.sub(r"[（(【\[].*?[）)】\]]", "", agency or "").strip()
    first = _SPLIT_RE.split(normalize_text(text), maxsplit=1)[0] if text else ""
    m = _PLACE_PREFIX_RE.match(first)
    if m is None:
        return ""
    levels = []
    for level in _LEVEL_RE.findall(m.group(0)):
        if level in _GENERIC_PLACE or _NOT_PLACE_RE.fullmatch(level):  # 全市, 开发区 alone: no place
            break
        levels.append(level)
    return "".join(levels)
