"""``yanreform library …``: the case library from the command line.

Sub-commands (every one takes ``--library PATH``, default ``$YANREFORM_HOME/library.sqlite``)::

    add FILE... --year Y [--source NAME]     import files (one collection each; same content: no-op)
    list [--json]                            collections with their counts
    show ID [--json]                         a case (with tags) or a collection (its cases)
    remove COLLECTION                        delete a collection and everything in it
    search TEXT [-k K] [--year Y] [--category C] [--json]
    retag [--force]                          re-tag what an older model tagged (with progress)
    export --format jsonl|csv|xlsx [-o OUT] [--year Y] [--collection C]
    dupes [--year Y] [--threshold T] [--level case|initiative|both] [--spans] [--json]
    trends [--by year|kind] [--unit case|initiative] [--csv OUT] [--chart OUT.png|.svg]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from typing import TYPE_CHECKING, Any, Literal

from ...errors import InputError
from ._common import err, fit, progress, stderr_is_tty, text_width

if TYPE_CHECKING:
    from ...library import Library, NearDuplicate


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    lp = argparse.ArgumentParser(add_help=False, parents=[common])
    lp.add_argument(
        "--library", metavar="PATH", help="the library file (default: $YANREFORM_HOME/library.sqlite)"
    )
    p = sub.add_parser("library", parents=[common], help="the case library across years (SQLite)")
    s = p.add_subparsers(dest="library_command", metavar="SUBCOMMAND")
    s.required = True

    a = s.add_parser("add", parents=[lp], help="import collection files (one collection each)")
    a.add_argument(
        "files", nargs="+", metavar="FILE", help=".txt collection, .docx, .jsonl, .csv, .tsv, .xlsx"
    )
    a.add_argument("--year", required=True, type=int, help="the year of the collection(s)")
    a.add_argument(
        "--source", metavar="NAME", help="a label kept with the collection (e.g. who submitted it)"
    )
    a.add_argument(
        "--no-tag", action="store_true", help="store the text only (tag later with `library retag`)"
    )
    a.add_argument("--skip-bad", action="store_true", help="skip bad records instead of refusing the file")
    a.add_argument("--text-column", default="text", metavar="C")
    a.add_argument("--id-column", default=None, metavar="C")
    a.add_argument("--batch-size", type=int, default=256, metavar="N")
    a.add_argument("--quiet", action="store_true", help="no progress bar")
    a.set_defaults(func=run_add)

    ls = s.add_parser("list", parents=[lp], help="list the collections")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)

    sh = s.add_parser("show", parents=[lp], help="show a case (with tags) or a collection")
    sh.add_argument("id", metavar="ID", help="a case id or a collection id")
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(func=run_show)

    rm = s.add_parser("remove", parents=[lp], help="delete a collection (its cases, tags, embeddings)")
    rm.add_argument("collection", metavar="COLLECTION")
    rm.set_defaults(func=run_remove)

    se = s.add_parser("search", parents=[lp], help="search the library")
    se.add_argument("text", metavar="TEXT")
    se.add_argument("-k", type=int, default=10, help="number of cases (default 10)")
    se.add_argument("--year", type=int, action="append", help="only this year (repeatable)")
    se.add_argument("--category", metavar="C", help="only initiatives tagged with C (code or Chinese name)")
    se.add_argument("--collection", metavar="ID")
    se.add_argument("--json", action="store_true")
    se.add_argument("--fast", action="store_true", help="characters only: no model loaded (no torch)")
    se.set_defaults(func=run_search)

    rt = s.add_parser(
        "retag", parents=[lp], help="re-tag initiatives tagged by another model (after an update)"
    )
    rt.add_argument("--force", action="store_true", help="re-tag every initiative")
    rt.add_argument("--batch-size", type=int, default=256, metavar="N")
    rt.add_argument("--quiet", action="store_true", help="no progress bar")
    rt.set_defaults(func=run_retag)

    ex = s.add_parser("export", parents=[lp], help="export one row per initiative")
    ex.add_argument(
        "--format", choices=("jsonl", "csv", "xlsx"), help="default: from the -o suffix, else jsonl"
    )
    ex.add_argument("-o", "--output", metavar="OUT", help="output file (default: stdout; xlsx needs -o)")
    ex.add_argument("--year", type=int)
    ex.add_argument("--collection", metavar="ID")
    ex.set_defaults(func=run_export)

    du = s.add_parser("dupes", parents=[lp], help="re-submissions and near-duplicates")
    du.add_argument("--year", type=int, help="only pairs with a side of this year")
    du.add_argument("--threshold", type=float, help="minimum score in [0, 1] (default 0.5)")
    du.add_argument("--level", choices=("case", "initiative", "both"), default="both")
    du.add_argument("--spans", action="store_true", help="show the shared passages side by side")
    du.add_argument("--json", action="store_true")
    du.set_defaults(func=run_dupes)

    tr = s.add_parser("trends", parents=[lp], help="category counts and shares by year and kind of agency")
    tr.add_argument(
        "--by", choices=("year", "kind"), default="year", help="group by year, or year and agency kind"
    )
    tr.add_argument("--unit", choices=("case", "initiative"), default="case")
    tr.add_argument("--csv", metavar="OUT", help="write the table as CSV")
    tr.add_argument("--chart", metavar="OUT", help="draw the shares to a .png or .svg")
    tr.set_defaults(func=run_trends)


def open_library(args: argparse.Namespace) -> Library:
    """The library named by ``--library`` (or the default one)."""
    from ...library import Library

    return Library(args.library)


# -------------------------------------------------------------------------------------------- commands


def run_add(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, not {args.batch_size}")
    show = not args.quiet and stderr_is_tty()
    with open_library(args) as lib:
        for f in args.files:
            before = {c.id for c in lib.collections()}
            bar = progress(show, None, unit="initiative")
            try:
                cid = lib.add(
                    f, year=args.year, source=args.source, tag=not args.no_tag, batch_size=args.batch_size,
                    progress=bar.update if bar is not None else None, text_column=args.text_column,
                    id_column=args.id_column, skip_bad=args.skip_bad,
                )  # fmt: skip
            finally:
                if bar is not None:
                    bar.close()
            info = next(c for c in lib.collections() if c.id == cid)
            if cid in before:
                err(f"{f}: already in the library as collection {cid} ({info.year}); nothing imported")
            else:
                err(f"{f}: added as collection {cid} ({info.year}): {info.n_cases:,} cases, "
                    f"{info.n_initiatives:,} initiatives")  # fmt: skip
    return 0


def run_list(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        cols = lib.collections()
        if args.json:
            print(json.dumps([c.to_dict() for c in cols], ensure_ascii=False, indent=2))
            return 0
        if not cols:
            err(
                f"{lib.path}: the library is empty "
                "(add collections with `yanreform library add FILE --year Y`)"
            )
            return 0
        print(f"{'year':<6}{fit('collection', 32)} {'cases':>7} {'initiatives':>11}  {'source':<16} imported")
        for c in cols:
            counts = f"{c.n_cases:>7,} {c.n_initiatives:>11,}"
            print(f"{c.year:<6}{fit(c.id, 32)} {counts}  {fit(c.source or '', 16)} "
                  f"{c.imported_at[:10]}")  # fmt: skip
        n = sum(c.n_cases for c in cols)
        print(f"{len(cols)} collections, {n:,} cases in {lib.path}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        cols = {c.id: c for c in lib.collections()}
        if args.id in cols:
            cases = lib.cases(collection=args.id)
            if args.json:
                doc = {"collection": cols[args.id].to_dict(), "cases": [c.to_dict() for c in cases]}
                print(json.dumps(doc,
                                 ensure_ascii=False, indent=2))  # fmt: skip
                return 0
            c0 = cols[args.id]
            print(
                f"collection {c0.id} ({c0.year}) from {c0.path}: {c0.n_cases} cases, "
                f"{c0.n_initiatives} initiatives"
            )
            for c in cases:
                print(f"  {fit(c.id, 34)} {fit(c.agency, 24)} {fit(c.title, 40)} {', '.join(c.codes)}")
            return 0
        case = lib.case(args.id)  # UnknownCaseError names the id
        if args.json:
            print(json.dumps(case.to_dict(), ensure_ascii=False, indent=2))
            return 0
        print(f"{case.id}  ({case.year}, collection {case.collection}, {case.agency_kind})")
        print(f"{case.agency}\n{case.title}")
        if case.lead:
            print(f"\n{case.lead}")
        for ini in case.initiatives:
            tags = ", ".join(f"{t.name} {t.score:.2f}" for t in ini.tags) or "(no category)"
            print(f"\n[{ini.id}] {tags}\n{ini.text}")
            for t in ini.tags:
                ev = "、".join(dict.fromkeys(e.text for e in t.evidence))
                if ev:
                    print(f"    {t.code}: {ev}")
        if case.outcome:
            print(f"\n{case.outcome}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        n = lib.remove(args.collection)
    err(f"removed collection {args.collection} ({n:,} cases)")
    return 0


def run_search(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise InputError(f"-k must be at least 1, not {args.k}")
    with open_library(args) as lib:
        hits = lib.search(
            args.text,
            k=args.k,
            year=args.year,
            category=args.category,
            collection=args.collection,
            fast=args.fast,
        )
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        err("no matching cases")
        return 0
    for rank, h in enumerate(hits, 1):
        print(f"{rank:>2}. {h.score:.3f}  {h.year}  {fit(h.case_id, 30)} {fit(h.agency, 20)} {h.title}")
        print(f"    {fit(h.heading or h.text, 90)}  [{', '.join(h.categories) or '-'}]")
    return 0


def run_retag(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, not {args.batch_size}")
    show = not args.quiet and stderr_is_tty()
    with open_library(args) as lib:
        stats = lib.retag(force=args.force, batch_size=args.batch_size, progress=show)
    err(stats.summary())
    return 0


def run_export(args: argparse.Namespace) -> int:
    fmt = args.format
    with open_library(args) as lib:
        if args.output:
            n = lib.export(args.output, format=fmt, year=args.year, collection=args.collection)
            err(f"exported {n:,} initiatives -> {args.output}")
            return 0
        fmt = fmt or "jsonl"
        if fmt == "xlsx":
            raise InputError("--format xlsx needs -o OUT (a spreadsheet cannot go to the terminal)")
        from ...library.export import export_rows, write_rows

        write_rows(
            export_rows(lib, year=args.year, collection=args.collection),
            sys.stdout,
            fmt,
            list(lib.categories),
        )
    return 0


def run_dupes(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        found = lib.near_duplicates(year=args.year, threshold=args.threshold, level=args.level)
        if args.json:
            print(json.dumps([d.to_dict() for d in found], ensure_ascii=False, indent=2))
            return 0
        if not found:
            err("no re-submissions or near-duplicates found")
            return 0
        info = {c.id: c for c in lib.cases()} if found else {}
    for n, d in enumerate(found, 1):
        ca, cb = info.get(d.case_a), info.get(d.case_b)
        print(f"{n:>3}. {d.score:.2f} {d.kind:<12} {d.level:<10} {d.a}  ~  {d.b}")
        for side, c in (("a", ca), ("b", cb)):
            if c is not None:
                print(f"     {side}: {c.year} {fit(c.agency, 24)} {fit(c.title, 50)}")
        if args.spans:
            _print_spans(d)
    err(f"{len(found)} pairs")
    return 0


def _print_spans(d: NearDuplicate) -> None:
    width = max(40, min(shutil.get_terminal_size((120, 20)).columns, 160))
    col = (width - 7) // 2
    for s in d.spans:
        a, b = _wrap(s.a_text, col), _wrap(s.b_text, col)
        for k in range(max(len(a), len(b))):
            left = a[k] if k < len(a) else ""
            right = b[k] if k < len(b) else ""
            print(f"     {fit(left, col)} | {right}")
        print(f"     {'-' * col}-+-{'-' * col}")


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns (CJK counts two)."""
    lines: list[str] = []
    cur: list[str] = []
    w = 0
    for ch in " ".join(text.split()):
        cw = text_width(ch)
        if w + cw > width:
            lines.append("".join(cur))
            cur, w = [], 0
        cur.append(ch)
        w += cw
    if cur:
        lines.append("".join(cur))
    return lines


def run_trends(args: argparse.Namespace) -> int:
    by: Literal["year", "agency_kind"] = "agency_kind" if args.by == "kind" else "year"
    with open_library(args) as lib:
        df = lib.trends(by=by, unit=args.unit)
        names_en = {code: en for code, (_, en) in lib.categories.items()}
    if df.empty:
        err("no tagged cases in the library")
        return 0
    if args.csv:
        df.to_csv(args.csv, index=False, encoding="utf-8-sig")
        err(f"wrote {len(df):,} rows -> {args.csv}")
    if args.chart:
        from ...library.trends import plot_trends

        plot_trends(df, args.chart, names_en=names_en)
        err(f"chart -> {args.chart}")
    keys = ["year"] + (["agency_kind"] if by == "agency_kind" else [])
    table = df.pivot_table(index=keys, columns="name", values="share", sort=False)
    totals = df.groupby(keys, sort=False)["total"].first()
    _print_table(table, totals, keys)
    return 0


def _print_table(table: Any, totals: Any, keys: list[str]) -> None:
    names = [str(c) for c in table.columns]
    head = "".join(fit(k, 14) for k in keys) + fit("n", 6, align=">")
    print(head + "".join(" " + fit(n, max(6, text_width(n)), align=">") for n in names))
    for idx, row in table.iterrows():
        idx = idx if isinstance(idx, tuple) else (idx,)
        line = "".join(fit(str(v), 14) for v in idx) + fit(
            str(int(totals.loc[idx if len(idx) > 1 else idx[0]])), 6, align=">"
        )
        line += "".join(
            " " + fit(f"{v:.0%}", max(6, text_width(n)), align=">") for n, v in zip(names, row, strict=True)
        )
        print(line)
