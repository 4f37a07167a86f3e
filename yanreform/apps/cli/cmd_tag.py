"""``yanreform tag INPUT... [-o OUT]``: batch-tag files, crash-safe, in JSONL, CSV, TSV or .xlsx.

With ``-o OUT`` the work is committed batch by batch into ``OUT.partial/`` (:mod:`yanreform.batch.output`)
and ``OUT`` is written at the end; after Ctrl-C, SIGTERM, ``kill -9`` or a power cut, the same command with
``--resume`` continues where the committed work ends. Without ``-o`` records stream to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import shlex
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...batch import PartStore, TagOptions, TagStats, fingerprint_inputs, partial_dir, plural, run_partitions
from ...batch import tag_records as stream_records
from ...batch.parallel import ProcessBackend, TaggerSpec, coordinate
from ...errors import InputError
from ...io import LEVELS, OUTPUT_FORMATS, InputSource, open_input, output_format
from ...io.writers import open_row_writer
from ...tagging.documents import LONG_THRESHOLD, PASSAGE_CHARS
from ._common import PROG, add_encoder_options, apply_encoder_options, err, progress, stderr_is_tty


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    t = sub.add_parser(
        "tag",
        parents=[common],
        help="batch-tag files",
        description="Tag every record of the inputs; one output record per input record, in input order. "
        "With -o the work is committed batch by batch: after an interruption, the same command with "
        "--resume continues it.",
    )
    t.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="collection .txt, .docx, .doc, .wps, .pdf, .jsonl, .csv, .tsv, .xlsx, .xls; - is JSONL on stdin",
    )
    t.add_argument(
        "-o", "--output", metavar="OUT", help="output file: .jsonl, .csv, .tsv or .xlsx (default: stdout)"
    )
    t.add_argument(
        "--format", choices=OUTPUT_FORMATS, help="output format (default: from OUT's suffix; jsonl on stdout)"
    )
    t.add_argument("--text-column", default="text", metavar="C", help="text field/column (default: text)")
    t.add_argument("--id-column", default=None, metavar="C", help="id field/column (default: id if present)")
    t.add_argument("--sheet", metavar="NAME", help="read only this sheet of .xlsx/.xls inputs (default: all)")
    t.add_argument(
        "--header-row", type=int, metavar="N", help="row of the header in CSV/TSV/sheets (default: found)"
    )
    t.add_argument(
        "--level",
        choices=LEVELS,
        default="initiative",
        help="collections: a record per initiative (default) or per case, lead and outcome included",
    )
    t.add_argument(
        "--keep-columns",
        metavar="A,B",
        help="input fields to carry into the output (default: all but the text; '' for none)",
    )
    t.add_argument("--with-text", action="store_true", help="add the tagged text to the output")
    t.add_argument(
        "--long-threshold",
        type=int,
        default=LONG_THRESHOLD,
        metavar="CHARS",
        help=f"texts longer than this are tagged in passages (default {LONG_THRESHOLD})",
    )
    t.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    t.add_argument("--resume", action="store_true", help="continue the interrupted run that wrote OUT")
    t.add_argument("--restart", action="store_true", help="discard an interrupted run of OUT and start anew")
    t.add_argument("--strict", action="store_true", help="exit 1 when any record had an error")
    t.add_argument("--batch-size", type=int, default=256, metavar="N", help="records per batch (default 256)")
    t.add_argument(
        "--fast",
        action="store_true",
        help="the encoder-free fast head: lexicon and character n-grams, no neural model (about 100x faster, "
        "micro-F1 a few points lower)",
    )
    t.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="tag in N local worker processes (one model each; same output; default 1; 0: one per core)",
    )
    t.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="tag on a Dask cluster: tcp://host:8786 (an existing scheduler) or local:N (N local worker "
        "processes); same output (needs the 'dask' extra)",
    )
    add_encoder_options(t)
    t.set_defaults(func=run)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so the run stops the way Ctrl-C stops it."""


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    def handler(signum: int, frame: Any) -> None:
        raise Terminated

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _keep(args: argparse.Namespace, sources: list[InputSource]) -> tuple[str, ...] | None:
    if args.keep_columns is None:
        return None
    names = tuple(x.strip() for x in args.keep_columns.split(",") if x.strip())
    known: dict[str, None] = {}
    for s in sources:
        if s.columns is None and not isinstance(getattr(s, "records", None), list):
            return names  # a JSONL's fields are known only record by record
        cols = s.columns if s.columns is not None else [k for r in s.records for k in r.fields]  # type: ignore[attr-defined]
        known.update(dict.fromkeys(cols))
    missing = [n for n in names if n not in known]
    if missing:
        avail = ", ".join(repr(k) for k in known) or "none"
        raise InputError(f"--keep-columns: no field {missing[0]!r} in the inputs (fields: {avail})")
    return names


def _resume_command(argv: list[str]) -> str:
    rest = [a for a in argv if a not in ("--resume", "--restart")]
    return " ".join([PROG, shlex.join(rest), "--resume"])


def run(args: argparse.Namespace) -> int:
    apply_encoder_options(args)
    if args.batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, not {args.batch_size}")
    if args.workers < 0:
        raise InputError(f"--workers must be at least 0 (0: one per core), not {args.workers}")
    if args.workers == 0:
        args.workers = os.cpu_count() or 1
    if args.dask and args.workers > 1:
        raise InputError("give --workers or --dask, not both (--dask local:N starts N local workers)")
    if args.resume and args.restart:
        raise InputError("give --resume or --restart, not both")
    if (args.resume or args.restart) and not args.output:
        raise InputError(f"--{'resume' if args.resume else 'restart'} needs -o OUT (the output to continue)")
    if sum(1 for p in args.inputs if p == "-") > 1:
        raise InputError("stdin (-) can be given only once")
    if args.long_threshold < PASSAGE_CHARS:
        raise InputError(
            f"--long-threshold must be at least {PASSAGE_CHARS} (a passage), not {args.long_threshold}"
        )
    fmt = output_format(args.output, args.format)
    # Open every input first: a missing file or column stops the run before the model loads.
    sources = [
        open_input(
            p,
            text_column=args.text_column,
            id_column=args.id_column,
            sheet=args.sheet,
            header_row=args.header_row,
            level=args.level,
        )
        for p in args.inputs
    ]
    options = TagOptions(
        keep=_keep(args, sources),
        exclude=(args.text_column, args.id_column or "id"),
        with_text=args.with_text,
        long_threshold=args.long_threshold,
        batch_size=args.batch_size,
    )
    if args.output is None:
        return _run_stdout(args, sources, fmt, options)
    return _run_to_file(args, sources, fmt, options)


def _load_tagger() -> Any:
    """The shipped tagger, its model loaded: a broken set-up (model, YANREFORM_HOME) stops the run here,
    before any record, instead of failing every record."""
    from ...tagging.tagger import Tagger

    tagger = Tagger.default()
    tagger.tag_many(["建设执法办案管理中心。"])
    return tagger


def _tagger(args: argparse.Namespace) -> Any:
    """The tagger of this run (``--fast``: the fast head). With ``--workers`` the workers load their own
    models: here only the head is read (for its codes)."""
    from ...tagging.tagger import Tagger

    distributed = args.workers > 1 or bool(args.dask)
    if not args.fast and not distributed:
        return _load_tagger()
    tagger = Tagger.default(fast=args.fast)
    if not distributed:
        tagger.tag_many(["建设执法办案管理中心。"])
    return tagger


@contextlib.contextmanager
def _backend(args: argparse.Namespace) -> Iterator[tuple[Any, int]]:
    """``(backend, partitions in flight)`` for ``--workers N`` / ``--dask ADDRESS``; ``(None, 0)`` for one
    process."""
    spec = TaggerSpec(fast=args.fast)
    if args.dask:
        from ...batch.dask import DaskBackend, n_workers, open_client

        with open_client(args.dask) as client:
            yield DaskBackend(client, spec), 2 * n_workers(client)
    elif args.workers > 1:
        yield ProcessBackend(args.workers, spec), 2 * args.workers
    else:
        yield None, 0


def _bar(args: argparse.Namespace, sources: list[InputSource]) -> Any:
    enabled = not args.quiet and stderr_is_tty()
    total = None
    if enabled:
        counts = [s.estimate_total() for s in sources]
        total = None if any(c is None for c in counts) else sum(c or 0 for c in counts)
    return progress(enabled, total)


class _StdoutTable:
    """Rows to stdout whose columns (the input fields) are taken from the first batch: a streamed table
    has to print its header before it has seen every record."""

    def __init__(self, fmt: Any, codes: Any, with_text: bool) -> None:
        self.fmt, self.codes, self.with_text = fmt, codes, with_text
        self.pending: list[dict[str, Any]] = []
        self.writer: Any = None

    def write(self, record: dict[str, Any]) -> None:
        if self.writer is None:
            self.pending.append(record)
        else:
            self.writer.write(record)

    def flush(self) -> None:
        if self.writer is None:
            fields = list(
                dict.fromkeys(k for r in self.pending for k in r if k not in ("id", "tags", "error", "text"))
            )
            self.writer = open_row_writer(
                self.fmt, sys.stdout, codes=self.codes, fields=fields, with_text=self.with_text
            )
            for r in self.pending:
                self.writer.write(r)
            self.pending = []
        self.writer.flush()

    def close(self) -> None:
        self.flush()
        self.writer.close()


def _run_stdout(args: argparse.Namespace, sources: list[InputSource], fmt: Any, options: TagOptions) -> int:
    tagger = _tagger(args)
    writer = _StdoutTable(fmt, tagger.codes, args.with_text)
    bar = _bar(args, sources)
    records = itertools.chain.from_iterable(sources)
    try:
        with _backend(args) as (backend, in_flight):
            if backend is not None:
                stats = coordinate(
                    records,
                    backend,
                    in_flight=in_flight,
                    write=writer.write,
                    batch_size=args.batch_size,
                    options=options,
                    progress=bar,
                    after_batch=writer.flush,
                )
            else:
                stats = stream_records(
                    records,
                    tagger,
                    writer.write,
                    batch_size=args.batch_size,
                    options=options,
                    progress=bar,
                    after_batch=writer.flush,
                )
    finally:
        if bar is not None:
            bar.close()
    writer.close()
    if not args.quiet:
        err(stats.summary())
    return 1 if (args.strict and stats.errors) else 0


def _encoder_identity(args: argparse.Namespace) -> dict[str, Any]:
    """The encoder settings that change embeddings (and so scores and tags), for the run's identity: a run
    resumes only with the same backend and precision. Empty for the defaults (torch fp32 on the CPU) and for
    the fast head (no encoder), so that journals of earlier runs stay resumable."""
    if args.fast:
        return {}
    from ...embed import resolve_settings

    backend, device = resolve_settings()
    out: dict[str, Any] = {}
    if backend != "torch":
        out["backend"] = backend
    if device not in (None, "cpu"):
        out["device"] = device
    return out


def _fingerprint(args: argparse.Namespace, options: TagOptions) -> dict[str, Any]:
    return {
        "inputs": fingerprint_inputs(args.inputs),
        "text_column": args.text_column,
        "id_column": args.id_column,
        "sheet": args.sheet,
        "header_row": args.header_row,
        "level": args.level,
        "keep_columns": list(options.keep) if options.keep is not None else None,
        "with_text": args.with_text,
        "long_threshold": options.long_threshold,
        # only when set: journals of runs before --fast existed stay resumable
        **({"fast": True} if args.fast else {}),
        **_encoder_identity(args),
    }


def _open_store(args: argparse.Namespace, options: TagOptions) -> PartStore | None:
    """The part store of this run, or None when there is nothing to do (``--resume`` of a finished run)."""
    out = Path(args.output)
    if out.is_dir():
        raise InputError(f"{out}: is a folder; -o needs a file name")
    fp = _fingerprint(args, options)
    store = PartStore.open(out)
    if store is not None:
        if args.restart:
            store.discard()
            store = None
        elif not args.resume:
            raise InputError(
                f"{store.folder} holds an interrupted run of {out} "
                f"({plural(store.committed_records, 'record')} kept): add --resume to continue it, or "
                "--restart to discard it"
            )
        else:
            store.check(fp)
            return store
    if args.resume and out.exists():
        err(f"nothing to resume: {out} is complete (no interrupted run in {partial_dir(out)})")
        return None
    return PartStore.create(out, fp, args.batch_size)


def _run_to_file(args: argparse.Namespace, sources: list[InputSource], fmt: Any, options: TagOptions) -> int:
    store = _open_store(args, options)
    if store is None:
        return 0
    if store.partition_size != args.batch_size and args.resume:
        err(f"resuming with the interrupted run's batch size, {store.partition_size}")
    argv: list[str] = list(getattr(args, "argv", None) or sys.argv[1:])
    tagger = _tagger(args)
    bar = _bar(args, sources)
    stats = TagStats()
    records = itertools.chain.from_iterable(sources)
    try:
        with _sigterm_as_interrupt():
            with _backend(args) as (backend, in_flight):
                if backend is not None:
                    stats = coordinate(
                        records, backend, in_flight=in_flight, store=store, options=options, progress=bar
                    )
                else:
                    stats = run_partitions(records, tagger, store, options=options, progress=bar)
            if bar is not None:
                bar.close()
                bar = None
            n = store.finish(fmt, codes=tagger.codes, with_text=args.with_text)
    except KeyboardInterrupt as exc:
        if bar is not None:
            bar.close()
        # read back what a resume will keep (and remove what the interrupted write left)
        store = PartStore.open(store.out) or store
        kept = store.committed_records
        how = "terminated" if isinstance(exc, Terminated) else "interrupted"
        err(f"{how}: {plural(kept, 'record')} kept in {store.folder}; continue with:")
        err(f"  {_resume_command(argv)}")
        return 143 if isinstance(exc, Terminated) else 130
    except BaseException:
        if bar is not None:
            bar.close()
        if store.folder.exists():
            err(
                f"{plural(store.committed_records, 'record')} kept in {store.folder}; after fixing the error:"
            )
            err(f"  {_resume_command(argv)}")
        raise
    if not args.quiet:
        err(f"{stats.summary()} -> {args.output}" + (f" ({n:,} written)" if n != stats.records else ""))
    return 1 if (args.strict and store.errors_written) else 0
