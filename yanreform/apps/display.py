"""HTML for notebooks: cases, corpora, tag lists and search hits.

Four renderers: :func:`case_html`, :func:`corpus_html`, :func:`tags_html`, :func:`hits_html`. The records
themselves never import this module (they carry plain ``_repr_html_`` fallbacks); :func:`register_formatters`
hands the renderers to IPython's HTML formatter, which ``import yanreform`` does when IPython is running.
Each returns one self-contained HTML fragment (inline styles only: notebooks strip ``<style>`` blocks in
some front ends). All user text goes through :func:`html.escape`.

Category colours come from a fixed palette keyed by category code (:data:`PALETTE`), so a code has the same
colour in every notebook; unknown codes get a stable colour derived from the code. Evidence spans are
highlighted with ``<mark>`` in the original text, by their character offsets.

Objects are read by attribute (duck typing), so anything shaped like the documented records works.
"""

from __future__ import annotations

import html
import itertools
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "PALETTE",
    "case_html",
    "category_color",
    "corpus_html",
    "hits_html",
    "register_formatters",
    "tags_html",
]

#: category code -> (chip colour, highlight colour): strong for chips (white text), light for <mark>.
PALETTE: dict[str, tuple[str, str]] = {
    "digitalisation": ("#1f77b4", "#cfe3f5"),
    "one_stop_service": ("#ff7f0e", "#ffe0c2"),
    "coordination": ("#2ca02c", "#d2efd2"),
    "supervision": ("#d62728", "#f8d0d0"),
    "dispute_resolution": ("#9467bd", "#e6dbf3"),
    "vulnerable_groups": ("#8c564b", "#ecdcd8"),
    "fast_track": ("#e377c2", "#f9dcef"),
    "legal_publicity": ("#7f7f7f", "#e3e3e3"),
    "business_environment": ("#bcbd22", "#f1f1c4"),
    "grassroots_governance": ("#17becf", "#cdf1f5"),
    "ecological_protection": ("#3f8f3f", "#d8ecd0"),
}

# colours for codes outside the shipped taxonomy (picked by a stable hash of the code)
_EXTRA: tuple[tuple[str, str], ...] = (
    ("#393b79", "#d6d7ee"),
    ("#637939", "#e0e8cf"),
    ("#8c6d31", "#efe3c9"),
    ("#843c39", "#f0d3d2"),
    ("#7b4173", "#ecd5e8"),
    ("#3182bd", "#d3e5f4"),
    ("#e6550d", "#fbdcca"),
    ("#31a354", "#d1eedb"),
)

_BOX = (
    "font-family:system-ui,-apple-system,'PingFang SC','Noto Sans CJK SC','Microsoft YaHei',sans-serif;"
    "line-height:1.6;max-width:960px"
)
_TABLE = "border-collapse:collapse;font-size:13px"
_TH = "text-align:left;padding:4px 8px;border-bottom:2px solid #999"
_TD = "text-align:left;padding:3px 8px;border-bottom:1px solid #ddd;vertical-align:top"
_TDN = _TD.replace("text-align:left", "text-align:right") + ";font-variant-numeric:tabular-nums"


def category_color(code: str) -> tuple[str, str]:
    """``(chip colour, highlight colour)`` of a category code, as CSS hex strings; stable across runs."""
    if code in PALETTE:
        return PALETTE[code]
    return _EXTRA[zlib.crc32(code.encode("utf-8")) % len(_EXTRA)]


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _num(value: Any, fmt: str = ".3f") -> str:
    if value is None:
        return "–"
    try:
        return format(float(value), fmt)
    except (TypeError, ValueError):
        return _e(value)


def _chip(code: str, label: str, score: Any = None, title: str = "") -> str:
    bg, _ = category_color(code)
    s = f" <b>{_num(score, '.2f')}</b>" if score is not None else ""
    return (
        f'<span title="{_e(title or code)}" data-code="{_e(code)}" style="display:inline-block;'
        f"background:{bg};color:#fff;border-radius:10px;padding:0 8px;margin:1px 3px 1px 0;"
        f'font-size:12px;white-space:nowrap">{_e(label)}{s}</span>'
    )


def _tag_chip(tag: Any) -> str:
    code = str(getattr(tag, "code", ""))
    name = getattr(tag, "name", "") or code
    name_en = getattr(tag, "name_en", "") or ""
    title = f"{code} · {name_en}" if name_en else code
    return _chip(code, str(name), getattr(tag, "score", None), title)


def _highlight(text: str, spans: Sequence[tuple[int, int, str, str]]) -> str:
    """``text`` as escaped HTML with each ``(start, end, code, label)`` span wrapped in ``<mark>``.

    Overlapping spans are cut at every boundary; a piece covered by several categories takes the colour of
    the first span that covers it (spans come score-sorted) and lists all of them in its tooltip.
    """
    n = len(text)
    good = [
        (s, e, c, lab)
        for s, e, c, lab in spans
        if isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= n
    ]
    if not good:
        return _e(text)
    cuts = sorted({0, n, *(s for s, _, _, _ in good), *(e for _, e, _, _ in good)})
    out: list[str] = []
    for a, b in itertools.pairwise(cuts):
        piece = text[a:b]
        cover = [(c, lab) for s, e, c, lab in good if s <= a and b <= e]
        if not cover:
            out.append(_e(piece))
            continue
        _, light = category_color(cover[0][0])
        seen: dict[str, None] = {}
        for c, lab in cover:
            seen.setdefault(f"{c}: {lab}" if lab else c, None)
        tip = "; ".join(seen)
        out.append(
            f'<mark title="{_e(tip)}" data-code="{_e(cover[0][0])}" '
            f'style="background:{light};padding:0 1px;border-radius:2px">{_e(piece)}</mark>'
        )
    return "".join(out)


def tags_html(text: str, tags: Iterable[Any]) -> str:
    """Coloured chips for ``tags`` (code, name, score) above ``text`` with each evidence span highlighted.

    ``tags``: objects with ``code``, ``name``, ``score`` (0..1) and ``evidence`` (objects with ``start``,
    ``end`` offsets into ``text``, ``term``/``source``). Spans outside ``text`` are ignored. An empty tag list
    shows "no category".
    """
    tags = list(tags)
    if tags:
        chips = "".join(_tag_chip(t) for t in tags)
    else:
        chips = '<span style="color:#888;font-size:12px">no category</span>'
    spans: list[tuple[int, int, str, str]] = []
    for t in tags:
        code = str(getattr(t, "code", ""))
        for ev in getattr(t, "evidence", None) or ():
            label = getattr(ev, "term", None) or getattr(ev, "source", None) or ""
            spans.append((getattr(ev, "start", -1), getattr(ev, "end", -1), code, str(label)))
    body = _highlight(text or "", spans)
    return (
        f'<div class="yanreform-tags" style="{_BOX}"><div style="margin-bottom:4px">{chips}</div>'
        f'<div style="white-space:pre-wrap;font-size:14px">{body}</div></div>'
    )


def case_html(case: Any) -> str:
    """One case: id, agency and title, the lead, numbered initiatives (headline in bold), the outcome.

    ``case``: an object with ``id``, ``agency``, ``title``, ``lead``, ``initiatives`` (each with ``id``,
    ``heading``, ``text``) and ``outcome`` (the :class:`~yanreform.corpus.Case` shape).
    """
    parts = [
        f'<div class="yanreform-case" style="{_BOX}">',
        f'<div style="color:#666;font-size:12px">{_e(getattr(case, "id", ""))} · '
        f"{_e(getattr(case, 'agency', ''))}</div>",
        '<div style="font-size:16px;font-weight:600;margin:2px 0 6px">'
        f"{_e(getattr(case, 'title', ''))}</div>",
    ]
    lead = getattr(case, "lead", "") or ""
    if lead:
        parts.append(f'<p style="margin:4px 0;color:#333">{_e(lead)}</p>')
    inis = list(getattr(case, "initiatives", ()) or ())
    if inis:
        parts.append('<ol style="margin:4px 0;padding-left:22px">')
        for ini in inis:
            text = getattr(ini, "text", "") or ""
            heading = getattr(ini, "heading", "") or ""
            if heading and text.startswith(heading):
                body = f"<b>{_e(heading)}</b>{_e(text[len(heading) :])}"
            else:
                body = _e(text)
            parts.append(f'<li style="margin:2px 0" title="{_e(getattr(ini, "id", ""))}">{body}</li>')
        parts.append("</ol>")
    outcome = getattr(case, "outcome", "") or ""
    if outcome:
        parts.append(f'<p style="margin:4px 0;color:#333;font-style:italic">{_e(outcome)}</p>')
    parts.append("</div>")
    return "".join(parts)


def corpus_html(corpus: Any, *, max_rows: int = 200) -> str:
    """A table of the cases of ``corpus``: id, agency, title, number of initiatives.

    ``corpus``: iterable of cases (optionally with ``name``). At most ``max_rows`` rows are shown; a last line
    says how many more there are.
    """
    cases = list(corpus)
    name = getattr(corpus, "name", None)
    n_ini = sum(len(getattr(c, "initiatives", ()) or ()) for c in cases)
    caption = f"{_e(name)} · " if name else ""
    caption += f"{len(cases)} cases, {n_ini} initiatives"
    rows = []
    for c in cases[:max_rows]:
        rows.append(
            f'<tr><td style="{_TD};white-space:nowrap">{_e(getattr(c, "id", ""))}</td>'
            f'<td style="{_TD}">{_e(getattr(c, "agency", ""))}</td>'
            f'<td style="{_TD}">{_e(getattr(c, "title", ""))}</td>'
            f'<td style="{_TDN}">{len(getattr(c, "initiatives", ()) or ())}</td></tr>'
        )
    more = ""
    if len(cases) > max_rows:
        more = f'<tr><td colspan="4" style="{_TD};color:#888">… {len(cases) - max_rows} more</td></tr>'
    return (
        f'<div class="yanreform-corpus" style="{_BOX}"><table style="{_TABLE}">'
        f'<caption style="text-align:left;color:#666;padding:2px 0">{caption}</caption>'
        f'<thead><tr><th style="{_TH}">id</th><th style="{_TH}">agency</th><th style="{_TH}">title</th>'
        f'<th style="{_TH}">initiatives</th></tr></thead><tbody>{"".join(rows)}{more}</tbody></table></div>'
    )


def hits_html(hits: Iterable[Any]) -> str:
    """A ranked table of search hits: rank, id, title, similarity (the 0-1 display value, with a bar), fused
    score, lexical and semantic parts.

    ``hits``: objects with ``id``, ``score``, ``title``, ``lexical``, ``semantic`` and ``similarity`` (the
    :class:`~yanreform.search.index.Hit` shape; missing parts show as "–"). Hits without a similarity get
    the bar on the fused score instead, scaled to the best hit of the list (z units are not bounded).
    """
    hits = list(hits)
    if not hits:
        return f'<div class="yanreform-hits" style="{_BOX};color:#888">no hits</div>'
    scores = []
    for h in hits:
        try:
            scores.append(float(getattr(h, "score", 0.0)))
        except (TypeError, ValueError):
            scores.append(0.0)
    top = max([s for s in scores if s > 0], default=0.0)
    rows = []
    for rank, (h, s) in enumerate(zip(hits, scores, strict=True), 1):
        score = getattr(h, "score", None)
        sim = getattr(h, "similarity", None)
        try:
            width = min(1.0, max(0.0, float(sim))) * 60 if sim is not None else None
        except (TypeError, ValueError):
            width = None
        if width is None:
            width = max(0.0, s) / top * 60 if top > 0 else 0.0
        bar = f'<span style="display:inline-block;height:8px;width:{width:.0f}px;background:#4c78a8"></span>'
        rows.append(
            f'<tr><td style="{_TDN}">{rank}</td>'
            f'<td style="{_TD};white-space:nowrap">{_e(getattr(h, "id", ""))}</td>'
            f'<td style="{_TD}">{_e(getattr(h, "title", "") or "")}</td>'
            f'<td style="{_TDN};white-space:nowrap">{_num(sim, ".2f")} {bar}</td>'
            f'<td style="{_TDN}">{_num(score)}</td>'
            f'<td style="{_TDN}">{_num(getattr(h, "lexical", None))}</td>'
            f'<td style="{_TDN}">{_num(getattr(h, "semantic", None))}</td></tr>'
        )
    head = "".join(
        f'<th style="{_TH}">{h}</th>'
        for h in ("#", "id", "title", "similarity", "score", "lexical", "semantic")
    )
    return (
        f'<div class="yanreform-hits" style="{_BOX}"><table style="{_TABLE}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def register_formatters(formatter: Any = None) -> bool:
    """Register the renderers with an IPython HTML formatter (default: the running shell's ``text/html``
    formatter) for :class:`~yanreform.corpus.Case`, :class:`~yanreform.corpus.Corpus`,
    :class:`~yanreform.tagging.records.TagList` and :class:`~yanreform.search.index.records.HitList`.

    Returns False (and does nothing) outside IPython.
    """
    if formatter is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
        if shell is None:
            return False
        formatter = shell.display_formatter.formatters["text/html"]
    from ..corpus import Case, Corpus
    from ..search.index.records import HitList
    from ..tagging.records import TagList

    formatter.for_type(Case, case_html)
    formatter.for_type(Corpus, corpus_html)
    formatter.for_type(TagList, lambda tl: tags_html(tl.text, list(tl)))
    formatter.for_type(HitList, hits_html)
    return True
