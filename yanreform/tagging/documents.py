"""Long-document tagging: a text above a length threshold is tagged passage by passage and aggregated.

The tagger is trained and calibrated on passages of 40-320 characters. A long text (a whole submission, a
48,000-character report covering nine topics) tagged as one passage gets only the categories that dominate
it; its parts get the rest. :func:`tag_documents` therefore

1. cuts each text longer than ``threshold`` characters into passages (:func:`passages`): its paragraphs,
   a paragraph longer than ``passage_chars`` cut into sentences, and units shorter than
   ``min_chars`` (a heading, a short sentence) grouped with the next;
2. tags every passage of every text, and every short text as it is, with **one** ``Tagger.tag_many`` call
   (so the encoder sees one batch stream);
3. aggregates per long text (:func:`aggregate`): the union of its passages' categories, each with the best
   passage score, and the passages' evidence with offsets mapped back into the whole text
   (``text[e.start:e.end] == e.text``), best-scoring passage first, at most ``evidence_cap`` spans per
   category (distinct terms first); ``DocumentTags.omitted[code]`` counts the spans left out.

Texts at or under the threshold get exactly what ``Tagger.tag_many`` gives them. Only the tagger's public
API is used (``tag_many``, the :class:`Tag` / :class:`Evidence` / :class:`TagList` records).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import InputError, check_batch_size
from .records import Evidence, Tag, TagList

if TYPE_CHECKING:
    from .tagger import Tagger

__all__ = [
    "EVIDENCE_CAP",
    "LONG_THRESHOLD",
    "PASSAGE_CHARS",
    "DocumentTags",
    "aggregate",
    "passages",
    "tag_documents",
]

#: texts longer than this many characters are tagged in passages
LONG_THRESHOLD = 600
#: the most characters in one passage window
PASSAGE_CHARS = 400
#: a window shorter than this takes the next unit in (a heading joins its paragraph)
MIN_PASSAGE_CHARS = 120
#: evidence spans kept per category of a long text
EVIDENCE_CAP = 5

_SENT_END = re.compile(r"[。！？；!?;]+[”’」』）)\"']*")


class DocumentTags(TagList):
    """The aggregated tags of a long text (a :class:`TagList`, best first).

    Extra attributes: ``passages``: the ``(start, end)`` character spans the text was tagged in;
    ``omitted``: category code -> number of evidence spans left out by the cap (only codes with some).
    """

    def __init__(
        self,
        tags: Sequence[Tag] = (),
        text: str = "",
        *,
        passages: Sequence[tuple[int, int]] = (),
        omitted: dict[str, int] | None = None,
    ) -> None:
        super().__init__(tags, text=text)
        self.passages = list(passages)
        self.omitted = dict(omitted or {})


def _sentence_spans(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """``[start, end)`` cut at sentence ends into pieces of at most ``limit`` characters."""
    out: list[tuple[int, int]] = []
    s = start
    for m in _SENT_END.finditer(text, start, end):
        e = m.end()
        while e - s > limit:  # a sentence longer than the limit: cut it
            out.append((s, s + limit))
            s += limit
        out.append((s, e))
        s = e
    while s < end:
        e = min(end, s + limit)
        out.append((s, e))
        s = e
    return [(a, b) for a, b in out if text[a:b].strip()]


def passages(
    text: str, *, passage_chars: int = PASSAGE_CHARS, min_chars: int = MIN_PASSAGE_CHARS
) -> list[tuple[int, int]]:
    """Passage windows of ``text``: ``(start, end)`` spans in order, each at most ``passage_chars`` long.

    Paragraphs (lines) are the units; a paragraph longer than ``passage_chars`` is cut into its sentences
    (a sentence longer than that at ``passage_chars``). A window shorter than ``min_chars`` takes the next
    unit in while it stays within ``passage_chars`` (a heading joins its paragraph, short sentences group
    into passages of the length the tagger was trained on); other units start a window of their own.
    Spans exclude surrounding whitespace; a blank text gives ``[]``. Raises InputError for
    ``passage_chars`` < 20.
    """
    if isinstance(passage_chars, bool) or not isinstance(passage_chars, int) or passage_chars < 20:
        raise InputError(f"passage_chars must be an integer >= 20, got {passage_chars!r}")
    units: list[tuple[int, int]] = []
    for m in re.finditer(r"[^\n]+", text):
        s, e = m.start(), m.end()
        seg = m.group()
        s += len(seg) - len(seg.lstrip())
        e -= len(seg) - len(seg.rstrip())
        if s >= e:
            continue
        if e - s > passage_chars:
            units.extend(_sentence_spans(text, s, e, passage_chars))
        else:
            units.append((s, e))
    windows: list[tuple[int, int]] = []
    for s, e in units:
        if windows and windows[-1][1] - windows[-1][0] < min_chars and e - windows[-1][0] <= passage_chars:
            windows[-1] = (windows[-1][0], e)
        else:
            windows.append((s, e))
    return windows


def aggregate(
    text: str,
    spans: Sequence[tuple[int, int]],
    tag_lists: Sequence[Sequence[Tag]],
    *,
    evidence_cap: int = EVIDENCE_CAP,
) -> DocumentTags:
    """One tag list for ``text`` from the tags of its passages (``tag_lists[k]`` for ``text[spans[k]]``).

    Union of the categories, each with its best passage score; evidence shifted into ``text``'s offsets,
    from the best-scoring passage first and then in text order, distinct terms before repeats, at most
    ``evidence_cap`` spans per category (the rest counted in ``omitted``). Tags are sorted by score, best
    first.
    """
    best: dict[str, tuple[float, int, Tag]] = {}
    evidence: dict[str, list[tuple[int, Evidence]]] = {}
    for k, ((s, _), tags) in enumerate(zip(spans, tag_lists, strict=True)):
        for t in tags:
            if t.code not in best or t.score > best[t.code][0]:
                best[t.code] = (float(t.score), k, t)
            bucket = evidence.setdefault(t.code, [])
            for ev in t.evidence:
                bucket.append((k, Evidence(ev.start + s, ev.end + s, ev.text, ev.source, ev.term)))
    out: list[Tag] = []
    omitted: dict[str, int] = {}
    for code, (score, kbest, tag) in best.items():
        evs = evidence.get(code, [])
        evs.sort(key=lambda ke: (ke[0] != kbest, ke[1].start))
        kept: list[Evidence] = []
        terms: set[str] = set()
        for _, ev in evs:  # distinct terms first
            if len(kept) < evidence_cap and ev.term not in terms:
                kept.append(ev)
                terms.add(ev.term)
        for _, ev in evs:
            if len(kept) >= evidence_cap:
                break
            if ev not in kept:
                kept.append(ev)
        if len(evs) > len(kept):
            omitted[code] = len(evs) - len(kept)
        kept.sort(key=lambda e: e.start)
        out.append(Tag(tag.code, tag.name, tag.name_en, score, tuple(kept)))
    out.sort(key=lambda t: -t.score)
    return DocumentTags(out, text=text, passages=spans, omitted=omitted)


def tag_documents(
    tagger: Tagger,
    texts: Sequence[str],
    *,
    batch_size: int = 256,
    threshold: int = LONG_THRESHOLD,
    passage_chars: int = PASSAGE_CHARS,
    evidence_cap: int = EVIDENCE_CAP,
    show_progress: bool | None = None,
) -> list[TagList]:
    """Tag texts of any length: one :class:`TagList` per text, in order (see the module docstring).

    Texts of at most ``threshold`` characters are tagged whole; longer ones in passages and aggregated
    (:class:`DocumentTags`). All passages and short texts go through one ``tagger.tag_many`` call.

    Raises:
        TypeError: a text is not a str.
        InputError: ``batch_size``, ``threshold`` or ``passage_chars`` out of range, ``evidence_cap`` < 1.
    """
    check_batch_size(batch_size)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < passage_chars:
        raise InputError(
            f"threshold must be an integer >= passage_chars ({passage_chars}), got {threshold!r}"
        )
    if isinstance(evidence_cap, bool) or not isinstance(evidence_cap, int) or evidence_cap < 1:
        raise InputError(f"evidence_cap must be a positive integer, got {evidence_cap!r}")
    pieces: list[str] = []
    plan: list[tuple[int, list[tuple[int, int]] | None]] = []  # (first piece, spans or None when whole)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] must be str, got {type(t).__name__}")
        if len(t) <= threshold:
            plan.append((len(pieces), None))
            pieces.append(t)
            continue
        spans = passages(t, passage_chars=passage_chars) or [(0, len(t))]
        plan.append((len(pieces), spans))
        pieces.extend(t[s:e] for s, e in spans)
    results = tagger.tag_many(pieces, batch_size=batch_size, show_progress=show_progress) if pieces else []
    out: list[TagList] = []
    for t, (first, windows) in zip(texts, plan, strict=True):
        if windows is None:
            out.append(results[first])
        else:
            out.append(
                aggregate(t, windows, results[first : first + len(windows)], evidence_cap=evidence_cap)
            )
    return out
