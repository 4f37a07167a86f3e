"""``yanreform evaluate LABELS``: per-category precision / recall / F1 of the shipped tagger on labels.

A labels file is a .jsonl, .csv/.tsv, .xlsx or .xls with a text column and a labels column (codes or
Chinese names, as a JSON list or separated by ``;``, ``,``, ``|`` or ``、``)::

    {"text": "依托大数据平台，实现网上立案。", "labels": ["digitalisation", "一站式服务"]}

A JSONL without texts whose ids name passages of a collection (``yc2024-01-i1``, ``yc2024-01-lead``) is
evaluated on those passages: the bundled collection by default, or ``--collection FILE`` — so the bundled
``corpus/yancheng-2024-labels.jsonl`` evaluates as it is. Every error names the file and line.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from ...batch import plural
from ...errors import InputError, MissingColumnError
from ...io import Record, open_input
from ._common import err

if TYPE_CHECKING:
    from ...tagging.taxonomy import Taxonomy


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    e = sub.add_parser("evaluate", parents=[common], help="per-category precision/recall/F1 on labelled data")
    e.add_argument("labels", metavar="LABELS", help=".jsonl, .csv/.tsv, .xlsx or .xls with text and labels")
    e.add_argument("--text-column", default="text", metavar="C")
    e.add_argument("--labels-column", default="labels", metavar="C")
    e.add_argument(
        "--collection",
        metavar="FILE",
        help="for labels by passage id without texts: the collection the ids refer to (default: bundled)",
    )
    e.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        metavar="N",
        help="95%% bootstrap intervals over N resamples of the passages (default 1000; 0: none)",
    )
    e.add_argument("--json", action="store_true", help="print the report as JSON")
    e.set_defaults(func=run)


def split_labels(v: Any, where: str, taxonomy: Taxonomy) -> list[str]:
    """Category codes from a list or a ``;``/``,``/``|``/``、``-separated string; Chinese names are accepted
    and become codes. Raises InputError naming ``where`` for an unknown category or a value of another
    type."""
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        items = [x.strip() for x in v if x.strip()]
    elif isinstance(v, str):
        for sep in (",", "|", "、", "，", "；"):
            v = v.replace(sep, ";")
        items = [x for x in (p.strip() for p in v.split(";")) if x]
    elif v is None:
        items = []
    else:
        raise InputError(f"{where}: labels must be a list of category codes or a ;-separated string")
    by_name = {c.name: c.code for c in taxonomy}
    out = []
    for x in items:
        code = by_name.get(x, x)
        if code not in taxonomy:
            known = ", ".join(f"{c.code} ({c.name})" for c in taxonomy)
            raise InputError(f"{where}: unknown category {x!r}; known: {known}")
        out.append(code)
    return out


def _passage_records(args: argparse.Namespace) -> list[Record]:
    """Records of a JSONL labels file without texts: each ``id`` looked up among a collection's passages."""
    from ...corpus import load_corpus, read_collection

    corpus = read_collection(args.collection) if args.collection else load_corpus()
    texts = {pid: t for case in corpus for pid, _kind, t in case.passages()}
    src = open_input(args.labels, text_column=args.labels_column)  # every record has the labels field
    out = []
    for r in src:
        if r.error is not None and not r.fields:
            out.append(r)
            continue
        pid = r.fields.get("id")
        if pid is None:
            out.append(Record(r.where, None, r.where, f"no {args.text_column!r} and no 'id' ({r.where})"))
            continue
        text = texts.get(str(pid))
        if text is None:
            where = args.collection or "the bundled collection"
            msg = f"id {pid!r} is no passage of {where} ({r.where})"
            out.append(Record(pid, None, r.where, msg, fields=r.fields))
            continue
        out.append(Record(pid, text, r.where, None, fields=r.fields))
    return out


def run(args: argparse.Namespace) -> int:
    try:
        src: Any = open_input(args.labels, text_column=args.text_column, id_column=None)
    except MissingColumnError:
        if not str(args.labels).lower().endswith((".jsonl", ".ndjson")):
            raise
        src = None
    if src is not None and (src.kind not in ("jsonl", "csv", "xlsx", "xls") or src.spec == "-"):
        raise InputError(f"{args.labels}: evaluate reads a .jsonl, .csv/.tsv, .xlsx or .xls labels file")
    if src is not None and src.columns is not None and args.labels_column not in src.columns:
        raise InputError(
            f"{src.spec}: no labels column {args.labels_column!r} (columns: {', '.join(src.columns)})"
        )
    records = list(src) if src is not None else _passage_records(args)
    from ...tagging.tagger import Tagger

    tagger = Tagger.default()
    texts: list[str] = []
    labels: list[list[str]] = []
    bad = 0
    for r in records:
        if not r.ok or r.text is None:
            bad += 1
            err(f"skipped: {r.error}")
            continue
        raw = r.fields.get(args.labels_column)
        if args.labels_column not in r.fields:
            bad += 1
            err(f"skipped: missing {args.labels_column!r} ({r.where})")
            continue
        texts.append(r.text)
        labels.append(split_labels(raw, r.where, tagger.taxonomy_))
    if not texts:
        raise InputError(f"{args.labels}: no usable labelled records")
    if args.bootstrap < 0:
        raise InputError(f"--bootstrap must be 0 or more, not {args.bootstrap}")
    report = tagger.evaluate(texts, labels, bootstrap=args.bootstrap)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.to_text())
    if bad:
        err(f"{plural(bad, 'record')} skipped")
    return 0
