"""``yanreform report INPUT_OR_COLLECTION -o report.html``: the HTML report of a collection.

INPUT_OR_COLLECTION is a file (a collection ``.txt``, ``.docx``, ``.jsonl``, ``.csv``, ``.xlsx``; parsed and
tagged here, compared with the library's cases) or the id of a collection in the library (its stored tags;
related cases and re-submissions from earlier years). See :mod:`yanreform.apps.report`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ...errors import InputError
from ._common import err


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    r = sub.add_parser("report", parents=[common], help="write an HTML report of a collection")
    r.add_argument("source", metavar="INPUT_OR_COLLECTION", help="a file, or a collection id in the library")
    r.add_argument("-o", "--output", required=True, metavar="OUT", help="the HTML file to write")
    r.add_argument("--library", metavar="PATH", help="the library (default: $YANREFORM_HOME/library.sqlite)")
    r.add_argument("--year", type=int, help="for a file: its year (related cases come from earlier years)")
    r.add_argument(
        "--related", type=int, default=3, metavar="K", help="related earlier cases per case (default 3)"
    )
    r.add_argument("--threshold", type=float, help="minimum re-submission score (default 0.5)")
    r.add_argument("--title", help="the report title (default: the collection name)")
    r.add_argument("--text-column", default="text", metavar="C")
    r.add_argument("--id-column", default=None, metavar="C")
    r.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    from ...library import Library
    from ..report import report_for_collection, report_for_file, write_report

    if args.related < 0:
        raise InputError(f"--related must be 0 or more, not {args.related}")
    if not args.output.lower().endswith((".html", ".htm")):
        raise InputError(f"{args.output}: the report is HTML: give a .html file name")
    with Library(args.library) as lib:
        ids = {c.id for c in lib.collections()}
        if args.source in ids:
            data = report_for_collection(lib, args.source, k_related=args.related, threshold=args.threshold,
                                         title=args.title)  # fmt: skip
        elif Path(args.source).exists():
            data = report_for_file(
                lib, args.source, year=args.year, k_related=args.related, threshold=args.threshold,
                title=args.title, text_column=args.text_column, id_column=args.id_column,
            )  # fmt: skip
        else:
            known = ", ".join(sorted(ids)) or "none"
            raise InputError(
                f"{args.source}: neither a file nor a collection of {lib.path} (collections: {known})"
            )
    write_report(data, args.output)
    err(f"report: {len(data.cases)} cases, {len(data.dupes)} possible re-submissions -> {args.output}")
    return 0
