"""Server-side charts for the web app: the library's category trend as an inline SVG (no JavaScript, no
matplotlib needed, prints as vectors).

:func:`trend_series` reads the DataFrame of ``Library.trends()`` in either of two shapes:

* long: one row per (year, category[, kind of agency]) with a ``year`` column, a category column
  (``category``, ``code`` or ``category_code``) and a value column (``count``, ``n``, ``cases``,
  ``initiatives`` or ``share``); an ``agency_kind`` / ``kind`` column, when present, is filtered (or summed
  over, for counts);
* wide: one row per year (a ``year`` column or the index) and one numeric column per category.

:func:`line_chart_svg` draws the series. All labels are escaped.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

from ..display import category_color

__all__ = ["TrendSeries", "line_chart_svg", "trend_series"]

_CAT_COLS = ("category", "code", "category_code")
_VALUE_COLS = ("count", "n", "cases", "initiatives", "share")
_KIND_COLS = ("agency_kind", "kind")
_ALL_KINDS = ("all", "total", "*", "")


@dataclass(frozen=True)
class TrendSeries:
    """``x``: the years (as labels, ascending); ``series``: category code -> one value per year (0 where
    absent); ``measure``: the value column drawn (``count``, ``share``...)."""

    x: list[str]
    series: dict[str, list[float]]
    measure: str


def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return 0.0
    return f if math.isfinite(f) else 0.0


def _label(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def trend_series(df: Any, *, agency_kind: str | None = None) -> TrendSeries | None:
    """The per-category series of a trends DataFrame (see the module docstring for the shapes read), for
    one kind of agency (None: all kinds). None when the frame has neither shape or no rows."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - the library needs pandas for trends anyway
        return None
    if not isinstance(df, pd.DataFrame) or df.empty:
        return None
    flat = df.reset_index() if any(n is not None for n in df.index.names) else df
    cols = {str(c).lower(): c for c in flat.columns}
    year = cols.get("year")
    cat = next((cols[c] for c in _CAT_COLS if c in cols), None)
    if year is not None and cat is not None:
        value_key = next((c for c in _VALUE_COLS if c in cols), None)
        if value_key is None:
            return None
        val = cols[value_key]
        kind = next((cols[c] for c in _KIND_COLS if c in cols), None)
        rows = flat
        if kind is not None:
            ks = rows[kind].astype(str)
            if agency_kind is not None:
                rows = rows[ks == agency_kind]
            elif ks.isin(_ALL_KINDS).any():
                rows = rows[ks.isin(_ALL_KINDS)]
            elif value_key == "share":
                return None  # shares of separate kinds cannot be added up
        years = sorted({_label(y) for y in rows[year]}, key=_year_key)
        pos = {y: i for i, y in enumerate(years)}
        series: dict[str, list[float]] = {}
        for y, c, v in zip(rows[year], rows[cat], rows[val], strict=True):
            s = series.setdefault(str(c), [0.0] * len(years))
            s[pos[_label(y)]] += _num(v)
        return TrendSeries(years, series, value_key) if years else None
    if agency_kind is not None:
        return None
    wide = flat.set_index(year) if year is not None else df
    numeric = [c for c in wide.columns if pd.api.types.is_numeric_dtype(wide[c])]
    if not numeric or len(wide.index) == 0:
        return None
    order = sorted(range(len(wide.index)), key=lambda i: _year_key(_label(wide.index[i])))
    x = [_label(wide.index[i]) for i in order]
    series = {str(c): [_num(wide[c].iloc[i]) for i in order] for c in numeric}
    return TrendSeries(x, series, "count")


def _year_key(s: str) -> tuple[int, float, str]:
    try:
        return (0, float(s), s)
    except ValueError:
        return (1, 0.0, s)


def line_chart_svg(
    trend: TrendSeries,
    *,
    names: dict[str, str] | None = None,
    width: int = 720,
    height: int = 260,
) -> str:
    """An ``<svg>`` line chart of ``trend`` (one coloured line per category, a dot per year with a tooltip,
    y axis from 0 with 4 ticks). ``names``: code -> label for tooltips. Sizes in CSS pixels (the SVG scales
    to its container)."""
    names = names or {}
    left, right, top, bottom = 44, 12, 12, 28
    w, h = width - left - right, height - top - bottom
    n = len(trend.x)
    vmax = max((v for s in trend.series.values() for v in s), default=0.0)
    share = trend.measure == "share"
    if vmax <= 0:
        vmax = 1.0
    step = _nice_step(vmax / 4)
    top_v = step * math.ceil(vmax / step)

    def px(i: int) -> float:
        return left + (w / 2 if n == 1 else w * i / (n - 1))

    def py(v: float) -> float:
        return top + h - h * v / top_v

    def fmt(v: float) -> str:
        return f"{v:.0%}" if share else (f"{v:g}" if v < 1000 else f"{v:,.0f}")

    e = html.escape
    out = [
        f'<svg class="trend-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{e("category " + trend.measure + " by year")}" xmlns="http://www.w3.org/2000/svg">'
    ]
    t = 0.0
    while t <= top_v + 1e-9:
        y = py(t)
        out.append(f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{e(fmt(t))}</text>'
        )
        t += step
    for i, label in enumerate(trend.x):
        out.append(
            f'<text x="{px(i):.1f}" y="{height - 8}" text-anchor="middle" font-size="11">{e(label)}</text>'
        )
    for code, values in trend.series.items():
        color, _ = category_color(code)
        pts = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(values))
        if n > 1:
            out.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}" '
                f'data-code="{e(code)}"/>'
            )
        for i, v in enumerate(values):
            tip = f"{names.get(code, code)} · {trend.x[i]}: {fmt(v)}"
            out.append(
                f'<circle cx="{px(i):.1f}" cy="{py(v):.1f}" r="3.5" fill="{color}" data-code="{e(code)}">'
                f"<title>{e(tip)}</title></circle>"
            )
    out.append("</svg>")
    return "".join(out)


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is >= ``raw`` (> 0)."""
    if raw <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw - 1e-12:
            return m * mag
    return 10 * mag  # pragma: no cover
