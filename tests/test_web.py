"""The web app (``yanreform.apps.web``) through FastAPI's test client, on the fake model (fast tier).

Covers the API names other tools call (``/api/tag``, ``/api/similar``, ``/healthz``), the pages, uploads of
real files in every reader format (and bad ones: wrong type, undecodable bytes, oversize, empty), escaping,
limits, the request guard and the library seam. Tests that need ``yanreform.Library`` (issue 13) skip with
"library not available" while it is absent. The real model and the console script run in the slow tier.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed")
pytest.importorskip("httpx", reason="FastAPI's test client needs httpx")

from fastapi.testclient import TestClient

from yanreform.apps.web import Limits, create_app
from yanreform.apps.web.charts import line_chart_svg, trend_series
from yanreform.apps.web.libview import aligned_pair, library_class
from yanreform.apps.web.services import display_name, related_level, similarity_level

REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "corpus" / "yancheng-2024-reform-cases.txt"

SUBMISSION = """滨海县人民法院
打造“一站式”诉讼服务新模式
为破解群众诉讼难题，滨海县人民法院以诉讼服务中心建设为抓手，推动诉讼服务提质增效。
一是建设一站式诉讼服务中心。整合立案、缴费、调解、送达等功能，实现“一站通办”。
二是推进诉前多元解纷。联合司法局建立诉调对接机制，引导当事人选择人民调解，化解矛盾纠纷1200余件。
三是深化智慧法院建设。依托大数据平台上线网上立案、电子送达和在线庭审。
"""
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> 设立一站式诉讼服务中心'

needs_library = pytest.mark.skipif(
    library_class() is None, reason="library not available (yanreform.Library)"
)


@pytest.fixture(scope="module")
def index(fake_encoder, fake_tagger):
    from yanreform.corpus import load_corpus
    from yanreform.search.index import CaseIndex

    return CaseIndex.from_corpus(load_corpus(), encoder=fake_encoder, tagger=fake_tagger)


def client_for(app) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def client(fake_tagger, index):
    with client_for(create_app(tagger=fake_tagger, index=index)) as c:
        yield c


@pytest.fixture(scope="module")
def small(fake_tagger, index):
    """An app with tiny limits (2 KiB bodies, 300 characters, 3 records)."""
    limits = Limits(max_upload_bytes=2048, max_chars=300, max_records=3, max_k=10)
    with client_for(create_app(tagger=fake_tagger, index=index, limits=limits)) as c:
        yield c


def error_of(r) -> str:
    body = r.json()
    assert set(body) == {"status", "error", "message"} and body["status"] == r.status_code
    return body["message"]


# ------------------------------------------------------------------------------------------------ API


def test_healthz_reports_models_and_library(client, index, fake_tagger) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["cases"] == len(index) == 10
    assert body["categories"] == list(fake_tagger.codes)
    assert body["library"]["available"] is False and "library" in body["library"]["reason"]


def test_api_tag_returns_the_promised_fields_with_exact_evidence(client, fake_tagger) -> None:
    text = "设立一站式诉讼服务中心，与检察院、公安局建立联动协作机制。"
    r = client.post("/api/tag", json={"text": text})
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "text" and body["chars"] == len(text) and body["cases"] == []
    tags = body["tags"]
    assert tags == [t.to_dict() for t in fake_tagger.tag(text)]
    assert "one_stop_service" in [t["code"] for t in tags]
    for t in tags:
        assert {"code", "name", "score", "evidence"} <= set(t) and 0.0 <= t["score"] <= 1.0
        for ev in t["evidence"]:
            assert text[ev["start"] : ev["end"]] == ev["text"]


def test_api_tag_splits_a_collection_into_cases_and_initiatives(client) -> None:
    text = BUNDLED.read_text(encoding="utf-8")
    r = client.post("/api/tag", json={"text": text})
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "collection" and len(body["cases"]) == 10
    inis = [p for c in body["cases"] for p in c["passages"] if p["kind"] == "initiative"]
    assert len(inis) == 34
    assert body["cases"][0]["agency"] == "盐城市公安局"
    for p in inis:
        for t in p["tags"]:
            for ev in t["evidence"]:
                assert p["text"][ev["start"] : ev["end"]] == ev["text"]
    for c in body["cases"]:
        assert c["related"] == []  # k = 0 by default: tagging only
        codes = {t["code"] for p in c["passages"] if p["kind"] == "initiative" for t in p["tags"]}
        assert {s["code"] for s in c["summary"]} == codes


def test_api_similar_returns_k_ranked_hits_with_reasons(client, index) -> None:
    r = client.post("/api/similar", json={"text": "运用大数据平台开展智慧监督", "k": 3})
    assert r.status_code == 200
    hits = r.json()["hits"]
    assert len(hits) == 3
    want = index.search("运用大数据平台开展智慧监督", k=3)
    assert [h["id"] for h in hits] == [h.id for h in want]
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    for h in hits:
        assert {"id", "title", "score"} <= set(h) and h["title"]
        assert (h["level"], h["label"]) == related_level(h["similarity"])[:2] and 0 <= h["similarity"] <= 1
    assert hits[0]["reason"]
    r = client.post("/api/similar", json={"text": "运用大数据平台开展智慧监督", "k": 2, "reasons": False})
    assert [h["reason"] for h in r.json()["hits"]] == ["", ""]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"text": ""}, "empty"),
        ({"text": "   \n"}, "empty"),
        ({}, "text: Field required"),
        ({"text": 5}, "text"),
        ({"text": "监督", "k": 0}, "k must be an integer from 1 to 50"),
        ({"text": "监督", "k": 51}, "k must be an integer from 1 to 50"),
        ({"text": "监督", "k": "many"}, "k"),
    ],
)
def test_api_similar_bad_input_is_a_422_a_person_can_act_on(client, body, needle) -> None:
    r = client.post("/api/similar", json=body)
    assert r.status_code == 422
    assert needle in error_of(r)


def test_invalid_json_and_too_long_text_are_422(client, small) -> None:
    r = client.post("/api/tag", content=b'{"text": ', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in error_of(r)
    r = small.post("/api/tag", json={"text": "监督" * 151})
    assert r.status_code == 422
    assert error_of(r) == (
        "text has 302 characters; the limit is 300 (split the text, or use `yanreform tag` for batch work)"
    )


def test_oversize_bodies_are_413_before_anything_runs(small) -> None:
    big = json.dumps({"text": "监" * 1000}).encode()  # 3 KB > 2 KiB
    r = small.post("/api/tag", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit of 0.00195312 MiB" in error_of(r)

    def chunks():  # no Content-Length: the guard counts what it reads
        for _ in range(4):
            yield b"x" * 1000

    r = small.post("/api/tag", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = small.post("/submit", files={"file": ("big.txt", b"x" * 4096)})
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
    assert "larger than the app&#x27;s limit" in r.text


# ------------------------------------------------------------------------------------------------ uploads


def test_upload_collection_in_other_encodings(client) -> None:
    text = BUNDLED.read_text(encoding="utf-8")
    for enc in ("gb18030", "utf-16", "utf-8-sig"):
        r = client.post("/api/tag/upload", files={"file": ("盐城 2024.txt", text.encode(enc))})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["source"], body["kind"], body["passages"], body["errors"]) == (
            "盐城 2024.txt", "collection", 34, 0,
        )  # fmt: skip
        assert len(body["cases"]) == 10 and body["cases"][1]["agency"] == "阜宁县人民法院"
        assert body["cases"][0]["passages"][0]["id"] == "submission-01-i1"


def test_upload_docx_and_records_keep_every_record(client, tmp_path) -> None:
    docx = pytest.importorskip("docx")
    d = docx.Document()
    for line in SUBMISSION.splitlines():
        d.add_paragraph(line)
    p = tmp_path / "sub.docx"
    d.save(p)
    r = client.post("/api/tag/upload", files={"file": ("申报.docx", p.read_bytes())})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "collection" and body["cases"][0]["agency"] == "滨海县人民法院"
    assert [x["heading"] for x in body["cases"][0]["passages"]][:1] == ["一是建设一站式诉讼服务中心。"]

    lines = [
        json.dumps({"id": "a", "text": "设立一站式诉讼服务中心"}, ensure_ascii=False),
        '{"id": "b", "text": "cut',
        json.dumps({"id": "c", "text": ""}),
        json.dumps({"id": "d", "text": "依托大数据平台开展智慧监督"}, ensure_ascii=False),
    ]
    r = client.post("/api/tag/upload?k=1", files={"file": ("batch.jsonl", "\n".join(lines).encode())})
    assert r.status_code == 200
    body = r.json()
    ps = [p for c in body["cases"] for p in c["passages"]]
    assert [p["id"] for p in ps] == ["a", "batch.jsonl:2", "c", "d"]  # records in == records out
    assert (
        body["errors"] == 2
        and ps[1]["error"].startswith("invalid JSON")
        and "batch.jsonl:2" in ps[1]["error"]
    )
    assert "tmp" not in json.dumps(body) and ps[0]["tags"] and len(body["cases"][0]["related"]) == 1

    csv = "id,text\nx1,设立一站式诉讼服务中心\nx2,组织民警开展体能训练\n".encode("gb18030")
    r = client.post("/api/tag/upload", files={"file": ("t.csv", csv)})
    assert r.status_code == 200 and [c["id"] for c in r.json()["cases"]] == ["x1", "x2"]


def test_plain_text_file_without_case_structure_is_tagged_whole(client) -> None:
    r = client.post(
        "/api/tag/upload", files={"file": ("note.txt", "设立一站式诉讼服务中心。".encode("gb18030"))}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "text" and body["passages"] == 1
    assert body["cases"][0]["passages"][0]["text"] == "设立一站式诉讼服务中心。"


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("run.exe", b"MZ\x90\x00", 415, "run.exe: cannot read file type '.exe'; upload one of: "),
        ("README", b"text", 415, "README: cannot read a file without a suffix"),
        ("empty.txt", b"", 422, "empty.txt: the file is empty"),
        ("blank.jsonl", b"\n  \n", 422, "blank.jsonl: the file is empty"),
        ("bad.txt", b"\xff\xfe\x00\xd8abc", 422, "bad.txt: line 1: undecodable bytes at byte offset 2"),
        ("bad.docx", b"PK\x03\x04 not a zip", 422, "bad.docx: not a readable .docx document"),
        ("bad.xlsx", b"not a workbook", 422, "bad.xlsx: not a readable .xlsx workbook"),
        ("cols.csv", b"a,b\n1,2\n", 422, "cols.csv: no text column 'text' (columns: 'a', 'b')"),
    ],
)
def test_bad_uploads_get_a_clear_status_and_message(client, name, data, status, message) -> None:
    r = client.post("/api/tag/upload", files={"file": (name, data)})
    assert r.status_code == status
    msg = error_of(r)
    assert msg.startswith(message), msg
    assert "yanreform-web-" not in msg and "submission." not in msg  # the temp copy is never named


def test_upload_limits_on_records_and_characters(small) -> None:
    lines = "\n".join(json.dumps({"id": i, "text": "监督"}) for i in range(5)).encode()
    r = small.post("/api/tag/upload", files={"file": ("five.jsonl", lines)})
    assert r.status_code == 413
    assert error_of(r).startswith("five.jsonl: more than 3 records; the web app takes at most 3 per upload")
    r = small.post("/api/tag/upload", files={"file": ("long.txt", ("监督工作。" * 70).encode())})
    assert r.status_code == 413 and "350 characters of text" in error_of(r)


def test_uploads_leave_nothing_behind_and_names_never_reach_a_path(client, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    name = "../../" + "x" * 10 + "/<img src=x onerror=alert(1)>.txt"
    r = client.post("/submit", files={"file": (name, SUBMISSION.encode())})
    assert r.status_code == 200
    assert list(tmp_path.iterdir()) == []  # the private copy is gone
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in r.text and "<img src=x" not in r.text
    assert not (REPO / "xxxxxxxxxx").exists()
    assert (
        display_name("C:\\Users\\me\\申报.docx") == "申报.docx" and display_name("a\x00b\n.txt") == "ab.txt"
    )


# ------------------------------------------------------------------------------------------------ pages


def test_home_page_has_paste_upload_search_and_the_model_cases(client) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert 'lang="zh-CN"' in html and '<meta charset="utf-8">' in html
    assert re.search(
        r'<form class="submit-form" action="/submit" method="post" enctype="multipart/form-data"', html
    )
    assert '<textarea id="text" name="text"' in html and 'type="file" id="file" name="file"' in html
    assert 'action="/search"' in html
    assert html.count('href="/cases/yc2024-') == 10
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from the network


def test_submission_view_shows_chips_evidence_and_related_cases(client, fake_tagger) -> None:
    r = client.post("/submit", data={"text": SUBMISSION, "k": "3"})
    assert r.status_code == 200
    html = r.text
    assert "滨海县人民法院" in html and "打造“一站式”诉讼服务新模式" in html
    assert html.count('class="passage kind-initiative') == 3 and html.count('class="passage kind-lead') == 1
    assert html.count('<li class="related-case') == 3
    assert 'class="chip" data-code="one_stop_service"' in html
    marks = re.findall(r'<mark title="[^"]*" data-code="([a-z_]+)"[^>]*>([^<]+)</mark>', html)
    assert ("one_stop_service", "一站式") in marks and ("one_stop_service", "诉讼服务中心") in marks
    assert {c for c, _ in marks} <= set(fake_tagger.codes)
    assert re.search(r'<span class="level">(高度相似|相似|相关|关联较弱)</span>', html)


def test_user_text_is_escaped_everywhere(client) -> None:
    r = client.post("/submit", data={"text": HOSTILE})
    assert r.status_code == 200
    assert "<script>alert" not in r.text and "<img src=x" not in r.text
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in r.text
        or "&lt;script&gt;alert(&quot;x&quot;)" in r.text
    )
    r = client.get("/search", params={"q": HOSTILE})
    assert r.status_code == 200 and "<script>alert" not in r.text and "&lt;script&gt;" in r.text
    r = client.get("/cases/<script>x</script>")
    assert r.status_code == 404 and "<script>x" not in r.text and "&lt;script&gt;x" in r.text


def test_case_page_and_api(client, corpus) -> None:
    r = client.get("/api/cases/yc2024-01")
    assert r.status_code == 200
    body = r.json()
    case = corpus["yc2024-01"]
    assert (body["agency"], body["title"]) == (case.agency, case.title)
    assert [p["id"] for p in body["passages"] if p["kind"] == "initiative"] == [
        i.id for i in case.initiatives
    ]
    assert len(body["related"]) == 5 and "yc2024-01" not in [h["id"] for h in body["related"]]
    page = client.get("/cases/yc2024-01").text
    assert case.title in page and page.count('<li class="related-case') == 5
    assert client.get("/api/cases").json()["cases"][0] == {
        "id": "yc2024-01", "agency": case.agency, "title": case.title, "initiatives": 4,
    }  # fmt: skip


def test_unknown_routes_and_cases_are_404_in_the_right_format(client) -> None:
    r = client.get("/api/cases/yc2024-99")
    assert r.status_code == 404 and "'yc2024-99'" in error_of(r)
    r = client.get("/nowhere")
    assert (
        r.status_code == 404
        and "no page /nowhere" in r.text
        and r.headers["content-type"].startswith("text/html")
    )
    r = client.get("/api/nowhere")
    assert r.status_code == 404 and error_of(r) == "no page /api/nowhere"


def test_search_page(client) -> None:
    r = client.get("/search", params={"q": "运用大数据平台开展智慧监督", "k": "4"})
    assert r.status_code == 200 and r.text.count('<li class="related-case') == 4
    r = client.get("/search", params={"q": ""})
    assert r.status_code == 200 and "related-case" not in r.text
    assert client.get("/search", params={"q": "x", "k": "lots"}).status_code == 422


def test_docs_are_served_offline(client) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in r.text and "cdn" not in r.text.lower()
    js = client.get("/static/swagger/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/tag", "/api/similar", "/healthz", "/api/cases/{case_id}", "/api/library/cases"} <= set(
        paths
    )


def test_guard_refuses_cross_site_posts_and_foreign_hosts_and_sets_headers(client) -> None:
    r = client.post("/api/tag", json={"text": "监督"}, headers={"origin": "http://evil.example"})
    assert r.status_code == 403 and "cross-site" in error_of(r)
    r = client.post("/submit", data={"text": "监督"}, headers={"origin": "null"})  # a sandboxed foreign frame
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    r = client.post("/api/tag", json={"text": "监督"}, headers={"origin": "http://127.0.0.1"})
    assert r.status_code == 200
    r = client.get("/", headers={"host": "rebind.example:8765"})
    assert r.status_code == 400
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"  # so our own form posts carry their Origin
    r = client.post("/api/tag", json={"text": "设立一站式诉讼服务中心"})
    assert re.fullmatch(r"work;dur=\d+\.\d, queue;dur=\d+\.\d", r.headers["server-timing"])


# ------------------------------------------------------------------------------------------------ library


def test_library_routes_say_why_while_no_library_is_open(client) -> None:
    for path in ("/api/library/cases", "/api/library/duplicates", "/api/library/trends"):
        r = client.get(path)
        assert r.status_code == 503 and "no case library was given" in error_of(r)
    r = client.get("/library")
    assert r.status_code == 503 and 'id="library-unavailable"' in r.text
    assert client.get("/api/library").json()["available"] is False


def test_read_only_refuses_library_writes(fake_tagger, index) -> None:
    with client_for(create_app(tagger=fake_tagger, index=index, read_only=True)) as c:
        r = c.post("/api/library/collections?year=2024", files={"file": ("a.txt", BUNDLED.read_bytes())})
        assert r.status_code == 403 and "--read-only" in error_of(r)
        assert 'action="/library/add"' not in c.get("/library").text


@pytest.fixture()
def library_app(fake_tagger, index, tmp_path):
    from yanreform.apps.web import LibraryGateway

    gw = LibraryGateway(tmp_path / "lib.sqlite", tagger=fake_tagger)
    assert gw.available, gw.reason
    with client_for(create_app(tagger=fake_tagger, index=index, library=gw)) as c:
        yield c


@needs_library
def test_library_import_browse_and_filter(library_app) -> None:
    c = library_app
    r = c.post("/api/library/collections?year=2024", files={"file": ("盐城2024.txt", BUNDLED.read_bytes())})
    assert r.status_code == 201, r.text
    assert r.json()["collection_id"] is not None
    body = c.get("/api/library/cases", params={"year": 2024}).json()
    assert body["total"] == 10 and body["years"] == [2024]
    assert all(x["year"] == 2024 for x in body["cases"])
    courts = c.get("/api/library/cases", params={"year": 2024, "agency_kind": "court"}).json()
    assert 0 < courts["total"] < 10 and all(x["agency_kind"] == "court" for x in courts["cases"])
    assert c.get("/api/library/cases", params={"year": 1999}).json()["total"] == 0
    page = c.get("/library", params={"year": "2024"})
    assert page.status_code == 200 and page.text.count("<tr><td>2024</td>") == 10
    one = body["cases"][0]["id"]
    assert c.get(f"/api/library/cases/{one}").json()["id"] == one
    assert c.get(f"/cases/{one}").status_code == 200


@needs_library
def test_library_duplicates_and_trends(library_app) -> None:
    c = library_app
    data = BUNDLED.read_bytes()
    assert c.post("/api/library/collections?year=2024", files={"file": ("a.txt", data)}).status_code == 201
    r = c.get("/api/library/duplicates")
    assert r.status_code == 200
    for p in r.json()["pairs"]:
        assert {"a", "b", "score", "kind", "spans"} <= set(p) and 0.0 <= p["score"] <= 1.0
    assert c.get("/library/duplicates").status_code == 200
    r = c.get("/api/library/trends")
    assert r.status_code == 200 and isinstance(r.json()["rows"], list) and r.json()["rows"]
    assert c.get("/library").status_code == 200


@needs_library
def test_read_only_library_is_not_created_or_changed(fake_tagger, index, tmp_path) -> None:
    from yanreform.apps.web import LibraryGateway

    missing = tmp_path / "none.sqlite"
    gw = LibraryGateway(missing, tagger=fake_tagger, read_only=True)
    assert not gw.available and "read-only" in gw.reason and not missing.exists()


# ------------------------------------------------------------------------------------------------ helpers


def test_similarity_levels_and_bars() -> None:
    assert similarity_level(2.5) == ("very_close", "高度相似", 88)
    assert similarity_level(1.0)[:2] == ("close", "相似")
    assert similarity_level(0.3)[0] == "related" and similarity_level(0.29)[0] == "weak"
    assert similarity_level(-5.0)[2] == 0 and similarity_level(10.0)[2] == 100
    assert similarity_level(float("nan"))[0] == "weak"
    assert related_level(0.85) == ("very_close", "高度相似", 85) and related_level(0.5)[0] == "close"
    assert related_level(0.2)[0] == "related" and related_level(0.19)[:2] == ("weak", "关联较弱")
    assert related_level(float("nan"))[2] == 0 and related_level(1.5)[2] == 100


def test_trend_series_reads_long_and_wide_frames_and_the_chart_escapes() -> None:
    pd = pytest.importorskip("pandas")
    long = pd.DataFrame(
        [
            {"year": 2023, "agency_kind": "court", "category": "digitalisation", "count": 2},
            {"year": 2023, "agency_kind": "police", "category": "digitalisation", "count": 3},
            {"year": 2024, "agency_kind": "court", "category": "coordination", "count": 4},
        ]
    )
    t = trend_series(long)
    assert t is not None and t.x == ["2023", "2024"] and t.series == {"digitalisation": [5.0, 0.0],
                                                                      "coordination": [0.0, 4.0]}  # fmt: skip
    court = trend_series(long, agency_kind="court")
    assert court is not None and court.series["digitalisation"] == [2.0, 0.0]
    wide = pd.DataFrame({"digitalisation": [1, 2]}, index=pd.Index([2024, 2023], name="year"))
    w = trend_series(wide)
    assert w is not None and w.x == ["2023", "2024"] and w.series == {"digitalisation": [2.0, 1.0]}
    assert trend_series(pd.DataFrame({"a": ["x"]})) is None and trend_series("not a frame") is None
    svg = line_chart_svg(t, names={"digitalisation": "<b>数字</b>"})
    assert svg.startswith("<svg") and svg.count("<circle") == 4 and "&lt;b&gt;数字&lt;/b&gt;" in svg


def test_aligned_pairs_from_every_span_shape() -> None:
    a, b = "甲乙丙丁戊", "子丑寅卯"
    assert aligned_pair(("左", "右"), a, b)["a"] == "左"
    assert aligned_pair(((1, 3), (0, 2)), a, b) == {
        "a": "乙丙",
        "b": "子丑",
        "a_range": [1, 3],
        "b_range": [0, 2],
    }
    assert aligned_pair((0, 2, 1, 4), a, b)["b"] == "丑寅卯"
    assert aligned_pair({"a_start": 0, "a_end": 1, "b_start": 3, "b_end": 4}, a, b)[["a", "b"][1]] == "卯"
    assert aligned_pair({"a_text": "x", "b_text": "y"}, None, None)["b"] == "y"
    assert aligned_pair(((0, 99), (0, 1)), a, b)["a"] == ""  # out of range: not cut
    assert aligned_pair(object.__new__(object), a, b)["a"].startswith("<object")


# ------------------------------------------------------------------------------------------------ CLI


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "yanreform", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)  # fmt: skip


def test_serve_help_lists_the_options() -> None:
    r = _run("serve", "--help")
    assert r.returncode == 0
    for opt in ("--library", "--host", "--port", "--read-only", "--max-upload-mb"):
        assert opt in r.stdout


def test_serve_on_a_taken_port_fails_at_once_with_one_line() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        t0 = time.monotonic()
        r = _run("serve", "--port", str(port), "--read-only")
    assert r.returncode == 2 and time.monotonic() - t0 < 30
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_serve_with_the_real_model_answers_the_contract_calls(tmp_path) -> None:
    """What the outside contract does: start `serve --library L`, wait for /healthz, call the API."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    lib = str(tmp_path / "l.sqlite")
    proc = subprocess.Popen(
        [sys.executable, "-m", "yanreform", "serve", "--port", str(port), "--library", lib],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def post(path: str, body: dict) -> dict:
        req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(req, timeout=120) as resp:
            return json.loads(resp.read())

    try:
        for _ in range(300):
            try:
                if urllib.request.urlopen(base + "/healthz", timeout=5).status == 200:
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.5)
        tags = post("/api/tag", {"text": "设立一站式诉讼服务中心"})["tags"]
        assert [t["code"] for t in tags] == ["one_stop_service"]
        assert all({"code", "name", "score", "evidence"} <= set(t) for t in tags)
        hits = post("/api/similar", {"text": "运用大数据平台开展智慧监督", "k": 3})["hits"]
        assert len(hits) == 3 and hits[0]["id"] == "yc2024-01"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert f"serving on http://127.0.0.1:{port}" in err and "only this computer can connect" in err
