"""Normalise Chinese text for analysis, keeping an exact offset map back to the original.

The stored text is never altered: :func:`normalize` returns a :class:`Normalized` holding both the original
and the analysis form, and :meth:`Normalized.span` maps any half-open span of the analysis form back to the
original, so tokens and evidence found on the normalised text can be highlighted in what the user gave.

Normalisation, in this order (every step but NFKC keeps the length, so most texts need no offset map at all):

1. **Width folding (NFKC)** per character: full-width Latin, digits and punctuation become ASCII,
   compatibility ideographs become unified ones, circled/squared forms expand (``①`` -> ``1``, ``㎡`` ->
   ``m2``; these change the length, and the offset map tracks it). Exceptions kept as they are, because they
   are ordinary Chinese punctuation that NFKC would turn into ASCII: the full-width ``，；：！？（）`` (step 5
   makes ASCII ones in Chinese context full-width, so folding them first would only round-trip) and the
   ellipsis ``…``/``‥`` (NFKC: ``...``).
2. **Invisible characters**: C0/C1 control characters (other than tab, LF, CR) and zero-width characters
   (U+200B-U+200D, U+2060, U+FEFF) become a plain space, so they can never glue or split a token invisibly and
   whitespace-only tokens are dropped by the segmenter.
3. **Corner quotes** ``「」『』`` become ``“”‘’`` (the simplified-Chinese convention), so traditional and
   simplified texts quote the same way.
4. **Traditional -> simplified** with OpenCC ``t2s`` (phrase-aware). OpenCC's t2s tables are character-for-
   character for practical purposes; where a phrase conversion does change the length of a line, that line is
   converted character by character instead, so the offset map stays exact.
5. **ASCII punctuation in Chinese context** becomes its Chinese (full-width) form:

   - ``, ; : ! ?`` when the character immediately before or after is Chinese (an ideograph or CJK punctuation,
     including Chinese quotes). ``1,000`` and ``10:30`` and ``Hello, world`` stay ASCII.
   - ``( )`` as a pair (no nested parentheses, at most 50 characters apart, same line) when the content
     contains Chinese or the pair touches Chinese on either side: ``镇(街道)`` -> ``镇（街道）``, ``(1)推进``
     -> ``（1）推进``.
   - ``"…"`` as a pair (same line, at most 64 characters) whose content contains Chinese -> ``“…”``; likewise
     ``'…'`` -> ``‘…’``. English apostrophes and quotes are left alone.
   - ``.`` -> ``。`` after an ideograph when followed by whitespace, the end of the text, an ideograph or a
     closing quote (``盐城.`` but not ``3.5`` or ``www.court.gov.cn``).

   So both ``近年来,盐城`` and ``近年来，盐城`` normalise to ``近年来，盐城``.

Letter case is not changed. The OpenCC converter and the translation tables are built once, lazily (about a
quarter of a second), and are immutable afterwards (safe to share between threads).

Speed: each step first screens the text with one regular-expression search (C speed) and does nothing when
there is nothing to change, so ordinary simplified Chinese costs little more than the OpenCC pass (~10 ms per
MB). Steps 1-2 share a single scan for runs of characters they could touch; whether the text holds any
supplementary-plane character (which needs slower screens) is read from how CPython stores the string; and
the punctuation step replaces marks with plain ``str.replace`` and puts back the few outside Chinese context.
"""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["Normalized", "normalize", "normalize_text"]

# Characters NFKC would change but that we keep: Chinese full-width punctuation (the canonical form of ASCII
# punctuation in Chinese context) and the ellipsis, which would become ASCII dots.
_KEEP = "\u2026\u2025，；：！？（）"
# Invisible characters that become a space (control characters, zero-width characters, BOM).
_INVISIBLE = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]
_INVISIBLE += [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]
_QUOTE_FOLD = {"「": "“", "」": "”", "『": "‘", "』": "’", "﹁": "“", "﹂": "”", "﹃": "‘", "﹄": "’"}

# Chinese context for the punctuation rules: ideographs (incl. Ext A, compatibility), CJK punctuation
# 、。〈〉《》
# 「」『』【】〔〕 etc. and the Chinese curly quotes.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = _HAN + "\u3001-\u3003\u3008-\u3011\u3014-\u301f\u201c\u201d\u2018\u2019\uff08\uff09"

_PUNCT_MAP = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？"}
_RE_PAREN = re.compile(r"\((?P<body>[^()\n]{0,50})\)")
_RE_CJK_CHAR = re.compile(f"[{_CJK}]")
_RE_SMP = re.compile("[\U00010000-\U0010ffff]")
_RE_DQUOTE = re.compile(r'"([^"\n]{1,64})"')
_RE_SQUOTE = re.compile(r"'([^'\n]{1,64})'")
_RE_HAS_CJK = re.compile(f"[{_HAN}]")
# Patterns start with a literal or class so the regex engine can skip ahead to candidates.
# A mark in Chinese context (becomes full-width); _punct works with its complement below.
_RE_PUNCT = re.compile(rf"[,;:!?](?:(?<=[{_CJK}].)|(?=[{_CJK}]))")
# A mark outside Chinese context (stays ASCII).
_RE_PUNCT_STAY = re.compile(rf"[,;:!?](?<![{_CJK}].)(?![{_CJK}])")
_RE_PUNCT_ONE = {c: re.compile(rf"{re.escape(c)}(?:(?<=[{_CJK}].)|(?=[{_CJK}]))") for c in _PUNCT_MAP}
_RE_PERIOD = re.compile(rf"\.(?<=[{_HAN}]\.)(?=\s|$|[{_HAN}\u201d\u2019])")
# Quick screen: does the text contain anything the punctuation rules could touch?
_RE_ASCII_PUNCT = re.compile(r"[,;:!?().\"']")
_PUNCT_CHARS = ",;:!?"

# After the per-character translation these characters are known NFKC-stable starters that never compose with
# a neighbour, so runs of anything else are all the slow path needs to look at. (Verified when the tables are
# built: see _build_tables.)
_STABLE = (
    "\x00-\x7f\u3400-\u4dbf\u4e00-\u9fff\u3001-\u3029\u3030-\u3035\u201c\u201d\u2018\u2019\u2014" + _KEEP
)
_RE_UNSTABLE = re.compile(f"[^{_STABLE}][^{_STABLE}]*")


def _char_class(cps: Iterable[int]) -> str:
    """A regex character class (without brackets) matching exactly the given code points."""
    out = []
    run: list[int] = []
    for cp in sorted(set(cps)):
        if run and cp == run[-1] + 1:
            run.append(cp)
            continue
        if run:
            out.append(_class_range(run[0], run[-1]))
        run = [cp]
    if run:
        out.append(_class_range(run[0], run[-1]))
    return "".join(out)


def _run_re(cls: str) -> re.Pattern[str]:
    """A pattern matching runs of the character class ``cls`` (written ``[c][c]*``, see _Tables._build)."""
    return re.compile(f"[{cls}][{cls}]*")


def _class_range(a: int, b: int) -> str:
    return re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"


# Code points that can change under NFKC (ideographs U+3400-U+9FFF, U+20000-U+2F7FF and Hangul syllables are
# stable): only these need scanning when the tables are built.
_SCAN = (
    *range(0xA0, 0x3400),
    *range(0xA000, 0xAC00),
    *range(0xD7A4, 0xD800),
    *range(0xE000, 0x20000),
    *range(0x2F800, 0x2FA20),
)


class _Tables:
    """Lazily built immutable conversion state, shared by every call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built = False
        self.translate: dict[int, str] = {}
        self.re_trans: re.Pattern[str] = re.compile("")
        self.re_suspect: re.Pattern[str] = re.compile("")
        self.re_trans_bmp = self.re_trans_smp = self.re_suspect_bmp = self.re_suspect_smp = self.re_suspect
        self.re_any_bmp_run = self.re_suspect
        self.cc: Any = None

    def get(self) -> _Tables:
        if not self._built:
            with self._lock:
                if not self._built:
                    self._build()
                    self._built = True
        return self

    def _build(self) -> None:
        table: dict[int, str] = {}
        suspect: set[int] = set()
        for cp in _SCAN:
            c = chr(cp)
            n = unicodedata.normalize("NFKC", c)
            if n != c:
                if len(n) == 1:
                    # NFKC is exactly one other character: length-preserving, done by translation.
                    table[cp] = n
                else:
                    suspect.add(cp)  # expands (①, ㎡, ½ ...): the slow path with an offset map
            if unicodedata.combining(c):
                suspect.add(cp)  # may reorder or compose with its neighbours
            d = unicodedata.decomposition(c).split()
            if len(d) == 2 and not d[0].startswith("<"):
                suspect.add(int(d[1], 16))  # second half of a canonical composition pair
        suspect.update(range(0x1161, 0x1176))  # Hangul medial vowels and final consonants compose
        suspect.update(range(0x11A8, 0x11C3))
        for ch in _KEEP:
            table.pop(ord(ch), None)
            suspect.discard(ord(ch))
        for cp in _INVISIBLE:
            table[cp] = " "
        for k, v in _QUOTE_FOLD.items():
            table[ord(k)] = v
        # Chain: a character whose NFKC is a corner quote must end as the Chinese quote too.
        for cp, v in list(table.items()):
            if v in _QUOTE_FOLD:
                table[cp] = _QUOTE_FOLD[v]
        self.translate = table
        # Runs are written [c][c]* rather than [c]+: a pattern that starts with a character class lets the
        # regex engine skip ahead to candidates; one starting with a repeat tries a match at every position.
        self.re_trans = _run_re(_char_class(table))
        self.re_suspect = re.compile(f"[{_char_class(suspect)}]")
        # Screens: a class holding only BMP characters compiles to a bitmap (a few ms per MB); one with
        # supplementary-plane ranges is tested range by range (~50x slower), so the supplementary part is only
        # searched when the text has a supplementary character at all (one-range test, also fast).
        self.re_trans_bmp = re.compile(f"[{_char_class(cp for cp in table if cp < 0x10000)}]")
        self.re_any_bmp_run = _run_re(_char_class(cp for cp in {*table, *suspect} if cp < 0x10000))
        self.re_trans_smp = re.compile(f"[{_char_class(cp for cp in table if cp >= 0x10000)}]")
        self.re_suspect_bmp = re.compile(f"[{_char_class(cp for cp in suspect if cp < 0x10000)}]")
        self.re_suspect_smp = re.compile(f"[{_char_class(cp for cp in suspect if cp >= 0x10000)}]")
        import opencc  # deferred: only needed once a text is normalised

        self.cc = opencc.OpenCC("t2s")


_TABLES = _Tables()


def _nfkc_pieces(t: str) -> tuple[str, NDArray[np.int64], NDArray[np.int64]] | None:
    """NFKC for the characters str.translate could not handle, with per-character maps.

    ``t`` has already been translated character by character. Returns None if nothing changes; otherwise the
    new text and two int64 arrays (one entry per output character) giving the ``[start, end)`` of the input
    characters each output character came from.
    """
    out: list[str] = []
    starts: list[NDArray[np.int64]] = []
    ends: list[NDArray[np.int64]] = []
    pos = 0  # input position up to which output has been emitted
    changed = False
    for m in _RE_UNSTABLE.finditer(t):
        a, b = m.span()
        # A combining mark at the start of the run may compose with the ASCII letter before it.
        if a > pos and t[a - 1].isascii() and t[a - 1].isalpha():
            a -= 1
        run = t[a:b]
        if unicodedata.is_normalized("NFKC", run):
            continue
        changed = True
        if a > pos:
            out.append(t[pos:a])
            rng = np.arange(pos, a, dtype=np.int64)
            starts.append(rng)
            ends.append(rng + 1)
        r_out, r_s, r_e = _nfkc_run(run, a)
        out.append(r_out)
        starts.append(r_s)
        ends.append(r_e)
        pos = b
    if not changed:
        return None
    if pos < len(t):
        out.append(t[pos:])
        rng = np.arange(pos, len(t), dtype=np.int64)
        starts.append(rng)
        ends.append(rng + 1)
    return "".join(out), np.concatenate(starts), np.concatenate(ends)


def _nfkc_run(run: str, offset: int) -> tuple[str, NDArray[np.int64], NDArray[np.int64]]:
    """Normalise one short run of unusual characters; maps are absolute (``offset`` added)."""
    # Group each starter with the non-starters (combining marks) that follow it: NFKC never crosses groups.
    groups: list[tuple[int, int]] = []
    for i, ch in enumerate(run):
        if i == 0 or (unicodedata.combining(ch) == 0 and not 0x1160 <= ord(ch) <= 0x11FF):
            groups.append((i, i + 1))
        else:
            groups[-1] = (groups[-1][0], i + 1)
    pieces: list[str] = []
    s: list[int] = []
    e: list[int] = []
    for ga, gb in groups:
        g = run[ga:gb]
        n = g if g in _KEEP else unicodedata.normalize("NFKC", g)
        pieces.append(n)
        if len(n) == gb - ga:  # same length: align one to one
            s.extend(range(offset + ga, offset + gb))
            e.extend(range(offset + ga + 1, offset + gb + 1))
        else:  # expansion or composition: every output character covers the whole group
            s.extend([offset + ga] * len(n))
            e.extend([offset + gb] * len(n))
    joined = "".join(pieces)
    if joined != unicodedata.normalize("NFKC", run):
        # Grouping guessed wrong (exotic composition): map the whole run coarsely, still exact at its ends.
        joined = unicodedata.normalize("NFKC", run)
        s = [offset] * len(joined)
        e = [offset + len(run)] * len(joined)
    return joined, np.asarray(s, dtype=np.int64), np.asarray(e, dtype=np.int64)


def _t2s(t: str, cc: Any) -> str:
    """Traditional -> simplified, guaranteed length-preserving (so the offset map is unchanged)."""
    conv: str = cc.convert(t)
    if len(conv) == len(t):
        return conv
    # A phrase rule changed the length somewhere: convert line by line, and character by character where a
    # line
    # still changes length (a character whose conversion changes length is kept as it is).
    lines = t.splitlines(keepends=True)
    out = []
    for line in lines:
        c = cc.convert(line)
        if len(c) != len(line):
            chars = []
            for ch in line:
                cch = cc.convert(ch)
                chars.append(cch if len(cch) == 1 else ch)
            c = "".join(chars)
        out.append(c)
    return "".join(out)


def _paren_sub(m: re.Match[str]) -> str:
    body = m.group("body")
    a, b = m.span()
    s = m.string
    if (
        _RE_HAS_CJK.search(body)
        or (a > 0 and _RE_CJK_CHAR.match(s, a - 1))
        or (b < len(s) and _RE_CJK_CHAR.match(s, b))
    ):
        return f"（{body}）"
    return m.group(0)


def _dquote_sub(m: re.Match[str]) -> str:
    body = m.group(1)
    return f"“{body}”" if _RE_HAS_CJK.search(body) else m.group(0)


def _squote_sub(m: re.Match[str]) -> str:
    body = m.group(1)
    return f"‘{body}’" if _RE_HAS_CJK.search(body) else m.group(0)


def _punct(t: str) -> str:
    """Length-preserving ASCII -> Chinese punctuation in Chinese context (rules in the module docstring)."""
    if not _RE_ASCII_PUNCT.search(t):
        return t
    if "(" in t:
        t = _RE_PAREN.sub(_paren_sub, t)
    if '"' in t:
        t = _RE_DQUOTE.sub(_dquote_sub, t)
    if "'" in t:
        t = _RE_SQUOTE.sub(_squote_sub, t)
    counts = [t.count(c) for c in _PUNCT_CHARS]
    present = [c for c, k in zip(_PUNCT_CHARS, counts, strict=True) if k]
    if present:
        # Work in proportion to the smaller of the marks that stay and those that change: in Chinese text most
        # change, so replace them all with plain str.replace and put back the few outside Chinese context
        # (every decision reads the text before any replacement; a replacement never creates context).
        stay = [m.start() for m in _RE_PUNCT_STAY.finditer(t)]
        n_change = sum(counts) - len(stay)
        if n_change and n_change >= len(stay):
            orig = t
            for c in present:
                t = t.replace(c, _PUNCT_MAP[c])
            if stay:
                pieces: list[str] = []
                prev = 0
                for i in stay:
                    pieces += (t[prev:i], orig[i])
                    prev = i + 1
                pieces.append(t[prev:])
                t = "".join(pieces)
        elif n_change:
            for c in present:  # one literal-replacement pass per mark: no per-match Python callback
                t = _RE_PUNCT_ONE[c].sub(_PUNCT_MAP[c], t)
    if "." in t:
        t = _RE_PERIOD.sub("。", t)
    return t


# CPython stores a str with 1, 2 or 4 bytes per character, 4 only when it holds a supplementary-plane
# character, and sys.getsizeof shows which: header + (len + 1) * width (+ cached UTF-8 or wchar copies, which
# only add). A size that matches the 1- or 2-byte layout exactly proves there is none, with no scan.
_STR_HEADER = sys.getsizeof("\u0100") - 4 if sys.implementation.name == "cpython" else -(10**9)


def _has_smp(t: str) -> bool:
    """Does ``t`` hold a character outside the Basic Multilingual Plane? (O(1) for most CPython strings.)"""
    if t.isascii():
        return False
    size = sys.getsizeof(t) - _STR_HEADER
    if size == len(t) + 1 or size == 2 * (len(t) + 1):
        return False
    return _RE_SMP.search(t) is not None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_surrogates(text: str) -> None:
    # Lone surrogates (from json "\ud800" escapes or surrogateescape decoding) are not text: OpenCC and the
    # tokenizers would fail deep inside on them, so say so here, with the position.
    m = _SURROGATE.search(text)
    if m is not None:
        from ..errors import InputError

        raise InputError(
            f"text holds an unpaired surrogate U+{ord(m.group()):04X} at position {m.start()}: not valid "
            "Unicode; decode the source with errors='replace' or repair it"
        )


def _normalize(text: str, want_map: bool) -> tuple[str, NDArray[np.int64] | None, NDArray[np.int64] | None]:
    _check_surrogates(text)
    tables = _TABLES.get()
    starts = ends = None
    t = text
    table = tables.translate
    if not _has_smp(t):
        # One scan for both steps: translate each run of characters that are translated or suspect, noting
        # whether a suspect survives (characters outside these runs are neither).
        suspect = tables.re_suspect_bmp.search
        found: list[bool] = []

        def _translate_run(m: re.Match[str]) -> str:
            r = m.group().translate(table)
            if not found and suspect(r) is not None:
                found.append(True)
            return r

        t = tables.re_any_bmp_run.sub(_translate_run, t)
        need_nfkc = bool(found)
    else:
        if tables.re_trans_bmp.search(t) is not None or tables.re_trans_smp.search(t) is not None:
            t = tables.re_trans.sub(lambda m: m.group().translate(table), t)
        need_nfkc = tables.re_suspect_bmp.search(t) is not None or tables.re_suspect_smp.search(t) is not None
    if need_nfkc:
        res = _nfkc_pieces(t)
        if res is not None:
            t, starts, ends = res
    t = _t2s(t, tables.cc)
    t = _punct(t)
    if not want_map:
        return t, None, None
    return t, starts, ends


def normalize_text(text: str) -> str:
    """Normalised analysis form of ``text`` (no offset map): equal to ``normalize(text).text``.

    Raises TypeError if ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    return _normalize(text, False)[0]


@dataclass(frozen=True, eq=False)
class Normalized:
    """A text and its normalised analysis form, with the offset map between them.

    Attributes:
        original: the text as given (never altered).
        text: the normalised form (see the module docstring for the rules).
        starts, ends: int64 arrays of shape ``(len(text),)``: normalised character ``i`` came from
            ``original[starts[i]:ends[i]]`` (one character, or a few when NFKC composed or expanded). ``None``
            when normalisation kept the length, in which case the map is the identity (see :attr:`identity`).
    """

    original: str
    text: str
    starts: NDArray[np.int64] | None = field(default=None, repr=False)
    ends: NDArray[np.int64] | None = field(default=None, repr=False)

    @property
    def identity(self) -> bool:
        """True when character ``i`` of :attr:`text` is character ``i`` of :attr:`original` (same length)."""
        return self.starts is None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map the half-open span ``[start, end)`` of :attr:`text` to ``(orig_start, orig_end)`` in
        :attr:`original`.

        ``original[orig_start:orig_end]`` covers every original character the span came from. An empty span
        maps to an empty span at the corresponding position. Raises IndexError if ``0 <= start <= end <=
        len(text)`` does not hold.
        """
        n = len(self.text)
        if not 0 <= start <= end <= n:
            raise IndexError(f"span ({start}, {end}) out of range for normalised text of length {n}")
        if self.starts is None or self.ends is None:
            return start, end
        if start == end:
            pos = len(self.original) if start == n else int(self.starts[start])
            return pos, pos
        return int(self.starts[start]), int(self.ends[end - 1])

    def spans(
        self, starts: NDArray[np.integer[Any]] | list[int], ends: NDArray[np.integer[Any]] | list[int]
    ) -> tuple[list[int], list[int]]:
        """Vectorised :meth:`span` for many non-empty spans; returns two lists of original offsets."""
        if self.starts is None or self.ends is None:
            return list(starts), list(ends)
        s = np.asarray(starts, dtype=np.int64)
        e = np.asarray(ends, dtype=np.int64)
        return self.starts[s].tolist(), self.ends[e - 1].tolist()

    def char_map(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The per-character maps ``(starts, ends)`` (materialised as ``arange`` for an identity map)."""
        if self.starts is None or self.ends is None:
            s = np.arange(len(self.text), dtype=np.int64)
            return s, s + 1
        return self.starts, self.ends


def normalize(text: str) -> Normalized:
    """Normalise ``text`` for analysis and keep the offset map back to it.

    Returns a :class:`Normalized`; ``normalize(text).text == normalize_text(text)``. Raises TypeError if
    ``text`` is not a str. Linear in the length of the text; texts whose normalisation keeps the length (the
    usual case) get an identity map without any per-character work.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    t, starts, ends = _normalize(text, True)
    return Normalized(text, t, starts, ends)
