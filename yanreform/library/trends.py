"""Category trends: counts and shares by year and by kind of agency, as a table and a chart.

:func:`trends` returns a long pandas DataFrame, one row per (year[, agency kind], category), zeros included:

``year``, ``agency_kind`` (with ``by="agency_kind"``), ``category`` (code), ``name`` (Chinese name),
``count`` (cases, or initiatives with ``unit="initiative"``, tagged with the category), ``total`` (cases or
initiatives of that year[/kind]) and ``share`` (= count / total, 0 when total is 0).

A case counts for a category when any of its initiatives is tagged with it. Agency kinds come from the agency
names (:func:`yanreform.corpus.agency.agency_kind`): court, procuratorate, police, justice, committee, joint,
other. :func:`plot_trends` draws the shares over the years (one panel per agency kind) with matplotlib and
saves PNG or SVG.
"""

from __future__ import annotations

import logging
import sqlite3
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["AGENCY_KIND_NAMES", "plot_trends", "trends"]

log = logging.getLogger("yanreform")

#: agency kind -> (Chinese label, English label), in display order
AGENCY_KIND_NAMES: dict[str, tuple[str, str]] = {
    "court": ("法院", "courts"),
    "procuratorate": ("检察院", "procuratorates"),
    "police": ("公安", "police"),
    "justice": ("司法行政", "justice bureaus"),
    "committee": ("政法委", "political-legal committees"),
    "joint": ("联合申报", "joint submissions"),
    "other": ("其他", "other"),
}


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is in the frame extra
        raise InputError("trends need pandas (pip install 'yanreform[frame]')") from None
    return pd


def trends(
    conn: sqlite3.Connection,
    names: dict[str, tuple[str, str]],
    *,
    by: str = "agency_kind",
    unit: str = "case",
) -> pd.DataFrame:
    """The trend table of the library behind ``conn`` (see the module docstring); ``names``: category code ->
    (name, English name) in taxonomy order.

    Raises InputError for an unknown ``by`` or ``unit``.
    """
    pd = _pandas()
    if by not in ("year", "agency_kind"):
        raise InputError(f"by must be 'year' or 'agency_kind', got {by!r}")
    if unit not in ("case", "initiative"):
        raise InputError(f"unit must be 'case' or 'initiative', got {unit!r}")
    keys = ["year"] + (["agency_kind"] if by == "agency_kind" else [])
    group = ", ".join(f"c.{k}" for k in keys)
    counted = "c.rid" if unit == "case" else "i.rid"
    counts = conn.execute(
        f"SELECT {group}, t.code, COUNT(DISTINCT {counted}) FROM cases c "
        f"JOIN initiatives i ON i.case_rid = c.rid JOIN tags t ON t.initiative_rid = i.rid "
        f"GROUP BY {group}, t.code"
    ).fetchall()
    if unit == "case":
        totals = conn.execute(f"SELECT {group}, COUNT(*) FROM cases c GROUP BY {group}").fetchall()
    else:
        totals = conn.execute(
            f"SELECT {group}, COUNT(*) FROM cases c JOIN initiatives i ON i.case_rid = c.rid GROUP BY {group}"
        ).fetchall()
    nk = len(keys)
    total_of = {tuple(r[:nk]): int(r[nk]) for r in totals}
    count_of = {(*r[:nk], r[nk]): int(r[nk + 1]) for r in counts}
    codes = list(names) + sorted({r[nk] for r in counts} - set(names))
    kind_order = {k: n for n, k in enumerate(AGENCY_KIND_NAMES)}
    groups = sorted(total_of, key=lambda g: (g[0], kind_order.get(g[1], 99) if nk > 1 else 0, g[1:]))
    rows = []
    for g in groups:
        total = total_of[g]
        for code in codes:
            n = count_of.get((*g, code), 0)
            rows.append((*g, code, names.get(code, (code, ""))[0], n, total, n / total if total else 0.0))
    cols = [*keys, "category", "name", "count", "total", "share"]
    df = pd.DataFrame(rows, columns=cols)
    return df.astype({"year": "int64", "count": "int64", "total": "int64", "share": "float64"})


def _cjk_font() -> str | None:
    """A font family matplotlib can use for Chinese text, or None."""
    from matplotlib import font_manager

    wanted = ("Noto Sans CJK", "Source Han Sans", "WenQuanYi", "PingFang", "Microsoft YaHei", "SimHei",
              "Heiti", "Noto Serif CJK", "SimSun", "AR PL")  # fmt: skip
    for f in font_manager.fontManager.ttflist:
        if any(w.lower() in f.name.lower() for w in wanted):
            return str(f.name)
    return None


def plot_trends(
    df: pd.DataFrame,
    path: str | PathLike[str],
    *,
    names_en: dict[str, str] | None = None,
    title: str | None = None,
) -> Path:
    """Draw ``df`` (from :func:`trends`) to ``path`` (``.png`` or ``.svg``): category shares over the years,
    one panel per agency kind when the table has them. Labels are in Chinese when a CJK font is installed,
    else in English (``names_en``: code -> English name; codes when absent). Returns the path.

    Raises InputError for another suffix or an empty table, or when matplotlib is missing.
    """
    p = Path(path)
    if p.suffix.lower() not in (".png", ".svg"):
        raise InputError(f"{p}: the chart is written as .png or .svg, not {p.suffix or 'no suffix'!r}")
    if df.empty:
        raise InputError("no trend data to plot (the library has no tagged cases)")
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is in the notebook extra
        raise InputError("charts need matplotlib (pip install 'yanreform[notebook]')") from None
    from ..apps.display import category_color  # colours shared with the notebook and the HTML report

    font = _cjk_font()
    chinese = font is not None
    if not chinese:
        log.info("no CJK font found for matplotlib: chart labels in English")
    panels = list(dict.fromkeys(df["agency_kind"])) if "agency_kind" in df.columns else [None]
    ncols = min(3, len(panels))
    nrows = (len(panels) + ncols - 1) // ncols
    rc: dict[str, Any] = {"font.family": [font, "sans-serif"]} if font else {}
    with plt.rc_context(rc):  # type: ignore[arg-type]
        fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.6 * nrows), squeeze=False, sharey=True)
        years = sorted(df["year"].unique())
        for ax, panel in zip(axes.flat, panels, strict=False):
            sub = df if panel is None else df[df["agency_kind"] == panel]
            for code, part in sub.groupby("category", sort=False):
                part = part.sort_values("year")
                if part["count"].sum() == 0:
                    continue
                label = part["name"].iloc[0] if chinese else (names_en or {}).get(str(code), str(code))
                ax.plot(
                    part["year"], part["share"], marker="o", label=label, color=category_color(str(code))[0]
                )
            if panel is not None:
                zh, en = AGENCY_KIND_NAMES.get(panel, (panel, panel))
                ax.set_title(zh if chinese else en)
            ax.set_xticks(years)
            ax.set_ylim(0, 1.05)
            ax.grid(alpha=0.3)
        for ax in list(axes.flat)[len(panels) :]:
            ax.set_visible(False)
        axes[0][0].set_ylabel("占比" if chinese else "share of cases")
        handles: dict[str, Any] = {}
        for ax in axes.flat:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(lab, h)
        if handles:
            fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=min(6, len(handles)),
                       fontsize=8, frameon=False)  # fmt: skip
        if title:
            fig.suptitle(title)
        fig.tight_layout(rect=(0, 0.1 if handles else 0, 1, 1))
        fig.savefig(p, dpi=120 if p.suffix.lower() == ".png" else None)
        plt.close(fig)
    return p
