"""The JSON API (documented at ``/docs``, schema at ``/openapi.json``); it mirrors the pages.

Names other tools call (keep them): ``POST /api/tag`` ``{"text"}`` -> ``{"tags": [{"code", "name", "score",
"evidence": [{"start", "end", "text", ...}]}]}``; ``POST /api/similar`` ``{"text", "k"}`` -> ``{"hits":
[{"id", "title", "score", ...}]}``; ``GET /healthz`` -> 200 once the models are loaded.

Model and library work run on the app's one worker thread, one call at a time.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ...errors import UnknownCaseError
from .libview import trend_records

router = APIRouter()

_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"description": "Bad input (empty or too long text, bad k): `{status, error, message}`"},
}


# ------------------------------------------------------------------------------------------------ models


class Evidence(BaseModel):
    start: int = Field(description="offset of the evidence in the text (characters, half-open)")
    end: int = Field(description="end offset (characters, exclusive)")
    text: str = Field(description="the text at [start, end)")
    source: str = Field(
        description='"lexicon" (a seed term of the category) or "exemplar" (closest sentence)'
    )
    term: str = Field(description="the seed term, or the exemplar sentence")


class Tag(BaseModel):
    code: str = Field(description="category code, e.g. digitalisation")
    name: str = Field(description="category name in Chinese, e.g. 数字赋能")
    score: float = Field(description="calibrated probability in [0, 1]")
    evidence: list[Evidence]


class Hit(BaseModel):
    id: str = Field(description="case id")
    title: str | None = Field(description="case title")
    score: float = Field(description="fused score, z units for this query (0 = an average case)")
    lexical: float = Field(description="wording cosine in [0, 1]")
    semantic: float = Field(description="meaning (embedding) cosine in [0, 1]")
    similarity: float | None = Field(
        description="probability in [0, 1] that the case is related (calibrated on real text); for display"
    )
    level: str = Field(description="very_close (similarity >= 0.8), close (>= 0.5), related (>= 0.2) or weak")
    label: str = Field(description="the level in Chinese: 高度相似, 相似, 相关, 关联较弱")
    reason: str = Field(description="shared categories and key terms; empty when not asked for")


class CasePassage(BaseModel):
    id: str
    kind: str = Field(description="text, lead, initiative, outcome or record")
    heading: str
    text: str
    tags: list[Tag] = Field(description="evidence offsets index into this passage's text")
    where: str | None = None
    error: str | None = Field(None, description="why this record of an upload could not be tagged")


class CaseOut(BaseModel):
    id: str
    agency: str
    title: str
    summary: list[dict[str, Any]] = Field(description="per category: code, name, best score, count")
    passages: list[CasePassage]
    related: list[Hit]


class TagRequest(BaseModel):
    text: str = Field(description="a passage, a whole submission or a collection (agency line, title, body)")
    k: int = Field(0, ge=0, description="related model cases per case (0: none)")


class TagResponse(BaseModel):
    tags: list[Tag] = Field(description="tags of the whole text, best first")
    kind: str = Field(description='"text", or "collection" when the text has case structure')
    chars: int
    cases: list[CaseOut] = Field(description="per case and initiative (collections only)")


class SimilarRequest(BaseModel):
    text: str = Field(description="the query: a passage or a whole submission")
    k: int = Field(5, description="number of related cases (1 to the app's max_k)")
    reasons: bool = Field(True, description="say why each case is related")


class SimilarResponse(BaseModel):
    hits: list[Hit]


class UploadResponse(BaseModel):
    source: str = Field(description="the uploaded file's name")
    kind: str = Field(description="text, collection or records")
    chars: int
    passages: int
    errors: int = Field(description="records that could not be tagged (each listed with its error)")
    cases: list[CaseOut]


# ------------------------------------------------------------------------------------------------ routes


def _state(request: Request) -> Any:
    return request.app.state


@router.get("/healthz", tags=["service"], summary="200 when the models are loaded")
async def healthz(request: Request) -> dict[str, Any]:
    st = _state(request)
    return {
        "status": "ok",
        "cases": len(st.analyst.index),
        "categories": list(st.analyst.tagger.codes),
        "library": st.library.status(),
        "limits": {
            "max_upload_bytes": st.limits.max_upload_bytes,
            "max_chars": st.limits.max_chars,
            "max_records": st.limits.max_records,
            "max_k": st.limits.max_k,
        },
    }


@router.post("/api/tag", response_model=TagResponse, tags=["tagging"], responses=_ERRORS,
             summary="Tag a text; a collection is also tagged per case and initiative")  # fmt: skip
async def api_tag(body: TagRequest, request: Request) -> dict[str, Any]:
    st = _state(request)
    analyst = st.analyst
    k = analyst.check_k(body.k) if body.k else 0
    sub = await st.models.run(analyst.analyse_text, body.text, k=k, whole=True)
    out = sub.to_dict()
    return {
        "tags": [t.to_dict() for t in sub.tags],
        "kind": sub.kind,
        "chars": sub.chars,
        "cases": out["cases"] if sub.kind == "collection" else [],
    }


@router.post("/api/tag/upload", response_model=UploadResponse, tags=["tagging"],
             summary="Tag an uploaded file (whatever `yanreform tag` reads)",
             responses={413: {"description": "file too large or too many records"},
                        415: {"description": "file type not supported"}, **_ERRORS})  # fmt: skip
async def api_tag_upload(
    request: Request,
    file: Annotated[UploadFile, File(description=".txt collection (any encoding), .docx, .jsonl, .csv ...")],
    k: int = Query(0, ge=0, description="related model cases per case (0: none)"),
) -> dict[str, Any]:
    st = _state(request)
    k = st.analyst.check_k(k) if k else 0
    data = await file.read()
    sub = await st.models.run(st.analyst.analyse_upload, data, file.filename, k=k)
    return sub.to_dict()


@router.post("/api/similar", response_model=SimilarResponse, tags=["related cases"], responses=_ERRORS,
             summary="The model cases most related to a text")  # fmt: skip
async def api_similar(body: SimilarRequest, request: Request) -> dict[str, Any]:
    st = _state(request)
    hits = await st.models.run(st.analyst.similar, body.text, body.k, reasons=body.reasons)
    return {"hits": [h.to_dict() for h in hits]}


@router.get("/api/cases", tags=["cases"], summary="The model cases of the index")
async def api_cases(request: Request) -> dict[str, Any]:
    return {"cases": _state(request).analyst.case_list()}


@router.get("/api/cases/{case_id}", tags=["cases"], response_model=CaseOut,
            responses={404: {"description": "no such case"}},
            summary="One case: passages with tags, summary, related cases")  # fmt: skip
async def api_case(case_id: str, request: Request, k: int = Query(5, ge=1)) -> dict[str, Any]:
    st = _state(request)
    k = st.analyst.check_k(k)
    group = await find_case(request, case_id, k)
    return group.to_dict()


async def find_case(request: Request, case_id: str, k: int) -> Any:
    """A case of the index, else of the library (tagged on the fly); UnknownCaseError (404) otherwise."""
    st = _state(request)
    analyst = st.analyst
    if case_id in analyst.index or (analyst.corpus is not None and case_id in analyst.corpus):
        return await st.models.run(analyst.case, case_id, k=k)
    if st.library.available:
        d = await st.library.case(case_id)
        if d is not None:
            return await st.models.run(analyst.analyse_case_dict, d, k=k)
    where = "model cases or the library" if st.library.available else "model cases"
    raise UnknownCaseError(f"no case {case_id!r} among the {where}")


# ------------------------------------------------------------------------------------------------ library


@router.get("/api/library", tags=["library"], summary="Whether a case library is open, and where")
async def api_library(request: Request) -> dict[str, Any]:
    return _state(request).library.status()


@router.get("/api/library/cases", tags=["library"], responses={503: {"description": "no library"}},
            summary="Library cases by year, category and kind of agency")  # fmt: skip
async def api_library_cases(
    request: Request,
    year: int | None = None,
    category: str | None = None,
    agency_kind: str | None = None,
    offset: int = Query(0, ge=0),
    limit: int = Query(200, ge=1, le=1000),
) -> dict[str, Any]:
    lib = _state(request).library
    return await lib.cases(year=year, category=category or None, agency_kind=agency_kind or None,
                           offset=offset, limit=limit)  # fmt: skip


@router.get("/api/library/cases/{case_id}", tags=["library"], summary="One library case",
            responses={404: {"description": "no such case"}, 503: {"description": "no library"}})  # fmt: skip
async def api_library_case(case_id: str, request: Request) -> dict[str, Any]:
    d = await _state(request).library.case(case_id)
    if d is None:
        raise UnknownCaseError(f"no case {case_id!r} in the library")
    return d


@router.get("/api/library/duplicates", tags=["library"], responses={503: {"description": "no library"}},
            summary="Re-submissions and near-duplicates with aligned passages")  # fmt: skip
async def api_library_duplicates(
    request: Request, year: int | None = None, threshold: float | None = Query(None, ge=0, le=1)
) -> dict[str, Any]:
    pairs = await _state(request).library.duplicates(year=year, threshold=threshold)
    return {"pairs": pairs}


@router.get("/api/library/trends", tags=["library"], responses={503: {"description": "no library"}},
            summary="Category counts and shares by year and kind of agency")  # fmt: skip
async def api_library_trends(request: Request) -> dict[str, Any]:
    df = await _state(request).library.trends()
    return {"rows": trend_records(df)}


@router.post("/api/library/collections", tags=["library"], status_code=201,
             responses={403: {"description": "read-only app"}, 503: {"description": "no library"}},
             summary="Import a collection file into the library")  # fmt: skip
async def api_library_add(
    request: Request,
    file: Annotated[UploadFile, File(description="a collection file (.txt, .docx ...)")],
    year: int = Query(description="the collection's year"),
    source: str | None = Query(None, description="where it came from (default: the file name)"),
) -> JSONResponse:
    lib = _state(request).library
    data = await file.read()
    cid = await lib.add_upload(data, file.filename, year=year, source=source)
    return JSONResponse({"collection_id": cid if isinstance(cid, str | int) else str(cid)}, status_code=201)
