"""``yanreform similar`` (related cases of a text, file or indexed case) and ``yanreform index build``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import InputError
from ...io import open_input, read_text_file
from ._common import err, fit

if TYPE_CHECKING:
    from ...search.index import CaseIndex


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    s = sub.add_parser("similar", parents=[common], help="find related cases")
    g = s.add_mutually_exclusive_group()
    g.add_argument("text", nargs="?", metavar="TEXT", help="query text")
    g.add_argument("--case", metavar="ID", help="recommend cases related to this case id")
    g.add_argument("--file", metavar="F", help="read the query text from a file")
    s.add_argument("-k", type=int, default=5, help="number of results (default 5)")
    s.add_argument("--index", metavar="PATH", help="a saved index (default: the bundled corpus)")
    s.add_argument("--library", metavar="PATH", help="use a case library as the index (yanreform library)")
    s.add_argument("--json", action="store_true", help="print JSON")
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
    b.set_defaults(func=run_index_build)


def _load_index(path: str | None) -> CaseIndex:
    """A saved index, or one built from the bundled corpus."""
    from ...search.index import CaseIndex

    if path:
        if not Path(path).exists():
            raise InputError(f"{path}: no such index")
        return CaseIndex.load(path)
    from ...corpus import load_corpus

    return CaseIndex.from_corpus(load_corpus())


def _library_index(path: str) -> CaseIndex:
    """An index of every case of the library at ``path`` (which must exist)."""
    from ...library import Library

    if not Path(path).is_file():
        raise InputError(f"{path}: no such library")
    with Library(path) as lib:
        return lib.index()


def run_similar(args: argparse.Namespace) -> int:
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
    if args.library is not None and args.index is not None:
        raise InputError("give --index or --library, not both")
    index = _library_index(args.library) if args.library is not None else _load_index(args.index)
    if args.case is not None:
        hits = index.recommend(args.case, k=args.k)  # UnknownCaseError (an InputError) names the id
    else:
        if not text or not text.strip():
            raise InputError("the query text is empty")
        hits = index.search(text, k=args.k)
    reasons: list[str] = []
    if args.case is not None:
        reasons = [index.explain(args.case, h.id).reason() for h in hits]
    if args.json:
        rows = [h.to_dict() for h in hits]
        for row, reason in zip(rows, reasons, strict=False):
            row["reason"] = reason
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for rank, h in enumerate(hits, 1):
        print(f"{rank:>2}. {fit(str(h.id), 12)} {h.score:.3f}  {h.title or ''}")
        if rank - 1 < len(reasons) and reasons[rank - 1]:
            print(f"    {reasons[rank - 1]}")
    return 0


def run_index_build(args: argparse.Namespace) -> int:
    from ...search.index import CaseIndex

    if args.bundled == (args.input is not None):
        raise InputError("give exactly one of INPUT or --bundled")
    skipped = 0
    if args.bundled:
        from ...corpus import load_corpus

        corpus = load_corpus()
        index, n = CaseIndex.from_corpus(corpus), len(corpus)
    else:
        src = open_input(args.input, text_column=args.text_column, id_column=args.id_column)
        if src.kind == "collection":
            from ...corpus import read_collection
            from ...io.readers import collection_id_prefix

            # the file's stem as id prefix, as `tag` uses: `similar --case <stem>-01` finds the same case
            corpus = read_collection(args.input, id_prefix=collection_id_prefix(Path(args.input)))
            index, n = CaseIndex.from_corpus(corpus), len(corpus)
        else:
            texts, ids = [], []
            for r in src:
                if r.ok and r.text is not None:
                    texts.append(r.text)
                    ids.append(str(r.id))
                else:
                    skipped += 1
                    err(f"skipped: {r.error}")
            if not texts:
                raise InputError(f"{args.input}: no usable records to index")
            index, n = CaseIndex.from_texts(texts, ids=ids), len(texts)
    index.save(args.output)
    msg = f"indexed {n:,} documents -> {args.output}"
    if skipped:
        msg += f" ({skipped:,} bad records skipped)"
    err(msg)
    return 0
