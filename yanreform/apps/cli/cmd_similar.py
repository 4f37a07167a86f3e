"""``yanreform similar`` (related cases of a text, file or indexed case) and ``yanreform index build``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...batch import plural
from ...errors import InputError
from ...io import DOCUMENT_KINDS, input_kind, open_input, read_document_text
from ._common import add_encoder_options, apply_encoder_options, err

if TYPE_CHECKING:
    from ...search.index import CaseIndex


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    s = sub.add_parser("similar", parents=[common], help="find related cases")
    g = s.add_mutually_exclusive_group()
    g.add_argument("text", nargs="?", metavar="TEXT", help="query text")
    g.add_argument("--case", metavar="ID", help="recommend cases related to this case id")
    g.add_argument(
        "--file",
        metavar="F",
        help="query from a file: a document (.txt, .docx, .doc, .wps, .pdf) is one query; a .jsonl, .csv, "
        ".tsv, .xlsx or .xls gives one query per record",
    )
    s.add_argument("-k", type=int, default=5, help="number of results (default 5)")
    s.add_argument("--index", metavar="PATH", help="a saved index (default: the bundled corpus)")
    s.add_argument("--library", metavar="PATH", help="use a case library as the index (yanreform library)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument(
        "--fast",
        action="store_true",
        help="lexical side only: no model loaded (no torch); with --index, an index built with --fast",
    )
    s.add_argument("--text-column", default="text", metavar="C", help="--file tables: the text column")
    s.add_argument("--id-column", default=None, metavar="C", help="--file tables: the id column")
    s.set_defaults(func=run_similar)

    ix = sub.add_parser("index", parents=[common], help="build a case index")
    ixs = ix.add_subparsers(dest="index_command", metavar="SUBCOMMAND")
    ixs.required = True
    b = ixs.add_parser("build", parents=[common], help="build and save an index")
    b.add_argument("input", nargs="?", metavar="INPUT", help="as for tag: .txt, .docx, .jsonl, .csv, .xlsx")
    b.add_argument("--bundled", action="store_true", help="index the bundled corpus")
    b.add_argument("-o", "--output", required=True, metavar="PATH", help="where to save the index")
    b.add_argument("--text-column", default="text", metavar="C")
    b.add_argument("--id-column", default=None, metavar="C")
    b.add_argument(
        "--fast",
        action="store_true",
        help="a lexical-only index: no model, no embeddings (search it with similar --fast)",
    )
    b.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="encode in N local worker processes (same index; default 1; 0: one per core)",
    )
    add_encoder_options(b)
    b.set_defaults(func=run_index_build)


def _lexical_config() -> Any:
    """The index configuration of ``--fast``: the lexical side only (no encoder, no tagger)."""
    from ...search.index import IndexConfig

    return IndexConfig(semantic_weight=0.0, category_weight=0.0)


def _load_index(path: str | None, fast: bool = False) -> CaseIndex:
    """A saved index, or one built from the bundled corpus (``fast``: lexical only)."""
    from ...search.index import CaseIndex

    if path:
        if not Path(path).exists():
            raise InputError(f"{path}: no such index")
        index = CaseIndex.load(path)
        cfg = index.config
        if fast and (cfg.semantic_weight > 0 or cfg.category_weight > 0):
            raise InputError(
                f"{path}: this index has a semantic or category side (it needs the model): rebuild it with "
                "`yanreform index build --fast`, or search it without --fast"
            )
        return index
    from ...corpus import load_corpus

    if fast:
        return CaseIndex.from_corpus(load_corpus(), config=_lexical_config())
    return CaseIndex.from_corpus(load_corpus())


def _library_index(path: str) -> CaseIndex:
    """An index of every case of the library at ``path`` (which must exist)."""
    from ...library import Library

    if not Path(path).is_file():
        raise InputError(f"{path}: no such library")
    with Library(path) as lib:
        return lib.index()


def display_similarity(hit: Any) -> float:
    """A 0-1 similarity for people to read, from a :class:`~yanreform.search.index.Hit`.

    ``Hit.score`` is a z-score relative to the index (0 = an average case for this query, negative for most
    cases), fine for ranking and misleading to read. This is the one place that turns a hit into a display
    value: ``hit.similarity`` when the index provides it, else the mean of the lexical cosine and the
    semantic cosine rescaled from e5's narrow band (0.70-1.00 -> 0-1), or the lexical cosine alone for a
    lexical-only index.
    """
    sim = getattr(hit, "similarity", None)
    if sim is not None:
        return float(sim)
    lex = min(max(float(hit.lexical), 0.0), 1.0)
    sem = float(hit.semantic)
    if sem <= 0.0:
        return lex
    sem01 = min(max((sem - 0.70) / 0.30, 0.0), 1.0)
    return 0.5 * lex + 0.5 * sem01


def _queries(args: argparse.Namespace) -> list[tuple[str | None, str]]:
    """(label, text) of each query: one for TEXT or a document, one per record for a table file."""
    if args.file is None:
        return [(None, args.text)]
    kind = input_kind(args.file)
    if kind in DOCUMENT_KINDS:
        text = read_document_text(args.file)
        if not text.strip():
            raise InputError(f"{args.file}: empty file")
        return [(None, text)]
    src = open_input(args.file, text_column=args.text_column, id_column=args.id_column)
    out: list[tuple[str | None, str]] = []
    for r in src:
        if r.ok and r.text is not None:
            out.append((str(r.id), r.text))
        else:
            err(f"skipped: {r.error}")
    if not out:
        raise InputError(f"{args.file}: no usable records")
    return out


def run_similar(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise InputError(f"-k must be at least 1, not {args.k}")
    if args.text is None and args.case is None and args.file is None:
        raise InputError("give a TEXT, --case ID or --file F")
    queries = _queries(args) if args.case is None else []
    for _, q in queries:
        if not q or not q.strip():
            raise InputError("the query text is empty")
    if args.library is not None and args.index is not None:
        raise InputError("give --index or --library, not both")
    if args.library is not None and args.fast:
        raise InputError("--fast does not apply to --library (use `yanreform library search --fast`)")
    index = _library_index(args.library) if args.library is not None else _load_index(args.index, args.fast)
    results: list[tuple[str | None, list[Any], list[str]]] = []
    if args.case is not None:
        hits = index.recommend(args.case, k=args.k)  # UnknownCaseError (an InputError) names the id
        results.append((None, list(hits), [index.explain(args.case, h.id).reason() for h in hits]))
    else:
        all_hits = index.search([q for _, q in queries], k=args.k)
        for (label, q), hits in zip(queries, all_hits, strict=True):
            results.append((label, list(hits), [index.explain(q, h.id).reason() for h in hits]))
    if args.json:
        rows = []
        for label, found, reasons in results:
            dicts = []
            for h, reason in zip(found, reasons, strict=True):
                d = h.to_dict()
                d["similarity"] = round(display_similarity(h), 4)
                d["reason"] = reason
                dicts.append(d)
            rows.append({"query": label, "hits": dicts})
        print(
            json.dumps(
                rows[0]["hits"] if len(rows) == 1 and rows[0]["query"] is None else rows,
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    for label, found, reasons in results:
        if label is not None:
            print(f"== {label}")
        for rank, (h, reason) in enumerate(zip(found, reasons, strict=True), 1):
            print(f"{rank:>2}. {h.id}  similarity {display_similarity(h):.2f}  {h.title or ''}".rstrip())
            if reason:
                print(f"    {reason}")
    return 0


def run_index_build(args: argparse.Namespace) -> int:
    apply_encoder_options(args)
    if args.bundled == (args.input is not None):
        raise InputError("give exactly one of INPUT or --bundled")
    if args.workers < 0:
        raise InputError(f"--workers must be at least 0 (0: one per core), not {args.workers}")
    workers = args.workers or os.cpu_count() or 1
    if args.fast and workers > 1:
        err("--fast encodes nothing: --workers is not needed")
        workers = 1
    with contextlib.ExitStack() as stack:
        kw: dict[str, Any] = {}
        if args.fast:
            kw["config"] = _lexical_config()
        elif workers > 1:
            from ...batch.encode import PoolEncoder

            kw["encoder"] = stack.enter_context(PoolEncoder(workers))
        index, n, skipped = _build_index(args, kw)
    index.save(args.output)
    msg = f"indexed {plural(n, 'document')} -> {args.output}"
    if skipped:
        msg += f" ({plural(skipped, 'bad record')} skipped)"
    err(msg)
    return 0


def _build_index(args: argparse.Namespace, kw: dict[str, Any]) -> tuple[CaseIndex, int, int]:
    """(index, documents indexed, bad records skipped) of ``index build``; ``kw``: CaseIndex options."""
    from ...search.index import CaseIndex

    if args.bundled:
        from ...corpus import load_corpus

        corpus = load_corpus()
        return CaseIndex.from_corpus(corpus, **kw), len(corpus), 0
    src = open_input(args.input, text_column=args.text_column, id_column=args.id_column)
    if src.kind == "collection":
        from ...corpus import read_collection

        # read_collection's ids carry the file stem, as `tag` gives them: `similar --case <stem>-01`
        corpus = read_collection(args.input)
        return CaseIndex.from_corpus(corpus, **kw), len(corpus), 0
    texts, ids = [], []
    skipped = 0
    for r in src:
        if r.ok and r.text is not None:
            texts.append(r.text)
            ids.append(str(r.id))
        else:
            skipped += 1
            err(f"skipped: {r.error}")
    if not texts:
        raise InputError(f"{args.input}: no usable records to index")
    return CaseIndex.from_texts(texts, ids=ids, **kw), len(texts), skipped
