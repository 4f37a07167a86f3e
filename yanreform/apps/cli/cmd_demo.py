"""``yanreform demo`` (tag the bundled collection, related cases with reasons) and ``yanreform corpus``."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._common import err, fit

if TYPE_CHECKING:
    from ...corpus import Case
    from ...tagging.tagger import Tagger


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    d = sub.add_parser(
        "demo", parents=[common], help="tag the bundled collection and recommend related cases"
    )
    d.set_defaults(func=run_demo)
    c = sub.add_parser("corpus", parents=[common], help="list the bundled cases")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=run_corpus)


def _chips(items: Iterable[tuple[str, float]], limit: int = 4) -> str:
    items = list(items)
    s = "  ".join(f"{name} {score:.2f}" for name, score in items[:limit])
    if len(items) > limit:
        s += f"  +{len(items) - limit}"
    return s or "—"


def _out_of_fold(
    tagger: Tagger, cases: list[Case]
) -> tuple[dict[str, list[tuple[str, float]]], dict[str, list[tuple[str, float]]]] | None:
    """Per initiative and per case (max over its initiatives), the out-of-fold ``(name, score)`` tags that
    the shipped head records for the bundled passages, or None when it records none for some initiative."""
    info = getattr(tagger, "info_", None)
    saved = info.get("bundled_out_of_fold") if isinstance(info, dict) else None
    if not isinstance(saved, dict):
        return None
    names = tagger.names
    per_ini: dict[str, list[tuple[str, float]]] = {}
    per_case: dict[str, list[tuple[str, float]]] = {}
    for c in cases:
        best: dict[str, float] = {}
        for ini in c.initiatives:
            tags = saved.get(ini.id)
            if tags is None:
                return None
            chips = sorted(((str(code), float(score)) for code, score in tags), key=lambda t: -t[1])
            per_ini[ini.id] = [(names.get(code, code), score) for code, score in chips]
            for code, score in chips:
                best[code] = max(best.get(code, 0.0), score)
        per_case[c.id] = [(names.get(k, k), v) for k, v in sorted(best.items(), key=lambda t: -t[1])]
    return per_ini, per_case


def run_demo(args: argparse.Namespace) -> int:
    from ...corpus import load_corpus
    from ...search.index import CaseIndex
    from ...tagging.tagger import Tagger

    t0 = time.perf_counter()
    corpus = load_corpus()
    tagger = Tagger.default()
    cases = list(corpus)
    tagged = [tagger.tag_case(c) for c in cases]
    n_ini = sum(len(c.initiatives) for c in cases)
    t_tag = time.perf_counter()
    index = CaseIndex.from_corpus(corpus, tagger=tagger)
    t_index = time.perf_counter()

    width = max(100, min(shutil.get_terminal_size((120, 24)).columns, 160))
    out = sys.stdout
    title = corpus.meta.get("title")
    print(f"{title or corpus.name} — {len(cases)} cases, {n_ini} initiatives", file=out)
    # The bundled texts are training data of the shipped head: its own scores on them are in-sample (near
    # 1.00) and mean nothing. Show instead the tags of the head trained without them (out-of-fold), saved
    # with the shipped head by scripts/train_tagger.py; without them, say that the scores are in-sample.
    oof = _out_of_fold(tagger, cases)
    if oof is not None:
        ini_chips, case_chips = oof
        print(
            "tags and scores: out-of-fold (a head trained without these ten cases; the shipped head was "
            "trained on them)",
            file=out,
        )
    else:
        ini_chips = {
            iid: [(t.name, float(t.score)) for t in tl] for ct in tagged for iid, tl in ct.initiatives.items()
        }
        case_chips = {ct.case_id: [(s.name, s.score) for s in ct.summary] for ct in tagged}
        print("tags and scores: the shipped head's (these texts are in its training data)", file=out)
    print(file=out)

    # overview table: one row per case
    w_id, w_ag, w_title = 10, 22, 36
    w_cat = max(20, width - (w_id + w_ag + w_title + 6))
    print(f"{fit('case', w_id)}  {fit('agency', w_ag)}  {fit('title', w_title)}  categories", file=out)
    print("─" * (w_id + w_ag + w_title + 6 + min(w_cat, 40)), file=out)
    for c in cases:
        chips = fit(_chips(case_chips.get(c.id, []), limit=3), w_cat).rstrip()
        print(f"{fit(c.id, w_id)}  {fit(c.agency, w_ag)}  {fit(c.title, w_title)}  {chips}", file=out)
    print(file=out)

    # per case: initiatives with their tags, then the related cases with the reason
    w_head = 34
    for c in cases:
        print(f"■ {c.id}  {c.agency}  {c.title}", file=out)
        print(f"  categories  {_chips(case_chips.get(c.id, []), limit=6)}", file=out)
        for ini in c.initiatives:
            short = ini.id.rsplit("-", 1)[-1]
            chips = _chips(ini_chips.get(ini.id, []))
            print(f"  {fit(short, 3)} {fit(ini.heading or ini.text, w_head)}  {chips}", file=out)
        print("  related", file=out)
        for rank, h in enumerate(index.recommend(c.id, k=3), 1):
            other = corpus[h.id]
            # Hit.similarity (0-1, how likely the case is related) for a reader; the fused z-score otherwise
            shown = f"{h.similarity:.0%}" if h.similarity is not None else f"{h.score:.2f}"
            print(f"    {rank}. {h.id}  {shown:>4}  {fit(other.agency, 20)}  {other.title}", file=out)
            print(f"       {index.explain(c.id, h.id).reason()}", file=out)
        print(file=out)
    err(
        f"tagged {n_ini} initiatives in {t_tag - t0:.1f} s, indexed {len(cases)} cases in "
        f"{t_index - t_tag:.1f} s, total {time.perf_counter() - t0:.1f} s"
    )
    return 0


def run_corpus(args: argparse.Namespace) -> int:
    from ...corpus import load_corpus

    corpus = load_corpus()
    rows: list[dict[str, Any]] = [
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
