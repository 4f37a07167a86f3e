"""Sentences and headline shapes of the collection parser (private to :mod:`yanreform.corpus`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._patterns import (
    _CLAUSE_SEP,
    _CLOSERS,
    _CN_NUM,
    _COUNT_WORD,
    _DIGIT,
    _ENUM,
    _HEAD_FORBIDDEN,
    _NOT_HEADLINE_START,
    _QUOTED,
    _SENT_END,
)


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
