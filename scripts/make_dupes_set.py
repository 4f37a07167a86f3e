"""Build the near-duplicate test set ``corpus/dupes-dev.jsonl`` reproducibly (fixed seed, no network).

Usage:  python scripts/make_dupes_set.py [--out corpus/dupes-dev.jsonl] [--real-dev PATH] [--check]

One JSON object per *unit* (a document the near-duplicate finder sees as one case):
``uid``, ``group`` (units of one group are duplicates of each other: an original and its rewrites; null for a
unit with no duplicate), ``year``, ``agency``, ``title``, ``text``, ``origin`` (the uid it was made from),
``transform`` (what was done), ``expect`` (the kind of the pair with its origin: resubmission / reuse),
``practice`` (a real-dev cluster: a narrow practice several places describe independently; null otherwise),
``source`` (where the text comes from).

Positives (rewrites made here from repository texts):
* the 10 cases of the bundled Yancheng 2024 collection (whole case bodies), three variants each:
  ``resubmission-light`` (next year, same agency, retitled, measure paragraphs reordered, numbers updated,
  ~20% of sentences reworded), ``resubmission-heavy`` (same, ~60% reworded, a sentence dropped, a new one
  added) and ``reuse`` (same year, the text under another agency of another city, place names replaced,
  ~10% reworded);
* the 148 passages of ``corpus/longform.jsonl``, one variant each, cycling through resubmission-light,
  resubmission-heavy, reuse, expanded (two sentences added) and condensed (a third of the sentences dropped).

Negatives (never rewrites of each other):
* ``real-dev`` (../shared/data/real-dev/passages.jsonl, 199 real passages from public web pages; cited by id
  and URL; where that file is absent, the real-dev units of the existing set are kept): 21 clusters of
  one narrow practice described independently by different places (e.g. 林长+检察长): related cases, not
  duplicates;
* ``corpus/stress.jsonl`` (89 passages): different projects padded with the same boilerplate sentences;
* every pair of units from different groups.

Rewording uses a fixed table of official-style synonyms and clause swaps; nothing is learned from the
negatives.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED = 20240613

# official-style near-synonyms (both directions are used)
SYNONYMS = [
    ("加强", "强化"), ("推进", "推动"), ("建立", "构建"), ("实现", "达成"), ("开展", "组织开展"),
    ("进一步", "更加"), ("有效", "切实"), ("提升", "提高"), ("完善", "健全"), ("深化", "纵深推进"),
    ("打造", "塑造"), ("搭建", "建设"), ("整合", "融合"), ("依托", "借助"), ("全面", "全方位"),
    ("积极", "主动"), ("及时", "第一时间"), ("显著", "明显"), ("创新", "探索"), ("推行", "实行"),
    ("落实", "执行"), ("规范", "规范化"), ("群众", "人民群众"), ("统筹", "统一调度"), ("同比", "与去年相比"),
    ("累计", "共计"), ("全市", "全市范围内"), ("机制", "制度机制"), ("有关", "相关"),
    ("确保", "保证"), ("研发", "开发"), ("联合", "会同"), ("设立", "成立"), ("形成", "构成"),
    ("缩短", "压缩"), ("减轻", "减少"), ("快速", "迅速"), ("精准", "精确"), ("信息", "数据信息"),
]  # fmt: skip
NEW_SENTENCES = [
    "该项工作纳入年度重点改革任务清单，由主要负责同志亲自部署推动。",
    "在此基础上，进一步明确责任分工和时间节点，确保各项措施落地见效。",
    "同时，建立定期通报制度，对推进缓慢的单位及时督促整改。",
    "相关经验做法在全市政法系统推广，取得良好社会反响。",
    "下一步，将持续总结经验，推动改革成果制度化、长效化。",
    "改革过程中注重听取人民群众意见建议，不断优化工作流程。",
]
TITLE_OPENERS = ["深化", "创新", "持续推进", "全面打造", "探索构建"]
# (place, agency) pairs a template is re-used under; the place replaces the original city names
OTHER_PLACES = [
    ("南通市", "南通市公安局"), ("扬州市", "扬州市人民检察院"), ("泰州市", "泰州市中级人民法院"),
    ("淮安市", "淮安市司法局"), ("宿迁市", "宿迁市委政法委"), ("镇江市", "镇江市公安局"),
]  # fmt: skip
ORIGINAL_PLACES = [
    "盐城市",
    "阜宁县",
    "射阳县",
    "建湖县",
    "东台市",
    "大丰区",
    "亭湖区",
    "盐都区",
    "响水县",
    "滨海县",
    "盐城",
]

_SENT_RE = re.compile(r"[^。！？；]*[。！？；]?")


def sentences(text: str) -> list[str]:
    return [s for s in _SENT_RE.findall(text) if s]


def reword_sentence(s: str, rng: random.Random) -> str:
    """Swap official-style words for near-synonyms and, sometimes, two comma clauses."""
    pairs = SYNONYMS[:]
    rng.shuffle(pairs)
    n = 0
    for a, b in pairs:
        if n >= 3:
            break
        if a in s and b not in s:
            s = s.replace(a, b, 1)
            n += 1
        elif b in s and len(b) > len(a):
            s = s.replace(b, a, 1)
            n += 1
    clauses = s.split("，")
    if len(clauses) >= 3 and rng.random() < 0.5:
        i = rng.randrange(1, len(clauses) - 1)
        if not clauses[i + 1].endswith(("。", "！", "？", "；")):
            clauses[i], clauses[i + 1] = clauses[i + 1], clauses[i]
        s = "，".join(clauses)
    return s


def reword(text: str, share: float, rng: random.Random) -> str:
    out = []
    for para in text.split("\n"):
        ss = sentences(para)
        out.append("".join(reword_sentence(s, rng) if rng.random() < share else s for s in ss))
    return "\n".join(out)


def update_numbers(text: str, rng: random.Random) -> str:
    """Years +1; other numbers scaled by 1.1-1.4 (what a next-year submission reports)."""

    def num(m: re.Match[str]) -> str:
        v = m.group(0)
        if re.fullmatch(r"20\d\d", v):
            return str(int(v) + 1)
        if "." in v:
            return f"{float(v) * rng.uniform(1.1, 1.4):.1f}"
        return str(max(1, round(int(v) * rng.uniform(1.1, 1.4))))

    return re.sub(r"\d+(?:\.\d+)?", num, text)


def drop_sentences(text: str, k: int, rng: random.Random) -> str:
    ss = sentences(text)
    if len(ss) <= k + 1:
        return text
    drop = set(rng.sample(range(1, len(ss)), k))
    return "".join(s for i, s in enumerate(ss) if i not in drop)


def add_sentences(text: str, k: int, rng: random.Random) -> str:
    ss = sentences(text)
    for s in rng.sample(NEW_SENTENCES, k):
        ss.insert(rng.randrange(1, len(ss) + 1), s)
    return "".join(ss)


def retitle(title: str, rng: random.Random) -> str:
    core = re.sub(r"^(打造|深化|推进|构建|创新|建立|推行|实施|探索)", "", title)
    return rng.choice(TITLE_OPENERS) + core + ("工作" if not core.endswith(("模式", "机制", "建设")) else "")


def relocate(text: str, place: str) -> str:
    for p in ORIGINAL_PLACES:
        text = text.replace(p, place)
    return text


def variant(unit: dict, transform: str, rng: random.Random, k: int) -> dict:
    """A rewrite of ``unit`` (text paragraphs separated by blank lines kept as paragraphs)."""
    text, agency, year, title = unit["text"], unit["agency"], unit["year"], unit.get("title", "")
    paras = [p for p in text.split("\n\n")] if "\n\n" in text else [text]
    expect = "resubmission"
    if transform in ("resubmission-light", "resubmission-heavy"):
        year += 1
        if len(paras) > 2:  # keep the overview first, reorder the measures
            body = paras[1:]
            rng.shuffle(body)
            paras = [paras[0], *body]
        share = 0.2 if transform == "resubmission-light" else 0.6
        paras = [update_numbers(reword(p, share, rng), rng) for p in paras]
        if transform == "resubmission-heavy":
            j = rng.randrange(len(paras))
            paras[j] = add_sentences(drop_sentences(paras[j], 1, rng), 1, rng)
        title = retitle(title, rng) if title else title
    elif transform == "reuse":
        place, agency = OTHER_PLACES[k % len(OTHER_PLACES)]
        paras = [relocate(reword(p, 0.1, rng), place) for p in paras]
        expect = "reuse"
    elif transform == "expanded":
        year += 1
        paras = [add_sentences(p, 2, rng) if i == len(paras) - 1 else p for i, p in enumerate(paras)]
    elif transform == "condensed":
        year += 1
        paras = [drop_sentences(p, max(1, len(sentences(p)) // 3), rng) for p in paras]
    else:  # pragma: no cover
        raise ValueError(transform)
    return {
        "uid": f"{unit['uid']}~{transform}",
        "group": unit["uid"],
        "year": year,
        "agency": agency,
        "title": title,
        "text": "\n\n".join(paras),
        "origin": unit["uid"],
        "transform": transform,
        "expect": expect,
        "practice": None,
        "source": unit["source"],
    }


def build(real_dev: Path | None, previous: Path | None = None) -> list[dict]:
    import yanreform as yr

    rng = random.Random(SEED)
    units: list[dict] = []
    for n, case in enumerate(yr.load_corpus()):
        orig = {
            "uid": f"bundled:{case.id}", "group": f"bundled:{case.id}", "year": 2024, "agency": case.agency,
            "title": case.title, "text": case.text, "origin": None, "transform": "original", "expect": None,
            "practice": None, "source": "corpus/yancheng-2024-reform-cases.txt",
        }  # fmt: skip
        units.append(orig)
        for t in ("resubmission-light", "resubmission-heavy", "reuse"):
            units.append(variant(orig, t, rng, n))
    cycle = ["resubmission-light", "resubmission-heavy", "reuse", "expanded", "condensed"]
    for n, line in enumerate((REPO / "corpus" / "longform.jsonl").read_text(encoding="utf-8").splitlines()):
        r = json.loads(line)
        agency = _agency_of(r)
        orig = {
            "uid": f"longform:{r['id']}", "group": f"longform:{r['id']}", "year": 2023, "agency": agency,
            "title": "", "text": r["text"], "origin": None, "transform": "original", "expect": None,
            "practice": None, "source": "corpus/longform.jsonl",
        }  # fmt: skip
        units.append(orig)
        units.append(variant(orig, cycle[n % len(cycle)], rng, n))
    for line in (REPO / "corpus" / "stress.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        units.append({
            "uid": f"stress:{r['id']}", "group": None, "year": 2023, "agency": _agency_of(r), "title": "",
            "text": r["text"], "origin": None, "transform": "original", "expect": None, "practice": None,
            "source": "corpus/stress.jsonl",
        })  # fmt: skip
    if real_dev is not None and real_dev.is_file():
        for line in real_dev.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            units.append({
                "uid": f"real-dev:{r['id']}", "group": None, "year": 2022, "agency": r.get("agency") or "",
                "title": "", "text": r["text"], "origin": None, "transform": "original", "expect": None,
                "practice": r.get("cluster"), "source": f"real-dev {r['id']} ({r.get('url', '')})",
            })  # fmt: skip
    elif previous is not None and previous.is_file():
        # without ../shared (a fresh clone): keep the real-dev units of the existing set, rebuild the rest
        kept = [json.loads(x) for x in previous.read_text(encoding="utf-8").splitlines() if x.strip()]
        units += [u for u in kept if u["uid"].startswith("real-dev:")]
        print(f"note: {real_dev} not found; real-dev negatives kept from {previous}", file=sys.stderr)
    else:
        print(f"note: {real_dev} not found; the set is built without real-dev negatives", file=sys.stderr)
    sizes: dict[str, int] = {}
    for u in units:
        if u["group"] is not None:
            sizes[u["group"]] = sizes.get(u["group"], 0) + 1
    for u in units:
        if u["group"] is not None and sizes[u["group"]] < 2:
            u["group"] = None
    return units


def _agency_of(r: dict) -> str:
    """The agency of a passage record: its ``agency`` field, with the region's city in front when the agency
    names no place (``人民法院`` in 浙江省湖州市 -> ``湖州市人民法院``)."""
    agency = r.get("agency") or ""
    m = re.match(r"^(?:.*?(?:省|自治区))?([\u4e00-\u9fff]{1,6}?[市州盟])", r.get("region") or "")
    city = m.group(1) if m else ""
    if (
        agency
        and city
        and city not in agency
        and not re.match(r"^[\u4e00-\u9fff]{1,6}?[省市县区州盟旗]", agency)
    ):
        return city + agency
    return agency


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(REPO / "corpus" / "dupes-dev.jsonl"))
    ap.add_argument(
        "--real-dev", default=str(REPO.parent / "shared" / "data" / "real-dev" / "passages.jsonl")
    )
    ap.add_argument(
        "--check", action="store_true", help="rebuild in memory and compare with --out (exit 1 if different)"
    )
    args = ap.parse_args(argv)
    units = build(Path(args.real_dev), Path(args.out))
    text = "".join(json.dumps(u, ensure_ascii=False) + "\n" for u in units)
    out = Path(args.out)
    if args.check:
        same = out.is_file() and out.read_text(encoding="utf-8") == text
        print(f"{out}: {'up to date' if same else 'DIFFERS from a rebuild'}")
        return 0 if same else 1
    out.write_text(text, encoding="utf-8")
    groups = {u["group"] for u in units if u["group"]}
    sizes = [sum(1 for u in units if u["group"] == g) for g in groups]
    pos = sum(n * (n - 1) // 2 for n in sizes)
    print(f"wrote {out}: {len(units)} units, {len(groups)} groups, {pos} duplicate pairs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
