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

import logging
import re

from ..errors import ParseError
from ._headlines import (
    _enum_of,
    _headline_shape,
    _same_shape,
    _sentences,
    _Shape,
)
from ._layout import _find_heads, _Line, _lines, _normalise, _Para, _paragraphs, _unwrap
from ._patterns import (
    _CLOSERS,
    _OUTCOME_ANY,
    _OUTCOME_START,
    _OUTCOME_VIA,
    _SEPARATOR,
    _agency_span,
    _section_label,
    _split_agencies,
    _split_head_line,
    _title_start,
)
from .records import Case, Corpus, Initiative

__all__ = ["parse_collection"]

logger = logging.getLogger("yanreform")


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
