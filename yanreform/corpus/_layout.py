"""Lines, hard-wrap repair, case heads and paragraphs: the layout layer of the collection parser (private to
:mod:`yanreform.corpus`; the rules are described in :mod:`yanreform.corpus.parse`)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ._headlines import _headline_shape, _same_shape, _sentences
from ._patterns import (
    _CASE_LABEL,
    _CLOSED,
    _CLOSERS,
    _ENUM,
    _HEAD_FORBIDDEN,
    _OUTCOME_START,
    _SENT_END,
    _SEPARATOR,
    _agency_start,
    _is_label_line,
    _is_subtitle,
    _line_agency_score,
    _section_label,
    _split_head_line,
)


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
