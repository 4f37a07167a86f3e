"""Documents (collection .txt, .docx, PDF, .doc/.wps) -> records, and tables found in documents -> records.

A document's running text is parsed as a collection (:func:`yanreform.corpus.parse_collection`): one
record per initiative, with ``case_id``, ``agency``, ``title``, ``heading``. Text without case structure is
one record holding the whole text (a single submission); a document with no text at all is one error
record, so no input file disappears from the output.

Tables (from .docx, or .doc/.wps converted to .docx) are read in two shapes:

* a *form* (申报表): label cells beside (or above) their values: 申报单位 | 盐城市公安局, 项目名称 | …,
  项目简介 | …. Known labels become ``agency`` (申报单位, 单位名称, 报送单位…), ``title`` (项目名称,
  案例名称, 名称…) and the text (项目简介, 基本情况, 主要做法, 工作成效…: every text-like value, in table
  order, joined by newlines; without one, the longest value of 30 characters or more); other labels
  (联系人, 电话…) are kept as fields. One record per form.
* a *list* (汇总表): a header row of labels and one row per record; the text column is the one labelled
  like a text (简介, 主要做法, 内容…) or else the one with the longest cells.

Any other table is read as text, row by row, as part of the running text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...errors import ParseError
from ..records import Record

AGENCY_LABELS = frozenset(
    [
        "申报单位",
        "单位名称",
        "报送单位",
        "推荐单位",
        "申报部门",
        "实施单位",
        "责任单位",
        "牵头单位",
        "承办单位",
        "填报单位",
        "单位",
        "部门",
        "申报机关",
        "机关名称",
        "所在单位",
    ]
)
TITLE_LABELS = frozenset(
    [
        "项目名称",
        "案例名称",
        "改革项目名称",
        "改革项目",
        "改革事项",
        "项目",
        "名称",
        "标题",
        "题目",
        "案例标题",
        "案例题目",
        "项目标题",
    ]
)
TEXT_LABELS = (
    "简介",
    "基本情况",
    "主要做法",
    "具体做法",
    "创新做法",
    "经验做法",
    "改革举措",
    "主要举措",
    "主要内容",
    "内容",
    "工作成效",
    "取得成效",
    "成效",
    "做法",
    "典型意义",
    "创新点",
    "亮点",
    "正文",
    "案情",
    "背景",
    "概述",
    "描述",
    "说明",
)

_PAREN = re.compile(r"[（(【\[][^）)】\]]*[）)】\]]")
_SENTENCE_END = re.compile(r"[。！？；!?;]")


def norm_label(cell: str) -> str:
    """A cell as a label: spaces, a trailing colon and bracketed notes (（300字以内）) removed."""
    s = _PAREN.sub("", cell)
    return re.sub(r"[\s\u3000]+", "", s).rstrip("：:").strip()


def is_label(cell: str) -> bool:
    """A short cell without sentence punctuation: a label (or a short value)."""
    s = cell.strip()
    return 0 < len(s) <= 20 and _SENTENCE_END.search(s) is None and "\n" not in s


def label_role(label: str) -> str | None:
    """``"agency"``, ``"title"``, ``"text"`` or None for a normalised label."""
    if label in AGENCY_LABELS:
        return "agency"
    if label in TITLE_LABELS:
        return "title"
    if len(label) <= 12 and any(t in label for t in TEXT_LABELS):
        return "text"
    return None


def form_pairs(grid: Sequence[Sequence[str]]) -> list[tuple[str, str]] | None:
    """The (label, value) pairs of a form table, or None when the table is not a form.

    A pair is a label cell followed by its value in the same row, or a row holding only a label followed
    by a row holding only its value. A form has two pairs or more, at least two of them with a known label.
    """
    pairs: list[tuple[str, str]] = []
    k = 0
    while k < len(grid):
        row = [c for c in grid[k] if c.strip()]
        if len(row) == 1 and is_label(row[0]) and k + 1 < len(grid):
            nxt = [c for c in grid[k + 1] if c.strip()]
            if len(nxt) == 1 and label_role(norm_label(row[0])) is not None:
                pairs.append((norm_label(row[0]), nxt[0].strip()))
                k += 2
                continue
        if len(row) >= 2 and len(row) % 2 == 0 and all(is_label(c) for c in row[0::2]):
            pairs += [(norm_label(a), b.strip()) for a, b in zip(row[0::2], row[1::2], strict=True)]
            k += 1
            continue
        j = 0
        before = len(pairs)
        while j + 1 < len(row):
            if (is_label(row[j]) and label_role(norm_label(row[j])) is not None) or (
                is_label(row[j]) and not is_label(row[j + 1])
            ):
                pairs.append((norm_label(row[j]), row[j + 1].strip()))
                j += 2
            else:
                j += 1
        if len(pairs) == before and pairs and row and not any(label_role(norm_label(c)) for c in row):
            # a row of values only: its label cell spans this row too (merged vertically, read once)
            lab, val = pairs[-1]
            pairs[-1] = (lab, "\n".join([val, *(c.strip() for c in row)]))
        k += 1
    known = sum(1 for lab, _ in pairs if label_role(lab) is not None)
    return pairs if len(pairs) >= 2 and known >= 2 else None


def form_record(pairs: list[tuple[str, str]], rid: str, where: str) -> Record:
    """One record from a form's (label, value) pairs: agency, title, text; other labels kept as fields."""
    fields: dict[str, Any] = {}
    texts: list[str] = []
    for lab, val in pairs:
        role = label_role(lab)
        if role == "text":
            if val:
                texts.append(val)
            continue
        key = role or lab
        if key not in fields and val:
            fields[key] = val
    if not texts:
        longest = max((v for _, v in pairs), key=len, default="")
        if len(longest) >= 30:
            texts.append(longest)
    meta: dict[str, Any] = {k: fields[k] for k in ("agency", "title") if k in fields}
    if not texts:
        return Record(rid, None, where, f"a form table without a text cell ({where})", meta, fields)
    return Record(rid, "\n".join(texts), where, None, meta, fields)


def list_records(grid: Sequence[Sequence[str]], rid_prefix: str, where: str) -> list[Record] | None:
    """Records of a list table (header row of labels, one row per record), or None if it is not one."""
    if len(grid) < 2:
        return None
    header = [norm_label(c) for c in grid[0]]
    if len(header) < 2 or not all(is_label(c) for c in grid[0] if c.strip()) or not any(header):
        return None
    rows = [r for r in grid[1:] if any(c.strip() for c in r)]
    if not rows:
        return None
    if any(is_label(c) and label_role(norm_label(c)) is not None for r in rows for c in r):
        return None  # labels below the first row: a form
    roles = [label_role(h) for h in header]
    ti = next((k for k, r in enumerate(roles) if r == "text"), None)
    if ti is None:
        # the column with the longest cells, if they read as text
        lengths = [sum(len(r[k]) for r in rows if k < len(r)) / len(rows) for k in range(len(header))]
        best = max(range(len(header)), key=lambda k: lengths[k])
        if lengths[best] < 30:
            return None
        ti = best
    out = []
    for n, row in enumerate(rows, 1):
        w = f"{where}, row {n + 1}"
        cells = list(row) + [""] * (len(header) - len(row))
        fields = {h or f"column {k + 1}": cells[k].strip() for k, h in enumerate(header) if k != ti}
        for k, role in enumerate(roles):
            if role in ("agency", "title") and role not in fields and cells[k].strip():
                fields[role] = cells[k].strip()
        meta: dict[str, Any] = {k: fields[k] for k in ("agency", "title") if k in fields}
        text = cells[ti].strip()
        rid = f"{rid_prefix}r{n + 1}"
        if not text:
            out.append(Record(rid, None, w, f"empty {header[ti] or 'text'!r} ({w})", meta, fields))
        else:
            out.append(Record(rid, text, w, None, meta, fields))
    return out


def corpus_records(corpus: Any, where_file: str) -> list[Record]:
    """One record per initiative of a parsed collection (``case_id``, ``agency``, ``title``, ``heading``)."""
    out: list[Record] = []
    for case in corpus:
        line = getattr(case, "line", None)
        where = f"{where_file}:{line}" if line else where_file
        for ini in case.initiatives:
            meta = {"case_id": case.id, "agency": case.agency, "title": case.title, "heading": ini.heading}
            if ini.text.strip():
                out.append(Record(ini.id, ini.text, where, None, meta, dict(meta)))
            else:
                out.append(Record(ini.id, None, where, f"empty initiative ({where})", meta, dict(meta)))
    return out


def case_records(corpus: Any, where_file: str) -> list[Record]:
    """One record per case of a parsed collection (``--level case``): its whole text, the lead included."""
    out: list[Record] = []
    for case in corpus:
        line = getattr(case, "line", None)
        where = f"{where_file}:{line}" if line else where_file
        meta = {"case_id": case.id, "agency": case.agency, "title": case.title}
        text = case.text
        if text.strip():
            out.append(Record(case.id, text, where, None, meta, dict(meta)))
        else:
            out.append(Record(case.id, None, where, f"empty case ({where})", meta, dict(meta)))
    return out


def text_records(
    text: str, spec: str, p: Path, *, level: str = "initiative", parse: bool = True
) -> list[Record]:
    """Records of a document's running text: a collection's initiatives (or cases, ``level="case"``), else
    one record of the whole text (id ``<file>:1``), or one error record for a document with no text."""
    from ...corpus import collection_id_prefix, parse_collection

    where = f"{spec}:1"
    if not text.strip():
        return [Record(where, None, where, f"empty document ({spec})")]
    if parse:
        try:
            corpus = parse_collection(text, id_prefix=collection_id_prefix(p), name=p.stem, source=spec)
        except ParseError:
            pass  # a single submission without case structure: tagged whole
        else:
            return case_records(corpus, spec) if level == "case" else corpus_records(corpus, spec)
    return [Record(where, text, where)]


def table_records(grid: Sequence[Sequence[str]], n: int, spec: str) -> list[Record] | None:
    """Records of the ``n``-th table of a document (1-based) when it is a list or a form, else None."""
    where = f"{spec}:table {n}"
    rid = f"{spec}:t{n}"
    listed = list_records(grid, rid, where)
    if listed is not None:
        return listed
    pairs = form_pairs(grid)
    if pairs is not None:
        return [form_record(pairs, rid, where)]
    return None
