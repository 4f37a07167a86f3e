"""``yanreform tag INPUT... [-o OUT]``: batch-tag files with the streaming batch engine."""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path
from typing import Any

from ...batch import tag_records
from ...errors import InputError
from ...io import META_FIELDS, InputSource, OutputFormat, open_input, open_output, read_done_ids
from ._common import err, progress, stderr_is_tty


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    t = sub.add_parser(
        "tag",
        parents=[common],
        help="batch-tag files",
        description="Tag every record of the inputs; one output record per input record, in input order.",
    )
    t.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="collection .txt, .docx, .jsonl, .csv/.tsv, .xlsx, or - (JSONL on stdin)",
    )
    t.add_argument("-o", "--output", metavar="OUT", help="output file (default: stdout)")
    t.add_argument(
        "--format", choices=("jsonl", "csv"), help="output format (default: from OUT's suffix, else jsonl)"
    )
    t.add_argument("--text-column", default="text", metavar="C", help="text field/column (default: text)")
    t.add_argument("--id-column", default=None, metavar="C", help="id field/column (default: id if present)")
    t.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    t.add_argument("--resume", action="store_true", help="append to OUT, skipping ids already there")
    t.add_argument("--strict", action="store_true", help="exit 1 when any record had an error")
    t.add_argument("--batch-size", type=int, default=256, metavar="N", help="records per batch (default 256)")
    t.set_defaults(func=run)


def _output_format(args: argparse.Namespace) -> OutputFormat:
    if args.format:
        return args.format
    if args.output and Path(args.output).suffix.lower() == ".csv":
        return "csv"
    return "jsonl"


def run(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, not {args.batch_size}")
    if args.resume and not args.output:
        raise InputError("--resume needs -o OUT (the output to continue)")
    if sum(1 for p in args.inputs if p == "-") > 1:
        raise InputError("stdin (-) can be given only once")
    fmt = _output_format(args)
    # Open every input first: a missing file or column stops the run before the model loads.
    sources: list[InputSource] = [
        open_input(p, text_column=args.text_column, id_column=args.id_column) for p in args.inputs
    ]
    done: set[str] = set()
    if args.resume:
        done = read_done_ids(args.output, fmt)
    from ...tagging.tagger import Tagger

    tagger = Tagger.default()
    meta_fields = list(META_FIELDS) if any(s.has_meta for s in sources) else []
    writer = open_output(args.output, fmt, codes=tagger.codes, meta_fields=meta_fields, resume=args.resume)
    total = None
    if all(s.kind in ("collection", "docx") for s in sources):
        total = sum(len(list(s)) for s in sources)
    bar = progress(not args.quiet and stderr_is_tty(), total)
    try:
        stats = tag_records(
            itertools.chain.from_iterable(sources),
            tagger,
            writer.write,
            batch_size=args.batch_size,
            done=done,
            progress=bar,
            after_batch=writer.flush,
        )
    except BaseException:
        writer.abort()
        raise
    finally:
        if bar is not None:
            bar.close()
    writer.commit()
    if not args.quiet:
        dest = f" -> {args.output}" if args.output else ""
        err(stats.summary() + dest)
    return 1 if (args.strict and stats.errors) else 0
