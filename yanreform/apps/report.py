"""The HTML report: one self-contained file a leader can read on screen or print.

:func:`render_report` turns a :class:`ReportData` into one HTML document: inline CSS (a font stack that
renders Chinese on Windows, macOS and Linux; print rules: A4, one case per page, colours kept), no external
resource and no network access, a few lines of inline script that only mark the page ready. Sections:

* a summary: counts per category (cases and initiatives) and a heatmap of categories by case (cell colour =
  the category's colour, strength = best score, number = initiatives tagged);
* possible re-submissions and re-used texts, with the shared passages side by side;
* one section per case (``<section class="case" data-case-id=…>``): agency, year, title, lead, each initiative
  with its tags as chips and the evidence highlighted in the text (:func:`yanreform.apps.display.tags_html`),
  the outcome, related earlier cases with the reason (:meth:`yanreform.Explanation.reason`), and the
  re-submissions that involve it.

:func:`report_for_collection` gathers the data from a library collection, :func:`report_for_file` from a file
that is not in the library (tagged on the fly, compared with the library's cases).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .display import category_color, tags_html

if TYPE_CHECKING:
    from ..library import Library, LibraryCase, NearDuplicate

__all__ = [
    "Related",
    "ReportData",
    "render_report",
    "report_for_collection",
    "report_for_file",
    "write_report",
]

log = logging.getLogger("yanreform")

FONT_STACK = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", '
    '"WenQuanYi Micro Hei", "Noto Sans SC", "SimHei", system-ui, sans-serif'
)


@dataclass(frozen=True)
class Related:
    """A related earlier case of a report case: ``case`` (id), ``title``, ``year``, ``agency``, ``score`` (the
    index's fused score: z units relative to the index, for ranking; the report shows the order and the
    reason, not this number) and ``reason`` (one line: shared categories and key terms)."""

    case: str
    title: str
    year: int
    agency: str
    score: float
    reason: str


@dataclass
class ReportData:
    """What a report shows: ``cases`` (with initiatives and tags), ``categories`` (code -> (name, English
    name), taxonomy order), ``related`` (case id -> related earlier cases), ``dupes`` (pairs involving a
    report case), ``others`` (case id -> the other side's case, for pairs with cases outside the report)."""

    title: str
    cases: list[LibraryCase]
    categories: dict[str, tuple[str, str]]
    related: dict[str, list[Related]] = field(default_factory=dict)
    dupes: list[NearDuplicate] = field(default_factory=list)
    others: dict[str, LibraryCase] = field(default_factory=dict)
    source: str = ""
    generated: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def _anchor(case_id: str) -> str:
    return "case-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in case_id)


_CSS = """
:root { --ink: #1d1d1f; --muted: #666; --rule: #ddd; --accent: #4c78a8; }
* { box-sizing: border-box; }
body { font-family: FONTS; color: var(--ink); margin: 0; background: #fafafa; line-height: 1.65; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 28px 64px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.meta { color: var(--muted); font-size: 13px; }
nav.toc { columns: 2; font-size: 13px; margin: 12px 0; padding: 8px 12px; background: #f4f6f9;
  border-radius: 6px; }
nav.toc a { color: var(--accent); text-decoration: none; display: block; break-inside: avoid; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 7px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
th { border-bottom: 2px solid #999; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.heatmap { overflow-x: auto; }
.heatmap th.cat { writing-mode: vertical-rl; white-space: nowrap; font-weight: 500; padding: 6px 2px; }
.heatmap td.cell { width: 30px; min-width: 30px; text-align: center; font-size: 12px; color: #fff; }
.heatmap td.case a { color: var(--ink); text-decoration: none; }
section.case { border-top: 3px solid var(--accent); margin-top: 36px; padding-top: 6px; }
.initiative { margin: 10px 0 14px; padding-left: 10px; border-left: 3px solid var(--rule); }
.initiative .iid { color: var(--muted); font-size: 11px; }
.lead, .outcome { color: #333; }
.outcome { font-style: italic; }
.related li, .dupes li { margin: 3px 0; }
.reason { color: var(--muted); font-size: 12px; }
.kind { display: inline-block; border-radius: 3px; padding: 0 6px; font-size: 12px; color: #fff;
  background: #8c564b; }
.kind.reuse { background: #7b4173; } .kind.duplicate { background: #637939; }
table.spans { width: 100%; table-layout: fixed; margin: 4px 0 10px; }
table.spans td { width: 50%; font-size: 13px; background: #fcf8e3; }
.none { color: #888; font-size: 13px; }
footer { color: var(--muted); font-size: 12px; margin-top: 40px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { background: #fff; } main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section.case { break-before: page; border-top: none; }
  .initiative, tr, table.spans { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
""".replace("FONTS", FONT_STACK)

# Marks the page ready for tests and printing tools; the report works without it.
_SCRIPT = (
    "document.body.setAttribute('data-ready', String(document.querySelectorAll('section.case').length));"
)


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:.2f})"


def _case_stats(case: LibraryCase) -> dict[str, tuple[int, float]]:
    """code -> (initiatives tagged, best score) of one case."""
    out: dict[str, tuple[int, float]] = {}
    for ini in case.initiatives:
        for t in ini.tags:
            n, s = out.get(t.code, (0, 0.0))
            out[t.code] = (n + 1, max(s, float(t.score)))
    return out


def _summary(data: ReportData) -> str:
    stats = {c.id: _case_stats(c) for c in data.cases}
    codes = [c for c in data.categories if any(c in s for s in stats.values())]
    n_ini = sum(len(c.initiatives) for c in data.cases)
    rows = []
    for code in data.categories:
        nc = sum(1 for s in stats.values() if code in s)
        ni = sum(s[code][0] for s in stats.values() if code in s)
        name, en = data.categories[code]
        rows.append(
            f'<tr><td><span style="color:{category_color(code)[0]}">■</span> {_e(name)}</td><td>{_e(en)}</td>'
            f'<td class="num">{nc}</td><td class="num">{ni}</td></tr>'
        )
    counts = (
        '<table class="counts"><thead><tr><th>类别</th><th>category</th><th>案例 cases</th>'
        f"<th>举措 initiatives</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    head = "".join(f'<th class="cat" title="{_e(c)}">{_e(data.categories[c][0])}</th>' for c in codes)
    body = []
    for case in data.cases:
        cells = []
        for code in codes:
            if code in stats[case.id]:
                n, s = stats[case.id][code]
                bg = _rgba(category_color(code)[0], 0.3 + 0.7 * s)
                tip = f"{data.categories[code][0]}: {n} initiative(s), best score {s:.2f}"
                cells.append(f'<td class="cell" style="background:{bg}" title="{_e(tip)}">{n}</td>')
            else:
                cells.append('<td class="cell"></td>')
        body.append(
            f'<tr><td class="case"><a href="#{_anchor(case.id)}">{_e(case.title or case.id)}</a>'
            f'<div class="meta">{_e(case.agency)}</div></td>{"".join(cells)}</tr>'
        )
    heat = (
        '<div class="heatmap"><table><thead><tr><th>案例 case</th>'
        f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
        if codes
        else '<p class="none">No initiative has a category.</p>'
    )
    return (
        '<section id="summary"><h2>概览 Summary</h2>'
        f'<p class="meta">{len(data.cases)} cases · {n_ini} initiatives · '
        f"{len(data.dupes)} possible re-submissions or re-used texts</p>"
        f"<h3>类别分布 Categories</h3>{counts}<h3>案例 × 类别 Categories by case</h3>{heat}</section>"
    )


def _side(data: ReportData, case_id: str, unit_id: str) -> str:
    c = next((x for x in data.cases if x.id == case_id), None) or data.others.get(case_id)
    label = f"{c.year} · {c.agency} · {c.title}" if c is not None else case_id
    link = (
        f'<a href="#{_anchor(case_id)}">{_e(unit_id)}</a>'
        if any(x.id == case_id for x in data.cases)
        else _e(unit_id)
    )
    return f"{link} <span class='meta'>{_e(label)}</span>"


def _dupe_item(data: ReportData, d: NearDuplicate, *, spans: bool) -> str:
    out = [
        f'<li><span class="kind {_e(d.kind)}">{_e(d.kind)}</span> <b>{d.score:.2f}</b> '
        f'<span class="meta">({_e(d.level)}, coverage {d.coverage:.2f}'
        + (f", semantic {d.semantic:.2f}" if d.semantic is not None else "")
        + f")</span><br>{_side(data, d.case_a, d.a)}<br>{_side(data, d.case_b, d.b)}"
    ]
    if spans and d.spans:
        rows = "".join(f"<tr><td>{_e(s.a_text)}</td><td>{_e(s.b_text)}</td></tr>" for s in d.spans[:8])
        more = f'<p class="meta">… {len(d.spans) - 8} more passages</p>' if len(d.spans) > 8 else ""
        out.append(f'<table class="spans"><tr><th>{_e(d.a)}</th><th>{_e(d.b)}</th></tr>{rows}</table>{more}')
    out.append("</li>")
    return "".join(out)


def _dupes(data: ReportData) -> str:
    if not data.dupes:
        body = '<p class="none">No possible re-submission or re-used text found.</p>'
    else:
        body = f'<ol class="dupes">{"".join(_dupe_item(data, d, spans=True) for d in data.dupes)}</ol>'
    return f'<section id="resubmissions"><h2>疑似重复申报 Possible re-submissions</h2>{body}</section>'


def _case_section(data: ReportData, case: LibraryCase) -> str:
    parts = [
        f'<section class="case" id="{_anchor(case.id)}" data-case-id="{_e(case.id)}">',
        f"<h2>{_e(case.title or case.id)}</h2>",
        f'<p class="meta">{_e(case.id)} · {_e(case.agency)} · {case.year} · {_e(case.agency_kind)}</p>',
    ]
    if case.lead:
        parts.append(f'<p class="lead">{_e(case.lead)}</p>')
    for ini in case.initiatives:
        parts.append(
            f'<div class="initiative"><div class="iid">{_e(ini.id)}</div>'
            f"{tags_html(ini.text, ini.tags)}</div>"
        )
    if case.outcome:
        parts.append(f'<p class="outcome">{_e(case.outcome)}</p>')
    rel = data.related.get(case.id, [])
    parts.append("<h3>相关的往年案例 Related earlier cases</h3>")
    if rel:
        items = "".join(
            f"<li><b>{_e(r.title or r.case)}</b> <span class='meta'>{r.year} · {_e(r.agency)} · "
            f"{_e(r.case)}</span><br><span class='reason'>{_e(r.reason)}</span></li>"
            for r in rel
        )
        parts.append(f'<ul class="related">{items}</ul>')
    else:
        parts.append('<p class="none">None in the library.</p>')
    mine = [d for d in data.dupes if case.id in (d.case_a, d.case_b)]
    if mine:
        parts.append("<h3>疑似重复申报 Possible re-submissions</h3>")
        parts.append(f'<ol class="dupes">{"".join(_dupe_item(data, d, spans=False) for d in mine)}</ol>')
    parts.append("</section>")
    return "".join(parts)


def render_report(data: ReportData) -> str:
    """The report as one self-contained HTML document (str)."""
    toc = "".join(f'<a href="#{_anchor(c.id)}">{_e(c.title or c.id)}</a>' for c in data.cases)
    n_ini = sum(len(c.initiatives) for c in data.cases)
    years = sorted({c.year for c in data.cases})
    span = f"{years[0]}" if len(years) == 1 else (f"{years[0]}–{years[-1]}" if years else "")
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(data.title)}</title><style>{_CSS}</style></head>"
        f'<body data-ready="0"><main><header><h1>{_e(data.title)}</h1>'
        f'<p class="meta">{_e(span)} · {len(data.cases)} cases · {n_ini} initiatives · {_e(data.source)} · '
        f"generated {_e(data.generated)} by yanreform</p></header>"
        f'<nav class="toc">{toc}</nav>{_summary(data)}{_dupes(data)}'
        + "".join(_case_section(data, c) for c in data.cases)
        + "<footer>Categories and evidence are machine suggestions (yanreform); check them against the text."
        f"</footer></main><script>{_SCRIPT}</script></body></html>\n"
    )


def write_report(data: ReportData, path: str | PathLike[str]) -> Path:
    """Render ``data`` and write it to ``path`` atomically (UTF-8); returns the path."""
    import os
    import tempfile

    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        from ..errors import InputError

        raise InputError(f"{p}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(render_report(data))
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


# -------------------------------------------------------------------------------------------- gathering


def _related(
    lib: Library, cases: Sequence[LibraryCase], pool: Sequence[LibraryCase], k: int
) -> dict[str, list[Related]]:
    """Related earlier cases (from ``pool``) of each report case, through a CaseIndex of both."""
    if not pool or k < 1:
        return {}
    from ..search.index import CaseIndex

    index = CaseIndex.from_corpus(
        [c.to_case() for c in [*pool, *cases]], encoder=lib.encoder, tagger=lib.tagger
    )
    earlier = {c.id: c for c in pool}
    out: dict[str, list[Related]] = {}
    for case in cases:
        hits = [
            h for h in index.recommend(case.id, k=min(len(index) - 1, k + len(cases))) if h.id in earlier
        ][:k]
        out[case.id] = [
            Related(
                h.id,
                earlier[h.id].title,
                earlier[h.id].year,
                earlier[h.id].agency,
                float(h.score),
                index.explain(case.id, h.id).reason(),
            )
            for h in hits
        ]
    return out


def _dupes_for(
    cases: Sequence[LibraryCase], pool: Sequence[LibraryCase], threshold: float | None
) -> list[NearDuplicate]:
    from ..library.dupes import near_duplicates_of

    mine = {c.id for c in cases}
    found = near_duplicates_of([*pool, *cases], threshold=threshold)
    return [d for d in found if d.case_a in mine or d.case_b in mine]


def report_for_collection(
    lib: Library,
    collection: str,
    *,
    k_related: int = 3,
    threshold: float | None = None,
    title: str | None = None,
) -> ReportData:
    """The report data of a library collection: related cases and re-submissions from earlier years (and
    re-used texts within its year). Raises InputError for an unknown collection."""
    from ..errors import InputError

    cols = {c.id: c for c in lib.collections()}
    if collection not in cols:
        raise InputError(
            f"no collection {collection!r} in {lib.path} (collections: {', '.join(cols) or 'none'})"
        )
    info = cols[collection]
    cases = lib.cases(collection=collection)
    pool = [c for c in lib.cases() if c.year < info.year]
    same_year = [c for c in lib.cases(year=info.year) if c.collection != collection]
    mine = {c.id for c in cases}
    # the library's own pairs (confirmed with its stored embeddings), with this collection on the later side
    dupes = [
        d
        for d in lib.near_duplicates(year=info.year, threshold=threshold)
        if (d.case_b in mine and d.year_a <= info.year) or (d.case_a in mine and d.year_b == info.year)
    ]
    others = {c.id: c for c in [*pool, *same_year]}
    return ReportData(
        title=title or f"{info.name}（{info.year}）",
        cases=cases,
        categories=lib.categories,
        related=_related(lib, cases, pool, k_related),
        dupes=dupes,
        others=others,
        source=f"collection {collection} of {lib.path.name}",
    )


def report_for_file(
    lib: Library,
    path: str | PathLike[str],
    *,
    year: int | None = None,
    k_related: int = 3,
    threshold: float | None = None,
    title: str | None = None,
    text_column: str = "text",
    id_column: str | None = None,
) -> ReportData:
    """The report data of a file that is not in the library: its cases are parsed and tagged here; related
    cases and re-submissions come from the library's cases (of years before ``year``, or all when None)."""
    from ..library.ingest import open_source, slug
    from ..library.records import LibraryCase, LibraryInitiative
    from ..tagging.records import TagList

    src = open_source(path, text_column=text_column, id_column=id_column)
    prefix = slug(src.path.stem)
    drafts = list(src.drafts)
    texts = [ini.text for d in drafts for ini in d.initiatives]
    tag_lists = lib.tagger.tag_many(texts) if texts else []
    from ..corpus.agency import agency_kind, agency_place

    cases: list[LibraryCase] = []
    k = 0
    for d in drafts:
        cid = prefix + d.suffix
        inis = []
        for ini in d.initiatives:
            inis.append(LibraryInitiative(prefix + ini.suffix, cid, ini.heading, ini.text, ini.start, ini.end,
                                          TagList(tag_lists[k], text=ini.text)))  # fmt: skip
            k += 1
        cases.append(
            LibraryCase(
                cid,
                prefix,
                year or 0,
                d.agency,
                d.agencies,
                agency_kind(d.agency),
                agency_place(d.agency),
                d.title,
                d.lead,
                d.outcome,
                d.text,
                d.line,
                inis,
                d.source_id,
            )
        )
    pool = [c for c in lib.cases() if (year is None or c.year < year) and c.id not in {x.id for x in cases}]
    return ReportData(
        title=title or src.path.stem,
        cases=cases,
        categories=lib.categories,
        related=_related(lib, cases, pool, k_related),
        dupes=_dupes_for(cases, pool, threshold),
        others={c.id: c for c in pool},
        source=str(src.path.name),
    )
