"""The HTML pages (server-rendered with Jinja2; forms work without JavaScript).

``/`` home (paste box, upload, search box, the model cases) · ``POST /submit`` the submission view ·
``/search?q=`` related cases of a query · ``/cases/{id}`` a case · ``/library`` the library browser (year,
category, kind of agency; trend chart) · ``/library/duplicates`` near-duplicates with aligned passages ·
``POST /library/add`` import a collection (not with ``--read-only``) · ``/docs`` the API documentation.

Templates autoescape; passages with highlighted evidence come from :func:`yanreform.apps.display.tags_html`,
which escapes every piece of text itself.
"""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup

from ...errors import InputError
from ..display import category_color, tags_html
from .api import find_case
from .charts import line_chart_svg, trend_series
from .libview import AGENCY_KIND_LABELS

router = APIRouter(include_in_schema=False)


def make_templates(directory: Path) -> Any:
    """The Jinja2 environment (autoescape on) with the app's filters."""
    import jinja2
    from starlette.templating import Jinja2Templates

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    env.filters["chip_color"] = lambda code: category_color(str(code))[0]
    env.filters["mark_color"] = lambda code: category_color(str(code))[1]
    env.filters["passage_html"] = lambda p: Markup(tags_html(p.text, p.tags))
    env.globals["kind_labels"] = AGENCY_KIND_LABELS
    return Jinja2Templates(env=env)


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    st = request.app.state
    context.setdefault("library_status", st.library.status())
    context.setdefault("limits", st.limits)
    context.setdefault("names", st.analyst.tagger.names)
    context.setdefault("suffixes", _suffixes())
    resp: HTMLResponse = st.templates.TemplateResponse(request, name, context, status_code=status)
    return resp


def _suffixes() -> list[str]:
    """The file suffixes the readers take (the upload form's ``accept`` list)."""
    from ...io.readers import INPUT_KINDS

    return sorted(INPUT_KINDS)


def error_response(request: Request, status: int, message: str) -> Response:
    """JSON ``{"status", "error", "message"}`` for API paths, the error page for the others."""
    from .app import wants_json

    phrase = HTTPStatus(status).phrase
    if wants_json(request.url.path):
        return JSONResponse({"status": status, "error": phrase, "message": message}, status_code=status)
    return render(request, "error.html", status, status_code=status, phrase=phrase, message=message)


def _int(value: str | None, name: str, *, lo: int | None = None, hi: int | None = None) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        v = int(value)
    except ValueError:
        raise InputError(f"{name} must be a whole number, got {value!r}") from None
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise InputError(f"{name} must be between {lo} and {hi}, got {v}")
    return v


def _float(value: str | None, name: str) -> float | None:
    if value is None or value.strip() == "":
        return None
    try:
        v = float(value)
    except ValueError:
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not 0.0 <= v <= 1.0:
        raise InputError(f"{name} must be between 0 and 1, got {v}")
    return v


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    return render(request, "home.html", cases=request.app.state.analyst.case_list())


@router.post("/submit", response_class=HTMLResponse)
async def submit(request: Request) -> HTMLResponse:
    st = request.app.state
    form = await request.form(max_files=1, max_fields=10, max_part_size=st.limits.max_upload_bytes)
    try:
        upload = form.get("file")
        text = form.get("text")
        k = _int(str(form.get("k") or "") or None, "k", lo=1, hi=st.limits.max_k) or 5
        if upload is not None and not isinstance(upload, str) and upload.filename:
            data = await upload.read()
            sub = await st.models.run(st.analyst.analyse_upload, data, upload.filename, k=k)
        elif isinstance(text, str) and text.strip():
            sub = await st.models.run(st.analyst.analyse_text, text, k=k)
        else:
            raise InputError("nothing to analyse: paste a submission into the box or choose a file to upload")
    finally:
        await form.close()
    return render(request, "submission.html", sub=sub)


@router.get("/search", response_class=HTMLResponse)
async def search(request: Request, q: str = "", k: str | None = None) -> HTMLResponse:
    st = request.app.state
    n = _int(k, "k", lo=1, hi=st.limits.max_k) or 10
    hits = await st.models.run(st.analyst.search, q, n) if q.strip() else []
    return render(request, "search.html", q=q, hits=hits)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: str) -> HTMLResponse:
    group = await find_case(request, case_id, 5)
    return render(request, "case.html", case=group)


@router.get("/library", response_class=HTMLResponse)
async def library(
    request: Request,
    year: str | None = None,
    category: str | None = None,
    kind: str | None = None,
    page: str | None = None,
    added: str | None = None,
) -> HTMLResponse:
    st = request.app.state
    lib = st.library
    if not lib.available:
        return render(request, "library.html", 503, unavailable=lib.reason)
    y = _int(year, "year", lo=1949, hi=2100)
    p = _int(page, "page", lo=1, hi=100_000) or 1
    per = 100
    data = await lib.cases(year=y, category=category or None, agency_kind=kind or None,
                           offset=(p - 1) * per, limit=per)  # fmt: skip
    chart = None
    table: list[dict[str, Any]] = []
    years_x: list[str] = []
    try:
        df = await lib.trends()
    except Exception as exc:  # the chart is extra: a failing trends() must not take the page down
        trend_error = f"trends unavailable: {exc}"
    else:
        trend_error = ""
        trend = trend_series(df, agency_kind=kind or None)
        if trend is not None:
            chart = Markup(line_chart_svg(trend, names=st.analyst.tagger.names))
            table = [{"code": c, "values": v} for c, v in trend.series.items()]
            years_x = trend.x
    filters = {"year": y, "category": category or "", "kind": kind or ""}
    base = {k: v for k, v in filters.items() if v}
    pages = (data["total"] + per - 1) // per
    return render(
        request, "library.html", data=data, filters=filters, page=p, pages=pages, chart=chart,
        trend_rows=table, trend_x=years_x, trend_error=trend_error,
        query=lambda **kw: urlencode({**base, **{k: v for k, v in kw.items() if v}}), added=added or "",
    )  # fmt: skip


@router.get("/library/duplicates", response_class=HTMLResponse)
async def duplicates(request: Request, year: str | None = None, threshold: str | None = None) -> HTMLResponse:
    lib = request.app.state.library
    if not lib.available:
        return render(request, "library.html", 503, unavailable=lib.reason)
    y = _int(year, "year", lo=1949, hi=2100)
    t = _float(threshold, "threshold")
    pairs = await lib.duplicates(year=y, threshold=t)
    return render(request, "duplicates.html", pairs=pairs, year=y, threshold=t)


@router.post("/library/add")
async def library_add(request: Request) -> Response:
    st = request.app.state
    form = await request.form(max_files=1, max_fields=10)
    try:
        upload = form.get("file")
        year = _int(str(form.get("year") or ""), "year", lo=1949, hi=2100)
        if year is None:
            raise InputError("give the collection's year")
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise InputError("choose a collection file to import")
        source = form.get("source")
        data = await upload.read()
        cid = await st.library.add_upload(
            data, upload.filename, year=year, source=source if isinstance(source, str) else None
        )
    finally:
        await form.close()
    return RedirectResponse(f"/library?{urlencode({'year': year, 'added': str(cid)})}", status_code=303)


@router.get("/docs", response_class=HTMLResponse)
async def docs(request: Request) -> HTMLResponse:
    if request.app.state.swagger:
        return render(request, "docs.html")
    schema = request.app.openapi()
    ops = [
        {"method": m.upper(), "path": path, "summary": op.get("summary", "")}
        for path, item in schema.get("paths", {}).items()
        for m, op in item.items()
    ]
    return render(request, "docs_plain.html", ops=ops)
