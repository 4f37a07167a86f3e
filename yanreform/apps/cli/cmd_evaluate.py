"""``yanreform evaluate LABELS``: per-category precision / recall / F1 of the shipped tagger on labels."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from ...errors import InputError
from ...io import open_input
from ._common import err

if TYPE_CHECKING:
    from ...tagging.taxonomy import Taxonomy


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    e = sub.add_parser("evaluate", parents=[common], help="per-category precision/recall/F1 on labelled data")
    e.add_argument("labels", metavar="LABELS", help=".jsonl, .csv/.tsv or .xlsx with text and labels")
    e.add_argument("--text-column", default="text", metavar="C")
    e.add_argument("--labels-column", default="labels", metavar="C")
    e.add_argument("--json", action="store_true", help="print the report as JSON")
    e.set_defaults(func=run)


def split_labels(v: Any, where: str, taxonomy: Taxonomy) -> list[str]:
    """Category codes from a list or a ``;``/``,``/``|``-separated string; Chinese names are accepted and
    become codes. Raises InputError naming ``where`` for an unknown category or a value of another type."""
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        items = [x.strip() for x in v if x.strip()]
    elif isinstance(v, str):
        items = [x for x in (p.strip() for p in v.replace(",", ";").replace("|", ";").split(";")) if x]
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


def run(args: argparse.Namespace) -> int:
    src = open_input(args.labels, text_column=args.text_column, id_column=None)
    if src.kind not in ("jsonl", "csv", "xlsx") or src.spec == "-":
        raise InputError(f"{args.labels}: evaluate reads a .jsonl, .csv/.tsv or .xlsx labels file")
    if src.columns is not None and args.labels_column not in src.columns:
        raise InputError(
            f"{src.spec}: no labels column {args.labels_column!r} (columns: {', '.join(src.columns)})"
        )
    from ...tagging.tagger import Tagger

    tagger = Tagger.default()
    texts: list[str] = []
    labels: list[list[str]] = []
    bad = 0
    for r in src:
        if not r.ok or r.text is None:
            bad += 1
            err(f"skipped: {r.error}")
            continue
        raw = r.fields.get(args.labels_column)
        if raw is None:
            bad += 1
            err(f"skipped: missing {args.labels_column!r} ({r.where})")
            continue
        texts.append(r.text)
        labels.append(split_labels(raw, r.where, tagger.taxonomy_))
    if not texts:
        raise InputError(f"{args.labels}: no usable labelled records")
    report = tagger.evaluate(texts, labels)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.to_text())
    if bad:
        err(f"{bad:,} records skipped")
    return 0
