"""Incidental contexts: stretches of a passage where a category's seed does not describe the work done.

The labelling conventions (corpus/LABELLING.md §0, after the real-dev annotators) label *the work an
initiative does*, not the words that appear. A seed inside one of these stretches is incidental, and the
lexicon drops it (it is neither a feature nor evidence):

``venue``
    the place where an event is held: 在…一站式诉讼服务中心举行, 于…召开.
``visit``
    a place visited: 参观/观摩/莅临/视察/考察 + the rest of the clause.
``title``
    a unit's name before a person's title: 检察监督部主任, 法治督察科科长, 诉讼服务中心工作人员.
``slogan``
    a quoted motto given as a theme, goal or principle: 以“党建引领、多方联动”为主题, “…”相关精神.
``origin``
    where participants come from: 来自各乡镇、街道的…
``duties``
    a list of an office's duties: 负责政法宣传、队伍建设、信访维稳等工作 (at least two 、).

The rules are regular expressions over the *normalised* text (see :func:`yanreform.text.normalize_text`:
full-width Chinese punctuation is kept, quotes are folded to “”), each a few characters wide and bounded by
clause punctuation, so they never reach across a clause into the passage's own action. A seed counts as
incidental only when it lies wholly inside such a stretch.
"""

from __future__ import annotations

import re

__all__ = ["CONTEXT_KINDS", "incidental_spans"]

# Clause punctuation (full-width as kept by normalize_text, and ASCII).
_P = "，。；：！？,;:!?\n"
_NOT_P = f"[^{_P}]"

_TITLES = (
    "副主任|主任|负责人|负责同志|科长|副科长|处长|副处长|部长|副部长|庭长|副庭长|局长|副局长|队长|"
    "所长|站长|干警|工作人员|民警|同志|一行|全体"
)
_UNIT = "办公室|中心|部|科|处|室|庭|股|大队|中队|支队|站|所"
_SLOGAN_ROLE = (
    "主题|目标|原则|基本原则|着力点|核心|理念|抓手|导向|主线|宗旨|方向|契机|形式|遵循|指引|引领|要求"
)

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("venue", re.compile(f"(?:在|于){_NOT_P}{{1,40}}?(?:举行|召开|举办)")),
    ("visit", re.compile(f"(?:参观|观摩|莅临|视察|考察){_NOT_P}{{1,30}}")),
    # the unit's name: the unit word and at most 8 characters of one clause before it (no 、, quotes or
    # brackets), enough for 检察监督部 or 执法办案管理中心 but not for the clause's own action further left
    ("title", re.compile(f'[^{_P}、“”"（）()《》]{{1,8}}(?:{_UNIT})(?=(?:{_TITLES}))')),
    ("slogan", re.compile(f"以“[^”]{{2,60}}”为{_NOT_P}{{0,4}}?(?:{_SLOGAN_ROLE})")),
    ("slogan", re.compile("“[^”]{2,60}”(?:的)?(?:相关)?(?:精神|目标要求|理念|主题|口号|标语|要求)")),
    ("origin", re.compile(f"来自{_NOT_P}{{1,20}}?的")),
    ("duties", re.compile(f"(?:负责|职责|承担|分管){_NOT_P}{{0,60}}?等(?:方面|工作|事务|职能|职责|事项)")),
)

#: The kinds of incidental context, in rule order.
CONTEXT_KINDS = tuple(dict.fromkeys(kind for kind, _ in _RULES))


def incidental_spans(norm_text: str) -> list[tuple[int, int, str]]:
    """Half-open ``(start, end, kind)`` spans of the incidental contexts of a normalised text, sorted.

    A ``duties`` span needs at least two enumeration commas (、): one duty named alone is the office's work.
    """
    out: list[tuple[int, int, str]] = []
    for kind, rx in _RULES:
        for m in rx.finditer(norm_text):
            if kind == "duties" and m.group().count("、") < 2:
                continue
            out.append((m.start(), m.end(), kind))
    out.sort()
    return out
