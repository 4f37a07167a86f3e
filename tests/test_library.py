"""The case library (yanreform.library): import, read, search, retag, export, trends, reliability.

Fast tier: the fake tagger/encoder (HashingModel); real files made in the test; real SQLite; real
subprocesses for the crash and concurrency checks.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import yanreform as yr
from yanreform.errors import InputError, LibraryBusyError, LibraryFormatError, ParseError, UnknownCaseError
from yanreform.library import Library
from yanreform.library.schema import SCHEMA_VERSION, create_schema

REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "corpus" / "yancheng-2024-reform-cases.txt"


@pytest.fixture
def lib(tmp_path, fake_tagger):
    with Library(tmp_path / "lib.sqlite", tagger=fake_tagger) as library:
        yield library


@pytest.fixture
def filled(lib):
    lib.add(BUNDLED, year=2024, source="盐城市委政法委")
    return lib


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _counts(path: Path) -> tuple[int, ...]:
    conn = sqlite3.connect(path)
    try:
        return tuple(
            conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("collections", "cases", "initiatives", "tags", "vectors")
        )
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------- import


def test_add_stores_cases_initiatives_tags_and_vectors(filled, corpus):
    cols = filled.collections()
    assert [c.id for c in cols] == ["yancheng-2024-reform-cases"]
    assert (cols[0].year, cols[0].n_cases, cols[0].n_initiatives) == (2024, 10, 34)
    assert cols[0].source == "盐城市委政法委" and cols[0].kind == "collection"
    cases = filled.cases()
    assert len(filled) == 10 == len(cases)
    assert [c.title for c in cases] == [c.title for c in corpus]
    for stored, parsed in zip(cases, corpus, strict=True):
        assert stored.id == f"yancheng-2024-reform-cases-{parsed.id[-2:]}"
        assert (stored.agency, stored.text, stored.lead, stored.outcome) == (
            parsed.agency, parsed.text, parsed.lead, parsed.outcome,
        )  # fmt: skip
        assert stored.year == 2024 and stored.source_id == parsed.id[-2:]
        assert stored.agency_kind == yr.corpus.agency.agency_kind(parsed.agency)
        for ini in stored.initiatives:
            assert stored.text[ini.start : ini.end] == ini.text
            for t in ini.tags:
                assert 0.0 <= t.score <= 1.0 and t.code in filled.tagger.codes
                for ev in t.evidence:
                    assert ini.text[ev.start : ev.end] == ev.text
    first = cases[0]
    assert first.place == "盐城市" and first.agency_kind == "police"
    # the stored tags are the tagger's, and every initiative has its embedding
    tl = filled.tagger.tag_many([i.text for i in first.initiatives])
    assert [[t.code for t in x] for x in tl] == [[t.code for t in i.tags] for i in first.initiatives]
    assert _counts(filled.path)[4] == 34


@contextlib.contextmanager
def _log_lines():
    """Records of the 'yanreform' logger (a handler of its own: the CLI tests switch propagation off)."""
    lines: list[str] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    log = logging.getLogger("yanreform")
    old = log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        log.removeHandler(handler)
        log.setLevel(old)


def test_reimport_same_content_is_a_noop(filled, tmp_path):
    before = _counts(filled.path)
    assert filled.add(BUNDLED, year=2024) == "yancheng-2024-reform-cases"
    copy = tmp_path / "renamed copy.txt"
    copy.write_bytes(BUNDLED.read_bytes())
    with _log_lines() as lines:
        assert filled.add(copy, year=2025) == "yancheng-2024-reform-cases"
    assert any("of year 2024" in x for x in lines) and _counts(filled.path) == before


def test_same_file_name_another_year_gets_its_own_collection(filled, tmp_path):
    other = tmp_path / "yancheng-2024-reform-cases.txt"
    other.write_text(
        BUNDLED.read_text(encoding="utf-8").replace("盐城市公安局", "南通市公安局"), encoding="utf-8"
    )
    cid = filled.add(other, year=2025)
    assert cid == "yancheng-2024-reform-cases-2025"
    assert {c.collection for c in filled.cases(year=2025)} == {cid}
    assert len(filled.cases(year=[2024, 2025])) == 20
    assert filled.case(f"{cid}-01").agency == "南通市公安局"


def test_records_in_equal_records_out_and_bad_records(lib, tmp_path):
    rows = [
        {"id": f"r{i}", "text": f"第{i}条：建设执法办案管理中心，实现一站式办案。", "agency": "射阳县公安局"}
        for i in range(7)
    ]
    good = _jsonl(tmp_path / "good.jsonl", rows)
    cid = lib.add(good, year=2023)
    cases = lib.cases(collection=cid)
    assert [c.id for c in cases] == [f"good-r{i}" for i in range(7)]
    assert [c.source_id for c in cases] == [f"r{i}" for i in range(7)]
    assert all(len(c.initiatives) == 1 and c.initiatives[0].text == c.text for c in cases)
    assert cases[0].agency == "射阳县公安局" and cases[0].place == "射阳县"

    bad = tmp_path / "bad.jsonl"
    bad.write_text(good.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    before = _counts(lib.path)
    with pytest.raises(InputError, match=r"bad\.jsonl:8.*invalid JSON"):
        lib.add(bad, year=2023)
    assert _counts(lib.path) == before  # nothing written
    cid2 = lib.add(bad, year=2023, skip_bad=True)
    assert len(lib.cases(collection=cid2)) == 7


def test_jsonl_rows_of_one_case_id_form_one_case(lib, tmp_path):
    rows = [
        {
            "id": "a-i1",
            "case_id": "A",
            "agency": "阜宁县人民法院",
            "title": "集约化",
            "heading": "一、",
            "text": "甲措施。",
        },
        {"id": "a-i2", "case_id": "A", "agency": "阜宁县人民法院", "title": "集约化", "text": "乙措施。"},
        {"id": "b-i1", "case_id": "B", "agency": "射阳县司法局", "text": "丙措施。"},
    ]
    cid = lib.add(_jsonl(tmp_path / "grouped.jsonl", rows), year=2022, tag=False)
    a, b = lib.cases(collection=cid)
    assert a.id == "grouped-A" and [i.text for i in a.initiatives] == ["甲措施。", "乙措施。"]
    assert all(a.text[i.start : i.end] == i.text for i in a.initiatives)
    assert a.initiatives[0].heading == "一、" and a.title == "集约化" and b.agency_kind == "justice"
    assert all(not i.tags and i.tagged_by is None for i in a.initiatives)  # tag=False: text only


def test_docx_submissions(lib, tmp_path):
    import docx

    doc = docx.Document()
    for line in BUNDLED.read_text(encoding="utf-8").splitlines():
        doc.add_paragraph(line)
    doc.save(tmp_path / "submission.docx")
    plain = docx.Document()
    plain.add_paragraph("建设执法办案管理中心，实现一站式办案，与检察院、法院建立联动机制。")
    plain.save(tmp_path / "note.docx")
    cid = lib.add(tmp_path / "submission.docx", year=2024)
    cases = lib.cases(collection=cid)
    assert len(cases) == 10 and sum(len(c.initiatives) for c in cases) == 34
    assert all(c.text[i.start : i.end] == i.text for c in cases for i in c.initiatives)
    (one,) = lib.cases(collection=lib.add(tmp_path / "note.docx", year=2024))
    assert one.text.startswith("建设执法办案管理中心") and len(one.initiatives) == 1 and one.agency == ""


def test_pdf_collection_is_regrouped_into_cases(lib, tmp_path):
    pytest.importorskip("pypdf")
    pytest.importorskip("reportlab")
    from tests.test_readers_pdf import PAGE_1, PAGE_2, make_pdf

    p = tmp_path / "汇编.pdf"
    make_pdf(p, [PAGE_1, PAGE_2])
    cid = lib.add(p, year=2024)
    a, b = lib.cases(collection=cid)
    assert (a.id, a.source_id, a.agency, len(a.initiatives)) == (f"{cid}-01", "汇编-01", "某市公安局", 2)
    assert b.agency_kind == "court" and b.initiatives[0].text.startswith("建立府院联动机制。")
    assert all(c.text[i.start : i.end] == i.text for c in (a, b) for i in c.initiatives)
    assert a.initiatives[1].heading == "强化执法监督管理。"


@pytest.mark.parametrize(
    ("name", "content", "error", "match"),
    [
        ("garbage.txt", b"\xff\xfe\x00\xd8" * 50 + b"\x81", ParseError, "garbage.txt"),
        ("empty.txt", b"   \n\n", ParseError, "empty collection"),
        ("broken.xlsx", b"PK\x03\x04 not a workbook", InputError, "not a readable .xlsx"),
        ("notes.odt", b"PK\x03\x04", InputError, "unknown file type"),
        ("broken.pdf", b"%PDF-1.4 not really", InputError, r"broken\.pdf"),
    ],
)
def test_corrupt_file_is_refused_and_nothing_written(tmp_path, fake_tagger, name, content, error, match):
    path = tmp_path / "lib.sqlite"
    bad = tmp_path / name
    bad.write_bytes(content)
    with Library(path, tagger=fake_tagger) as lib, pytest.raises(error, match=match):
        lib.add(bad, year=2024)
    assert not path.exists()  # the library file is created only by a write that happens
    with Library(path, tagger=fake_tagger) as lib:
        lib.add(BUNDLED, year=2024)
        before = _counts(path)
        with pytest.raises(error):
            lib.add(bad, year=2024)
    assert _counts(path) == before


def test_bad_arguments_raise_input_errors(lib, tmp_path):
    with pytest.raises(InputError, match="year"):
        lib.add(BUNDLED, year="twenty")
    with pytest.raises(InputError, match="out of range"):
        lib.add(BUNDLED, year=24)
    with pytest.raises(InputError, match="no such file"):
        lib.add(tmp_path / "missing.txt", year=2024)
    with pytest.raises(InputError, match="batch_size"):
        lib.add(BUNDLED, year=2024, batch_size=0)
    with pytest.raises(InputError, match="is a folder"):
        Library(tmp_path)


# ---------------------------------------------------------------------------------------------- reading


def test_case_lookup_and_unknown_ids(filled):
    c = filled.case("yancheng-2024-reform-cases-03")
    assert c.title and c.initiatives and "yancheng-2024-reform-cases-03" in filled
    with pytest.raises(UnknownCaseError, match="similar ids: yancheng-2024-reform-cases-0"):
        filled.case("yancheng-2024-reform-cases-99")
    assert "nothing-like-it" not in filled
    d = c.to_dict()
    assert d["initiatives"][0]["text"] == c.initiatives[0].text and json.dumps(d, ensure_ascii=False)
    case = c.to_case()
    assert isinstance(case, yr.Case) and case.initiatives[0].case_id == c.id


def test_default_path_and_lazy_creation(tmp_path, monkeypatch, fake_tagger):
    home = tmp_path / "home" / "nested"
    monkeypatch.setenv("YANREFORM_HOME", str(home))
    with Library(tagger=fake_tagger) as lib:
        assert lib.path == home / "library.sqlite"
        assert lib.cases() == [] and lib.collections() == [] and len(lib) == 0
        assert not home.exists()  # reading an absent library creates nothing
        lib.add(BUNDLED, year=2024)
    assert (home / "library.sqlite").is_file()


def test_closed_library_refuses_work(tmp_path, fake_tagger):
    lib = Library(tmp_path / "x.sqlite", tagger=fake_tagger)
    lib.close()
    lib.close()  # idempotent
    with pytest.raises(InputError, match="closed"):
        lib.cases()


# ---------------------------------------------------------------------------------------------- schema


def test_newer_schema_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "future.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    create_schema(conn)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 7),))
    conn.close()
    before = path.read_bytes()
    with pytest.raises(LibraryFormatError, match=f"schema version {SCHEMA_VERSION + 7}.*newer yanreform"):
        Library(path)
    assert path.read_bytes() == before


def test_old_schema_is_migrated_keeping_data(tmp_path, fake_tagger):
    path = tmp_path / "v1.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    create_schema(conn, version=1)
    conn.execute(
        "INSERT INTO collections VALUES "
        "('c', 2021, NULL, 'c', 'c.txt', 'abc', 'collection', NULL, '[]', 'now')"
    )
    conn.execute(
        "INSERT INTO cases(id, collection_id, seq, year, agency, agencies, agency_kind, title, lead, "
        "outcome, text, line) VALUES "
        "('c-01', 'c', 0, 2021, '湖州市吴兴区公安分局', '[]', 'police', 't', '', '', 'x', 1)"
    )
    conn.close()
    with Library(path, tagger=fake_tagger) as lib:
        (case,) = lib.cases()
        assert case.place == "湖州市吴兴区" and case.agency_kind == "police" and case.source_id == "01"
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(
        SCHEMA_VERSION
    )
    conn.close()


@pytest.mark.parametrize(
    "content", [b"this is not a database at all" * 40, b"SQLite format 3\x00" + b"\x00" * 84]
)
def test_not_a_library(tmp_path, content):
    path = tmp_path / "odd.sqlite"
    path.write_bytes(content)
    with pytest.raises(LibraryFormatError, match=r"odd\.sqlite"):
        Library(path)


def test_foreign_sqlite_database_is_not_a_library(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(LibraryFormatError, match=r"not a yanreform library.*people"):
        Library(path)


# ---------------------------------------------------------------------------------------------- changes


def test_remove_deletes_everything_of_a_collection(filled, tmp_path):
    other = _jsonl(tmp_path / "more.jsonl", [{"id": "x", "text": "建立多元解纷机制，设立调解室。"}])
    filled.add(other, year=2023)
    n = filled.remove("yancheng-2024-reform-cases")
    assert n == 10
    assert _counts(filled.path) == (1, 1, 1, _counts(filled.path)[3], 1)
    assert [c.id for c in filled.cases()] == ["more-x"]
    with pytest.raises(InputError, match=r"no collection 'nope'.*more"):
        filled.remove("nope")


def test_retag_redoes_only_what_another_tagger_made(filled, fake_tagger):
    assert filled.retag().retagged == 0
    # a model update: another configuration of the head gets another key (the same learned arrays here)
    other = copy.copy(fake_tagger).set_params(require_evidence="seed")
    done: list[int] = []
    with Library(filled.path, tagger=other) as lib2:

        def stop_after_first(n):
            done.append(n)
            if len(done) == 1:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            lib2.retag(batch_size=10, progress=stop_after_first)
        stats = lib2.retag(batch_size=10, progress=done.append)  # continues with the rest
        assert (stats.checked, stats.retagged, stats.skipped) == (34, 24, 10)
        assert sum(done) == 34
        keys = {i.tagged_by for c in lib2.cases() for i in c.initiatives}
        assert keys == {stats.key}
        assert lib2.retag().retagged == 0
        assert lib2.retag(force=True, batch_size=100).retagged == 34


def test_untagged_import_is_tagged_by_retag(lib, tmp_path):
    lib.add(BUNDLED, year=2024, tag=False)
    assert _counts(lib.path)[3:] == (0, 0)
    stats = lib.retag()
    assert stats.retagged == 34 and _counts(lib.path)[4] == 34


# ----------------------------------------------------------------------------------- search, export, trends


def test_search_finds_the_case_of_a_passage_and_filters(filled, tmp_path):
    case = filled.cases()[1]
    hits = filled.search(case.initiatives[0].text, k=3)
    assert hits[0].case_id == case.id and hits[0].initiative_id == case.initiatives[0].id
    assert len({h.case_id for h in hits}) == len(hits) == 3
    assert hits == sorted(hits, key=lambda h: -h.score)
    assert filled.search(case.initiatives[0].text, k=3, year=2023) == []
    code = case.initiatives[0].tags[0].code if case.initiatives[0].tags else "digitalisation"
    name = filled.categories[code][0]
    by_code = filled.search("建设", k=10, category=code)
    assert by_code and all(code in h.categories for h in by_code)
    assert [h.case_id for h in filled.search("建设", k=10, category=name)] == [h.case_id for h in by_code]
    with pytest.raises(InputError, match="unknown category 'nope'"):
        filled.search("建设", category="nope")
    with pytest.raises(InputError, match="empty query"):
        filled.search("  ")
    with pytest.raises(InputError):
        filled.search("建设", k=0)


def test_search_falls_back_to_characters_for_initiatives_without_embeddings(lib, tmp_path):
    lib.add(BUNDLED, year=2024, tag=False)
    case = lib.cases()[4]
    with _log_lines() as lines:
        hits = lib.search(case.initiatives[0].text, k=2)
    assert hits[0].case_id == case.id and hits[0].semantic == 0.0 and hits[0].lexical > 0.9
    assert any("34 of 34 initiatives have no embedding" in x for x in lines)
    lib.retag()
    assert lib.search(case.initiatives[0].text, k=2)[0].semantic > 0.9  # cache refreshed after the change


def test_index_of_the_library_recommends_and_explains(filled, tmp_path):
    nxt = tmp_path / "next.txt"
    nxt.write_text(BUNDLED.read_text(encoding="utf-8").replace("2024", "2025"), encoding="utf-8")
    filled.add(nxt, year=2025)
    index = filled.index()
    assert len(index) == 20 and index.model_id == filled.encoder.model_id
    hits = index.recommend("next-01", k=3)
    assert hits[0].id == "yancheng-2024-reform-cases-01" and "next-01" not in [h.id for h in hits]
    assert index.explain("next-01", hits[0].id).reason()
    assert {c for c in filled.index(before=2025).ids} == {c.id for c in filled.cases(year=2024)}
    with pytest.raises(InputError, match="no cases to index"):
        filled.index(year=1999)


def test_export_formats_and_jsonl_round_trip(filled, tmp_path, fake_tagger):
    for fmt in ("jsonl", "csv", "xlsx"):
        out = tmp_path / f"all.{fmt}"
        assert filled.export(out) == 34
    rows = [json.loads(x) for x in (tmp_path / "all.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[0]["case_id"] == "yancheng-2024-reform-cases-01" and rows[0]["tags"][0]["evidence"]
    import csv

    with open(tmp_path / "all.csv", encoding="utf-8-sig", newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 34 and set(fake_tagger.codes) <= set(table[0])
    assert table[0]["categories"] == ";".join(rows[0]["categories"])
    import openpyxl

    ws = openpyxl.load_workbook(tmp_path / "all.xlsx", read_only=True).worksheets[0]
    assert sum(1 for _ in ws.iter_rows()) == 35
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    with Library(tmp_path / "again.sqlite", tagger=fake_tagger) as again:
        again.add(tmp_path / "all.jsonl", year=2024)
        cases = again.cases()
        assert len(cases) == 10 and sum(len(c.initiatives) for c in cases) == 34
        assert [c.title for c in cases] == [c.title for c in filled.cases()]
    with pytest.raises(InputError, match="unknown export format"):
        filled.export(tmp_path / "x.parquet")


def test_trends_counts_and_shares(filled, tmp_path):
    other = tmp_path / "next.txt"
    other.write_text(BUNDLED.read_text(encoding="utf-8"), encoding="utf-8-sig")  # other bytes: a BOM
    filled.add(other, year=2025)
    df = filled.trends(by="year")
    assert list(df.columns) == ["year", "category", "name", "count", "total", "share"]
    assert sorted(df["year"].unique()) == [2024, 2025] and set(df["total"]) == {10}
    cases = filled.cases(year=2024)
    for code in filled.tagger.codes:
        n = sum(1 for c in cases if code in c.codes)
        row = df[(df.year == 2024) & (df.category == code)].iloc[0]
        assert row["count"] == n and row["share"] == pytest.approx(n / 10)
    kinds = filled.trends()
    assert set(kinds["agency_kind"]) <= {
        "court",
        "procuratorate",
        "police",
        "justice",
        "committee",
        "joint",
        "other",
    }
    assert kinds.groupby(["year", "agency_kind"])["total"].first().groupby("year").sum().tolist() == [10, 10]
    per_ini = filled.trends(by="year", unit="initiative")
    assert set(per_ini["total"]) == {34}
    from yanreform.library.trends import plot_trends

    png = plot_trends(kinds, tmp_path / "t.png")  # (the CLI test draws an SVG)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError, match="by must be"):
        filled.trends(by="month")


# ---------------------------------------------------------------------------------------------- reliability

_IMPORTER = textwrap.dedent(
    """
    import sys, time
    from yanreform.library import Library
    delay = float(sys.argv[3])
    def progress(n):
        print("batch", flush=True)
        time.sleep(delay)
    with Library(sys.argv[1], timeout=float(sys.argv[4])) as lib:
        cid = lib.add(sys.argv[2], year=2024, batch_size=50, progress=progress, tag=False)
    print("done", cid, flush=True)
    """
)


def _spawn(
    tmp_path: Path, lib: Path, src: Path, delay: float = 0.0, timeout: float = 30.0
) -> subprocess.Popen:
    script = tmp_path / "importer.py"
    script.write_text(_IMPORTER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(script), str(lib), str(src), str(delay), str(timeout)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def _many(tmp_path: Path, name: str, n: int) -> Path:
    base = [
        json.loads(x)["text"]
        for x in (REPO / "corpus" / "devset.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    return _jsonl(
        tmp_path / f"{name}.jsonl", [{"id": f"{name}-{i}", "text": base[i % len(base)]} for i in range(n)]
    )


# The subprocess tests (a Python start-up each) run in the full suite, outside the fast tier's time budget.
@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [1, 8])  # batches staged: early, or the last one (the commit follows)
def test_killed_import_leaves_the_library_unchanged(tmp_path, fake_tagger, kill_after):
    path = tmp_path / "lib.sqlite"
    with Library(path, tagger=fake_tagger) as lib:
        lib.add(BUNDLED, year=2024)
    before = _counts(path)
    big = _many(tmp_path, "big", 400)  # 8 batches of 50
    proc = _spawn(tmp_path, path, big, delay=0.2 if kill_after == 1 else 0.0)
    assert proc.stdout is not None
    seen = 0
    while seen < kill_after:
        line = proc.stdout.readline()
        assert line or proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        seen += line.strip() == "batch"
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    after = _counts(path)
    # all or nothing: either the library as it was, or with the whole collection (the commit had finished)
    assert after == before or (after[:3] == (before[0] + 1, before[1] + 400, before[2] + 400))
    if kill_after == 1:
        assert after == before
    with Library(path, tagger=fake_tagger) as lib:
        assert lib._reader().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert lib.add(big, year=2024) == "big"  # the import succeeds afterwards (or was already complete)
        assert len(lib.cases(collection="big")) == 400


@pytest.mark.slow
def test_two_processes_import_at_once(tmp_path, fake_tagger):
    path = tmp_path / "lib.sqlite"
    a, b = _many(tmp_path, "a", 150), _many(tmp_path, "b", 150)
    procs = [_spawn(tmp_path, path, a), _spawn(tmp_path, path, b)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-800:] for o in outs]
    with Library(path, tagger=fake_tagger) as lib:
        assert sorted(c.id for c in lib.collections()) == ["a", "b"]
        assert len(lib) == 300
        assert lib._reader().execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_opening_a_new_file_waits_for_another_writer_instead_of_failing(tmp_path):
    # Another process has just created the file and holds its write lock (still in rollback-journal mode):
    # switching to WAL meets SQLite's deadlock avoidance, which answers "locked" at once, without waiting.
    # CI met this when two processes created one library together; opening must wait, up to the timeout.
    path = tmp_path / "lib.sqlite"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        start = time.monotonic()
        with Library(path, timeout=20) as lib:
            assert lib.collections() == []
            assert lib._reader().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert time.monotonic() - start >= 0.4  # it waited for the lock ...
    finally:
        release.join()
        holder.close()
    # ... and, with a short timeout, still fails with the library's own error, not an SQLite one
    holder = sqlite3.connect(tmp_path / "other.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(LibraryBusyError, match="another process is writing"):
            Library(tmp_path / "other.sqlite", timeout=0.3).collections()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_writer_waits_then_fails_cleanly_while_readers_go_on(tmp_path, fake_tagger):
    path = tmp_path / "lib.sqlite"
    with Library(path, tagger=fake_tagger) as lib:
        lib.add(BUNDLED, year=2024)
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    holder.execute("DELETE FROM collections")  # ... and has changed things it has not committed
    try:
        with Library(path, tagger=fake_tagger, timeout=0.5) as lib:
            assert len(lib.cases()) == 10  # readers see the last committed state
            start = time.monotonic()
            with pytest.raises(LibraryBusyError, match="another process is writing"):
                lib.add(_many(tmp_path, "late", 5), year=2024)
            assert time.monotonic() - start >= 0.5
            with pytest.raises(LibraryBusyError):
                lib.remove("yancheng-2024-reform-cases")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with Library(path, tagger=fake_tagger) as lib:
        assert [c.id for c in lib.collections()] == ["yancheng-2024-reform-cases"]
        assert lib.add(_many(tmp_path, "late", 5), year=2024) == "late"


# ---------------------------------------------------------------------------------------------- API surface


def test_public_names_and_context_manager(tmp_path, fake_tagger):
    for name in ("Library", "LibraryCase", "NearDuplicate", "SharedSpan", "LibraryHit", "Collection"):
        assert getattr(yr, name) is getattr(yr.library, name)
    with yr.Library(tmp_path / "c.sqlite", tagger=fake_tagger) as lib:
        cid = lib.add(BUNDLED, year=2024)
        assert cid and repr(lib).endswith("1 collections, 10 cases)")
        assert {"id", "agency", "title", "year"} <= set(vars(lib.cases(year=2024)[0]))
        assert lib.years() == [2024]


# ---------------------------------------------------------------------------------------------- command line


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    from yanreform.apps.cli import main

    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_library_commands_without_a_model(tmp_path, capsys):
    """Everything but tagging and search runs without the model (imports with --no-tag)."""
    lp = ["--library", str(tmp_path / "lib.sqlite")]
    nxt = tmp_path / "yancheng-2025.txt"
    nxt.write_text(BUNDLED.read_text(encoding="utf-8").replace("2024", "2025"), encoding="utf-8")
    rc, _, err = _cli(capsys, "library", "add", str(BUNDLED), "--year", "2024", "--no-tag", "--quiet", *lp)
    assert (
        rc == 0 and "added as collection yancheng-2024-reform-cases (2024): 10 cases, 34 initiatives" in err
    )
    rc, _, err = _cli(capsys, "library", "add", str(BUNDLED), str(nxt), "--year", "2025", "--no-tag", *lp)
    assert rc == 0 and "already in the library as collection yancheng-2024-reform-cases (2024)" in err
    assert "added as collection yancheng-2025 (2025)" in err
    rc, out, _ = _cli(capsys, "library", "list", *lp)
    assert rc == 0 and "yancheng-2024-reform-cases" in out and "2 collections, 20 cases" in out
    rc, out, _ = _cli(capsys, "library", "list", "--json", *lp)
    assert [c["n_initiatives"] for c in json.loads(out)] == [34, 34]
    rc, out, _ = _cli(capsys, "library", "show", "yancheng-2025", *lp)
    assert rc == 0 and out.count("yancheng-2025-") == 10
    rc, out, _ = _cli(capsys, "library", "show", "yancheng-2025-03", "--json", *lp)
    assert json.loads(out)["id"] == "yancheng-2025-03"
    rc, _, err = _cli(capsys, "library", "show", "yancheng-2025-33", *lp)
    assert rc == 2 and "no case 'yancheng-2025-33'" in err and len(err.strip().splitlines()) == 1
    rc, out, _ = _cli(capsys, "library", "export", "--year", "2025", *lp)
    assert rc == 0 and len(out.splitlines()) == 34 and json.loads(out.splitlines()[0])["year"] == 2025
    rc, _, err = _cli(capsys, "library", "export", "-o", str(tmp_path / "x.csv"), *lp)
    assert rc == 0 and "exported 68 initiatives" in err
    rc, _, err = _cli(capsys, "library", "export", "--format", "xlsx", *lp)
    assert rc == 2 and "needs -o" in err
    rc, out, _ = _cli(capsys, "library", "dupes", "--json", "--level", "case", *lp)
    pairs = json.loads(out)
    assert len(pairs) == 10 and {p["kind"] for p in pairs} == {"resubmission"}
    rc, out, _ = _cli(capsys, "library", "dupes", "--spans", "--threshold", "0.9", *lp)
    assert rc == 0 and " | " in out and "resubmission" in out
    rc, _, err = _cli(capsys, "library", "trends", *lp)  # untagged: nothing to count
    assert rc == 0
    rc, _, err = _cli(capsys, "library", "remove", "yancheng-2025", *lp)
    assert rc == 0 and "removed collection yancheng-2025 (10 cases)" in err
    rc, _, err = _cli(capsys, "library", "add", str(tmp_path / "missing.txt"), "--year", "2024", *lp)
    assert rc == 2 and "no such file" in err


def test_cli_trends_of_a_tagged_library(tmp_path, capsys, fake_tagger):
    """Trends read the stored tags: no model is loaded (the tags here were made by the fake tagger)."""
    path = tmp_path / "lib.sqlite"
    with Library(path, tagger=fake_tagger) as lib:
        lib.add(BUNDLED, year=2024)
    lp = ["--library", str(path)]
    csv_out, svg = tmp_path / "t.csv", tmp_path / "t.svg"
    rc, out, _ = _cli(
        capsys, "library", "trends", "--by", "kind", "--csv", str(csv_out), "--chart", str(svg), *lp
    )
    assert rc == 0 and "police" in out and "数字赋能" in out
    assert csv_out.read_text(encoding="utf-8-sig").startswith("year,agency_kind,category,name")
    assert b"<svg" in svg.read_bytes()[:2000]


@pytest.mark.slow
def test_cli_add_search_retag_with_the_real_model(tmp_path, capsys, tagger):
    lp = ["--library", str(tmp_path / "lib.sqlite")]
    rc, _, err = _cli(capsys, "library", "add", str(BUNDLED), "--year", "2024", "--quiet", *lp)
    assert rc == 0, err
    rc, out, _ = _cli(capsys, "library", "search", "智慧法鹰执法大数据平台", "-k", "2", "--json", *lp)
    hits = json.loads(out)
    assert rc == 0 and len(hits) == 2 and hits[0]["case_id"] == "yancheng-2024-reform-cases-01"
    rc, out, _ = _cli(capsys, "library", "search", "调解", "--category", "多元解纷", *lp)
    assert rc == 0 and out.strip()
    rc, _, err = _cli(capsys, "library", "retag", "--quiet", *lp)
    assert rc == 0 and "0 of 34 initiatives retagged" in err
    rc, out, _ = _cli(capsys, "similar", "--case", "yancheng-2024-reform-cases-02", "-k", "3", *lp)
    assert rc == 0 and len([x for x in out.splitlines() if x.strip()[:2].rstrip(".").isdigit()]) == 3
